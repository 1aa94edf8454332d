package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Kinds of a report of the mail system, as a bounce_events row keeps them.
const (
	ReportHard      = "hard"      // the address does not work: suppressed
	ReportSoft      = "soft"      // a temporary failure: suppressed after too many
	ReportBlock     = "block"     // refused for the sender's sake: never suppresses
	ReportComplaint = "complaint" // marked as spam: suppressed
)

// ReportKinds lists the kinds in the order reports show them.
var ReportKinds = []string{ReportHard, ReportSoft, ReportBlock, ReportComplaint}

// BounceEvent is one report of the mail system about one send, after it
// was matched. EventID is unique: the same report taken twice is one row.
type BounceEvent struct {
	bun.BaseModel `bun:"table:bounce_events"`
	ID            int64     `bun:"id,pk,autoincrement" json:"id"`
	EventID       string    `bun:"event_id" json:"event_id"`
	Source        string    `bun:"source" json:"source"` // "inbound", "api", "ses", ...
	Kind          string    `bun:"kind" json:"kind"`     // one of ReportKinds
	Reason        string    `bun:"reason" json:"reason"`
	Status        string    `bun:"status" json:"status"`
	Diagnostic    string    `bun:"diagnostic" json:"diagnostic"` // the report's own words
	EmailKey      string    `bun:"email_key" json:"-"`
	CampaignID    int64     `bun:"campaign_id" json:"campaign_id"`
	SendID        int64     `bun:"send_id" json:"send_id"`
	ContactID     int64     `bun:"contact_id" json:"contact_id"`
	Relay         string    `bun:"relay" json:"relay,omitempty"`
	MatchedBy     string    `bun:"matched_by" json:"matched_by"` // "token", "message_id" or "address"
	ReportedAt    time.Time `bun:"reported_at" json:"reported_at"`
	CreatedAt     time.Time `bun:"created_at" json:"created_at"`
}

// SoftLimit suppresses an address after Count soft bounces within Window;
// a zero Count never does.
type SoftLimit struct {
	Count  int
	Window time.Duration
}

// Taken is what taking one report did.
type Taken struct {
	Duplicate  bool // the same event was taken before: nothing changed
	Suppressed bool // the contact was marked and its address suppressed now
}

// complainedReason starts the reason of every suppression a complaint made.
const complainedReason = "complained: "

// TakeBounceEvent records a report about send e.SendID and acts on it, in
// one transaction: a hard bounce marks the contact bounced and suppresses
// its address (as a refusal at send time does); a soft one does so once the
// address has soft.Count soft bounces within soft.Window; a complaint marks
// the contact complained, suppresses the address and counts a complaint
// event on the campaign; a block changes nothing but the count. The send's
// campaign, contact, address and relay are read from the ledger. An event
// whose EventID was taken before changes nothing.
func (s *Store) TakeBounceEvent(ctx context.Context, e *BounceEvent, soft SoftLimit) (Taken, error) {
	var t Taken
	now := time.Now().UTC()
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		t = Taken{}
		var snd Send
		if err := tx.NewSelect().Model(&snd).Where("id = ?", e.SendID).Scan(ctx); err != nil {
			return notFound(err, "send", e.SendID)
		}
		e.CampaignID, e.ContactID, e.EmailKey, e.Relay, e.CreatedAt = snd.CampaignID, snd.ContactID, EmailKey(snd.Email), snd.Relay, now
		if e.ReportedAt.IsZero() {
			e.ReportedAt = now
		}
		res, err := tx.NewInsert().Model(e).On("CONFLICT (event_id) DO NOTHING").Returning("NULL").Exec(ctx)
		if err != nil {
			return fmt.Errorf("record report %s: %w", e.EventID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			t.Duplicate = true
			return nil
		}
		switch e.Kind {
		case ReportHard:
			t.Suppressed, err = s.suppressContact(ctx, tx, snd, ContactBounced, bouncedReason+e.Diagnostic, now)
		case ReportSoft:
			if soft.Count <= 0 {
				return nil
			}
			var n int64
			if n, err = tx.NewSelect().Model((*BounceEvent)(nil)).Where("email_key = ? AND kind = ? AND reported_at >= ?",
				e.EmailKey, ReportSoft, e.ReportedAt.Add(-soft.Window)).Count(ctx); err != nil {
				return fmt.Errorf("count soft bounces: %w", err)
			}
			if n >= int64(soft.Count) {
				reason := fmt.Sprintf("%s%d soft bounces in %s: %s", bouncedReason, n, soft.Window, e.Diagnostic)
				t.Suppressed, err = s.suppressContact(ctx, tx, snd, ContactBounced, reason, now)
			}
		case ReportComplaint:
			if t.Suppressed, err = s.suppressContact(ctx, tx, snd, ContactComplained, complainedReason+e.Source, now); err != nil {
				return err
			}
			_, err = tx.NewInsert().Model(&Event{Kind: EventComplaint, CampaignID: snd.CampaignID, SendID: snd.ID,
				ContactID: snd.ContactID, Reason: e.Source + ": " + e.Diagnostic, CreatedAt: now}).Exec(ctx)
		}
		return err
	})
	return t, err
}

// suppressContact marks the contact of snd with status (bounced or
// complained) and suppresses its address with reason; it reports whether
// the contact's status changed. A complained contact stays complained.
func (s *Store) suppressContact(ctx context.Context, tx bun.IDB, snd Send, status, reason string, now time.Time) (bool, error) {
	res, err := tx.NewUpdate().Model((*Contact)(nil)).Set("status = ?", status).Set("updated_at = ?", now).
		Where("id = ? AND status NOT IN (?)", snd.ContactID, bun.List([]string{status, ContactComplained, ContactErased})).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("mark contact %d %s: %w", snd.ContactID, status, err)
	}
	if snd.Email == "" { // an erased person: the erasure suppressed the address
		return false, nil
	}
	if _, err := tx.NewInsert().Model(&Suppression{Email: snd.Email, Reason: reason, CreatedAt: now}).
		On("CONFLICT (email_key) DO NOTHING").Exec(ctx); err != nil {
		return false, fmt.Errorf("suppress the address of contact %d: %w", snd.ContactID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// LastSendTo returns the newest ledger row of the contact whose address is
// email, in any letter case.
func (s *Store) LastSendTo(ctx context.Context, email string) (*Send, error) {
	var snd Send
	err := s.db.NewSelect().Model(&snd).
		Where("contact_id = (?)", s.db.NewSelect().Model((*Contact)(nil)).Column("id").Where("email_key = ?", EmailKey(email))).
		OrderExpr("id DESC").Limit(1).Scan(ctx)
	if err != nil {
		return nil, notFound(err, "send to", email)
	}
	return &snd, nil
}
