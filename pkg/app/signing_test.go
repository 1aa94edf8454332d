package app_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/dearfriend/dearfriend/pkg/app"
	"github.com/dearfriend/dearfriend/pkg/config"
	"github.com/dearfriend/dearfriend/pkg/mailer"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
	"github.com/dearfriend/dearfriend/pkg/track"
)

// TestCampaignSignedAndVERP runs a campaign with DKIM, VERP and Feedback-ID
// configured from the environment, as an operator would, and checks each
// message as the receiving side sees it: the DKIM signature verifies against
// the published key, the envelope sender names the send, and Feedback-ID
// names campaign, list and organization.
func TestCampaignSignedAndVERP(t *testing.T) {
	t.Parallel()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	keyFile := filepath.Join(t.TempDir(), "dkim.pem")
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	published, err := mailer.NewDKIMSigner("example.org", "df2026", keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	txtName, txtValue := published.DNSRecord()

	b := backends(t)[0]
	h := start(t, b, map[string]string{
		"DEARFRIEND_DKIM_DOMAIN":    "example.org",
		"DEARFRIEND_DKIM_SELECTOR":  "df2026",
		"DEARFRIEND_DKIM_KEY_FILE":  keyFile,
		"DEARFRIEND_BOUNCE_DOMAIN":  "bounces.example.org",
		"DEARFRIEND_ORG_SHORT_NAME": "northfork",
	})
	var list store.List
	if code := h.call("POST", "/api/v1/lists", map[string]any{"name": "Supporters"}, &list); code != 201 {
		t.Fatalf("create list: %d", code)
	}
	const n = 3
	for i := range n {
		if code := h.call("POST", "/api/v1/contacts", map[string]any{"email": fmt.Sprintf("signed%d@example.net", i), "first_name": "Zoë", "lists": []int64{list.ID}}, nil); code != 201 {
			t.Fatalf("create contact %d: %d", i, code)
		}
	}
	var msg store.Message
	if code := h.call("POST", "/api/v1/messages", map[string]any{
		"subject": "Tell the Governor: no permit — today", "from_name": "Maya Ortiz", "from_email": "action@example.org",
		"html": "<p>Dear {{ .FirstName | default \"Friend\" }},</p><p><a href=\"https://example.org/petition\">ADD YOUR NAME</a></p>"}, &msg); code != 201 {
		t.Fatalf("create message: %d", code)
	}
	var camp store.Campaign
	if code := h.call("POST", "/api/v1/campaigns", map[string]any{"name": "signed", "message_id": msg.ID, "audience": map[string]any{"lists": []int64{list.ID}}}, &camp); code != 201 {
		t.Fatalf("create campaign: %d", code)
	}
	if code := h.call("POST", fmt.Sprintf("/api/v1/campaigns/%d/send", camp.ID), nil, nil); code != 202 {
		t.Fatalf("send: %d", code)
	}
	h.waitFinished(camp.ID)

	msgs := h.capture.Messages()
	if len(msgs) != n {
		t.Fatalf("captured %d messages; want %d", len(msgs), n)
	}
	bounceTokens := track.NewSigner(strings.Repeat("s", 40)) // DEARFRIEND_SECRET of the harness
	sends := map[int64]bool{}
	for _, m := range msgs {
		vs, err := dkim.VerifyWithOptions(bytes.NewReader(m.Data), &dkim.VerifyOptions{
			LookupTXT: func(name string) ([]string, error) {
				if name != txtName {
					return nil, fmt.Errorf("no TXT record at %s", name)
				}
				return []string{txtValue}, nil
			},
		})
		if err != nil || len(vs) != 1 || vs[0].Err != nil || vs[0].Domain != "example.org" {
			t.Fatalf("message to %v: DKIM verification = %+v, %v; want one valid signature of example.org", m.To, vs, err)
		}

		local, domain, _ := strings.Cut(m.From, "@")
		token, ok := strings.CutPrefix(local, "bounce+")
		if !ok || domain != "bounces.example.org" {
			t.Fatalf("envelope sender %q; want bounce+<token>@bounces.example.org", m.From)
		}
		send, _, err := bounceTokens.Verify(track.KindBounce, token)
		if err != nil {
			t.Fatalf("envelope sender %q: token does not verify: %v", m.From, err)
		}
		sends[send] = true

		e := parseEmail(t, m.Data)
		if got, want := e.header.Get("Feedback-Id"), fmt.Sprintf("%d:%d:northfork:dearfriend", camp.ID, list.ID); got != want {
			t.Errorf("Feedback-ID = %q; want %q", got, want)
		}
	}
	if len(sends) != n {
		t.Errorf("envelope senders name %d sends; want %d, one per message", len(sends), n)
	}
}

// TestBadDKIMKeyStopsStart: a key that cannot sign stops the process at
// start with a sentence naming the variable and the problem.
func TestBadDKIMKeyStopsStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("ssh-ed25519 AAAA..."), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, file, want string }{
		{"missing file", filepath.Join(dir, "missing.pem"), "DEARFRIEND_DKIM_KEY_FILE: open "},
		{"not PEM", notPEM, "DEARFRIEND_DKIM_KEY_FILE " + notPEM + ": mailer: DKIM key: no PEM block found"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{
				"DEARFRIEND_HTTP_ADDR":     "127.0.0.1:0",
				"DEARFRIEND_INBOUND_ADDR":  "127.0.0.1:0",
				"DEARFRIEND_DATABASE_URL":  testenv.SQLite(t),
				"DEARFRIEND_SMTP_URL":      "smtp://127.0.0.1:1?tls=none",
				"DEARFRIEND_SEED":          "false",
				"DEARFRIEND_DKIM_DOMAIN":   "example.org",
				"DEARFRIEND_DKIM_SELECTOR": "df2026",
				"DEARFRIEND_DKIM_KEY_FILE": tt.file,
			}
			cfg, err := config.FromEnv(config.ModeDev, func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			a, err := app.New(t.Context(), cfg, app.WithLogger(slog.New(slog.DiscardHandler)))
			if err == nil {
				a.Close()
				t.Fatal("app.New succeeded with a bad DKIM key")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("app.New: %v; want an error containing %q", err, tt.want)
			}
		})
	}
}
