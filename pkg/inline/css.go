package inline

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// This file reads stylesheets just far enough to hand the CSS parser only
// input it is known to handle: one qualified rule at a time, declarations
// each ending in ';', no comments, no at-rules (kept verbatim instead), no ';'
// where a selector is expected. The lexical rules follow gorilla/css, the
// tokenizer under douceur, so that both agree on where strings, comments,
// url() and escapes hide the characters that carry structure.

// The parser is handed text in which ':', ';', '{' and '}' appear only where
// they carry structure as the reader sees it; elsewhere (in strings, url(),
// escapes, or a value's second ':') they are swapped for private-use
// stand-ins, and swapped back in what the parser returns. douceur loops
// forever on a ';' where it expects a selector: this way no ';' can be there,
// whatever its tokenizer makes of the rest. Stand-in characters already in
// the input are rewritten as CSS escapes ("\E000 "), which mean the same.
var (
	hideStructure = strings.NewReplacer(":", "\uE000", ";", "\uE001", "{", "\uE002", "}", "\uE003")
	standIns      = strings.NewReplacer("\uE000", ":", "\uE001", ";", "\uE002", "{", "\uE003", "}")
	normalizer    = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\f", "\n", "\x00", "\uFFFD",
		"\uE000", `\E000 `, "\uE001", `\E001 `, "\uE002", `\E002 `, "\uE003", `\E003 `)
)

// showStructure swaps the stand-ins back.
func showStructure(s string) string {
	if strings.IndexByte(s, 0xEE) < 0 { // the first byte of U+E000 to U+E003
		return s
	}
	return standIns.Replace(s)
}

// cssError reports CSS that cannot be read, naming where and which rule.
type cssError struct {
	source string // "<style> element 2" or "ExtraCSS[0]"
	extra  int    // index into Options.ExtraCSS, or -1 for a <style> element
	line   int
	rule   string
	msg    string
}

func (e *cssError) Error() string {
	if e.rule == "" {
		return fmt.Sprintf("%s, line %d: %s", e.source, e.line, e.msg)
	}
	return fmt.Sprintf("%s, line %d: rule %q: %s", e.source, e.line, e.rule, e.msg)
}

// sheetItem is one top-level item of a stylesheet: an at-rule, which always
// stays in <style>, or a rule, whose selectors are inlined or kept one by one.
type sheetItem struct {
	raw  string // source text, for an at-rule
	rule *rule
	keep string // what stays in <style>: the at-rule, or the rule for its kept selectors
}

type rule struct {
	selectors []string
	block     string // source text of "{...}", for keeping the rule in <style>
	decls     []decl
}

// decl is one declaration. An opaque one is a merge tag standing where a
// declaration would; it is copied through as it is.
type decl struct {
	prop      string // lowercased, except custom properties
	value     string
	important bool
	opaque    bool
	seq       int // source order across all stylesheets
}

// sheetReader reads the stylesheets of one inlining.
type sheetReader struct {
	parser cssParser
	prefix string // merge tag placeholder prefix
	seq    int
	warn   func(string)
}

