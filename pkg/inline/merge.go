package inline

import (
	"strconv"
	"strings"

	"golang.org/x/net/html"
)

// mergeDelims are the template tags that must reach the output byte for byte.
// The HTML parser would otherwise escape their quotes, read "<%" and "<?" as
// markup, and move text out of tables (foster parenting).
var mergeDelims = [...]struct{ open, close string }{
	{"{{", "}}"}, // Go templates, Handlebars, Mustache
	{"{%", "%}"}, // Liquid, Jinja
	{"<%", "%>"}, // EJS, ERB
	{"<?", "?>"}, // PHP
}

// rawTextElements hold text the HTML tokenizer does not read as markup, so a
// placeholder there must be plain text rather than a comment.
var rawTextElements = map[string]bool{
	"script": true, "style": true, "xmp": true, "iframe": true, "noembed": true,
	"noframes": true, "noscript": true, "textarea": true, "title": true, "plaintext": true,
}

// inventedElements are those the HTML parser adds when the source leaves them
// out. The ones written in the source get a marker attribute, so that the
// invented ones can be left out of the output again.
var inventedElements = map[string]bool{
	"html": true, "head": true, "body": true, "tbody": true, "tr": true, "colgroup": true,
}

// formattingElements get their attributes sorted by x/net/html (to compare
// them quickly), which would scramble {{if}}...{{end}} around attributes.
// Their written order is recorded in an attribute and put back after parsing.
var formattingElements = map[string]bool{
	"a": true, "b": true, "big": true, "code": true, "em": true, "font": true, "i": true,
	"nobr": true, "s": true, "small": true, "strike": true, "strong": true, "tt": true, "u": true,
}

// prepared is a document made safe to parse: each merge tag is replaced by a
// placeholder (a comment in text, a bare word elsewhere), each element the
// parser could invent is marked where the source really has it, and the
// attribute order of formatting elements is recorded.
type prepared struct {
	doc       string
	prefix    string // starts every placeholder; found nowhere in the input
	marker    string // attribute name marking written html/head/body/tbody/tr/colgroup
	orderAttr string // attribute listing the written attribute names of a formatting element
	tags      []string
	attrName  []bool // the placeholder stands where an attribute name would
	find      *tagFinder
}

// prepare scans doc with a small tokenizer that knows just enough HTML to tell
// text from tags, comments and raw text elements.
func prepare(doc string, css []string) *prepared {
	p := &prepared{prefix: uniquePrefix(doc, css)}
	p.marker = p.prefix + "_"
	p.orderAttr = p.prefix + "o_"
	p.find = newTagFinder(doc)
	var b strings.Builder
	b.Grow(len(doc) + len(doc)/8)
	i := 0
	for i < len(doc) {
		j := strings.IndexAny(doc[i:], "<{")
		if j < 0 {
			b.WriteString(doc[i:])
			break
		}
		b.WriteString(doc[i : i+j])
		i += j
		if end := p.find.end(i, len(doc)); end > 0 {
			b.WriteString("<!--")
			b.WriteString(p.placeholder(doc[i:end], false))
			b.WriteString("-->")
			i = end
			continue
		}
		switch {
		case strings.HasPrefix(doc[i:], "<!--"):
			i = p.comment(&b, doc, i)
		case strings.HasPrefix(doc[i:], "</") && i+2 < len(doc) && isASCIILetter(doc[i+2]):
			i = p.tag(&b, doc, i, false)
		case doc[i] == '<' && i+1 < len(doc) && isASCIILetter(doc[i+1]):
			i = p.tag(&b, doc, i, true)
		default:
			b.WriteByte(doc[i])
			i++
		}
	}
	p.doc = b.String()
	return p
}

// comment copies the comment starting at i and returns the index after it.
func (p *prepared) comment(b *strings.Builder, doc string, i int) int {
	body := i + len("<!--")
	end := len(doc)
	closeLen := 0
	switch {
	case strings.HasPrefix(doc[body:], ">"):
		end, closeLen = body, 1
	case strings.HasPrefix(doc[body:], "->"):
		end, closeLen = body, 2
	default:
		if k := strings.Index(doc[body:], "-->"); k >= 0 {
			end, closeLen = body+k, 3
		}
	}
	b.WriteString("<!--")
	p.protectRun(b, doc, body, end)
	b.WriteString(doc[end : end+closeLen])
	return end + closeLen
}

