package app_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMetricsGuard: /metrics on the public server unless
// DEARFRIEND_METRICS_ADDR moves it to a listener of its own, and behind
// DEARFRIEND_METRICS_TOKEN wherever it is.
func TestMetricsGuard(t *testing.T) {
	t.Parallel()
	const token = "metrics-token-0123456789"
	b := backends(t)[0]
	for _, tt := range []struct {
		name string
		env  map[string]string
		want map[string]int // "public" or "listener", with or without the token
	}{
		{"open", nil, map[string]int{"public": 200, "public+token": 200}},
		{"token", map[string]string{"DEARFRIEND_METRICS_TOKEN": token}, map[string]int{"public": 401, "public+token": 200}},
		{"own listener", map[string]string{"DEARFRIEND_METRICS_ADDR": "127.0.0.1:0"},
			map[string]int{"public": 404, "public+token": 404, "listener": 200, "listener+token": 200}},
		{"own listener and token", map[string]string{"DEARFRIEND_METRICS_ADDR": "127.0.0.1:0", "DEARFRIEND_METRICS_TOKEN": token},
			map[string]int{"public": 404, "public+token": 404, "listener": 401, "listener+token": 200}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, b, tt.env)
			got := map[string]int{}
			for where, base := range map[string]string{"public": h.app.URL(), "listener": h.app.MetricsURL()} {
				if base == "" {
					continue
				}
				for _, auth := range []string{"", "+token"} {
					req, _ := http.NewRequest("GET", base+"/metrics", nil)
					if auth != "" {
						req.Header.Set("Authorization", "Bearer "+token)
					}
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					got[where+auth] = resp.StatusCode
				}
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("GET /metrics (-want +got):\n%s", d)
			}
		})
	}
}