func (r *sheetReader) read(css, source string, extra int) ([]sheetItem, error) {
	s := normalizeCSS(css)
	fail := func(at int, ruleText, format string, args ...any) error {
		return &cssError{source: source, extra: extra, line: strings.Count(s[:at], "\n") + 1,
			rule: clip(ruleText), msg: fmt.Sprintf(format, args...)}
	}
	var items []sheetItem
	var mergeTags []string
	rules := 0
	i := 0
	if strings.HasPrefix(s, "\uFEFF") {
		i = len("\uFEFF")
	}
	for {
		var err error
		if i, err = skipIgnorable(s, i); err != nil {
			return nil, fail(i, "", "%v", err)
		}
		if i >= len(s) {
			if len(mergeTags) > 0 && rules > 0 {
				r.warn(fmt.Sprintf("merge tags between CSS rules (%s) stay in <style>; the rules are inlined as if they were not there", strings.Join(mergeTags, " ")))
			}
			return items, nil
		}
		if n := r.placeholderLen(s[i:]); n > 0 {
			// A merge tag where a rule would be, like <style>{{ .CSS }}</style>.
			items = append(items, sheetItem{raw: s[i : i+n]})
			mergeTags = append(mergeTags, s[i:i+n])
			i += n
			continue
		}
		switch s[i] {
		case '@':
			end, err := atRuleEnd(s, i)
			if err != nil {
				return nil, fail(i, atRuleName(s, i), "%v", err)
			}
			items = append(items, sheetItem{raw: strings.TrimSpace(s[i:end])})
			i = end
		case '}':
			return nil, fail(i, "", "unexpected '}'")
		default:
			start := i
			prelude, open, err := readPrelude(s, i)
			if err != nil {
				return nil, fail(start, prelude, "%v", err)
			}
			end, err := blockEnd(s, open)
			if err != nil {
				return nil, fail(start, prelude, "%v", err)
			}
			ru, err := r.rule(prelude, s[open:end])
			if err != nil {
				return nil, fail(start, prelude, "%v", err)
			}
			items = append(items, sheetItem{rule: ru})
			rules++
			i = end
		}
	}
}

// rule reads one qualified rule through the parser.
func (r *sheetReader) rule(prelude, block string) (*rule, error) {
	selectors := splitSelectors(prelude)
	for _, sel := range selectors {
		if sel == "" {
			return nil, fmt.Errorf("empty selector in the list")
		}
	}
	chunks, err := r.chunks(block[1 : len(block)-1])
	if err != nil {
		return nil, err
	}
	var text strings.Builder
	hideStructure.WriteString(&text, prelude)
	text.WriteByte('{')
	for _, c := range chunks {
		if !c.opaque {
			c.write(&text)
		}
	}
	text.WriteByte('}')
	parsed, err := r.parser.parseRule(text.String())
	if err != nil {
		return nil, fmt.Errorf("cannot be read: %v", err)
	}
	if got := showStructure(parsed.prelude); got != prelude {
		return nil, fmt.Errorf("selectors were misread by the CSS parser as %q", clip(got))
	}
	decls, err := r.merge(chunks, parsed.decls)
	if err != nil {
		return nil, err
	}
	return &rule{selectors: selectors, block: block, decls: decls}, nil
}

// styleAttr reads a style attribute. It is the author's own markup, so a
// declaration that cannot be read is kept as it is, with a warning.
func (r *sheetReader) styleAttr(style string) []decl {
	s := normalizeCSS(style)
	chunks, err := r.chunks(s)
	if err != nil {
		r.warn(fmt.Sprintf("style attribute %q cannot be read (%v); kept as it is", clip(style), err))
		return []decl{{prop: style, value: style, opaque: true}}
	}
	var text strings.Builder
	for _, c := range chunks {
		if !c.opaque {
			c.write(&text)
		}
	}
	var parsed []parsedDecl
	if text.Len() > 0 {
		parsed, err = r.parser.parseDeclarations(text.String())
	}
	var decls []decl
	if err == nil {
		decls, err = r.merge(chunks, parsed)
	}
	if err != nil {
		r.warn(fmt.Sprintf("style attribute %q cannot be read (%v); kept as it is", clip(style), err))
		return []decl{{prop: style, value: style, opaque: true}}
	}
	return decls
}

