package delivery

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/mailer"
	"github.com/dearfriend/dearfriend/pkg/render"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/track"
)

// TestMessageHeaders checks the envelope and headers a campaign's message
// gets, with and without a bounce domain, for a campaign of one list and of
// several.
func TestMessageHeaders(t *testing.T) {
	in, compiler := message20KB(t)
	c, err := compiler.Compile(in)
	if err != nil {
		t.Fatal(err)
	}
	signer := track.NewSigner(strings.Repeat("k", 32))
	links := track.NewLinks("https://act.example.org", signer)
	r := store.Recipient{SendID: 345, Email: "jane@example.net", FirstName: "Jane", LastName: "Doe"}
	out, err := c.Merge(render.Recipient{SendID: r.SendID, Email: r.Email, FirstName: r.FirstName}, links)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	date := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	unsub := "<https://act.example.org/u/" + signer.Sign(track.KindUnsubscribe, 345, 0) + ">, <mailto:unsubscribe@example.org?subject=unsubscribe-" + signer.Sign(track.KindUnsubscribe, 345, 0) + ">"

	tests := []struct {
		name             string
		opts             []WorkerOption
		lists            []int64
		wantEnvelopeFrom string
		wantFeedbackID   string
	}{
		{"VERP, one list", []WorkerOption{WithBounceDomain("bounces.example.org"), WithOrgShortName("northfork")}, []int64{7},
			"bounce+" + links.BounceToken(345) + "@bounces.example.org", "12:7:northfork:dearfriend"},
		{"no bounce domain, two lists", nil, []int64{7, 8}, "", "12:0:org:dearfriend"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := NewWorker(nil, nil, nil, links, "unsubscribe@example.org", 5, log, append(tt.opts, WithDeploymentID("k3x7q2m9p4d8w6zt"))...)
			w.now = func() time.Time { return date }
			m := w.message(&store.Campaign{ID: 12, Audience: store.Audience{Lists: tt.lists}}, c, r, out)
			got := struct {
				EnvelopeFrom, MessageID, ToName string
				Date                            time.Time
				Headers                         []mailer.Header
			}{m.EnvelopeFrom, m.MessageID, m.ToName, m.Date, m.Headers}
			want := got
			want.EnvelopeFrom, want.MessageID, want.ToName, want.Date = tt.wantEnvelopeFrom, "c12.s345.k3x7q2m9p4d8w6zt@example.org", "Jane Doe", date
			want.Headers = []mailer.Header{
				{Name: "List-Unsubscribe", Value: unsub},
				{Name: "List-Unsubscribe-Post", Value: "List-Unsubscribe=One-Click"},
				{Name: "List-Id", Value: "<campaign-12.example.org>"},
				{Name: "Feedback-ID", Value: tt.wantFeedbackID},
				{Name: "X-Campaign-ID", Value: "12"},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
			if tt.wantEnvelopeFrom != "" {
				token := strings.TrimSuffix(strings.TrimPrefix(m.EnvelopeFrom, "bounce+"), "@bounces.example.org")
				if send, _, err := signer.Verify(track.KindBounce, token); err != nil || send != 345 {
					t.Errorf("VERP token names send %d, %v; want 345", send, err)
				}
			}
			if _, err := mailer.Build(m); err != nil {
				t.Errorf("Build refuses the message: %v", err)
			}
		})
	}
}

// TestMessageIDsUnique: a Message-ID names the campaign, the send and the
// deployment, so two deployments never make the same one, while every try
// of one send makes the same; a signature's confirmation too.
func TestMessageIDsUnique(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, b := NewDeploymentID(), NewDeploymentID()
	if a == b || len(a) != 16 || strings.Trim(a, "abcdefghijklmnopqrstuvwxyz234567") != "" {
		t.Fatalf("deployment ids %q and %q: want two different ids of 16 letters and digits", a, b)
	}
	worker := func(id string) *Worker { return NewWorker(nil, nil, nil, nil, "", 5, log, WithDeploymentID(id)) }
	wa, wb := worker(a), worker(b)
	got := []string{
		wa.campaignMessageID(1, 1, "action@example.org"),
		wa.campaignMessageID(1, 1, "action@example.org"),
		wb.campaignMessageID(1, 1, "action@example.org"),
		wa.messageID("sig1", "action@example.org"),
	}
	want := []string{"c1.s1." + a + "@example.org", "c1.s1." + a + "@example.org", "c1.s1." + b + "@example.org", "sig1." + a + "@example.org"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Message-IDs (-want +got):\n%s", diff)
	}
	for _, id := range got {
		m := &mailer.Message{FromEmail: "action@example.org", ToEmail: "jane@example.net", Subject: "s", MessageID: id, Date: time.Now(), Text: "t"}
		if _, err := mailer.Build(m); err != nil {
			t.Errorf("Message-ID %q: %v", id, err)
		}
	}
}
