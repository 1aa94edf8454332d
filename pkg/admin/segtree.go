package admin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dearfriend/dearfriend/pkg/audience"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// The segment builder's tree. The page draws a segment's rule tree as
// nested fieldsets; each node's inputs are named after the node's path
// ("kind_r-1-0" is the kind of the first rule of the second rule of the
// root), so a posted form reads back into the same tree with what was typed
// kept, and a button (add, remove) changes the tree and draws it again
// without any script. The tree is written as the JSON rule tree of
// pkg/audience and checked by audience.ParseRules, the API's own check; a
// saved tree is read back into nodes, and a rule the builder cannot draw
// exactly stays a node of raw JSON, saved as it was.

// Node kinds; a contact field's kind is fieldKind + its name.
const (
	kindGroup      = "group"
	kindRaw        = "raw"
	kindAttribute  = "attribute"
	kindList       = "list"
	kindTag        = "tag"
	kindEngagement = "engagement"
	kindPetition   = "petition"
	fieldKind      = "field:"
	rootPath       = "r"
)

// Group matches: all and any, and their negations.
const (
	matchAll    = "all"
	matchAny    = "any"
	matchNone   = "none"   // not any
	matchNotAll = "notall" // not all
)

// segNode is one node of the builder: a group, a condition or raw JSON,
// holding its inputs as typed.
type segNode struct {
	Path  string
	Kind  string
	Drawn string // the shape the page drew it in (sig), from the form
	Not   bool   // the node is negated: {"not": node}
	Match string // a group's all or any
	Kids  []*segNode

	Op, Value, Value2 string // field and attribute conditions
	Attr, Type        string // attribute key, and its values' type: text, number, bool, date
	List, Tag         string // a list's name, a tag
	Action, Campaign  string // engagement: opened, clicked...; a campaign id or "" for any
	Days              string // engagement within_days, "" for ever
	Human             bool
	Petition, Signed  string // a petition id; "yes" or "no"
	Raw               string // raw JSON
}

// Operators by the type of what they compare, in the order the page lists them.
var (
	textOps = []string{"equals", "not_equals", "contains", "starts_with", "in", "exists"}
	timeOps = []string{"gt", "gte", "lt", "lte", "between", "within_days", "exists"}
	attrOps = []string{"equals", "not_equals", "contains", "starts_with", "in", "gt", "gte", "lt", "lte", "between", "exists"}

	ruleTypes   = []string{"text", "number", "bool", "date"}
	engagements = []string{"opened", "clicked", "not_opened", "not_clicked"}
	// ruleKeys are the keys each kind of rule may carry (as pkg/audience takes them).
	ruleKeys = map[string][]string{
		"all": {"all"}, "any": {"any"}, "not": {"not"},
		"field": {"field", "op", "value"}, "attribute": {"attribute", "op", "value"},
		"list": {"list"}, "tag": {"tag"}, "engagement": {"engagement", "campaign", "within_days", "human"},
		"petition": {"petition", "signed"},
	}
)

func newRule() *segNode { return &segNode{Kind: fieldKind + "email", Op: "equals"} }

func newGroup() *segNode {
	return &segNode{Kind: kindGroup, Match: matchAll, Kids: []*segNode{newRule()}}
}

// isField reports whether n compares a contact field, and which.
func (n *segNode) field() (string, bool) {
	return strings.CutPrefix(n.Kind, fieldKind)
}

// ops returns the operators n's kind takes; nil when it takes none.
func (n *segNode) ops() []string {
	if name, ok := n.field(); ok {
		if typ, _ := store.SegmentField(name); typ == store.TimeField {
			return timeOps
		}
		return textOps
	}
	if n.Kind == kindAttribute {
		return attrOps
	}
	return nil
}

