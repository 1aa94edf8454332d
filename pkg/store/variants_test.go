package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// abFixture is a list of n contacts and a message to send them.
type abFixture struct {
	s        *store.Store
	list     int64
	message  int64
	contacts []int64
}

func mustABFixture(tb testing.TB, s *store.Store, n int) abFixture {
	tb.Helper()
	ctx := context.Background()
	f := abFixture{s: s, message: mustMessage(tb, s)}
	for i := range n {
		c := &store.Contact{Email: fmt.Sprintf("ab%03d-%s@example.org", i, testenv.Random(3))}
		if err := s.CreateContact(ctx, c); err != nil {
			tb.Fatal(err)
		}
		f.contacts = append(f.contacts, c.ID)
	}
	f.list = mustList(tb, s, "ab-"+testenv.Random(4), f.contacts)
	return f
}

// create makes a draft A/B campaign of the fixture with k subject variants.
func (f abFixture) create(tb testing.TB, k int, ab store.ABTest) *store.Campaign {
	tb.Helper()
	vs := make([]store.Variant, k)
	for i := range vs {
		vs[i].Subject = fmt.Sprintf("Subject %c", 'A'+i)
	}
	c := &store.Campaign{Name: "ab", MessageID: f.message, Audience: store.Audience{Lists: []int64{f.list}}, AB: ab}
	if err := f.s.CreateCampaign(context.Background(), c, vs...); err != nil {
		tb.Fatal(err)
	}
	return c
}

