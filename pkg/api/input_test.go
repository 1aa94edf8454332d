package api_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestInputRules checks that the API refuses, with a 422 naming the field,
// text that would break a mail header or the database later: CR LF, NUL and
// other control characters, invalid UTF-8 (never stored as U+FFFD), in
// bodies, queries and paths; multi-line fields keep their lines.
func TestInputRules(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		c, s := mustServer(t, dsn)
		var list struct{ ID int64 }
		mustDo(c, "POST", "/api/v1/lists", map[string]string{"name": "supporters"}, &list, http.StatusCreated)
		for _, tc := range []struct {
			name, method, path, body, field string
		}{
			{"CR LF in a first name", "POST", "/api/v1/contacts", `{"email":"a@example.org","first_name":"Evil\r\nBcc: x@example.org"}`, "first_name"},
			{"NUL in a last name", "POST", "/api/v1/contacts", `{"email":"a@example.org","last_name":"a\u0000"}`, "last_name"},
			{"escape in an email", "POST", "/api/v1/contacts", `{"email":"a@example.org\u001b"}`, "email"},
			{"control character in a custom field", "POST", "/api/v1/contacts", `{"email":"a@example.org","attributes":{"notes":"a\u0007"}}`, "attributes.notes"},
			{"line break in a custom field's name", "POST", "/api/v1/contacts", `{"email":"a@example.org","attributes":{"a\nb":"x"}}`, "attributes.a\nb"},
			{"invalid UTF-8", "POST", "/api/v1/contacts", "{\"email\":\"a@example.org\",\"first_name\":\"Jos\xe9\"}", ""},
			{"C1 control in a list name", "POST", "/api/v1/lists", `{"name":"a\u0085b"}`, "name"},
			{"LF in a petition title", "POST", "/api/v1/petitions", `{"slug":"s","title":"a\nb"}`, "title"},
			{"CR LF in a tag", "POST", "/api/v1/contacts/1/tags", `{"tags":["a\r\nb"]}`, "tags[0]"},
			{"NUL in a segment rule", "POST", "/api/v1/segments/count", `{"rules":{"all":[{"field":"first_name","op":"eq","value":"\u0000"}]}}`, "rules.all[0].value"},
			{"NUL in a search", "GET", "/api/v1/contacts?q=%00", "", "q"},
			{"invalid UTF-8 in a query", "GET", "/api/v1/contacts?q=%ff", "", "q"},
			{"NUL in a path", "DELETE", "/api/v1/contacts/1/tags/a%00", "", "path"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var raw []byte
				status := c.do(tc.method, tc.path, tc.body, &raw)
				var e apiError
				if err := json.Unmarshal(raw, &e); err != nil {
					t.Fatalf("%d %s: %v", status, raw, err)
				}
				if status != http.StatusUnprocessableEntity || e.Error.Code != "invalid" || e.Error.Field != tc.field {
					t.Errorf("%d %s; want 422 naming %q", status, raw, tc.field)
				}
			})
		}
		cs, err := s.ListContacts(t.Context(), 0, 10)
		if err != nil || len(cs) != 0 {
			t.Errorf("contacts stored: %v, %v; want none", cs, err)
		}
		// A multi-line custom field and a petition's text keep their lines.
		mustDo(c, "POST", "/api/v1/contacts", map[string]any{"email": "b@example.org", "attributes": map[string]any{"notes": "one\r\ntwo\tthree"}}, nil, http.StatusCreated)
		var p store.Petition
		mustDo(c, "POST", "/api/v1/petitions", map[string]any{"slug": "p", "title": "P", "petition_text": "Dear Governor,\r\nsave it."}, &p, http.StatusCreated)
		if p.PetitionText != "Dear Governor,\r\nsave it." {
			t.Errorf("petition text %q", p.PetitionText)
		}
	})
}
