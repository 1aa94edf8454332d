package app_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/redis/go-redis/v9"

	"github.com/dearfriend/dearfriend/pkg/devsvc"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// fastSweep makes the dispatcher sweep (scheduled campaigns, the ledger's
// waiting rows) often enough for a test to wait for it.
var fastSweep = map[string]string{"DEARFRIEND_SWEEP_INTERVAL": "200ms"}

// TestSchedule schedules campaigns: bad times are refused naming send_at, a
// campaign taken back to draft stays there, and one that comes due is
// started by the sweep and sent to everyone once.
func TestSchedule(t *testing.T) {
	t.Parallel()
	const n = 200
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, b, fastSweep)
			camp, emails := h.mustDraftCampaign(n)
			path := h.campaignPath(camp, "schedule")
			for _, bad := range []map[string]any{
				{"send_at": time.Now().Add(-time.Minute).Format(time.RFC3339)},
				{"send_at": "tomorrow at nine"},
				{"send_at": ""},
				{},
			} {
				var e apiError
				if code := h.call("POST", path, bad, &e); code != http.StatusUnprocessableEntity || e.Error.Field != "send_at" {
					t.Errorf("schedule %v: %d %+v, want 422 naming send_at", bad, code, e.Error)
				}
			}
			var c store.Campaign
			if code := h.call("POST", path, map[string]any{"send_at": time.Now().Add(time.Hour).Format(time.RFC3339)}, &c); code != http.StatusOK || c.Status != store.CampaignScheduled || c.SendAt == nil {
				t.Fatalf("schedule in an hour: %d %+v", code, c)
			}
			var back store.Campaign
			if code := h.call("DELETE", path, nil, &back); code != http.StatusOK || back.Status != store.CampaignDraft || back.SendAt != nil {
				t.Fatalf("unschedule: %d %+v, want a draft without send_at", code, back)
			}
			if code := h.call("DELETE", path, nil, nil); code != http.StatusConflict {
				t.Errorf("unschedule a draft: %d, want 409", code)
			}
			time.Sleep(500 * time.Millisecond) // sweeps pass: a draft is not started
			if h.call("GET", fmt.Sprintf("/api/v1/campaigns/%d", camp), nil, &c); c.Status != store.CampaignDraft {
				t.Fatalf("unscheduled campaign is %s, want draft", c.Status)
			}
			at := time.Now().Add(1500 * time.Millisecond).Truncate(time.Second).Add(time.Second)
			if code := h.call("POST", path, map[string]any{"send_at": at.Format(time.RFC3339)}, &c); code != http.StatusOK {
				t.Fatalf("schedule: %d", code)
			}
			h.waitFinished(camp)
			if h.call("GET", fmt.Sprintf("/api/v1/campaigns/%d", camp), nil, &c); c.StartedAt == nil || c.StartedAt.Before(at) {
				t.Errorf("started at %v, want after %v", c.StartedAt, at)
			}
			h.mustEachOnce(emails)
			if code := h.call("POST", path, map[string]any{"send_at": time.Now().Add(time.Hour).Format(time.RFC3339)}, nil); code != http.StatusConflict {
				t.Errorf("schedule a sent campaign: %d, want 409", code)
			}
		})
	}
}

// TestRedisFlushed loses Redis's data in the middle of a campaign (FLUSHALL
// of the in-process Redis; every key of the queue in a shared Redis): the
// sweep enqueues what the ledger says is left, and everyone gets the
// message once.
func TestRedisFlushed(t *testing.T) {
	t.Parallel()
	const n = 2000
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"DEARFRIEND_WORKERS": "2", "DEARFRIEND_BATCH_SIZE": "20", "DEARFRIEND_SWEEP_INTERVAL": "300ms"}
			var flush func()
			if b.redisURL == "" {
				r, err := devsvc.StartRedis("")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(r.Close)
				env["DEARFRIEND_REDIS_URL"] = "redis://" + r.Addr()
				rdb := redis.NewClient(&redis.Options{Addr: r.Addr()})
				t.Cleanup(func() { rdb.Close() })
				flush = func() {
					if err := rdb.FlushAll(context.Background()).Err(); err != nil {
						t.Fatal(err)
					}
				}
			}
			h := start(t, b, env)
			if flush == nil {
				flush = func() { testenv.DropQueue(t, b.redisURL, h.queue) }
			}
			camp, emails := h.mustDraftCampaign(n)
			if code := h.call("POST", h.campaignPath(camp, "send"), nil, nil); code != http.StatusAccepted {
				t.Fatalf("send: %d", code)
			}
			h.waitSentMore(camp, n/5)
			flush()
			flushedAt := h.capture.Count()
			h.waitFinished(camp)
			t.Logf("Redis lost its data after %d of %d messages", flushedAt, n)
			if flushedAt >= n {
				t.Fatalf("the campaign was done before the flush; nothing was tested")
			}
			h.mustEachOnce(emails)
		})
	}
}

