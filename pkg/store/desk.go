package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

// The organizer's desk: copies, deletes and archives. A copy is a draft
// named "Copy of …"; what was never sent may be deleted; what was sent is
// kept for its figures and may be archived, hidden from the lists.

// copyName is "Copy of " and name, cut to 200 characters.
func copyName(name string) string {
	n := "Copy of " + name
	if utf8.RuneCountInString(n) > 200 {
		n = string([]rune(n)[:200])
	}
	return n
}

// ListMessagesShown returns the messages not archived, or only the archived
// ones, newest first, without bodies.
func (s *Store) ListMessagesShown(ctx context.Context, archived bool) ([]Message, error) {
	var ms []Message
	q := s.db.NewSelect().Model(&ms).ExcludeColumn("html", "text", "blocks").Order("id DESC")
	if archived {
		q = q.Where("archived_at IS NOT NULL")
	} else {
		q = q.Where("archived_at IS NULL")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	return ms, nil
}

// ListCampaignsShown returns the campaigns not archived, or only the
// archived ones, newest first.
func (s *Store) ListCampaignsShown(ctx context.Context, archived bool) ([]Campaign, error) {
	var cs []Campaign
	q := s.db.NewSelect().Model(&cs).Order("id DESC")
	if archived {
		q = q.Where("archived_at IS NOT NULL")
	} else {
		q = q.Where("archived_at IS NULL")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	return cs, nil
}

// DuplicateMessage saves a copy of the message with id, blocks and all,
// named "Copy of …" and not archived.
func (s *Store) DuplicateMessage(ctx context.Context, id int64) (*Message, error) {
	m, err := s.GetMessage(ctx, id)
	if err != nil {
		return nil, err
	}
	m.ID, m.Name, m.ArchivedAt = 0, copyName(m.Name), nil
	if err := s.CreateMessage(ctx, m); err != nil {
		return nil, err
	}
	return m, nil
}

// messageUser is a campaign using a message, as its own or a variant's.
type messageUser struct {
	ID     int64  `bun:"id"`
	Name   string `bun:"name"`
	Status string `bun:"status"`
}

// MessageSent reports whether a campaign has sent, is sending or has
// scheduled the message, as its own or a variant's: then it is what its
// recipients got, kept (and archived), not deleted or changed.
func (s *Store) MessageSent(ctx context.Context, id int64) (bool, error) {
	n, err := sentWith(s.db, id).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("campaigns of message %d: %w", id, err)
	}
	return n > 0, nil
}

// sentWith selects the campaigns past draft that use the message with id,
// as their own or a variant's.
func sentWith(db bun.IDB, id int64) *bun.SelectQuery {
	return db.NewSelect().Model((*Campaign)(nil)).
		Where("status <> ?", CampaignDraft).
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("message_id = ?", id).
				WhereOr("id IN (?)", db.NewSelect().Model((*Variant)(nil)).Column("campaign_id").Where("message_id = ?", id))
		})
}

// DeleteMessage deletes a message no campaign uses. One a campaign uses is a
// conflict naming the campaign: a draft's must go with the draft, a sent
// one's stays with what was sent (archive it instead).
func (s *Store) DeleteMessage(ctx context.Context, id int64) error {
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var users []messageUser
		if err := tx.NewSelect().Model((*Campaign)(nil)).Column("id", "name", "status").
			Where("message_id = ?", id).
			WhereOr("id IN (?)", tx.NewSelect().Model((*Variant)(nil)).Column("campaign_id").Where("message_id = ?", id)).
			Order("id").Limit(1).Scan(ctx, &users); err != nil {
			return fmt.Errorf("campaigns of message %d: %w", id, err)
		}
		if len(users) > 0 {
			c := users[0]
			if c.Status == CampaignDraft {
				return errs.New(errs.Conflict, "message %d is the message of the draft campaign %q: delete the campaign first, or keep the message", id, c.Name)
			}
			return errs.New(errs.Conflict, "message %d was sent by the campaign %q (%s): it stays with what was sent; archive it instead", id, c.Name, c.Status)
		}
		res, err := tx.NewDelete().Model((*Message)(nil)).Where("id = ?", id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("delete message %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return &errs.Error{Code: errs.NotFound, Message: fmt.Sprintf("message %d not found", id), Err: ErrNotFound}
		}
		return nil
	})
}

// SetMessageArchived archives a message or brings it back to the list.
func (s *Store) SetMessageArchived(ctx context.Context, id int64, archived bool) error {
	var at *time.Time
	if archived {
		now := time.Now().UTC()
		at = &now
	}
	res, err := s.db.NewUpdate().Model((*Message)(nil)).Set("archived_at = ?", at).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("archive message %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return &errs.Error{Code: errs.NotFound, Message: fmt.Sprintf("message %d not found", id), Err: ErrNotFound}
	}
	return nil
}

