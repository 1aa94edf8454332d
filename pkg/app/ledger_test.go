package app_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/dearfriend/dearfriend/pkg/admin"
	"github.com/dearfriend/dearfriend/pkg/app"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// TestOutcomeWritesSurviveDatabaseFaults: the database fails ten times in
// the middle of a campaign of 2,000 (the 20,000, scaled to run in
// seconds here). Under PostgreSQL every connection of the app is really
// terminated (pg_terminate_backend from a second connection); under SQLite
// a full disk is simulated: every write fails for 200 ms (store.WithFault),
// since a real disk cannot be filled on a shared machine. The worker lives
// on, so no message goes out twice: an outcome write that failed is retried
// until it succeeds, and the row's lease held meanwhile.
func TestOutcomeWritesSurviveDatabaseFaults(t *testing.T) {
	t.Parallel()
	const n, faults = 2000, 10
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			dsn := b.dsn(t)
			b.dsn = func(testing.TB) string { return dsn }
			var fullUntil atomic.Int64 // unix nanoseconds; SQLite's simulated full disk
			var injected atomic.Int64
			var fault func()
			o := harnessOpts{app: []app.Option{app.WithLease(3 * time.Second)}}
			if strings.HasPrefix(dsn, "postgres") {
				killer, err := sql.Open("pgx", dsn)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { killer.Close() })
				fault = func() {
					var killed int64
					if err := killer.QueryRow("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()").Scan(&killed); err != nil {
						t.Fatal(err)
					}
					injected.Add(killed)
				}
			} else {
				o.app = append(o.app, app.WithStoreOptions(store.WithFault(func(query string) error {
					if time.Now().UnixNano() >= fullUntil.Load() {
						return nil
					}
					switch q := strings.ToUpper(strings.TrimSpace(query)); {
					case strings.HasPrefix(q, "SELECT"), strings.HasPrefix(q, "WITH"):
						return nil
					}
					injected.Add(1)
					return errors.New("database or disk is full (simulated)")
				})))
				fault = func() { fullUntil.Store(time.Now().Add(200 * time.Millisecond).UnixNano()) }
			}
			h := startOpts(t, b, o, fastSweep, map[string]string{"DEARFRIEND_WORKERS": "4", "DEARFRIEND_BATCH_SIZE": "50"})
			camp, emails := h.mustDraftCampaign(n)
			if code := h.call("POST", h.campaignPath(camp, "send"), nil, nil); code != http.StatusAccepted {
				t.Fatalf("send: %d", code)
			}
			for i := range faults {
				h.waitSentMore(camp, int64(n*(i+1)/(faults+2)))
				fault()
			}
			faultedAt := h.capture.Count()
			h.waitFinished(camp)
			t.Logf("%d faults (%d connections terminated or writes refused), the last after %d of %d messages", faults, injected.Load(), faultedAt, n)
			if faultedAt >= n || injected.Load() == 0 {
				t.Fatal("the faults came after the campaign or hit nothing; nothing was tested")
			}
			h.mustEachOnce(emails)
		})
	}
}

// slowRelay answers the final dot of each message after delay (the relay's
// Reject hook runs when DATA comes, before the body is read, so the reply
// waits): fast while fast is set.
func slowRelay(delay time.Duration, fast *atomic.Bool) func(string, []string) error {
	return func(string, []string) error {
		if !fast.Load() {
			time.Sleep(delay)
		}
		return nil
	}
}

// lease is the tests' claim on ledger rows: 30 s scaled down 30 times.
// The relay's delays and timeouts below keep their ratio to it.
const lease = time.Second

// scaled turns a production duration (against a 30 s lease) into the test's.
func scaled(d time.Duration) time.Duration { return d / (30 * time.Second / lease) }

// TestSlowRelayAnswer: a relay that answers the final dot after 35 s, or
// after 120 s (RFC 5321 allows 10 minutes), longer than a lease: the send
// is not cut, the row's lease is kept while the message is in flight, and
// with the relay URL's timeout at 10 minutes everyone gets the message once.
func TestSlowRelayAnswer(t *testing.T) {
	t.Parallel()
	const n = 16
	for _, b := range backends(t) {
		for _, after := range []time.Duration{35 * time.Second, 120 * time.Second} {
			t.Run(fmt.Sprintf("%s/%s", b.name, after), func(t *testing.T) {
				t.Parallel()
				var fast atomic.Bool
				h := startOpts(t, b, harnessOpts{reject: slowRelay(scaled(after), &fast), app: []app.Option{app.WithLease(lease)},
					smtpQuery: "&timeout=" + scaled(10*time.Minute).String()},
					fastSweep, map[string]string{"DEARFRIEND_WORKERS": "8", "DEARFRIEND_BATCH_SIZE": "4"})
				camp, emails := h.mustDraftCampaign(n)
				if code := h.call("POST", h.campaignPath(camp, "send"), nil, nil); code != http.StatusAccepted {
					t.Fatalf("send: %d", code)
				}
				h.waitFinished(camp)
				h.mustEachOnce(emails)
				var p store.Progress
				if h.call("GET", h.campaignPath(camp, "progress"), nil, &p); p.Sent != n {
					t.Errorf("progress %+v, want all %d sent", p, n)
				}
			})
		}
	}
}

