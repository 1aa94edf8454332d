package audience

import (
	"testing"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

func TestNormalizeEmail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  Jane.Doe@Example.ORG ", "Jane.Doe@example.org"},
		{"a@bücher.de", "a@xn--bcher-kva.de"},
		{"x+tag@sub.example.com", "x+tag@sub.example.com"},
	}
	for _, tt := range tests {
		got, err := NormalizeEmail("email", tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "no-at", "a@b", "a@@b.org", "a b@c.org", "<a@b.org>", "a@b.org\r\nBcc: x@y.org", "a@.org", "a@b.org."} {
		if _, err := NormalizeEmail("email", bad); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("NormalizeEmail(%q) = %v, want an invalid error", bad, err)
		}
	}
}

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"a@b.org", "Ü@ü.de", "a@b", "\x00@x.org"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeEmail("email", s)
		if err != nil {
			return
		}
		again, err := NormalizeEmail("email", got)
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, got, again, err)
		}
	})
}
