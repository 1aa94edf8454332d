package admin

import (
	"slices"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// TestTimeZones checks that every zone the schedule offers is one the
// store takes, sorted, and that the default is among them.
func TestTimeZones(t *testing.T) {
	for _, z := range timeZones {
		if _, err := store.LoadZone(z); err != nil {
			t.Errorf("offered zone %s: %v", z, err)
		}
	}
	if !slices.IsSorted(timeZones) || !slices.Contains(timeZones, defaultZone) || len(timeZones) < 300 {
		t.Errorf("%d zones, sorted %v, with %s %v", len(timeZones), slices.IsSorted(timeZones), defaultZone, slices.Contains(timeZones, defaultZone))
	}
}