// campaign creates and starts an A/B campaign of the fixture with k subject variants.
func (f abFixture) campaign(tb testing.TB, k int, ab store.ABTest) *store.Campaign {
	tb.Helper()
	ctx := context.Background()
	c := f.create(tb, k, ab)
	if _, err := f.s.StartCampaign(ctx, c.ID); err != nil {
		tb.Fatal(err)
	}
	c, err := f.s.GetCampaign(ctx, c.ID)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// mustLedger returns every ledger row of a campaign.
func mustLedger(tb testing.TB, s *store.Store, campaignID int64) []store.Send {
	tb.Helper()
	var all []store.Send
	for after := int64(0); ; {
		page, err := s.LedgerPage(context.Background(), campaignID, after, 37)
		if err != nil {
			tb.Fatal(err)
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		after = page[len(page)-1].ID
	}
}

// split maps each contact of a campaign's ledger to its variant's label,
// "held" for a held row.
func split(tb testing.TB, s *store.Store, campaignID int64) map[int64]string {
	tb.Helper()
	vs, err := s.Variants(context.Background(), campaignID)
	if err != nil {
		tb.Fatal(err)
	}
	label := map[int64]string{}
	for _, v := range vs {
		label[v.ID] = v.Label
	}
	out := map[int64]string{}
	for _, r := range mustLedger(tb, s, campaignID) {
		switch {
		case r.Status == store.SendHeld && r.VariantID == nil:
			out[r.ContactID] = "held"
		case r.Status == store.SendQueued && r.VariantID != nil:
			out[r.ContactID] = label[*r.VariantID]
		default:
			tb.Fatalf("ledger row %+v: want held without a variant or queued with one", r)
		}
	}
	return out
}

// TestABSplit: the test share (rounded up) is dealt evenly to the variants
// and the rest is held; the same audience and seed give the same split;
// another seed tests other people.
func TestABSplit(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		f := mustABFixture(t, s, 103)
		seed := int64(42)
		ab := store.ABTest{Share: 30, Metric: store.MetricClicks, WaitSeconds: 60, Seed: &seed}
		first := f.campaign(t, 3, ab)
		if first.AB.Phase != store.ABTesting {
			t.Errorf("phase %q, want %q", first.AB.Phase, store.ABTesting)
		}
		got := split(t, s, first.ID)
		counts := map[string]int{}
		for _, l := range got {
			counts[l]++
		}
		// 30% of 103 is 30.9: 31 in the test, 11 + 10 + 10.
		if diff := cmp.Diff(map[string]int{"A": 11, "B": 10, "C": 10, "held": 72}, counts); diff != "" {
			t.Errorf("split (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(got, split(t, s, f.campaign(t, 3, ab).ID)); diff != "" {
			t.Errorf("a second campaign with the same audience and seed split differently (-first +second):\n%s", diff)
		}
		// The test is spread over the audience, not its first contacts.
		firstThird := 0
		for _, id := range f.contacts[:34] {
			if got[id] != "held" {
				firstThird++
			}
		}
		if firstThird == 31 || firstThird == 0 {
			t.Errorf("%d of the 31 in the test are among the first 34 contacts: the order follows the ids", firstThird)
		}
		other := split(t, s, f.campaign(t, 3, store.ABTest{Share: 30, Metric: store.MetricClicks, WaitSeconds: 60}).ID)
		same := 0
		for id, l := range got {
			if l != "held" && other[id] == l {
				same++
			}
		}
		if same == 31 {
			t.Error("the default seed (the campaign's id) gave the same test group as seed 42")
		}

		// A share of 100 is a plain split: everyone queued, no winner phase.
		all := f.campaign(t, 2, store.ABTest{Share: 100})
		counts = map[string]int{}
		for _, l := range split(t, s, all.ID) {
			counts[l]++
		}
		if diff := cmp.Diff(map[string]int{"A": 52, "B": 51}, counts); diff != "" || all.AB.Phase != store.ABSplit {
			t.Errorf("share 100: phase %q, split (-want +got):\n%s", all.AB.Phase, diff)
		}
	})
}

// TestABWinner: the campaign is not finished while rows are held; the winner
// by human clicks is chosen, once; the held rows move to it page by page.
func TestABWinner(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		ctx := context.Background()
		f := mustABFixture(t, s, 40)
		c := f.campaign(t, 2, store.ABTest{Share: 50, Metric: store.MetricClicks, WaitSeconds: 60})
		vs, err := s.Variants(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		byVariant := map[int64][]store.Send{}
		for _, r := range mustLedger(t, s, c.ID) {
			if r.VariantID == nil {
				continue
			}
			byVariant[*r.VariantID] = append(byVariant[*r.VariantID], r)
			if err := s.RecordOutcome(ctx, r.ID, store.SendSent, "250 ok", true); err != nil {
				t.Fatal(err)
			}
		}
		if done, err := s.FinishIfDone(ctx, c.ID); err != nil || done {
			t.Fatalf("finished with the rest held: %v, %v", done, err)
		}
		a, b := byVariant[vs[0].ID], byVariant[vs[1].ID]
		click := func(r store.Send, machine bool) {
			t.Helper()
			if err := s.InsertEvent(ctx, &store.Event{Kind: store.EventClick, CampaignID: c.ID, SendID: r.ID, ContactID: r.ContactID, Machine: machine}); err != nil {
				t.Fatal(err)
			}
		}
		// A has more clicks, but a link scanner's; B has two people's, one of them twice.
		for _, r := range a[:5] {
			click(r, true)
		}
		click(b[0], false)
		click(b[0], false)
		click(b[1], false)
		stats, err := s.CampaignVariantStats(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stats[1].Clicks != 2 || stats[1].Delivered != 10 || stats[1].ClickRate != 0.2 || stats[0].Clicks != 0 {
			t.Errorf("stats = %+v, want B with 2 unique human clicks of 10 delivered and A with none", stats)
		}
		w, err := s.DecideWinner(ctx, c.ID, "")
		if err != nil || w.Label != "B" {
			t.Fatalf("winner %+v, %v; want B", w, err)
		}
		if _, err := s.DecideWinner(ctx, c.ID, "A"); errs.CodeOf(err) != errs.Conflict {
			t.Errorf("second decision: %v, want a conflict", err)
		}
		moved, err := s.ReleaseHeld(ctx, c.ID, 3, 0)
		if err != nil || moved != 20 {
			t.Fatalf("released %d, %v; want 20", moved, err)
		}
		for _, r := range mustLedger(t, s, c.ID) {
			if r.Status == store.SendQueued && (r.VariantID == nil || *r.VariantID != w.ID) {
				t.Errorf("released row %+v is not B's", r)
			}
			if r.Status == store.SendHeld {
				t.Errorf("row %d still held", r.ID)
			}
		}
		if done, _ := s.FinishIfDone(ctx, c.ID); done {
			t.Error("finished before the winner was sent to the rest")
		}
	})
}

// TestABWinnerTiesAndActions: with no difference the lowest label wins; by
// actions, signatures brought by a variant's messages count.
func TestABWinnerTiesAndActions(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		ctx := context.Background()
		f := mustABFixture(t, s, 12)
		tie := f.campaign(t, 3, store.ABTest{Share: 50, Metric: store.MetricOpens, WaitSeconds: 60})
		if w, err := s.DecideWinner(ctx, tie.ID, ""); err != nil || w.Label != "A" {
			t.Errorf("tie: winner %+v, %v; want A", w, err)
		}
		byActions := f.campaign(t, 2, store.ABTest{Share: 100, Metric: store.MetricActions})
		if _, err := s.DecideWinner(ctx, byActions.ID, "A"); errs.CodeOf(err) != errs.Conflict {
			t.Errorf("winner of a plain split: %v, want a conflict", err)
		}
		c := f.campaign(t, 2, store.ABTest{Share: 50, Metric: store.MetricActions, WaitSeconds: 60})
		p := mustPetition(t, s, "ab-"+testenv.Random(4))
		vs, _ := s.Variants(ctx, c.ID)
		for _, r := range mustLedger(t, s, c.ID) {
			if r.VariantID == nil {
				continue
			}
			if err := s.RecordOutcome(ctx, r.ID, store.SendSent, "250 ok", true); err != nil {
				t.Fatal(err)
			}
			if *r.VariantID == vs[1].ID {
				if _, err := s.Sign(ctx, p.ID, r.ContactID, store.Attribution{CampaignID: c.ID, SendID: r.ID}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if w, err := s.DecideWinner(ctx, c.ID, ""); err != nil || w.Label != "B" {
			t.Errorf("by actions: winner %+v, %v; want B", w, err)
		}
	})
}

// TestABCancelSkipsHeld: cancelling during the test skips the held rows too.
func TestABCancelSkipsHeld(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		ctx := context.Background()
		f := mustABFixture(t, s, 10)
		c := f.campaign(t, 2, store.ABTest{Share: 20, Metric: store.MetricOpens, WaitSeconds: 60})
		if n, err := s.CancelCampaign(ctx, c.ID); err != nil || n != 10 {
			t.Fatalf("cancel skipped %d, %v; want 10", n, err)
		}
		if _, err := s.DecideWinner(ctx, c.ID, ""); errs.CodeOf(err) != errs.Conflict {
			t.Errorf("winner of a cancelled campaign: %v, want a conflict", err)
		}
	})
}

