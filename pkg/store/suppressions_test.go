package store_test

import (
	"context"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestDomainSuppression checks that an "@domain" entry keeps every address of
// that exact domain out of a campaign's snapshot, and that an entry added
// after the snapshot still stops the send (PendingRecipients).
func TestDomainSuppression(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		ctx := context.Background()
		emails := []string{"a@keep.example", "b@blocked.example", "c@blocked.example", "d@keep.example", "e@sub.blocked.example"}
		var cs []store.Contact
		for _, e := range emails {
			cs = append(cs, store.Contact{Email: e})
		}
		if _, err := s.InsertContacts(ctx, cs); err != nil {
			t.Fatal(err)
		}
		added, err := s.AddSuppressions(ctx, []store.Suppression{{Email: "@blocked.example", Reason: "r"}, {Email: "d@keep.example", Reason: "r"}, {Email: "@blocked.example", Reason: "again"}})
		if err != nil || added != 2 {
			t.Fatalf("added %d, %v; want 2", added, err)
		}
		all, err := s.ListContacts(ctx, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		l := &store.List{Name: "all"}
		if err := s.CreateList(ctx, l); err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, c := range all {
			ids = append(ids, c.ID)
		}
		if err := s.AddListMembers(ctx, l.ID, ids); err != nil {
			t.Fatal(err)
		}
		msg := &store.Message{Name: "m", Subject: "s", FromName: "f", FromEmail: "f@example.org", HTML: "<p>hi</p>"}
		if err := s.CreateMessage(ctx, msg); err != nil {
			t.Fatal(err)
		}
		c := &store.Campaign{Name: "c", MessageID: msg.ID, Audience: store.Audience{Lists: []int64{l.ID}}}
		if err := s.CreateCampaign(ctx, c); err != nil {
			t.Fatal(err)
		}
		if _, err := s.StartCampaign(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddSuppressions(ctx, []store.Suppression{{Email: "@keep.example", Reason: "after the snapshot"}}); err != nil {
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
		got := map[string]bool{}
		for _, r := range rs {
			got[r.Email] = r.Mailable()
		}
		want := map[string]bool{"a@keep.example": false, "e@sub.blocked.example": true}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("snapshot: email -> mailable (-want +got):\n%s", diff)
		}
		for email, want := range map[string]bool{"c@blocked.example": true, "x@keep.example": true, "e@sub.blocked.example": false} {
			if sup, err := s.IsSuppressed(ctx, email); err != nil || sup != want {
				t.Errorf("IsSuppressed(%s) = %v, %v; want %v", email, sup, err, want)
			}
		}

		sups, err := s.ListSuppressions(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var entries []string
		for _, sp := range sups {
			entries = append(entries, sp.Email)
		}
		sort.Strings(entries)
		if diff := cmp.Diff([]string{"@blocked.example", "@keep.example", "d@keep.example"}, entries); diff != "" {
			t.Errorf("entries (-want +got):\n%s", diff)
		}
		if err := s.DeleteSuppression(ctx, sups[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteSuppression(ctx, sups[0].ID); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("second delete: got %v, want not found", err)
		}
	})
}
