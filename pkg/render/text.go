package render

import (
	stdhtml "html"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// TextFromHTML derives the plain-text alternative of an HTML email: paragraphs
// and headings as blocks, list items as bullets, links as "text (url)", hidden
// and non-content elements (head, style, the preheader) left out. Merge tags in
// text and links are kept, so the result is itself a template.
func TextFromHTML(src string) string {
	var t textBuilder
	z := newTokenizer(src)
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return t.String()
		case html.TextToken:
			t.text(z.raw)
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			var href, style string
			if hasAttr {
				spans := attrSpans(z.masked)
				href, style = attrValue(z.raw, spans, "href"), attrValue(z.raw, spans, "style")
			}
			t.start(atom.Lookup(name), tt == html.SelfClosingTagToken, href, style)
		case html.EndTagToken:
			name, _ := z.TagName()
			t.end(atom.Lookup(name))
		}
	}
}

// textBuilder derives the text alternative from the tokens of an HTML email.
type textBuilder struct {
	b         []byte
	skip      int // depth inside elements whose text is not content
	hrefs     []string
	linkStart []int
}

func (t *textBuilder) text(raw string) {
	if t.skip == 0 {
		t.writeCollapsed(stdhtml.UnescapeString(raw))
	}
}

// start takes a start tag; href and style are its attributes as written.
func (t *textBuilder) start(tag atom.Atom, selfClosing bool, href, style string) {
	opens := !voidElement(tag) && !selfClosing
	if t.skip > 0 {
		if opens {
			t.skip++
		}
		return
	}
	if hidden(tag, style) {
		if opens {
			t.skip = 1
		}
		return
	}
	switch tag {
	case atom.P, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Ul, atom.Ol, atom.Table, atom.Blockquote, atom.Div:
		t.block("\n\n")
	case atom.Li:
		t.block("\n- ")
	case atom.Br, atom.Tr:
		t.block("\n")
	case atom.A:
		t.hrefs = append(t.hrefs, href)
		t.linkStart = append(t.linkStart, len(t.b))
	}
}

func (t *textBuilder) end(tag atom.Atom) {
	if t.skip > 0 {
		t.skip--
		return
	}
	switch tag {
	case atom.P, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Ul, atom.Ol, atom.Table, atom.Blockquote, atom.Div:
		t.block("\n\n")
	case atom.A:
		if n := len(t.hrefs); n > 0 {
			href, start := t.hrefs[n-1], t.linkStart[n-1]
			t.hrefs, t.linkStart = t.hrefs[:n-1], t.linkStart[:n-1]
			text := strings.TrimSpace(string(t.b[min(start, len(t.b)):]))
			if href != "" && !strings.HasPrefix(href, "#") && text != href {
				t.b = append(t.b, " ("...)
				t.b = append(t.b, strings.TrimPrefix(href, "mailto:")...)
				t.b = append(t.b, ')')
			}
		}
	}
}

// block ends the current line's trailing space and writes sep.
func (t *textBuilder) block(sep string) {
	for len(t.b) > 0 && t.b[len(t.b)-1] == ' ' {
		t.b = t.b[:len(t.b)-1]
	}
	t.b = append(t.b, sep...)
}

func (t *textBuilder) String() string { return tidyLines(string(t.b)) }

// writeCollapsed writes text with each run of HTML white space as one space,
// leaving out leading space at the start of a line.
func (t *textBuilder) writeCollapsed(text string) {
	lineStart := len(t.b) == 0 || t.b[len(t.b)-1] == '\n'
	space := false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch c {
		case ' ', '\t', '\r', '\n', '\f':
			space = true
			continue
		}
		if space && !lineStart {
			t.b = append(t.b, ' ')
		}
		space, lineStart = false, false
		t.b = append(t.b, c)
	}
	if space && !lineStart {
		t.b = append(t.b, ' ')
	}
}

// tidyLines trims every line and keeps at most one blank line in a row.
func tidyLines(s string) string {
	var out strings.Builder
	out.Grow(len(s))
	blank := 0
	for line := range strings.SplitSeq(strings.TrimSpace(s), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			blank++
			continue
		}
		if out.Len() > 0 {
			out.WriteString(strings.Repeat("\n", 1+min(blank, 1)))
		}
		blank = 0
		out.WriteString(line)
	}
	out.WriteByte('\n')
	return out.String()
}

func hidden(tag atom.Atom, style string) bool {
	switch tag {
	case atom.Head, atom.Style, atom.Script, atom.Title, atom.Template:
		return true
	}
	if style == "" {
		return false
	}
	style = strings.ReplaceAll(strings.ToLower(style), " ", "")
	return strings.Contains(style, "display:none")
}

func voidElement(tag atom.Atom) bool {
	switch tag {
	case atom.Img, atom.Br, atom.Hr, atom.Meta, atom.Link, atom.Input, atom.Area, atom.Base, atom.Col, atom.Source, atom.Wbr:
		return true
	}
	return false
}