// TestABBadInput: each bad setting is refused naming its field, and nothing is written.
func TestABBadInput(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		ctx := context.Background()
		f := mustABFixture(t, s, 1)
		subjects := func(n int) []store.Variant {
			vs := make([]store.Variant, n)
			for i := range vs {
				vs[i].Subject = "s"
			}
			return vs
		}
		missing := int64(999999)
		good := store.ABTest{Share: 20, Metric: store.MetricClicks, WaitSeconds: 3600}
		with := func(change func(*store.ABTest)) store.ABTest { ab := good; change(&ab); return ab }
		for _, tt := range []struct {
			name     string
			ab       store.ABTest
			variants []store.Variant
			field    string
		}{
			{"five variants", good, subjects(5), "variants"},
			{"one variant", good, subjects(1), "variants"},
			{"settings without variants", good, nil, "variants"},
			{"empty variant", good, append(subjects(1), store.Variant{}), "variants[1]"},
			{"unknown message", good, append(subjects(1), store.Variant{MessageID: &missing}), "variants[1].message_id"},
			{"share 0", with(func(ab *store.ABTest) { ab.Share = 0 }), subjects(2), "ab_test.share"},
			{"share 101", with(func(ab *store.ABTest) { ab.Share = 101 }), subjects(2), "ab_test.share"},
			{"unknown metric", with(func(ab *store.ABTest) { ab.Metric = "likes" }), subjects(2), "ab_test.metric"},
			{"no wait", with(func(ab *store.ABTest) { ab.WaitSeconds = 0 }), subjects(2), "ab_test.wait"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				c := &store.Campaign{Name: "bad", MessageID: f.message, Audience: store.Audience{Lists: []int64{f.list}}, AB: tt.ab}
				err := s.CreateCampaign(ctx, c, tt.variants...)
				if e, ok := errs.As(err); !ok || e.Code != errs.Invalid || e.Field != tt.field {
					t.Errorf("got %v, want invalid %s", err, tt.field)
				}
			})
		}
		if cs, err := s.ListCampaigns(ctx); err != nil || len(cs) != 0 {
			t.Errorf("%d campaigns written by refused input (%v)", len(cs), err)
		}
	})
}
