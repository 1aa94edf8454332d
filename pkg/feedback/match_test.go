package feedback

import (
	"strconv"
	"testing"
)

func TestParseMessageID(t *testing.T) {
	for _, tc := range []struct {
		in         string
		c, s       int64
		deployment string
		ok         bool
	}{
		{"<c12.s345.abcdef@example.org>", 12, 345, "abcdef", true},
		{"c12.s345@example.org", 12, 345, "", true},
		{"<20150429233445.7620000C1A@p6.libsisimai.org>", 0, 0, "", false},
		{"c0.s1.x@y", 0, 0, "", false},
		{"c1.s2.x.y@z", 0, 0, "", false},
		{"c1.s2.x", 0, 0, "", false},
	} {
		c, s, d, ok := parseMessageID(tc.in)
		if c != tc.c || s != tc.s || d != tc.deployment || ok != tc.ok {
			t.Errorf("parseMessageID(%q) = %d %d %q %v, want %d %d %q %v", tc.in, c, s, d, ok, tc.c, tc.s, tc.deployment, tc.ok)
		}
	}
}

// FuzzParseMessageID: what parses gives positive ids that print back into
// the same Message-ID.
func FuzzParseMessageID(f *testing.F) {
	f.Add("<c12.s345.abcdef@example.org>")
	f.Add("c1.s2@x")
	f.Fuzz(func(t *testing.T, id string) {
		c, s, d, ok := parseMessageID(id)
		if !ok {
			return
		}
		if c <= 0 || s <= 0 {
			t.Fatalf("%q: ids %d %d", id, c, s)
		}
		local := "c" + strconv.FormatInt(c, 10) + ".s" + strconv.FormatInt(s, 10)
		if d != "" {
			local += "." + d
		}
		if c2, s2, d2, ok2 := parseMessageID(local + "@x"); !ok2 || c2 != c || s2 != s || d2 != d {
			t.Fatalf("%q: does not read back", id)
		}
	})
}
