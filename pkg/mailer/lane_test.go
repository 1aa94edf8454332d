package mailer_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/dearfriend/dearfriend/pkg/mailer"
	"github.com/dearfriend/dearfriend/pkg/ratelimit"
)

// laneRun sends msgs through lane in turn, then flushes it, and returns
// every result in the order they came back.
func laneRun(ctx context.Context, lane *mailer.Lane, msgs ...*mailer.Message) []mailer.Result {
	var got []mailer.Result
	for _, m := range msgs {
		got = append(got, lane.Send(ctx, m)...)
	}
	return append(got, lane.Flush(ctx)...)
}

func messagesTo(tos ...string) []*mailer.Message {
	out := make([]*mailer.Message, len(tos))
	for i, to := range tos {
		out[i] = messageTo(to)
	}
	return out
}

func statuses(results []mailer.Result) []string {
	out := make([]string, len(results))
	for i, r := range results {
		out[i] = fmt.Sprintf("%v %d", r.Status, r.Code)
	}
	return out
}

// TestLaneOneRoundTripPerMessage: with a relay that offers PIPELINING, a
// lane writes each message's data with the next message's commands behind
// it, in one write, and waits once for the replies to both: N messages
// cost N+1 round trips at the relay (the first message's commands alone,
// then one per message) instead of 2N, on one connection, through a pool
// or a set of relays.
func TestLaneOneRoundTripPerMessage(t *testing.T) {
	t.Parallel()
	for _, through := range []string{"pool", "relays"} {
		t.Run(through, func(t *testing.T) {
			t.Parallel()
			relay := startHookRelay(t, &hookRelay{})
			var wire wireLog
			var lane *mailer.Lane
			var warm func() mailer.Result
			switch through {
			case "pool":
				pool := mustNewPool(t, mailer.Config{URL: "smtp://" + relay.addr, MaxConns: 1}, wire.option())
				lane = pool.Lane()
				warm = func() mailer.Result { return pool.Send(t.Context(), messageTo("warm@example.net")) }
			default:
				cfgs, err := mailer.ParseRelays("smtp://"+relay.addr+"?max_conns=1", 0)
				if err != nil {
					t.Fatal(err)
				}
				rs, err := mailer.NewRelays(cfgs, nil, mailer.RelaysOptions{}, wire.option())
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { rs.Close() })
				lane = rs.Lane()
				warm = func() mailer.Result { return rs.Send(t.Context(), messageTo("warm@example.net")) }
			}
			// A first message opens the connection: the greeting and EHLO
			// are not counted.
			if res := warm(); res.Status != mailer.StatusSent {
				t.Fatalf("first Send = %+v", res)
			}
			wire.take()
			relay.trips.Store(0)

			tos := []string{"a@example.net", "b@example.net", "c@example.net", "d@example.net"}
			got := laneRun(t.Context(), lane, messagesTo(tos...)...)
			if diff := cmp.Diff([]string{"sent 250", "sent 250", "sent 250", "sent 250"}, statuses(got)); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			want := []string{opening(tos[0])}
			for _, to := range tos[1:] {
				want = append(want, message+opening(to))
			}
			want = append(want, message)
			if diff := cmp.Diff(want, kinds(wire.take())); diff != "" {
				t.Errorf("writes (-want +got):\n%s", diff)
			}
			if got := relay.trips.Load(); got != int64(len(tos)+1) {
				t.Errorf("%d round trips at the relay for %d messages; want %d", got, len(tos), len(tos)+1)
			}
			if diff := cmp.Diff(append([]string{"warm@example.net"}, tos...), relay.received()); diff != "" {
				t.Errorf("relay accepted (-want +got):\n%s", diff)
			}
			if got := relay.sessions.Load(); got != 1 {
				t.Errorf("%d connections; want 1", got)
			}
		})
	}
}

