package brand

import (
	"context"
	"testing"
	"time"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// countingStore keeps one branding in memory and counts the reads.
type countingStore struct {
	saved *store.Branding
	reads int
}

func (c *countingStore) GetBranding(context.Context) (*store.Branding, *store.Media, error) {
	c.reads++
	if c.saved == nil {
		return nil, nil, errs.New(errs.NotFound, "branding 1 not found")
	}
	b := *c.saved
	return &b, nil, nil
}

func (c *countingStore) SaveBranding(_ context.Context, b *store.Branding) error {
	c.saved = b
	return nil
}

func (c *countingStore) GetMedia(_ context.Context, id int64) (*store.Media, error) {
	return nil, errs.New(errs.NotFound, "image %d not found", id)
}

// TestSourceKeepsAWhile: the defaults stand until a save; what is read is
// kept for the ttl, except that a save through the Source is seen at once.
func TestSourceKeepsAWhile(t *testing.T) {
	t.Parallel()
	st := &countingStore{}
	now := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	s := NewSource(st, Brand{OrgName: "From the environment", PostalAddress: "1 Main St"}, 5*time.Second)
	s.now = func() time.Time { return now }
	ctx := context.Background()
	current := func() Brand {
		t.Helper()
		b, err := s.Current(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if b := current(); b.OrgName != "From the environment" || b.Saved || b.Primary != DefaultPrimary {
		t.Errorf("before a save: %+v", b)
	}
	current()
	if st.reads != 1 {
		t.Errorf("two reads within the ttl queried %d times, want 1", st.reads)
	}
	b := Brand{OrgName: "Saved", PostalAddress: "2 Side St", Primary: "#203a5c", Accent: "#7a1f5c", FromName: "Lee", FromEmail: "lee@example.org"}
	if err := s.Save(ctx, b, "ada@example.org"); err != nil {
		t.Fatal(err)
	}
	if got := current(); got.OrgName != "Saved" || !got.Saved || got.UpdatedBy != "ada@example.org" {
		t.Errorf("right after the save: %+v", got)
	}
	// Another process saves: seen once the ttl has passed.
	st.saved.OrgName = "Saved elsewhere"
	if got := current(); got.OrgName != "Saved" {
		t.Errorf("within the ttl: %q", got.OrgName)
	}
	now = now.Add(5 * time.Second)
	if got := current(); got.OrgName != "Saved elsewhere" {
		t.Errorf("after the ttl: %q", got.OrgName)
	}
	// A wrong field saves nothing.
	b.Accent = "#ffff00"
	if err := s.Save(ctx, b, "ada@example.org"); errs.CodeOf(err) != errs.Invalid {
		t.Errorf("save with a light accent: %v", err)
	}
	if st.saved.AccentColor != "#7a1f5c" {
		t.Errorf("a refused save changed the accent to %s", st.saved.AccentColor)
	}
	// A logo that is not in the library is refused at the logo.
	b.Accent, b.Logo = "#7a1f5c", &Image{ID: 42}
	if e, ok := errs.As(s.Save(ctx, b, "ada@example.org")); !ok || e.Field != "logo" {
		t.Errorf("save with a logo not in the library: %v", e)
	}
}
