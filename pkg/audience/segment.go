package audience

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// Limits on a segment's rule tree. A tree over them is refused with an error
// naming the path, before any SQL is built: no deep recursion, no giant query.
const (
	MaxDepth     = 10     // nesting of rules, the root rule being depth 1
	MaxRules     = 500    // rules (groups and conditions) in one tree
	MaxValues    = 10_000 // values in one in-list, and in the whole tree
	MaxValueLen  = 1000   // bytes of one text value
	MaxDays      = 36_500 // within_days
	maxKeyLength = 64     // bytes of a custom attribute's key
)

// Rules is a validated segment rule tree. A tree is a JSON object that is
// either a group or a condition:
//
//	{"all": [rule, ...]}    every rule holds (an empty all holds for everyone)
//	{"any": [rule, ...]}    at least one rule holds (an empty any holds for no one)
//	{"not": rule}           the rule does not hold
//	{"field": "region", "op": "in", "value": ["NY", "NJ"]}
//	{"attribute": "donor_level", "op": "gte", "value": 3}
//	{"list": 4}             a subscribed member of list 4
//	{"tag": "volunteer"}
//	{"engagement": "opened", "campaign": 12, "within_days": 90, "human": true}
//	{"petition": 3, "signed": false}   has not signed petition 3 ("signed" defaults to true)
//
// The key naming the kind of a rule is looked up in a registry (see
// newParser): a new kind of rule, such as "signed a petition", is one entry
// there and a function that validates it and compiles it to a store.Cond.
type Rules struct {
	root rule
}

// rule is one validated node of the tree; it compiles itself as of now.
type rule interface {
	cond(now time.Time) store.Cond
}

// ParseRules validates raw as a rule tree. An error is invalid input naming
// the path at fault under field, such as "rules.all[2].any[0].op".
func ParseRules(field string, raw json.RawMessage) (*Rules, error) {
	p := newParser()
	root, err := p.rule(field, raw, 1)
	if err != nil {
		return nil, err
	}
	return &Rules{root: root}, nil
}

// Cond compiles r into a condition on contacts, with relative dates (within
// N days) counted back from now.
func (r *Rules) Cond(now time.Time) store.Cond { return r.root.cond(now) }

// Compile validates and compiles a saved rule tree; it is the store's
// SegmentCompiler.
func Compile(raw json.RawMessage, now time.Time) (store.Cond, error) {
	r, err := ParseRules("rules", raw)
	if err != nil {
		return store.Cond{}, err
	}
	return r.Cond(now), nil
}

var _ store.SegmentCompiler = Compile

type parseFunc func(path string, obj map[string]json.RawMessage, depth int) (rule, error)

type kind struct {
	parse parseFunc
	keys  []string // every key a rule of this kind may carry, the kind's own first
}

type parser struct {
	kinds  map[string]kind
	names  []string // the kinds, sorted, for error messages
	rules  int
	values int
}

// newParser holds the registry of rule kinds, keyed by the JSON key that
// names each.
func newParser() *parser {
	p := &parser{}
	p.kinds = map[string]kind{
		"all":        {p.group("all", store.All), []string{"all"}},
		"any":        {p.group("any", store.Any), []string{"any"}},
		"not":        {p.not, []string{"not"}},
		"field":      {p.field, []string{"field", "op", "value"}},
		"attribute":  {p.attribute, []string{"attribute", "op", "value"}},
		"list":       {p.list, []string{"list"}},
		"tag":        {p.tag, []string{"tag"}},
		"engagement": {p.engagement, []string{"engagement", "campaign", "within_days", "human"}},
		"petition":   {p.petition, []string{"petition", "signed"}},
	}
	for name := range p.kinds {
		p.names = append(p.names, name)
	}
	slices.Sort(p.names)
	return p
}