// merge lines the parser's declarations up with the chunks they came from.
func (r *sheetReader) merge(chunks []chunk, parsed []parsedDecl) ([]decl, error) {
	decls := make([]decl, 0, len(chunks))
	p := 0
	for _, c := range chunks {
		r.seq++
		if c.opaque {
			decls = append(decls, decl{prop: c.prop, opaque: true, seq: r.seq})
			continue
		}
		if p >= len(parsed) || showStructure(parsed[p].prop) != c.prop {
			return nil, fmt.Errorf("declaration %q was misread by the CSS parser", c.prop+": "+c.value)
		}
		d := parsed[p]
		p++
		decls = append(decls, decl{
			prop:      lowerProp(c.prop),
			value:     showStructure(d.value),
			important: d.important,
			seq:       r.seq,
		})
	}
	if p != len(parsed) {
		return nil, fmt.Errorf("the CSS parser found %d declarations, expected %d", len(parsed), p)
	}
	return decls, nil
}

// chunk is one declaration as the reader sees it.
type chunk struct {
	prop, value string // comments removed, whitespace collapsed
	important   bool
	opaque      bool // a merge tag alone; prop holds it
}

// write writes the declaration for the parser.
func (c chunk) write(b *strings.Builder) {
	hideStructure.WriteString(b, c.prop)
	b.WriteByte(':')
	hideStructure.WriteString(b, c.value)
	if c.important {
		b.WriteString(" !important")
	}
	b.WriteByte(';')
}

