// Package inline moves the CSS of an HTML email into style attributes, the
// only CSS many mail clients honour.
//
// It owns that whole step: reading the document's <style> elements and any
// extra stylesheets, resolving the cascade for each element as a browser
// would (importance and origin, specificity, source order, shorthands and
// longhands in the order that keeps their meaning), writing the style
// attributes, and leaving in <style> what a style attribute cannot express:
// at-rules such as @media and @font-face, dynamic pseudo-classes such as
// :hover, and pseudo-elements.
//
// It must not touch anything else. Merge tags ({{ }}, {% %}, <% %>, <? ?>)
// pass through byte for byte and are never executed: templates belong to
// their own package. Nothing is fetched either: <link> stylesheets and
// @import stay as they are, and the package makes no network calls.
package inline

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Options controls one inlining.
type Options struct {
	ExtraCSS []string // stylesheets applied after the document's own <style> blocks (in this order, as later sources)
	Cache    *Cache   // optional: stylesheets read before are not parsed again
}

// deadline bounds one inlining. Input is made safe for the CSS parser
// before it sees it (see sheetReader); this is the last resort should a case
// slip through, turning a hang into an error.
const deadline = 10 * time.Second

var (
	errTimeout = errors.New("inlining gave up after " + deadline.String() + " (please report this input)")
	errPanic   = errors.New("internal error while inlining (please report this input)")
)

// Inline returns doc with CSS from its <style> elements (and opts.ExtraCSS) moved into style attributes.
// Warnings are non-fatal notes (e.g. an unsupported selector skipped). An error names what could not be read.
//
// A <style> element with a data-embed attribute, a media attribute other
// than "all" or "screen", or a type other than text/css is left alone.
//
// The output is UTF-8 and written back from the parsed document: character
// references other than &amp;, &lt;, &gt; and &nbsp; come out as the
// characters they stand for, attributes are quoted, void elements end in
// "/>", and elements the source left implicit (html, head, body, tbody)
// stay implicit.
func Inline(doc string, opts Options) (out string, warnings []string, err error) {
	type result struct {
		out      string
		warnings []string
		err      error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- result{err: fmt.Errorf("%w: %v", errPanic, r)}
			}
		}()
		out, warnings, err := inline(doc, opts, douceurParser{})
		done <- result{out, warnings, err}
	}()
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.out, r.warnings, r.err
	case <-timer.C:
		return "", nil, errTimeout
	}
}

// inliner holds the state of one inlining.
type inliner struct {
	reader   sheetReader
	warnings []string
	warned   map[string]bool
}

func (in *inliner) warn(msg string) {
	if !in.warned[msg] {
		in.warned[msg] = true
		in.warnings = append(in.warnings, msg)
	}
}

// sheet is one stylesheet: a <style> element's, or an extra one (node nil).
type sheet struct {
	node  *html.Node
	items []sheetItem
}

func inline(doc string, opts Options, parser cssParser) (string, []string, error) {
	p := prepare(doc, opts.ExtraCSS)
	out, warnings, err := inlinePrepared(p, opts, parser)
	for i, w := range warnings {
		warnings[i] = p.expand(w)
	}
	var ce *cssError
	if errors.As(err, &ce) {
		ce.rule, ce.msg = p.expand(ce.rule), p.expand(ce.msg)
	}
	return out, warnings, err
}