func (p *parser) rule(path string, raw json.RawMessage, depth int) (rule, error) {
	if depth > MaxDepth {
		return nil, errs.Field(path, "rules nest deeper than %d levels", MaxDepth)
	}
	if p.rules++; p.rules > MaxRules {
		return nil, errs.Field(path, "a segment has at most %d rules", MaxRules)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, errs.Field(path, "must be a rule: an object with one of %s", strings.Join(p.names, ", "))
	}
	var name string
	for key := range obj {
		if _, ok := p.kinds[key]; !ok {
			continue
		}
		if name != "" {
			a, b := min(name, key), max(name, key)
			return nil, errs.Field(path, "a rule is one of %s, not both %s and %s", strings.Join(p.names, ", "), a, b)
		}
		name = key
	}
	if name == "" {
		return nil, errs.Field(path, "must be a rule: an object with one of %s", strings.Join(p.names, ", "))
	}
	k := p.kinds[name]
	for key := range obj {
		if !slices.Contains(k.keys, key) {
			return nil, errs.Field(path+"."+key, "unknown key: a %s rule takes %s", name, strings.Join(k.keys, ", "))
		}
	}
	return k.parse(path, obj, depth)
}

type group struct {
	join  func(...store.Cond) store.Cond
	rules []rule
}

func (g group) cond(now time.Time) store.Cond {
	cs := make([]store.Cond, len(g.rules))
	for i, r := range g.rules {
		cs[i] = r.cond(now)
	}
	return g.join(cs...)
}

func (p *parser) group(name string, join func(...store.Cond) store.Cond) parseFunc {
	return func(path string, obj map[string]json.RawMessage, depth int) (rule, error) {
		path += "." + name
		var raws []json.RawMessage
		if err := json.Unmarshal(obj[name], &raws); err != nil {
			return nil, errs.Field(path, "must be a list of rules")
		}
		if len(raws) > MaxRules {
			return nil, errs.Field(path, "a segment has at most %d rules", MaxRules)
		}
		g := group{join: join}
		for i, raw := range raws {
			r, err := p.rule(fmt.Sprintf("%s[%d]", path, i), raw, depth+1)
			if err != nil {
				return nil, err
			}
			g.rules = append(g.rules, r)
		}
		return g, nil
	}
}

type notRule struct{ r rule }

func (n notRule) cond(now time.Time) store.Cond { return store.Not(n.r.cond(now)) }

func (p *parser) not(path string, obj map[string]json.RawMessage, depth int) (rule, error) {
	r, err := p.rule(path+".not", obj["not"], depth+1)
	if err != nil {
		return nil, err
	}
	return notRule{r}, nil
}

// condRule is a condition that does not depend on the time of evaluation.
type condRule struct{ c store.Cond }

func (c condRule) cond(time.Time) store.Cond { return c.c }

// sinceRule is a condition on a time counted back from now.
type sinceRule struct {
	days int
	make func(since time.Time) store.Cond
}

func (s sinceRule) cond(now time.Time) store.Cond {
	return s.make(now.Add(-time.Duration(s.days) * 24 * time.Hour))
}

func (p *parser) list(path string, obj map[string]json.RawMessage, _ int) (rule, error) {
	id, err := positiveID(path+".list", obj["list"])
	if err != nil {
		return nil, err
	}
	return condRule{store.InList(id)}, nil
}

func (p *parser) tag(path string, obj map[string]json.RawMessage, _ int) (rule, error) {
	name, err := text(path+".tag", obj["tag"])
	if err != nil {
		return nil, err
	}
	return condRule{store.Tagged(strings.TrimSpace(name))}, nil
}

// petition: signed petition N, or with "signed": false has not.
func (p *parser) petition(path string, obj map[string]json.RawMessage, _ int) (rule, error) {
	id, err := positiveID(path+".petition", obj["petition"])
	if err != nil {
		return nil, err
	}
	signed := true
	if raw, ok := obj["signed"]; ok {
		if err := json.Unmarshal(raw, &signed); err != nil {
			return nil, errs.Field(path+".signed", "must be true or false")
		}
	}
	if !signed {
		return condRule{store.Not(store.SignedPetition(id))}, nil
	}
	return condRule{store.SignedPetition(id)}, nil
}

var engagements = map[string]struct {
	kind    string
	negated bool
}{
	"opened":      {store.EventOpen, false},
	"clicked":     {store.EventClick, false},
	"not_opened":  {store.EventOpen, true},
	"not_clicked": {store.EventClick, true},
}

