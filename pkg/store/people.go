package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// ContactErased is the status of a contact whose personal data was erased
// (EraseContact): what is left of the row is its id, which the ledger, the
// events and the signatures still point at so that counts stay whole. No
// read of contacts returns it, and only subscribed contacts are mailed.
const ContactErased = "erased"

// ErasedReason is the reason of the suppression an erasure leaves.
const ErasedReason = "erased"

// erasedEmail is what an erased contact's email becomes: no '@', so no
// address ever typed or imported can match it.
func erasedEmail(id int64) string { return "erased:" + strconv.FormatInt(id, 10) }

// ContactList is a list a contact is on, with the membership's status.
type ContactList struct {
	ListID    int64     `bun:"list_id" json:"list_id"`
	Name      string    `bun:"name" json:"name"`
	Status    string    `bun:"status" json:"status"`
	CreatedAt time.Time `bun:"created_at" json:"added_at"`
}

// ContactLists returns the lists contactID is on, by name, with the
// membership's status (a person may have left one list only).
func (s *Store) ContactLists(ctx context.Context, contactID int64) ([]ContactList, error) {
	out := []ContactList{}
	if err := s.db.NewSelect().TableExpr("list_members AS lm").Join("JOIN lists AS l ON l.id = lm.list_id").
		ColumnExpr("lm.list_id, l.name, lm.status, lm.created_at").Where("lm.contact_id = ?", contactID).
		OrderExpr("l.name").Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("lists of contact %d: %w", contactID, err)
	}
	return out, nil
}

// RemoveListMember takes contactID off listID; not being on it is not an error.
func (s *Store) RemoveListMember(ctx context.Context, listID, contactID int64) error {
	if _, err := s.db.NewDelete().Model((*ListMember)(nil)).Where("list_id = ? AND contact_id = ?", listID, contactID).Exec(ctx); err != nil {
		return fmt.Errorf("remove contact %d from list %d: %w", contactID, listID, err)
	}
	return nil
}

// ContactSignature is a contact's signature with the petition's title and kind.
type ContactSignature struct {
	Signature
	Title string `bun:"title" json:"title"`
	Kind  string `bun:"kind" json:"kind"`
}

// ContactSignatures returns what contactID signed, newest first.
func (s *Store) ContactSignatures(ctx context.Context, contactID int64) ([]ContactSignature, error) {
	out := []ContactSignature{}
	if err := s.db.NewSelect().TableExpr("signatures AS g").Join("JOIN petitions AS p ON p.id = g.petition_id").
		ColumnExpr("g.*, p.title, p.kind").Where("g.contact_id = ?", contactID).
		OrderExpr("g.created_at DESC, g.id DESC").Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("signatures of contact %d: %w", contactID, err)
	}
	return out, nil
}

// SignedLetter is an organization's signature on a letter, made with a
// contact's address, with the letter's title.
type SignedLetter struct {
	OrganizationSignature
	Title string `bun:"title" json:"title"`
}

// LettersSignedBy returns the letters signed on behalf of an organization
// with email (in any letter case), newest first.
func (s *Store) LettersSignedBy(ctx context.Context, email string) ([]SignedLetter, error) {
	out := []SignedLetter{}
	if err := s.db.NewSelect().TableExpr("organization_signatures AS o").Join("JOIN petitions AS p ON p.id = o.petition_id").
		ColumnExpr("o.*, p.title").Where("o.email_key = ?", EmailKey(email)).
		OrderExpr("o.created_at DESC, o.id DESC").Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("letters signed by %s: %w", email, err)
	}
	return out, nil
}

// SuppressionsOf returns the suppressions that keep email from being mailed:
// its own and its domain's.
func (s *Store) SuppressionsOf(ctx context.Context, email string) ([]Suppression, error) {
	key := EmailKey(email)
	keys := []string{key}
	for i := len(key) - 1; i >= 0; i-- {
		if key[i] == '@' {
			keys = append(keys, key[i:])
			break
		}
	}
	out := []Suppression{}
	if err := s.db.NewSelect().Model(&out).Where("email_key IN (?)", bun.List(keys)).Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("suppressions of %s: %w", email, err)
	}
	return out, nil
}

