package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BounceCasesDir is where the shared collection of real delivery reports
// lives, next to the checkout: ../shared/conformance/bounces/cases. The
// collection is read from there, never copied into this tree.
const BounceCasesDir = "shared/conformance/bounces/cases"

// ReadBounceCase returns the real report name (such as "lhost-postfix-14.eml")
// of the shared collection, looked for in ../shared beside every directory
// above the working directory.
func ReadBounceCase(name string) ([]byte, error) {
	dir, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	for {
		if raw, err := os.ReadFile(filepath.Join(dir, BounceCasesDir, name)); err == nil {
			return raw, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil, fmt.Errorf("bounce case %s: no %s beside the checkout or above it", name, BounceCasesDir)
		}
		dir = parent
	}
}

// BounceCase is ReadBounceCase for a test, which is skipped with the reason
// when the shared collection is not beside the checkout (CI always has it).
func BounceCase(tb testing.TB, name string) []byte {
	tb.Helper()
	raw, err := ReadBounceCase(name)
	if err != nil {
		tb.Skipf("%v; it lives in ../shared next to the checkout", err)
	}
	return raw
}
