package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

// Kinds of petition, and the orders a letter lists its organizations in.
const (
	PetitionKindPetition = "petition" // people sign
	PetitionKindLetter   = "letter"   // organizations sign on, shown once approved

	OrgOrderApproved     = "approved"     // in the order the organizer approved them
	OrgOrderAlphabetical = "alphabetical" // by organization name
)

// Statuses of an organization's signature on a letter.
const (
	OrgPending  = "pending"
	OrgApproved = "approved"
	OrgRejected = "rejected"
)

// OrganizationSignature is an organization's name on a sign-on letter. It is
// listed on the letter only once an organizer approves it.
type OrganizationSignature struct {
	bun.BaseModel `bun:"table:organization_signatures"`
	ID            int64      `bun:"id,pk,autoincrement" json:"id"`
	PetitionID    int64      `bun:"petition_id" json:"petition_id"`
	Organization  string     `bun:"organization" json:"organization"`
	ContactName   string     `bun:"contact_name" json:"contact_name"`
	Email         string     `bun:"email" json:"email"`
	EmailKey      string     `bun:"email_key" json:"-"` // one signature per petition and key
	Website       string     `bun:"website" json:"website"`
	Status        string     `bun:"status" json:"status"`
	CreatedAt     time.Time  `bun:"created_at" json:"created_at"`
	DecidedAt     *time.Time `bun:"decided_at" json:"decided_at,omitempty"`
}

// SignatureID returns the id of contactID's signature on petitionID.
func (s *Store) SignatureID(ctx context.Context, petitionID, contactID int64) (int64, error) {
	var id int64
	if err := s.db.NewSelect().Model((*Signature)(nil)).Column("id").
		Where("petition_id = ? AND contact_id = ?", petitionID, contactID).Scan(ctx, &id); err != nil {
		return 0, notFound(err, "signature", fmt.Sprintf("%d/%d", petitionID, contactID))
	}
	return id, nil
}

// PublicSigner is what the page shows of a signer who agreed to be shown:
// a first name and a place, never more.
type PublicSigner struct {
	FirstName string `bun:"first_name" json:"first_name"`
	Place     string `bun:"place" json:"place"`
}

// RecentSigners returns the last limit signers of petitionID who agreed to
// be shown, newest first; the place is the city they typed, else their region.
func (s *Store) RecentSigners(ctx context.Context, petitionID int64, limit int) ([]PublicSigner, error) {
	out := []PublicSigner{}
	if err := s.db.NewSelect().TableExpr("signatures AS sg").Join("JOIN contacts AS c ON c.id = sg.contact_id").
		ColumnExpr("c.first_name, CASE WHEN sg.city <> '' THEN sg.city ELSE c.region END AS place").
		Where("sg.petition_id = ? AND sg.show_name = ?", petitionID, true).Where("c.first_name <> ''").
		OrderExpr("sg.created_at DESC, sg.id DESC").Limit(int64(limit)).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("recent signers: %w", err)
	}
	return out, nil
}

// SignLetter puts an organization's name on a letter, pending approval, and
// reports whether it is new: the same email signing again changes nothing.
func (s *Store) SignLetter(ctx context.Context, o *OrganizationSignature) (bool, error) {
	o.Status, o.CreatedAt, o.DecidedAt = OrgPending, time.Now().UTC(), nil
	res, err := s.db.NewInsert().Model(o).On("CONFLICT (petition_id, email_key) DO NOTHING").Returning("NULL").Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("sign letter %d: %w", o.PetitionID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sign letter %d: %w", o.PetitionID, err)
	}
	return n == 1, nil
}

// OrganizationSignatures returns the organizations on petitionID with status
// (any status when empty), oldest first.
func (s *Store) OrganizationSignatures(ctx context.Context, petitionID int64, status string) ([]OrganizationSignature, error) {
	out := []OrganizationSignature{}
	q := s.db.NewSelect().Model(&out).Where("petition_id = ?", petitionID).Order("id")
	if status != "" {
		q = q.Where("status = ?", status)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list organization signatures: %w", err)
	}
	return out, nil
}

// ApprovedOrganizations returns the organizations shown on letter p, in its
// order: as approved, or alphabetically.
func (s *Store) ApprovedOrganizations(ctx context.Context, p *Petition) ([]OrganizationSignature, error) {
	out := []OrganizationSignature{}
	q := s.db.NewSelect().Model(&out).Where("petition_id = ? AND status = ?", p.ID, OrgApproved)
	if p.OrgOrder == OrgOrderAlphabetical {
		q = q.OrderExpr("lower(organization), id")
	} else {
		q = q.OrderExpr("decided_at, id")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list approved organizations: %w", err)
	}
	return out, nil
}

// CountOrganizations returns how many organizations signed letter
// petitionID with status (any status when empty).
func (s *Store) CountOrganizations(ctx context.Context, petitionID int64, status string) (int64, error) {
	q := s.db.NewSelect().Model((*OrganizationSignature)(nil)).Where("petition_id = ?", petitionID)
	if status != "" {
		q = q.Where("status = ?", status)
	}
	n, err := q.Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count organizations: %w", err)
	}
	return int64(n), nil
}

// DecideOrganization approves or rejects organization signature id of
// petitionID. Deciding again is allowed: an approval withdrawn is a rejection.
func (s *Store) DecideOrganization(ctx context.Context, petitionID, id int64, status string) (*OrganizationSignature, error) {
	if status != OrgApproved && status != OrgRejected {
		return nil, errs.Field("status", "must be %s or %s", OrgApproved, OrgRejected)
	}
	var o OrganizationSignature
	err := s.db.NewUpdate().Model(&o).Set("status = ?", status).Set("decided_at = ?", time.Now().UTC()).
		Where("id = ? AND petition_id = ?", id, petitionID).Returning("*").Scan(ctx)
	if err != nil {
		return nil, notFound(err, "organization signature", id)
	}
	return &o, nil
}

// GetSignature returns the signature with id.
func (s *Store) GetSignature(ctx context.Context, id int64) (*Signature, error) {
	var sig Signature
	if err := s.db.NewSelect().Model(&sig).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "signature", id)
	}
	return &sig, nil
}
