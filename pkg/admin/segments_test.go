package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// pageForm returns what a browser posts from the page's segment builder
// form as it stands: its hidden and typed inputs, checked boxes, selected
// options and text areas.
func pageForm(t *testing.T, p page) url.Values {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(p.body))
	if err != nil {
		t.Fatal(err)
	}
	attr := func(n *html.Node, key string) (string, bool) {
		for _, a := range n.Attr {
			if a.Key == key {
				return a.Val, true
			}
		}
		return "", false
	}
	text := func(n *html.Node) string {
		var b strings.Builder
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			b.WriteString(c.Data)
		}
		return b.String()
	}
	v := url.Values{}
	var form *html.Node
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if _, ok := attr(n, "data-builder-form"); ok && n.Data == "form" {
				form = n
			}
			name, named := attr(n, "name")
			switch {
			case form == nil || !named:
			case n.Data == "input":
				typ, _ := attr(n, "type")
				value, _ := attr(n, "value")
				if _, checked := attr(n, "checked"); typ != "checkbox" || checked {
					v.Add(name, value)
				}
			case n.Data == "textarea":
				v.Add(name, strings.TrimPrefix(text(n), "\n"))
			case n.Data == "select":
				first, chosen := "", ""
				var options func(*html.Node)
				options = func(o *html.Node) {
					for c := o.FirstChild; c != nil; c = c.NextSibling {
						if c.Type == html.ElementNode && c.Data == "option" {
							value, _ := attr(c, "value")
							if first == "" {
								first = value
							}
							if _, sel := attr(c, "selected"); sel && chosen == "" {
								chosen = value
							}
						}
						options(c)
					}
				}
				options(n)
				if chosen == "" {
					chosen = first
				}
				v.Add(name, chosen)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if form == nil {
		t.Fatalf("no segment builder on the page:\n%s", p.body)
	}
	return v
}

// press posts the form as the button do does.
func (b *browser) press(path string, form url.Values, do string) page {
	b.f.t.Helper()
	form.Set("do", do)
	return b.post(path, form)
}

