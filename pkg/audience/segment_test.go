package audience_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/audience"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

const injection = `'; DROP TABLE contacts; --`

func TestParseRulesRefusesNamingThePath(t *testing.T) {
	deep := strings.Repeat(`{"not": `, 1000) + `{"list": 1}` + strings.Repeat(`}`, 1000)
	many := `{"field": "region", "op": "in", "value": [` + strings.TrimSuffix(strings.Repeat(`"NY",`, 100_000), ",") + `]}`
	for _, tc := range []struct {
		name, rules, field, message string
	}{
		{"unknown field", `{"all": [{"list": 1}, {"tag": "a"}, {"any": [{"field": "shoe_size", "op": "equals", "value": "9"}]}]}`, "rules.all[2].any[0].field", `unknown field "shoe_size"`},
		{"unknown operator", `{"all": [{"list": 1}, {"tag": "a"}, {"any": [{"field": "region", "op": "like", "value": "N%"}]}]}`, "rules.all[2].any[0].op", `unknown operator "like"`},
		{"unknown key", `{"field": "region", "op": "equals", "value": "NY", "table": "x"}`, "rules.table", "unknown key"},
		{"two kinds", `{"list": 1, "tag": "a"}`, "rules", "not both list and tag"},
		{"no kind", `{"region": "NY"}`, "rules", "must be a rule"},
		{"not an object", `[1, 2]`, "rules", "must be a rule"},
		{"too deep", deep, "rules" + strings.Repeat(".not", 10), "deeper than 10"},
		{"too many values", many, "rules.value", "has 100000 values; an in-list takes at most 10000"},
		{"too many values in all", `{"any": [` + strings.TrimSuffix(strings.Repeat(`{"field": "region", "op": "in", "value": [`+strings.TrimSuffix(strings.Repeat(`"NY",`, 6000), ",")+`]},`, 2), ",") + `]}`, "rules.any[1].value", "more than 10000 values in all"},
		{"text value for a date", `{"field": "created_at", "op": "gte", "value": "last tuesday"}`, "rules.value", "must be a date"},
		{"order on text", `{"field": "region", "op": "gt", "value": "NY"}`, "rules.op", `unknown operator "gt" for text`},
		{"exists with a value", `{"field": "region", "op": "exists", "value": "NY"}`, "rules.value", "exists takes no value"},
		{"missing value", `{"field": "region", "op": "equals"}`, "rules.value", "is required"},
		{"between one value", `{"attribute": "age", "op": "between", "value": [3]}`, "rules.value", "two values"},
		{"attribute with a quote", `{"attribute": "a\"b", "op": "exists"}`, "rules.attribute", "without quotes"},
		{"bool ordered", `{"attribute": "donor", "op": "gt", "value": true}`, "rules.op", "equals or not_equals"},
		{"engagement verb", `{"engagement": "read", "within_days": 90}`, "rules.engagement", "opened, clicked"},
		{"engagement days", `{"engagement": "opened", "within_days": 0}`, "rules.within_days", "from 1 to"},
		{"engagement human", `{"engagement": "opened", "human": "yes"}`, "rules.human", "true or false"},
		{"list id", `{"list": "one"}`, "rules.list", "must be an id"},
		{"empty in", `{"field": "region", "op": "in", "value": []}`, "rules.value", "at least one value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := audience.ParseRules("rules", json.RawMessage(tc.rules))
			e, ok := errs.As(err)
			if !ok || e.Code != errs.Invalid {
				t.Fatalf("got %v, want an invalid-input error", err)
			}
			if e.Field != tc.field || !strings.Contains(e.Message, tc.message) {
				t.Errorf("got %s: %s; want %s: ...%s...", e.Field, e.Message, tc.field, tc.message)
			}
		})
	}
}

