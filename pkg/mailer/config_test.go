package mailer_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/mailer"
)

func TestParseURL(t *testing.T) {
	t.Parallel()
	defaults := func(raw string) mailer.Config {
		return mailer.Config{
			URL:             raw,
			MaxConns:        mailer.DefaultMaxConns,
			MessagesPerConn: mailer.DefaultMessagesPerConn,
			Timeout:         mailer.DefaultTimeout,
			IdleTimeout:     mailer.DefaultIdleTimeout,
		}
	}
	tests := []struct {
		raw  string
		want func(c mailer.Config) mailer.Config
	}{
		{"smtp://localhost:1025", nil},
		{"smtp://relay.example.org", nil},
		{"smtps://user:p%40ss@smtp.example.org", nil},
		{"smtp://user:pass@relay.example.org:587?tls=mandatory&auth=login", nil},
		{"smtp://[::1]:2525?tls=none", nil},
		{"smtp://relay.example.org/?tls=starttls", nil},
		{"smtp://relay.example.org?max_conns=16&messages_per_conn=500&timeout=10s&idle_timeout=1m&helo=mta1.example.org",
			func(c mailer.Config) mailer.Config {
				c.MaxConns, c.MessagesPerConn, c.Timeout, c.IdleTimeout, c.HeloName = 16, 500, 10*time.Second, time.Minute, "mta1.example.org"
				return c
			}},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := mailer.ParseURL(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			want := defaults(tt.raw)
			if tt.want != nil {
				want = tt.want(want)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseURLErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw     string
		wantErr string
	}{
		{"", "empty"},
		{"   ", "empty"},
		{"relay.example.org:25", "scheme"},
		{"http://relay.example.org", `scheme "http"`},
		{"smtp:relay.example.org", "two slashes"},
		{"smtp://", "host is missing"},
		{"smtp://:25", "host is missing"},
		{"smtp://relay.example.org:0", `port "0"`},
		{"smtp://relay.example.org:99999", `port "99999"`},
		{"smtp://relay.example.org:smtp", "not a valid URL"},
		{"smtp://relay.example.org/mail", `unexpected path "/mail"`},
		{"smtp://relay.example.org#x", "fragment"},
		{"smtp://relay.example.org?tls=yes", "tls=yes: want none, starttls or mandatory"},
		{"smtps://relay.example.org?tls=starttls", "smtps is TLS from the start"},
		{"smtp://user@relay.example.org", `user "user" has no password`},
		{"smtp://:secret@relay.example.org", "user name is empty"},
		{"smtp://relay.example.org?auth=plain", "no user:password@"},
		{"smtp://u:p@relay.example.org?auth=xoauth", "auth=xoauth: want plain"},
		{"smtp://relay.example.org?max_conns=0", "max_conns=0"},
		{"smtp://relay.example.org?max_conns=many", "max_conns=many"},
		{"smtp://relay.example.org?messages_per_conn=-1", "messages_per_conn=-1"},
		{"smtp://relay.example.org?timeout=30", "timeout=30: want a positive duration"},
		{"smtp://relay.example.org?idle_timeout=-1s", "idle_timeout=-1s"},
		{"smtp://relay.example.org?helo=a%20b", "HELO name"},
		{"smtp://relay.example.org?tls=none&tls=mandatory", `"tls" is given 2 times`},
		{"smtp://relay.example.org?pool=4", `unknown parameter "pool"`},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			_, err := mailer.ParseURL(tt.raw)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ParseURL(%q) = %v; want an error containing %q", tt.raw, err, tt.wantErr)
			}
		})
	}
}

// Secrets never print: not in errors, not in logs.
func TestConfigHidesPassword(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"smtp://user:hunter2@relay.example.org:bad",
		"smtp://user:hunter2@relay.example.org?tls=bogus",
		"smtp://user:hunter2@relay.example.org/\x7f",
	} {
		if _, err := mailer.ParseURL(raw); err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("ParseURL(%q) error = %v; want an error without the password", raw, err)
		}
	}

	cfg, err := mailer.ParseURL("smtp://user:hunter2@relay.example.org")
	if err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("mailer", "config", cfg)
	for name, s := range map[string]string{"String": cfg.String(), "%v": fmt.Sprintf("%v", cfg), "log": logged.String()} {
		if strings.Contains(s, "hunter2") || !strings.Contains(s, "relay.example.org") {
			t.Errorf("%s = %q; want the host without the password", name, s)
		}
	}
}

func TestNewPoolChecksConfig(t *testing.T) {
	t.Parallel()
	for _, cfg := range []mailer.Config{
		{URL: "http://x"},
		{URL: "smtp://localhost", MaxConns: -1},
		{URL: "smtp://localhost", Timeout: -time.Second},
		{URL: "smtp://localhost", HeloName: "bad name"},
	} {
		if p, err := mailer.NewPool(cfg, nil); err == nil {
			p.Close()
			t.Errorf("NewPool(%v) succeeded; want an error", cfg)
		}
	}
}
