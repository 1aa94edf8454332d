package admin

import (
	"net/url"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/audience"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// FuzzFormAttributes posts any text as a custom field's new value and as a
// new field's name, type and value: the form never panics, and what it
// accepts the API's rule accepts too, each field keeping its type.
func FuzzFormAttributes(f *testing.F) {
	f.Add("40.5", "since", "date", "2026-05-04")
	f.Add("", "Member Since", "string", "x")
	f.Add("lots", "gift", "number", "3")
	f.Add("1e400", "ok", "bool", "maybe")
	f.Fuzz(func(t *testing.T, gift, key, typ, value string) {
		c := &store.Contact{Attributes: map[string]any{"gift": 25.0, "donor": true}}
		form := NewForm(url.Values{attrField("gift"): {gift}, "new_key": {key}, "new_type": {typ}, "new_value": {value}})
		out := formAttributes(form, c)
		if !form.OK() {
			return
		}
		for k, v := range out {
			if v == nil {
				if _, had := c.Attributes[k]; !had {
					t.Fatalf("removes %q, which the contact lacks", k)
				}
				continue
			}
			if err := audience.CheckAttribute(k, v); err != nil {
				t.Fatalf("accepted %q = %#v, which the API refuses: %v", k, v, err)
			}
			if old, had := c.Attributes[k]; had && attrType(old) != attrType(v) {
				t.Fatalf("%q changed type: %#v to %#v", k, old, v)
			}
		}
		if _, ok := out["donor"]; ok {
			t.Fatal("a field the form did not send was changed")
		}
	})
}