func rulesOf(t *testing.T, st *store.Store, id int64) any {
	t.Helper()
	g, err := st.GetSegment(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var got any
	if err := json.Unmarshal(g.Rules, &got); err != nil {
		t.Fatal(err)
	}
	return got
}

func jsonOf(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// segmentWorld is contacts in four states, one of whom signed the petition.
type segmentWorld struct {
	f        *fixture
	petition *store.Petition
	list     *store.List
}

func newSegmentWorld(t *testing.T, dsn string) segmentWorld {
	t.Helper()
	ctx := context.Background()
	w := segmentWorld{f: newFixture(t, dsn, "")}
	st := w.f.st
	var signer *store.Contact
	for _, c := range []*store.Contact{{Email: "ny@example.org", Region: "NY"}, {Email: "nj@example.org", Region: "NJ"},
		{Email: "ct@example.org", Region: "CT"}, {Email: "ca@example.org", Region: "CA"}, {Email: "signed@example.org", Region: "NY"}} {
		if err := st.CreateContact(ctx, c); err != nil {
			t.Fatal(err)
		}
		signer = c
	}
	for _, p := range []*store.Petition{{Slug: "bay", Title: "Save the Bay"}, {Slug: "northfork", Title: "Protect the Northfork"}} {
		if err := st.CreatePetition(ctx, p); err != nil {
			t.Fatal(err)
		}
		w.petition = p
	}
	if _, err := st.Sign(ctx, w.petition.ID, signer.ID, store.Attribution{}); err != nil {
		t.Fatal(err)
	}
	w.list = &store.List{Name: "Volunteers"}
	if err := st.CreateList(ctx, w.list); err != nil {
		t.Fatal(err)
	}
	if err := st.AddListMembers(ctx, w.list.ID, []int64{signer.ID}); err != nil {
		t.Fatal(err)
	}
	return w
}

// TestSegmentBuilder builds "in NY, NJ or CT who have not signed the
// petition" by posting the builder's buttons as a browser without scripts
// does, counts it, saves it, loads it back to edit, and refuses bad input at
// its field with nothing stored changed.
func TestSegmentBuilder(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		w := newSegmentWorld(t, dsn)
		f, petition := w.f, strconv.FormatInt(w.petition.ID, 10)
		organizer := f.browser()
		organizer.mustSignin(f.mustUser(store.RoleOrganizer))

		// The new page starts with a region rule; states by name, code, any case.
		form := pageForm(t, organizer.get("/admin/segments/new"))
		form.Set("value_r-0", "New York, nj, CT")
		p := organizer.press("/admin/segments/new", form, "count")
		mustContain(t, p, `<strong id="segment-count">4</strong>`, `value="New York, nj, CT"`)

		// Add a rule: the cursor goes to it. Make it a petition rule and
		// count: the page draws its inputs first, what was typed kept.
		p = organizer.press("/admin/segments/new", pageForm(t, p), "add:r")
		mustContain(t, p, `id="f-kind_r-1" name="kind_r-1" data-redraw autofocus`)
		form = pageForm(t, p)
		form.Set("kind_r-1", "petition")
		p = organizer.press("/admin/segments/new", form, "count")
		mustContain(t, p, "Fill in rule 2, which now has other inputs", `id="f-petition_r-1"`, `value="New York, nj, CT"`)
		form = pageForm(t, p)
		form.Set("signed_r-1", "no")
		form.Set("petition_r-1", petition)
		p = organizer.press("/admin/segments/new", form, "count")
		mustContain(t, p, `<strong id="segment-count">3</strong>`)

		form = pageForm(t, p)
		form.Set("name", "Tri-state, not signed")
		p = organizer.press("/admin/segments/new", form, "save")
		if p.status != http.StatusSeeOther {
			t.Fatalf("save: %d\n%s", p.status, p.body)
		}
		id, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(p.header.Get("Location"), "/admin/segments/"), "?saved=1"), 10, 64)
		if err != nil {
			t.Fatalf("saved to %q", p.header.Get("Location"))
		}
		want := jsonOf(t, `{"all": [{"field": "region", "op": "in", "value": ["NY", "NJ", "CT"]}, {"petition": `+petition+`, "signed": false}]}`)
		if d := cmp.Diff(want, rulesOf(t, f.st, id)); d != "" {
			t.Errorf("saved rules (-want +got):\n%s", d)
		}

		// The saved segment loads back into the builder, with its count.
		path := "/admin/segments/" + strconv.FormatInt(id, 10)
		p = organizer.get(path + "?saved=1")
		mustContain(t, p, "Segment saved.", `<strong id="segment-count">3</strong>`, `value="NY, NJ, CT"`,
			`<option value="`+petition+`" selected>Protect the Northfork</option>`, `<option value="no" selected>not signed</option>`)

		// Bad input is refused at its field, and the saved segment stays as it was.
		form = pageForm(t, p)
		form.Set("kind_r-1", "list")
		p = organizer.press(path, form, "redraw")
		form = pageForm(t, p)
		form.Set("list_r-1", "Volunters")
		p = organizer.press(path, form, "save")
		if p.status != http.StatusUnprocessableEntity {
			t.Errorf("an unknown list: %d, want 422", p.status)
		}
		mustContain(t, p, `<p class="error" id="f-list_r-1-error">No list is named &#34;Volunters&#34;.</p>`, `value="Volunters"`,
			"Cannot count yet: in rule 2: No list is named")
		form = pageForm(t, p)
		form.Set("kind_r-1", "field:created_at")
		form.Set("op_r-1", "gt")
		p = organizer.press(path, form, "redraw")
		form = pageForm(t, p)
		form.Set("value_r-1", "last tuesday")
		p = organizer.press(path, form, "save")
		mustContain(t, p, `id="f-value_r-1-error"`, `value="last tuesday"`, `aria-invalid="true"`)
		if d := cmp.Diff(want, rulesOf(t, f.st, id)); d != "" {
			t.Errorf("refused edits changed the rules (-want +got):\n%s", d)
		}

		// Editing: the list by name, negated, in a group of its own; the
		// first rule removed.
		form.Set("kind_r-1", "list")
		p = organizer.press(path, form, "redraw")
		form = pageForm(t, p)
		form.Set("list_r-1", "volunteers")
		p = organizer.press(path, pageForm(t, organizer.press(path, form, "group:r")), "remove:r-0")
		mustContain(t, p, `id="add-r" class="secondary" autofocus`)
		form = pageForm(t, p)
		form.Set("match_r-1", "none")
		form.Set("kind_r-1-0", "tag")
		p = organizer.press(path, form, "redraw")
		form = pageForm(t, p)
		form.Set("tag_r-1-0", "volunteer")
		form.Set("not_r-0", "1")
		if p = organizer.press(path, form, "save"); p.status != http.StatusSeeOther {
			t.Fatalf("save the edit: %d\n%s", p.status, p.body)
		}
		want = jsonOf(t, `{"all": [{"not": {"list": `+strconv.FormatInt(w.list.ID, 10)+`}}, {"not": {"any": [{"tag": "volunteer"}]}}]}`)
		if d := cmp.Diff(want, rulesOf(t, f.st, id)); d != "" {
			t.Errorf("edited rules (-want +got):\n%s", d)
		}
		mustContain(t, organizer.get(path), `<strong id="segment-count">4</strong>`)

		// A viewer counts but does not save.
		viewer := f.browser()
		viewer.mustSignin(f.mustUser(store.RoleViewer))
		form = pageForm(t, viewer.get(path))
		mustContain(t, viewer.press(path, form, "count"), `<strong id="segment-count">4</strong>`)
		form.Set("name", "Renamed")
		if p := viewer.press(path, form, "save"); p.status != http.StatusForbidden {
			t.Errorf("a viewer's save: %d, want 403", p.status)
		}
		if g, _ := f.st.GetSegment(context.Background(), id); g.Name != "Tri-state, not signed" {
			t.Errorf("the viewer renamed the segment to %q", g.Name)
		}
	})
}