// TestLaneNextRefused: the relay refuses the commands of the message
// written behind the data of the one before: that message gets its own
// refusal, the one before is sent all the same, and the session goes on,
// the next message's commands starting with RSET.
func TestLaneNextRefused(t *testing.T) {
	t.Parallel()
	relay := startHookRelay(t, &hookRelay{
		mail: func(_ *smtp.Conn, from string) error {
			if from == "refused@example.org" {
				return refusal(550, smtp.EnhancedCode{5, 1, 8}, "sender domain does not exist")
			}
			return nil
		},
		rcpt: func(_ *smtp.Conn, to string) error {
			switch to {
			case "nobody@example.net":
				return refusal(550, smtp.EnhancedCode{5, 1, 1}, "no such user")
			case "greylist@example.net":
				return refusal(451, smtp.EnhancedCode{4, 7, 1}, "greylisted, try again later")
			}
			return nil
		},
	})
	refusedSender := messageTo("ok@example.net")
	refusedSender.EnvelopeFrom = "refused@example.org"
	tests := []struct {
		name    string
		refused *mailer.Message
		opening string // what the relay refuses
		want    mailer.Result
	}{
		{"RCPT 550", messageTo("nobody@example.net"), opening("nobody@example.net"),
			mailer.Result{Status: mailer.StatusBounced, Code: 550, Enhanced: "5.1.1", Reply: "5.1.1 no such user"}},
		{"RCPT 451", messageTo("greylist@example.net"), opening("greylist@example.net"),
			mailer.Result{Status: mailer.StatusDeferred, Code: 451, Enhanced: "4.7.1", Reply: "4.7.1 greylisted, try again later"}},
		{"MAIL 550", refusedSender, "MAIL FROM:<refused@example.org> BODY=8BITMIME\r\nRCPT TO:<ok@example.net>\r\nDATA\r\n",
			mailer.Result{Status: mailer.StatusFailed, Code: 550, Enhanced: "5.1.8", Reply: "5.1.8 sender domain does not exist"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var wire wireLog
			pool := mustNewPool(t, mailer.Config{URL: "smtp://" + relay.addr, MaxConns: 1}, wire.option())
			sessions := relay.sessions.Load()
			before := len(relay.received())

			lane := pool.Lane()
			if got := lane.Send(t.Context(), messageTo("first@example.net")); len(got) != 0 {
				t.Fatalf("first Send = %+v; want the message open, no result", got)
			}
			got := lane.Send(t.Context(), tt.refused)
			want := []mailer.Result{{Status: mailer.StatusSent, Code: 250, Enhanced: "2.0.0", Reply: "2.0.0 OK: queued"}, tt.want}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("results of the second Send (-want +got):\n%s", diff)
			}
			if got := laneRun(t.Context(), lane, messageTo("last@example.net")); len(got) != 1 || got[0].Status != mailer.StatusSent {
				t.Errorf("results of the last message = %+v; want sent", got)
			}
			wantWrites := []string{opening("first@example.net"), message + tt.opening, "RSET\r\n" + opening("last@example.net"), message}
			if diff := cmp.Diff(wantWrites, kinds(wire.take())); diff != "" {
				t.Errorf("writes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"first@example.net", "last@example.net"}, relay.received()[before:]); diff != "" {
				t.Errorf("relay accepted (-want +got):\n%s", diff)
			}
			if got := relay.sessions.Load() - sessions; got != 1 {
				t.Errorf("%d connections; want 1: a refusal leaves the session usable", got)
			}
		})
	}
}

// TestLaneLoneDotBehindData: a relay that refuses the recipient of the
// message written behind the data of the one before, and answers its DATA
// with 354 all the same, gets the lone dot of empty data, never the
// message.
func TestLaneLoneDotBehindData(t *testing.T) {
	t.Parallel()
	relay := startScriptedRelay(t)
	var wire wireLog
	pool := mustNewPool(t, mailer.Config{URL: "smtp://" + relay.addr, MaxConns: 1}, wire.option())
	got := laneRun(t.Context(), pool.Lane(), messagesTo("ok@example.net", "nobody@example.net", "ok@example.net")...)
	if diff := cmp.Diff([]string{"sent 250", "bounced 550", "sent 250"}, statuses(got)); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	want := []string{opening("ok@example.net"), message + opening("nobody@example.net"), ".\r\n", "RSET\r\n" + opening("ok@example.net"), message}
	if diff := cmp.Diff(want, kinds(wire.take())); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
	if got := relay.dataSizes(); len(got) != 3 || got[1] != 0 {
		t.Errorf("sizes of the data the relay got: %v; want the second empty", got)
	}
}

