package store

import (
	"context"
	"fmt"
	"time"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

// CreatePetition inserts p; a slug already taken is a conflict.
func (s *Store) CreatePetition(ctx context.Context, p *Petition) error {
	p.CreatedAt = time.Now().UTC()
	if p.Kind == "" {
		p.Kind = PetitionKindPetition
	}
	if p.OrgOrder == "" {
		p.OrgOrder = OrgOrderApproved
	}
	if _, err := s.db.NewInsert().Model(p).Returning("id").Exec(ctx); err != nil {
		if isUniqueViolation(err) {
			return &errs.Error{Code: errs.Conflict, Field: "slug", Message: fmt.Sprintf("a petition with slug %q already exists", p.Slug), Err: err}
		}
		return fmt.Errorf("insert petition: %w", err)
	}
	return nil
}

// GetPetition returns the petition with id.
func (s *Store) GetPetition(ctx context.Context, id int64) (*Petition, error) {
	var p Petition
	if err := s.db.NewSelect().Model(&p).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "petition", id)
	}
	return &p, nil
}

// PetitionBySlug returns the petition with slug.
func (s *Store) PetitionBySlug(ctx context.Context, slug string) (*Petition, error) {
	var p Petition
	if err := s.db.NewSelect().Model(&p).Where("slug = ?", slug).Scan(ctx); err != nil {
		return nil, notFound(err, "petition", slug)
	}
	return &p, nil
}

// ListPetitions returns every petition, newest first.
func (s *Store) ListPetitions(ctx context.Context) ([]Petition, error) {
	ps := []Petition{}
	if err := s.db.NewSelect().Model(&ps).Order("id DESC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list petitions: %w", err)
	}
	return ps, nil
}

// Attribution is what brought a signer: the email they clicked, the person
// who shared the link, what they wrote. Every id may be zero.
type Attribution struct {
	CampaignID, SendID, ReferrerContactID int64
	Comment                               string
	City                                  string
	ShowName                              bool // the signer agreed to be listed among recent signers
}

// Sign puts contactID's name on petitionID and reports whether it is new: a
// second signature of the same person is a no-op, decided by the unique key.
func (s *Store) Sign(ctx context.Context, petitionID, contactID int64, at Attribution) (bool, error) {
	sig := &Signature{PetitionID: petitionID, ContactID: contactID, CampaignID: optionalID(at.CampaignID),
		SendID: optionalID(at.SendID), ReferrerContactID: optionalID(at.ReferrerContactID),
		Comment: at.Comment, City: at.City, ShowName: at.ShowName, CreatedAt: time.Now().UTC()}
	if sig.ReferrerContactID != nil && *sig.ReferrerContactID == contactID {
		sig.ReferrerContactID = nil // sharing with oneself refers no one
	}
	res, err := s.db.NewInsert().Model(sig).On("CONFLICT (petition_id, contact_id) DO NOTHING").Returning("NULL").Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("sign petition %d: %w", petitionID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sign petition %d: %w", petitionID, err)
	}
	return n == 1, nil
}

// CountSignatures returns how many people signed petitionID.
func (s *Store) CountSignatures(ctx context.Context, petitionID int64) (int64, error) {
	n, err := s.db.NewSelect().Model((*Signature)(nil)).Where("petition_id = ?", petitionID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count signatures: %w", err)
	}
	return int64(n), nil
}

// Signer is what a visitor who was not recognized typed on a petition form.
type Signer struct {
	Email, FirstName, LastName, PostalCode, Source string
	OptIn                                          bool
}

// UpsertSigner returns the contact with in.Email (in any letter case), created or updated with the
// names typed. Only the opt-in makes anyone mailable: a new contact without it
// is stored unsubscribed, and an unsubscribed one stays so.
func (s *Store) UpsertSigner(ctx context.Context, in Signer) (*Contact, error) {
	now := time.Now().UTC()
	c := Contact{Email: in.Email, FirstName: in.FirstName, LastName: in.LastName, PostalCode: in.PostalCode,
		Source: in.Source, Status: ContactUnsubscribed}
	if in.OptIn {
		c.Status, c.ConsentAt = ContactSubscribed, &now
	}
	prepareContact(&c, now)
	// One statement, so a signer costs one round trip whether new or known.
	q := s.db.NewInsert().Model(&c).On("CONFLICT (email_key) DO UPDATE").
		Set("first_name = EXCLUDED.first_name").Set("last_name = EXCLUDED.last_name").Set("updated_at = EXCLUDED.updated_at")
	if in.PostalCode != "" {
		q = q.Set("postal_code = EXCLUDED.postal_code")
	}
	if in.OptIn {
		// Bounced and complained addresses stay as they are: consent does not fix a mailbox.
		q = q.Set("status = CASE WHEN ?TableAlias.status = ? THEN ? ELSE ?TableAlias.status END", ContactUnsubscribed, ContactSubscribed).
			Set("consent_at = EXCLUDED.consent_at")
	}
	if _, err := q.Returning("*").Exec(ctx); err != nil {
		return nil, fmt.Errorf("upsert signer: %w", err)
	}
	return &c, nil
}

// AddSigner returns the contact with in.Email and whether this call created
// it. A new contact is stored as UpsertSigner stores one; an existing one is
// returned unchanged, since a form typed by anyone proves nothing about who
// owns the address (its changes wait for a confirmation, see pkg/action).
func (s *Store) AddSigner(ctx context.Context, in Signer) (*Contact, bool, error) {
	now := time.Now().UTC()
	c := Contact{Email: in.Email, FirstName: in.FirstName, LastName: in.LastName, PostalCode: in.PostalCode,
		Source: in.Source, Status: ContactUnsubscribed}
	if in.OptIn {
		c.Status, c.ConsentAt = ContactSubscribed, &now
	}
	prepareContact(&c, now)
	// No conflict target: whichever unique key says the address is known.
	res, err := s.db.NewInsert().Model(&c).On("CONFLICT DO NOTHING").Returning("id").Exec(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("add signer: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, false, fmt.Errorf("add signer: %w", err)
	} else if n == 1 {
		return &c, true, nil
	}
	known, err := s.ContactByEmail(ctx, in.Email)
	if err != nil {
		return nil, false, fmt.Errorf("add signer: %w", err)
	}
	return known, false, nil
}

// ShowSignature lists contactID's signature of petitionID among the recent
// signers, with city as the place.
func (s *Store) ShowSignature(ctx context.Context, petitionID, contactID int64, city string) error {
	if _, err := s.db.NewUpdate().Model((*Signature)(nil)).Set("show_name = ?", true).Set("city = ?", city).
		Where("petition_id = ? AND contact_id = ?", petitionID, contactID).Exec(ctx); err != nil {
		return fmt.Errorf("show signature: %w", err)
	}
	return nil
}

func optionalID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// CountCampaignSignatures returns how many signatures of petitionID the
// campaign brought.
func (s *Store) CountCampaignSignatures(ctx context.Context, petitionID, campaignID int64) (int64, error) {
	n, err := s.db.NewSelect().Model((*Signature)(nil)).Where("petition_id = ? AND campaign_id = ?", petitionID, campaignID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count campaign signatures: %w", err)
	}
	return int64(n), nil
}
