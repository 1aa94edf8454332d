package admin

import (
	"strconv"

	"github.com/dearfriend/dearfriend/pkg/audience"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// How the segment builder draws its tree: each node becomes a fieldset of
// labelled inputs (segInput), built here so the template only draws.

// segInput is one input of a node.
type segInput struct {
	Name, Label string
	Field       string // the name posted, when not Name
	Type        string // select, text, number, checkbox, textarea
	Value       string
	Error, Hint string
	Options     []segOption
	Groups      []segOptGroup
	List        string // the id of a datalist of suggestions
	Checked     bool
	Redraw      bool // a change redraws the node (admin.js)
	Autofocus   bool
	Class       string
}

type segOption struct {
	Value, Label string
}

type segOptGroup struct {
	Label   string
	Options []segOption
}

// segNodeView is one node as the page draws it.
type segNodeView struct {
	Path, Legend     string
	Name             string // "group 3.2", "rule 1", "the segment": the node in a sentence
	Root, Group, Raw bool
	Kind, Drawn      string
	Kids             []segNodeView
	Inputs           []segInput
	CanNest          bool // a group may hold another group
	// Focus is the id of the element a button's redraw puts the cursor on.
	Focus string
}

// fieldLabels names the contact fields as organizers say them; a field
// added to the store's allowlist and missing here shows its own name.
var fieldLabels = map[string]string{
	"email": "Email", "first_name": "First name", "last_name": "Last name", "status": "Status",
	"postal_code": "ZIP / postal code", "region": "State / region", "country": "Country",
	"time_zone": "Time zone", "source": "Source", "created_at": "Created", "consent_at": "Consent given",
}

var opLabels = map[string]string{
	"equals": "is", "not_equals": "is not", "contains": "contains", "starts_with": "starts with",
	"in": "is one of", "exists": "is filled in",
	"gt": "after / more than", "gte": "on or after / at least", "lt": "before / less than",
	"lte": "on or before / at most", "between": "between", "within_days": "in the last … days",
}

var timeOpLabels = map[string]string{
	"gt": "after", "gte": "on or after", "lt": "before", "lte": "on or before", "exists": "is set",
}

// kindGroups are the choices of a rule's "What" select.
func kindGroups(current string) []segOptGroup {
	contact := segOptGroup{Label: "Contact"}
	for _, name := range store.SegmentFields() {
		label := fieldLabels[name]
		if label == "" {
			label = name
		}
		contact.Options = append(contact.Options, segOption{fieldKind + name, label})
	}
	other := segOptGroup{Label: "Other", Options: []segOption{
		{kindAttribute, "Custom field"}, {kindList, "On list"}, {kindTag, "Has tag"},
		{kindEngagement, "Opened or clicked"}, {kindPetition, "Petition"},
	}}
	groups := []segOptGroup{contact, other}
	known := false
	for _, g := range groups {
		for _, o := range g.Options {
			known = known || o.Value == current
		}
	}
	if !known && current != "" { // kept as posted, with its error
		groups = append(groups, segOptGroup{Label: "Unknown", Options: []segOption{{current, current}}})
	}
	return groups
}

func options(values []string, labels map[string]string) []segOption {
	out := make([]segOption, len(values))
	for i, v := range values {
		out[i] = segOption{v, labels[v]}
		if out[i].Label == "" {
			out[i].Label = opLabels[v]
		}
		if out[i].Label == "" {
			out[i].Label = v
		}
	}
	return out
}

// viewOf draws n with the form's errors; focus is the id of the element to
// put the cursor on, if any.
func viewOf(n *segNode, c *segChoices, f *Form, focus string) segNodeView {
	v := segNodeView{Path: n.Path, Name: n.label(), Root: n.Path == rootPath, Kind: n.Kind, Drawn: n.sig(), Focus: focus}
	in := func(name, label, typ, value string) segInput {
		full := name + "_" + n.Path
		return segInput{Name: full, Label: label, Type: typ, Value: value, Error: f.Errors[full], Autofocus: focus == "f-"+full}
	}
	switch n.Kind {
	case kindGroup:
		v.Group, v.CanNest = true, n.depth() < audience.MaxDepth
		v.Legend = "Group " + n.number()
		if v.Root {
			v.Legend = "Contacts who match"
		}
		match := n.Match
		if n.Not {
			match = map[string]string{matchAny: matchNone, matchAll: matchNotAll}[n.Match]
		}
		m := in("match", "Match", "select", match)
		m.Options = []segOption{{matchAll, "all of these"}, {matchAny, "any of these"}, {matchNone, "none of these"}, {matchNotAll, "not all of these"}}
		v.Inputs = []segInput{m}
		for _, k := range n.Kids {
			v.Kids = append(v.Kids, viewOf(k, c, f, focus))
		}
		return v
	case kindRaw:
		v.Raw = true
		v.Legend = "Rule " + n.number() + " (JSON)"
		if v.Root {
			v.Legend = "Contacts who match (JSON)"
		}
		r := in("raw", "Rule as JSON", "textarea", n.Raw)
		r.Field = rawName(n.Path)
		r.Hint = "The builder cannot draw this rule; it is kept as written. Edit it as the API takes it."
		v.Inputs = []segInput{r}
		return v
	}
	v.Legend = "Rule " + n.number()
	not := in("not", "Not", "checkbox", "1")
	not.Checked, not.Class = n.Not, "not"
	kind := in("kind", "What", "select", n.Kind)
	kind.Groups, kind.Redraw = kindGroups(n.Kind), true
	v.Inputs = []segInput{not, kind}
	if name, ok := n.field(); ok {
		typ, _ := store.SegmentField(name)
		labels := map[string]string{}
		if typ == store.TimeField {
			labels = timeOpLabels
		}
		v.Inputs = append(v.Inputs, opInput(in, n, labels))
		v.Inputs = append(v.Inputs, valueInputs(in, n, name, typ)...)
		return v
	}
	switch n.Kind {
	case kindAttribute:
		attr := in("attr", "Custom field", "text", n.Attr)
		typ := in("type", "Compared as", "select", n.Type)
		typ.Options = []segOption{{"text", "text"}, {"number", "number"}, {"bool", "true or false"}, {"date", "date (2026-05-01)"}}
		v.Inputs = append(v.Inputs, attr, typ, opInput(in, n, nil))
		v.Inputs = append(v.Inputs, valueInputs(in, n, "", "")...)
	case kindList:
		l := in("list", "List", "text", n.List)
		l.List, l.Hint = "seg-lists", "The list's name."
		v.Inputs = append(v.Inputs, l)
	case kindTag:
		t := in("tag", "Tag", "text", n.Tag)
		t.List = "seg-tags"
		v.Inputs = append(v.Inputs, t)
	case kindEngagement:
		a := in("action", "Did", "select", n.Action)
		a.Options = []segOption{{"opened", "opened"}, {"clicked", "clicked"}, {"not_opened", "did not open"}, {"not_clicked", "did not click"}}
		camp := in("campaign", "Campaign", "select", n.Campaign)
		camp.Options = []segOption{{"", "any campaign"}}
		// Archived campaigns stay choosable (who did not open last month's
		// alert is a common audience), after the others and marked.
		var archived []segOption
		for _, x := range c.Campaigns {
			if x.ArchivedAt != nil {
				archived = append(archived, segOption{strconv.FormatInt(x.ID, 10), x.Name + " (archived)"})
				continue
			}
			camp.Options = append(camp.Options, segOption{strconv.FormatInt(x.ID, 10), x.Name})
		}
		camp.Options = append(camp.Options, archived...)
		days := in("days", "Within the last … days", "number", n.Days)
		days.Hint = "Empty: ever."
		human := in("human", "By people only (not mail privacy proxies or link scanners)", "checkbox", "1")
		human.Checked = n.Human
		v.Inputs = append(v.Inputs, a, camp, days, human)
	case kindPetition:
		signed := in("signed", "Has", "select", n.Signed)
		signed.Options = []segOption{{"yes", "signed"}, {"no", "not signed"}}
		p := in("petition", "Petition", "select", n.Petition)
		p.Options = []segOption{{"", "choose a petition"}}
		for _, x := range c.Petitions {
			p.Options = append(p.Options, segOption{strconv.FormatInt(x.ID, 10), x.Title})
		}
		v.Inputs = append(v.Inputs, signed, p)
	}
	return v
}

type inputFunc func(name, label, typ, value string) segInput

func opInput(in inputFunc, n *segNode, labels map[string]string) segInput {
	op := in("op", "Comparison", "select", n.Op)
	op.Options, op.Redraw = options(n.ops(), labels), true
	return op
}

// valueInputs are the value inputs of a field (name, typ) or attribute
// ("") rule for its operator: none for exists, two for between.
func valueInputs(in inputFunc, n *segNode, name string, typ store.FieldType) []segInput {
	value := in("value", "Value", "text", n.Value)
	switch n.Op {
	case "exists":
		return nil
	case "in":
		value.Label, value.Hint = "Values", "Separate them with commas: NY, NJ, CT."
	case "within_days":
		value.Label, value.Type = "Days", "number"
	case "between":
		value.Label = "From"
		to := in("value2", "To", "text", n.Value2)
		if typ == store.TimeField || n.Type == "date" {
			value.Hint = "Dates such as 2026-05-01, both days included."
		}
		return []segInput{value, to}
	}
	if name == "region" && n.Op == "in" {
		value.Hint = "Separate them with commas; states by name or code: New York, NJ, CT."
	}
	if typ == store.TimeField {
		value.Hint = "A date such as 2026-05-01."
	}
	if name == "region" && value.Hint == "" {
		value.Hint = "A state or province, by name or code."
	}
	if name == "status" {
		value.List = "seg-statuses"
	}
	return []segInput{value}
}
