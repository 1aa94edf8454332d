package inline

import (
	"errors"
	"strings"

	"golang.org/x/net/html"
)

// render writes the tree like html.Render, with two differences that keep
// the markup closer to what was written: text escapes only '&', '<', '>'
// (and no-break spaces, as &nbsp;), and attribute values only '&' and '"'.
// html.Render would write every apostrophe as &#39; and every quote in text
// as &#34;.
func render(b *strings.Builder, n *html.Node) error {
	switch n.Type {
	case html.DocumentNode:
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if err := render(b, c); err != nil {
				return err
			}
		}
		return nil
	case html.TextNode:
		if literalText(n.Parent) {
			b.WriteString(n.Data)
		} else {
			escapeText(b, n.Data)
		}
		return nil
	case html.ElementNode:
	default:
		return html.Render(b, n) // comments and doctypes
	}
	b.WriteByte('<')
	b.WriteString(n.Data)
	for _, a := range n.Attr {
		b.WriteByte(' ')
		if a.Namespace != "" {
			b.WriteString(a.Namespace)
			b.WriteByte(':')
		}
		b.WriteString(a.Key)
		b.WriteString(`="`)
		escapeAttr(b, a.Val)
		b.WriteByte('"')
	}
	if n.Namespace == "" && voidElements[n.Data] {
		b.WriteString("/>")
		return nil
	}
	b.WriteByte('>')
	if c := n.FirstChild; c != nil && c.Type == html.TextNode && strings.HasPrefix(c.Data, "\n") {
		switch n.Data {
		case "pre", "listing", "textarea":
			b.WriteByte('\n') // the parser drops a newline right after these tags
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if err := render(b, c); err != nil {
			return err
		}
	}
	if n.Namespace == "" && n.Data == "plaintext" {
		return errPlaintext
	}
	b.WriteString("</")
	b.WriteString(n.Data)
	b.WriteByte('>')
	return nil
}

// errPlaintext ends rendering: nothing can follow a <plaintext> element.
var errPlaintext = errors.New("plaintext element")

var voidElements = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "keygen": true, "link": true, "meta": true, "param": true, "source": true,
	"track": true, "wbr": true,
}

// literalText reports whether text inside p is written as it is. Inside
// foreign content (SVG, MathML) it is escaped, as html.Render does, to be safe.
func literalText(p *html.Node) bool {
	if p == nil || p.Type != html.ElementNode || p.Namespace != "" {
		return false
	}
	switch p.Data {
	case "iframe", "noembed", "noframes", "noscript", "plaintext", "script", "style", "xmp":
	default:
		return false
	}
	for a := p.Parent; a != nil; a = a.Parent {
		if a.Type == html.ElementNode && a.Namespace != "" {
			return false
		}
	}
	return true
}

func escapeText(b *strings.Builder, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\r':
			esc = "&#13;"
		case 0xC2: // U+00A0 is C2 A0 in UTF-8
			if i+1 < len(s) && s[i+1] == 0xA0 {
				b.WriteString(s[last:i])
				b.WriteString("&nbsp;")
				i++
				last = i + 1
			}
			continue
		default:
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(esc)
		last = i + 1
	}
	b.WriteString(s[last:])
}

func escapeAttr(b *strings.Builder, s string) {
	for {
		i := strings.IndexAny(s, "&\"\r")
		if i < 0 {
			b.WriteString(s)
			return
		}
		b.WriteString(s[:i])
		switch s[i] {
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&#34;")
		case '\r':
			b.WriteString("&#13;")
		}
		s = s[i+1:]
	}
}
