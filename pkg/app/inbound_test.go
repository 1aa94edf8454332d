package app_test

import (
	"errors"
	"net/http"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"regexp"
	"strings"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// inboundEnv turns on VERP and a mailto address the inbound server takes.
var inboundEnv = map[string]string{
	"DEARFRIEND_BOUNCE_DOMAIN":      "bounces.example.org",
	"DEARFRIEND_UNSUBSCRIBE_MAILTO": "unsubscribe@bounces.example.org",
	"DEARFRIEND_INBOUND_ADDR":       "127.0.0.1:0",
}

// mailInbound delivers raw from the null sender to rcpt on the App's inbound
// SMTP server; it returns the reply code of a refusal, 0 when taken.
func mailInbound(t *testing.T, h *harness, rcpt string, raw string) int {
	t.Helper()
	c, err := smtp.Dial(h.app.InboundAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var te *textproto.Error
	step := func(err error) bool {
		if err != nil && !errors.As(err, &te) {
			t.Fatal(err)
		}
		return err == nil
	}
	if step(c.Mail("")) && step(c.Rcpt(rcpt)) {
		w, err := c.Data()
		if step(err) {
			w.Write([]byte(raw))
			step(w.Close())
		}
	}
	if te != nil {
		return te.Code
	}
	return 0
}

var mailtoRE = regexp.MustCompile(`<mailto:([^?>]+)\?subject=([^>]+)>`)

// TestInboundMailtoUnsubscribe: mail to the List-Unsubscribe mailto of a
// campaign's message, as a mail client sends it, unsubscribes its
// recipient exactly as the one-click POST does; spam to the message's VERP
// address, and mail to any other address, change nothing.
func TestInboundMailtoUnsubscribe(t *testing.T) {
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
				if m.To[0] == emails[1] {
					envelope = m.From
				}
			}
			msg, err := mail.ReadMessage(strings.NewReader(string(waitMessageTo(t, h, emails[0]))))
			if err != nil {
				t.Fatal(err)
			}
			mt := mailtoRE.FindStringSubmatch(msg.Header.Get("List-Unsubscribe"))
			if mt == nil || !strings.HasPrefix(envelope, "bounce+") {
				t.Fatalf("List-Unsubscribe %q, envelope %q: want a mailto and a VERP sender", msg.Header.Get("List-Unsubscribe"), envelope)
			}
			spam := "From: Prince <prince@example.net>\r\nSubject: You won\r\n\r\nSend money.\r\n"
			if code := mailInbound(t, h, envelope, spam); code != 0 {
				t.Errorf("spam to the VERP address: %d, want taken and dropped", code)
			}
			if code := mailInbound(t, h, "someone@bounces.example.org", spam); code != 550 {
				t.Errorf("mail to another address: %d, want 550", code)
			}
			if code := mailInbound(t, h, mt[1], "From: x@example.net\r\nSubject: unsubscribe-forged\r\n\r\n"); code != 0 {
				t.Errorf("a forged unsubscribe: %d, want taken and dropped", code)
			}
			for _, e := range emails {
				if s := contactStatus(t, h, e); s != store.ContactSubscribed {
					t.Fatalf("%s is %s before any unsubscribe", e, s)
				}
			}
			unsub := "From: " + emails[0] + "\r\nTo: " + mt[1] + "\r\nSubject: " + mt[2] + "\r\n\r\nThis message will unsubscribe you.\r\n"
			for range 2 { // a second time changes nothing more
				if code := mailInbound(t, h, mt[1], unsub); code != 0 {
					t.Fatalf("mailto unsubscribe: %d", code)
				}
			}
			want := map[string]string{emails[0]: store.ContactUnsubscribed, emails[1]: store.ContactSubscribed, emails[2]: store.ContactSubscribed}
			for e, w := range want {
				if s := contactStatus(t, h, e); s != w {
					t.Errorf("%s is %s, want %s", e, s, w)
				}
			}
		})
	}
}
