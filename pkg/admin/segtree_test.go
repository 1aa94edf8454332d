package admin

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// testChoices are the lists, campaigns and petitions the trees below name.
func testChoices() *segChoices {
	return &segChoices{
		Lists:     []store.List{{ID: 4, Name: "Volunteers"}, {ID: 5, Name: "Donors"}},
		Tags:      []string{"volunteer"},
		Campaigns: []store.Campaign{{ID: 12, Name: "Tell the Governor"}},
		Petitions: []store.Petition{{ID: 3, Title: "Protect the Northfork"}},
	}
}

// formOf writes a tree as the page posts it: every input of every node.
func formOf(n *segNode) url.Values {
	v := url.Values{}
	var put func(n *segNode)
	put = func(n *segNode) {
		set := func(name, value string) { v.Set(name+"_"+n.Path, value) }
		set("kind", n.Kind)
		set("drawn", n.sig())
		if n.Not {
			set("not", "1")
		}
		switch n.Kind {
		case kindGroup:
			match := n.Match
			if n.Not {
				match = map[string]string{matchAny: matchNone, matchAll: matchNotAll}[n.Match]
			}
			set("match", match)
			set("n", strconv.Itoa(len(n.Kids)))
			for _, k := range n.Kids {
				put(k)
			}
		case kindRaw:
			v.Set(rawName(n.Path), n.Raw)
		default:
			for name, value := range map[string]string{"op": n.Op, "value": n.Value, "value2": n.Value2, "attr": n.Attr,
				"type": n.Type, "list": n.List, "tag": n.Tag, "action": n.Action, "campaign": n.Campaign,
				"days": n.Days, "petition": n.Petition, "signed": n.Signed} {
				set(name, value)
			}
			if n.Human {
				set("human", "1")
			}
		}
	}
	put(n)
	return v
}

func same(t *testing.T, want, got json.RawMessage) {
	t.Helper()
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("want %s: %v", want, err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got %s: %v", got, err)
	}
	if d := cmp.Diff(w, g); d != "" {
		t.Errorf("rules (-want +got):\n%s", d)
	}
}

func raws(n *segNode) int {
	c := 0
	n.walk(func(k *segNode) bool {
		if k.Kind == kindRaw {
			c++
		}
		return true
	})
	return c
}