// DuplicateCampaign saves a draft copy of the campaign with id: its message,
// audience, topic, rate, UTM parameters and A/B test with its variants,
// named "Copy of …". Nothing of its send is copied.
func (s *Store) DuplicateCampaign(ctx context.Context, id int64) (*Campaign, error) {
	c, err := s.GetCampaign(ctx, id)
	if err != nil {
		return nil, err
	}
	var variants []Variant
	if c.AB.Share > 0 {
		if variants, err = s.Variants(ctx, id); err != nil {
			return nil, err
		}
	}
	cp := &Campaign{Name: copyName(c.Name), MessageID: c.MessageID, Audience: c.Audience, TopicID: c.TopicID, UTM: c.UTM,
		RatePerSecond: c.RatePerSecond, AB: ABTest{Share: c.AB.Share, Metric: c.AB.Metric, WaitSeconds: c.AB.WaitSeconds}}
	if err := s.CreateCampaign(ctx, cp, variants...); err != nil {
		return nil, err
	}
	return cp, nil
}

// DeleteCampaign deletes a draft campaign and its variants. One scheduled,
// sending or sent is a conflict: unschedule it first, or archive it.
func (s *Store) DeleteCampaign(ctx context.Context, id int64) error {
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var c Campaign
		if err := tx.NewSelect().Model(&c).Column("id", "name", "status").Where("id = ?", id).Scan(ctx); err != nil {
			return notFound(err, "campaign", id)
		}
		if c.Status != CampaignDraft {
			return errs.New(errs.Conflict, "the campaign %q is %s, not a draft: only a campaign never sent can be deleted; archive it instead", c.Name, c.Status)
		}
		if _, err := tx.NewDelete().Model((*Variant)(nil)).Where("campaign_id = ?", id).Exec(ctx); err != nil {
			return fmt.Errorf("delete variants of campaign %d: %w", id, err)
		}
		// The status is asked again so that a send started meanwhile wins.
		res, err := tx.NewDelete().Model((*Campaign)(nil)).Where("id = ? AND status = ?", id, CampaignDraft).Exec(ctx)
		if err != nil {
			return fmt.Errorf("delete campaign %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errs.New(errs.Conflict, "the campaign %q started meanwhile: it is no longer a draft", c.Name)
		}
		return nil
	})
}

// SetCampaignArchived archives a campaign that is done (sent or cancelled),
// or brings one back to the list. A draft is deleted, not archived; one
// scheduled, sending or paused is still at work.
func (s *Store) SetCampaignArchived(ctx context.Context, id int64, archived bool) error {
	c, err := s.GetCampaign(ctx, id)
	if err != nil {
		return err
	}
	var at *time.Time
	if archived {
		if c.Status != CampaignSent && c.Status != CampaignCancelled {
			return errs.New(errs.Conflict, "the campaign %q is %s: only a sent or cancelled campaign is archived (a draft is deleted)", c.Name, c.Status)
		}
		now := time.Now().UTC()
		at = &now
	}
	if _, err := s.db.NewUpdate().Model((*Campaign)(nil)).Set("archived_at = ?", at).Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("archive campaign %d: %w", id, err)
	}
	return nil
}

// DuplicatePetition saves a closed copy of the petition with id, texts and
// settings, titled "Copy of …", at the first free slug of copy-of-<slug>,
// copy-of-<slug>-2, …; its signatures and organizations stay with the
// original.
func (s *Store) DuplicatePetition(ctx context.Context, id int64) (*Petition, error) {
	p, err := s.GetPetition(ctx, id)
	if err != nil {
		return nil, err
	}
	base := strings.TrimRight(("copy-of-" + p.Slug)[:min(len(p.Slug)+8, 60)], "-")
	p.ID, p.Title, p.Open = 0, copyName(p.Title), false
	for n := 1; n <= 100; n++ {
		p.Slug = base
		if n > 1 {
			p.Slug += "-" + strconv.Itoa(n)
		}
		err = s.CreatePetition(ctx, p)
		if e, ok := errs.As(err); !ok || e.Code != errs.Conflict || e.Field != "slug" {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// CheckActionLinks refuses slugs (a compiled message's action_link
// targets) naming no petition: the link would lead every recipient to a
// page that is not there. The error is at field and names the slug.
func (s *Store) CheckActionLinks(ctx context.Context, field string, slugs []string) error {
	if len(slugs) == 0 {
		return nil
	}
	var found []string
	if err := s.db.NewSelect().Model((*Petition)(nil)).Column("slug").Where("slug IN (?)", bun.List(slugs)).Scan(ctx, &found); err != nil {
		return fmt.Errorf("petitions of action links: %w", err)
	}
	for _, slug := range slugs {
		if !slices.Contains(found, slug) {
			return errs.Field(field, "the petition %q named by action_link does not exist: create it, or link to a petition that does", slug)
		}
	}
	return nil
}
