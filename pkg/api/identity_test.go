package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestContactsAnyCase creates a contact and finds it by any case of its
// address; a second contact differing only in case is refused.
func TestContactsAnyCase(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		c, _ := mustServer(t, dsn)
		var made store.Contact
		mustDo(c, "POST", "/api/v1/contacts", map[string]any{"email": "Supporter0999@Example.org"}, &made, http.StatusCreated)
		var e apiError
		if status := c.do("POST", "/api/v1/contacts", `{"email": "supporter0999@example.org"}`, &e); status != http.StatusConflict || e.Error.Field != "email" {
			t.Errorf("case twin: %d %+v, want 409 on email", status, e.Error)
		}
		list := func(query string) []string {
			var out struct{ Contacts []store.Contact }
			mustDo(c, "GET", "/api/v1/contacts?"+query, nil, &out, http.StatusOK)
			var emails []string
			for _, ct := range out.Contacts {
				emails = append(emails, ct.Email)
			}
			return emails
		}
		for query, want := range map[string][]string{
			"email=" + url.QueryEscape("SUPPORTER0999@EXAMPLE.ORG"): {"Supporter0999@example.org"},
			"email=" + url.QueryEscape("supporter0999@example.org"): {"Supporter0999@example.org"},
			"email=" + url.QueryEscape("nobody@example.org"):        nil,
			"q=SUPPORTER0999": {"Supporter0999@example.org"},
			"q=" + url.QueryEscape("supporter0999@EXAMPLE"): {"Supporter0999@example.org"},
		} {
			if diff := cmp.Diff(want, list(query)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", query, diff)
			}
		}
	})
}

// TestSuppressionAnyCase suppresses an address and a domain in one case and
// checks they hold for every other, in look-ups and in a campaign's audience.
func TestSuppressionAnyCase(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		c, s := mustServer(t, dsn)
		ctx := context.Background()
		var res map[string]int64
		mustDo(c, "POST", "/api/v1/suppressions", map[string]any{"entries": []string{"Jane@Example.org", "@Blocked.Example"}}, &res, http.StatusCreated)
		mustDo(c, "POST", "/api/v1/suppressions", map[string]any{"entries": []string{"jane@example.org", "JANE@example.org"}}, &res, http.StatusCreated)
		if res["added"] != 0 {
			t.Errorf("the same address in other cases added %d entries, want 0", res["added"])
		}
		for email, want := range map[string]bool{"JANE@EXAMPLE.ORG": true, "jane@example.org": true, "Kim@BLOCKED.example": true, "kim@other.example": false} {
			if got, err := s.IsSuppressed(ctx, email); err != nil || got != want {
				t.Errorf("IsSuppressed(%s) = %v, %v; want %v", email, got, err, want)
			}
		}
		var list store.List
		mustDo(c, "POST", "/api/v1/lists", map[string]string{"name": "all"}, &list, http.StatusCreated)
		cs := []store.Contact{{Email: "JANE@example.org"}, {Email: "kim@Blocked.EXAMPLE"}, {Email: "ok@example.org"}}
		if _, err := s.InsertContacts(ctx, cs); err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, ct := range cs {
			got, err := s.ContactByEmail(ctx, ct.Email)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, got.ID)
		}
		mustDo(c, "POST", fmt.Sprintf("/api/v1/lists/%d/members", list.ID), map[string]any{"contact_ids": ids}, nil, http.StatusOK)
		var count struct{ Count int64 }
		mustDo(c, "POST", "/api/v1/campaigns/audience/count", map[string]any{"audience": map[string]any{"lists": []int64{list.ID}}}, &count, http.StatusOK)
		if count.Count != 1 {
			t.Errorf("audience = %d, want 1: only ok@ is not suppressed in some case", count.Count)
		}
	})
}

// TestSegmentsSelectAnyCase matches a contact's address in a segment rule
// whatever the case of the rule's value or of the stored address.
func TestSegmentsSelectAnyCase(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		c, s := mustServer(t, dsn)
		if _, err := s.InsertContacts(context.Background(), []store.Contact{{Email: "CaseTest@Example.org"}, {Email: "other@example.org"}}); err != nil {
			t.Fatal(err)
		}
		for _, rule := range []string{
			`{"field": "email", "op": "equals", "value": "casetest@EXAMPLE.org"}`,
			`{"field": "email", "op": "in", "value": ["CASETEST@example.org"]}`,
			`{"field": "email", "op": "starts_with", "value": "CASET"}`,
			`{"field": "email", "op": "contains", "value": "TEST@"}`,
			`{"not": {"field": "email", "op": "not_equals", "value": "casetest@example.ORG"}}`,
		} {
			var count struct{ Count int64 }
			if status := c.do("POST", "/api/v1/segments/count", `{"rules": `+rule+`}`, &count); status != http.StatusOK || count.Count != 1 {
				t.Errorf("%s: %d, count %d; want 1", rule, status, count.Count)
			}
		}
	})
}
