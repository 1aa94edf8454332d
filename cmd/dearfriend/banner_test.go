package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dearfriend/dearfriend/pkg/app"
	"github.com/dearfriend/dearfriend/pkg/config"
)

// TestDevBanner prints the banner of `make run` on a first run (the admin
// password made now, the demo campaign to send) and on a second run on the
// same database after the campaign was scheduled: no password there is none
// of, but how to set a new one, and no hint to send what is not a draft.
func TestDevBanner(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"DEARFRIEND_HTTP_ADDR":     "127.0.0.1:0",
		"DEARFRIEND_INBOUND_ADDR":  "127.0.0.1:0",
		"DEARFRIEND_DEV_SMTP_ADDR": "127.0.0.1:0",
		"DEARFRIEND_DATABASE_URL":  filepath.Join(t.TempDir(), "dev.db"),
	}
	banner := func() (string, *app.App) {
		cfg, err := config.FromEnv(config.ModeDev, func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		a, err := app.New(context.Background(), cfg, app.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		var out bytes.Buffer
		if err := printDev(context.Background(), &out, a); err != nil {
			t.Fatal(err)
		}
		return out.String(), a
	}
	check := func(run, out string, want, unwanted []string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s run: the banner does not say %q:\n%s", run, w, out)
			}
		}
		for _, u := range unwanted {
			if strings.Contains(out, u) {
				t.Errorf("%s run: the banner says %q:\n%s", run, u, out)
			}
		}
	}

	first, a := banner()
	check("first", first, []string{"sign in as admin@example.org, password ", "(shown this once)",
		"Send the demo action alert to the 1000 demo supporters", "/api/v1/campaigns/1/send"},
		[]string{"log above", "forgot the password"})
	if err := a.Store().ScheduleCampaign(context.Background(), 1, time.Now().Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	a.Close()

	second, _ := banner()
	check("second", second, []string{"sign in as admin@example.org; forgot the password? dearfriend user password --email admin@example.org",
		"The demo action alert is scheduled: follow it at http://127.0.0.1:"},
		[]string{"log above", ", password ", "/send", "shown this once"})
}
