package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestExtendLease: a waiting row's lease moves; once its outcome is written
// the row is left alone.
func TestExtendLease(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		ctx := context.Background()
		c, _ := mustStarted(t, s, nil, "ada")
		r := mustPending(t, s, c.ID)[0]
		until := time.Now().Add(time.Hour)
		if ok, err := s.ExtendLease(ctx, r.SendID, until); err != nil || !ok {
			t.Fatalf("extend a waiting row: %v, %v", ok, err)
		}
		if claim, err := s.ClaimRecipients(ctx, c.ID, r.SendID, r.SendID, 1, time.Minute, time.Now()); err != nil || len(claim.Recipients) != 0 {
			t.Errorf("claimed a row under an extended lease: %+v, %v", claim, err)
		}
		if err := s.RecordOutcome(ctx, r.SendID, store.SendSent, "250 ok", true); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.ExtendLease(ctx, r.SendID, until); err != nil || ok {
			t.Errorf("extend a sent row: %v, %v; want false", ok, err)
		}
	})
}

// TestResendUnknown: unknown rows wait again and a finished campaign sends
// again; a draft is a conflict.
func TestResendUnknown(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		ctx := context.Background()
		c, _ := mustStarted(t, s, nil, "ada", "bob")
		rs := mustPending(t, s, c.ID)
		if err := s.RecordOutcome(ctx, rs[0].SendID, store.SendUnknown, "no reply", true); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordOutcome(ctx, rs[1].SendID, store.SendSent, "250 ok", true); err != nil {
			t.Fatal(err)
		}
		if done, err := s.FinishIfDone(ctx, c.ID); err != nil || !done {
			t.Fatalf("a campaign of sent and unknown rows finishes: %v, %v", done, err)
		}
		if n, err := s.ResendUnknown(ctx, c.ID); err != nil || n != 1 {
			t.Fatalf("resend unknown: %d, %v; want 1", n, err)
		}
		if got, _ := s.GetCampaign(ctx, c.ID); got.Status != store.CampaignSending {
			t.Errorf("campaign is %s, want sending again", got.Status)
		}
		if p := mustPending(t, s, c.ID); len(p) != 1 || p[0].SendID != rs[0].SendID {
			t.Errorf("waiting %+v, want the unknown row only", p)
		}
		draft := &store.Campaign{Name: "d", MessageID: c.MessageID, Audience: c.Audience}
		if err := s.CreateCampaign(ctx, draft); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ResendUnknown(ctx, draft.ID); errs.CodeOf(err) != errs.Conflict {
			t.Errorf("resend unknown of a draft: %v, want a conflict", err)
		}
	})
}

// TestLiftBounceLeavesOtherSuppressions: a bounced contact whose address is
// also suppressed for another reason (an import of do-not-mail) is not
// lifted, and nothing changes.
func TestLiftBounceLeavesOtherSuppressions(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		ctx := context.Background()
		c := &store.Contact{Email: "gone@example.org", Status: store.ContactBounced}
		if err := s.CreateContact(ctx, c); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddSuppressions(ctx, []store.Suppression{{Email: c.Email, Reason: "imported: do not mail"}}); err != nil {
			t.Fatal(err)
		}
		if err := s.LiftBounce(ctx, c.ID); errs.CodeOf(err) != errs.Conflict {
			t.Errorf("lift: %v, want a conflict", err)
		}
		if ok, _ := s.IsSuppressed(ctx, c.Email); !ok {
			t.Error("the import's suppression was removed")
		}
		if got, _ := s.GetContact(ctx, c.ID); got.Status != store.ContactBounced {
			t.Errorf("contact is %s, want still bounced", got.Status)
		}
	})
}