func inlinePrepared(p *prepared, opts Options, parser cssParser) (string, []string, error) {
	in := &inliner{warned: map[string]bool{}}
	in.reader = sheetReader{parser: parser, prefix: p.prefix, warn: in.warn}
	root, err := html.Parse(strings.NewReader(p.doc))
	if err != nil {
		return "", nil, fmt.Errorf("reading HTML: %w", err)
	}

	for n := root; n != nil; n = nextNode(n, root) {
		if n.Type == html.ElementNode && formattingElements[n.Data] {
			restoreOrder(n, p.orderAttr)
		}
	}

	var sheets []sheet
	for i, n := range styleElements(root) {
		items, err := in.reader.readCached(opts.Cache, textOf(n), fmt.Sprintf("<style> element %d", i+1), -1)
		if err != nil {
			return "", nil, err
		}
		sheets = append(sheets, sheet{node: n, items: items})
	}
	for i, css := range opts.ExtraCSS {
		items, err := in.reader.readCached(opts.Cache, p.protectCSS(css), fmt.Sprintf("ExtraCSS[%d]", i), i)
		if err != nil {
			return "", nil, err
		}
		sheets = append(sheets, sheet{items: items})
	}

	idx := newSelectorIndex()
	var rules []*rule
	for _, sh := range sheets {
		for i := range sh.items {
			it := &sh.items[i]
			if it.rule == nil {
				it.keep = it.raw
				continue
			}
			var kept []string
			for _, sel := range it.rule.selectors {
				if staysInStyle(sel) {
					kept = append(kept, sel)
				} else if !idx.add(len(rules), sel) {
					in.warn(fmt.Sprintf("selector %q is not supported; its rule stays in <style>", clip(sel)))
					kept = append(kept, sel)
				}
			}
			rules = append(rules, it.rule)
			if len(kept) > 0 {
				it.keep = strings.Join(kept, ", ") + " " + it.rule.block
			}
		}
	}

	in.apply(root, idx, rules, p.marker)
	rewriteStyles(root, sheets)
	unwrapInvented(root, p.marker)

	var b strings.Builder
	b.Grow(2 * len(p.doc)) // style attributes often double an email
	if err := render(&b, root); err != nil && !errors.Is(err, errPlaintext) {
		return "", nil, fmt.Errorf("writing HTML: %w", err)
	}
	out, lost := p.restore(b.String())
	for _, msg := range lost {
		in.warn(msg)
	}
	return out, in.warnings, nil
}

// nonVisual elements take no inline style (juice's list).
var nonVisual = map[string]bool{
	"head": true, "title": true, "base": true, "link": true, "style": true,
	"meta": true, "script": true, "noscript": true,
}

// apply writes the style attribute of every element some rule matches.
func (in *inliner) apply(root *html.Node, idx *selectorIndex, rules []*rule, marker string) {
	if len(idx.entries) == 0 {
		return
	}
	var style elementStyle
	var matched []int
	var sig []byte
	attrs := map[string][]decl{} // style attributes repeat a lot in email
	done := map[string]string{}  // and so do the rules an element matches
	for n := root; n != nil; n = nextNode(n, root) {
		if n.Type != html.ElementNode || nonVisual[n.Data] || (inventedElements[n.Data] && !hasAttr(n, marker)) {
			continue
		}
		matched = idx.match(matched[:0], n)
		if len(matched) == 0 {
			continue
		}
		at := -1
		for i, a := range n.Attr {
			if a.Key == "style" && a.Namespace == "" {
				at = i
			}
		}
		// Same rules and same style attribute, same result.
		sig = binary.AppendUvarint(sig[:0], uint64(len(matched)))
		for _, e := range matched {
			sig = binary.AppendUvarint(sig, uint64(e))
		}
		if at >= 0 {
			sig = append(sig, 1)
			sig = append(sig, n.Attr[at].Val...)
		}
		s, ok := done[string(sig)]
		if !ok {
			style.reset()
			if at >= 0 && strings.TrimSpace(n.Attr[at].Val) != "" {
				decls, ok := attrs[n.Attr[at].Val]
				if !ok {
					decls = in.reader.styleAttr(n.Attr[at].Val)
					attrs[n.Attr[at].Val] = decls
				}
				style.addStyleAttr(decls)
			}
			for _, e := range matched {
				en := idx.entries[e]
				style.addSheet(rules[en.rule].decls, en.spec, e)
			}
			s = style.String()
			done[string(sig)] = s
		}
		switch {
		case s == "":
		case at >= 0:
			n.Attr[at].Val = s
		default:
			n.Attr = append(n.Attr, html.Attribute{Key: "style", Val: s})
		}
	}
}

