package app_test

import (
	"net/http"
	"testing"
)

// The profiler answers on DEARFRIEND_METRICS_ADDR with DEARFRIEND_PPROF
// set, and nowhere otherwise: not without it, never on the public server.
// No storage is involved, so one backend is enough.
func TestPprofOnlyWhenAsked(t *testing.T) {
	b := backends(t)[0]
	for _, tt := range []struct {
		pprof string
		want  int
	}{
		{"1", http.StatusOK},
		{"false", http.StatusNotFound},
	} {
		t.Run("DEARFRIEND_PPROF="+tt.pprof, func(t *testing.T) {
			h := start(t, b, map[string]string{"DEARFRIEND_METRICS_ADDR": "127.0.0.1:0", "DEARFRIEND_PPROF": tt.pprof})
			for url, want := range map[string]int{
				h.app.MetricsURL() + "/debug/pprof/": tt.want,
				h.app.MetricsURL() + "/metrics":      http.StatusOK,
				h.app.MetricsURL() + "/healthz":      http.StatusOK, // a worker's probes
				h.app.MetricsURL() + "/readyz":       http.StatusOK,
				h.app.URL() + "/debug/pprof/":        http.StatusNotFound,
			} {
				resp, err := http.Get(url)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != want {
					t.Errorf("GET %s = %d; want %d", url, resp.StatusCode, want)
				}
			}
		})
	}
}
