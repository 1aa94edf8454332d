package inline

import (
	"slices"
	"strings"

	"github.com/andybalholm/cascadia"
)

// Origins of a declaration, weakest first. A style attribute beats normal
// stylesheet rules and loses to !important ones; its own !important beats all.
const (
	fromSheet = iota
	fromStyleAttr
	fromSheetImportant
	fromStyleAttrImportant
)

// key orders declarations as the cascade does: origin and importance, then
// specificity, then source order. The written style attribute lists them in
// this order, so that each one, shorthand or longhand, overrides what it
// should and no more.
type key struct {
	origin int
	spec   cascadia.Specificity
	seq    int
}

func (k key) compare(o key) int {
	if k.origin != o.origin {
		return k.origin - o.origin
	}
	for i := range k.spec {
		if k.spec[i] != o.spec[i] {
			return k.spec[i] - o.spec[i]
		}
	}
	return k.seq - o.seq
}

type applied struct {
	d     *decl
	key   key
	entry int // the selector entry it came through; -1 for the style attribute
}

// elementStyle gathers the declarations that reach one element. For each
// property it keeps the winning declaration, plus the ones before it from
// the same selector: "color: #800; color: rgba(...)" in one rule is a
// fallback, kept as juice keeps it; across rules the winner alone remains.
type elementStyle struct {
	props   []propChain
	index   map[string]int // position in props, once there are many
	indexed bool
	out     []applied
	buf     []byte
}

type propChain struct {
	prop  string
	chain []applied
}

func (s *elementStyle) reset() {
	for i := range s.props {
		s.props[i].chain = s.props[i].chain[:0]
	}
	s.props = s.props[:0]
	if s.indexed {
		clear(s.index)
		s.indexed = false
	}
}

// find returns the position of prop in props, or -1.
func (s *elementStyle) find(prop string) int {
	if s.indexed {
		if i, ok := s.index[prop]; ok {
			return i
		}
		return -1
	}
	for i := range s.props {
		if s.props[i].prop == prop {
			return i
		}
	}
	return -1
}

func (s *elementStyle) add(d *decl, origin int, spec cascadia.Specificity, entry int) {
	a := applied{d: d, key: key{origin: origin, spec: spec, seq: d.seq}, entry: entry}
	if i := s.find(d.prop); i >= 0 {
		p := &s.props[i]
		head := p.chain[len(p.chain)-1]
		switch {
		case a.key.compare(head.key) < 0:
		case head.entry == entry:
			p.chain = append(p.chain, a)
		default:
			p.chain = append(p.chain[:0], a)
		}
		return
	}
	if len(s.props) < cap(s.props) {
		s.props = s.props[:len(s.props)+1]
		p := &s.props[len(s.props)-1]
		p.prop = d.prop
		p.chain = append(p.chain[:0], a)
	} else {
		s.props = append(s.props, propChain{prop: d.prop, chain: []applied{a}})
	}
	switch {
	case s.indexed:
		s.index[d.prop] = len(s.props) - 1
	case len(s.props) > 16:
		if s.index == nil {
			s.index = map[string]int{}
		}
		for i, p := range s.props {
			s.index[p.prop] = i
		}
		s.indexed = true
	}
}

func (s *elementStyle) addSheet(decls []decl, spec cascadia.Specificity, entry int) {
	for i := range decls {
		origin := fromSheet
		if decls[i].important {
			origin = fromSheetImportant
		}
		s.add(&decls[i], origin, spec, entry)
	}
}

func (s *elementStyle) addStyleAttr(decls []decl) {
	for i := range decls {
		origin := fromStyleAttr
		if decls[i].important {
			origin = fromStyleAttrImportant
		}
		s.add(&decls[i], origin, cascadia.Specificity{}, -1)
	}
}

// String writes the style attribute the way juice does: "prop: value;"
// separated by spaces. !important is dropped from stylesheet declarations
// (the cascade is resolved; kept, it would beat the media queries left in
// <style>) and kept from the style attribute's own.
func (s *elementStyle) String() string {
	s.out = s.out[:0]
	for _, p := range s.props {
		s.out = append(s.out, p.chain...)
	}
	slices.SortStableFunc(s.out, func(a, b applied) int { return a.key.compare(b.key) })
	b := s.buf[:0]
	for i, a := range s.out {
		if i > 0 {
			b = append(b, ' ')
		}
		if a.d.opaque {
			b = append(b, strings.TrimRight(a.d.prop, "; ")...)
			b = append(b, ';')
			continue
		}
		b = append(b, a.d.prop...)
		b = append(b, ": "...)
		b = appendValue(b, a.d.value)
		if a.key.origin == fromStyleAttrImportant {
			b = append(b, " !important"...)
		}
		b = append(b, ';')
	}
	s.buf = b
	return string(b)
}

// appendValue appends a value with its double-quoted strings single-quoted,
// as juice does, which also keeps the attribute free of &#34;.
func appendValue(b []byte, v string) []byte {
	for i := 0; i < len(v); {
		switch c := v[i]; c {
		case '\\':
			end := min(i+2, len(v))
			b = append(b, v[i:end]...)
			i = end
			continue
		case '"', '\'':
			end, ok := stringEnd(v, i)
			if !ok {
				return append(b, v[i:]...)
			}
			if c == '\'' {
				b = append(b, v[i:end]...)
			} else {
				b = appendSingleQuoted(b, v[i+1:end-1])
			}
			i = end
			continue
		}
		b = append(b, v[i])
		i++
	}
	return b
}

// appendSingleQuoted appends the inside of a double-quoted string as a
// single-quoted one.
func appendSingleQuoted(b []byte, inner string) []byte {
	b = append(b, '\'')
	for k := 0; k < len(inner); k++ {
		switch inner[k] {
		case '\\':
			b = append(b, '\\')
			if k+1 < len(inner) {
				k++
				b = append(b, inner[k])
			}
		case '\'':
			b = append(b, `\'`...)
		default:
			b = append(b, inner[k])
		}
	}
	return append(b, '\'')
}
