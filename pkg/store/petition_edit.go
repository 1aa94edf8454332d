package store

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

// petitionSlugRe is what render's action_link accepts, so every petition can
// be linked from an email.
var petitionSlugRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// CheckPetition trims p's one-line fields and checks it as the API and the
// admin UI take it; the error names the field at fault. Empty Kind and
// OrgOrder are given their defaults.
func CheckPetition(p *Petition) error {
	p.Slug, p.Title, p.Target = strings.TrimSpace(p.Slug), strings.TrimSpace(p.Title), strings.TrimSpace(p.Target)
	if p.Kind == "" {
		p.Kind = PetitionKindPetition
	}
	if p.OrgOrder == "" {
		p.OrgOrder = OrgOrderApproved
	}
	switch {
	case !petitionSlugRe.MatchString(p.Slug):
		return errs.Field("slug", "must be 1 to 64 lowercase letters, digits and dashes, starting with a letter or digit")
	case p.Title == "" || utf8.RuneCountInString(p.Title) > 200:
		return errs.Field("title", "is required, at most 200 characters")
	case utf8.RuneCountInString(p.Target) > 200:
		return errs.Field("target", "at most 200 characters")
	case len(p.PetitionText) > 100_000:
		return errs.Field("petition_text", "at most 100,000 bytes")
	case p.Goal < 0:
		return errs.Field("goal", "must not be negative")
	case len(p.ThankYouText) > 10_000:
		return errs.Field("thank_you_text", "at most 10,000 bytes")
	case utf8.RuneCountInString(p.ShareText) > 280:
		return errs.Field("share_text", "at most 280 characters")
	case p.Kind != PetitionKindPetition && p.Kind != PetitionKindLetter:
		return errs.Field("kind", "must be %s (people sign) or %s (organizations sign on)", PetitionKindPetition, PetitionKindLetter)
	case p.OrgOrder != OrgOrderApproved && p.OrgOrder != OrgOrderAlphabetical:
		return errs.Field("org_order", "must be %s or %s", OrgOrderApproved, OrgOrderAlphabetical)
	}
	return nil
}

// UpdatePetition saves every field of p but its id and creation time; a
// slug another petition has is a conflict. Check p with CheckPetition first.
func (s *Store) UpdatePetition(ctx context.Context, p *Petition) error {
	res, err := s.db.NewUpdate().Model(p).
		Column("slug", "title", "target", "petition_text", "goal", "open", "thank_you_text", "share_text", "kind", "org_order").
		WherePK().Exec(ctx)
	if err != nil {
		if isUniqueViolation(err) {
			return &errs.Error{Code: errs.Conflict, Field: "slug", Message: fmt.Sprintf("a petition with slug %q already exists", p.Slug), Err: err}
		}
		return fmt.Errorf("update petition %d: %w", p.ID, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return &errs.Error{Code: errs.NotFound, Message: fmt.Sprintf("petition %d not found", p.ID), Err: ErrNotFound}
	}
	return nil
}