// engagement: opened or clicked (any campaign, or the one named) ever or
// within the last N days, or not; "human": true leaves out the opens and
// clicks of privacy proxies and link scanners.
func (p *parser) engagement(path string, obj map[string]json.RawMessage, _ int) (rule, error) {
	action, err := text(path+".engagement", obj["engagement"])
	if err != nil {
		return nil, err
	}
	e, ok := engagements[action]
	if !ok {
		return nil, errs.Field(path+".engagement", "must be one of opened, clicked, not_opened, not_clicked")
	}
	which := store.EventFilter{Kind: e.kind}
	if raw, ok := obj["campaign"]; ok {
		if which.CampaignID, err = positiveID(path+".campaign", raw); err != nil {
			return nil, err
		}
	}
	if raw, ok := obj["human"]; ok {
		if err := json.Unmarshal(raw, &which.HumanOnly); err != nil {
			return nil, errs.Field(path+".human", "must be true or false")
		}
	}
	days := 0
	if raw, ok := obj["within_days"]; ok {
		if days, err = dayCount(path+".within_days", raw); err != nil {
			return nil, err
		}
	}
	build := func(since time.Time) store.Cond {
		c := store.Engaged(which, since)
		if e.negated {
			return store.Not(c)
		}
		return c
	}
	if days == 0 {
		return condRule{build(time.Time{})}, nil
	}
	return sinceRule{days: days, make: build}, nil
}

// field compares a contact column from the store's allowlist.
func (p *parser) field(path string, obj map[string]json.RawMessage, _ int) (rule, error) {
	name, err := text(path+".field", obj["field"])
	if err != nil {
		return nil, err
	}
	typ, ok := store.SegmentField(name)
	if !ok {
		return nil, errs.Field(path+".field", "unknown field %q: one of %s, or an attribute rule for a custom field", name, strings.Join(store.SegmentFields(), ", "))
	}
	op, value, err := opAndValue(path, obj)
	if err != nil {
		return nil, err
	}
	build := func(op store.Op, vs ...any) store.Cond {
		c, err := store.FieldCond(name, op, vs...)
		if err != nil { // unreachable: name and op were checked above
			panic(err)
		}
		return c
	}
	switch typ {
	case store.TextField:
		return p.textCompare(path, op, value, build)
	case store.TimeField:
		return p.timeCompare(path, op, value, build)
	}
	return nil, errs.Field(path+".field", "field %s cannot be compared", name)
}

// attribute compares a custom field; the type of the value says how.
func (p *parser) attribute(path string, obj map[string]json.RawMessage, _ int) (rule, error) {
	key, err := text(path+".attribute", obj["attribute"])
	if err != nil {
		return nil, err
	}
	if key == "" || len(key) > maxKeyLength || strings.ContainsAny(key, "\"\\") || strings.ContainsFunc(key, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return nil, errs.Field(path+".attribute", "must be an attribute name of 1 to %d characters without quotes or backslashes", maxKeyLength)
	}
	op, value, err := opAndValue(path, obj)
	if err != nil {
		return nil, err
	}
	if op == store.OpExists {
		c, _ := store.AttributeCond(key, store.TextField, op)
		return condRule{c}, nil
	}
	typ, err := valueType(path+".value", op, value)
	if err != nil {
		return nil, err
	}
	build := func(op store.Op, vs ...any) store.Cond {
		c, err := store.AttributeCond(key, typ, op, vs...)
		if err != nil { // unreachable: type and op were checked above
			panic(err)
		}
		return c
	}
	switch typ {
	case store.NumberField:
		return p.numberCompare(path, op, value, build)
	case store.BoolField:
		if op != store.OpEquals && op != store.OpNotEquals {
			return nil, errs.Field(path+".op", "a true/false value takes equals or not_equals")
		}
		var b bool
		if err := json.Unmarshal(value, &b); err != nil {
			return nil, errs.Field(path+".value", "must be true or false")
		}
		return condRule{build(op, b)}, nil
	}
	if slices.Contains(orderOps, op) || op == opBetween {
		// Attributes hold dates as "2006-01-02" text, which sorts as it reads.
		return p.dateTextCompare(path, op, value, build)
	}
	return p.textCompare(path, op, value, build)
}

const (
	opBetween    store.Op = "between"
	opWithinDays store.Op = "within_days"
)

var orderOps = []store.Op{store.OpGT, store.OpGTE, store.OpLT, store.OpLTE}