// PersonRecord is everything stored about one contact: what "export this
// person's data" hands over.
type PersonRecord struct {
	Contact      Contact             `json:"contact"`
	Tags         []string            `json:"tags"`
	Lists        []ContactList       `json:"lists"`
	Preferences  *ContactPreferences `json:"preferences,omitempty"`
	TopicOptouts []TopicOptout       `json:"topic_optouts"`
	Signatures   []ContactSignature  `json:"signatures"`
	Letters      []SignedLetter      `json:"letters"`
	Sends        []PersonSend        `json:"sends"`
	Events       []Event             `json:"events"`
	Reports      []BounceEvent       `json:"bounce_reports"`
	Suppressions []Suppression       `json:"suppressions"`
}

// TopicOptout is a topic a contact does not want.
type TopicOptout struct {
	TopicID   int64     `bun:"topic_id" json:"topic_id"`
	Name      string    `bun:"name" json:"name"`
	CreatedAt time.Time `bun:"created_at" json:"created_at"`
}

// PersonSend is a ledger row with its campaign's name.
type PersonSend struct {
	Send
	Campaign string `bun:"campaign" json:"campaign"`
}

// PersonData gathers everything stored about contact id.
func (s *Store) PersonData(ctx context.Context, id int64) (*PersonRecord, error) {
	c, err := s.GetContact(ctx, id)
	if err != nil {
		return nil, err
	}
	r := &PersonRecord{Contact: *c, TopicOptouts: []TopicOptout{}, Sends: []PersonSend{}, Events: []Event{}, Reports: []BounceEvent{}}
	if r.Tags, err = s.ContactTags(ctx, id); err != nil {
		return nil, err
	}
	if r.Lists, err = s.ContactLists(ctx, id); err != nil {
		return nil, err
	}
	var p ContactPreferences
	switch err := s.db.NewSelect().Model(&p).Where("contact_id = ?", id).Scan(ctx); {
	case err == nil:
		r.Preferences = &p
	case !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("read preferences: %w", err)
	}
	if r.Signatures, err = s.ContactSignatures(ctx, id); err != nil {
		return nil, err
	}
	if r.Letters, err = s.LettersSignedBy(ctx, c.Email); err != nil {
		return nil, err
	}
	if r.Suppressions, err = s.SuppressionsOf(ctx, c.Email); err != nil {
		return nil, err
	}
	reads := []struct {
		what string
		q    *bun.SelectQuery
		into any
	}{
		{"topic opt-outs", s.db.NewSelect().TableExpr("topic_optouts AS tp").Join("JOIN topics AS t ON t.id = tp.topic_id").
			ColumnExpr("tp.topic_id, t.name, tp.created_at").Where("tp.contact_id = ?", id).OrderExpr("t.name"), &r.TopicOptouts},
		{"sends", s.db.NewSelect().TableExpr("sends AS s").Join("JOIN campaigns AS c ON c.id = s.campaign_id").
			ColumnExpr("s.id, s.campaign_id, s.contact_id, s.email, s.status, s.attempts, s.last_reply, s.sent_at, s.updated_at").
			ColumnExpr("s.first_attempt_at, s.throttled, s.variant_id, s.relay, c.name AS campaign").Where("s.contact_id = ?", id).OrderExpr("s.id"), &r.Sends},
		{"events", s.db.NewSelect().Model(&r.Events).Where("contact_id = ?", id).Order("id"), nil},
		{"bounce reports", s.db.NewSelect().Model(&r.Reports).Where("contact_id = ?", id).Order("id"), nil},
	}
	for _, rd := range reads {
		var err error
		if rd.into != nil {
			err = rd.q.Scan(ctx, rd.into)
		} else {
			err = rd.q.Scan(ctx)
		}
		if err != nil {
			return nil, fmt.Errorf("read %s of contact %d: %w", rd.what, id, err)
		}
	}
	return r, nil
}