// TestUnknownOutcome: a relay that does not answer the final dot within the
// URL's timeout. The message went out whole and the relay may have taken
// it: the row is unknown, counted, and not sent again, until the organizer
// asks (resend-unknown); then it is.
func TestUnknownOutcome(t *testing.T) {
	t.Parallel()
	const n = 8
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			var fast atomic.Bool
			// The timeout leaves a fast answer seconds to spare on a loaded
			// machine (tests run in parallel); the slow one never makes it.
			h := startOpts(t, b, harnessOpts{reject: slowRelay(scaled(180*time.Second), &fast), app: []app.Option{app.WithLease(lease)},
				smtpQuery: "&timeout=" + scaled(90*time.Second).String()},
				fastSweep, map[string]string{"DEARFRIEND_WORKERS": "8", "DEARFRIEND_BATCH_SIZE": "4"})
			camp, emails := h.mustDraftCampaign(n)
			if code := h.call("POST", h.campaignPath(camp, "send"), nil, nil); code != http.StatusAccepted {
				t.Fatalf("send: %d", code)
			}
			h.waitFinished(camp)
			var p store.Progress
			if h.call("GET", h.campaignPath(camp, "progress"), nil, &p); p.Unknown != n || p.Sent != 0 {
				t.Fatalf("progress %+v, want all %d unknown", p, n)
			}
			var r store.Report
			if h.call("GET", h.campaignPath(camp, "stats"), nil, &r); r.Unknown != n {
				t.Errorf("report %+v, want %d unknown", r, n)
			}
			time.Sleep(4 * lease) // leases and sweeps pass: an unknown row is not sent again
			h.mustAtMost(emails, 1)

			// The organizer sees them on the campaign's page, and sends them
			// again with its button (the API's resend-unknown does the same).
			const password = "correct horse battery"
			if _, err := admin.CreateUser(context.Background(), h.app.Store(), "maya@example.org", store.RoleOrganizer, password); err != nil {
				t.Fatal(err)
			}
			organizer := signedInClient(t, h.app.URL(), "maya@example.org", password)
			page := fmt.Sprintf("/admin/campaigns/%d", camp)
			body := getPage(t, organizer, h.app.URL()+page).body
			if !strings.Contains(body, fmt.Sprintf(`id="unknown">%d `, n)) || !strings.Contains(body, `action="`+page+`/resend-unknown"`) {
				t.Fatalf("the campaign page lacks the %d unknown or the button to send them again:\n%s", n, body)
			}
			fast.Store(true)
			resp, err := organizer.PostForm(h.app.URL()+page+"/resend-unknown", url.Values{"csrf": {csrfOf(t, body)}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK { // the redirect to the campaign's page, followed
				t.Fatalf("resend-unknown button: %d", resp.StatusCode)
			}
			h.waitFinished(camp)
			if h.call("GET", h.campaignPath(camp, "progress"), nil, &p); p.Sent != n || p.Unknown != 0 {
				t.Errorf("progress after resend-unknown %+v, want all %d sent", p, n)
			}
			h.mustAtMost(emails, 2)
			if code := h.call("POST", h.campaignPath(999999, "resend-unknown"), nil, nil); code != http.StatusNotFound {
				t.Errorf("resend-unknown of a missing campaign: %d, want 404", code)
			}
		})
	}
}

// mustAtMost fails the test when the relay got more than max messages for
// an address, or none.
func (h *harness) mustAtMost(emails []string, max int) {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range emails {
		if got := h.byRcpt[e]; got == 0 || got > max {
			h.t.Errorf("the relay got %d messages for %s, want 1 to %d", got, e, max)
		}
	}
}

