package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

// Frequencies a contact can choose.
const (
	FrequencyAll    = "all"    // every campaign
	FrequencyWeekly = "weekly" // "fewer emails": at most one in FrequencyWindow
)

// FrequencyWindow is the span of the weekly frequency cap.
const FrequencyWindow = 7 * 24 * time.Hour

// Topic is a kind of email organizers send (action alerts, newsletter, events);
// a contact may opt out of any of them.
type Topic struct {
	bun.BaseModel `bun:"table:topics"`
	ID            int64     `bun:"id,pk,autoincrement" json:"id"`
	Name          string    `bun:"name" json:"name"`
	Description   string    `bun:"description" json:"description"`
	CreatedAt     time.Time `bun:"created_at" json:"created_at"`
}

// ContactPreferences are a contact's choices; a contact without a row has the defaults.
type ContactPreferences struct {
	bun.BaseModel `bun:"table:contact_preferences"`
	ContactID     int64      `bun:"contact_id,pk" json:"contact_id"`
	Frequency     string     `bun:"frequency" json:"frequency"`
	PausedUntil   *time.Time `bun:"paused_until" json:"paused_until,omitempty"`
	UpdatedAt     time.Time  `bun:"updated_at" json:"updated_at"`
}

type topicOptout struct {
	bun.BaseModel `bun:"table:topic_optouts"`
	ContactID     int64     `bun:"contact_id,pk"`
	TopicID       int64     `bun:"topic_id,pk"`
	CreatedAt     time.Time `bun:"created_at"`
}

// applyPreferences narrows an audience query over "contacts AS c" to the
// contacts who, at now, want a campaign of topic (nil: no topic): not opted out
// of the topic, not paused, and not over their frequency cap. StartCampaign's
// snapshot and the audience count call it, so the count shown before sending is
// the number sent to.
func applyPreferences(q *bun.SelectQuery, topicID *int64, now time.Time) *bun.SelectQuery {
	if topicID != nil {
		optedOut := q.NewSelect().TableExpr("topic_optouts AS tp").ColumnExpr("1").
			Where("tp.contact_id = c.id").Where("tp.topic_id = ?", *topicID)
		q = q.Where("NOT EXISTS (?)", optedOut)
	}
	recent := q.NewSelect().TableExpr("sends AS rs").ColumnExpr("1").
		Where("rs.contact_id = c.id").Where("rs.sent_at > ?", now.Add(-FrequencyWindow))
	held := q.NewSelect().TableExpr("contact_preferences AS cp").ColumnExpr("1").
		Where("cp.contact_id = c.id").
		WhereGroup(" AND ", func(g *bun.SelectQuery) *bun.SelectQuery {
			return g.Where("cp.paused_until > ?", now).
				WhereOr("cp.frequency = ? AND EXISTS (?)", FrequencyWeekly, recent)
		})
	return q.Where("NOT EXISTS (?)", held)
}

// CreateTopic inserts t; a name already used is a conflict.
func (s *Store) CreateTopic(ctx context.Context, t *Topic) error {
	t.CreatedAt = time.Now().UTC()
	if _, err := s.db.NewInsert().Model(t).Returning("id").Exec(ctx); err != nil {
		if isUniqueViolation(err) {
			return &errs.Error{Code: errs.Conflict, Field: "name", Message: fmt.Sprintf("a topic named %q already exists", t.Name), Err: err}
		}
		return fmt.Errorf("insert topic: %w", err)
	}
	return nil
}

// GetTopic returns the topic with id.
func (s *Store) GetTopic(ctx context.Context, id int64) (*Topic, error) {
	var t Topic
	if err := s.db.NewSelect().Model(&t).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "topic", id)
	}
	return &t, nil
}

// ListTopics returns every topic in id order.
func (s *Store) ListTopics(ctx context.Context) ([]Topic, error) {
	ts := []Topic{}
	err := s.db.NewSelect().Model(&ts).Order("id").Scan(ctx)
	return ts, err
}

// checkTopic refuses a campaign's topic id that names no topic.
func (s *Store) checkTopic(ctx context.Context, topicID *int64) error {
	if topicID == nil {
		return nil
	}
	if _, err := s.GetTopic(ctx, *topicID); err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return errs.Field("topic_id", "topic %d does not exist", *topicID)
		}
		return err
	}
	return nil
}

// Preferences is everything the preference center shows of one contact.
type Preferences struct {
	Contact   Contact
	Frequency string
	// PausedUntil is set while a pause lasts.
	PausedUntil *time.Time
	// OptedOut holds the ids of the topics the contact does not want.
	OptedOut map[int64]bool
}