// TestLaneReplyToDataWithNextOpen: whatever happens to a message's data,
// the message written behind it is not affected: a refusal of the data
// keeps the session, and the next message goes on in it; a 421, a dropped
// connection or a timeout fails only the message whose data went out,
// and the next one, whose data did not, is opened again on a fresh
// connection and sent once.
func TestLaneReplyToDataWithNextOpen(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	t.Cleanup(func() { close(release) }) // before the relays stop
	var mails atomic.Int64
	tests := []struct {
		name     string
		relay    *hookRelay
		first    string // the first message's status and code
		accepted []string
		sessions int64
	}{
		{"451 to the data", &hookRelay{data: func(_ *smtp.Conn, to string) error {
			if to == "first@example.net" {
				return refusal(451, smtp.EnhancedCode{4, 3, 0}, "try again later")
			}
			return nil
		}}, "deferred 451", []string{"next@example.net"}, 1},
		{"554 to the data", &hookRelay{data: func(_ *smtp.Conn, to string) error {
			if to == "first@example.net" {
				return refusal(554, smtp.EnhancedCode{5, 6, 0}, "message content rejected")
			}
			return nil
		}}, "failed 554", []string{"next@example.net"}, 1},
		{"421 to the data", &hookRelay{data: func(_ *smtp.Conn, to string) error {
			if to == "first@example.net" {
				return refusal(421, smtp.EnhancedCode{4, 7, 0}, "too many messages, closing")
			}
			return nil
		}}, "deferred 421", []string{"next@example.net"}, 2},
		{"dropped before the reply to the data", &hookRelay{data: func(c *smtp.Conn, to string) error {
			if to == "first@example.net" {
				c.Conn().Close()
				return errDropped
			}
			return nil
		}}, "unknown 0", []string{"next@example.net"}, 2},
		{"dropped after the reply to the data, before the next MAIL FROM's", &hookRelay{mail: func(c *smtp.Conn, _ string) error {
			if mails.Add(1) == 2 {
				c.Conn().Close()
				return errDropped
			}
			return nil
		}}, "sent 250", []string{"first@example.net", "next@example.net"}, 2},
		{"timeout on the reply to the data", &hookRelay{data: func(_ *smtp.Conn, to string) error {
			if to == "first@example.net" {
				<-release
			}
			return nil
		}}, "unknown 0", []string{"next@example.net"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			relay := startHookRelay(t, tt.relay)
			pool := mustNewPool(t, mailer.Config{URL: "smtp://" + relay.addr, MaxConns: 1, Timeout: time.Second})
			got := laneRun(t.Context(), pool.Lane(), messagesTo("first@example.net", "next@example.net")...)
			if diff := cmp.Diff([]string{tt.first, "sent 250"}, statuses(got)); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.accepted, relay.received()); diff != "" {
				t.Errorf("relay accepted (-want +got):\n%s", diff)
			}
			if got := relay.sessions.Load(); got != tt.sessions {
				t.Errorf("%d connections; want %d", got, tt.sessions)
			}
		})
	}
}

// TestLaneWithoutPipelining: with a relay that does not offer PIPELINING,
// a lane holds the conversation of Pool.Send, one command at a time, and
// still writes a message's data only when the next one is handed over (or
// at Flush), each call writing the data of one message at most.
func TestLaneWithoutPipelining(t *testing.T) {
	t.Parallel()
	relay := startHookRelay(t, &hookRelay{})
	wire := wireLog{hidePipelining: true}
	pool := mustNewPool(t, mailer.Config{URL: "smtp://" + relay.addr, MaxConns: 1}, wire.option())
	lane := pool.Lane()
	tos := []string{"a@example.net", "b@example.net", "c@example.net"}
	var got []mailer.Result
	for i, to := range tos {
		got = append(got, lane.Send(t.Context(), messageTo(to))...)
		if diff := cmp.Diff(tos[:i], relay.received(), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("after the Send to %s, the relay accepted (-want +got):\n%s", to, diff)
		}
	}
	got = append(got, lane.Flush(t.Context())...)
	if diff := cmp.Diff([]string{"sent 250", "sent 250", "sent 250"}, statuses(got)); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	var want []string
	for _, to := range tos {
		want = append(want, "MAIL FROM:<bounce+c12.s345@example.org> BODY=8BITMIME\r\n", "RCPT TO:<"+to+">\r\n", "DATA\r\n", message)
	}
	if diff := cmp.Diff(want, kinds(wire.take())); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(tos, relay.received()); diff != "" {
		t.Errorf("relay accepted (-want +got):\n%s", diff)
	}
}

