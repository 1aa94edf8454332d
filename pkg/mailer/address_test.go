package mailer

import (
	netmail "net/mail"
	"testing"
)

// TestDotAtomAddressAgreesWithNetMail: the fast path accepts only what
// net/mail accepts as it is.
func TestDotAtomAddressAgreesWithNetMail(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"ada@example.org", "a.b+tag@mail.example.co.uk", "o'brien@example.ie", "x_y-z@a-b.example", "{}|~@example.org",
		".ada@example.org", "ada.@example.org", "a..b@example.org", "ada@.example.org", "ada@example..org",
		"ada@", "@example.org", "a@b@example.org", `"quoted"@example.org`, "ada lovelace@example.org", "Ada <ada@example.org>",
		"zoë@example.org", "ada@exämple.org", "ada@[127.0.0.1]", "ada(comment)@example.org",
	} {
		a, err := netmail.ParseAddress(s)
		netOK := err == nil && a.Name == "" && a.Address == s
		if fast := isDotAtomAddress(s); fast && !netOK {
			t.Errorf("isDotAtomAddress(%q) = true; net/mail says %v, %v", s, a, err)
		}
		if got, want := checkAddress(s) == "", netOK; got != want {
			t.Errorf("checkAddress(%q) accepts = %v; net/mail = %v", s, got, want)
		}
	}
}
