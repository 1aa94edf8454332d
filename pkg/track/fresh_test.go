package track

import (
	"crypto/sha256"
	"encoding/base64"
	"io/fs"
	"regexp"
	"testing"

	"github.com/dearfriend/dearfriend/templates"
)

// TestFreshScriptHash keeps the policy's script hash in step with the one
// script of the pages' base template: a changed script would be blocked.
func TestFreshScriptHash(t *testing.T) {
	b, err := fs.ReadFile(templates.FS, "pages/base.html")
	if err != nil {
		t.Fatal(err)
	}
	scripts := regexp.MustCompile(`<script>(.*?)</script>`).FindAllSubmatch(b, -1)
	if len(scripts) != 1 {
		t.Fatalf("base.html has %d scripts, want 1", len(scripts))
	}
	sum := sha256.Sum256(scripts[0][1])
	if want := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; want != freshScript {
		t.Errorf("freshScript = %s, want %s", freshScript, want)
	}
}
