package mailer_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/devsvc"
	"github.com/dearfriend/dearfriend/pkg/mailer"
	"github.com/dearfriend/dearfriend/pkg/ratelimit"
)

func mustNewRelays(tb testing.TB, raw string, o mailer.RelaysOptions) *mailer.Relays {
	tb.Helper()
	cfgs, err := mailer.ParseRelays(raw, 0)
	if err != nil {
		tb.Fatal(err)
	}
	rs, err := mailer.NewRelays(cfgs, nil, o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { rs.Close() })
	return rs
}

func TestParseRelays(t *testing.T) {
	t.Parallel()
	got, err := mailer.ParseRelays(" smtp://a.example.org:587?weight=3&rate=50&rate_hour=100000,\n"+
		"smtps://u:p@b.example.org?max_conns=2&messages_per_conn=10  smtp://a.example.org:587", 6)
	if err != nil {
		t.Fatal(err)
	}
	type summary struct {
		Name               string
		Weight, MaxConns   int
		MessagesPerConn    int
		PerSecond, PerHour float64
	}
	var sums []summary
	for _, r := range got {
		sums = append(sums, summary{r.Name, r.Weight, r.MaxConns, r.MessagesPerConn, r.PerSecond, r.PerHour})
	}
	want := []summary{
		{"a.example.org:587", 3, 6, mailer.DefaultMessagesPerConn, 50, 100000},
		{"b.example.org:465", 1, 2, 10, 0, 0},
		{"a.example.org:587#2", 1, 6, mailer.DefaultMessagesPerConn, 0, 0},
	}
	if diff := cmp.Diff(want, sums); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// An error says which relay and which parameter, and keeps the password.
func TestParseRelaysErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ raw, want string }{
		{"", "empty"},
		{" , ", "empty"},
		{"smtp://a.example.org smtp://u:secret@b.example.org?weight=0", "relay 2 (b.example.org:25): weight=0"},
		{"smtp://a.example.org?weight=1001", "relay 1 (a.example.org:25): weight=1001"},
		{"smtp://a.example.org,smtp://u:secret@b.example.org?rate=fast", "relay 2 (b.example.org:25): rate=fast"},
		{"smtp://a.example.org?rate_hour=-5", "relay 1 (a.example.org:25): rate_hour=-5"},
		{"smtp://a.example.org?rate=NaN", "rate=NaN"},
		{"smtp://a.example.org smtp://u:secret@b.example.org?max_conns=x", "relay 2 (b.example.org:25): max_conns=x"},
		{"smtp://a.example.org http://u:secret@b.example.org", `relay 2: scheme "http"`},
		{"smtp://a.example.org?weight=2&weight=3", `relay 1 (a.example.org:25): parameter "weight" is given 2 times`},
		{"smtp://a.example.org?speed=3", `unknown parameter "speed"`},
	}
	for _, tt := range tests {
		_, err := mailer.ParseRelays(tt.raw, 0)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseRelays(%q) error = %v; want it to say %q", tt.raw, err, tt.want)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("ParseRelays(%q) error = %v repeats the password", tt.raw, err)
		}
	}
}

func FuzzParseRelays(f *testing.F) {
	for _, seed := range []string{
		"smtp://localhost:2525",
		"smtp://a.example.org:587?weight=3&rate=50&rate_hour=100000, smtps://u:p@b.example.org?max_conns=2",
		"smtp://[::1]:25?tls=none smtp://[::1]:25",
		"smtp://u:p%2Cq@relay.example.org?auth=login&tls=mandatory",
		"smtp://a?weight=,smtp://b?rate=0.5",
		",,, \n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		relays, err := mailer.ParseRelays(raw, 0)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "mailer: ") {
				t.Errorf("error %q does not say where it comes from", err)
			}
			return
		}
		names := map[string]bool{}
		for _, r := range relays {
			if r.Name == "" || names[r.Name] {
				t.Errorf("relay name %q is empty or repeated", r.Name)
			}
			names[r.Name] = true
			if r.Weight < 1 || r.MaxConns < 1 || r.MessagesPerConn < 1 || r.PerSecond < 0 || r.PerHour < 0 {
				t.Errorf("relay %+v has a value out of range", r)
			}
			// Each URL stands on its own.
			if _, err := mailer.ParseURL(r.URL); err != nil {
				t.Errorf("ParseURL(%q) of an accepted relay: %v", r.URL, err)
			}
		}
	})
}

// Weights 3 and 1 over two real SMTP servers: 3 messages of 4 go to the
// first. The round robin is smooth, so the split is exact.
func TestRelaysSplitByWeight(t *testing.T) {
	t.Parallel()
	a := mustStartCapture(t, devsvc.CaptureOptions{Limit: 1})
	b := mustStartCapture(t, devsvc.CaptureOptions{Limit: 1})
	rs := mustNewRelays(t, fmt.Sprintf("smtp://%s?weight=3, smtp://%s", a.Addr(), b.Addr()), mailer.RelaysOptions{})
	const n = 400
	for i := range n {
		if res := rs.Send(t.Context(), messageTo(fmt.Sprintf("r%d@example.net", i))); res.Status != mailer.StatusSent {
			t.Fatalf("Send = %+v", res)
		}
	}
	if got := []int64{a.Count(), b.Count()}; !cmp.Equal(got, []int64{300, 100}) {
		t.Errorf("messages per relay = %v; want [300 100]", got)
	}
}

