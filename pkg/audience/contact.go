package audience

import (
	"strconv"
	"strings"
	"time"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/input"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// CheckContactPatch trims and checks a change to a contact: the one set of
// rules of every edge that edits contacts (the API and the admin UI). Text
// fields are one line of at most 200 characters, a time zone is an IANA
// name, a status one of the four, attributes as CheckAttribute allows. The
// first problem is returned as an error naming its field.
func CheckContactPatch(p store.ContactPatch) (store.ContactPatch, error) {
	for _, f := range []struct {
		name string
		v    **string
	}{{"first_name", &p.FirstName}, {"last_name", &p.LastName}, {"postal_code", &p.PostalCode},
		{"region", &p.Region}, {"country", &p.Country}, {"time_zone", &p.TimeZone}, {"source", &p.Source}} {
		if *f.v == nil {
			continue
		}
		v := strings.TrimSpace(**f.v)
		if err := input.Check(f.name, v, false); err != nil {
			return p, err
		}
		if len(v) > 200 {
			return p, errs.Field(f.name, "must be one line of at most 200 characters")
		}
		*f.v = &v
	}
	if p.TimeZone != nil && *p.TimeZone != "" {
		if _, err := time.LoadLocation(*p.TimeZone); err != nil || *p.TimeZone == "Local" {
			return p, errs.Field("time_zone", "%q is not an IANA time zone like America/New_York", *p.TimeZone)
		}
	}
	if p.Status != nil {
		switch *p.Status {
		case store.ContactSubscribed, store.ContactUnsubscribed, store.ContactBounced, store.ContactComplained:
		default:
			return p, errs.Field("status", "must be subscribed, unsubscribed, bounced or complained")
		}
	}
	if len(p.Attributes) > MaxColumns {
		return p, errs.Field("attributes", "at most %d custom fields", MaxColumns)
	}
	for k, v := range p.Attributes {
		if err := CheckAttribute(k, v); err != nil {
			return p, errs.Field("attributes."+k, "%v", err)
		}
	}
	return p, nil
}

// TagNames trims and checks tag names given at once: at most 100, each 1 to
// 100 characters without "," or ";" (the separators of a CSV tags column).
// A bad one is an error naming it, "tags[i]".
func TagNames(in []string) ([]string, error) {
	if len(in) > 100 {
		return nil, errs.Field("tags", "at most 100 tags at once")
	}
	out := make([]string, 0, len(in))
	for i, t := range in {
		t = strings.TrimSpace(t)
		if t == "" || len(t) > 100 || strings.ContainsAny(t, ",;\r\n\x00") {
			return nil, errs.Field("tags["+strconv.Itoa(i)+"]", "a tag is 1 to 100 characters, without , or ;")
		}
		out = append(out, t)
	}
	return out, nil
}
