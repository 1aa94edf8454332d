package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestInboundBounce: Postfix's DSN for a campaign's recipient, sent to the
// message's VERP address, bounces and suppresses that contact alone; the
// same report again changes nothing more.
func TestInboundBounce(t *testing.T) {
	dsn := testenv.BounceCase(t, "lhost-postfix-14.eml")
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, b, inboundEnv)
			camp, emails := h.mustDraftCampaign(3)
			if code := h.call("POST", h.campaignPath(camp, "send"), nil, nil); code != http.StatusAccepted {
				t.Fatalf("send: %d", code)
			}
			h.waitFinished(camp)
			var envelope string
			for _, m := range h.capture.Messages() {
				if m.To[0] == emails[0] {
					envelope = m.From
				}
			}
			report := strings.ReplaceAll(string(dsn), "kijitora@2jo.example.jp", emails[0])
			for range 2 {
				if code := mailInbound(t, h, envelope, report); code != 0 {
					t.Fatalf("DSN to %s: %d", envelope, code)
				}
			}
			want := map[string]string{emails[0]: store.ContactBounced, emails[1]: store.ContactSubscribed, emails[2]: store.ContactSubscribed}
			for e, w := range want {
				if s := contactStatus(t, h, e); s != w {
					t.Errorf("%s is %s, want %s", e, s, w)
				}
			}
			if sup, err := h.app.Store().IsSuppressed(t.Context(), emails[0]); err != nil || !sup {
				t.Errorf("%s suppressed %v (%v), want suppressed", emails[0], sup, err)
			}
		})
	}
}
