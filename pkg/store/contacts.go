package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

// Tag is a label on contacts.
type Tag struct {
	bun.BaseModel `bun:"table:tags"`
	ID            int64     `bun:"id,pk,autoincrement" json:"id"`
	Name          string    `bun:"name" json:"name"`
	CreatedAt     time.Time `bun:"created_at" json:"created_at"`
}

// ContactTag puts a tag on a contact.
type ContactTag struct {
	bun.BaseModel `bun:"table:contact_tags"`
	ContactID     int64 `bun:"contact_id,pk"`
	TagID         int64 `bun:"tag_id,pk"`
}

// prepareContact fills what a new row needs: a status, an attributes object
// (never JSON null) and its times.
func prepareContact(c *Contact, now time.Time) {
	if c.Status == "" {
		c.Status = ContactSubscribed
	}
	if c.Attributes == nil {
		c.Attributes = map[string]any{}
	}
	c.CreatedAt, c.UpdatedAt = now, now
}

// CreateContact inserts c; an email already present is a conflict.
func (s *Store) CreateContact(ctx context.Context, c *Contact) error {
	prepareContact(c, time.Now().UTC())
	if _, err := s.db.NewInsert().Model(c).Returning("id").Exec(ctx); err != nil {
		if isUniqueViolation(err) {
			return &errs.Error{Code: errs.Conflict, Field: "email", Message: fmt.Sprintf("a contact with email %s already exists", c.Email), Err: err}
		}
		return fmt.Errorf("insert contact: %w", err)
	}
	return nil
}

// InsertContacts inserts many contacts in one statement, skipping emails already
// present, and returns how many were new. Used for seeding and bulk loads.
func (s *Store) InsertContacts(ctx context.Context, cs []Contact) (int64, error) {
	if len(cs) == 0 {
		return 0, nil
	}
	now := time.Now().UTC()
	for i := range cs {
		prepareContact(&cs[i], now)
	}
	res, err := s.db.NewInsert().Model(&cs).On("CONFLICT (email_key) DO NOTHING").Returning("id").Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("insert contacts: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// GetContact returns the contact with id; an erased contact is not found.
func (s *Store) GetContact(ctx context.Context, id int64) (*Contact, error) {
	var c Contact
	if err := s.db.NewSelect().Model(&c).Where("id = ? AND status <> ?", id, ContactErased).Scan(ctx); err != nil {
		return nil, notFound(err, "contact", id)
	}
	return &c, nil
}

// ContactByEmail returns the contact with email, in any letter case.
func (s *Store) ContactByEmail(ctx context.Context, email string) (*Contact, error) {
	var c Contact
	if err := s.db.NewSelect().Model(&c).Where("email_key = ?", EmailKey(email)).Scan(ctx); err != nil {
		return nil, notFound(err, "contact", email)
	}
	return &c, nil
}

// ListContacts returns up to limit contacts with id greater than after, in id order (keyset pagination).
func (s *Store) ListContacts(ctx context.Context, after int64, limit int) ([]Contact, error) {
	return s.SearchContacts(ctx, ContactQuery{After: after, Limit: limit})
}

// ContactQuery selects a page of contacts.
type ContactQuery struct {
	// Search matches the start of the email, first name or last name,
	// whatever the case. Empty matches every contact.
	Search string
	After  int64 // the last id of the previous page
	Limit  int
}

// SearchContacts returns a page of contacts in id order.
func (s *Store) SearchContacts(ctx context.Context, cq ContactQuery) ([]Contact, error) {
	var cs []Contact
	q := s.db.NewSelect().Model(&cs).Where("id > ? AND status <> ?", cq.After, ContactErased).Order("id").Limit(int64(cq.Limit))
	if p := strings.ToLower(strings.TrimSpace(cq.Search)); p != "" {
		name := likeEscaper.Replace(p) + "%"
		email := likeEscaper.Replace(EmailKey(p)) + "%"
		q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			// Each arm matches one pattern index (migrations 0002, 0013);
			// email_key is folded by EmailKey, the names by lower().
			return q.Where(`email_key LIKE ? ESCAPE '\'`, email).
				WhereOr(`lower(first_name) LIKE ? ESCAPE '\'`, name).
				WhereOr(`lower(last_name) LIKE ? ESCAPE '\'`, name)
		})
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("search contacts: %w", err)
	}
	return cs, nil
}

