package inbound

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/testenv"
	"github.com/dearfriend/dearfriend/pkg/track"
)

func fuzzServer(tb testing.TB, rec *recorder) *Server {
	tb.Helper()
	s, err := New(Config{Domain: domain, FeedbackAddress: fblAddr, UnsubscribeAddress: unsubTo},
		Deps{Sink: rec, Unsubscriber: rec, Signer: signer, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// FuzzRecipient: no address is accepted as a report's but a genuine VERP
// address of the bounce domain.
func FuzzRecipient(f *testing.F) {
	for _, a := range []string{verp(1), fblAddr, unsubTo, "<" + verp(2) + ">", "bounce+x@" + domain, "@", "bounce+@", "BOUNCE+" + signer.Sign(track.KindBounce, 3, 0) + "@" + strings.ToUpper(domain) + "."} {
		f.Add(a)
	}
	s := fuzzServer(f, &recorder{})
	f.Fuzz(func(t *testing.T, addr string) {
		r, ok := s.recipient(addr)
		if !ok {
			return
		}
		if r.kind == toReport {
			if _, _, err := signer.Verify(track.KindBounce, r.token); err != nil {
				t.Fatalf("%q accepted with a token that does not verify: %v", addr, err)
			}
			if !strings.HasSuffix(strings.ToLower(strings.Trim(strings.TrimSpace(addr), "<>.")), "@"+domain) {
				t.Fatalf("%q accepted as a report's address outside %s", addr, domain)
			}
		}
	})
}

// FuzzMailtoToken: the token read from a subject is a bounded run of the
// token alphabet found in the message.
func FuzzMailtoToken(f *testing.F) {
	f.Add([]byte("Subject: unsubscribe-" + signer.Sign(track.KindUnsubscribe, 1, 0) + "\r\n\r\nbody"))
	f.Add([]byte("Subject: =?UTF-8?B?dW5zdWJzY3JpYmUtYWJj?=\r\n\r\n"))
	f.Add([]byte("Subject: Re: UNSUBSCRIBE-\r\n\r\n"))
	f.Add([]byte("no header"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		tok, err := mailtoToken(raw)
		if err != nil {
			return
		}
		if tok == "" || len(tok) > maxToken {
			t.Fatalf("token %q of length %d", tok, len(tok))
		}
		for i := 0; i < len(tok); i++ {
			if !isTokenByte(tok[i]) {
				t.Fatalf("token %q holds %q", tok, tok[i])
			}
		}
	})
}

// FuzzTake: whatever a message holds, it is taken or refused without a
// panic, and every event it gives carries the token of its address.
func FuzzTake(f *testing.F) {
	for _, name := range []string{"lhost-postfix-14.eml", "arf-02.eml", "is-not-bounce-01.eml"} {
		if raw, err := testenv.ReadBounceCase(name); err == nil { // without ../shared, the fuzzer starts from nothing
			f.Add(raw)
		}
	}
	tok := signer.Sign(track.KindBounce, 11, 0)
	f.Fuzz(func(t *testing.T, raw []byte) {
		rec := &recorder{}
		s := fuzzServer(t, rec)
		if err := s.take("", []recipient{{kind: toReport, token: tok}, {kind: toUnsubscribe}}, raw, "fuzz"); err != nil {
			return
		}
		evs, _ := rec.got()
		for _, e := range evs {
			if e.Token != tok || e.Source != "inbound" {
				t.Fatalf("event %+v, want token %s from inbound", e, tok)
			}
		}
	})
}