// TestLaneYieldsToWaitingSender: a lane holding the pool's only
// connection gives it up, sending its open message alone, when another
// sender waits for a connection.
func TestLaneYieldsToWaitingSender(t *testing.T) {
	t.Parallel()
	relay := startHookRelay(t, &hookRelay{})
	pool := mustNewPool(t, mailer.Config{URL: "smtp://" + relay.addr, MaxConns: 1})
	lane := pool.Lane()
	if got := lane.Send(t.Context(), messageTo("a@example.net")); len(got) != 0 {
		t.Fatalf("Send = %+v; want the message open", got)
	}
	var other mailer.Result
	var wg sync.WaitGroup
	wg.Go(func() { other = pool.Send(t.Context(), messageTo("other@example.net")) })
	waitUntil(t, "the other sender to wait for a connection", func() bool { return mailer.Waiting(pool) > 0 })

	got := lane.Send(t.Context(), messageTo("b@example.net"))
	got = append(got, lane.Flush(t.Context())...)
	wg.Wait()
	if diff := cmp.Diff([]string{"sent 250", "sent 250"}, statuses(got)); diff != "" {
		t.Errorf("lane results (-want +got):\n%s", diff)
	}
	if other.Status != mailer.StatusSent {
		t.Errorf("the other Send = %+v; want sent", other)
	}
	if diff := cmp.Diff([]string{"a@example.net", "other@example.net", "b@example.net"}, relay.received()); diff != "" {
		t.Errorf("relay accepted (-want +got):\n%s", diff)
	}
}

// TestLaneContextEnded: a message still open when its sender's context
// ends is never written: Deferred with no reply code, its connection
// dropped.
func TestLaneContextEnded(t *testing.T) {
	t.Parallel()
	relay := startHookRelay(t, &hookRelay{})
	pool := mustNewPool(t, mailer.Config{URL: "smtp://" + relay.addr, MaxConns: 1})
	ctx, cancel := context.WithCancel(t.Context())
	lane := pool.Lane()
	if got := lane.Send(ctx, messageTo("a@example.net")); len(got) != 0 {
		t.Fatalf("Send = %+v; want the message open", got)
	}
	cancel()
	got := lane.Flush(ctx)
	if len(got) != 1 || got[0].Status != mailer.StatusDeferred || got[0].Code != 0 || !strings.Contains(got[0].Reply, "canceled") {
		t.Errorf("Flush = %+v; want deferred by the context", got)
	}
	if res := pool.Send(t.Context(), messageTo("b@example.net")); res.Status != mailer.StatusSent {
		t.Errorf("next Send = %+v; want sent", res)
	}
	if diff := cmp.Diff([]string{"b@example.net"}, relay.received()); diff != "" {
		t.Errorf("relay accepted (-want +got):\n%s", diff)
	}
	if got := relay.sessions.Load(); got != 2 {
		t.Errorf("%d connections; want 2", got)
	}
}

