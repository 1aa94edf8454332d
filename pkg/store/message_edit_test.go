package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestUpdateMessage saves over a draft's message, and refuses once a
// campaign using it is scheduled: what recipients get must not change.
func TestUpdateMessage(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := mustOpen(t, dsn)
		m := &store.Message{Name: "alert", Subject: "Act now", FromEmail: "a@example.org", HTML: "<p>one</p>"}
		if err := s.CreateMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		l := &store.List{Name: "all"}
		if err := s.CreateList(ctx, l); err != nil {
			t.Fatal(err)
		}
		c := &store.Campaign{Name: "c", MessageID: m.ID, Audience: store.Audience{Lists: []int64{l.ID}}}
		if err := s.CreateCampaign(ctx, c); err != nil {
			t.Fatal(err)
		}
		m.HTML = "<p>two</p>"
		if err := s.UpdateMessage(ctx, m); err != nil {
			t.Fatalf("update while the campaign is a draft: %v", err)
		}
		if got, _ := s.GetMessage(ctx, m.ID); got == nil || got.HTML != "<p>two</p>" {
			t.Fatalf("after the update: %+v", got)
		}
		if err := s.ScheduleCampaign(ctx, c.ID, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		m.HTML = "<p>three</p>"
		if err := s.UpdateMessage(ctx, m); errs.CodeOf(err) != errs.Conflict {
			t.Errorf("update after scheduling: %v, want a conflict", err)
		}
		if got, _ := s.GetMessage(ctx, m.ID); got.HTML != "<p>two</p>" {
			t.Errorf("a refused update changed the message: %q", got.HTML)
		}
		if err := s.UpdateMessage(ctx, &store.Message{ID: m.ID + 100}); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("update of a message that does not exist: %v, want not found", err)
		}
	})
}
