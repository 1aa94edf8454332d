package bounce

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// conformanceDirs are where the real reports (sisimai's set-of-emails) and
// the reference parser's reading of them may be: ../shared next to the
// checkout, or next to the directory of worktrees.
var conformanceDirs = []string{"../../../shared/conformance/bounces", "../../../../shared/conformance/bounces"}

// The floors this reader reaches; a change that scores lower fails.
const (
	minCasesPassed = 394
	// Suppressing a live address is worse than missing a dead one: no
	// address may be called hard that the reference does not call hard.
	maxWrongHard = 0
)

// TestConformance reads every case and compares (recipient, kind) with
// what Sisimai reads, as the conformance runner does.
func TestConformance(t *testing.T) {
	var conformanceDir string
	var raw []byte
	var err error
	for _, conformanceDir = range conformanceDirs {
		if raw, err = os.ReadFile(filepath.Join(conformanceDir, "expected.json")); err == nil {
			break
		}
	}
	if err != nil {
		t.Skipf("conformance cases not found (%v); they live in ../shared/conformance/bounces next to the checkout", err)
	}
	var expected map[string]map[string]struct{ Kind Kind }
	if err := json.Unmarshal(raw, &expected); err != nil {
		t.Fatal(err)
	}
	passed, wrongHard, complaints, complaintsFound := 0, 0, 0, 0
	for name, want := range expected {
		f, err := os.Open(filepath.Join(conformanceDir, "cases", name))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Read(f)
		f.Close()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		got := map[string]Kind{}
		for _, fl := range rep.Failures {
			r := fl.Recipient
			if r == "" {
				r = UnknownRecipient
			}
			got[strings.ToLower(r)] = fl.Kind
		}
		same := len(got) == len(want)
		for r, w := range want {
			r = strings.ToLower(r)
			if got[r] != w.Kind {
				same = false
			}
			if w.Kind == Complaint {
				complaints++
				if got[r] == Complaint {
					complaintsFound++
				}
			}
		}
		for r, k := range got {
			if w, ok := want[r]; k == Hard && (!ok || w.Kind != Hard) {
				wrongHard++
				t.Errorf("%s: %s read as hard, the reference says %q", name, r, w.Kind)
			}
		}
		if same {
			passed++
		} else if testing.Verbose() {
			t.Logf("%s: want %v, got %v", name, want, got)
		}
	}
	t.Logf("%d/%d cases, %d addresses wrongly hard, complaints %d/%d", passed, len(expected), wrongHard, complaintsFound, complaints)
	if passed < minCasesPassed {
		t.Errorf("%d cases pass, want at least %d", passed, minCasesPassed)
	}
	if wrongHard > maxWrongHard {
		t.Errorf("%d addresses wrongly read as hard, want at most %d", wrongHard, maxWrongHard)
	}
	if complaintsFound != complaints {
		t.Errorf("%d of %d complaints found, want all", complaintsFound, complaints)
	}
}
