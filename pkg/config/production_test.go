package config

import (
	"maps"
	"strings"
	"testing"
)

// TestProductionStartChecks: serve and worker refuse the demo's sender
// identity and a public URL that is not https, each in a sentence naming
// the variable; DEARFRIEND_ALLOW_HTTP=1 allows http; dev is unaffected.
func TestProductionStartChecks(t *testing.T) {
	prod := map[string]string{
		"DEARFRIEND_DATABASE_URL":   "postgres://h/db",
		"DEARFRIEND_REDIS_URL":      "redis://h:6379",
		"DEARFRIEND_SMTP_URL":       "smtp://relay:587",
		"DEARFRIEND_SECRET":         strings.Repeat("s", 32),
		"DEARFRIEND_PUBLIC_URL":     "https://act.riverfriends.org",
		"DEARFRIEND_ORG_NAME":       "Friends of the River",
		"DEARFRIEND_FROM_NAME":      "Sam Lee",
		"DEARFRIEND_FROM_EMAIL":     "action@riverfriends.org",
		"DEARFRIEND_POSTAL_ADDRESS": "12 Water St, Bend, OR 97701",
	}
	with := func(k, v string) map[string]string {
		m := maps.Clone(prod)
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	for _, mode := range []Mode{ModeServe, ModeWorker} {
		if _, err := FromEnv(mode, env(prod)); err != nil {
			t.Errorf("%s with a real identity and https: %v", mode, err)
		}
		if _, err := FromEnv(mode, env(with("DEARFRIEND_PUBLIC_URL", "http://10.0.0.5:8080"))); err == nil {
			t.Errorf("%s with an http public URL started", mode)
		}
		allow := with("DEARFRIEND_PUBLIC_URL", "http://10.0.0.5:8080")
		allow["DEARFRIEND_ALLOW_HTTP"] = "1"
		if _, err := FromEnv(mode, env(allow)); err != nil {
			t.Errorf("%s with DEARFRIEND_ALLOW_HTTP=1 and http: %v", mode, err)
		}
		for name, tt := range map[string]struct {
			env  map[string]string
			want string
		}{
			"demo org name":     {with("DEARFRIEND_ORG_NAME", ""), "DEARFRIEND_ORG_NAME is the demo's"},
			"demo from name":    {with("DEARFRIEND_FROM_NAME", ""), "DEARFRIEND_FROM_NAME is the demo's"},
			"demo from address": {with("DEARFRIEND_FROM_EMAIL", ""), `DEARFRIEND_FROM_EMAIL is "action@example.org", at a domain reserved for examples`},
			"example subdomain": {with("DEARFRIEND_FROM_EMAIL", "news@mail.example.com"), "DEARFRIEND_FROM_EMAIL is"},
			"example mailto":    {with("DEARFRIEND_UNSUBSCRIBE_MAILTO", "unsubscribe@example.org"), "DEARFRIEND_UNSUBSCRIBE_MAILTO is"},
			"demo postal":       {with("DEARFRIEND_POSTAL_ADDRESS", DemoPostalAddress), "DEARFRIEND_POSTAL_ADDRESS is the demo's"},
			"no public URL":     {with("DEARFRIEND_PUBLIC_URL", ""), "DEARFRIEND_PUBLIC_URL must be an https:// URL"},
			"http public URL":   {with("DEARFRIEND_PUBLIC_URL", "http://act.riverfriends.org"), "DEARFRIEND_ALLOW_HTTP=1 allows http"},
		} {
			t.Run(string(mode)+"/"+name, func(t *testing.T) {
				_, err := FromEnv(mode, env(tt.env))
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("error = %v; want it to contain %q", err, tt.want)
				}
			})
		}
	}
	if _, err := FromEnv(ModeDev, env(nil)); err != nil {
		t.Errorf("dev with the demo identity and no public URL: %v", err)
	}
}
