package store

import (
	"context"
	"fmt"
	"time"
)

// SignerClick records that the recipient of send clicked linkID as a person,
// unless a person's click of that link is already recorded for the send. A
// signature through an action link proves the click: the visit of the page
// may have been counted as a link scanner's (too soon after delivery, or an
// unusual browser) or dropped from a full tracking buffer.
func (s *Store) SignerClick(ctx context.Context, snd *Send, linkID int64, userAgent string, at time.Time) error {
	if _, err := s.db.NewRaw("INSERT INTO events (kind, campaign_id, send_id, contact_id, link_id, user_agent, created_at, machine) "+
		"SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM events WHERE send_id = ? AND link_id = ? AND kind = ? AND machine = ?)",
		EventClick, snd.CampaignID, snd.ID, snd.ContactID, linkID, userAgent, at.UTC(), false,
		snd.ID, linkID, EventClick, false).Exec(ctx); err != nil {
		return fmt.Errorf("record the click of signer's send %d: %w", snd.ID, err)
	}
	return nil
}