// Each relay keeps to its own max_conns while many messages are sent at once.
func TestRelaysKeepEachRelaysConnections(t *testing.T) {
	t.Parallel()
	capture := mustStartCapture(t, devsvc.CaptureOptions{Limit: 1})
	pa, pb := startProxy(t, capture.Addr()), startProxy(t, capture.Addr())
	rs := mustNewRelays(t, fmt.Sprintf("smtp://%s?max_conns=2 smtp://%s?max_conns=3", pa.Addr(), pb.Addr()), mailer.RelaysOptions{})
	const n = 200
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if res := rs.Send(t.Context(), messageTo(fmt.Sprintf("r%d@example.net", i))); res.Status != mailer.StatusSent {
				t.Errorf("Send = %+v", res)
			}
		})
	}
	wg.Wait()
	if got := capture.Count(); got != n {
		t.Errorf("captured %d; want %d", got, n)
	}
	if got := pa.maxOpen.Load(); got < 1 || got > 2 {
		t.Errorf("relay 1: %d connections at once; want 1 or 2", got)
	}
	if got := pb.maxOpen.Load(); got < 1 || got > 3 {
		t.Errorf("relay 2: %d connections at once; want 1 to 3", got)
	}
}

// A relay that cannot be reached is skipped, and its message goes to the
// other relay at once.
func TestRelaysSkipUnreachableRelay(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	up := mustStartCapture(t, devsvc.CaptureOptions{Limit: 1})
	rs := mustNewRelays(t, fmt.Sprintf("smtp://%s?weight=5 smtp://%s", dead, up.Addr()), mailer.RelaysOptions{})
	for i := range 20 {
		if res := rs.Send(t.Context(), messageTo(fmt.Sprintf("r%d@example.net", i))); res.Status != mailer.StatusSent {
			t.Fatalf("Send %d = %+v; want sent through the other relay", i, res)
		}
	}
	if got := up.Count(); got != 20 {
		t.Errorf("relay up took %d; want all 20", got)
	}
	if st := rs.State(); st[0].Up || !st[1].Up {
		t.Errorf("State = %+v; want the first relay down, the second up", st)
	}
}

// waiter records the limits a relay waits for.
type waiter struct {
	mu     sync.Mutex
	limits map[string]ratelimit.Limit
}

func (w *waiter) Wait(_ context.Context, key string, l ratelimit.Limit) (time.Duration, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.limits[key] = l
	return 0, nil
}

// counter records what the relay set reports.
type counter struct {
	mu        sync.Mutex
	outcomes  map[string]int
	throttles int
}

func (c *counter) Attempt(relay, outcome string, _ time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.outcomes[relay+" "+outcome]++
}

func (c *counter) Throttle(string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.throttles++
}

// Throttling replies slow the relay down (rate and connections), and it
// recovers after the back-off.
func TestRelaysSlowDownWhenThrottled(t *testing.T) {
	t.Parallel()
	for _, reply := range []*smtp.SMTPError{
		{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "too fast, slow down"},
		{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "try again later"},
	} {
		t.Run(fmt.Sprint(reply.Code), func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			refuse := 2
			capture := mustStartCapture(t, devsvc.CaptureOptions{Reject: func(string, []string) error {
				mu.Lock()
				defer mu.Unlock()
				if refuse > 0 {
					refuse--
					return reply
				}
				return nil
			}})
			now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			w := &waiter{limits: map[string]ratelimit.Limit{}}
			obs := &counter{outcomes: map[string]int{}}
			rs := mustNewRelays(t, "smtp://"+capture.Addr()+"?rate=100&max_conns=8",
				mailer.RelaysOptions{Limiter: w, Observer: obs, Backoff: time.Minute, Now: clock})
			name := "127.0.0.1:" + strings.Split(capture.Addr(), ":")[1]

			for i := range 2 {
				res := rs.Send(t.Context(), testMessage())
				if res.Status != mailer.StatusDeferred || !res.Throttled() {
					t.Fatalf("Send %d = %+v; want deferred and throttled", i, res)
				}
			}
			st := rs.State()[0]
			if st.Pace != 0.25 || st.MaxConns != 2 || st.Throttles != 2 {
				t.Errorf("after two throttling replies: %+v; want pace 0.25, 2 connections, 2 throttles", st)
			}
			if res := rs.Send(t.Context(), testMessage()); res.Status != mailer.StatusSent {
				t.Fatalf("Send = %+v", res)
			}
			if got := w.limits["relay:"+name+":s"].Events; got != 25 {
				t.Errorf("rate waited for = %v a second; want a quarter of 100", got)
			}
			if st := rs.State()[0]; st.Pace != 0.25 {
				t.Errorf("pace = %v within the back-off; want it to stay at 0.25", st.Pace)
			}
			mu.Lock()
			now = now.Add(2 * time.Minute)
			mu.Unlock()
			rs.Send(t.Context(), testMessage())
			if st := rs.State()[0]; st.Pace <= 0.25 || st.Pace > 0.36 {
				t.Errorf("pace = %v after the back-off; want one step of recovery, 0.35", st.Pace)
			}
			if diff := cmp.Diff(map[string]int{name + " throttled": 2, name + " sent": 2}, obs.outcomes); diff != "" || obs.throttles != 2 {
				t.Errorf("observed (-want +got):\n%s throttles %d", diff, obs.throttles)
			}
		})
	}
}

// BenchmarkRelaysSend is BenchmarkPoolSend through a set of one relay, with
// an observer: the cost the set adds on the single-relay path.
func BenchmarkRelaysSend(b *testing.B) {
	capture := mustStartCapture(b, devsvc.CaptureOptions{Limit: 100})
	rs := mustNewRelays(b, "smtp://"+capture.Addr()+"?max_conns=4", mailer.RelaysOptions{Observer: &counter{outcomes: map[string]int{}}})
	m := testMessage()
	b.ReportAllocs()
	b.SetParallelism(2)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if res := rs.Send(context.Background(), m); res.Status != mailer.StatusSent {
				b.Errorf("Send = %+v", res)
				return
			}
		}
	})
}
