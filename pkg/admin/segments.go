package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/dearfriend/dearfriend/pkg/audience"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// Segment builder: a few rows of field, operator and value, joined by all
// or any. The rows become the JSON rule tree of pkg/audience; a tree the
// builder cannot draw (nested groups, made with the API) is shown as JSON.
const (
	builderRows    = 3  // rows an empty builder shows
	maxBuilderRows = 20 // rows "Add a row" grows to
)

// ruleTag and ruleList are the builder's row kinds beside the contact fields.
const (
	ruleTag  = "tag"
	ruleList = "list"
)

// builderOps are the operators a row may take, as the select shows them.
var builderOps = []string{"equals", "not_equals", "contains", "starts_with", "in", "exists", "gt", "gte", "lt", "lte", "within_days", "between"}

// builderFields are the row kinds: each contact field a segment may name,
// then "tag" (has the tag in value) and "list" (a subscribed member of the
// list whose id is value).
func builderFields() []string {
	return append(append([]string{""}, store.SegmentFields()...), ruleTag, ruleList)
}

// builderRow is one row of the builder as the template draws it.
type builderRow struct {
	Index                        int
	Field, Op, Value             string
	FieldErr, OpErr, ValueErr    string
	FieldName, OpName, ValueName string
}

// segmentView is the builder page.
type segmentView struct {
	Segment *store.Segment // nil for a new one
	Rows    []builderRow
	Fields  []string
	Ops     []string
	Count   *int64 // after "Count"
	Rules   string // the tree as JSON, for a segment the rows cannot show
}

// segments lists the saved segments.
func (h *Handler) segments(w http.ResponseWriter, r *http.Request, s *signedIn) {
	gs, err := h.Store.ListSegments(r.Context())
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	h.render(w, r, s, http.StatusOK, "segments.html", view{Title: "Segments", Section: "Segments", Data: gs})
}

func (h *Handler) newSegment(w http.ResponseWriter, r *http.Request, s *signedIn) {
	h.showBuilder(w, r, s, http.StatusOK, NewForm(url.Values{"match": {"all"}}), nil, nil)
}

// segment shows a saved segment in the builder, with its count.
func (h *Handler) segment(w http.ResponseWriter, r *http.Request, s *signedIn) {
	id, err := routeID(r, "segment")
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	g, err := h.Store.GetSegment(r.Context(), id)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	f := NewForm(url.Values{"name": {g.Name}, "description": {g.Description}})
	fillRows(f, g.Rules)
	var n *int64
	if rules, err := audience.ParseRules("rules", g.Rules); err == nil {
		c, err := h.Store.CountWhere(r.Context(), rules.Cond(h.Now().UTC()))
		if err != nil {
			h.failFor(w, r, s, err)
			return
		}
		n = &c
	}
	h.showBuilder(w, r, s, http.StatusOK, f, g, n)
}

func (h *Handler) showBuilder(w http.ResponseWriter, r *http.Request, s *signedIn, status int, f *Form, g *store.Segment, n *int64) {
	v := segmentView{Segment: g, Fields: builderFields(), Ops: builderOps, Count: n}
	rows, _ := strconv.Atoi(f.Get("rows"))
	rows = min(max(rows, builderRows), maxBuilderRows)
	for i := range rows {
		k := strconv.Itoa(i)
		v.Rows = append(v.Rows, builderRow{Index: i + 1,
			Field: f.Get("field" + k), Op: f.Get("op" + k), Value: f.Get("value" + k),
			FieldErr: f.Errors["field"+k], OpErr: f.Errors["op"+k], ValueErr: f.Errors["value"+k],
			FieldName: "field" + k, OpName: "op" + k, ValueName: "value" + k})
	}
	if g != nil && f.Get("rows") == "" {
		v.Rules = string(g.Rules) // not drawable as rows
	}
	title := "New segment"
	if g != nil {
		title = g.Name
	}
	h.render(w, r, s, status, "segment.html", view{Title: title, Section: "Segments", Form: f, Data: v})
}

// fillRows puts a saved tree in the form when it is one group of field,
// tag and list rules; otherwise the form keeps no rows and the page shows
// the JSON.
func fillRows(f *Form, raw json.RawMessage) {
	var tree map[string][]map[string]json.RawMessage
	if json.Unmarshal(raw, &tree) != nil || len(tree) != 1 {
		return
	}
	match, conds := "all", tree["all"]
	if _, ok := tree["any"]; ok {
		match, conds = "any", tree["any"]
	}
	if len(conds) > maxBuilderRows {
		return
	}
	vals := url.Values{"match": {match}, "rows": {strconv.Itoa(max(len(conds), builderRows))}}
	for i, c := range conds {
		k := strconv.Itoa(i)
		var field, op string
		switch {
		case c["field"] != nil:
			json.Unmarshal(c["field"], &field)
			json.Unmarshal(c["op"], &op)
			vals.Set("value"+k, valueText(c["value"]))
		case c["tag"] != nil:
			field = ruleTag
			vals.Set("value"+k, valueText(c["tag"]))
		case c["list"] != nil:
			field = ruleList
			vals.Set("value"+k, valueText(c["list"]))
		default:
			return
		}
		vals.Set("field"+k, field)
		vals.Set("op"+k, op)
	}
	for k, v := range vals {
		f.Values[k] = v
	}
}