// GetPreferences returns the contact's settings as of now.
func (s *Store) GetPreferences(ctx context.Context, contactID int64, now time.Time) (*Preferences, error) {
	c, err := s.GetContact(ctx, contactID)
	if err != nil {
		return nil, err
	}
	p := &Preferences{Contact: *c, Frequency: FrequencyAll, OptedOut: map[int64]bool{}}
	var cp ContactPreferences
	switch err := s.db.NewSelect().Model(&cp).Where("contact_id = ?", contactID).Scan(ctx); {
	case err == nil:
		p.Frequency = cp.Frequency
		if cp.PausedUntil != nil && cp.PausedUntil.After(now) {
			p.PausedUntil = cp.PausedUntil
		}
	case !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("read preferences: %w", err)
	}
	var topics []int64
	if err := s.db.NewSelect().Model((*topicOptout)(nil)).Column("topic_id").Where("contact_id = ?", contactID).Scan(ctx, &topics); err != nil {
		return nil, fmt.Errorf("read topic opt-outs: %w", err)
	}
	for _, id := range topics {
		p.OptedOut[id] = true
	}
	return p, nil
}

// PreferenceChange is one submission of the preference center; nil fields are left as they are.
type PreferenceChange struct {
	Frequency   *string
	PausedUntil **time.Time // set to a nil pointer to end a pause
	// Topics, when not nil, holds the ids of every topic the contact still wants;
	// the contact is opted out of every other topic.
	Topics     []int64
	FirstName  *string
	PostalCode *string
}

// UpdatePreferences applies a change to one contact, in one transaction.
func (s *Store) UpdatePreferences(ctx context.Context, contactID int64, ch PreferenceChange) error {
	if ch.Frequency != nil && *ch.Frequency != FrequencyAll && *ch.Frequency != FrequencyWeekly {
		return errs.Field("frequency", "must be %q or %q", FrequencyAll, FrequencyWeekly)
	}
	if ch.FirstName != nil && len(*ch.FirstName) > 100 {
		return errs.Field("first_name", "at most 100 characters")
	}
	if ch.PostalCode != nil && len(*ch.PostalCode) > 20 {
		return errs.Field("postal_code", "at most 20 characters")
	}
	now := time.Now().UTC()
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if ch.Frequency != nil || ch.PausedUntil != nil {
			cp := ContactPreferences{ContactID: contactID, Frequency: FrequencyAll, UpdatedAt: now}
			q := tx.NewInsert().Model(&cp).On("CONFLICT (contact_id) DO UPDATE").Set("updated_at = EXCLUDED.updated_at")
			if ch.Frequency != nil {
				cp.Frequency = *ch.Frequency
				q = q.Set("frequency = EXCLUDED.frequency")
			}
			if ch.PausedUntil != nil {
				cp.PausedUntil = *ch.PausedUntil
				q = q.Set("paused_until = EXCLUDED.paused_until")
			}
			if _, err := q.Exec(ctx); err != nil {
				return fmt.Errorf("save preferences: %w", err)
			}
		}
		if ch.Topics != nil {
			all, err := tx.NewSelect().Model((*Topic)(nil)).Column("id").Rows(ctx)
			if err != nil {
				return err
			}
			var ids []int64
			for all.Next() {
				var id int64
				if err := all.Scan(&id); err != nil {
					all.Close()
					return err
				}
				ids = append(ids, id)
			}
			all.Close()
			if err := all.Err(); err != nil {
				return err
			}
			wanted := uniq(ch.Topics)
			if _, err := tx.NewDelete().Model((*topicOptout)(nil)).Where("contact_id = ?", contactID).Exec(ctx); err != nil {
				return err
			}
			var outs []topicOptout
			for _, id := range ids {
				if _, ok := wanted[id]; !ok {
					outs = append(outs, topicOptout{ContactID: contactID, TopicID: id, CreatedAt: now})
				}
			}
			if len(outs) > 0 {
				if _, err := tx.NewInsert().Model(&outs).Exec(ctx); err != nil {
					return fmt.Errorf("save topic opt-outs: %w", err)
				}
			}
		}
		if ch.FirstName != nil || ch.PostalCode != nil {
			q := tx.NewUpdate().Model((*Contact)(nil)).Set("updated_at = ?", now).Where("id = ?", contactID)
			if ch.FirstName != nil {
				q = q.Set("first_name = ?", strings.TrimSpace(*ch.FirstName))
			}
			if ch.PostalCode != nil {
				q = q.Set("postal_code = ?", strings.TrimSpace(*ch.PostalCode))
			}
			if _, err := q.Exec(ctx); err != nil {
				return fmt.Errorf("update contact: %w", err)
			}
		}
		return nil
	})
}

// Unsubscription is one unsubscribe request of a send's recipient.
type Unsubscription struct {
	SendID    int64
	ListID    *int64 // leave this list only; nil: everything
	Reason    string
	UserAgent string
}