// CountContacts counts every contact but the erased.
func (s *Store) CountContacts(ctx context.Context) (int64, error) {
	return s.db.NewSelect().Model((*Contact)(nil)).Where("status <> ?", ContactErased).Count(ctx)
}

// ContactPatch is a change to a contact; nil fields are left as they are.
// Attributes are merged: a key with a nil value is removed.
type ContactPatch struct {
	FirstName  *string
	LastName   *string
	PostalCode *string
	Region     *string
	Country    *string
	TimeZone   *string
	Status     *string
	Source     *string
	ConsentAt  *time.Time
	Attributes map[string]any
}

// Apply sets on c the fields p names, and merges p's attributes. It does not
// check status changes: UpdateContact does.
func (p ContactPatch) Apply(c *Contact) {
	if p.Status != nil {
		c.Status = *p.Status
	}
	for _, f := range []struct {
		dst *string
		src *string
	}{{&c.FirstName, p.FirstName}, {&c.LastName, p.LastName}, {&c.PostalCode, p.PostalCode},
		{&c.Region, p.Region}, {&c.Country, p.Country}, {&c.TimeZone, p.TimeZone}, {&c.Source, p.Source}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if p.ConsentAt != nil {
		c.ConsentAt = p.ConsentAt
	}
	if c.Attributes == nil {
		c.Attributes = map[string]any{}
	}
	for k, v := range p.Attributes {
		if v == nil {
			delete(c.Attributes, k)
		} else {
			c.Attributes[k] = v
		}
	}
}

// UpdateContact applies p to the contact with id and returns it. A contact
// that unsubscribed, bounced or complained cannot be set back to subscribed:
// only the person can opt in again.
func (s *Store) UpdateContact(ctx context.Context, id int64, p ContactPatch) (*Contact, error) {
	var out *Contact
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var c Contact
		q := tx.NewSelect().Model(&c).Where("id = ? AND status <> ?", id, ContactErased)
		if s.dialect == "pg" {
			q = q.For("UPDATE") // SQLite's write transactions are already exclusive
		}
		if err := q.Scan(ctx); err != nil {
			return notFound(err, "contact", id)
		}
		if p.Status != nil && *p.Status != c.Status && *p.Status == ContactSubscribed {
			return &errs.Error{Code: errs.Conflict, Field: "status",
				Message: fmt.Sprintf("contact %d is %s and only the person can subscribe again", id, c.Status)}
		}
		p.Apply(&c)
		c.UpdatedAt = time.Now().UTC()
		if _, err := tx.NewUpdate().Model(&c).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update contact %d: %w", id, err)
		}
		out = &c
		return nil
	})
	return out, err
}

// ContactTags returns the names of a contact's tags, sorted.
func (s *Store) ContactTags(ctx context.Context, contactID int64) ([]string, error) {
	names := []string{}
	err := s.db.NewSelect().TableExpr("contact_tags AS ct").Join("JOIN tags AS t ON t.id = ct.tag_id").
		ColumnExpr("t.name").Where("ct.contact_id = ?", contactID).OrderExpr("t.name").Scan(ctx, &names)
	if err != nil {
		return nil, fmt.Errorf("contact tags: %w", err)
	}
	return names, nil
}

// AddContactTags puts tags on a contact, creating the tags that do not exist.
func (s *Store) AddContactTags(ctx context.Context, contactID int64, names []string) error {
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		ok, err := tx.NewSelect().Model((*Contact)(nil)).Where("id = ? AND status <> ?", contactID, ContactErased).Exists(ctx)
		if err != nil {
			return err
		}
		if !ok {
			return notFound(sql.ErrNoRows, "contact", contactID)
		}
		return tagContacts(ctx, tx, map[int64][]string{contactID: names})
	})
}

// RemoveContactTag takes a tag off a contact; a tag it does not carry is not an error.
func (s *Store) RemoveContactTag(ctx context.Context, contactID int64, name string) error {
	tags := s.db.NewSelect().Model((*Tag)(nil)).Column("id").Where("name = ?", name)
	_, err := s.db.NewDelete().Model((*ContactTag)(nil)).Where("contact_id = ?", contactID).Where("tag_id IN (?)", tags).Exec(ctx)
	if err != nil {
		return fmt.Errorf("remove tag: %w", err)
	}
	return nil
}

