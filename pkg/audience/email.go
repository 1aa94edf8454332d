// Package audience owns who a campaign reaches: contact input rules (email
// normalization) now, and lists, imports and segment rules as they grow. It
// must not send mail or know about HTTP.
package audience

import (
	"net/mail"
	"strings"

	"golang.org/x/net/idna"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

// NormalizeEmail trims an address and lower-cases its domain (converted to
// ASCII when internationalized); the local part is kept as typed, since some
// mail servers treat it case-sensitively. A bad address is an error naming field.
func NormalizeEmail(field, raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", errs.Field(field, "is required")
	}
	if len(s) > 254 || strings.ContainsAny(s, " \t\r\n<>,;\"") {
		return "", errs.Field(field, "%q is not a valid email address", raw)
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") || len(local) > 64 {
		return "", errs.Field(field, "%q is not a valid email address", raw)
	}
	ascii, ok := normalizeDomain(domain)
	if !ok {
		return "", errs.Field(field, "%q has no valid domain", raw)
	}
	addr := local + "@" + ascii
	if a, err := mail.ParseAddress(addr); err != nil || a.Address != addr {
		return "", errs.Field(field, "%q is not a valid email address", raw)
	}
	return addr, nil
}

// normalizeDomain lower-cases a domain and converts it to ASCII; ok is false
// for a name that cannot be a mail domain.
func normalizeDomain(domain string) (string, bool) {
	ascii, err := idna.Lookup.ToASCII(strings.ToLower(domain))
	return ascii, err == nil && strings.Contains(ascii, ".") && !strings.HasSuffix(ascii, ".")
}

// NormalizeSuppression normalizes a suppression list entry: an address, or a
// whole domain written "@example.com". A bad entry is an error naming field.
func NormalizeSuppression(field, raw string) (string, error) {
	s := strings.TrimSpace(raw)
	domain, isDomain := strings.CutPrefix(s, "@")
	if !isDomain {
		return NormalizeEmail(field, raw)
	}
	ascii, ok := normalizeDomain(domain)
	if !ok || strings.ContainsAny(domain, "@ \t<>,;\"") {
		return "", errs.Field(field, "%q is not a domain (write it \"@example.com\")", raw)
	}
	return "@" + ascii, nil
}
