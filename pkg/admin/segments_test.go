package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// builderForm is the segment builder as a browser posts it: one row.
func builderForm(csrf, do, field, op, value string) url.Values {
	return url.Values{"csrf": {csrf}, "do": {do}, "match": {"all"}, "rows": {"3"},
		"field0": {field}, "op0": {op}, "value0": {value}, "field1": {""}, "op1": {"equals"}, "value1": {""}}
}

// TestSegmentBuilder counts a row's contacts, puts a bad row's error at the
// input it concerns with what was typed kept, and lets a viewer count but
// not save.
func TestSegmentBuilder(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, "")
		for _, c := range []*store.Contact{{Email: "a@example.org", Region: "NY"}, {Email: "b@example.org", Region: "NY"}, {Email: "c@example.org", Region: "CA"}} {
			if err := f.st.CreateContact(context.Background(), c); err != nil {
				t.Fatal(err)
			}
		}
		organizer := f.browser()
		organizer.mustSignin(f.mustUser(store.RoleOrganizer))
		token := organizer.token()

		p := organizer.post("/admin/segments/new", builderForm(token, "count", "region", "equals", "NY"))
		mustContain(t, p, `<strong id="segment-count">2</strong>`)

		for _, tc := range []struct {
			name, field, op, value, errorAt string
		}{
			{"a date that is not one", "created_at", "gt", "soon", "f-value0-error"},
			{"an operator a field cannot take", "region", "within_days", "x", "f-op0-error"},
			{"a list that is not a number", "list", "equals", "Volunteers", "f-value0-error"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := organizer.post("/admin/segments/new", builderForm(token, "count", tc.field, tc.op, tc.value))
				if p.status != http.StatusUnprocessableEntity {
					t.Errorf("status %d, want 422", p.status)
				}
				mustContain(t, p, `id="`+tc.errorAt+`"`, `value="`+tc.value+`"`)
			})
		}

		p = organizer.post("/admin/segments/new", builderForm(token, "save", "region", "equals", "NY"))
		if p.status != http.StatusUnprocessableEntity {
			t.Errorf("save without a name: %d, want 422", p.status)
		}
		mustContain(t, p, `id="f-name-error"`)
		save := builderForm(token, "save", "region", "equals", "NY")
		save.Set("name", "New York")
		if p := organizer.post("/admin/segments/new", save); p.status != http.StatusSeeOther {
			t.Fatalf("save: %d\n%s", p.status, p.body)
		}
		gs, err := f.st.ListSegments(context.Background())
		if err != nil || len(gs) != 1 {
			t.Fatalf("saved segments %+v (%v)", gs, err)
		}
		var got any
		json.Unmarshal(gs[0].Rules, &got)
		want := map[string]any{"all": []any{map[string]any{"field": "region", "op": "equals", "value": "NY"}}}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("saved rules (-want +got):\n%s", d)
		}
		if p := organizer.get("/admin/segments/" + strconv.FormatInt(gs[0].ID, 10)); p.status != http.StatusOK {
			t.Errorf("saved segment page: %d", p.status)
		} else {
			mustContain(t, p, `<strong id="segment-count">2</strong>`, `value="NY"`)
		}

		viewer := f.browser()
		viewer.mustSignin(f.mustUser(store.RoleViewer))
		vt := viewer.token()
		mustContain(t, viewer.post("/admin/segments/new", builderForm(vt, "count", "region", "equals", "CA")), `<strong id="segment-count">1</strong>`)
		save.Set("csrf", vt)
		save.Set("name", "California")
		if p := viewer.post("/admin/segments/new", save); p.status != http.StatusForbidden {
			t.Errorf("a viewer's save: %d, want 403", p.status)
		}
	})
}
