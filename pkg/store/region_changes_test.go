package store

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzRegionChanges reads any text as an import's region changes: an
// error, or changes that are written back as text reading the same.
func FuzzRegionChanges(f *testing.F) {
	for _, s := range []string{"", "[]", `[{"from":"New York","to":"NY","rows":12}]`, `[{"from":"québec","to":"QC","rows":1},{"from":"n.j.","to":"NJ","rows":3}]`,
		`{"from":1}`, `[{"rows":-1}]`, "null", `[null]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var c RegionChanges
		if err := c.Scan(s); err != nil {
			return
		}
		var b RegionChanges
		if err := b.Scan([]byte(s)); err != nil {
			t.Fatalf("read as text, not as bytes: %v", err)
		}
		v, err := c.Value()
		if err != nil {
			t.Fatalf("write %+v: %v", c, err)
		}
		var again RegionChanges
		if err := again.Scan(v); err != nil {
			t.Fatalf("read back %q: %v", v, err)
		}
		if len(c) == 0 {
			c = nil
		}
		if diff := cmp.Diff(c, again); diff != "" {
			t.Fatalf("round trip of %q (-read +read back):\n%s", s, diff)
		}
	})
}
