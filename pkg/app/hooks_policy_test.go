package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/dearfriend/dearfriend/pkg/app"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// TestSESBounceSuppresses: SES's permanent bounce of a campaign's message,
// through the signed SNS hook, bounces and suppresses the contact; the
// same bounce whose words blame the sender leaves the contact subscribed.
func TestSESBounceSuppresses(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sns"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	cert, _ := x509.ParseCertificate(der)
	fetch := func(context.Context, string) (*x509.Certificate, error) { return cert, nil }
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			h := startOpts(t, b, harnessOpts{app: []app.Option{app.WithSNS(fetch, nil)}}, map[string]string{"DEARFRIEND_SES_TOPIC_ARNS": hookTopic})
			const dead, blocked = "ses-dead@example.org", "ses-blocked@example.org"
			h.sendTo([]string{dead, blocked})
			ids := map[string]string{}
			for _, m := range h.capture.Messages() {
				msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
				if err != nil {
					t.Fatal(err)
				}
				ids[m.To[0]] = strings.Trim(msg.Header.Get("Message-Id"), "<>")
			}
			if code := postHook(t, h, "ses", signedSESBounce(key, blocked, ids[blocked], "smtp; 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"), nil); code != http.StatusOK {
				t.Fatalf("blocked bounce: %d", code)
			}
			if code := postHook(t, h, "ses", signedSESBounce(key, dead, ids[dead], "smtp; 550 5.1.1 user unknown"), nil); code != http.StatusOK {
				t.Fatalf("hard bounce: %d", code)
			}
			if s := contactStatus(t, h, dead); s != store.ContactBounced {
				t.Errorf("%s is %s after SES's hard bounce, want bounced", dead, s)
			}
			if ok, _ := h.app.Store().IsSuppressed(context.Background(), dead); !ok {
				t.Errorf("%s not suppressed", dead)
			}
			if s := contactStatus(t, h, blocked); s != store.ContactSubscribed {
				t.Errorf("%s is %s after a block of the sender, want subscribed", blocked, s)
			}
		})
	}
}