// Unsubscribe unsubscribes the recipient of a send: from one list (its
// membership marked unsubscribed), or from everything (the contact
// unsubscribed and the address suppressed), in one transaction, and records
// the event once. It is safe to repeat: it returns the event recorded, or nil
// when there was nothing left to unsubscribe from.
func (s *Store) Unsubscribe(ctx context.Context, u Unsubscription) (*Event, error) {
	now := time.Now().UTC()
	var ev *Event
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		ev = nil
		var snd Send
		if err := tx.NewSelect().Model(&snd).Where("id = ?", u.SendID).Scan(ctx); err != nil {
			return notFound(err, "send", u.SendID)
		}
		var changed int64
		if u.ListID != nil {
			res, err := tx.NewUpdate().Model((*ListMember)(nil)).Set("status = ?", ContactUnsubscribed).
				Where("list_id = ? AND contact_id = ? AND status = ?", *u.ListID, snd.ContactID, ContactSubscribed).Exec(ctx)
			if err != nil {
				return err
			}
			if changed, _ = res.RowsAffected(); changed > 0 {
				if err := skipLeftCampaigns(ctx, tx, snd.ContactID, *u.ListID, now); err != nil {
					return err
				}
			}
		} else {
			res, err := tx.NewUpdate().Model((*Contact)(nil)).Set("status = ?", ContactUnsubscribed).Set("updated_at = ?", now).
				Where("id = ? AND status = ?", snd.ContactID, ContactSubscribed).Exec(ctx)
			if err != nil {
				return err
			}
			changed, _ = res.RowsAffected()
			if snd.Email == "" { // an erased person: the erasure suppressed the address
				return nil
			}
			if _, err := tx.NewInsert().Model(&Suppression{Email: snd.Email, Reason: "unsubscribed", CreatedAt: now}).
				On("CONFLICT (email_key) DO NOTHING").Exec(ctx); err != nil {
				return err
			}
		}
		if changed == 0 {
			return nil
		}
		ev = &Event{Kind: EventUnsubscribe, CampaignID: snd.CampaignID, SendID: snd.ID, ContactID: snd.ContactID,
			UserAgent: u.UserAgent, Reason: u.Reason, ListID: u.ListID, CreatedAt: now}
		_, err := tx.NewInsert().Model(ev).Exec(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return ev, nil
}

// skipLeftCampaigns marks skipped the waiting sends to a contact who just left
// a list, in every running campaign that reached them only through lists they
// have now all left: their next batch must not mail them.
func skipLeftCampaigns(ctx context.Context, tx bun.Tx, contactID, listID int64, now time.Time) error {
	var camps []Campaign
	if err := tx.NewSelect().Model(&camps).Where("status = ?", CampaignSending).Scan(ctx); err != nil {
		return fmt.Errorf("running campaigns: %w", err)
	}
	for _, c := range camps {
		if !slices.Contains(c.Audience.Lists, listID) {
			continue
		}
		still, err := tx.NewSelect().Model((*ListMember)(nil)).
			Where("contact_id = ? AND status = ? AND list_id IN (?)", contactID, ContactSubscribed, bun.List(c.Audience.Lists)).Exists(ctx)
		if err != nil || still {
			return err
		}
		if _, err := tx.NewUpdate().Model((*Send)(nil)).Set("status = ?", SendSkipped).
			Set("last_reply = ?", "unsubscribed from the list").Set("updated_at = ?", now).
			Where("campaign_id = ? AND contact_id = ? AND status IN (?)", c.ID, contactID, waiting).
			Exec(ctx); err != nil {
			return fmt.Errorf("skip sends of campaign %d: %w", c.ID, err)
		}
	}
	return nil
}

// Resubscribe makes an unsubscribed contact subscribed again and lifts the
// suppression its unsubscribe added. A bounced or complained contact stays as it is.
func (s *Store) Resubscribe(ctx context.Context, contactID int64) error {
	now := time.Now().UTC()
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var c Contact
		if err := tx.NewSelect().Model(&c).Column("id", "email", "status").Where("id = ?", contactID).Scan(ctx); err != nil {
			return notFound(err, "contact", contactID)
		}
		if c.Status != ContactUnsubscribed {
			return nil
		}
		if _, err := tx.NewUpdate().Model((*Contact)(nil)).Set("status = ?", ContactSubscribed).Set("updated_at = ?", now).
			Where("id = ?", contactID).Exec(ctx); err != nil {
			return err
		}
		_, err := tx.NewDelete().Model((*Suppression)(nil)).Where("email_key = ? AND reason = ?", EmailKey(c.Email), "unsubscribed").Exec(ctx)
		return err
	})
}

// MemberLists returns the lists among ids that the contact is a subscribed member of.
func (s *Store) MemberLists(ctx context.Context, contactID int64, ids []int64) ([]List, error) {
	ls := []List{}
	if len(ids) == 0 {
		return ls, nil
	}
	member := s.db.NewSelect().TableExpr("list_members AS lm").ColumnExpr("1").
		Where("lm.list_id = list.id AND lm.contact_id = ? AND lm.status = ?", contactID, ContactSubscribed)
	err := s.db.NewSelect().Model(&ls).Where("list.id IN (?)", bun.List(ids)).Where("EXISTS (?)", member).Order("list.id").Scan(ctx)
	return ls, err
}
