package app_test

import (
	"fmt"
	"strings"

	"golang.org/x/net/html"
)

// idRefProblems lists what a page's ids get wrong, which axe sees only on
// the pages a browser test draws: an id used twice, and an
// aria-labelledby, aria-describedby, aria-controls or label "for" that
// names no element of the page.
func idRefProblems(page string) []string {
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		return []string{err.Error()}
	}
	ids := map[string]int{}
	type ref struct{ attr, id string }
	var refs []ref
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			for _, a := range n.Attr {
				switch a.Key {
				case "id":
					ids[a.Val]++
				case "aria-labelledby", "aria-describedby", "aria-controls":
					for _, id := range strings.Fields(a.Val) {
						refs = append(refs, ref{a.Key, id})
					}
				case "for":
					if n.Data == "label" {
						refs = append(refs, ref{"label for", a.Val})
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	var out []string
	for id, n := range ids {
		if n > 1 {
			out = append(out, fmt.Sprintf("id %q used %d times", id, n))
		}
	}
	for _, r := range refs {
		if ids[r.id] == 0 {
			out = append(out, fmt.Sprintf("%s=%q names no element", r.attr, r.id))
		}
	}
	return out
}
