package track

import (
	"net/http/httptest"
	"testing"
)

func TestMachineActivity(t *testing.T) {
	for _, tt := range []struct {
		name, method, ua, addr string
		open, click            bool
	}{
		{"browser", "GET", browserUA, "203.0.113.5:4000", false, false},
		{"Gmail image proxy", "GET", "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)", "66.249.1.1:1", false, false},
		{"Apple privacy proxy agent", "GET", "Mozilla/5.0", "198.51.100.7:1", true, false},
		{"Apple address block", "GET", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)", "17.58.1.2:443", true, false},
		{"HEAD request", "HEAD", browserUA, "203.0.113.5:1", false, true},
		{"security gateway", "GET", "Mozilla/5.0 (compatible; Barracuda Sentinel)", "203.0.113.5:1", true, true},
		{"no user agent", "GET", "", "203.0.113.5:1", true, true},
		{"HTTP library", "GET", "python-requests/2.31", "203.0.113.5:1", true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/t/c/x", nil)
			r.Header.Set("User-Agent", tt.ua)
			r.RemoteAddr = tt.addr
			if got := machineOpen(r); got != tt.open && tt.method == "GET" {
				t.Errorf("machineOpen = %v, want %v", got, tt.open)
			}
			if got := MachineClick(r); got != tt.click {
				t.Errorf("MachineClick = %v, want %v", got, tt.click)
			}
		})
	}
}
