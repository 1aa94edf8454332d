package render

import (
	htmltemplate "html/template"
	"io"
	"strings"
	texttemplate "text/template"
	"text/template/parse"
)

// A plan is a parsed template laid out for merging fast: static text, with
// the actions that do not depend on the recipient already run (the
// organization's name, the URL markers, share links), and per recipient only
// the actions that do. A field with default, upper, lower or trim is run
// here in Go; any other action is run on its own. Executing a whole template
// costs a reflective call per function and escaper of every action, which
// made merging dearer than everything else per recipient.
//
// A template with control flow at its top level (if, range, with) gets no
// plan and is executed as it is.
type plan struct {
	pieces []piece
	size   int // bytes of static text
}

type piece struct {
	text   string
	marker string // the code of a per-recipient URL marker (see merge.go)
	field  *fieldAction
	action executor
}

type executor interface {
	Execute(w io.Writer, data any) error
}

// fieldAction is {{ .Field | default "x" | upper ... }} and its HTML escaper.
type fieldAction struct {
	field  string
	mods   [][2]string // function name and its string argument
	escape bool
}

func (f *fieldAction) eval(d *Data) string {
	var s string
	switch f.field {
	case "FirstName":
		s = d.FirstName
	case "LastName":
		s = d.LastName
	case "Email":
		s = d.Email
	case "Subject":
		s = d.Subject
	}
	for _, m := range f.mods {
		switch m[0] {
		case "default":
			if strings.TrimSpace(s) == "" {
				s = m[1]
			}
		case "upper":
			s = strings.ToUpper(s)
		case "lower":
			s = strings.ToLower(s)
		case "trim":
			s = strings.TrimSpace(s)
		}
	}
	if f.escape {
		return escapeHTML(s)
	}
	return s
}

// execute writes the merge for d, with the URL markers expanded by x.
func (p *plan) execute(w *strings.Builder, d *Data, x *expander) error {
	for _, pc := range p.pieces {
		switch {
		case pc.marker != "":
			w.WriteString(x.url(pc.marker))
		case pc.field != nil:
			w.WriteString(pc.field.eval(d))
		case pc.action != nil:
			var b strings.Builder
			if err := pc.action.Execute(&b, d); err != nil {
				return err
			}
			w.WriteString(x.expand(b.String(), 0))
		default:
			w.WriteString(pc.text)
		}
	}
	return nil
}

// htmlEscapers are html/template's escapers for text, quoted attributes and
// RCDATA (<title>): for a string they are all escapeHTML.
var htmlEscapers = map[string]bool{
	"_html_template_htmlescaper": true, "_html_template_attrescaper": true, "_html_template_rcdataescaper": true,
}

// constantFields are the same for every recipient of a compile.
var constantFields = map[string]bool{"OrgName": true, "PostalAddress": true, "UnsubscribeURL": true, "PreferencesURL": true, "ViewURL": true}

// newPlan lays out root. html says root is html/template's escaped tree:
// every action must then end in one of its HTML escapers, which makes
// running it on its own (isolate, in a new template) escape it the same.
// constant runs an isolated action with no recipient.
func newPlan(root *parse.ListNode, html bool, markerPrefix string, isolate func(*parse.ActionNode) (executor, error), constant func(executor) (string, error)) *plan {
	p := &plan{}
	text := func(s string) {
		p.size += len(s)
		if n := len(p.pieces); n > 0 && p.pieces[n-1].text != "" {
			p.pieces[n-1].text += s
			return
		}
		p.pieces = append(p.pieces, piece{text: s})
	}
	// Static text is cut at its URL markers, so a merge writes each piece once.
	static := func(s string) {
		for {
			i := strings.Index(s, markerPrefix)
			if i < 0 {
				break
			}
			end := strings.IndexByte(s[i+len(markerPrefix):], '~')
			if end < 1 {
				text(s[:i+len(markerPrefix)])
				s = s[i+len(markerPrefix):]
				continue
			}
			text(s[:i])
			p.pieces = append(p.pieces, piece{marker: s[i+len(markerPrefix) : i+len(markerPrefix)+end]})
			s = s[i+len(markerPrefix)+end+1:]
		}
		if s != "" {
			text(s)
		}
	}
	isolated := map[string]executor{}
	for _, node := range root.Nodes {
		switch n := node.(type) {
		case *parse.TextNode:
			static(string(n.Text))
		case *parse.CommentNode:
		case *parse.ActionNode:
			if len(n.Pipe.Decl) > 0 || n.Pipe.IsAssign || len(n.Pipe.Cmds) == 0 {
				return nil
			}
			if html && !endsInHTMLEscaper(n.Pipe) {
				return nil
			}
			if f := asField(n.Pipe, html); f != nil {
				p.pieces = append(p.pieces, piece{field: f})
				continue
			}
			key := n.String()
			x, ok := isolated[key]
			if !ok {
				var err error
				if x, err = isolate(n); err != nil {
					return nil
				}
				isolated[key] = x
			}
			if isConstant(n.Pipe) {
				s, err := constant(x)
				if err != nil {
					return nil
				}
				static(s)
				continue
			}
			p.pieces = append(p.pieces, piece{action: x})
		default:
			return nil
		}
	}
	return p
}

