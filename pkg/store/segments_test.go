package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/audience"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestAudienceCountIsWhatIsSent builds an audience of two overlapping lists and
// a segment, minus an excluded list and an excluded segment, over contacts who
// are unsubscribed, bounced, complained, suppressed by address and by domain,
// and checks the count shown before the send is the number of ledger rows the
// send snapshots, and who they are.
func TestAudienceCountIsWhatIsSent(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		s.UseSegmentCompiler(audience.Compile)
		ctx := context.Background()
		var cs []store.Contact
		for i := range 20 {
			cs = append(cs, store.Contact{Email: fmt.Sprintf("p%d@example.org", i), FirstName: fmt.Sprint("P", i)})
		}
		cs[3].Status = store.ContactUnsubscribed
		cs[6].Email = "p6@blocked.example" // suppressed by domain
		cs[7].Status = store.ContactBounced
		cs[8].Status = store.ContactComplained
		for i := 15; i < 18; i++ {
			cs[i].Region = "NY"
		}
		if _, err := s.InsertContacts(ctx, cs); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddSuppressions(ctx, []store.Suppression{
			{Email: "p4@example.org", Reason: "imported do-not-mail"},
			{Email: "@blocked.example", Reason: "domain asked us to stop"},
		}); err != nil {
			t.Fatal(err)
		}
		all, err := s.ListContacts(ctx, 0, 100)
		if err != nil || len(all) != 20 {
			t.Fatalf("list contacts: %d, %v", len(all), err)
		}
		ids := func(from, to int) []int64 {
			var out []int64
			for _, c := range all[from:to] {
				out = append(out, c.ID)
			}
			return out
		}
		a, b, x := mustList(t, s, "a", ids(0, 10)), mustList(t, s, "b", ids(5, 15)), mustList(t, s, "x", ids(0, 2))
		ny := mustSegment(t, s, "ny", `{"field": "region", "op": "in", "value": ["NY"]}`)
		p12 := mustSegment(t, s, "p12", `{"all": [{"field": "first_name", "op": "equals", "value": "P12"}]}`)
		aud := store.Audience{Lists: []int64{a, b}, Segments: []int64{ny}, ExcludeLists: []int64{x}, ExcludeSegments: []int64{p12}}

		count, err := s.CountAudience(ctx, aud, nil)
		if err != nil {
			t.Fatal(err)
		}
		c := &store.Campaign{Name: "c", MessageID: mustMessage(t, s), Audience: aud}
		if err := s.CreateCampaign(ctx, c); err != nil {
			t.Fatal(err)
		}
		total, err := s.StartCampaign(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		lo, hi, _, err := s.SendRange(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := s.PendingRecipients(ctx, c.ID, lo, hi)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rs {
			got = append(got, r.Email)
		}
		// Lists a and b overlap on 5..9 and the segment adds 15..17; list x
		// takes out 0 and 1, the segment p12 takes out 12; 3, 4, 6, 7 and 8
		// are never mailable.
		want := []string{"p2@example.org", "p5@example.org", "p9@example.org", "p10@example.org", "p11@example.org",
			"p13@example.org", "p14@example.org", "p15@example.org", "p16@example.org", "p17@example.org"}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("snapshot (-want +got):\n%s", d)
		}
		if count != int64(len(want)) || total != count || int64(len(rs)) != count {
			t.Errorf("count before the send %d, StartCampaign total %d, ledger rows %d; want all %d", count, total, len(rs), len(want))
		}
	})
}