// sig is the shape n is drawn in: what inputs it has. A node posted with
// another shape than the one drawn (its kind or operator was changed) is
// drawn again before it is read.
func (n *segNode) sig() string {
	arity := "1"
	switch n.Op {
	case "exists":
		arity = "0"
	case "between":
		arity = "2"
	}
	if name, ok := n.field(); ok {
		typ, _ := store.SegmentField(name)
		return "field/" + string(typ) + "/" + arity
	}
	if n.Kind == kindAttribute {
		return n.Kind + "/" + arity
	}
	return n.Kind
}

// fix gives n's choices their first value where the one it has is not
// among them, so that what the page shows is what the node holds.
func (n *segNode) fix() {
	first := func(v *string, options []string) {
		if !slices.Contains(options, *v) {
			*v = options[0]
		}
	}
	switch {
	case n.Kind == kindGroup:
		first(&n.Match, []string{matchAll, matchAny})
	case n.ops() != nil:
		first(&n.Op, n.ops())
		if n.Kind == kindAttribute {
			first(&n.Type, ruleTypes)
		}
	case n.Kind == kindEngagement:
		first(&n.Action, engagements)
	case n.Kind == kindPetition:
		first(&n.Signed, []string{"yes", "no"})
	}
	for _, k := range n.Kids {
		k.fix()
	}
}

// renumber gives every node the path of its place in the tree.
func (n *segNode) renumber(path string) {
	n.Path = path
	for i, k := range n.Kids {
		k.renumber(path + "-" + strconv.Itoa(i))
	}
}

// find returns the node at path, and its parent.
func (n *segNode) find(path string) (node, parent *segNode) {
	if n.Path == path {
		return n, nil
	}
	for _, k := range n.Kids {
		if strings.HasPrefix(path, k.Path) {
			if found, p := k.find(path); found != nil {
				if p == nil {
					p = n
				}
				return found, p
			}
		}
	}
	return nil, nil
}

// depth is n's depth in the tree: the root is 1.
func (n *segNode) depth() int { return strings.Count(n.Path, "-") + 1 }

// count returns how many nodes the tree has.
func (n *segNode) count() int {
	c := 1
	for _, k := range n.Kids {
		c += k.count()
	}
	return c
}

// number is how the page names a node: "2.1" is the first rule of the
// second rule of the root.
func (n *segNode) number() string {
	parts := strings.Split(n.Path, "-")[1:]
	for i, p := range parts {
		k, _ := strconv.Atoi(p)
		parts[i] = strconv.Itoa(k + 1)
	}
	return strings.Join(parts, ".")
}

// label names a node in a sentence: "rule 2.1", "group 3", "the segment".
func (n *segNode) label() string {
	switch {
	case n.Path == rootPath:
		return "the segment"
	case n.Kind == kindGroup:
		return "group " + n.number()
	}
	return "rule " + n.number()
}

// walk calls fn for n and every node under it, in page order, until fn
// returns false.
func (n *segNode) walk(fn func(*segNode) bool) bool {
	if !fn(n) {
		return false
	}
	for _, k := range n.Kids {
		if !k.walk(fn) {
			return false
		}
	}
	return true
}

// changed returns the first node posted in another shape than it was drawn.
func (n *segNode) changed() *segNode {
	var found *segNode
	n.walk(func(k *segNode) bool {
		if k.Drawn != "" && k.Drawn != k.sig() {
			found = k
		}
		return found == nil
	})
	return found
}

// readTree reads the builder's inputs into a tree. It is bounded by the
// limits of pkg/audience: rules nested deeper or more numerous are left
// out and reported in the message returned.
func readTree(v url.Values) (*segNode, string) {
	r := treeReader{v: v}
	root := r.node(rootPath, 1)
	if r.over {
		return root, fmt.Sprintf("A segment has at most %d rules nested at most %d deep; the rest were left out.", audience.MaxRules, audience.MaxDepth)
	}
	return root, ""
}

// rawName is the name of a raw node's text area: a name pkg/input lets
// hold several lines.
func rawName(path string) string { return path + ".rules" }

