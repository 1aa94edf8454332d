package track

import (
	"strings"
	"testing"
)

func TestTokenRoundTrip(t *testing.T) {
	s := NewSigner(strings.Repeat("a", 32))
	for _, tt := range []struct {
		kind       Kind
		send, link int64
	}{{KindOpen, 1, 0}, {KindClick, 123456789, 42}, {KindUnsubscribe, 1 << 40, 0}, {KindBounce, 1 << 40, 0},
		{KindAction, 5, 0}, {KindAction, 5, 1 << 40}} { // an action link names its link when it has one
		tok := s.Sign(tt.kind, tt.send, tt.link)
		send, link, err := s.Verify(tt.kind, tok)
		if err != nil || send != tt.send || link != tt.link {
			t.Errorf("Verify(Sign(%c, %d, %d)) = %d, %d, %v", tt.kind, tt.send, tt.link, send, link, err)
		}
	}
}

func TestTokenRefusesTampering(t *testing.T) {
	s := NewSigner(strings.Repeat("a", 32))
	tok := s.Sign(KindClick, 77, 3)
	flip := func(i int) string {
		b := []byte(tok)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	cases := map[string]string{
		"empty":        "",
		"truncated":    tok[:len(tok)-2],
		"extended":     tok + "AA",
		"first char":   flip(0),
		"middle char":  flip(len(tok) / 2),
		"last char":    flip(len(tok) - 1),
		"not base64":   "!!!!" + tok[4:],
		"other key":    NewSigner(strings.Repeat("b", 32)).Sign(KindClick, 77, 3),
		"huge":         strings.Repeat("A", 4096),
		"zero send id": s.Sign(KindClick, 0, 3),
	}
	for name, bad := range cases {
		if _, _, err := s.Verify(KindClick, bad); err == nil {
			t.Errorf("%s: token %q accepted", name, bad)
		}
	}
	if _, _, err := s.Verify(KindUnsubscribe, s.Sign(KindOpen, 77, 0)); err == nil {
		t.Error("an open token was accepted as an unsubscribe token")
	}
}

func TestKeyRotation(t *testing.T) {
	old := NewSigner(strings.Repeat("o", 32))
	rotated := NewSigner(strings.Repeat("n", 32), strings.Repeat("o", 32))
	tok := old.Sign(KindOpen, 9, 0)
	if send, _, err := rotated.Verify(KindOpen, tok); err != nil || send != 9 {
		t.Fatalf("token of the previous key refused after rotation: %v", err)
	}
	if _, _, err := old.Verify(KindOpen, rotated.Sign(KindOpen, 9, 0)); err == nil {
		t.Fatal("a signer without the new key accepted its token")
	}
}

func FuzzVerify(f *testing.F) {
	s := NewSigner(strings.Repeat("a", 32))
	f.Add(s.Sign(KindClick, 5, 6))
	f.Add("")
	f.Add("AQ")
	f.Fuzz(func(t *testing.T, tok string) {
		send, link, err := s.Verify(KindClick, tok)
		if err == nil && s.Sign(KindClick, send, link) != tok {
			t.Fatalf("accepted %q, which is not the canonical token for %d/%d", tok, send, link)
		}
	})
}

// TestBounceToken: the VERP token names its send, is no other kind of token,
// and fits the local part of an address (RFC 5321: 64 characters of atext).
func TestBounceToken(t *testing.T) {
	s := NewSigner(strings.Repeat("a", 32))
	tok := NewLinks("https://act.example.org", s).BounceToken(1 << 40)
	if send, _, err := s.Verify(KindBounce, tok); err != nil || send != 1<<40 {
		t.Errorf("Verify(bounce token) = %d, %v; want %d", send, err, int64(1<<40))
	}
	for _, other := range []Kind{KindUnsubscribe, KindOpen, KindClick} {
		if _, _, err := s.Verify(other, tok); err == nil {
			t.Errorf("a bounce token was accepted as a %c token", other)
		}
	}
	if _, _, err := s.Verify(KindBounce, s.Sign(KindUnsubscribe, 1<<40, 0)); err == nil {
		t.Error("an unsubscribe token was accepted as a bounce token")
	}
	if local := "bounce+" + tok; len(local) > 64 || !urlSafe(tok) {
		t.Errorf("local part %q: want at most 64 characters of A-Z a-z 0-9 - _", local)
	}
}
