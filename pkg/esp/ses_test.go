package esp

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" // SNS SignatureVersion 1
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	testTopic   = "arn:aws:sns:us-west-2:123456789012:ses-bounces"
	testCertURL = "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem"
)

// snsSigner signs SNS messages as SNS would, with a key and certificate of
// the test's own (AWS's certificate host cannot be reached here).
type snsSigner struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
	pem  []byte
}

func newSNSSigner(tb testing.TB) *snsSigner {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sns.amazonaws.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return &snsSigner{key: key, cert: cert, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// sign fills in the signature of m, of SignatureVersion version.
func (s *snsSigner) sign(tb testing.TB, m *snsMessage, version string) {
	tb.Helper()
	m.SignatureVersion = version
	if m.SigningCertURL == "" {
		m.SigningCertURL = testCertURL
	}
	canonical, err := m.stringToSign()
	if err != nil {
		tb.Fatal(err)
	}
	var digest []byte
	hash := crypto.SHA256
	if version == "1" {
		sum := sha1.Sum([]byte(canonical)) // SignatureVersion 1
		digest, hash = sum[:], crypto.SHA1
	} else {
		sum := sha256.Sum256([]byte(canonical))
		digest = sum[:]
	}
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, hash, digest)
	if err != nil {
		tb.Fatal(err)
	}
	m.Signature = base64.StdEncoding.EncodeToString(sig)
}

// notification wraps an SES notification in a signed SNS envelope.
func (s *snsSigner) notification(tb testing.TB, sesJSON []byte, version string) []byte {
	tb.Helper()
	m := snsMessage{Type: "Notification", MessageId: "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324", TopicArn: testTopic,
		Message: string(sesJSON), Timestamp: "2016-01-27T14:59:38.237Z"}
	s.sign(tb, &m, version)
	return mustJSON(tb, m)
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// sesHarness is an SES handler whose certificate fetcher serves the
// signer's certificate for testCertURL only, and counts its calls.
type sesHarness struct {
	h         *SES
	sink      *recSink
	fetches   atomic.Int32
	confirmed []string
}

func newSESHarness(t *testing.T, s *snsSigner) *sesHarness {
	t.Helper()
	x := &sesHarness{sink: &recSink{}}
	fetch := func(_ context.Context, u string) (*x509.Certificate, error) {
		x.fetches.Add(1)
		if u != testCertURL {
			t.Errorf("certificate fetched from %s", u)
		}
		return s.cert, nil
	}
	confirm := func(_ context.Context, u string) error { x.confirmed = append(x.confirmed, u); return nil }
	x.h = NewSES(x.sink, SESOptions{TopicARNs: []string{testTopic}, Fetch: fetch, Confirm: confirm, Log: quiet})
	return x
}

func TestSESNotifications(t *testing.T) {
	s := newSNSSigner(t)
	tests := []struct {
		file string
		want []brief
	}{
		{"ses-bounce.json", []brief{{"jane@example.com", "hard", "userunknown", "5.1.1", "custom-message-ID",
			"ses:00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa068a-000000/jane@example.com"}}},
		{"ses-bounce-no-dsn.json", []brief{
			{"jane@example.com", "hard", "undefined", "", "", "ses:00000137860315fd-869464a4-8680-4114-98d3-716fe35851f9-000000/jane@example.com"},
			{"richard@example.com", "hard", "undefined", "", "", "ses:00000137860315fd-869464a4-8680-4114-98d3-716fe35851f9-000000/richard@example.com"}}},
		{"ses-complaint.json", []brief{{"richard@example.com", "complaint", "feedback", "", "custom-message-ID",
			"ses:000001378603177f-18c07c78-fa81-4a58-9dd1-fedc3cb8f49a-000000/richard@example.com"}}},
		{"ses-delivery.json", []brief{}},
	}
	for _, tt := range tests {
		for _, version := range []string{"1", "2"} {
			t.Run(tt.file+"/v"+version, func(t *testing.T) {
				x := newSESHarness(t, s)
				code, body := post(t, x.h, s.notification(t, mustRead(t, tt.file), version), nil)
				if code != http.StatusOK {
					t.Fatalf("got %d %q, want 200", code, body)
				}
				checkEvents(t, x.sink.taken(), tt.want, "ses")
			})
		}
	}
}

// TestSESKinds follows SES's bounce types and refines them with the
// diagnostic's words: a "permanent" refusal of the sender is soft.
func TestSESKinds(t *testing.T) {
	s := newSNSSigner(t)
	tests := []struct {
		name, bounceType, subType, status, diag string
		kind, reason                            string
	}{
		{"permanent unknown user", "Permanent", "General", "5.1.1", "smtp; 550 5.1.1 user unknown", "hard", "userunknown"},
		{"permanent but blocked", "Permanent", "General", "5.7.1", "smtp; 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org", "soft", "blocked"},
		{"permanent but spam", "Permanent", "General", "5.7.1", "smtp; 550 5.7.1 Message rejected as spam by Content Filtering", "soft", "spamdetected"},
		{"transient mailbox full", "Transient", "MailboxFull", "4.2.2", "smtp; 452 4.2.2 mailbox full", "soft", "mailboxfull"},
		{"undetermined", "Undetermined", "Undetermined", "", "", "soft", "undefined"},
		{"suppressed by SES", "Permanent", "Suppressed", "5.1.1", "Amazon SES has suppressed sending to this address because it has a recent history of bouncing as an invalid address.", "hard", "userunknown"},
		{"transient with unknown-user words", "Transient", "General", "", "smtp; 550 5.1.1 user unknown", "soft", "userunknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ses := map[string]any{"notificationType": "Bounce", "mail": map[string]any{"messageId": "x"},
				"bounce": map[string]any{"bounceType": tt.bounceType, "bounceSubType": tt.subType, "feedbackId": "fb1", "timestamp": "2026-01-02T03:04:05Z",
					"bouncedRecipients": []map[string]string{{"emailAddress": "Ann@Example.org", "status": tt.status, "diagnosticCode": tt.diag}}}}
			x := newSESHarness(t, s)
			if code, body := post(t, x.h, s.notification(t, mustJSON(t, ses), "2"), nil); code != http.StatusOK {
				t.Fatalf("got %d %q", code, body)
			}
			evs := x.sink.taken()
			if len(evs) != 1 || string(evs[0].Kind) != tt.kind || evs[0].Reason != tt.reason || evs[0].EventID != "ses:fb1/ann@example.org" {
				t.Errorf("got %+v, want kind %s reason %s", evs, tt.kind, tt.reason)
			}
		})
	}
}