// TestLaneOpenMessageOutlivesConnection: a relay that drops the connection
// while a message waits there for its data (the sender took long to come
// back) did not take it: the lane opens it again on a fresh connection
// rather than write its data into a closed one, which would leave it
// Unknown.
func TestLaneOpenMessageOutlivesConnection(t *testing.T) {
	t.Parallel()
	relay := startHookRelay(t, &hookRelay{})
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	pool := mustNewPool(t, mailer.Config{URL: "smtp://" + relay.addr, MaxConns: 1}, mailer.WithClock(clock))
	lane := pool.Lane()
	if got := lane.Send(t.Context(), messageTo("a@example.net")); len(got) != 0 {
		t.Fatalf("Send = %+v; want the message open", got)
	}
	relay.conns.dropAll()
	mu.Lock()
	now = now.Add(2 * time.Second)
	mu.Unlock()
	got := append(lane.Send(t.Context(), messageTo("b@example.net")), lane.Flush(t.Context())...)
	if diff := cmp.Diff([]string{"sent 250", "sent 250"}, statuses(got)); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"a@example.net", "b@example.net"}, relay.received()); diff != "" {
		t.Errorf("relay accepted (-want +got):\n%s", diff)
	}
	if got := relay.sessions.Load(); got != 2 {
		t.Errorf("%d connections; want 2", got)
	}
}

// waitUntil polls cond until it holds, failing the test after a deadline.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// countingLimiter lets every message through at once, counting the waits.
type countingLimiter struct{ waits atomic.Int64 }

func (l *countingLimiter) Wait(context.Context, string, ratelimit.Limit) (time.Duration, error) {
	l.waits.Add(1)
	return 0, nil
}

// TestRelaysLaneSendsAloneWhenItMust: through a set of relays, the next
// message's commands go behind the data of the one before only when both
// go to the same relay and it has no rate to wait for (a wait would keep
// the open message waiting): otherwise each message's data goes alone,
// and every message still gets its result, from the relay that answered.
func TestRelaysLaneSendsAloneWhenItMust(t *testing.T) {
	t.Parallel()
	a := startHookRelay(t, &hookRelay{})
	b := startHookRelay(t, &hookRelay{})
	tests := []struct {
		name         string
		urls         string
		relays       []string // the relay each message went through, in turn
		noPipelining bool
	}{
		{"a rate to wait for", "smtp://" + a.addr + "?rate=1000", []string{a.addr, a.addr, a.addr}, false},
		{"another relay each time", "smtp://" + a.addr + ", smtp://" + b.addr, []string{a.addr, b.addr, a.addr}, false},
		{"another relay each time, without PIPELINING", "smtp://" + a.addr + ", smtp://" + b.addr, []string{a.addr, b.addr, a.addr}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wire := wireLog{hidePipelining: tt.noPipelining}
			cfgs, err := mailer.ParseRelays(tt.urls, 0)
			if err != nil {
				t.Fatal(err)
			}
			limiter := &countingLimiter{}
			rs, err := mailer.NewRelays(cfgs, nil, mailer.RelaysOptions{Limiter: limiter}, wire.option())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { rs.Close() })
			tos := []string{"a@example.net", "b@example.net", "c@example.net"}
			lane := rs.Lane()
			before := len(a.received()) + len(b.received())
			var got []mailer.Result
			for i, to := range tos {
				got = append(got, lane.Send(t.Context(), messageTo(to))...)
				// One message's data a call at most: the one handed over before.
				if n := len(a.received()) + len(b.received()) - before; n != i {
					t.Errorf("after the Send to %s the relays took %d messages; want %d", to, n, i)
				}
			}
			got = append(got, lane.Flush(t.Context())...)
			var relays []string
			for _, res := range got {
				if res.Status != mailer.StatusSent {
					t.Errorf("result %+v; want sent", res)
				}
				relays = append(relays, res.Relay)
			}
			if diff := cmp.Diff(tt.relays, relays); diff != "" {
				t.Errorf("relays that answered (-want +got):\n%s", diff)
			}
			var want []string
			for _, to := range tos {
				if tt.noPipelining {
					want = append(want, "MAIL FROM:<bounce+c12.s345@example.org> BODY=8BITMIME\r\n", "RCPT TO:<"+to+">\r\n", "DATA\r\n", message)
				} else {
					want = append(want, opening(to), message)
				}
			}
			if diff := cmp.Diff(want, kinds(wire.take())); diff != "" {
				t.Errorf("writes (-want +got):\n%s", diff)
			}
			if strings.Contains(tt.urls, "rate=") && limiter.waits.Load() != int64(len(tos)) {
				t.Errorf("%d waits for the rate; want one a message", limiter.waits.Load())
			}
		})
	}
}
