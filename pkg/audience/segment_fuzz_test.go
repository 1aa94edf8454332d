package audience_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/dearfriend/dearfriend/pkg/audience"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// FuzzCompile: whatever JSON comes in, ParseRules refuses it as invalid input
// or the compiled condition runs on SQLite without an error. No panic, no hang.
//
//	go test -run '^$' -fuzz '^FuzzCompile$' -fuzztime 60s ./pkg/audience
func FuzzCompile(f *testing.F) {
	for _, seed := range []string{
		`{"all": [{"field": "region", "op": "in", "value": ["NY", "NJ"]}, {"engagement": "opened", "within_days": 90}, {"not": {"list": 1}}]}`,
		`{"any": [{"attribute": "donor_level", "op": "between", "value": [1, 3]}, {"tag": "x"}]}`,
		`{"not": {"field": "consent_at", "op": "lte", "value": "2024-05-01"}}`,
		`{"attribute": "joined", "op": "gt", "value": "2024-01-01"}`,
		`{"attribute": "v", "op": "equals", "value": true}`,
		`{"field": "first_name", "op": "contains", "value": "'; DROP TABLE contacts; --"}`,
		`{"field": "created_at", "op": "within_days", "value": 30}`,
		`{"engagement": "not_clicked", "campaign": 3}`,
		`{"attribute": "n", "op": "in", "value": [1, 2.5, -3e10]}`,
	} {
		f.Add([]byte(seed))
	}
	s := mustStore(f, testenv.SQLite(f))
	ctx := context.Background()
	if _, err := s.InsertContacts(ctx, []store.Contact{
		{Email: "a@example.org", Region: "NY", Attributes: map[string]any{"donor_level": 2, "joined": "2024-03-01", "v": true, "n": "text"}},
		{Email: "b@example.org", PostalCode: "10001"},
	}); err != nil {
		f.Fatal(err)
	}
	now := time.Now().UTC()
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := audience.ParseRules("rules", json.RawMessage(data))
		if err != nil {
			if e, ok := errs.As(err); !ok || e.Code != errs.Invalid || e.Field == "" {
				t.Fatalf("refused with %#v; want an invalid-input error naming a path", err)
			}
			return
		}
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if _, err := s.CountWhere(ctx, r.Cond(now)); err != nil {
			t.Fatalf("valid rules %s failed to run: %v", data, err)
		}
	})
}