// tag copies the start or end tag at i, replacing merge tags inside it, and
// returns the index after it (and after the element's text for raw text
// elements).
func (p *prepared) tag(b *strings.Builder, doc string, i int, start bool) int {
	nameStart := i + 1
	if !start {
		nameStart = i + 2
	}
	k := nameStart
	for k < len(doc) && !isHTMLSpace(doc[k]) && doc[k] != '/' && doc[k] != '>' && p.find.end(k, len(doc)) < 0 {
		k++
	}
	name := strings.ToLower(doc[nameStart:k])
	b.WriteString(doc[i:k])
	if start && inventedElements[name] {
		b.WriteByte(' ')
		b.WriteString(p.marker)
	}
	attrsStart := b.Len()
	var quote byte
	prev := byte(' ') // last non-space byte seen inside the tag
	for k < len(doc) {
		stops := "<{>\"'="
		if quote != 0 {
			stops = "<{\"'"
		}
		j := strings.IndexAny(doc[k:], stops)
		if j < 0 {
			j = len(doc) - k
		}
		if span := strings.TrimRight(doc[k:k+j], " \t\n\r\f"); span != "" && quote == 0 {
			prev = span[len(span)-1]
		}
		b.WriteString(doc[k : k+j])
		k += j
		if k >= len(doc) {
			break
		}
		if end := p.find.end(k, len(doc)); end > 0 {
			if k == nameStart+len(name) {
				b.WriteByte(' ') // keep the tag name apart from the placeholder
			}
			b.WriteString(p.placeholder(doc[k:end], quote == 0 && prev != '='))
			k = end
			prev = 'x'
			continue
		}
		c := doc[k]
		k++
		if c == '>' && quote == 0 {
			if start && formattingElements[name] {
				p.recordOrder(b, attrsStart)
			}
			b.WriteByte('>')
			if start && rawTextElements[name] {
				return p.rawText(b, doc, k, name)
			}
			return k
		}
		b.WriteByte(c)
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
				prev = c
			}
		case (c == '"' || c == '\'') && prev == '=':
			quote = c
		default:
			prev = c
		}
	}
	return k
}

// recordOrder writes an attribute naming the attributes of the tag written
// since attrsStart, in written order, when there are several.
func (p *prepared) recordOrder(b *strings.Builder, attrsStart int) {
	names := attrNames(b.String()[attrsStart:])
	if len(names) < 2 {
		return
	}
	b.WriteString(" " + p.orderAttr + `="`)
	b.WriteString(strings.Join(names, " "))
	b.WriteByte('"')
}

// attrNames returns the attribute names in the inside of a start tag, read
// as the HTML tokenizer reads them (lowercased), leaving out the names that
// could not be written back into a quoted value.
func attrNames(s string) []string {
	var names []string
	i := 0
	for i < len(s) {
		for i < len(s) && (isHTMLSpace(s[i]) || s[i] == '/') {
			i++
		}
		start := i
		for i < len(s) && !isHTMLSpace(s[i]) && s[i] != '/' && (s[i] != '=' || i == start) {
			i++
		}
		if name := strings.ToLower(s[start:i]); name != "" && !strings.ContainsAny(name, "\"'<&") {
			names = append(names, name)
		}
		for i < len(s) && isHTMLSpace(s[i]) {
			i++
		}
		if i >= len(s) || s[i] != '=' {
			continue
		}
		i++
		for i < len(s) && isHTMLSpace(s[i]) {
			i++
		}
		if i < len(s) && (s[i] == '"' || s[i] == '\'') {
			q := s[i]
			i++
			for i < len(s) && s[i] != q {
				i++
			}
			i++
			continue
		}
		for i < len(s) && !isHTMLSpace(s[i]) {
			i++
		}
	}
	return names
}

// restoreOrder puts the attributes of a formatting element back in written
// order and removes the record of it.
func restoreOrder(n *html.Node, orderAttr string) {
	at := attrIndex(n, orderAttr)
	if at < 0 {
		return
	}
	names := n.Attr[at].Val
	attrs := append(n.Attr[:at:at], n.Attr[at+1:]...)
	ordered := make([]html.Attribute, 0, len(attrs))
	used := make([]bool, len(attrs))
	for name := range strings.FieldsSeq(names) {
		for i, a := range attrs {
			if !used[i] && a.Namespace == "" && a.Key == name {
				ordered = append(ordered, a)
				used[i] = true
				break
			}
		}
	}
	for i, a := range attrs {
		if !used[i] {
			ordered = append(ordered, a)
		}
	}
	n.Attr = ordered
}

// rawText copies the text of a raw text element up to its end tag.
func (p *prepared) rawText(b *strings.Builder, doc string, i int, name string) int {
	end := len(doc)
	if name != "plaintext" {
		end = indexEndTag(doc, i, name)
	}
	p.protectRun(b, doc, i, end)
	return end
}

// protectRun copies doc[i:end], replacing merge tags that close before end
// with bare placeholders.
func (p *prepared) protectRun(b *strings.Builder, doc string, i, end int) {
	for i < end {
		j := strings.IndexAny(doc[i:end], "<{")
		if j < 0 {
			break
		}
		b.WriteString(doc[i : i+j])
		i += j
		if e := p.find.end(i, end); e > 0 {
			b.WriteString(p.placeholder(doc[i:e], false))
			i = e
			continue
		}
		b.WriteByte(doc[i])
		i++
	}
	b.WriteString(doc[i:end])
}

