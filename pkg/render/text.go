package render

import (
	"regexp"
	"strings"

	"golang.org/x/net/html"
)

var (
	spaceRe     = regexp.MustCompile(`[ \t\r\n\f]+`)
	blankRunsRe = regexp.MustCompile(`\n{3,}`)
)

// TextFromHTML derives the plain-text alternative of an HTML email: paragraphs
// and headings as blocks, list items as bullets, links as "text (url)", hidden
// and non-content elements (head, style, the preheader) left out. Merge tags in
// text and links are kept, so the result is itself a template.
func TextFromHTML(src string) string {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(src))
	skip := 0 // depth inside elements whose text is not content
	var hrefs []string
	var linkStart []int
	block := func(sep string) {
		s := b.String()
		trimmed := strings.TrimRight(s, " ")
		if len(trimmed) != len(s) {
			b.Reset()
			b.WriteString(trimmed)
		}
		b.WriteString(sep)
	}
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		tok := z.Token()
		switch tt {
		case html.TextToken:
			if skip > 0 {
				continue
			}
			t := spaceRe.ReplaceAllString(tok.Data, " ")
			if strings.HasSuffix(b.String(), "\n") || b.Len() == 0 {
				t = strings.TrimLeft(t, " ")
			}
			b.WriteString(t)
		case html.StartTagToken, html.SelfClosingTagToken:
			if skip > 0 {
				if !voidElement(tok.Data) && tt == html.StartTagToken {
					skip++
				}
				continue
			}
			if hidden(tok) {
				if !voidElement(tok.Data) && tt == html.StartTagToken {
					skip = 1
				}
				continue
			}
			switch tok.Data {
			case "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "blockquote", "div":
				block("\n\n")
			case "li":
				block("\n- ")
			case "br", "tr":
				block("\n")
			case "a":
				hrefs = append(hrefs, attr(tok, "href"))
				linkStart = append(linkStart, b.Len())
			}
		case html.EndTagToken:
			if skip > 0 {
				skip--
				continue
			}
			switch tok.Data {
			case "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "blockquote", "div":
				block("\n\n")
			case "a":
				if n := len(hrefs); n > 0 {
					href, start := hrefs[n-1], linkStart[n-1]
					hrefs, linkStart = hrefs[:n-1], linkStart[:n-1]
					text := strings.TrimSpace(b.String()[start:])
					if href != "" && !strings.HasPrefix(href, "#") && text != href {
						b.WriteString(" (" + strings.TrimPrefix(href, "mailto:") + ")")
					}
				}
			}
		}
	}
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	out := blankRunsRe.ReplaceAllString(strings.Join(lines, "\n"), "\n\n")
	return strings.TrimSpace(out) + "\n"
}

func hidden(tok html.Token) bool {
	switch tok.Data {
	case "head", "style", "script", "title", "template":
		return true
	}
	style := strings.ReplaceAll(strings.ToLower(attr(tok, "style")), " ", "")
	return strings.Contains(style, "display:none")
}

func voidElement(name string) bool {
	switch name {
	case "img", "br", "hr", "meta", "link", "input", "area", "base", "col", "source", "wbr":
		return true
	}
	return false
}

func attr(tok html.Token, name string) string {
	for _, a := range tok.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}