// TestRelayFaults sends through a relay that answers 451 to about 10% of
// recipients at random and drops about 1% of connections in the middle of
// DATA, each recipient at most once: everyone is delivered in the end,
// exactly once (a drop after the final dot waits, unknown, for the
// organizer's resend), and the ledger shows the retries.
func TestRelayFaults(t *testing.T) {
	t.Parallel()
	const n = 400
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			rng := rand.New(rand.NewPCG(1, 2))
			faulted := map[string]string{} // recipient: "451" or "drop"
			reject := func(_ string, to []string) error {
				mu.Lock()
				defer mu.Unlock()
				if len(to) != 1 || faulted[to[0]] != "" {
					return nil
				}
				switch x := rng.Float64(); {
				case x < 0.01:
					faulted[to[0]] = "drop"
					return devsvc.ErrDrop
				case x < 0.11:
					faulted[to[0]] = "451"
					return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
				}
				return nil
			}
			h := startWith(t, b, reject, map[string]string{"DEARFRIEND_WORKERS": "4", "DEARFRIEND_BATCH_SIZE": "25"})
			camp, emails := h.mustDraftCampaign(n)
			if code := h.call("POST", h.campaignPath(camp, "send"), nil, nil); code != http.StatusAccepted {
				t.Fatalf("send: %d", code)
			}
			h.waitFinished(camp)
			// A connection dropped after the whole message went out leaves
			// its outcome unknown: the relay may have taken it. This one
			// kept nothing it dropped, so the organizer's resend is safe.
			mu.Lock()
			for email, kind := range faulted {
				if s := h.sendStatus(camp, email); kind == "drop" && s != store.SendUnknown && s != store.SendSent {
					t.Errorf("%s: connection dropped during DATA, ledger says %s, want unknown or sent (retried)", email, s)
				}
			}
			mu.Unlock()
			if code := h.call("POST", h.campaignPath(camp, "resend-unknown"), nil, nil); code != http.StatusOK {
				t.Fatalf("resend-unknown: %d", code)
			}
			h.waitFinished(camp)
			h.mustEachOnce(emails)
			mu.Lock()
			defer mu.Unlock()
			kinds := map[string]int{}
			for _, k := range faulted {
				kinds[k]++
			}
			t.Logf("faults: %v of %d recipients", kinds, n)
			if kinds["451"] == 0 {
				t.Fatal("the relay refused nobody; nothing was tested")
			}
			attempts := h.attempts(camp)
			for email, kind := range faulted {
				if kind == "451" && attempts[email] < 2 {
					t.Errorf("%s was refused once (451) but the ledger shows %d attempts", email, attempts[email])
				}
			}
			for _, email := range emails {
				if faulted[email] == "" && attempts[email] != 1 {
					t.Errorf("%s was accepted at once but the ledger shows %d attempts", email, attempts[email])
				}
			}
		})
	}
}

// TestHardBounces sends through a relay that refuses some addresses for good
// (550): those are bounced, suppressed and tried once; the next campaign to
// the same list does not mail them.
func TestHardBounces(t *testing.T) {
	t.Parallel()
	const n = 100
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			tries := map[string]int{}
			refused := func(email string) bool {
				i, _ := strconv.Atoi(email[len("supporter") : len("supporter")+5])
				return i%10 == 3
			}
			reject := func(_ string, to []string) error {
				mu.Lock()
				defer mu.Unlock()
				tries[to[0]]++
				if refused(to[0]) {
					return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
				}
				return nil
			}
			h := startWith(t, b, reject)
			camp, emails := h.mustDraftCampaign(n)
			if code := h.call("POST", h.campaignPath(camp, "send"), nil, nil); code != http.StatusAccepted {
				t.Fatalf("send: %d", code)
			}
			h.waitFinished(camp)
			var p store.Progress
			h.call("GET", h.campaignPath(camp, "progress"), nil, &p)
			if p.Bounced != n/10 || p.Sent != n-n/10 {
				t.Errorf("progress %+v, want %d bounced and %d sent", p, n/10, n-n/10)
			}
			ctx := context.Background()
			for _, e := range emails {
				if !refused(e) {
					continue
				}
				if got := contactStatus(t, h, e); got != store.ContactBounced {
					t.Errorf("%s is %s, want bounced", e, got)
				}
				if ok, err := h.app.Store().IsSuppressed(ctx, e); err != nil || !ok {
					t.Errorf("%s suppressed = %v, %v; want true", e, ok, err)
				}
			}
			// The next campaign to the same list.
			next := h.mustSendAgain(camp)
			mu.Lock()
			defer mu.Unlock()
			for _, e := range emails {
				want := 2
				if refused(e) {
					want = 1 // tried once in the first campaign, never again
				}
				if tries[e] != want {
					t.Errorf("the relay saw %s %d times, want %d", e, tries[e], want)
				}
			}
			attempts := h.attempts(next)
			for _, e := range emails {
				if _, in := attempts[e]; in && refused(e) {
					if s := h.sendStatus(next, e); s != store.SendSkipped {
						t.Errorf("%s is in the next campaign's ledger as %s, want skipped or absent", e, s)
					}
				}
			}
		})
	}
}