func endsInHTMLEscaper(pipe *parse.PipeNode) bool {
	last := pipe.Cmds[len(pipe.Cmds)-1]
	id, ok := last.Args[0].(*parse.IdentifierNode)
	return ok && len(last.Args) == 1 && htmlEscapers[id.Ident]
}

// asField recognizes a recipient field through default, upper, lower and
// trim, then (html) one HTML escaper.
func asField(pipe *parse.PipeNode, html bool) *fieldAction {
	cmds := pipe.Cmds
	if html {
		cmds = cmds[:len(cmds)-1]
	}
	if len(cmds) == 0 || len(cmds[0].Args) != 1 {
		return nil
	}
	fn, ok := cmds[0].Args[0].(*parse.FieldNode)
	if !ok || len(fn.Ident) != 1 {
		return nil
	}
	f := &fieldAction{field: fn.Ident[0], escape: html}
	switch f.field {
	case "FirstName", "LastName", "Email", "Subject":
	default:
		return nil
	}
	for _, cmd := range cmds[1:] {
		id, ok := cmd.Args[0].(*parse.IdentifierNode)
		if !ok {
			return nil
		}
		switch {
		case id.Ident == "default" && len(cmd.Args) == 2:
			arg, ok := cmd.Args[1].(*parse.StringNode)
			if !ok {
				return nil
			}
			f.mods = append(f.mods, [2]string{"default", arg.Text})
		case (id.Ident == "upper" || id.Ident == "lower" || id.Ident == "trim") && len(cmd.Args) == 1:
			f.mods = append(f.mods, [2]string{id.Ident})
		default:
			return nil
		}
	}
	return f
}

// isConstant reports whether a pipeline reads nothing of the recipient.
func isConstant(pipe *parse.PipeNode) bool {
	for _, cmd := range pipe.Cmds {
		for _, arg := range cmd.Args {
			switch a := arg.(type) {
			case *parse.FieldNode:
				if len(a.Ident) != 1 || !constantFields[a.Ident[0]] {
					return false
				}
			case *parse.PipeNode:
				if !isConstant(a) {
					return false
				}
			case *parse.IdentifierNode, *parse.StringNode, *parse.NumberNode, *parse.BoolNode, *parse.NilNode:
			default:
				return false
			}
		}
	}
	return true
}

// isolatedTree is a tree holding one action.
func isolatedTree(n *parse.ActionNode) *parse.Tree {
	return &parse.Tree{Name: "action", Root: &parse.ListNode{NodeType: parse.NodeList, Nodes: []parse.Node{n.Copy()}}}
}

// htmlPlan lays out the escaped HTML template of c (it must have been executed once).
func htmlPlan(c *Compiled) *plan {
	return newPlan(c.html.Tree.Root, true, c.markerPrefix, func(n *parse.ActionNode) (executor, error) {
		return htmltemplate.New("action").Option("missingkey=error").Funcs(funcMap(c)).AddParseTree("action", isolatedTree(n))
	}, c.runConstant)
}

// textPlan lays out the text template of c.
func textPlan(c *Compiled) *plan {
	return newPlan(c.text.Tree.Root, false, c.markerPrefix, func(n *parse.ActionNode) (executor, error) {
		return texttemplate.New("action").Option("missingkey=error").Funcs(funcMap(c)).AddParseTree("action", isolatedTree(n))
	}, c.runConstant)
}

func (c *Compiled) runConstant(x executor) (string, error) {
	var b strings.Builder
	err := x.Execute(&b, &Data{c: c})
	return b.String(), err
}

// escapeHTML is html/template's escaping of a string in text, a quoted
// attribute or RCDATA, byte for byte (other bytes, even invalid UTF-8, are
// copied as they are).
func escapeHTML(s string) string {
	i := strings.IndexAny(s, "\x00\"&'+<>")
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for k := i; k < len(s); k++ {
		switch c := s[k]; c {
		case 0:
			b.WriteString("\uFFFD")
		case '"':
			b.WriteString("&#34;")
		case '&':
			b.WriteString("&amp;")
		case '\'':
			b.WriteString("&#39;")
		case '+':
			b.WriteString("&#43;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
