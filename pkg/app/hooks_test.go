package app_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dearfriend/dearfriend/pkg/app"
	"github.com/dearfriend/dearfriend/pkg/bounce"
)

// hookTap records what the webhooks hand the sink.
type hookTap struct {
	mu  sync.Mutex
	evs []bounce.Event
}

func (h *hookTap) tap(evs []bounce.Event) { h.mu.Lock(); h.evs = append(h.evs, evs...); h.mu.Unlock() }
func (h *hookTap) taken() []bounce.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]bounce.Event(nil), h.evs...)
}

const hookTopic = "arn:aws:sns:eu-west-1:123456789012:dearfriend-bounces"

// TestHooksReachTheSink posts one documented-shape event of each service,
// signed as the service signs, to a running App: each reaches the sink,
// and the same post badly signed reaches nothing.
func TestHooksReachTheSink(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sns"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &rsaKey.PublicKey, rsaKey)
	cert, _ := x509.ParseCertificate(der)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	const pmPass, mgKey = "postmark-password-0123", "key-mailgun-0123456789"

	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			tap := &hookTap{}
			fetch := func(context.Context, string) (*x509.Certificate, error) { return cert, nil }
			h := startOpts(t, b, harnessOpts{app: []app.Option{app.WithHookTap(tap.tap), app.WithSNS(fetch, nil)}}, map[string]string{
				"DEARFRIEND_SES_TOPIC_ARNS": hookTopic, "DEARFRIEND_SENDGRID_WEBHOOK_KEY": base64.StdEncoding.EncodeToString(ecDER),
				"DEARFRIEND_POSTMARK_WEBHOOK_USER": "pm", "DEARFRIEND_POSTMARK_WEBHOOK_PASSWORD": pmPass, "DEARFRIEND_MAILGUN_SIGNING_KEY": mgKey,
			})
			msgID := "c1.s2.dep@example.org"

			ses := func(key *rsa.PrivateKey) (string, http.Header) {
				return signedSESBounce(key, "ses@example.org", msgID, "smtp; 550 5.1.1 user unknown"), nil
			}
			sendgrid := func(key *ecdsa.PrivateKey) (string, http.Header) {
				body := `[{"email":"sg@example.org","timestamp":1513299569,"smtp-id":"<` + msgID + `>","event":"bounce","sg_event_id":"sg-app","reason":"550 5.1.1 unknown recipient","status":"5.1.1","type":"bounce"}]`
				ts := strconv.FormatInt(time.Now().Unix(), 10)
				sum := sha256.Sum256([]byte(ts + body))
				sig, _ := ecdsa.SignASN1(rand.Reader, key, sum[:])
				return body, http.Header{"X-Twilio-Email-Event-Webhook-Signature": {base64.StdEncoding.EncodeToString(sig)}, "X-Twilio-Email-Event-Webhook-Timestamp": {ts}}
			}
			postmark := func(pass string) (string, http.Header) {
				body := `{"RecordType":"SpamComplaint","ID":42,"Type":"SpamComplaint","TypeCode":512,"Email":"pm@example.org","BouncedAt":"2019-11-05T16:33:54.9070259Z","Details":"Test spam complaint details"}`
				return body, http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("pm:"+pass))}}
			}
			mailgun := func(key string) (string, http.Header) {
				ts, tok := strconv.FormatInt(time.Now().Unix(), 10), "tok-"+strconv.FormatInt(time.Now().UnixNano(), 10)
				mac := hmac.New(sha256.New, []byte(key))
				mac.Write([]byte(ts + tok))
				body := `{"signature":{"timestamp":"` + ts + `","token":"` + tok + `","signature":"` + hex.EncodeToString(mac.Sum(nil)) + `"},` +
					`"event-data":{"event":"failed","id":"mg-app","timestamp":1521233195.37,"severity":"permanent","recipient":"mg@example.org",` +
					`"message":{"headers":{"message-id":"` + msgID + `"}},"delivery-status":{"code":550,"message":"5.1.1 user unknown"}}}`
				return body, nil
			}
			otherRSA, _ := rsa.GenerateKey(rand.Reader, 2048)
			otherEC, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			tests := []struct {
				source    string
				good, bad func() (string, http.Header)
				recipient string
				kind      bounce.Kind
			}{
				{"ses", func() (string, http.Header) { return ses(rsaKey) }, func() (string, http.Header) { return ses(otherRSA) }, "ses@example.org", bounce.Hard},
				{"sendgrid", func() (string, http.Header) { return sendgrid(ecKey) }, func() (string, http.Header) { return sendgrid(otherEC) }, "sg@example.org", bounce.Hard},
				{"postmark", func() (string, http.Header) { return postmark(pmPass) }, func() (string, http.Header) { return postmark(pmPass + "x") }, "pm@example.org", bounce.Complaint},
				{"mailgun", func() (string, http.Header) { return mailgun(mgKey) }, func() (string, http.Header) { return mailgun(mgKey + "x") }, "mg@example.org", bounce.Hard},
			}
			for _, tt := range tests {
				before := len(tap.taken())
				body, hdr := tt.bad()
				if code := postHook(t, h, tt.source, body, hdr); code != http.StatusUnauthorized {
					t.Errorf("%s badly signed: %d, want 401", tt.source, code)
				}
				if n := len(tap.taken()); n != before {
					t.Errorf("%s: a badly signed hook reached the sink", tt.source)
				}
				body, hdr = tt.good()
				if code := postHook(t, h, tt.source, body, hdr); code != http.StatusOK {
					t.Fatalf("%s: %d, want 200", tt.source, code)
				}
				evs := tap.taken()[before:]
				if len(evs) != 1 || evs[0].Source != tt.source || evs[0].Recipient != tt.recipient || evs[0].Kind != tt.kind {
					t.Errorf("%s reached the sink with %+v, want one %s event for %s", tt.source, evs, tt.kind, tt.recipient)
				} else if tt.source != "postmark" && evs[0].MessageID != msgID {
					t.Errorf("%s: MessageID %q, want %q", tt.source, evs[0].MessageID, msgID)
				}
			}
		})
	}
}