// mustEachOnce fails the test unless the relay got exactly one message for
// each address.
func (h *harness) mustEachOnce(emails []string) {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	dups, missing := 0, 0
	for _, e := range emails {
		switch got := h.byRcpt[e]; {
		case got == 0:
			missing++
		case got > 1:
			dups += got - 1
		}
	}
	if dups > 0 || missing > 0 {
		h.t.Errorf("%d duplicate messages, %d recipients without one, of %d", dups, missing, len(emails))
	}
}

// ledgerRows reads a campaign's ledger through recipients.csv: send id and status by email.
func (h *harness) ledgerRows(camp int64) map[string][2]string {
	h.t.Helper()
	req, _ := http.NewRequest("GET", h.app.URL()+h.campaignPath(camp, "recipients.csv"), nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	rows, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil || len(rows) == 0 {
		h.t.Fatalf("recipients.csv: %v", err)
	}
	out := map[string][2]string{}
	for _, r := range rows[1:] {
		out[r[1]] = [2]string{r[0], r[2]}
	}
	return out
}

// attempts returns the attempts the ledger counts per email of a campaign.
func (h *harness) attempts(camp int64) map[string]int {
	h.t.Helper()
	out := map[string]int{}
	for email, row := range h.ledgerRows(camp) {
		id, _ := strconv.ParseInt(row[0], 10, 64)
		snd, err := h.app.Store().GetSend(context.Background(), id)
		if err != nil {
			h.t.Fatal(err)
		}
		out[email] = snd.Attempts
	}
	return out
}

func (h *harness) sendStatus(camp int64, email string) string {
	return h.ledgerRows(camp)[email][1]
}

// TestLostLeases: the rows a worker held when it died (claimed, never
// recorded) are not sent by other batches while the lease holds, and are
// sent by the sweep once it ran out: everyone gets the message once.
func TestLostLeases(t *testing.T) {
	t.Parallel()
	const n = 300
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, b, fastSweep, map[string]string{"DEARFRIEND_WORKERS": "2", "DEARFRIEND_BATCH_SIZE": "20"})
			camp, emails := h.mustDraftCampaign(n)
			if code := h.call("POST", h.campaignPath(camp, "send"), nil, nil); code != http.StatusAccepted {
				t.Fatalf("send: %d", code)
			}
			h.waitSentMore(camp, 0)
			if code := h.call("POST", h.campaignPath(camp, "pause"), nil, nil); code != http.StatusOK {
				t.Fatalf("pause: %d", code)
			}
			held := h.waitHeld()
			// A worker that is gone claimed every row left, for two seconds.
			const lease = 3 * time.Second
			claimedAt := time.Now()
			claim, err := h.app.Store().ClaimRecipients(context.Background(), camp, 1, 1<<62, n, lease, claimedAt)
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(claim.Recipients)) != n-held {
				t.Fatalf("claimed %d rows, want the %d left", len(claim.Recipients), n-held)
			}
			if code := h.call("POST", h.campaignPath(camp, "resume"), nil, nil); code != http.StatusOK {
				t.Fatalf("resume: %d", code)
			}
			time.Sleep(time.Second) // batches come and go; the lease holds the rows
			got := h.capture.Count()
			if time.Since(claimedAt) < lease && got != held { // on a slow machine the lease may be over: nothing to check
				t.Fatalf("%d messages sent while another worker's lease held the rows, want %d", got, held)
			}
			h.waitFinished(camp)
			h.mustEachOnce(emails)
		})
	}
}

// mustSendAgain sends campaign camp's message to its audience once more, as
// a new campaign, waits until that one has finished and returns its id.
func (h *harness) mustSendAgain(camp int64) int64 {
	h.t.Helper()
	var c store.Campaign
	h.call("GET", fmt.Sprintf("/api/v1/campaigns/%d", camp), nil, &c)
	var next store.Campaign
	if code := h.call("POST", "/api/v1/campaigns", map[string]any{"name": "next", "message_id": c.MessageID, "audience": c.Audience}, &next); code != http.StatusCreated {
		h.t.Fatalf("create the next campaign: %d", code)
	}
	if code := h.call("POST", h.campaignPath(next.ID, "send"), nil, nil); code != http.StatusAccepted {
		h.t.Fatalf("send the next campaign: %d", code)
	}
	h.waitFinished(next.ID)
	return next.ID
}
