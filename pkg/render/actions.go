package render

import (
	"text/template/parse"
)

// actionSlugs returns the slugs that action_link is called with in the
// trees, in order, each once: what the caller checks against the petitions
// that exist before a message is saved. Every call is found, in branches a
// trial merge does not take too; a slug written as a string constant
// (action_link "northfork", or "northfork" | action_link) is the only kind
// action_link takes in practice.
func actionSlugs(trees ...*parse.Tree) []string {
	var out []string
	seen := map[string]bool{}
	add := func(slug string) {
		if !seen[slug] {
			seen[slug] = true
			out = append(out, slug)
		}
	}
	var walk func(n parse.Node)
	walkPipe := func(p *parse.PipeNode) {
		if p == nil {
			return
		}
		for i, cmd := range p.Cmds {
			if len(cmd.Args) > 0 {
				if id, ok := cmd.Args[0].(*parse.IdentifierNode); ok && id.Ident == "action_link" {
					if len(cmd.Args) > 1 {
						if s, ok := cmd.Args[1].(*parse.StringNode); ok {
							add(s.Text)
						}
					} else if i > 0 && len(p.Cmds[i-1].Args) == 1 {
						if s, ok := p.Cmds[i-1].Args[0].(*parse.StringNode); ok {
							add(s.Text)
						}
					}
				}
			}
			for _, a := range cmd.Args {
				walk(a)
			}
		}
	}
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n != nil {
				for _, c := range n.Nodes {
					walk(c)
				}
			}
		case *parse.ActionNode:
			walkPipe(n.Pipe)
		case *parse.PipeNode:
			walkPipe(n)
		case *parse.IfNode:
			walkBranch(&n.BranchNode, walk, walkPipe)
		case *parse.RangeNode:
			walkBranch(&n.BranchNode, walk, walkPipe)
		case *parse.WithNode:
			walkBranch(&n.BranchNode, walk, walkPipe)
		case *parse.TemplateNode:
			walkPipe(n.Pipe)
		}
	}
	for _, t := range trees {
		if t != nil && t.Root != nil {
			walk(t.Root)
		}
	}
	return out
}

func walkBranch(b *parse.BranchNode, walk func(parse.Node), walkPipe func(*parse.PipeNode)) {
	walkPipe(b.Pipe)
	if b.List != nil {
		walk(b.List)
	}
	if b.ElseList != nil {
		walk(b.ElseList)
	}
}
