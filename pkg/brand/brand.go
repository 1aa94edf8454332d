// Package brand owns the organization's identity as recipients see it (its
// name, logo, colors, footer, postal address and default sender) and the
// image library the logo and messages draw from. The admin saves both in
// the database; the DEARFRIEND_* variables stand until then. It checks what
// is saved (hex colors readable with white text, a postal address, a sender
// address, images that are what they claim to be) and serves the images;
// layouts and pages read the branding through a Source at each render. It
// stores through pkg/store and knows nothing of the admin UI's forms.
package brand

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/input"
	"github.com/dearfriend/dearfriend/pkg/render"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// The colors of the layouts and pages until an admin chooses others: a dark
// green for the masthead and links, a brick red for buttons.
const (
	DefaultPrimary = "#1d3b2a"
	DefaultAccent  = "#c8402b"
)

// Limits of the branding's fields, in characters.
const (
	MaxOrgName       = 200
	MaxPostalAddress = 300
	MaxFooterText    = 500
	MaxFromName      = 100
)

// MinContrast is the contrast a color needs with white (WCAG 2 AA for
// text): the masthead's name, button labels and links are white on the
// colors, or the colors on white.
const MinContrast = 4.5

// Brand is the organization's identity at one moment.
type Brand struct {
	OrgName       string
	PostalAddress string // CAN-SPAM: in every footer
	FooterText    string // an extra line of the footers; may be empty
	Primary       string // #rrggbb: masthead, links, outlines
	Accent        string // #rrggbb: buttons
	FromName      string // the default sender of new messages and confirmations
	FromEmail     string
	Logo          *Image // nil: the name stands in the masthead
	// Saved is true when an admin saved the branding, false when it is the
	// configuration's.
	Saved     bool
	UpdatedBy string
	UpdatedAt time.Time
}

// Image is a stored image as a page or a layout refers to it.
type Image struct {
	ID            int64
	SHA256        string
	ContentType   string
	Width, Height int
}

// Path is where the image is served, under any host: /media/<sha256>.<ext>.
func (i *Image) Path() string {
	if i == nil {
		return ""
	}
	return MediaPath(i.SHA256, i.ContentType)
}

// ImageOf is how a page or layout refers to a stored image.
func ImageOf(m *store.Media) *Image {
	if m == nil {
		return nil
	}
	return &Image{ID: m.ID, SHA256: m.SHA256, ContentType: m.ContentType, Width: m.Width, Height: m.Height}
}

// LogoPath is the logo's path, "" without one.
func (b Brand) LogoPath() string { return b.Logo.Path() }

// LogoHeight is the height the logo is shown at in mastheads (48 px at
// most) and LogoWidth the width that keeps its proportions.
func (b Brand) LogoHeight() int {
	if b.Logo == nil {
		return 0
	}
	return min(b.Logo.Height, 48)
}

// LogoWidth goes with LogoHeight.
func (b Brand) LogoWidth() int {
	if b.Logo == nil || b.Logo.Height == 0 {
		return 0
	}
	return max(1, int(math.Round(float64(b.Logo.Width)*float64(b.LogoHeight())/float64(b.Logo.Height))))
}

// Check validates and normalizes b's fields (colors lower case, #rrggbb;
// text trimmed), naming the first field at fault as the form names it.
func (b *Brand) Check() error {
	b.OrgName, b.PostalAddress, b.FooterText = strings.TrimSpace(b.OrgName), strings.TrimSpace(b.PostalAddress), strings.TrimSpace(b.FooterText)
	b.FromName, b.FromEmail = strings.TrimSpace(b.FromName), strings.TrimSpace(b.FromEmail)
	for _, f := range []struct {
		name, value string
		max         int
		required    string
	}{
		{"org_name", b.OrgName, MaxOrgName, "is required: every footer names the organization"},
		{"postal_address", b.PostalAddress, MaxPostalAddress, "is required: the law (CAN-SPAM) wants a postal address in every email"},
		{"footer_text", b.FooterText, MaxFooterText, ""},
		{"from_name", b.FromName, MaxFromName, "is required"},
	} {
		if err := input.Check(f.name, f.value, false); err != nil {
			return err
		}
		if f.value == "" && f.required != "" {
			return errs.Field(f.name, "%s", f.required)
		}
		if n := utf8.RuneCountInString(f.value); n > f.max {
			return errs.Field(f.name, "is %d characters long; the limit is %d", n, f.max)
		}
	}
	var err error
	if b.Primary, err = checkColor("primary_color", b.Primary, "the masthead's white text"); err != nil {
		return err
	}
	if b.Accent, err = checkColor("accent_color", b.Accent, "the buttons' white text"); err != nil {
		return err
	}
	if b.FromEmail == "" {
		return errs.Field("from_email", "is required")
	}
	if a, err := mail.ParseAddress(b.FromEmail); err != nil || a.Address != b.FromEmail || !strings.Contains(a.Address[strings.LastIndexByte(a.Address, '@')+1:], ".") {
		return errs.Field("from_email", "must be a plain email address like action@example.org")
	}
	return nil
}

// checkColor reads a color as the form takes it and refuses one white text
// cannot be read on (what names the white text that would be unreadable).
func checkColor(field, v, what string) (string, error) {
	c, err := ParseColor(v)
	if err != nil {
		return "", errs.Field(field, "%v", err)
	}
	if r := Contrast(c, "#ffffff"); r < MinContrast {
		return "", errs.Field(field, "%s is too light: %s on it has a contrast of %.1f:1, and text needs at least %.1f:1 to be read; choose a darker color", c, what, r, MinContrast)
	}
	return c, nil
}

