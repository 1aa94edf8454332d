package app_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestDKIMDomainMatchesFrom: with DKIM on for example.org, a message from
// another domain is refused when saved (422 naming from_email), one from a
// subdomain is saved, and a campaign whose message was saved before signing
// was on does not start: nobody gets mail that would fail DMARC.
func TestDKIMDomainMatchesFrom(t *testing.T) {
	t.Parallel()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "dkim.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			dsn := b.dsn(t)
			b.dsn = func(testing.TB) string { return dsn }
			h := start(t, b, map[string]string{
				"DEARFRIEND_DKIM_DOMAIN": "example.org", "DEARFRIEND_DKIM_SELECTOR": "df2026", "DEARFRIEND_DKIM_KEY_FILE": keyFile,
			})
			message := func(from string) map[string]any {
				return map[string]any{"subject": "Add your name", "from_name": "Maya", "from_email": from, "html": "<p>Dear friend</p>"}
			}
			var refused apiError
			if code := h.call("POST", "/api/v1/messages", message("action@other.example.net"), &refused); code != 422 || refused.Error.Field != "from_email" {
				t.Errorf("message from another domain: %d %+v; want 422 naming from_email", code, refused)
			}
			if code := h.call("POST", "/api/v1/messages", message("news@act.example.org"), nil); code != 201 {
				t.Errorf("message from a subdomain: %d; want 201", code)
			}

			// Saved before DKIM was turned on: written to the database directly.
			st := testenv.Store(t, dsn)
			old := &store.Message{Name: "old", Subject: "Add your name", FromName: "Maya", FromEmail: "action@other.example.net", HTML: "<p>Dear friend</p>"}
			if err := st.CreateMessage(context.Background(), old); err != nil {
				t.Fatal(err)
			}
			var list store.List
			if code := h.call("POST", "/api/v1/lists", map[string]any{"name": "Supporters"}, &list); code != 201 {
				t.Fatalf("create list: %d", code)
			}
			if code := h.call("POST", "/api/v1/contacts", map[string]any{"email": "ada@example.net", "lists": []int64{list.ID}}, nil); code != 201 {
				t.Fatalf("create contact: %d", code)
			}
			var camp store.Campaign
			if code := h.call("POST", "/api/v1/campaigns", map[string]any{"name": "old", "message_id": old.ID, "audience": map[string]any{"lists": []int64{list.ID}}}, &camp); code != 201 {
				t.Fatalf("create campaign: %d", code)
			}
			refused = apiError{}
			if code := h.call("POST", fmt.Sprintf("/api/v1/campaigns/%d/send", camp.ID), nil, &refused); code != 422 || refused.Error.Field != "from_email" {
				t.Errorf("start with a From DKIM does not align with: %d %+v; want 422 naming from_email", code, refused)
			}
			if got, _ := st.GetCampaign(context.Background(), camp.ID); got.Status != store.CampaignDraft {
				t.Errorf("campaign is %s after a refused start; want draft", got.Status)
			}
		})
	}
}
