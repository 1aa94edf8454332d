package export

import "testing"

// TestSafeCell: a cell a spreadsheet would run as a formula is made text.
func TestSafeCell(t *testing.T) {
	for in, want := range map[string]string{
		"ann@example.org":           "ann@example.org",
		"=HYPERLINK(\"x\")@evil.ex": "'=HYPERLINK(\"x\")@evil.ex",
		"+1@example.org":            "'+1@example.org",
		"-2@example.org":            "'-2@example.org",
		"@SUM(A1)":                  "'@SUM(A1)",
		"":                          "",
	} {
		if got := SafeCell(in); got != want {
			t.Errorf("SafeCell(%q) = %q, want %q", in, got, want)
		}
	}
}