// valueText writes a JSON value as a row types it: lists joined by commas.
func valueText(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	if vs, ok := v.([]any); ok {
		parts := make([]string, len(vs))
		for i, x := range vs {
			parts[i] = fmt.Sprint(x)
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprint(v)
}

// toJSON encodes a rule tree built of maps, slices, strings and numbers,
// which cannot fail.
func toJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// rulesOf builds the rule tree of the form's rows; rows without a field are
// skipped. The tree is not yet checked: audience.ParseRules does that.
func rulesOf(f *Form) json.RawMessage {
	var conds []any
	rows, _ := strconv.Atoi(f.Get("rows"))
	for i := range min(max(rows, builderRows), maxBuilderRows) {
		k := strconv.Itoa(i)
		field, op, value := f.Get("field"+k), f.Get("op"+k), strings.TrimSpace(f.Get("value"+k))
		switch field {
		case "":
			continue
		case ruleTag:
			conds = append(conds, map[string]any{"tag": value})
		case ruleList:
			id, err := strconv.ParseInt(value, 10, 64)
			if err != nil {
				conds = append(conds, map[string]any{"list": value}) // refused by ParseRules at this row
			} else {
				conds = append(conds, map[string]any{"list": id})
			}
		default:
			c := map[string]any{"field": field, "op": op}
			switch op {
			case "exists":
			case "in", "between":
				c["value"] = splitValues(value)
			case "within_days":
				if n, err := strconv.Atoi(value); err == nil {
					c["value"] = n
				} else {
					c["value"] = value
				}
			default:
				c["value"] = value
			}
			conds = append(conds, c)
		}
	}
	match := "all"
	if f.Get("match") == "any" {
		match = "any"
	}
	if conds == nil {
		conds = []any{}
	}
	return toJSON(map[string]any{match: conds})
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

// rulePath finds the row of an error's path, "rules.all[2].op", and the
// part at fault: the error goes next to that input.
var rulePath = regexp.MustCompile(`^rules\.(?:all|any)\[(\d+)\](?:\.(field|op|value|tag|list))?`)

// takeRuleError puts a rule tree's error at its row's input, counting the
// rows kept (those with a field) back to the form's row numbers.
func takeRuleError(f *Form, err error) bool {
	e, ok := errs.As(err)
	if !ok || e.Code != errs.Invalid {
		return false
	}
	m := rulePath.FindStringSubmatch(e.Field)
	if m == nil {
		f.Fail("", sentence(e.Message))
		return true
	}
	want, _ := strconv.Atoi(m[1])
	part := m[2]
	if part == "" || part == "field" {
		part = "field"
	} else if part == "tag" || part == "list" {
		part = "value"
	}
	rows, _ := strconv.Atoi(f.Get("rows"))
	for i, kept := 0, 0; i < min(max(rows, builderRows), maxBuilderRows); i++ {
		k := strconv.Itoa(i)
		if f.Get("field"+k) == "" {
			continue
		}
		if kept == want {
			f.Fail(part+k, sentence(e.Message))
			return true
		}
		kept++
	}
	f.Fail("", sentence(e.Message))
	return true
}

// buildSegment handles the builder's buttons: "add" draws one more row,
// "count" counts who the rows select now, "save" saves the segment.
func (h *Handler) buildSegment(w http.ResponseWriter, r *http.Request, s *signedIn) {
	f := NewForm(r.PostForm)
	rows, _ := strconv.Atoi(f.Get("rows"))
	rows = min(max(rows, builderRows), maxBuilderRows)
	f.Values.Set("rows", strconv.Itoa(rows))
	if f.Get("do") == "add" {
		f.Values.Set("rows", strconv.Itoa(min(rows+1, maxBuilderRows)))
		h.showBuilder(w, r, s, http.StatusOK, f, nil, nil)
		return
	}
	raw := rulesOf(f)
	rules, err := audience.ParseRules("rules", raw)
	if err != nil {
		if takeRuleError(f, err) {
			h.showBuilder(w, r, s, http.StatusUnprocessableEntity, f, nil, nil)
			return
		}
		h.failFor(w, r, s, err)
		return
	}
	if f.Get("do") != "save" {
		n, err := h.Store.CountWhere(r.Context(), rules.Cond(h.Now().UTC()))
		if err != nil {
			h.failFor(w, r, s, err)
			return
		}
		h.showBuilder(w, r, s, http.StatusOK, f, nil, &n)
		return
	}
	if !allowed(s.User.Role, store.RoleOrganizer) {
		h.problem(w, r, s, http.StatusForbidden, "Your role ("+s.User.Role+") cannot save segments; it needs organizer or above.")
		return
	}
	name := strings.TrimSpace(f.Get("name"))
	if name == "" || len(name) > 200 {
		f.Fail("name", "Give the segment a name of at most 200 characters.")
	}
	if len(f.Get("description")) > 2000 {
		f.Fail("description", "Keep the description to 2000 characters.")
	}
	if !f.OK() {
		h.showBuilder(w, r, s, http.StatusUnprocessableEntity, f, nil, nil)
		return
	}
	g := &store.Segment{Name: name, Description: f.Get("description"), Rules: raw}
	if err := h.Store.CreateSegment(r.Context(), g); err != nil {
		if e, ok := errs.As(err); ok && e.Code == errs.Conflict {
			f.Fail("name", "A segment already has this name.")
			h.showBuilder(w, r, s, http.StatusConflict, f, nil, nil)
			return
		}
		h.failFor(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/admin/segments/"+strconv.FormatInt(g.ID, 10), http.StatusSeeOther)
}
