package inline

import (
	"slices"
	"strings"

	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
)

// dynamicPseudoClasses depend on the reader's interaction or the browser's
// state; a style attribute cannot express them, so their rules stay in <style>.
var dynamicPseudoClasses = map[string]bool{
	"hover": true, "active": true, "focus": true, "focus-within": true, "focus-visible": true,
	"visited": true, "link": true, "any-link": true, "target": true, "target-within": true,
	"checked": true, "indeterminate": true, "placeholder-shown": true, "autofill": true,
	"valid": true, "invalid": true, "user-valid": true, "user-invalid": true,
	"in-range": true, "out-of-range": true, "playing": true, "paused": true,
}

// legacyPseudoElements may be written with a single colon.
var legacyPseudoElements = map[string]bool{
	"before": true, "after": true, "first-line": true, "first-letter": true,
}

// staysInStyle reports whether sel needs a <style> element to work: it
// names a pseudo-element, a dynamic pseudo-class or a vendor-prefixed one.
func staysInStyle(sel string) bool {
	afterName := false
	for i := 0; i < len(sel); {
		end, kind, err := nextUnit(sel, i, afterName)
		if err != nil {
			return true
		}
		afterName = kind == unitEscape || (kind == unitChar && isNameStartOrChar(sel[i]))
		if kind == unitChar && sel[i] == ':' {
			if end < len(sel) && sel[end] == ':' {
				return true
			}
			k := end
			for k < len(sel) && (isNameStartOrChar(sel[k]) && sel[k] != '#' && sel[k] != '@') {
				k++
			}
			name := strings.ToLower(sel[end:k])
			if dynamicPseudoClasses[name] || legacyPseudoElements[name] || strings.HasPrefix(name, "-") {
				return true
			}
		}
		i = end
	}
	return false
}

// selectorKey picks from the last compound of sel something an element must
// have to match: an id, else a class, else a tag name. Elements are then
// tested only against the selectors filed under what they have. kind is 0
// when sel gives no such hint (or one too hard to read safely).
func selectorKey(sel string) (kind byte, name string) {
	compound := lastCompound(sel)
	if compound == "" || strings.ContainsAny(compound, `\|`) {
		return 0, ""
	}
	var class, tag string
	i := 0
	if isASCIILetter(compound[0]) {
		i = identEnd(compound, 0)
		tag = compound[:i]
		if strings.ContainsFunc(tag, func(r rune) bool { return r >= 0x80 }) {
			return 0, "" // cascadia lowercases ASCII only
		}
		tag = strings.ToLower(tag)
	}
	for i < len(compound) {
		switch c := compound[i]; c {
		case '#', '.':
			e := identEnd(compound, i+1)
			if c == '#' && e > i+1 {
				return '#', compound[i+1 : e]
			}
			if class == "" && e > i+1 {
				class = compound[i+1 : e]
			}
			i = e
		case '[', '(':
			i = closing(compound, i)
		case '"', '\'':
			end, ok := stringEnd(compound, i)
			if !ok {
				return 0, ""
			}
			i = end
		default:
			i++
		}
	}
	switch {
	case class != "":
		return '.', class
	case tag != "":
		return 't', tag
	}
	return 0, ""
}

// lastCompound returns the part of sel after its last combinator.
func lastCompound(sel string) string {
	start := 0
	depth := 0
	afterName := false
	for i := 0; i < len(sel); {
		end, kind, err := nextUnit(sel, i, afterName)
		if err != nil {
			return ""
		}
		afterName = kind == unitEscape || (kind == unitChar && isNameStartOrChar(sel[i]))
		if kind == unitChar {
			switch sel[i] {
			case '(', '[':
				depth++
			case ')', ']':
				depth--
			case ' ', '>', '+', '~':
				if depth == 0 {
					start = end
				}
			}
		}
		i = end
	}
	return strings.TrimSpace(sel[start:])
}

// closing returns the index after the bracket or parenthesis opened at s[i].
func closing(s string, i int) int {
	depth := 0
	for i < len(s) {
		switch s[i] {
		case '(', '[':
			depth++
		case ')', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		case '"', '\'':
			end, ok := stringEnd(s, i)
			if !ok {
				return len(s)
			}
			i = end
			continue
		}
		i++
	}
	return len(s)
}

func identEnd(s string, i int) int {
	for i < len(s) && (isASCIILetter(s[i]) || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] >= 0x80) {
		i++
	}
	return i
}

// entry is one selector of one rule that gets inlined.
type entry struct {
	rule int // index of the rule, in source order
	sel  cascadia.Sel
	spec cascadia.Specificity
}

// selectorIndex files entries by the id, class or tag they require.
type selectorIndex struct {
	entries   []entry
	byID      map[string][]int
	byClass   map[string][]int
	byTag     map[string][]int
	universal []int
	compiled  map[string]cascadia.Sel // each selector text is parsed once
	classes   []string                // scratch space for match
}

func newSelectorIndex() *selectorIndex {
	return &selectorIndex{
		byID:     map[string][]int{},
		byClass:  map[string][]int{},
		byTag:    map[string][]int{},
		compiled: map[string]cascadia.Sel{},
	}
}

// add files sel for rule, or returns false when cascadia cannot read it.
func (x *selectorIndex) add(rule int, text string) bool {
	sel, ok := x.compiled[text]
	if !ok {
		var err error
		if sel, err = cascadia.Parse(text); err != nil {
			sel = nil
		}
		x.compiled[text] = sel
	}
	if sel == nil {
		return false
	}
	n := len(x.entries)
	x.entries = append(x.entries, entry{rule: rule, sel: sel, spec: sel.Specificity()})
	switch kind, name := selectorKey(text); kind {
	case '#':
		x.byID[name] = append(x.byID[name], n)
	case '.':
		x.byClass[name] = append(x.byClass[name], n)
	case 't':
		x.byTag[name] = append(x.byTag[name], n)
	default:
		x.universal = append(x.universal, n)
	}
	return true
}

// match appends to dst the entries matching n, in source order.
func (x *selectorIndex) match(dst []int, n *html.Node) []int {
	start := len(dst)
	try := func(list []int) {
		for _, e := range list {
			if x.entries[e].sel.Match(n) {
				dst = append(dst, e)
			}
		}
	}
	var classes string
	for _, a := range n.Attr {
		if a.Namespace != "" {
			continue
		}
		switch a.Key {
		case "id":
			if len(x.byID) > 0 {
				try(x.byID[a.Val])
			}
		case "class":
			classes = a.Val
		}
	}
	if classes != "" && len(x.byClass) > 0 {
		for c := range strings.FieldsFuncSeq(classes, isHTMLSpaceRune) {
			if slices.Contains(x.classes, c) {
				continue // class="a a" must not match twice
			}
			x.classes = append(x.classes, c)
			try(x.byClass[c])
		}
		x.classes = x.classes[:0]
	}
	try(x.byTag[n.Data])
	try(x.universal)
	sortInts(dst[start:])
	return dst
}

func isHTMLSpaceRune(r rune) bool { return r < 0x80 && isHTMLSpace(byte(r)) }

// sortInts is an insertion sort: the lists are short and nearly sorted.
func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}
