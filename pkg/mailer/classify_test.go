package mailer_test

import (
	"context"
	"fmt"
	"io"
	"net/textproto"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/mailer"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want mailer.Result
	}{
		{"nil", nil, mailer.Result{Status: mailer.StatusSent, Code: 250}},
		{"4xx reply", &textproto.Error{Code: 451, Msg: "4.3.0 try later"},
			mailer.Result{Status: mailer.StatusDeferred, Code: 451, Enhanced: "4.3.0", Reply: "4.3.0 try later"}},
		{"5xx reply", &textproto.Error{Code: 550, Msg: "5.1.1 no such user"},
			mailer.Result{Status: mailer.StatusBounced, Code: 550, Enhanced: "5.1.1", Reply: "5.1.1 no such user"}},
		{"5xx without enhanced code, blaming nobody", fmt.Errorf("rcpt: %w", &textproto.Error{Code: 554, Msg: "go away"}),
			mailer.Result{Status: mailer.StatusFailed, Code: 554, Reply: "go away"}},
		{"5xx without enhanced code, no such user", &textproto.Error{Code: 550, Msg: "Requested action not taken: no such user here"},
			mailer.Result{Status: mailer.StatusBounced, Code: 550, Reply: "Requested action not taken: no such user here"}},
		{"bad destination", &textproto.Error{Code: 550, Msg: "5.1.2 bad destination system"},
			mailer.Result{Status: mailer.StatusBounced, Code: 550, Enhanced: "5.1.2", Reply: "5.1.2 bad destination system"}},
		{"null MX", &textproto.Error{Code: 556, Msg: "5.1.10 domain does not accept mail"},
			mailer.Result{Status: mailer.StatusBounced, Code: 556, Enhanced: "5.1.10", Reply: "5.1.10 domain does not accept mail"}},
		{"disabled mailbox", &textproto.Error{Code: 550, Msg: "5.2.1 mailbox disabled"},
			mailer.Result{Status: mailer.StatusBounced, Code: 550, Enhanced: "5.2.1", Reply: "5.2.1 mailbox disabled"}},
		{"sender policy", &textproto.Error{Code: 550, Msg: "5.7.1 message refused"},
			mailer.Result{Status: mailer.StatusBlocked, Code: 550, Enhanced: "5.7.1", Reply: "5.7.1 message refused"}},
		{"spamhaus", &textproto.Error{Code: 554, Msg: "5.7.1 Service unavailable; client host blocked using zen.spamhaus.org"},
			mailer.Result{Status: mailer.StatusBlocked, Code: 554, Enhanced: "5.7.1", Reply: "5.7.1 Service unavailable; client host blocked using zen.spamhaus.org"}},
		{"barracuda without enhanced code", &textproto.Error{Code: 554, Msg: "rejected by Barracuda reputation"},
			mailer.Result{Status: mailer.StatusBlocked, Code: 554, Reply: "rejected by Barracuda reputation"}},
		{"spamcop under a 5.1.x code", &textproto.Error{Code: 550, Msg: "5.1.0 listed at bl.spamcop.net"},
			mailer.Result{Status: mailer.StatusBlocked, Code: 550, Enhanced: "5.1.0", Reply: "5.1.0 listed at bl.spamcop.net"}},
		{"looks like spam", &textproto.Error{Code: 550, Msg: "5.6.0 message looks like SPAM"},
			mailer.Result{Status: mailer.StatusBlocked, Code: 550, Enhanced: "5.6.0", Reply: "5.6.0 message looks like SPAM"}},
		{"message too big", &textproto.Error{Code: 552, Msg: "5.3.4 message too big"},
			mailer.Result{Status: mailer.StatusFailed, Code: 552, Enhanced: "5.3.4", Reply: "5.3.4 message too big"}},
		{"network", io.EOF, mailer.Result{Status: mailer.StatusDeferred, Reply: "EOF"}},
		{"timeout", context.DeadlineExceeded, mailer.Result{Status: mailer.StatusDeferred, Reply: "context deadline exceeded"}},
		{"invalid message", &mailer.InvalidError{Field: "Subject", Reason: "contains CR, LF or another control character"},
			mailer.Result{Status: mailer.StatusFailed, Reply: "mailer: invalid Subject: contains CR, LF or another control character"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, mailer.Classify(tt.err)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzClassify: whatever a relay answers, a 5xx is blocked, bounced or
// failed, never sent or deferred, and the verdict does not panic.
func FuzzClassify(f *testing.F) {
	for _, seed := range []string{"5.1.1 no such user", "5.7.1 blocked using zen.spamhaus.org", "go away", "5.2.1", "", "5.1.10 null MX", "\x00 POLICY"} {
		f.Add(550, seed)
	}
	f.Add(451, "4.7.0 try later")
	f.Fuzz(func(t *testing.T, code int, msg string) {
		res := mailer.Classify(&textproto.Error{Code: code, Msg: msg})
		if code >= 500 && code < 600 {
			switch res.Status {
			case mailer.StatusBlocked, mailer.StatusBounced, mailer.StatusFailed:
			default:
				t.Errorf("%d %q: %s, want blocked, bounced or failed", code, msg, res.Status)
			}
		}
	})
}