// TestSegmentTreeRoundTrip reads rule trees the API takes into the builder,
// posts them back as the page would and checks the rules saved mean the
// same: drawn as rules where the builder can, kept as JSON where it cannot.
func TestSegmentTreeRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, rules string
		raw         int    // nodes kept as JSON
		want        string // the rules saved, when not the same text
		refused     string // the raw node's input, for a tree the API refuses
	}{
		{name: "the README's example", rules: `{"all": [{"field": "region", "op": "in", "value": ["NY", "NJ", "CT"]},
			{"engagement": "opened", "within_days": 90}, {"not": {"list": 4}}]}`},
		{name: "every kind", rules: `{"any": [
			{"field": "email", "op": "contains", "value": "@example.org"},
			{"field": "first_name", "op": "exists"},
			{"not": {"field": "last_name", "op": "exists"}},
			{"field": "created_at", "op": "between", "value": ["2024-01-01", "2024-06-30"]},
			{"field": "consent_at", "op": "within_days", "value": 30},
			{"field": "time_zone", "op": "starts_with", "value": "America/"},
			{"attribute": "donor_level", "op": "between", "value": [2, 4.50]},
			{"attribute": "member", "op": "equals", "value": true},
			{"attribute": "joined", "op": "gt", "value": "2023-05-01"},
			{"attribute": "city", "op": "in", "value": ["Albany", "Troy"]},
			{"attribute": "notes", "op": "exists"},
			{"tag": "volunteer"},
			{"engagement": "not_clicked", "campaign": 12, "within_days": 7, "human": true},
			{"petition": 3, "signed": false},
			{"petition": 3}]}`},
		{name: "groups nested", rules: `{"all": [{"any": [{"tag": "a"}, {"not": {"all": [{"tag": "b"}, {"tag": "c"}]}}]},
			{"not": {"any": [{"list": 5}, {"not": {"tag": "d"}}]}}, {"not": {"any": [{"tag": "e"}]}}, {"any": []}]}`},
		{name: "a negated root", rules: `{"not": {"any": [{"tag": "a"}, {"tag": "b"}]}}`},
		{name: "a single rule becomes a group of one", rules: `{"tag": "a"}`, want: `{"all": [{"tag": "a"}]}`},
		{name: "signed true is the default", rules: `{"all": [{"petition": 3, "signed": true}]}`, want: `{"all": [{"petition": 3}]}`},
		{name: "a region by name is written as its code", rules: `{"all": [{"field": "region", "op": "equals", "value": "New York"}]}`,
			want: `{"all": [{"field": "region", "op": "equals", "value": "NY"}]}`},
		{name: "a list that is gone", rules: `{"all": [{"tag": "a"}, {"list": 99}]}`, raw: 1},
		{name: "a campaign that is gone", rules: `{"all": [{"engagement": "opened", "campaign": 77}]}`, raw: 1},
		{name: "not of not", rules: `{"all": [{"not": {"not": {"tag": "a"}}}]}`, raw: 1},
		{name: "a value with a comma in a list", rules: `{"all": [{"field": "last_name", "op": "in", "value": ["Smith, Jr", "Doe"]}]}`, raw: 1},
		{name: "a value with spaces around it", rules: `{"all": [{"tag": " a "}]}`, raw: 1},
		{name: "mixed types", rules: `{"all": [{"attribute": "x", "op": "in", "value": [1, "a"]}]}`, raw: 1, refused: "raw_r-0"},
		{name: "a field the store does not know", rules: `{"all": [{"field": "city", "op": "equals", "value": "Albany"}]}`, raw: 1, refused: "raw_r-0"},
		{name: "an unknown rule at the root", rules: `{"all": [{"tag": "a"}], "extra": 1}`, raw: 1, refused: "raw_r"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testChoices()
			root := treeOf(json.RawMessage(tc.rules), c)
			if got := raws(root); got != tc.raw {
				t.Errorf("%d nodes kept as JSON, want %d", got, tc.raw)
			}
			back, problem := readTree(formOf(root))
			if problem != "" {
				t.Fatal(problem)
			}
			if d := cmp.Diff(root, back, cmpopts.IgnoreFields(segNode{}, "Drawn")); d != "" {
				t.Errorf("the posted form reads back as another tree (-drawn +read):\n%s", d)
			}
			f := NewForm(nil)
			saved := writeRules(back, c, f)
			if tc.refused != "" {
				// Kept whole, and refused as the API refuses it.
				if saved != nil || f.Errors[tc.refused] == "" {
					t.Errorf("saved %s with errors %v, want an error at %s", saved, f.Errors, tc.refused)
				}
				return
			}
			if !f.OK() {
				t.Fatalf("the drawn tree does not save: %v", f.Errors)
			}
			want := tc.want
			if want == "" {
				want = tc.rules
			}
			same(t, json.RawMessage(want), saved)
		})
	}
}