// chunks splits the inside of a declaration block into declarations.
func (r *sheetReader) chunks(body string) ([]chunk, error) {
	var out []chunk
	var cur strings.Builder
	colon := -1 // where the value starts in cur
	depth := 0
	space := false
	afterName := false
	flush := func() error {
		text := strings.TrimSpace(cur.String())
		c := colon
		cur.Reset()
		colon = -1
		space = false
		if text == "" {
			return nil
		}
		if c < 0 {
			if r.onlyMergeTags(text) {
				out = append(out, chunk{prop: text, opaque: true})
				return nil
			}
			return fmt.Errorf("declaration %q has no ':'", clip(text))
		}
		prop := strings.TrimSpace(text[:c-1])
		value := ""
		if c < len(text) {
			value = strings.TrimSpace(text[c:])
		}
		if prop == "" || strings.ContainsAny(prop, " ") {
			return fmt.Errorf("declaration %q has no property name before ':'", clip(text))
		}
		value, important := cutImportant(value)
		if value == "" {
			r.warn(fmt.Sprintf("declaration %q has no value; skipped", clip(text)))
			return nil
		}
		out = append(out, chunk{prop: prop, value: value, important: important})
		return nil
	}
	for i := 0; i < len(body); {
		end, kind, err := nextUnit(body, i, afterName)
		if err != nil {
			return nil, err
		}
		c := body[i]
		afterName = kind == unitEscape || (kind == unitChar && isNameStartOrChar(c))
		switch {
		case kind == unitComment || (kind == unitChar && (c == ' ' || c == '\t' || c == '\n')):
			space = true
		case kind != unitChar:
			r.put(&cur, &space, body[i:end])
		case c == ';' && depth == 0:
			if err := flush(); err != nil {
				return nil, err
			}
		case c == '{' || c == '}':
			return nil, fmt.Errorf("unexpected %q inside a declaration block (nested rules are not supported)", c)
		case c == ':' && depth == 0 && colon < 0:
			space = false
			cur.WriteByte(':')
			colon = cur.Len()
		default:
			if c == '(' {
				depth++
			} else if c == ')' && depth > 0 {
				depth--
			}
			r.put(&cur, &space, body[i:end])
		}
		i = end
	}
	if depth > 0 {
		return nil, fmt.Errorf("unclosed '('")
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// put appends text, with one space for any whitespace or comment before it.
func (r *sheetReader) put(b *strings.Builder, space *bool, text string) {
	if *space && b.Len() > 0 {
		b.WriteByte(' ')
	}
	*space = false
	b.WriteString(text)
}

// onlyMergeTags reports whether text is nothing but merge tag placeholders.
func (r *sheetReader) onlyMergeTags(text string) bool {
	for text = strings.TrimLeft(text, " "); text != ""; text = strings.TrimLeft(text, " ") {
		n := r.placeholderLen(text)
		if n == 0 {
			return false
		}
		text = text[n:]
	}
	return true
}

// placeholderLen is the length of the merge tag placeholder s starts with, or 0.
func (r *sheetReader) placeholderLen(s string) int {
	if !strings.HasPrefix(s, r.prefix) {
		return 0
	}
	k := len(r.prefix)
	for k < len(s) && s[k] >= '0' && s[k] <= '9' {
		k++
	}
	if k == len(r.prefix) || k >= len(s) || s[k] != '_' {
		return 0
	}
	return k + 1
}

// cutImportant removes a trailing "!important" (any case, any space).
func cutImportant(value string) (string, bool) {
	const word = "important"
	if len(value) < len(word)+1 || !strings.EqualFold(value[len(value)-len(word):], word) {
		return value, false
	}
	rest := strings.TrimRight(value[:len(value)-len(word)], " ")
	if !strings.HasSuffix(rest, "!") {
		return value, false
	}
	return strings.TrimRight(rest[:len(rest)-1], " "), true
}

// readPrelude reads a selector list up to its '{' and returns it with
// comments removed and whitespace collapsed, and the index of the '{'.
func readPrelude(s string, i int) (string, int, error) {
	var b strings.Builder
	space := false
	afterName := false
	for i < len(s) {
		end, kind, err := nextUnit(s, i, afterName)
		if err != nil {
			return b.String(), i, err
		}
		c := s[i]
		afterName = kind == unitEscape || (kind == unitChar && isNameStartOrChar(c))
		switch {
		case kind == unitComment || (kind == unitChar && (c == ' ' || c == '\t' || c == '\n')):
			space = true
		case kind == unitChar && c == '{':
			return b.String(), i, nil
		case kind == unitChar && c == ';':
			return b.String(), i, fmt.Errorf("expected '{' before ';'")
		case kind == unitChar && c == '}':
			return b.String(), i, fmt.Errorf("unexpected '}' before the declaration block")
		default:
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteString(s[i:end])
		}
		i = end
	}
	return b.String(), i, fmt.Errorf("no declaration block")
}

// blockEnd returns the index after the '}' closing the block at s[open].
// Declaration blocks do not nest.
func blockEnd(s string, open int) (int, error) {
	afterName := false
	for i := open + 1; i < len(s); {
		end, kind, err := nextUnit(s, i, afterName)
		if err != nil {
			return 0, err
		}
		afterName = kind == unitEscape || (kind == unitChar && isNameStartOrChar(s[i]))
		if kind == unitChar {
			switch s[i] {
			case '}':
				return end, nil
			case '{':
				return 0, fmt.Errorf("unexpected '{' inside a declaration block (nested rules are not supported)")
			}
		}
		i = end
	}
	return 0, fmt.Errorf("missing '}'")
}

// atRuleEnd returns the index after the at-rule starting at s[i]: after its
// ';', after its block's matching '}', or the end of s.
func atRuleEnd(s string, i int) (int, error) {
	depth := 0
	afterName := false
	for i < len(s) {
		end, kind, err := nextUnit(s, i, afterName)
		if err != nil {
			return 0, err
		}
		afterName = kind == unitEscape || (kind == unitChar && isNameStartOrChar(s[i]))
		if kind == unitChar {
			switch s[i] {
			case ';':
				if depth == 0 {
					return end, nil
				}
			case '{':
				depth++
			case '}':
				if depth == 0 {
					return 0, fmt.Errorf("unexpected '}'")
				}
				depth--
				if depth == 0 {
					return end, nil
				}
			}
		}
		i = end
	}
	if depth > 0 {
		return 0, fmt.Errorf("missing '}'")
	}
	return len(s), nil
}

func atRuleName(s string, i int) string {
	k := i + 1
	for k < len(s) && isNameStartOrChar(s[k]) {
		k++
	}
	return s[i:k]
}

// skipIgnorable skips what may stand between rules: whitespace, comments,
// the "<!--" and "-->" of old-style embedding, and stray semicolons.
func skipIgnorable(s string, i int) (int, error) {
	for i < len(s) {
		switch {
		case s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == ';':
			i++
		case strings.HasPrefix(s[i:], "/*"):
			k := strings.Index(s[i+2:], "*/")
			if k < 0 {
				return i, fmt.Errorf("unterminated comment")
			}
			i += 2 + k + 2
		case strings.HasPrefix(s[i:], "<!--"):
			i += 4
		case strings.HasPrefix(s[i:], "-->"):
			i += 3
		default:
			return i, nil
		}
	}
	return i, nil
}

// splitSelectors splits a selector list at its top-level commas.
func splitSelectors(prelude string) []string {
	var out []string
	depth := 0
	start := 0
	afterName := false
	for i := 0; i < len(prelude); {
		end, kind, err := nextUnit(prelude, i, afterName)
		if err != nil {
			break // readPrelude has already reported it
		}
		c := prelude[i]
		afterName = kind == unitEscape || (kind == unitChar && isNameStartOrChar(c))
		if kind == unitChar {
			switch c {
			case '(', '[':
				depth++
			case ')', ']':
				if depth > 0 {
					depth--
				}
			case ',':
				if depth == 0 {
					out = append(out, strings.TrimSpace(prelude[start:i]))
					start = end
				}
			}
		}
		i = end
	}
	return append(out, strings.TrimSpace(prelude[start:]))
}

// unit is a piece of CSS source that hides structural characters, or a
// single character.
type unit int

const (
	unitChar unit = iota
	unitComment
	unitString
	unitURL
	unitEscape
)

// nextUnit returns the end and kind of the unit starting at s[i]. afterName
// says whether a name ends at i, in which case "url(" continues that name
// (a function) rather than starting a URL.
func nextUnit(s string, i int, afterName bool) (int, unit, error) {
	switch c := s[i]; {
	case c == '/' && strings.HasPrefix(s[i:], "/*"):
		k := strings.Index(s[i+2:], "*/")
		if k < 0 {
			return len(s), unitComment, fmt.Errorf("unterminated comment")
		}
		return i + 2 + k + 2, unitComment, nil
	case c == '"' || c == '\'':
		end, ok := stringEnd(s, i)
		if !ok {
			return len(s), unitString, fmt.Errorf("unreadable string (no closing quote, or a raw tab, newline or control character in it)")
		}
		return end, unitString, nil
	case c == '\\':
		if w := escapeLen(s, i); w > 0 {
			return i + w, unitEscape, nil
		}
	case c == 'u' && !afterName && strings.HasPrefix(s[i:], "url("):
		// Browsers drop what holds a broken url( too. Reading it as a
		// function instead, as gorilla/css does, costs quadratic time.
		end, ok := urlEnd(s, i)
		if !ok {
			return len(s), unitURL, fmt.Errorf("unreadable url( (unquoted with a space, quote or control character in it, or no ')')")
		}
		return end, unitURL, nil
	case c >= utf8.RuneSelf:
		_, w := utf8.DecodeRuneInString(s[i:])
		return i + w, unitChar, nil
	}
	return i + 1, unitChar, nil
}

// stringEnd matches a quoted string the way gorilla/css does: no raw tab,
// newline or control character inside, backslash-newline allowed.
func stringEnd(s string, i int) (int, bool) {
	quote := s[i]
	for k := i + 1; k < len(s); {
		c := s[k]
		switch {
		case c == quote:
			return k + 1, true
		case c == '\\':
			if k+1 < len(s) && s[k+1] == '\n' {
				k += 2
				continue
			}
			w := escapeLen(s, k)
			if w == 0 {
				return 0, false
			}
			k += w
		case c == ' ' || c == '"' || c == '\'':
			k++
		default:
			w := urlCharWidth(s, k)
			if w == 0 {
				return 0, false
			}
			k += w
		}
	}
	return 0, false
}

// urlEnd matches url(...) the way gorilla/css does; on no match "url(" is
// an ordinary function.
func urlEnd(s string, i int) (int, bool) {
	k := skipCSSSpace(s, i+len("url("))
	if k < len(s) && (s[k] == '"' || s[k] == '\'') {
		end, ok := stringEnd(s, k)
		if !ok {
			return 0, false
		}
		if m := skipCSSSpace(s, end); m < len(s) && s[m] == ')' {
			return m + 1, true
		}
		return 0, false
	}
	for k < len(s) {
		if m := skipCSSSpace(s, k); m < len(s) && s[m] == ')' {
			return m + 1, true
		}
		var w int
		if s[k] == '\\' {
			w = escapeLen(s, k)
		} else {
			w = urlCharWidth(s, k)
		}
		if w == 0 {
			return 0, false
		}
		k += w
	}
	return 0, false
}

// escapeLen is the length of the escape at s[k] == '\\', 0 if there is none.
func escapeLen(s string, k int) int {
	if k+1 < len(s) && isHex(s[k+1]) {
		e := k + 2
		for e < len(s) && e < k+7 && isHex(s[e]) {
			e++
		}
		if e < len(s) && (s[e] == ' ' || s[e] == '\t' || s[e] == '\n') {
			e++
		}
		return e - k
	}
	if w := escapedWidth(s, k+1); w > 0 {
		return 1 + w
	}
	return 0
}

// escapedWidth is the width of the character at s[k] if a backslash may
// escape it (printable ASCII or non-ASCII), else 0.
func escapedWidth(s string, k int) int {
	if k >= len(s) {
		return 0
	}
	if c := s[k]; c >= 0x20 && c <= 0x7e {
		return 1
	}
	return nonASCIIWidth(s, k)
}

// urlCharWidth is the width of the character at s[k] if it may stand
// unescaped in an unquoted url(), else 0.
func urlCharWidth(s string, k int) int {
	c := s[k]
	if c == '!' || (c >= '#' && c <= '&') || (c >= '(' && c <= '[') || (c >= ']' && c <= '~') {
		return 1
	}
	return nonASCIIWidth(s, k)
}

func nonASCIIWidth(s string, k int) int {
	if s[k] < utf8.RuneSelf {
		return 0
	}
	r, w := utf8.DecodeRuneInString(s[k:])
	if r == 0xFFFE || r == 0xFFFF {
		return 0
	}
	return w
}

func skipCSSSpace(s string, k int) int {
	for k < len(s) && (s[k] == ' ' || s[k] == '\t' || s[k] == '\n') {
		k++
	}
	return k
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c|0x20 >= 'a' && c|0x20 <= 'f')
}

func isNameStartOrChar(c byte) bool {
	return c == '-' || c == '_' || c == '#' || c == '@' || (c >= '0' && c <= '9') || isASCIILetter(c) || c >= utf8.RuneSelf
}

// normalizeCSS applies gorilla/css's input normalization up front, so that
// positions and lexing agree, and escapes the stand-in characters.
func normalizeCSS(s string) string {
	standIn := strings.IndexByte(s, 0xEE) >= 0 && strings.ContainsFunc(s, func(r rune) bool { return r >= 0xE000 && r <= 0xE003 })
	if standIn || strings.ContainsAny(s, "\r\f\x00") {
		s = normalizer.Replace(s)
	}
	return s
}

// lowerProp lowercases a property name; custom properties keep their case.
func lowerProp(p string) string {
	if strings.HasPrefix(p, "--") {
		return p
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(p)
		}
	}
	return p
}

// clip shortens text quoted in messages.
func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 80 {
		i := 77
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		s = s[:i] + "..."
	}
	return s
}
