package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDevDefaults(t *testing.T) {
	c, err := FromEnv(ModeDev, env(nil))
	if err != nil {
		t.Fatalf("dev with no env: %v", err)
	}
	if c.DatabaseURL != "./data/dearfriend.db" || c.HTTPAddr != "127.0.0.1:8080" || c.PublicURL != "" {
		t.Errorf("unexpected defaults: %+v", c)
	}
	if !c.Seed {
		t.Error("dev mode should seed demo data by default")
	}
}

func TestValidateNamesTheProblem(t *testing.T) {
	secret := strings.Repeat("s", 32)
	tests := []struct {
		name string
		mode Mode
		env  map[string]string
		want string
	}{
		{"mysql url", ModeDev, map[string]string{"DEARFRIEND_DATABASE_URL": "mysql://x/y"}, `takes postgres://… or a SQLite file path, got a "mysql" URL`},
		{"serve needs redis", ModeServe, map[string]string{"DEARFRIEND_DATABASE_URL": "postgres://h/db", "DEARFRIEND_SECRET": secret, "DEARFRIEND_POSTAL_ADDRESS": "x"}, "DEARFRIEND_REDIS_URL is required"},
		{"worker needs smtp", ModeWorker, map[string]string{"DEARFRIEND_DATABASE_URL": "postgres://h/db", "DEARFRIEND_REDIS_URL": "redis://h:6379", "DEARFRIEND_SECRET": secret, "DEARFRIEND_POSTAL_ADDRESS": "x"}, "DEARFRIEND_SMTP_URL is required"},
		{"short secret", ModeDev, map[string]string{"DEARFRIEND_SECRET": "short"}, "at least 32 characters"},
		{"bad number", ModeDev, map[string]string{"DEARFRIEND_BATCH_SIZE": "lots"}, `DEARFRIEND_BATCH_SIZE must be a whole number, got "lots"`},
		{"bad addr", ModeDev, map[string]string{"DEARFRIEND_HTTP_ADDR": "8080"}, "must be host:port"},
		{"postal address", ModeServe, map[string]string{"DEARFRIEND_DATABASE_URL": "a.db", "DEARFRIEND_REDIS_URL": "redis://h:6379", "DEARFRIEND_SECRET": secret}, "POSTAL_ADDRESS is required"},
		{"bad redis", ModeDev, map[string]string{"DEARFRIEND_REDIS_URL": "http://u:pw@h"}, "DEARFRIEND_REDIS_URL must start with redis://"},
		{"bad retry age", ModeDev, map[string]string{"DEARFRIEND_MAX_RETRY_AGE": "a day"}, `DEARFRIEND_MAX_RETRY_AGE must be a duration like 24h or 90m, got "a day"`},
		{"short retry age", ModeDev, map[string]string{"DEARFRIEND_MAX_RETRY_AGE": "5s"}, "DEARFRIEND_MAX_RETRY_AGE must be between 1m and 720h, got 5s"},
		{"bad metrics addr", ModeDev, map[string]string{"DEARFRIEND_METRICS_ADDR": "9090"}, "DEARFRIEND_METRICS_ADDR must be host:port"},
		{"bad pprof", ModeDev, map[string]string{"DEARFRIEND_PPROF": "yes please", "DEARFRIEND_METRICS_ADDR": "127.0.0.1:0"}, `DEARFRIEND_PPROF must be true or false (or 1 or 0), got "yes please"`},
		{"bad guard fraction", ModeDev, map[string]string{"DEARFRIEND_BOUNCE_GUARD_HARD": "5%"}, `DEARFRIEND_BOUNCE_GUARD_HARD must be a fraction like 0.05 (5%), got "5%"`},
		{"guard fraction over 1", ModeDev, map[string]string{"DEARFRIEND_BOUNCE_GUARD_COMPLAINT": "3"}, "DEARFRIEND_BOUNCE_GUARD_COMPLAINT must be a fraction above 0 and at most 1"},
		{"negative soft limit", ModeDev, map[string]string{"DEARFRIEND_BOUNCE_SOFT_LIMIT": "-1"}, "DEARFRIEND_BOUNCE_SOFT_LIMIT must be between 0"},
		{"bad guard switch", ModeDev, map[string]string{"DEARFRIEND_BOUNCE_GUARD": "maybe"}, `DEARFRIEND_BOUNCE_GUARD must be true or false, got "maybe"`},
		{"bad time zone", ModeDev, map[string]string{"DEARFRIEND_TIME_ZONE": "Mars/Olympus_Mons"}, `DEARFRIEND_TIME_ZONE must be an IANA time zone like America/New_York, got "Mars/Olympus_Mons"`},
		{"server's own zone", ModeDev, map[string]string{"DEARFRIEND_TIME_ZONE": "Local"}, `DEARFRIEND_TIME_ZONE must be an IANA time zone`},
		{"pprof without metrics addr", ModeWorker, map[string]string{"DEARFRIEND_PPROF": "1"}, "DEARFRIEND_PPROF serves the profiler on the metrics listener only: set DEARFRIEND_METRICS_ADDR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromEnv(tt.mode, env(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	c, err := FromEnv(ModeDev, env(map[string]string{
		"DEARFRIEND_API_TOKEN":    "tok-very-secret",
		"DEARFRIEND_SECRET":       strings.Repeat("k", 40),
		"DEARFRIEND_SMTP_URL":     "smtp://user:hunter2@relay:587",
		"DEARFRIEND_DATABASE_URL": "postgres://app:pgpass@db/app",
	}))
	if err != nil {
		t.Fatal(err)
	}
	s := c.String()
	for _, secret := range []string{"tok-very-secret", "kkkk", "hunter2", "pgpass"} {
		if strings.Contains(s, secret) {
			t.Errorf("String() leaks %q: %s", secret, s)
		}
	}
}