// refusals: supporter i is refused by the relay for the sender's sake
// (a blocklist) when i%10 == 3, for the address when i%10 == 7.
func refusals(tries map[string]int, mu *sync.Mutex) func(string, []string) error {
	return func(_ string, to []string) error {
		mu.Lock()
		defer mu.Unlock()
		tries[to[0]]++
		switch supporterIndex(to[0]) % 10 {
		case 3:
			return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Service unavailable; client host blocked using zen.spamhaus.org"}
		case 7:
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	}
}

func supporterIndex(email string) int {
	i, _ := strconv.Atoi(email[len("supporter") : len("supporter")+5])
	return i
}

// TestSenderSideRefusalNotSuppressed: a refusal that blames the sender
// (5.7.1, a blocklist) is recorded as blocked, counted in the campaign and
// per relay, and leaves the contact subscribed and unsuppressed; only the
// address failures (5.1.1) bounce and suppress.
func TestSenderSideRefusalNotSuppressed(t *testing.T) {
	t.Parallel()
	const n = 40
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			tries := map[string]int{}
			h := startWith(t, b, refusals(tries, &mu))
			camp, emails := h.mustDraftCampaign(n)
			if code := h.call("POST", h.campaignPath(camp, "send"), nil, nil); code != http.StatusAccepted {
				t.Fatalf("send: %d", code)
			}
			h.waitFinished(camp)
			var p store.Progress
			if h.call("GET", h.campaignPath(camp, "progress"), nil, &p); p.Blocked != n/10 || p.Bounced != n/10 || p.Sent != n-n/5 {
				t.Errorf("progress %+v, want %d blocked, %d bounced, %d sent", p, n/10, n/10, n-n/5)
			}
			ctx := context.Background()
			for _, e := range emails {
				wantStatus, wantSuppressed := store.ContactSubscribed, false
				switch supporterIndex(e) % 10 {
				case 3:
					if s := h.sendStatus(camp, e); s != store.SendBlocked {
						t.Errorf("%s is %s in the ledger, want blocked", e, s)
					}
				case 7:
					wantStatus, wantSuppressed = store.ContactBounced, true
				default:
					continue
				}
				if got := contactStatus(t, h, e); got != wantStatus {
					t.Errorf("%s is %s, want %s", e, got, wantStatus)
				}
				if ok, err := h.app.Store().IsSuppressed(ctx, e); err != nil || ok != wantSuppressed {
					t.Errorf("%s suppressed = %v, %v; want %v", e, ok, err, wantSuppressed)
				}
			}
			var r store.Report
			h.call("GET", h.campaignPath(camp, "stats"), nil, &r)
			relay := strings.TrimPrefix(strings.SplitN(h.capture.Addr(), "?", 2)[0], "smtp://")
			if r.Blocked != n/10 || len(r.BlockedByRelay) != 1 || r.BlockedByRelay[relay] != n/10 {
				t.Errorf("report: %d blocked, by relay %v; want %d, all by %s", r.Blocked, r.BlockedByRelay, n/10, relay)
			}
			resp, err := http.Get(h.app.URL() + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			metrics, _ := io.ReadAll(resp.Body)
			var blocked string
			for line := range strings.Lines(string(metrics)) {
				if strings.HasPrefix(line, "dearfriend_messages_total{") && strings.Contains(line, `outcome="blocked"`) {
					blocked = strings.TrimSpace(line)
				}
			}
			if !strings.HasSuffix(blocked, " "+strconv.Itoa(n/10)) || !strings.Contains(blocked, "relay=") {
				t.Errorf("metric of blocked messages %q, want %d for the relay", blocked, n/10)
			}
		})
	}
}

// TestLiftBounceSuppression: an organizer lifts the suppression a bounce
// made: the contact is subscribed again, the suppression is gone, an event
// records it, and the next campaign mails the address. A contact not
// bounced cannot be lifted.
func TestLiftBounceSuppression(t *testing.T) {
	t.Parallel()
	const n = 10
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			tries := map[string]int{}
			h := startWith(t, b, refusals(tries, &mu))
			camp, emails := h.mustDraftCampaign(n)
			if code := h.call("POST", h.campaignPath(camp, "send"), nil, nil); code != http.StatusAccepted {
				t.Fatalf("send: %d", code)
			}
			h.waitFinished(camp)
			ctx := context.Background()
			bounced, err := h.app.Store().ContactByEmail(ctx, emails[7])
			if err != nil || bounced.Status != store.ContactBounced {
				t.Fatalf("%s: %+v, %v; want bounced", emails[7], bounced, err)
			}
			path := fmt.Sprintf("/api/v1/contacts/%d/bounce", bounced.ID)
			var c store.Contact
			if code := h.call("DELETE", path, nil, &c); code != http.StatusOK || c.Status != store.ContactSubscribed {
				t.Fatalf("lift the bounce: %d %+v, want 200 and subscribed", code, c)
			}
			if ok, err := h.app.Store().IsSuppressed(ctx, emails[7]); err != nil || ok {
				t.Errorf("suppressed after the lift = %v, %v; want false", ok, err)
			}
			history, err := h.app.Store().ContactHistory(ctx, bounced.ID, 20)
			if err != nil {
				t.Fatal(err)
			}
			lifted := false
			for _, item := range history {
				lifted = lifted || item.Kind == store.EventBounceLifted && strings.Contains(item.Detail, "no such user")
			}
			if !lifted {
				t.Errorf("history %+v has no bounce_lifted event naming the bounce", history)
			}
			if code := h.call("DELETE", path, nil, nil); code != http.StatusConflict {
				t.Errorf("lift again: %d, want 409", code)
			}
			blocked, err := h.app.Store().ContactByEmail(ctx, emails[3])
			if err != nil {
				t.Fatal(err)
			}
			if code := h.call("DELETE", fmt.Sprintf("/api/v1/contacts/%d/bounce", blocked.ID), nil, nil); code != http.StatusConflict {
				t.Errorf("lift a contact that never bounced: %d, want 409", code)
			}
			if code := h.call("DELETE", "/api/v1/contacts/999999/bounce", nil, nil); code != http.StatusNotFound {
				t.Errorf("lift a missing contact: %d, want 404", code)
			}
			h.mustSendAgain(camp)
			mu.Lock()
			defer mu.Unlock()
			if tries[emails[7]] != 2 {
				t.Errorf("the relay saw %s %d times, want 2: the lifted address is mailed again", emails[7], tries[emails[7]])
			}
		})
	}
}