// tagContacts puts tags (by name) on contacts, creating missing tags.
func tagContacts(ctx context.Context, tx bun.IDB, byContact map[int64][]string) error {
	seen := map[string]bool{}
	var names []string
	for _, ns := range byContact {
		for _, n := range ns {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	if len(names) == 0 {
		return nil
	}
	sort.Strings(names) // a stable order keeps concurrent writers from deadlocking
	now := time.Now().UTC()
	tags := make([]Tag, len(names))
	for i, n := range names {
		tags[i] = Tag{Name: n, CreatedAt: now}
	}
	if _, err := tx.NewInsert().Model(&tags).On("CONFLICT (name) DO NOTHING").Exec(ctx); err != nil {
		return fmt.Errorf("insert tags: %w", err)
	}
	var got []Tag
	if err := tx.NewSelect().Model(&got).Where("name IN (?)", bun.List(names)).Scan(ctx); err != nil {
		return fmt.Errorf("read tags: %w", err)
	}
	idOf := make(map[string]int64, len(got))
	for _, t := range got {
		idOf[t.Name] = t.ID
	}
	var cts []ContactTag
	for cid, ns := range byContact {
		for _, n := range ns {
			cts = append(cts, ContactTag{ContactID: cid, TagID: idOf[n]})
		}
	}
	sort.Slice(cts, func(i, j int) bool {
		if cts[i].ContactID != cts[j].ContactID {
			return cts[i].ContactID < cts[j].ContactID
		}
		return cts[i].TagID < cts[j].TagID
	})
	if _, err := tx.NewInsert().Model(&cts).On("CONFLICT (contact_id, tag_id) DO NOTHING").Exec(ctx); err != nil {
		return fmt.Errorf("tag contacts: %w", err)
	}
	return nil
}

// ContactFilter narrows a query over "contacts AS c": the seam through which
// a list (InList(id).Filter()) or a segment chooses the contacts of an export.
type ContactFilter func(q *bun.SelectQuery) *bun.SelectQuery

// TaggedContact is a contact with the names of its tags.
type TaggedContact struct {
	Contact
	Tags []string
}

// EachContact calls fn with the contacts filter selects (every contact when
// nil), in id order, a page at a time: memory stays flat and no transaction
// is held open across pages, so a slow reader of an export blocks nobody.
func (s *Store) EachContact(ctx context.Context, filter ContactFilter, fn func([]TaggedContact) error) error {
	var after int64
	for {
		var cs []Contact
		q := s.db.NewSelect().TableExpr("contacts AS c").ColumnExpr("c.*").Where("c.id > ? AND c.status <> ?", after, ContactErased).
			OrderExpr("c.id").Limit(1000)
		if filter != nil {
			q = filter(q)
		}
		if err := q.Scan(ctx, &cs); err != nil {
			return fmt.Errorf("read contacts: %w", err)
		}
		if len(cs) == 0 {
			return nil
		}
		ids := make([]int64, len(cs))
		for i, c := range cs {
			ids[i] = c.ID
		}
		var tags []struct {
			ContactID int64  `bun:"contact_id"`
			Name      string `bun:"name"`
		}
		if err := s.db.NewSelect().TableExpr("contact_tags AS ct").Join("JOIN tags AS t ON t.id = ct.tag_id").
			ColumnExpr("ct.contact_id, t.name").Where("ct.contact_id IN (?)", bun.List(ids)).
			OrderExpr("t.name").Scan(ctx, &tags); err != nil {
			return fmt.Errorf("read tags: %w", err)
		}
		byID := map[int64][]string{}
		for _, t := range tags {
			byID[t.ContactID] = append(byID[t.ContactID], t.Name)
		}
		page := make([]TaggedContact, len(cs))
		for i, c := range cs {
			page[i] = TaggedContact{Contact: c, Tags: byID[c.ID]}
		}
		if err := fn(page); err != nil {
			return err
		}
		after = cs[len(cs)-1].ID
	}
}