func (p *prepared) placeholder(tag string, attrName bool) string {
	n := len(p.tags)
	p.tags = append(p.tags, tag)
	p.attrName = append(p.attrName, attrName)
	return p.prefix + strconv.Itoa(n) + "_"
}

// protectCSS replaces merge tags in a stylesheet given outside the document.
func (p *prepared) protectCSS(css string) string {
	if !strings.Contains(css, "{{") && !strings.Contains(css, "{%") && !strings.Contains(css, "<%") && !strings.Contains(css, "<?") {
		return css
	}
	var b strings.Builder
	docFinder := p.find
	p.find = newTagFinder(css)
	p.protectRun(&b, css, 0, len(css))
	p.find = docFinder
	return b.String()
}

// restore puts the merge tags back into the rendered output and reports the
// ones that did not survive (a tag inside CSS that matched no element).
func (p *prepared) restore(out string) (string, []string) {
	seen := make([]bool, len(p.tags))
	out = p.replace(out, seen)
	var lost []string
	for n, ok := range seen {
		if !ok {
			lost = append(lost, "merge tag "+strconv.Quote(p.tags[n])+" was dropped: it sat in CSS that was inlined nowhere, or in markup the HTML parser discards")
		}
	}
	return out, lost
}

// expand puts the merge tags back into a message.
func (p *prepared) expand(msg string) string {
	return p.replace(msg, nil)
}

// replace replaces placeholders in s by their merge tags, noting in seen
// (when not nil) which ones it met.
func (p *prepared) replace(s string, seen []bool) string {
	if len(p.tags) == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	i := 0
	for {
		j := strings.Index(s[i:], p.prefix)
		if j < 0 {
			break
		}
		start := i + j
		k := start + len(p.prefix)
		d := k
		for d < len(s) && s[d] >= '0' && s[d] <= '9' {
			d++
		}
		n, err := strconv.Atoi(s[k:d])
		if err != nil || d >= len(s) || s[d] != '_' || n >= len(p.tags) {
			b.WriteString(s[i:k])
			i = k
			continue
		}
		end := d + 1
		if strings.HasSuffix(s[:start], "<!--") && strings.HasPrefix(s[end:], "-->") {
			start -= len("<!--")
			end += len("-->")
		} else if p.attrName[n] && strings.HasPrefix(s[end:], `=""`) {
			end += len(`=""`)
		}
		b.WriteString(s[i:start])
		b.WriteString(p.tags[n])
		if seen != nil {
			seen[n] = true
		}
		i = end
	}
	b.WriteString(s[i:])
	return b.String()
}

// tagFinder finds merge tags in s. It remembers where a closing delimiter
// was not found, so that a long run of openers without one costs linear time.
type tagFinder struct {
	s      string
	absent [len(mergeDelims)]struct{ from, to int } // no close delimiter in s[from:to]
}

func newTagFinder(s string) *tagFinder { return &tagFinder{s: s} }

// end returns the index after the merge tag opening at s[i], or -1 when none
// opens there or it does not close before limit.
func (f *tagFinder) end(i, limit int) int {
	s := f.s
	if i+1 >= limit || (s[i] != '{' && s[i] != '<') {
		return -1
	}
	for d, delim := range mergeDelims {
		if !strings.HasPrefix(s[i:limit], delim.open) {
			continue
		}
		from := i + len(delim.open)
		if a := f.absent[d]; from >= a.from && limit <= a.to {
			return -1
		}
		if k := strings.Index(s[from:limit], delim.close); k >= 0 {
			return from + k + len(delim.close)
		}
		f.absent[d].from, f.absent[d].to = from, limit
		return -1
	}
	return -1
}

// indexEndTag finds the end tag "</name" (any case) at or after i, or len(s).
func indexEndTag(s string, i int, name string) int {
	for i < len(s) {
		j := strings.Index(s[i:], "</")
		if j < 0 {
			return len(s)
		}
		k := i + j + 2
		if k+len(name) <= len(s) && strings.EqualFold(s[k:k+len(name)], name) {
			if e := k + len(name); e == len(s) || isHTMLSpace(s[e]) || s[e] == '/' || s[e] == '>' {
				return i + j
			}
		}
		i = k
	}
	return len(s)
}

// uniquePrefix picks a placeholder prefix that occurs in none of the inputs,
// in any letter case (the HTML parser lowercases attribute names): "dfmt"
// followed by more x's than follow "dfmt" anywhere in them.
func uniquePrefix(doc string, css []string) string {
	longest := -1
	for _, s := range append([]string{doc}, css...) {
		for i := 0; i+4 <= len(s); i++ {
			if s[i]|0x20 != 'd' || !strings.EqualFold(s[i:i+4], "dfmt") {
				continue
			}
			n := 0
			for i+4+n < len(s) && s[i+4+n]|0x20 == 'x' {
				n++
			}
			longest = max(longest, n)
		}
	}
	return "dfmt" + strings.Repeat("x", longest+1)
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func isHTMLSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}
