package action

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"
)

// TestLimiter spends an address's burst, refills it with time, keeps
// addresses apart, and stays within its cap on tracked addresses.
func TestLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLimiter(3, 100)
	l.now = func() time.Time { return now }
	allowed := 0
	for range 10 {
		if l.allow("a") {
			allowed++
		}
	}
	if allowed != 3 {
		t.Errorf("a burst of 10 let %d through, want 3", allowed)
	}
	if !l.allow("b") {
		t.Error("another address was refused")
	}
	now = now.Add(20 * time.Second) // a third of a minute: one token back
	if !l.allow("a") || l.allow("a") {
		t.Error("after 20 s, want exactly one more post")
	}
	for i := range 1000 {
		l.allow(fmt.Sprintf("10.0.%d.%d", i/256, i%256))
	}
	if n := len(l.buckets); n > 100 {
		t.Errorf("%d addresses tracked, cap 100", n)
	}
	if !newLimiter(0, 1).allow("x") {
		t.Error("a rate of 0 must allow everything")
	}
}

func TestClientAddr(t *testing.T) {
	for _, tt := range []struct {
		name, xff string
		trust     bool
		want      string
	}{
		{"peer", "", false, "192.0.2.1"},
		{"header ignored without trust", "203.0.113.5", false, "192.0.2.1"},
		{"last entry behind a proxy", "10.1.1.1, 203.0.113.5", true, "203.0.113.5"},
		{"no header behind a proxy", "", true, "192.0.2.1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/a/x/sign", nil)
			r.RemoteAddr = "192.0.2.1:5555"
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			if got := ClientAddr(r, tt.trust); got != tt.want {
				t.Errorf("clientAddr = %q, want %q", got, tt.want)
			}
		})
	}
}