// TestSegmentsSelect runs each kind of rule against the same contacts on each
// database and compares who matches.
func TestSegmentsSelect(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustStore(t, dsn)
		ctx := context.Background()
		now := time.Now().UTC()
		day := func(d string) time.Time { t, _ := time.Parse(time.DateOnly, d); return t }
		consent := day("2024-05-01").Add(15 * time.Hour)
		cs := []store.Contact{
			{Email: "ny@example.org", FirstName: "Ann", Region: "NY", PostalCode: "10001", Attributes: map[string]any{"donor_level": 3, "joined": "2023-02-01", "volunteer": true}},
			{Email: "nj@example.org", FirstName: "Bo", Region: "NJ", PostalCode: "07030", ConsentAt: &consent, Attributes: map[string]any{"donor_level": 1.5, "volunteer": false}},
			{Email: "ct@example.org", FirstName: "Cy", Region: "CT", PostalCode: "06103", Attributes: map[string]any{"donor_level": "high"}},
			{Email: "ca@example.org", FirstName: injection, Region: "CA", PostalCode: "94110", Status: store.ContactUnsubscribed},
			{Email: "under_score@example.org", FirstName: "100% Dee", Region: "", Attributes: map[string]any{"joined": "2024-07-04"}},
		}
		if _, err := s.InsertContacts(ctx, cs); err != nil {
			t.Fatal(err)
		}
		id := mustContactIDs(t, s)
		list := &store.List{Name: "alerts"}
		if err := s.CreateList(ctx, list); err != nil {
			t.Fatal(err)
		}
		if err := s.AddListMembers(ctx, list.ID, []int64{id["ny@example.org"], id["ct@example.org"]}); err != nil {
			t.Fatal(err)
		}
		if err := s.AddContactTags(ctx, id["nj@example.org"], []string{"volunteer"}); err != nil {
			t.Fatal(err)
		}
		mustEvents(t, s, []store.Event{ // no ledger rows needed: a segment reads only kind, campaign, contact and time
			{Kind: store.EventOpen, CampaignID: 7, ContactID: id["ny@example.org"], CreatedAt: now.Add(-10 * 24 * time.Hour)},
			{Kind: store.EventOpen, CampaignID: 8, ContactID: id["nj@example.org"], CreatedAt: now.Add(-200 * 24 * time.Hour)},
			{Kind: store.EventClick, CampaignID: 8, ContactID: id["ct@example.org"], CreatedAt: now.Add(-time.Hour)},
			{Kind: store.EventOpen, CampaignID: 8, ContactID: id["ct@example.org"], CreatedAt: now.Add(-time.Hour), Machine: true},
		})
		pet := &store.Petition{Slug: "river", Title: "Save the river", Open: true}
		if err := s.CreatePetition(ctx, pet); err != nil {
			t.Fatal(err)
		}
		for _, who := range []string{"nj@example.org", "ca@example.org"} {
			if _, err := s.Sign(ctx, pet.ID, id[who], store.Attribution{}); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			name, rules string
			want        []string
		}{
			{"everyone", `{"all": []}`, []string{"ca", "ct", "nj", "ny", "under_score"}},
			{"no one", `{"any": []}`, nil},
			{"region in", `{"field": "region", "op": "in", "value": ["NY", "NJ", "CT"]}`, []string{"ct", "nj", "ny"}},
			{"postal prefix", `{"field": "postal_code", "op": "starts_with", "value": "0"}`, []string{"ct", "nj"}},
			{"contains, wildcards are data", `{"field": "first_name", "op": "contains", "value": "0% d"}`, []string{"under_score"}},
			{"underscore is data", `{"field": "email", "op": "starts_with", "value": "under_"}`, []string{"under_score"}},
			{"not equals", `{"field": "region", "op": "not_equals", "value": "NY"}`, []string{"ca", "ct", "nj", "under_score"}},
			{"region exists", `{"field": "region", "op": "exists"}`, []string{"ca", "ct", "nj", "ny"}},
			{"status", `{"field": "status", "op": "equals", "value": "unsubscribed"}`, []string{"ca"}},
			{"sql is data", `{"field": "first_name", "op": "equals", "value": "'; DROP TABLE contacts; --"}`, []string{"ca"}},
			{"sql in a list is data", `{"field": "region", "op": "in", "value": ["'; DROP TABLE contacts; --", "NY"]}`, []string{"ny"}},
			{"sql as an attribute is data", `{"attribute": "'; DROP TABLE contacts; --", "op": "exists"}`, nil},
			{"consent day inclusive", `{"field": "consent_at", "op": "lte", "value": "2024-05-01"}`, []string{"nj"}},
			{"consent after the day", `{"field": "consent_at", "op": "gt", "value": "2024-05-01"}`, nil},
			{"not consented", `{"not": {"field": "consent_at", "op": "exists"}}`, []string{"ca", "ct", "ny", "under_score"}},
			{"created between", `{"field": "created_at", "op": "between", "value": ["2000-01-01", "2999-12-31"]}`, []string{"ca", "ct", "nj", "ny", "under_score"}},
			{"created within days", `{"field": "created_at", "op": "within_days", "value": 1}`, []string{"ca", "ct", "nj", "ny", "under_score"}},
			{"number gte", `{"attribute": "donor_level", "op": "gte", "value": 2}`, []string{"ny"}},
			{"number between", `{"attribute": "donor_level", "op": "between", "value": [1, 3]}`, []string{"nj", "ny"}},
			{"number in", `{"attribute": "donor_level", "op": "in", "value": [1.5, 4]}`, []string{"nj"}},
			{"text attribute ignores numbers", `{"attribute": "donor_level", "op": "equals", "value": "high"}`, []string{"ct"}},
			{"not a number attribute", `{"not": {"attribute": "donor_level", "op": "gt", "value": 1}}`, []string{"ca", "ct", "under_score"}},
			{"attribute exists", `{"attribute": "donor_level", "op": "exists"}`, []string{"ct", "nj", "ny"}},
			{"bool attribute", `{"attribute": "volunteer", "op": "equals", "value": true}`, []string{"ny"}},
			{"date attribute", `{"attribute": "joined", "op": "lt", "value": "2024-01-01"}`, []string{"ny"}},
			{"in list", `{"list": ` + fmt.Sprint(list.ID) + `}`, []string{"ct", "ny"}},
			{"not in list", `{"not": {"list": ` + fmt.Sprint(list.ID) + `}}`, []string{"ca", "nj", "under_score"}},
			{"tag", `{"tag": "volunteer"}`, []string{"nj"}},
			{"opened in 90 days", `{"engagement": "opened", "within_days": 90}`, []string{"ct", "ny"}},
			{"a person opened in 90 days", `{"engagement": "opened", "within_days": 90, "human": true}`, []string{"ny"}},
			{"opened ever", `{"engagement": "opened"}`, []string{"ct", "nj", "ny"}},
			{"opened campaign 8", `{"engagement": "opened", "campaign": 8, "human": true}`, []string{"nj"}},
			{"clicked in a day", `{"engagement": "clicked", "within_days": 1}`, []string{"ct"}},
			{"not opened in 90 days", `{"engagement": "not_opened", "within_days": 90}`, []string{"ca", "nj", "under_score"}},
			{"three conditions", `{"all": [{"field": "region", "op": "in", "value": ["NY", "NJ", "CT"]}, {"engagement": "opened", "within_days": 90, "human": true}, {"not": {"list": 999}}]}`, []string{"ny"}},
			{"signed petition", `{"petition": ` + fmt.Sprint(pet.ID) + `}`, []string{"ca", "nj"}},
			{"has not signed petition", `{"petition": ` + fmt.Sprint(pet.ID) + `, "signed": false}`, []string{"ct", "ny", "under_score"}},
			{"signed another petition", `{"petition": 999, "signed": true}`, nil},
			{"any of", `{"any": [{"tag": "volunteer"}, {"field": "region", "op": "equals", "value": "CT"}]}`, []string{"ct", "nj"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r, err := audience.ParseRules("rules", json.RawMessage(tc.rules))
				if err != nil {
					t.Fatal(err)
				}
				cs, err := s.PreviewWhere(ctx, r.Cond(now), 100)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, c := range cs {
					got = append(got, strings.TrimSuffix(c.Email, "@example.org"))
				}
				slices.Sort(got)
				if d := cmp.Diff(tc.want, got); d != "" {
					t.Errorf("matches (-want +got):\n%s", d)
				}
				n, err := s.CountWhere(ctx, r.Cond(now))
				if err != nil || n != int64(len(tc.want)) {
					t.Errorf("count %d, %v; want %d", n, err, len(tc.want))
				}
			})
		}
		if n, err := s.CountContacts(ctx); err != nil || n != int64(len(cs)) {
			t.Fatalf("after the rules, %d contacts (%v); want %d", n, err, len(cs))
		}
	})
}

func mustStore(tb testing.TB, dsn string) *store.Store {
	tb.Helper()
	s := testenv.Store(tb, dsn)
	s.UseSegmentCompiler(audience.Compile)
	return s
}

func mustContactIDs(tb testing.TB, s *store.Store) map[string]int64 {
	tb.Helper()
	cs, err := s.ListContacts(context.Background(), 0, 1000)
	if err != nil {
		tb.Fatal(err)
	}
	ids := map[string]int64{}
	for _, c := range cs {
		ids[c.Email] = c.ID
	}
	return ids
}

func mustEvents(tb testing.TB, s *store.Store, es []store.Event) {
	tb.Helper()
	if err := s.InsertEvents(context.Background(), es); err != nil {
		tb.Fatal(err)
	}
}