func TestAudienceNamingNothingIsRefused(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		s.UseSegmentCompiler(audience.Compile)
		ctx := context.Background()
		l := mustList(t, s, "l", nil)
		for _, tc := range []struct {
			aud   store.Audience
			field string
		}{
			{store.Audience{Lists: []int64{l, 999}}, "audience.lists"},
			{store.Audience{Lists: []int64{l}, Segments: []int64{999}}, "audience.segments"},
			{store.Audience{Lists: []int64{l}, ExcludeLists: []int64{999}}, "audience.exclude_lists"},
			{store.Audience{Lists: []int64{l}, ExcludeSegments: []int64{999}}, "audience.exclude_segments"},
		} {
			t.Run(tc.field, func(t *testing.T) {
				_, err := s.CountAudience(ctx, tc.aud, nil)
				if e, ok := errs.As(err); !ok || e.Code != errs.Invalid || e.Field != tc.field {
					t.Fatalf("got %v, want invalid %s", err, tc.field)
				}
			})
		}
	})
}

func mustList(tb testing.TB, s *store.Store, name string, members []int64) int64 {
	tb.Helper()
	l := &store.List{Name: name}
	if err := s.CreateList(context.Background(), l); err != nil {
		tb.Fatal(err)
	}
	if err := s.AddListMembers(context.Background(), l.ID, members); err != nil {
		tb.Fatal(err)
	}
	return l.ID
}

func mustSegment(tb testing.TB, s *store.Store, name, rules string) int64 {
	tb.Helper()
	if _, err := audience.ParseRules("rules", json.RawMessage(rules)); err != nil {
		tb.Fatal(err)
	}
	g := &store.Segment{Name: name, Rules: json.RawMessage(rules)}
	if err := s.CreateSegment(context.Background(), g); err != nil {
		tb.Fatal(err)
	}
	return g.ID
}

func mustMessage(tb testing.TB, s *store.Store) int64 {
	tb.Helper()
	m := &store.Message{Name: "m", Subject: "s", FromName: "f", FromEmail: "f@example.org", HTML: "<p>hi</p>"}
	if err := s.CreateMessage(context.Background(), m); err != nil {
		tb.Fatal(err)
	}
	return m.ID
}

// TestUpdateSegment replaces a segment's name, description and rules; a
// name another segment has is a conflict that changes nothing, and an id
// naming no segment is not found. TagNames lists the tags a builder offers.
func TestUpdateSegment(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		ctx := context.Background()
		id := mustSegment(t, s, "New York", `{"all": [{"field": "region", "op": "equals", "value": "NY"}]}`)
		mustSegment(t, s, "Taken", `{"all": []}`)
		g := &store.Segment{ID: id, Name: "Tri-state", Description: "NY, NJ, CT", Rules: json.RawMessage(`{"any": [{"tag": "volunteer"}]}`)}
		if err := s.UpdateSegment(ctx, g); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetSegment(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var rules any
		json.Unmarshal(got.Rules, &rules)
		if d := cmp.Diff([]any{"Tri-state", "NY, NJ, CT", map[string]any{"any": []any{map[string]any{"tag": "volunteer"}}}},
			[]any{got.Name, got.Description, rules}); d != "" {
			t.Errorf("updated segment (-want +got):\n%s", d)
		}
		if err := s.UpdateSegment(ctx, &store.Segment{ID: id, Name: "Taken", Rules: json.RawMessage(`{"all": []}`)}); errs.CodeOf(err) != errs.Conflict {
			t.Errorf("a name taken: %v, want a conflict", err)
		}
		if again, _ := s.GetSegment(ctx, id); again.Name != "Tri-state" {
			t.Errorf("the refused update renamed the segment to %q", again.Name)
		}
		if err := s.UpdateSegment(ctx, &store.Segment{ID: id + 100, Name: "Nobody", Rules: json.RawMessage(`{"all": []}`)}); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("an id naming nothing: %v, want not found", err)
		}

		c := &store.Contact{Email: "jane@example.org"}
		if err := s.CreateContact(ctx, c); err != nil {
			t.Fatal(err)
		}
		if err := s.AddContactTags(ctx, c.ID, []string{"volunteer", "donor"}); err != nil {
			t.Fatal(err)
		}
		if names, err := s.TagNames(ctx); err != nil || !cmp.Equal(names, []string{"donor", "volunteer"}) {
			t.Errorf("tag names %q (%v), want donor, volunteer", names, err)
		}
	})
}