// TestHooksOffUnlessConfigured: without settings no hook route answers.
func TestHooksOffUnlessConfigured(t *testing.T) {
	h := start(t, backends(t)[0])
	for _, source := range []string{"ses", "sendgrid", "postmark", "mailgun"} {
		if code := postHook(t, h, source, `{}`, nil); code != http.StatusNotFound && code != http.StatusMethodNotAllowed {
			t.Errorf("/hooks/%s unconfigured answered %d", source, code)
		}
	}
}

// signedSESBounce is an SNS notification of SES's permanent bounce of
// recipient's message msgID, with the diagnostic diag, signed with key.
func signedSESBounce(key *rsa.PrivateKey, recipient, msgID, diag string) string {
	msg := `{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bounceSubType":"General","feedbackId":"fb-` + recipient + `",` +
		`"timestamp":"2026-01-01T00:00:00Z","bouncedRecipients":[{"emailAddress":"` + recipient + `","diagnosticCode":` + strconv.Quote(diag) + `}]},` +
		`"mail":{"messageId":"x","commonHeaders":{"messageId":"<` + msgID + `>"}}}`
	ts := "2026-01-01T00:00:01.000Z"
	canonical := "Message\n" + msg + "\nMessageId\nm1\nTimestamp\n" + ts + "\nTopicArn\n" + hookTopic + "\nType\nNotification\n"
	sum := sha256.Sum256([]byte(canonical))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	body, _ := json.Marshal(map[string]string{"Type": "Notification", "MessageId": "m1", "TopicArn": hookTopic, "Message": msg, "Timestamp": ts,
		"SignatureVersion": "2", "Signature": base64.StdEncoding.EncodeToString(sig), "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-x.pem"})
	return string(body)
}

func postHook(t *testing.T, h *harness, source, body string, hdr http.Header) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.app.URL()+"/hooks/"+source, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