// TestSegmentFormErrors posts bad rules and finds each error at its input.
func TestSegmentFormErrors(t *testing.T) {
	t.Parallel()
	rule := func(kv ...string) url.Values {
		v := url.Values{"match_r": {"all"}, "n_r": {"1"}}
		for i := 0; i+1 < len(kv); i += 2 {
			if strings.Contains(kv[i], ".") {
				v.Set(kv[i], kv[i+1])
			} else {
				v.Set(kv[i]+"_r-0", kv[i+1])
			}
		}
		return v
	}
	for _, tc := range []struct {
		name    string
		form    url.Values
		errorAt string
		message string
	}{
		{"an unknown field", rule("kind", "field:city", "op", "equals", "value", "Albany"), "kind_r-0", `no contact field "city"`},
		{"an empty value", rule("kind", "field:email", "op", "equals", "value", " "), "value_r-0", "Type a value"},
		{"a bad date", rule("kind", "field:created_at", "op", "gt", "value", "last tuesday"), "value_r-0", "must be a date"},
		{"the end of a range", rule("kind", "field:created_at", "op", "between", "value", "2024-01-01", "value2", "soon"), "value2_r-0", "must be a date"},
		{"an operator the field does not take", rule("kind", "field:region", "op", "within_days", "value", "3"), "op_r-0", "unknown operator"},
		{"an unknown list", rule("kind", "list", "list", "Volunters"), "list_r-0", `No list is named "Volunters"`},
		{"a number that is not one", rule("kind", "attribute", "attr", "age", "type", "number", "op", "gt", "value", "ten"), "value_r-0", "not a number"},
		{"a bad attribute name", rule("kind", "attribute", "attr", `a"b`, "type", "text", "op", "equals", "value", "x"), "attr_r-0", "attribute name"},
		{"a petition not chosen", rule("kind", "petition", "signed", "no"), "petition_r-0", "Choose a petition"},
		{"days out of range", rule("kind", "engagement", "action", "opened", "days", "0"), "days_r-0", "whole number of days"},
		{"JSON that is not", rule("kind", "raw", "r-0.rules", "{tag"), "raw_r-0", "not valid JSON"},
		{"JSON the API refuses", rule("kind", "raw", "r-0.rules", `{"tag": 3}`), "raw_r-0", "must be text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, _ := readTree(tc.form)
			f := NewForm(nil)
			if raw := writeRules(root, testChoices(), f); raw != nil {
				t.Fatalf("written: %s", raw)
			}
			if !strings.Contains(strings.ToLower(f.Errors[tc.errorAt]), strings.ToLower(tc.message)) {
				t.Errorf("errors %v, want %q at %s", f.Errors, tc.message, tc.errorAt)
			}
		})
	}
}

// FuzzSegmentForm posts any form to the builder: reading it never fails,
// what it writes passes the API's check, and a saved tree loads back into
// a builder that saves it again unchanged.
func FuzzSegmentForm(f *testing.F) {
	f.Add("match_r=all&n_r=1&kind_r-0=field:region&op_r-0=in&value_r-0=NY,+New+Jersey")
	f.Add("match_r=none&n_r=2&kind_r-0=petition&petition_r-0=3&signed_r-0=no&kind_r-1=group&match_r-1=any&n_r-1=1&kind_r-1-0=list&list_r-1-0=volunteers&not_r-1-0=1")
	f.Add("n_r=1&kind_r-0=attribute&attr_r-0=age&type_r-0=number&op_r-0=between&value_r-0=1e2&value2_r-0=-3.5")
	f.Add("n_r=1&kind_r-0=engagement&action_r-0=clicked&campaign_r-0=12&days_r-0=30&human_r-0=1")
	f.Add("kind_r=raw&r.rules=%7B%22tag%22%3A%22a%22%7D")
	f.Add("n_r=1&kind_r-0=raw&r-0.rules=%7B%22not%22%3A%7B%22not%22%3A%7B%22tag%22%3A%22a%22%7D%7D%7D")
	f.Fuzz(func(t *testing.T, query string) {
		v, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		c := testChoices()
		root, _ := readTree(v)
		root.fix()
		root.renumber(rootPath)
		first := writeRules(root, c, NewForm(nil))
		if first == nil {
			return
		}
		again := func(raw json.RawMessage) json.RawMessage {
			t.Helper()
			f := NewForm(nil)
			back, _ := readTree(formOf(treeOf(raw, c)))
			out := writeRules(back, c, f)
			if !f.OK() {
				t.Fatalf("%s loads into a builder that does not save it: %v", raw, f.Errors)
			}
			return out
		}
		second := again(first)
		if third := again(second); string(third) != string(second) {
			t.Errorf("saved again, %s became %s", second, third)
		}
	})
}