func opAndValue(path string, obj map[string]json.RawMessage) (store.Op, json.RawMessage, error) {
	s, err := text(path+".op", obj["op"])
	if err != nil {
		return "", nil, err
	}
	op := store.Op(s)
	value, has := obj["value"]
	if op == store.OpExists && has {
		return "", nil, errs.Field(path+".value", "exists takes no value (wrap the rule in not for \"does not exist\")")
	}
	if op != store.OpExists && !has {
		return "", nil, errs.Field(path+".value", "is required for op %s", op)
	}
	return op, value, nil
}

// valueType says how an attribute is compared, from the JSON type of the value
// (the first value of a list).
func valueType(path string, op store.Op, value json.RawMessage) (store.FieldType, error) {
	v := bytes.TrimSpace(value)
	if (op == store.OpIn || op == opBetween) && len(v) > 0 && v[0] == '[' {
		var vs []json.RawMessage
		if err := json.Unmarshal(v, &vs); err == nil && len(vs) > 0 {
			v = bytes.TrimSpace(vs[0])
		}
	}
	switch {
	case len(v) == 0:
		return "", errs.Field(path, "is required")
	case v[0] == '"':
		return store.TextField, nil
	case v[0] == 't' || v[0] == 'f':
		return store.BoolField, nil
	case v[0] == '-' || (v[0] >= '0' && v[0] <= '9'):
		return store.NumberField, nil
	}
	return "", errs.Field(path, "must be text, a number or true/false")
}

type buildFunc func(op store.Op, vs ...any) store.Cond

func (p *parser) textCompare(path string, op store.Op, value json.RawMessage, build buildFunc) (rule, error) {
	switch op {
	case store.OpExists:
		return condRule{build(op)}, nil
	case store.OpEquals, store.OpNotEquals, store.OpContains, store.OpStartsWith:
		s, err := text(path+".value", value)
		if err != nil {
			return nil, err
		}
		return condRule{build(op, s)}, nil
	case store.OpIn:
		vs, err := p.inList(path+".value", value, func(path string, raw json.RawMessage) (any, error) { return text(path, raw) })
		if err != nil {
			return nil, err
		}
		return condRule{build(op, vs...)}, nil
	}
	return nil, errs.Field(path+".op", "unknown operator %q for text: one of equals, not_equals, contains, starts_with, in, exists", op)
}

func (p *parser) numberCompare(path string, op store.Op, value json.RawMessage, build buildFunc) (rule, error) {
	switch op {
	case store.OpEquals, store.OpNotEquals, store.OpGT, store.OpGTE, store.OpLT, store.OpLTE:
		n, err := number(path+".value", value)
		if err != nil {
			return nil, err
		}
		return condRule{build(op, n)}, nil
	case store.OpIn:
		vs, err := p.inList(path+".value", value, func(path string, raw json.RawMessage) (any, error) { return number(path, raw) })
		if err != nil {
			return nil, err
		}
		return condRule{build(op, vs...)}, nil
	case opBetween:
		lo, hi, err := pair(path+".value", value, number)
		if err != nil {
			return nil, err
		}
		return condRule{store.All(build(store.OpGTE, lo), build(store.OpLTE, hi))}, nil
	}
	return nil, errs.Field(path+".op", "unknown operator %q for a number: one of equals, not_equals, gt, gte, lt, lte, between, in, exists", op)
}

// dateTextCompare orders "2006-01-02" text values.
func (p *parser) dateTextCompare(path string, op store.Op, value json.RawMessage, build buildFunc) (rule, error) {
	day := func(path string, raw json.RawMessage) (string, error) {
		s, err := text(path, raw)
		if err != nil {
			return "", err
		}
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return "", errs.Field(path, "must be a date written 2006-01-02 to be ordered")
		}
		return s, nil
	}
	if op == opBetween {
		lo, hi, err := pair(path+".value", value, day)
		if err != nil {
			return nil, err
		}
		return condRule{store.All(build(store.OpGTE, lo), build(store.OpLTE, hi))}, nil
	}
	d, err := day(path+".value", value)
	if err != nil {
		return nil, err
	}
	return condRule{build(op, d)}, nil
}