// TestSegmentBuilderKeepsRawRules loads segments made with the API in forms
// the builder cannot draw: those rules are shown as JSON and saved exactly
// as they were, beside the rules it draws and changes.
func TestSegmentBuilderKeepsRawRules(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		w := newSegmentWorld(t, dsn)
		f := w.f
		organizer := f.browser()
		organizer.mustSignin(f.mustUser(store.RoleOrganizer))
		list := strconv.FormatInt(w.list.ID, 10)
		for _, tc := range []struct {
			name, rules string
			edits       []url.Values // each typed, then the rules drawn again
			want        string
			count       string
		}{
			{name: "rules beside raw ones",
				rules: `{"all": [{"tag": "nobody"}, {"not": {"not": {"list": ` + list + `}}}, {"list": 99999}]}`,
				edits: []url.Values{{"kind_r-0": {"field:region"}}, {"op_r-0": {"exists"}}},
				want:  `{"all": [{"field": "region", "op": "exists"}, {"not": {"not": {"list": ` + list + `}}}, {"list": 99999}]}`,
				count: "0"},
			{name: "a root the builder cannot draw",
				rules: `{"not": {"not": {"field": "region", "op": "in", "value": ["NY", "Washington, D.C."]}}}`,
				count: "2"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				g := &store.Segment{Name: tc.name, Rules: json.RawMessage(tc.rules)}
				if err := f.st.CreateSegment(context.Background(), g); err != nil {
					t.Fatal(err)
				}
				path := "/admin/segments/" + strconv.FormatInt(g.ID, 10)
				p := organizer.get(path)
				mustContain(t, p, `The builder cannot draw this rule; it is kept as written.`)
				form := pageForm(t, p)
				p = organizer.press(path, form, "count") // posted back as it was drawn, it counts the same
				mustContain(t, p, `<strong id="segment-count">`+tc.count+`</strong>`)
				want := tc.rules
				for _, edit := range tc.edits {
					for k, v := range edit {
						form[k] = v
					}
					form = pageForm(t, organizer.press(path, form, "redraw"))
					want = tc.want
				}
				if p := organizer.press(path, form, "save"); p.status != http.StatusSeeOther {
					t.Fatalf("save: %d\n%s", p.status, p.body)
				}
				if d := cmp.Diff(jsonOf(t, want), rulesOf(t, f.st, g.ID)); d != "" {
					t.Errorf("saved rules (-want +got):\n%s", d)
				}
				// Raw JSON the API refuses is refused at its box; nothing changes.
				saved := pageForm(t, organizer.get(path))
				for name := range saved {
					if node, ok := strings.CutSuffix(name, ".rules"); ok {
						form := pageForm(t, organizer.get(path))
						form.Set(name, "{\n  \"list\": \"Volunteers\"\n}")
						p := organizer.press(path, form, "save")
						mustContain(t, p, `id="f-raw_`+node+`-error"`, "Must be an id")
					}
				}
				if d := cmp.Diff(jsonOf(t, want), rulesOf(t, f.st, g.ID)); d != "" {
					t.Errorf("refused raw rules changed the saved ones (-want +got):\n%s", d)
				}
			})
		}
	})
}
