package mailer_test

import (
	"strings"
	"testing"
)

// TestDKIMRefusesUnalignedFrom: the signer for example.org signs mail from
// example.org and its subdomains, and refuses, naming the domains, mail from
// any other: a signature DMARC does not align with would only look forged.
func TestDKIMRefusesUnalignedFrom(t *testing.T) {
	t.Parallel()
	s := mustDKIMSigner(t, mustDKIMKey(t, "ed25519"))
	for _, tt := range []struct {
		from, name string
		ok         bool
	}{
		{"alerts@example.org", "Défense des Forêts", true},
		{"news@act.example.org", "", true},
		{"alerts@Example.ORG", "Ada", true},
		{"alerts@example.org.evil.net", "", false},
		{"alerts@notexample.org", "x@example.org", false},
		{"alerts@other.net", "", false},
	} {
		m := testMessage()
		m.FromEmail, m.FromName = tt.from, tt.name
		_, err := s.Sign(nil, mustBuildBytes(t, m))
		if ok := err == nil; ok != tt.ok {
			t.Errorf("Sign from %q <%s>: %v; want signed: %v", tt.name, tt.from, err, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "example.org") {
			t.Errorf("error %q does not name the signing domain", err)
		}
	}
}
