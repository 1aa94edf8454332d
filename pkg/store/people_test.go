package store_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestEraseContact erases a person who is on a list, tagged, signed a
// petition and a letter, was sent a campaign and opened it: what identifies
// them is gone, the campaign's and the petition's counts are not, the
// export finds nothing, and the address, stored again by the API's path or
// a petition's, is not in any audience.
func TestEraseContact(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		ctx, now := context.Background(), time.Now()
		jane := &store.Contact{Email: "Jane@Example.org", FirstName: "Jane", LastName: "Okafor", Region: "NY",
			Attributes: map[string]any{"donor": true}}
		lin := &store.Contact{Email: "lin@example.org", FirstName: "Lin"}
		for _, c := range []*store.Contact{jane, lin} {
			if err := s.CreateContact(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.AddContactTags(ctx, jane.ID, []string{"volunteer"}); err != nil {
			t.Fatal(err)
		}
		listID := mustList(t, s, "members", []int64{jane.ID, lin.ID})
		p := mustPetition(t, s, "river-"+testenv.Random(3))
		letter := &store.Petition{Slug: "letter-" + testenv.Random(3), Title: "Letter", Kind: store.PetitionKindLetter, Open: true}
		if err := s.CreatePetition(ctx, letter); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SignLetter(ctx, &store.OrganizationSignature{PetitionID: letter.ID, Organization: "River Friends",
			ContactName: "Jane Okafor", Email: "jane@example.org"}); err != nil {
			t.Fatal(err)
		}
		c := &store.Campaign{Name: "alert", MessageID: mustMessage(t, s), Audience: store.Audience{Lists: []int64{listID}}}
		if err := s.CreateCampaign(ctx, c); err != nil {
			t.Fatal(err)
		}
		if _, err := s.StartCampaign(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		rs, err := s.PendingRecipients(ctx, c.ID, 0, 1<<62)
		if err != nil {
			t.Fatal(err)
		}
		var janeSend int64
		for _, r := range rs {
			if r.ContactID == jane.ID {
				janeSend = r.SendID
				if err := s.RecordOutcome(ctx, r.SendID, store.SendSent, "250 ok <jane@example.org>", true); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := s.InsertEvents(ctx, []store.Event{{Kind: store.EventOpen, CampaignID: c.ID, SendID: janeSend, ContactID: jane.ID,
			UserAgent: "Jane's phone", CreatedAt: now}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Sign(ctx, p.ID, jane.ID, store.Attribution{CampaignID: c.ID, SendID: janeSend, Comment: "For my kids", City: "Albany", ShowName: true}); err != nil {
			t.Fatal(err)
		}

		rec, err := s.PersonData(ctx, jane.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(rec.Lists) != 1 || len(rec.Tags) != 1 || len(rec.Signatures) != 1 || len(rec.Letters) != 1 ||
			len(rec.Sends) != 1 || len(rec.Events) != 1 || rec.Sends[0].Campaign != "alert" {
			t.Fatalf("the export before erasing: %+v", rec)
		}
		before, err := s.Stats(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}

		if err := s.EraseContact(ctx, jane.ID, now); err != nil {
			t.Fatal(err)
		}
		if err := s.EraseContact(ctx, jane.ID, now); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("erasing twice: %v, want not found", err)
		}
		if err := s.EraseContact(ctx, 1<<40, now); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("erasing an unknown id: %v, want not found", err)
		}
		if _, err := s.GetContact(ctx, jane.ID); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("reading the erased contact: %v, want not found", err)
		}
		if _, err := s.PersonData(ctx, jane.ID); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("exporting the erased contact: %v, want not found", err)
		}
		after, err := s.Stats(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(before, after); diff != "" {
			t.Errorf("the campaign's counts changed (-before +after):\n%s", diff)
		}
		if n, err := s.CountSignatures(ctx, p.ID); err != nil || n != 1 {
			t.Errorf("the petition counts %d, %v; want 1", n, err)
		}
		if rows, err := s.SignaturePage(ctx, p.ID, 0, 10); err != nil || len(rows) != 0 {
			t.Errorf("the signatures delivered: %+v, %v; want none", rows, err)
		}
		if all, err := s.SearchContacts(ctx, store.ContactQuery{Limit: 10}); err != nil || len(all) != 1 || all[0].ID != lin.ID {
			t.Errorf("contacts after erasing: %+v, %v; want Lin alone", all, err)
		}
		if n, err := s.CountContacts(ctx); err != nil || n != 1 {
			t.Errorf("counted %d contacts, %v; want 1", n, err)
		}
		var left []string
		if err := s.Query(ctx, &left, `SELECT email || '|' || first_name || '|' || region || '|' || status FROM contacts WHERE id = ?
			UNION ALL SELECT email || '|' || last_reply FROM sends WHERE contact_id = ?
			UNION ALL SELECT user_agent FROM events WHERE contact_id = ?
			UNION ALL SELECT comment || '|' || city FROM signatures WHERE contact_id = ?
			UNION ALL SELECT contact_name || '|' || email FROM organization_signatures WHERE petition_id = ?`,
			jane.ID, jane.ID, jane.ID, jane.ID, letter.ID); err != nil {
			t.Fatal(err)
		}
		want := []string{"erased:" + strconv.FormatInt(jane.ID, 10) + "||" + "|erased", "|", "", "|", "|erased:" + strconv.FormatInt(jane.ID, 10)}
		if diff := cmp.Diff(want, left); diff != "" {
			t.Errorf("what is left of Jane (-want +got):\n%s", diff)
		}
		sups, err := s.SuppressionsOf(ctx, "JANE@example.org")
		if err != nil || len(sups) != 1 || sups[0].Reason != store.ErasedReason {
			t.Fatalf("the suppression left: %+v, %v", sups, err)
		}

		// An old message's links do nothing more: no event, no suppression without an address.
		if refs, err := s.SendRefs(ctx, []int64{janeSend}); err != nil || len(refs) != 0 {
			t.Errorf("the erased person's send, looked up for an event: %v, %v; want none", refs, err)
		}
		if ev, err := s.Unsubscribe(ctx, store.Unsubscription{SendID: janeSend, UserAgent: "Jane's phone"}); err != nil || ev != nil {
			t.Errorf("unsubscribing through an old message: %+v, %v; want nothing done", ev, err)
		}
		if all, err := s.ListSuppressions(ctx, 0, 10); err != nil || len(all) != 1 {
			t.Errorf("suppressions: %+v, %v; want the erasure's alone", all, err)
		}

		// Stored again, as the API creates a contact and as a petition signs one up.
		again := &store.Contact{Email: "jane@EXAMPLE.org", FirstName: "Jane"}
		if err := s.CreateContact(ctx, again); err != nil {
			t.Fatal(err)
		}
		if err := s.AddListMembers(ctx, listID, []int64{again.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpsertSigner(ctx, store.Signer{Email: "jane@example.org", FirstName: "Jane", OptIn: true}); err != nil {
			t.Fatal(err)
		}
		if n, err := s.CountAudience(ctx, store.Audience{Lists: []int64{listID}}, nil); err != nil || n != 1 {
			t.Errorf("the list's audience after Jane came back: %d, %v; want Lin alone", n, err)
		}
	})
}