// ParseColor reads a hex color, #rgb or #rrggbb (the # optional), as #rrggbb in lower case.
func ParseColor(s string) (string, error) {
	h := strings.TrimPrefix(strings.TrimSpace(s), "#")
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	if len(h) != 6 || strings.Trim(strings.ToLower(h), "0123456789abcdef") != "" {
		return "", fmt.Errorf("must be a hex color like #1d3b2a, not %q", s)
	}
	return "#" + strings.ToLower(h), nil
}

// Contrast is the WCAG 2 contrast ratio of two #rrggbb colors, 1 to 21.
func Contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// luminance is the relative luminance of a #rrggbb color.
func luminance(c string) float64 {
	var l float64
	for i, weight := range []float64{0.2126, 0.7152, 0.0722} {
		v, _ := strconv.ParseUint(c[1+2*i:3+2*i], 16, 8)
		s := float64(v) / 255
		if s <= 0.04045 {
			s /= 12.92
		} else {
			s = math.Pow((s+0.055)/1.055, 2.4)
		}
		l += weight * s
	}
	return l
}

// Store is what a Source needs of the database.
type Store interface {
	GetBranding(ctx context.Context) (*store.Branding, *store.Media, error)
	SaveBranding(ctx context.Context, b *store.Branding) error
	GetMedia(ctx context.Context, id int64) (*store.Media, error)
}

var _ Store = (*store.Store)(nil)

// Source reads the branding for each render: the saved one, else the
// defaults (the configuration's). What it read is kept for ttl, so a busy
// page costs no query per view; a save through it is seen by its own
// process at once and by others within ttl.
type Source struct {
	store    Store
	defaults Brand
	ttl      time.Duration
	now      func() time.Time

	mu   sync.Mutex
	cur  Brand
	read time.Time // when cur was read; zero: never
}

// DefaultTTL is how long a Source keeps what it read.
const DefaultTTL = 5 * time.Second

// NewSource reads the branding from st, with defaults until one is saved.
func NewSource(st Store, defaults Brand, ttl time.Duration) *Source {
	defaults.Primary, defaults.Accent = cmp.Or(defaults.Primary, DefaultPrimary), cmp.Or(defaults.Accent, DefaultAccent)
	return &Source{store: st, defaults: defaults, ttl: ttl, now: time.Now}
}

// Defaults is the branding in force while none is saved.
func (s *Source) Defaults() Brand { return s.defaults }

// Current returns the branding in force.
func (s *Source) Current(ctx context.Context) (Brand, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if !s.read.IsZero() && now.Sub(s.read) < s.ttl {
		return s.cur, nil
	}
	b, logo, err := s.store.GetBranding(ctx)
	switch {
	case errs.CodeOf(err) == errs.NotFound:
		s.cur = s.defaults
	case err != nil:
		return Brand{}, err
	default:
		s.cur = Brand{OrgName: b.OrgName, PostalAddress: b.PostalAddress, FooterText: b.FooterText, Primary: b.PrimaryColor,
			Accent: b.AccentColor, FromName: b.FromName, FromEmail: b.FromEmail, Logo: ImageOf(logo),
			Saved: true, UpdatedBy: b.UpdatedBy, UpdatedAt: b.UpdatedAt}
	}
	s.read = now
	return s.cur, nil
}

// Save checks b and saves it as the branding, by the user named by; its
// Logo names an image of the library by ID, or is nil for none. Nothing is
// saved when a field is wrong.
func (s *Source) Save(ctx context.Context, b Brand, by string) error {
	if err := b.Check(); err != nil {
		return err
	}
	row := &store.Branding{OrgName: b.OrgName, PrimaryColor: b.Primary, AccentColor: b.Accent, FooterText: b.FooterText,
		PostalAddress: b.PostalAddress, FromName: b.FromName, FromEmail: b.FromEmail, UpdatedBy: by}
	if b.Logo != nil {
		m, err := s.store.GetMedia(ctx, b.Logo.ID)
		if errs.CodeOf(err) == errs.NotFound {
			return errs.Field("logo", "names an image that is no longer in the library")
		} else if err != nil {
			return err
		}
		if !IsImageType(m.ContentType) {
			return errs.Field("logo", "must be a PNG, JPEG, GIF or WebP image")
		}
		row.LogoID = &m.ID
	}
	if err := s.store.SaveBranding(ctx, row); err != nil {
		return err
	}
	s.mu.Lock()
	s.read = time.Time{}
	s.mu.Unlock()
	return nil
}

// Reader gives the branding in force; a *Source is one.
type Reader interface {
	Current(ctx context.Context) (Brand, error)
}

// Fixed is a Reader of b alone (the default colors where b has none): the
// branding of tests and tools that read no database.
func Fixed(b Brand) Reader {
	b.Primary, b.Accent = cmp.Or(b.Primary, DefaultPrimary), cmp.Or(b.Accent, DefaultAccent)
	return fixed(b)
}

type fixed Brand

func (f fixed) Current(context.Context) (Brand, error) { return Brand(f), nil }

// EmailOrg is the branding as the email layouts take it; the logo's URL
// is absolute, under publicURL, as a mail client needs it.
func (b Brand) EmailOrg(publicURL string) render.Org {
	o := render.Org{Name: b.OrgName, PostalAddress: b.PostalAddress, FooterText: b.FooterText, Primary: b.Primary, Accent: b.Accent}
	if b.Logo != nil {
		o.LogoURL, o.LogoWidth, o.LogoHeight = strings.TrimSuffix(publicURL, "/")+b.LogoPath(), b.LogoWidth(), b.LogoHeight()
	}
	return o
}