func TestSESRefusals(t *testing.T) {
	s := newSNSSigner(t)
	other := newSNSSigner(t)
	good := func(t *testing.T) snsMessage {
		var m snsMessage
		if err := json.Unmarshal(s.notification(t, mustRead(t, "ses-bounce.json"), "2"), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	tests := []struct {
		name  string
		body  func(t *testing.T) []byte
		code  int
		words string
		fetch bool // whether the certificate may be fetched at all
	}{
		{"message changed after signing", func(t *testing.T) []byte {
			m := good(t)
			m.Message = strings.Replace(m.Message, "jane@example.com", "someone@example.com", 1)
			return mustJSON(t, m)
		}, 401, "signature does not verify", true},
		{"signed with another key", func(t *testing.T) []byte {
			m := good(t)
			other.sign(t, &m, "2")
			return mustJSON(t, m)
		}, 401, "signature does not verify", true},
		{"subject added after signing", func(t *testing.T) []byte {
			m := good(t)
			subject := "hello"
			m.Subject = &subject
			return mustJSON(t, m)
		}, 401, "signature does not verify", true},
		{"version 2 signature called version 1", func(t *testing.T) []byte {
			m := good(t)
			m.SignatureVersion = "1"
			return mustJSON(t, m)
		}, 401, "signature does not verify", true},
		{"unknown signature version", func(t *testing.T) []byte {
			m := good(t)
			m.SignatureVersion = "3"
			return mustJSON(t, m)
		}, 401, "SignatureVersion", false},
		{"certificate on another host", func(t *testing.T) []byte {
			m := good(t)
			m.SigningCertURL = "https://sns.us-west-2.amazonaws.com.evil.example/cert.pem"
			s.sign(t, &m, "2")
			return mustJSON(t, m)
		}, 401, "SigningCertURL", false},
		{"certificate over http", func(t *testing.T) []byte {
			m := good(t)
			m.SigningCertURL = strings.Replace(testCertURL, "https:", "http:", 1)
			s.sign(t, &m, "2")
			return mustJSON(t, m)
		}, 401, "SigningCertURL", false},
		{"topic not configured", func(t *testing.T) []byte {
			m := good(t)
			m.TopicArn = "arn:aws:sns:us-west-2:999999999999:other"
			s.sign(t, &m, "2")
			return mustJSON(t, m)
		}, 401, "TopicArn", false},
		{"unknown type", func(t *testing.T) []byte {
			m := good(t)
			m.Type = "Surprise"
			return mustJSON(t, m)
		}, 401, "Type", true},
		{"not JSON", func(*testing.T) []byte { return []byte(`{"Type": "Notification",`) }, 400, "SNS message is not JSON", false},
		{"signed Message that is not SES JSON", func(t *testing.T) []byte {
			return s.notification(t, []byte(`bounce!`), "2")
		}, 400, "SES notification in the SNS Message is not JSON", true},
		{"bounce without recipient address", func(t *testing.T) []byte {
			return s.notification(t, []byte(`{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bouncedRecipients":[{"emailAddress":""}]}}`), "2")
		}, 400, "no recipient address", true},
		{"bounce type of the wrong JSON type", func(t *testing.T) []byte {
			return s.notification(t, []byte(`{"notificationType":"Bounce","bounce":{"bounceType":5}}`), "2")
		}, 400, "bounce.bounceType", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := newSESHarness(t, s)
			code, body := post(t, x.h, tt.body(t), nil)
			checkRefused(t, x.sink, code, body, tt.code, tt.words)
			if !tt.fetch && x.fetches.Load() != 0 {
				t.Error("certificate fetched for a message refused before its signature")
			}
		})
	}
}

func TestSESSinkError(t *testing.T) {
	s := newSNSSigner(t)
	x := newSESHarness(t, s)
	x.sink.fail = true
	code, _ := post(t, x.h, s.notification(t, mustRead(t, "ses-bounce.json"), "2"), nil)
	if code != http.StatusServiceUnavailable {
		t.Errorf("got %d, want 503 so SNS retries", code)
	}
}

func TestSNSSubscription(t *testing.T) {
	s := newSNSSigner(t)
	subscribe := "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" + testTopic + "&Token=2336412f37"
	confirmation := func(t *testing.T, subscribeURL string, signer *snsSigner) []byte {
		m := snsMessage{Type: "SubscriptionConfirmation", MessageId: "165545c9-2a5c-472c-8df2-7ff2be2b3b1b", Token: "2336412f37",
			TopicArn: testTopic, Message: "You have chosen to subscribe to the topic " + testTopic + ".\nTo confirm the subscription, visit the SubscribeURL included in this message.",
			SubscribeURL: subscribeURL, Timestamp: "2012-04-26T20:45:04.751Z"}
		signer.sign(t, &m, "1")
		return mustJSON(t, m)
	}
	t.Run("confirmed", func(t *testing.T) {
		x := newSESHarness(t, s)
		if code, body := post(t, x.h, confirmation(t, subscribe, s), nil); code != http.StatusOK {
			t.Fatalf("got %d %q", code, body)
		}
		if diff := cmp.Diff([]string{subscribe}, x.confirmed); diff != "" {
			t.Errorf("SubscribeURL visits (-want +got):\n%s", diff)
		}
	})
	t.Run("forged", func(t *testing.T) {
		x := newSESHarness(t, s)
		code, body := post(t, x.h, confirmation(t, subscribe, newSNSSigner(t)), nil)
		checkRefused(t, x.sink, code, body, 401, "signature")
		if len(x.confirmed) != 0 {
			t.Errorf("a forged confirmation visited %v", x.confirmed)
		}
	})
	t.Run("subscribe URL elsewhere", func(t *testing.T) {
		x := newSESHarness(t, s)
		code, body := post(t, x.h, confirmation(t, "https://attacker.example/?Action=ConfirmSubscription", s), nil)
		checkRefused(t, x.sink, code, body, 400, "SubscribeURL")
		if len(x.confirmed) != 0 {
			t.Errorf("visited %v", x.confirmed)
		}
	})
	t.Run("unsubscribed", func(t *testing.T) {
		x := newSESHarness(t, s)
		m := snsMessage{Type: "UnsubscribeConfirmation", MessageId: "47138184-6831-46b8-8f7c-afc488602d7d", Token: "2336412f37",
			TopicArn: testTopic, Message: "You have chosen to deactivate subscription.", SubscribeURL: subscribe, Timestamp: "2012-04-26T20:06:41.581Z"}
		s.sign(t, &m, "2")
		if code, _ := post(t, x.h, mustJSON(t, m), nil); code != http.StatusOK || len(x.confirmed) != 0 || len(x.sink.taken()) != 0 {
			t.Errorf("got %d, visits %v", code, x.confirmed)
		}
	})
}

// TestCertCache fetches a certificate over HTTPS once, and refuses what is
// no certificate.
func TestCertCache(t *testing.T) {
	s := newSNSSigner(t)
	var hits atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/cert.pem" {
			w.Write(s.pem)
			return
		}
		w.Write([]byte("<html>not a certificate</html>"))
	}))
	defer srv.Close()
	c := newCertCache()
	c.client = srv.Client()
	for range 3 {
		cert, err := c.fetch(context.Background(), srv.URL+"/cert.pem")
		if err != nil || !cert.Equal(s.cert) {
			t.Fatalf("fetch: %v", err)
		}
	}
	if hits.Load() != 1 {
		t.Errorf("%d fetches of one certificate, want 1", hits.Load())
	}
	if _, err := c.fetch(context.Background(), srv.URL+"/other"); err == nil || !strings.Contains(err.Error(), "not a PEM certificate") {
		t.Errorf("fetch of a page: %v, want not a PEM certificate", err)
	}
}

// TestSESEventPublishing reads the events a configuration set publishes
// (eventType instead of notificationType) like notifications.
func TestSESEventPublishing(t *testing.T) {
	s := newSNSSigner(t)
	x := newSESHarness(t, s)
	published := strings.Replace(string(mustRead(t, "ses-complaint.json")), `"notificationType"`, `"eventType"`, 1)
	if code, body := post(t, x.h, s.notification(t, []byte(published), "2"), nil); code != http.StatusOK {
		t.Fatalf("got %d %q", code, body)
	}
	checkEvents(t, x.sink.taken(), []brief{{"richard@example.com", "complaint", "feedback", "", "custom-message-ID",
		"ses:000001378603177f-18c07c78-fa81-4a58-9dd1-fedc3cb8f49a-000000/richard@example.com"}}, "ses")
}