func TestSigningSettings(t *testing.T) {
	dkim := func(extra map[string]string) map[string]string {
		m := map[string]string{"DEARFRIEND_DKIM_DOMAIN": "example.org", "DEARFRIEND_DKIM_SELECTOR": "df2026", "DEARFRIEND_DKIM_KEY_FILE": "dkim.pem"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	bad := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"domain alone", map[string]string{"DEARFRIEND_DKIM_DOMAIN": "example.org"}, "missing DEARFRIEND_DKIM_SELECTOR and DEARFRIEND_DKIM_KEY_FILE"},
		{"no key file", dkim(map[string]string{"DEARFRIEND_DKIM_KEY_FILE": ""}), "missing DEARFRIEND_DKIM_KEY_FILE"},
		{"bad domain", dkim(map[string]string{"DEARFRIEND_DKIM_DOMAIN": "example"}), `DEARFRIEND_DKIM_DOMAIN must be a domain name like example.org, got "example"`},
		{"misaligned domain", dkim(map[string]string{"DEARFRIEND_DKIM_DOMAIN": "mailer.example.net"}), "DEARFRIEND_DKIM_DOMAIN mailer.example.net does not align with the domain of DEARFRIEND_FROM_EMAIL (example.org)"},
		{"bad selector", dkim(map[string]string{"DEARFRIEND_DKIM_SELECTOR": "df 2026"}), `DEARFRIEND_DKIM_SELECTOR must be a DNS label like dearfriend2026 (its record is <selector>._domainkey.<domain>), got "df 2026"`},
		{"bad bounce domain", map[string]string{"DEARFRIEND_BOUNCE_DOMAIN": "bounce@example.org"}, `DEARFRIEND_BOUNCE_DOMAIN must be a domain name like bounces.example.org, got "bounce@example.org"`},
		{"bad short name", map[string]string{"DEARFRIEND_ORG_SHORT_NAME": "a:b"}, `DEARFRIEND_ORG_SHORT_NAME must be at most 40`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromEnv(ModeDev, env(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}

	c, err := FromEnv(ModeDev, env(dkim(map[string]string{"DEARFRIEND_DKIM_DOMAIN": "Example.ORG", "DEARFRIEND_BOUNCE_DOMAIN": "bounces.example.org", "DEARFRIEND_ORG_NAME": "Friends of the Earth: Commons!"})))
	if err != nil {
		t.Fatalf("good signing settings refused: %v", err)
	}
	got := []string{c.DKIMDomain, c.DKIMSelector, c.DKIMKeyFile, c.BounceDomain, c.OrgShortName}
	want := []string{"example.org", "df2026", "dkim.pem", "bounces.example.org", "friends-of-the-earth-commons"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("domain, selector, key file, bounce domain, short name (-want +got):\n%s", diff)
	}
	// A From address under the signing domain aligns.
	if _, err := FromEnv(ModeDev, env(dkim(map[string]string{"DEARFRIEND_FROM_EMAIL": "action@news.example.org"}))); err != nil {
		t.Errorf("From under the DKIM domain refused: %v", err)
	}
}

// TestInboundSettings: the inbound server's address depends on the mode,
// the feedback address follows the bounce domain, and inbound mode refuses
// to start without a bounce domain.
func TestInboundSettings(t *testing.T) {
	base := map[string]string{"DEARFRIEND_DATABASE_URL": "postgres://h/db", "DEARFRIEND_REDIS_URL": "redis://h:6379",
		"DEARFRIEND_SECRET": strings.Repeat("s", 32), "DEARFRIEND_BOUNCE_DOMAIN": "Bounces.Example.org"}
	c, err := FromEnv(ModeInbound, env(base))
	if err != nil {
		t.Fatalf("inbound: %v", err)
	}
	dev, err := FromEnv(ModeDev, env(nil))
	if err != nil {
		t.Fatalf("dev: %v", err)
	}
	got := []string{c.InboundAddr, c.FBLAddress, dev.InboundAddr, dev.FBLAddress}
	if diff := cmp.Diff([]string{":2525", "fbl@bounces.example.org", "127.0.0.1:2526", "fbl@bounces.localhost"}, got); diff != "" {
		t.Errorf("inbound settings (-want +got):\n%s", diff)
	}
	if !ModeInbound.Receives() || ModeInbound.ServesHTTP() || ModeInbound.Sends() || !ModeDev.Receives() || ModeServe.Receives() {
		t.Error("inbound mode runs the inbound server alone; dev runs it too")
	}
	for name, tc := range map[string]struct {
		change map[string]string
		want   string
	}{
		"no bounce domain": {map[string]string{"DEARFRIEND_BOUNCE_DOMAIN": ""}, "DEARFRIEND_BOUNCE_DOMAIN is required for inbound"},
		"bad address":      {map[string]string{"DEARFRIEND_INBOUND_ADDR": "2525"}, "DEARFRIEND_INBOUND_ADDR must be host:port"},
		"bad fbl":          {map[string]string{"DEARFRIEND_FBL_ADDRESS": "not an address"}, "DEARFRIEND_FBL_ADDRESS must be an email address"},
		"no conns":         {map[string]string{"DEARFRIEND_INBOUND_CONNS": "0"}, "DEARFRIEND_INBOUND_CONNS must be between 1 and 100000"},
	} {
		e := map[string]string{}
		for k, v := range base {
			e[k] = v
		}
		for k, v := range tc.change {
			e[k] = v
		}
		if _, err := FromEnv(ModeInbound, env(e)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}