// EraseContact erases contact id's personal data everywhere, in one
// transaction, and keeps its address from being mailed again:
//
//   - the contact row keeps its id only: email "erased:<id>", every other
//     field empty, status erased;
//   - its lists, tags, preferences and topic opt-outs are deleted;
//   - its signatures stay, so petitions' counts do, without comment, city or
//     referrer, and hidden; signatures it referred lose the referrer; letters
//     signed with its address lose the signer's name and address (the
//     organization's name stays);
//   - its ledger rows stay, so campaigns' counts do, without the address or
//     the relay's reply; rows still waiting to be sent are skipped;
//   - its opens, clicks and unsubscribes stay as counts, without the user
//     agent or reason; reports of the mail system lose the address and the
//     diagnostic; rejected import lines with the address are deleted;
//   - the address is suppressed (reason "erased"), unless it already was, so
//     an import, the API or a petition signed later may store it again but
//     no campaign mails it until an organizer removes that suppression.
//
// An unknown or already erased id is a not-found error and changes nothing.
func (s *Store) EraseContact(ctx context.Context, id int64, now time.Time) error {
	now = now.UTC()
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var c Contact
		q := tx.NewSelect().Model(&c).Where("id = ? AND status <> ?", id, ContactErased)
		if s.dialect == "pg" {
			q = q.For("UPDATE")
		}
		if err := q.Scan(ctx); err != nil {
			return notFound(err, "contact", id)
		}
		key, gone := EmailKey(c.Email), erasedEmail(id)
		if _, err := tx.NewInsert().Model(&Suppression{Email: c.Email, Reason: ErasedReason, CreatedAt: now}).
			On("CONFLICT (email_key) DO NOTHING").Exec(ctx); err != nil {
			return fmt.Errorf("suppress the address of contact %d: %w", id, err)
		}
		steps := []struct {
			what string
			q    interface {
				Exec(context.Context, ...any) (sql.Result, error)
			}
		}{
			{"contact", tx.NewUpdate().Model((*Contact)(nil)).Set("email = ?, email_key = ?", gone, gone).
				Set("first_name = '', last_name = '', postal_code = '', region = '', country = '', time_zone = '', source = ''").
				Set("attributes = '{}'").Set("consent_at = NULL").Set("status = ?", ContactErased).Set("updated_at = ?", now).
				Where("id = ?", id)},
			{"lists", tx.NewDelete().Model((*ListMember)(nil)).Where("contact_id = ?", id)},
			{"tags", tx.NewDelete().Model((*ContactTag)(nil)).Where("contact_id = ?", id)},
			{"preferences", tx.NewDelete().Model((*ContactPreferences)(nil)).Where("contact_id = ?", id)},
			{"topic opt-outs", tx.NewDelete().Model((*topicOptout)(nil)).Where("contact_id = ?", id)},
			{"signatures", tx.NewUpdate().Model((*Signature)(nil)).Set("comment = '', city = ''").Set("show_name = ?", false).
				Set("referrer_contact_id = NULL").Where("contact_id = ?", id)},
			{"referrals", tx.NewUpdate().Model((*Signature)(nil)).Set("referrer_contact_id = NULL").Where("referrer_contact_id = ?", id)},
			{"letters", tx.NewUpdate().Model((*OrganizationSignature)(nil)).Set("contact_name = ''").
				Set("email = ?, email_key = ?", gone, gone).Where("email_key = ?", key)},
			{"waiting sends", tx.NewUpdate().Model((*Send)(nil)).Set("status = ?", SendSkipped).Set("updated_at = ?", now).
				Where("contact_id = ? AND status IN (?)", id, bun.List([]string{SendQueued, SendDeferred, SendHeld}))},
			{"sends", tx.NewUpdate().Model((*Send)(nil)).Set("email = '', last_reply = ''").Where("contact_id = ?", id)},
			{"events", tx.NewUpdate().Model((*Event)(nil)).Set("user_agent = '', reason = ''").Where("contact_id = ?", id)},
			{"bounce reports", tx.NewUpdate().Model((*BounceEvent)(nil)).Set("email_key = ?", gone).Set("diagnostic = ''").
				Where("contact_id = ?", id)},
			{"import rejects", tx.NewDelete().TableExpr("import_rejects").
				Where(`lower(raw) LIKE ? ESCAPE '\'`, "%"+likeEscaper.Replace(key)+"%")},
		}
		for _, st := range steps {
			if _, err := st.q.Exec(ctx); err != nil {
				return fmt.Errorf("erase contact %d: %s: %w", id, st.what, err)
			}
		}
		return nil
	})
}