// styleElements returns the <style> elements to inline, in document order.
func styleElements(root *html.Node) []*html.Node {
	var out []*html.Node
	for n := root; n != nil; n = nextNode(n, root) {
		if n.Type != html.ElementNode || n.DataAtom != atom.Style || n.Namespace != "" {
			continue
		}
		inlinable := true
		for _, a := range n.Attr {
			v := strings.ToLower(strings.TrimSpace(a.Val))
			switch a.Key {
			case "data-embed":
				inlinable = false
			case "media":
				inlinable = inlinable && (v == "" || v == "all" || v == "screen")
			case "type":
				inlinable = inlinable && (v == "" || v == "text/css")
			}
		}
		if inlinable {
			out = append(out, n)
		}
	}
	return out
}

// rewriteStyles leaves in each <style> element only what stays, removes the
// emptied ones, and adds what stays of the extra stylesheets to the head.
func rewriteStyles(root *html.Node, sheets []sheet) {
	var extra []string
	for _, sh := range sheets {
		var kept []string
		for _, it := range sh.items {
			if it.keep != "" {
				kept = append(kept, it.keep)
			}
		}
		switch {
		case sh.node == nil:
			extra = append(extra, kept...)
		case len(kept) == 0:
			sh.node.Parent.RemoveChild(sh.node)
		default:
			setText(sh.node, kept)
		}
	}
	if len(extra) == 0 {
		return
	}
	head := findElement(root, atom.Head)
	if head == nil {
		head = root
	}
	for i, text := range extra {
		// Rendered as it is inside <style>: "</style" in a CSS string would end it.
		extra[i] = strings.ReplaceAll(text, "</", `<\/`)
	}
	style := &html.Node{Type: html.ElementNode, Data: "style", DataAtom: atom.Style}
	setText(style, extra)
	head.AppendChild(style)
}

func setText(n *html.Node, parts []string) {
	for c := n.FirstChild; c != nil; c = n.FirstChild {
		n.RemoveChild(c)
	}
	n.AppendChild(&html.Node{Type: html.TextNode, Data: "\n" + strings.Join(parts, "\n") + "\n"})
}

// unwrapInvented replaces each html, head, body, tbody, tr or colgroup
// element the parser added (it lacks the marker prepare put on written ones)
// by its children, and removes the markers.
func unwrapInvented(root *html.Node, marker string) {
	var invented []*html.Node
	for n := root; n != nil; n = nextNode(n, root) {
		if n.Type != html.ElementNode {
			continue
		}
		if i := attrIndex(n, marker); i >= 0 {
			n.Attr = append(n.Attr[:i], n.Attr[i+1:]...)
		} else if inventedElements[n.Data] && n.Namespace == "" {
			invented = append(invented, n)
		}
	}
	for _, n := range invented {
		for c := n.FirstChild; c != nil; c = n.FirstChild {
			n.RemoveChild(c)
			n.Parent.InsertBefore(c, n)
		}
		n.Parent.RemoveChild(n)
	}
}

// nextNode walks the tree under root in document order.
func nextNode(n, root *html.Node) *html.Node {
	if n.FirstChild != nil {
		return n.FirstChild
	}
	for ; n != root; n = n.Parent {
		if n.NextSibling != nil {
			return n.NextSibling
		}
	}
	return nil
}

func findElement(root *html.Node, a atom.Atom) *html.Node {
	for n := root; n != nil; n = nextNode(n, root) {
		if n.Type == html.ElementNode && n.DataAtom == a && n.Namespace == "" {
			return n
		}
	}
	return nil
}

func textOf(n *html.Node) string {
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}

func attrIndex(n *html.Node, key string) int {
	for i, a := range n.Attr {
		if a.Key == key && a.Namespace == "" {
			return i
		}
	}
	return -1
}

func hasAttr(n *html.Node, key string) bool { return attrIndex(n, key) >= 0 }
