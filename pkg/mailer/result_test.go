package mailer_test

import (
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/dearfriend/dearfriend/pkg/devsvc"
	"github.com/dearfriend/dearfriend/pkg/mailer"
)

// TestLedgerReply: the line written to the ledger names the enhanced code
// once, whether the relay's text starts with it (as it does here) or not.
func TestLedgerReply(t *testing.T) {
	t.Parallel()
	capture := mustStartCapture(t, devsvc.CaptureOptions{
		Reject: func(_ string, to []string) error {
			if to[0] == "nobody@example.net" {
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
			}
			return nil
		},
	})
	pool := mustNewPool(t, mailer.Config{URL: "smtp://" + capture.Addr()})
	for _, tt := range []struct{ to, want string }{
		{"ok@example.net", "250 2.0.0 OK: queued"},
		{"nobody@example.net", "550 5.1.1 no such user"},
	} {
		if got := pool.Send(t.Context(), messageTo(tt.to)).Line(); got != tt.want {
			t.Errorf("ledger line for %s = %q; want %q", tt.to, got, tt.want)
		}
	}
	for _, tt := range []struct {
		res  mailer.Result
		want string
	}{
		{mailer.Result{Code: 250, Enhanced: "2.0.0", Reply: "queued as 4F2"}, "250 2.0.0 queued as 4F2"},
		{mailer.Result{Code: 250, Reply: "ok"}, "250 ok"},
		{mailer.Result{Reply: "dial tcp: connection refused"}, "dial tcp: connection refused"},
		{mailer.Result{Code: 452, Enhanced: "4.2.2", Reply: "4.2.2"}, "452 4.2.2"},
	} {
		if got := tt.res.Line(); got != tt.want {
			t.Errorf("%+v.Line() = %q; want %q", tt.res, got, tt.want)
		}
	}
}
