package render

import (
	"html"
	"strings"

	xhtml "golang.org/x/net/html"
)

// tokenizer reads an HTML template token by token. Merge tags may hold
// quotes and angle brackets (href="{{ share_x "https://…" }}"), which would
// end an attribute or a tag early, so the HTML tokenizer reads a copy in which
// those are masked, and raw gives each token's bytes as written.
type tokenizer struct {
	*xhtml.Tokenizer
	src    string
	off    int
	raw    string // the current token as written
	masked string // the current start tag as the tokenizer read it
}

func newTokenizer(src string) *tokenizer {
	return &tokenizer{Tokenizer: xhtml.NewTokenizer(strings.NewReader(maskMergeTags(src))), src: src}
}

// Next reads the next token; call it instead of the embedded one.
func (t *tokenizer) Next() xhtml.TokenType {
	tt := t.Tokenizer.Next()
	raw := t.Tokenizer.Raw()
	t.raw = t.src[t.off : t.off+len(raw)]
	t.off += len(raw)
	t.masked = ""
	if tt == xhtml.StartTagToken || tt == xhtml.SelfClosingTagToken {
		t.masked = string(raw) // before TagAttr, which rewrites the buffer in place
	}
	return tt
}

// attrValue returns the value of the attribute name of the start tag raw,
// whose spans are those of its masked copy (attrSpans(t.masked)), as written:
// unescaped, merge tags intact; "" when it has none.
func attrValue(raw string, spans []span, name string) string {
	s, ok := findAttr(spans, name)
	if !ok {
		return ""
	}
	v := raw[s.value:s.end]
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		v = v[1 : len(v)-1]
	}
	return html.UnescapeString(v)
}

// maskMergeTags returns s with the quotes and angle brackets inside {{ }}
// replaced by '_', byte for byte.
func maskMergeTags(s string) string {
	i := strings.Index(s, "{{")
	if i < 0 {
		return s
	}
	b := []byte(s)
	for i >= 0 {
		end := strings.Index(s[i+2:], "}}")
		if end < 0 {
			break
		}
		end += i + 2
		for k := i + 2; k < end; k++ {
			switch b[k] {
			case '"', '\'', '<', '>':
				b[k] = '_'
			}
		}
		next := strings.Index(s[end+2:], "{{")
		if next < 0 {
			break
		}
		i = end + 2 + next
	}
	return string(b)
}
