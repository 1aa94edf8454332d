package esp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// sgSigner signs Event Webhook posts as SendGrid does, with a key of the test's own.
type sgSigner struct{ key *ecdsa.PrivateKey }

func newSGSigner(tb testing.TB) sgSigner {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return sgSigner{key}
}

// publicKey is the key as SendGrid's settings page shows it: base64 DER.
func (s sgSigner) publicKey(tb testing.TB) string {
	tb.Helper()
	der, err := x509.MarshalPKIXPublicKey(&s.key.PublicKey)
	if err != nil {
		tb.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

func (s sgSigner) headers(tb testing.TB, at time.Time, body []byte) http.Header {
	tb.Helper()
	ts := strconv.FormatInt(at.Unix(), 10)
	sum := sha256.Sum256(append([]byte(ts), body...))
	sig, err := ecdsa.SignASN1(rand.Reader, s.key, sum[:])
	if err != nil {
		tb.Fatal(err)
	}
	return http.Header{sendGridSignature: {base64.StdEncoding.EncodeToString(sig)}, sendGridTimestamp: {ts}}
}

func newTestSendGrid(tb testing.TB, s sgSigner, sink *recSink) *SendGrid {
	tb.Helper()
	key, err := ParseSendGridKey(s.publicKey(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return NewSendGrid(sink, SendGridOptions{Key: key, Log: quiet})
}

func TestSendGrid(t *testing.T) {
	s := newSGSigner(t)
	const msgID = "14c5d75ce93.dfd.64b469@ismtpd-555"
	tests := []struct {
		name string
		body string
		want []brief
	}{
		{"documented sample", string(mustRead(t, "sendgrid-events.json")), []brief{
			{"example@test.com", "hard", "userunknown", "5.0.0", msgID, "sendgrid:6g4ZI7SA-xmRDv57GoPIPw==/example@test.com"},
			{"example@test.com", "hard", "userunknown", "", msgID, "sendgrid:zmzJhfJgAfUSOW80yEbPyw==/example@test.com"},
			{"example@test.com", "complaint", "feedback", "", msgID, "sendgrid:37nvH5QBz858KGVYCM4uOA==/example@test.com"},
		}},
		{"blocked", `[{"email":"ann@example.org","timestamp":1513299569,"event":"bounce","sg_event_id":"b1","reason":"550 5.7.1 Mail from 192.0.2.1 refused, rejected due to poor reputation","status":"5.7.1","type":"blocked"}]`,
			[]brief{{"ann@example.org", "soft", "blocked", "5.7.1", "", "sendgrid:b1/ann@example.org"}}},
		{"blocked without words", `[{"email":"ann@example.org","timestamp":1513299569,"event":"bounce","sg_event_id":"b2","reason":"","status":"","type":"blocked"}]`,
			[]brief{{"ann@example.org", "soft", "blocked", "", "", "sendgrid:b2/ann@example.org"}}},
		{"dropped as unsubscribed: not a failure", `[{"email":"ann@example.org","timestamp":1513299569,"event":"dropped","sg_event_id":"d1","reason":"Unsubscribed Address"}]`, []brief{}},
		{"dropped as invalid", `[{"email":"ann@example.org","timestamp":1513299569,"event":"dropped","sg_event_id":"d2","reason":"Invalid"}]`,
			[]brief{{"ann@example.org", "hard", "userunknown", "", "", "sendgrid:d2/ann@example.org"}}},
		{"empty batch", `[]`, []brief{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &recSink{}
			h := newTestSendGrid(t, s, sink)
			body := []byte(tt.body)
			if code, resp := post(t, h, body, s.headers(t, time.Now(), body)); code != http.StatusOK {
				t.Fatalf("got %d %q", code, resp)
			}
			checkEvents(t, sink.taken(), tt.want, "sendgrid")
		})
	}
}

func TestSendGridRefusals(t *testing.T) {
	s := newSGSigner(t)
	sample := mustRead(t, "sendgrid-events.json")
	now := time.Now()
	tampered := append([]byte(nil), sample...)
	tampered[len(tampered)-3] = ' '
	tests := []struct {
		name   string
		header http.Header
		body   []byte
		code   int
		words  string
	}{
		{"no signature", nil, sample, 401, "headers are required"},
		{"body changed after signing", s.headers(t, now, sample), tampered, 401, "signature does not verify"},
		{"signed by another key", newSGSigner(t).headers(t, now, sample), sample, 401, "signature does not verify"},
		{"signature not base64", http.Header{sendGridSignature: {"%%%"}, sendGridTimestamp: {"1"}}, sample, 401, "not base64"},
		{"timestamp changed after signing", func() http.Header {
			h := s.headers(t, now, sample)
			h.Set(sendGridTimestamp, strconv.FormatInt(now.Unix()+1, 10))
			return h
		}(), sample, 401, "signature does not verify"},
		{"stale", s.headers(t, now.Add(-DefaultMaxAge-time.Minute), sample), sample, 401, "replay window"},
		{"from the future", s.headers(t, now.Add(5*time.Minute), sample), sample, 401, "replay window"},
		{"signed but not JSON", s.headers(t, now, []byte(`[{"event":`)), []byte(`[{"event":`), 400, "SendGrid events is not JSON"},
		{"signed object, not array", s.headers(t, now, []byte(`{"event":"bounce"}`)), []byte(`{"event":"bounce"}`), 400, "SendGrid events"},
		{"bounce without id", s.headers(t, now, []byte(`[{"event":"bounce","email":"a@b.c"}]`)), []byte(`[{"event":"bounce","email":"a@b.c"}]`), 400, "sg_event_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &recSink{}
			code, body := post(t, newTestSendGrid(t, s, sink), tt.body, tt.header)
			checkRefused(t, sink, code, body, tt.code, tt.words)
		})
	}
	t.Run("sink error", func(t *testing.T) {
		sink := &recSink{fail: true}
		if code, _ := post(t, newTestSendGrid(t, s, sink), sample, s.headers(t, now, sample)); code != http.StatusServiceUnavailable {
			t.Errorf("got %d, want 503 so SendGrid retries", code)
		}
	})
}

func TestParseSendGridKey(t *testing.T) {
	s := newSGSigner(t)
	if _, err := ParseSendGridKey(s.publicKey(t)); err != nil {
		t.Errorf("base64 DER: %v", err)
	}
	if _, err := ParseSendGridKey("-----BEGIN PUBLIC KEY-----\n" + s.publicKey(t) + "\n-----END PUBLIC KEY-----\n"); err != nil {
		t.Errorf("PEM: %v", err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	for in, want := range map[string]string{"not base64!": "not base64", "aGVsbG8=": "not a DER public key",
		base64.StdEncoding.EncodeToString(der): "not an ECDSA P-256"} {
		if _, err := ParseSendGridKey(in); err == nil || err.Error()[:len(want)] != want {
			t.Errorf("ParseSendGridKey(%q) = %v, want %q", in, err, want)
		}
	}
}
