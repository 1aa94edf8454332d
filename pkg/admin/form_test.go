package admin

import (
	"errors"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

func TestFormTake(t *testing.T) {
	for _, tc := range []struct {
		name  string
		err   error
		taken bool
		want  map[string]string
	}{
		{"invalid field", errs.Field("time_zone", "%q is not an IANA time zone", "Mars"), true,
			map[string]string{"time_zone": `"Mars" is not an IANA time zone.`}},
		{"field path goes to its form field", errs.Field("attributes.age", "must be a number"), true,
			map[string]string{"attributes": "Must be a number."}},
		{"list index goes to its form field", errs.Field("tags[1]", "a tag is 1 to 100 characters"), true,
			map[string]string{"tags": "A tag is 1 to 100 characters."}},
		{"conflict", &errs.Error{Code: errs.Conflict, Field: "email", Message: "a user with email a@example.org already exists"}, true,
			map[string]string{"email": "A user with email a@example.org already exists."}},
		{"no field is about the form", errs.New(errs.Invalid, "give at least one list"), true,
			map[string]string{"": "Give at least one list."}},
		{"not found is not the form's", errs.New(errs.NotFound, "contact 9 not found"), false, map[string]string{}},
		{"an internal error is not the form's", errors.New("connection reset"), false, map[string]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := NewForm(url.Values{"time_zone": {"Mars"}})
			if got := f.Take(tc.err); got != tc.taken {
				t.Errorf("Take = %v, want %v", got, tc.taken)
			}
			if diff := cmp.Diff(tc.want, f.Errors); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if f.Get("time_zone") != "Mars" {
				t.Error("the value typed was lost")
			}
		})
	}
}

func TestNewField(t *testing.T) {
	f := NewForm(url.Values{"status": {"bounced"}})
	f.Fail("status", "Only the person can subscribe again.")
	f.Fail("status", "a second problem is not shown")
	got := newField(f, "status", "Status", "select", "options=subscribed|bounced", "required", "hint=Pick one", "autocomplete=off")
	want := Field{Name: "status", Label: "Status", Type: "select", Value: "bounced", Error: "Only the person can subscribe again.",
		Hint: "Pick one", Options: []string{"subscribed", "bounced"}, Required: true, Autocomplete: "off"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("field (-want +got):\n%s", diff)
	}
	if empty := newField(nil, "q", "Search", "search"); empty.Value != "" || empty.Error != "" {
		t.Errorf("a field of no form: %+v", empty)
	}
}