type treeReader struct {
	v     url.Values
	nodes int
	over  bool
}

func (r *treeReader) node(path string, depth int) *segNode {
	r.nodes++
	get := func(name string) string { return r.v.Get(name + "_" + path) }
	n := &segNode{Path: path, Kind: get("kind"), Drawn: get("drawn"), Not: get("not") != ""}
	if path == rootPath && n.Kind != kindRaw {
		n.Kind = kindGroup
	}
	switch n.Kind {
	case kindGroup:
		switch n.Match = get("match"); n.Match {
		case matchNone:
			n.Match, n.Not = matchAny, true
		case matchNotAll:
			n.Match, n.Not = matchAll, true
		default:
			n.Not = false
		}
		kids, _ := strconv.Atoi(get("n"))
		for i := range max(kids, 0) {
			if depth >= audience.MaxDepth || r.nodes >= audience.MaxRules {
				r.over = true
				break
			}
			n.Kids = append(n.Kids, r.node(path+"-"+strconv.Itoa(i), depth+1))
		}
	case kindRaw:
		n.Raw = r.v.Get(rawName(path))
	default:
		n.Op, n.Value, n.Value2 = get("op"), get("value"), get("value2")
		n.Attr, n.Type, n.List, n.Tag = get("attr"), get("type"), get("list"), get("tag")
		n.Action, n.Campaign, n.Days, n.Human = get("action"), get("campaign"), get("days"), get("human") != ""
		n.Petition, n.Signed = get("petition"), get("signed")
	}
	return n
}

// segChoices are the lists, tags, campaigns and petitions a builder offers,
// by name; rules name them by id.
type segChoices struct {
	Lists     []store.List
	Tags      []string
	Campaigns []store.Campaign
	Petitions []store.Petition
}

func (c *segChoices) listName(id int64) (string, bool) {
	for _, l := range c.Lists {
		if l.ID == id {
			return l.Name, true
		}
	}
	return "", false
}