// timeCompare orders a time column. A date without a time means the whole
// day: lte 2024-05-01 includes that day, gt 2024-05-01 starts the day after.
func (p *parser) timeCompare(path string, op store.Op, value json.RawMessage, build buildFunc) (rule, error) {
	bound := func(op store.Op, t time.Time, dateOnly bool) store.Cond {
		if dateOnly {
			switch op {
			case store.OpLTE:
				op, t = store.OpLT, t.AddDate(0, 0, 1)
			case store.OpGT:
				op, t = store.OpGTE, t.AddDate(0, 0, 1)
			}
		}
		return build(op, t)
	}
	switch op {
	case store.OpExists:
		return condRule{build(op)}, nil
	case store.OpGT, store.OpGTE, store.OpLT, store.OpLTE:
		t, dateOnly, err := timeValue(path+".value", value)
		if err != nil {
			return nil, err
		}
		return condRule{bound(op, t, dateOnly)}, nil
	case opBetween:
		var raws []json.RawMessage
		if err := json.Unmarshal(value, &raws); err != nil || len(raws) != 2 {
			return nil, errs.Field(path+".value", "must be two dates: [from, to]")
		}
		lo, loDate, err := timeValue(path+".value[0]", raws[0])
		if err != nil {
			return nil, err
		}
		hi, hiDate, err := timeValue(path+".value[1]", raws[1])
		if err != nil {
			return nil, err
		}
		return condRule{store.All(bound(store.OpGTE, lo, loDate), bound(store.OpLTE, hi, hiDate))}, nil
	case opWithinDays:
		days, err := dayCount(path+".value", value)
		if err != nil {
			return nil, err
		}
		return sinceRule{days: days, make: func(since time.Time) store.Cond { return build(store.OpGTE, since) }}, nil
	}
	return nil, errs.Field(path+".op", "unknown operator %q for a date: one of gt, gte, lt, lte, between, within_days, exists", op)
}

// inList decodes an in-list, counting its values against the limits.
func (p *parser) inList(path string, value json.RawMessage, each func(string, json.RawMessage) (any, error)) ([]any, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(value, &raws); err != nil {
		return nil, errs.Field(path, "must be a list of values")
	}
	if len(raws) == 0 {
		return nil, errs.Field(path, "must name at least one value")
	}
	if len(raws) > MaxValues {
		return nil, errs.Field(path, "has %d values; an in-list takes at most %d", len(raws), MaxValues)
	}
	if p.values += len(raws); p.values > MaxValues {
		return nil, errs.Field(path, "the segment's in-lists hold more than %d values in all", MaxValues)
	}
	out := make([]any, len(raws))
	for i, raw := range raws {
		v, err := each(fmt.Sprintf("%s[%d]", path, i), raw)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func pair[T any](path string, value json.RawMessage, each func(string, json.RawMessage) (T, error)) (lo, hi T, err error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(value, &raws); err != nil || len(raws) != 2 {
		return lo, hi, errs.Field(path, "must be two values: [from, to]")
	}
	if lo, err = each(path+"[0]", raws[0]); err != nil {
		return lo, hi, err
	}
	hi, err = each(path+"[1]", raws[1])
	return lo, hi, err
}

func text(path string, raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", errs.Field(path, "must be text")
	}
	if len(s) > MaxValueLen {
		return "", errs.Field(path, "is longer than %d bytes", MaxValueLen)
	}
	return s, nil
}

func number(path string, raw json.RawMessage) (float64, error) {
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, errs.Field(path, "must be a number")
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, errs.Field(path, "must be a number")
	}
	return f, nil
}

func positiveID(path string, raw json.RawMessage) (int64, error) {
	var id int64
	if err := json.Unmarshal(raw, &id); err != nil || id <= 0 {
		return 0, errs.Field(path, "must be an id (a positive whole number)")
	}
	return id, nil
}

func dayCount(path string, raw json.RawMessage) (int, error) {
	var n int
	if err := json.Unmarshal(raw, &n); err != nil || n < 1 || n > MaxDays {
		return 0, errs.Field(path, "must be a whole number of days from 1 to %d", MaxDays)
	}
	return n, nil
}

// timeValue parses "2006-01-02" (a whole day, UTC) or an RFC 3339 time.
func timeValue(path string, raw json.RawMessage) (t time.Time, dateOnly bool, err error) {
	s, err := text(path, raw)
	if err != nil {
		return t, false, err
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, true, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), false, nil
	}
	return t, false, errs.Field(path, "must be a date (2006-01-02) or a time (2006-01-02T15:04:05Z)")
}
