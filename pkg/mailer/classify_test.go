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
		{"5xx without enhanced code", fmt.Errorf("rcpt: %w", &textproto.Error{Code: 554, Msg: "go away"}),
			mailer.Result{Status: mailer.StatusBounced, Code: 554, Reply: "go away"}},
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
