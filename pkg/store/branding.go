package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

// Media is one image of the library. Its file is named by the SHA-256 of
// its bytes; Data is loaded only when the bytes are served.
type Media struct {
	bun.BaseModel `bun:"table:media"`
	ID            int64     `bun:"id,pk,autoincrement" json:"id"`
	SHA256        string    `bun:"sha256" json:"sha256"`
	Name          string    `bun:"name" json:"name"` // the file name it was uploaded with
	ContentType   string    `bun:"content_type" json:"content_type"`
	Size          int64     `bun:"size" json:"size"`
	Width         int       `bun:"width" json:"width"`
	Height        int       `bun:"height" json:"height"`
	Data          []byte    `bun:"data" json:"-"`
	CreatedBy     string    `bun:"created_by" json:"created_by"`
	CreatedAt     time.Time `bun:"created_at" json:"created_at"`
}

// Branding is the organization's identity as an admin saved it. Without a
// saved row the configuration's values stand (pkg/brand).
type Branding struct {
	bun.BaseModel `bun:"table:branding"`
	ID            int64     `bun:"id,pk"` // always 1
	OrgName       string    `bun:"org_name"`
	LogoID        *int64    `bun:"logo_id"`
	PrimaryColor  string    `bun:"primary_color"`
	AccentColor   string    `bun:"accent_color"`
	FooterText    string    `bun:"footer_text"`
	PostalAddress string    `bun:"postal_address"`
	FromName      string    `bun:"from_name"`
	FromEmail     string    `bun:"from_email"`
	UpdatedBy     string    `bun:"updated_by"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

// CreateMedia stores m, unless an image with the same bytes is stored
// already: then m becomes that one and created is false.
func (s *Store) CreateMedia(ctx context.Context, m *Media) (created bool, err error) {
	m.CreatedAt = time.Now().UTC()
	res, err := s.db.NewInsert().Model(m).On("CONFLICT (sha256) DO NOTHING").Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("store image: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store image: %w", err)
	}
	data := m.Data
	if err := s.db.NewSelect().Model(m).ExcludeColumn("data").Where("sha256 = ?", m.SHA256).Scan(ctx); err != nil {
		return false, fmt.Errorf("read stored image: %w", err)
	}
	m.Data = data
	return n == 1, nil
}

// ListMedia returns the images of the library without their bytes, the
// newest first, at most limit.
func (s *Store) ListMedia(ctx context.Context, limit int) ([]Media, error) {
	var out []Media
	if err := s.db.NewSelect().Model(&out).ExcludeColumn("data").OrderExpr("created_at DESC, id DESC").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	return out, nil
}

// GetMedia returns an image of the library without its bytes.
func (s *Store) GetMedia(ctx context.Context, id int64) (*Media, error) {
	m := &Media{}
	if err := s.db.NewSelect().Model(m).ExcludeColumn("data").Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "image", id)
	}
	return m, nil
}

// MediaBySHA256 returns an image with its bytes.
func (s *Store) MediaBySHA256(ctx context.Context, sum string) (*Media, error) {
	m := &Media{}
	if err := s.db.NewSelect().Model(m).Where("sha256 = ?", sum).Scan(ctx); err != nil {
		return nil, notFound(err, "image", sum)
	}
	return m, nil
}

// DeleteMedia removes an image from the library. The logo cannot be
// removed (a conflict): the branding would name an image that is gone.
func (s *Store) DeleteMedia(ctx context.Context, id int64) error {
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		n, err := tx.NewSelect().Model((*Branding)(nil)).Where("logo_id = ?", id).Count(ctx)
		if err != nil {
			return fmt.Errorf("delete image %d: %w", id, err)
		}
		if n > 0 {
			return errs.New(errs.Conflict, "this image is the organization's logo: choose another logo on the Branding screen before deleting it")
		}
		res, err := tx.NewDelete().Model((*Media)(nil)).Where("id = ?", id).Exec(ctx)
		if err != nil {
			if isForeignKeyViolation(err) { // made the logo since the check
				return errs.New(errs.Conflict, "this image is the organization's logo: choose another logo on the Branding screen before deleting it")
			}
			return fmt.Errorf("delete image %d: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("delete image %d: %w", id, err)
		} else if n == 0 {
			return notFound(sql.ErrNoRows, "image", id)
		}
		return nil
	})
}

// GetBranding returns the saved branding and its logo (nil: none), a
// not-found error when none was ever saved.
func (s *Store) GetBranding(ctx context.Context) (*Branding, *Media, error) {
	b := &Branding{}
	if err := s.db.NewSelect().Model(b).Where("id = 1").Scan(ctx); err != nil {
		return nil, nil, notFound(err, "branding", 1)
	}
	if b.LogoID == nil {
		return b, nil, nil
	}
	logo, err := s.GetMedia(ctx, *b.LogoID)
	if err != nil {
		return nil, nil, fmt.Errorf("branding logo: %w", err)
	}
	return b, logo, nil
}

// SaveBranding replaces the saved branding with b, whole. Callers check
// its fields (pkg/brand); a logo naming no image is refused on "logo".
func (s *Store) SaveBranding(ctx context.Context, b *Branding) error {
	b.ID, b.UpdatedAt = 1, time.Now().UTC()
	_, err := s.db.NewInsert().Model(b).On("CONFLICT (id) DO UPDATE").
		Set("org_name = EXCLUDED.org_name, logo_id = EXCLUDED.logo_id, primary_color = EXCLUDED.primary_color").
		Set("accent_color = EXCLUDED.accent_color, footer_text = EXCLUDED.footer_text, postal_address = EXCLUDED.postal_address").
		Set("from_name = EXCLUDED.from_name, from_email = EXCLUDED.from_email, updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at").
		Exec(ctx)
	if isForeignKeyViolation(err) {
		return &errs.Error{Code: errs.Invalid, Field: "logo", Message: "names an image that is no longer in the library", Err: err}
	}
	if err != nil {
		return fmt.Errorf("save branding: %w", err)
	}
	return nil
}

// isForeignKeyViolation reports whether err is a foreign-key failure in either dialect.
func isForeignKeyViolation(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "FOREIGN KEY constraint failed") || strings.Contains(msg, "SQLSTATE 23503")
}