// listID finds a list by its name as typed: exactly, else in any letter case
// when only one list has that name.
func (c *segChoices) listID(name string) (int64, bool) {
	var found []int64
	for _, l := range c.Lists {
		if l.Name == name {
			return l.ID, true
		}
		if strings.EqualFold(l.Name, name) {
			found = append(found, l.ID)
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	return 0, false
}

func (c *segChoices) hasCampaign(id int64) bool {
	return slices.ContainsFunc(c.Campaigns, func(x store.Campaign) bool { return x.ID == id })
}

func (c *segChoices) hasPetition(id int64) bool {
	return slices.ContainsFunc(c.Petitions, func(x store.Petition) bool { return x.ID == id })
}

// segWriter writes a tree as a rule tree, recording each problem at its
// input in the form, and remembering where each node went in the JSON so
// that an error of audience.ParseRules finds its input.
type segWriter struct {
	c     *segChoices
	f     *Form
	paths map[string]*segNode // JSON path ("rules.all[1].not") -> node
}

// writeRules writes root as a rule tree and checks it as the API does. A
// problem is recorded in f at the input it is about; the tree is returned
// only when there was none.
func writeRules(root *segNode, c *segChoices, f *Form) json.RawMessage {
	w := segWriter{c: c, f: f, paths: map[string]*segNode{}}
	tree := w.node(root, "rules")
	if !f.OK() {
		return nil
	}
	raw, err := json.Marshal(tree)
	if err != nil { // a raw node's JSON was checked with json.Valid
		f.Fail("", "The rules could not be written: "+err.Error())
		return nil
	}
	if _, err := audience.ParseRules("rules", raw); err != nil {
		w.take(err)
		return nil
	}
	return raw
}

func (w *segWriter) fail(n *segNode, input, format string, args ...any) {
	w.f.Fail(input+"_"+n.Path, fmt.Sprintf(format, args...))
}

func (w *segWriter) node(n *segNode, path string) any {
	w.paths[path] = n
	if n.Kind == kindRaw {
		raw := bytes.TrimSpace([]byte(n.Raw))
		if !json.Valid(raw) {
			w.fail(n, "raw", "This is not valid JSON; a rule is an object such as {\"tag\": \"volunteer\"}.")
			return nil
		}
		return json.RawMessage(raw)
	}
	body := path
	if n.Not {
		body += ".not"
		w.paths[body] = n
	}
	v := w.body(n, body)
	if n.Not {
		return map[string]any{"not": v}
	}
	return v
}

func (w *segWriter) body(n *segNode, path string) any {
	if name, ok := n.field(); ok {
		return w.fieldRule(n, name)
	}
	switch n.Kind {
	case kindGroup:
		kids := make([]any, len(n.Kids))
		for i, k := range n.Kids {
			kids[i] = w.node(k, fmt.Sprintf("%s.%s[%d]", path, n.Match, i))
		}
		return map[string]any{n.Match: kids}
	case kindAttribute:
		return w.attributeRule(n)
	case kindList:
		name := strings.TrimSpace(n.List)
		if name == "" {
			w.fail(n, "list", "Type the name of a list.")
			return nil
		}
		id, ok := w.c.listID(name)
		if !ok {
			w.fail(n, "list", "No list is named %q.", name)
			return nil
		}
		return map[string]any{"list": id}
	case kindTag:
		tag := strings.TrimSpace(n.Tag)
		if tag == "" {
			w.fail(n, "tag", "Type a tag.")
			return nil
		}
		return map[string]any{"tag": tag}
	case kindEngagement:
		return w.engagementRule(n)
	case kindPetition:
		id, err := strconv.ParseInt(n.Petition, 10, 64)
		if err != nil || !w.c.hasPetition(id) {
			w.fail(n, "petition", "Choose a petition.")
			return nil
		}
		r := map[string]any{"petition": id}
		if n.Signed == "no" {
			r["signed"] = false
		}
		return r
	}
	w.fail(n, "kind", "Choose what the rule is about.")
	return nil
}

func (w *segWriter) fieldRule(n *segNode, name string) any {
	typ, ok := store.SegmentField(name)
	if !ok {
		w.fail(n, "kind", "There is no contact field %q; a custom field is a \"Custom field\" rule.", name)
		return nil
	}
	r := map[string]any{"field": name, "op": n.Op}
	region := name == "region" && (n.Op == "equals" || n.Op == "not_equals" || n.Op == "in")
	switch {
	case n.Op == "exists":
	case n.Op == "in":
		vs := splitValues(n.Value)
		if len(vs) == 0 {
			w.fail(n, "value", "Type one value or more, separated by commas.")
			return nil
		}
		if region {
			for i, v := range vs {
				vs[i] = audience.NormalizeRegion(v)
			}
		}
		r["value"] = vs
	case n.Op == "between":
		r["value"] = w.pair(n, func(s string) any { return s })
	case n.Op == "within_days" && typ == store.TimeField:
		r["value"] = w.days(n, "value", n.Value)
	default:
		v := strings.TrimSpace(n.Value)
		if v == "" {
			w.fail(n, "value", "Type a value.")
			return nil
		}
		if region {
			v = audience.NormalizeRegion(v)
		}
		r["value"] = v
	}
	return r
}

// pair reads the two values of between, each converted by conv.
func (w *segWriter) pair(n *segNode, conv func(string) any) []any {
	lo, hi := strings.TrimSpace(n.Value), strings.TrimSpace(n.Value2)
	if lo == "" {
		w.fail(n, "value", "Type where the range starts.")
	}
	if hi == "" {
		w.fail(n, "value2", "Type where the range ends.")
	}
	if lo == "" || hi == "" {
		return nil
	}
	return []any{conv(lo), conv(hi)}
}

// days reads a number of days; text that is not one is passed on for
// audience.ParseRules to name.
func (w *segWriter) days(n *segNode, input, s string) any {
	s = strings.TrimSpace(s)
	if s == "" {
		w.fail(n, input, "Type a number of days.")
		return nil
	}
	if d, err := strconv.Atoi(s); err == nil {
		return d
	}
	return s
}

func (w *segWriter) attributeRule(n *segNode) any {
	r := map[string]any{"attribute": strings.TrimSpace(n.Attr), "op": n.Op}
	if r["attribute"] == "" {
		w.fail(n, "attr", "Type the name of the custom field.")
		return nil
	}
	failed := false
	conv := func(s string) any {
		switch n.Type {
		case "number":
			var x float64
			if json.Unmarshal([]byte(s), &x) != nil || s != strings.TrimSpace(s) {
				failed = true
				w.fail(n, "value", "%q is not a number; write one such as 3 or 2.5.", s)
				return nil
			}
			return json.Number(s)
		case "bool":
			switch strings.ToLower(s) {
			case "true", "yes":
				return true
			case "false", "no":
				return false
			}
			failed = true
			w.fail(n, "value", "Write true or false.")
			return nil
		case "date":
			if _, err := time.Parse(time.DateOnly, s); err != nil {
				failed = true
				w.fail(n, "value", "%q is not a date; write it as 2026-05-01.", s)
			}
		}
		return s
	}
	switch n.Op {
	case "exists":
	case "in":
		vs := splitValues(n.Value)
		if len(vs) == 0 {
			w.fail(n, "value", "Type one value or more, separated by commas.")
			return nil
		}
		out := make([]any, len(vs))
		for i, v := range vs {
			out[i] = conv(v)
		}
		r["value"] = out
	case "between":
		r["value"] = w.pair(n, conv)
	default:
		v := strings.TrimSpace(n.Value)
		if v == "" {
			w.fail(n, "value", "Type a value.")
			return nil
		}
		r["value"] = conv(v)
	}
	if failed {
		return nil
	}
	return r
}

func (w *segWriter) engagementRule(n *segNode) any {
	r := map[string]any{"engagement": n.Action}
	if n.Campaign != "" {
		id, err := strconv.ParseInt(n.Campaign, 10, 64)
		if err != nil || !w.c.hasCampaign(id) {
			w.fail(n, "campaign", "Choose a campaign from the list, or any campaign.")
			return nil
		}
		r["campaign"] = id
	}
	if strings.TrimSpace(n.Days) != "" {
		r["within_days"] = w.days(n, "days", n.Days)
	}
	if n.Human {
		r["human"] = true
	}
	return r
}

// inputOf maps the key a rule error names to the input it is about.
var inputOf = map[string]string{
	"field": "kind", "op": "op", "value": "value", "attribute": "attr", "list": "list", "tag": "tag",
	"engagement": "action", "campaign": "campaign", "within_days": "days", "human": "human",
	"petition": "petition", "signed": "signed",
}

// take puts an error of audience.ParseRules at the input it is about: the
// node whose JSON path is the longest prefix of the error's, then the key
// after it.
func (w *segWriter) take(err error) {
	e, ok := errs.As(err)
	if !ok {
		w.f.Fail("", "The rules could not be checked.")
		return
	}
	path, rest := e.Field, ""
	for path != "" {
		if n, ok := w.paths[path]; ok {
			input := "kind"
			if n.Kind == kindRaw {
				input = "raw"
			} else if n.Kind == kindGroup {
				input = "match"
			} else if key, index, _ := strings.Cut(strings.TrimPrefix(rest, "."), "["); inputOf[key] != "" {
				input = inputOf[key]
				if input == "value" && n.Op == "between" && strings.HasPrefix(index, "1]") {
					input = "value2"
				}
			}
			w.f.Fail(input+"_"+n.Path, sentence(e.Message))
			return
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path, rest = path[:i], path[i:]+rest
	}
	w.f.Fail("", sentence(e.Message))
}

func splitValues(s string) []string {
	out := []string{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// treeOf reads a saved rule tree into the builder. The root is always a
// group (a single rule becomes a group of one); any rule the builder cannot
// draw so that saving it again keeps its meaning stays raw JSON.
func treeOf(raw json.RawMessage, c *segChoices) *segNode {
	r := treeDecoder{c: c}
	root := r.node(raw, 1)
	if root.Kind != kindRaw && root.Kind != kindGroup {
		root = &segNode{Kind: kindGroup, Match: matchAll, Kids: []*segNode{root}}
	}
	root.renumber(rootPath)
	root.fix()
	return root
}

type treeDecoder struct{ c *segChoices }

func (r treeDecoder) raw(raw json.RawMessage) *segNode {
	var b bytes.Buffer
	if json.Indent(&b, raw, "", "  ") != nil {
		return &segNode{Kind: kindRaw, Raw: string(raw)}
	}
	return &segNode{Kind: kindRaw, Raw: b.String()}
}

func (r treeDecoder) node(raw json.RawMessage, depth int) *segNode {
	var obj map[string]json.RawMessage
	if depth > audience.MaxDepth || json.Unmarshal(raw, &obj) != nil {
		return r.raw(raw)
	}
	kind := ""
	for key := range obj {
		if _, ok := ruleKeys[key]; ok {
			if kind != "" {
				return r.raw(raw)
			}
			kind = key
		}
	}
	for key := range obj {
		if !slices.Contains(ruleKeys[kind], key) {
			return r.raw(raw)
		}
	}
	if n := r.rule(kind, obj, depth); n != nil {
		return n
	}
	return r.raw(raw)
}

// rule reads a rule of kind; nil when the builder cannot draw it.
func (r treeDecoder) rule(kind string, obj map[string]json.RawMessage, depth int) *segNode {
	switch kind {
	case "all", "any":
		var kids []json.RawMessage
		if json.Unmarshal(obj[kind], &kids) != nil {
			return nil
		}
		n := &segNode{Kind: kindGroup, Match: kind}
		for _, k := range kids {
			n.Kids = append(n.Kids, r.node(k, depth+1))
		}
		return n
	case "not":
		n := r.node(obj["not"], depth+1)
		if n.Kind == kindRaw || n.Not {
			return nil
		}
		n.Not = true
		return n
	case "field":
		return r.field(obj)
	case "attribute":
		return r.attribute(obj)
	case "list":
		var id int64
		if json.Unmarshal(obj["list"], &id) != nil {
			return nil
		}
		if name, ok := r.c.listName(id); ok {
			return &segNode{Kind: kindList, List: name}
		}
	case "tag":
		if s, ok := plainText(obj["tag"]); ok {
			return &segNode{Kind: kindTag, Tag: s}
		}
	case "engagement":
		return r.engagement(obj)
	case "petition":
		var id int64
		signed := true
		if json.Unmarshal(obj["petition"], &id) != nil || !r.c.hasPetition(id) ||
			(obj["signed"] != nil && json.Unmarshal(obj["signed"], &signed) != nil) {
			return nil
		}
		n := &segNode{Kind: kindPetition, Petition: strconv.FormatInt(id, 10), Signed: "yes"}
		if !signed {
			n.Signed = "no"
		}
		return n
	}
	return nil
}

// plainText reads a JSON string that the builder shows as typed: not
// empty, without spaces around it.
func plainText(raw json.RawMessage) (string, bool) {
	var s string
	if json.Unmarshal(raw, &s) != nil || s == "" || s != strings.TrimSpace(s) {
		return "", false
	}
	return s, true
}

// values reads what a field or attribute rule compares with as the
// builder's value inputs: one value, two for between, a comma-separated
// list for in. each reads one JSON value into text and its type.
func values(op string, raw json.RawMessage, each func(json.RawMessage) (string, string, bool)) (value, value2, typ string, ok bool) {
	switch op {
	case "in", "between":
		var vs []json.RawMessage
		if json.Unmarshal(raw, &vs) != nil || len(vs) == 0 || (op == "between" && len(vs) != 2) {
			return "", "", "", false
		}
		texts := make([]string, len(vs))
		for i, v := range vs {
			s, t, ok := each(v)
			if !ok || (typ != "" && t != typ) || (op == "in" && strings.Contains(s, ",")) {
				return "", "", "", false
			}
			texts[i], typ = s, t
		}
		if op == "between" {
			return texts[0], texts[1], typ, true
		}
		return strings.Join(texts, ", "), "", typ, true
	}
	s, t, ok := each(raw)
	return s, "", t, ok
}

func (r treeDecoder) field(obj map[string]json.RawMessage) *segNode {
	name, ok := plainText(obj["field"])
	if _, known := store.SegmentField(name); !ok || !known {
		return nil
	}
	n := &segNode{Kind: fieldKind + name}
	if json.Unmarshal(obj["op"], &n.Op) != nil || n.ops() == nil || !slices.Contains(n.ops(), n.Op) {
		return nil
	}
	if n.Op == "exists" {
		return n
	}
	if obj["value"] == nil {
		return nil
	}
	if n.Op == "within_days" {
		var d int
		if json.Unmarshal(obj["value"], &d) != nil {
			return nil
		}
		n.Value = strconv.Itoa(d)
		return n
	}
	n.Value, n.Value2, _, ok = values(n.Op, obj["value"], func(raw json.RawMessage) (string, string, bool) {
		s, ok := plainText(raw)
		return s, "text", ok
	})
	if !ok {
		return nil
	}
	return n
}

func (r treeDecoder) attribute(obj map[string]json.RawMessage) *segNode {
	key, ok := plainText(obj["attribute"])
	if !ok {
		return nil
	}
	n := &segNode{Kind: kindAttribute, Attr: key, Type: "text"}
	if json.Unmarshal(obj["op"], &n.Op) != nil || !slices.Contains(attrOps, n.Op) {
		return nil
	}
	if n.Op == "exists" {
		return n
	}
	if obj["value"] == nil {
		return nil
	}
	ordered := slices.Contains([]string{"gt", "gte", "lt", "lte", "between"}, n.Op)
	n.Value, n.Value2, n.Type, ok = values(n.Op, obj["value"], func(raw json.RawMessage) (string, string, bool) {
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 {
			return "", "", false
		}
		switch raw[0] {
		case '"':
			s, ok := plainText(raw)
			if ordered {
				return s, "date", ok
			}
			return s, "text", ok
		case 't', 'f':
			var b bool
			err := json.Unmarshal(raw, &b)
			return strconv.FormatBool(b), "bool", err == nil
		}
		var num json.Number
		return string(num), "number", json.Unmarshal(raw, &num) == nil && string(num) == string(raw)
	})
	if !ok {
		return nil
	}
	return n
}

func (r treeDecoder) engagement(obj map[string]json.RawMessage) *segNode {
	n := &segNode{Kind: kindEngagement}
	if json.Unmarshal(obj["engagement"], &n.Action) != nil || !slices.Contains(engagements, n.Action) {
		return nil
	}
	if raw := obj["campaign"]; raw != nil {
		var id int64
		if json.Unmarshal(raw, &id) != nil || !r.c.hasCampaign(id) {
			return nil
		}
		n.Campaign = strconv.FormatInt(id, 10)
	}
	if raw := obj["within_days"]; raw != nil {
		var d int
		if json.Unmarshal(raw, &d) != nil {
			return nil
		}
		n.Days = strconv.Itoa(d)
	}
	if raw := obj["human"]; raw != nil && json.Unmarshal(raw, &n.Human) != nil {
		return nil
	}
	return n
}
