package app_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/app"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// variantsOut is the answer of GET /api/v1/campaigns/{id}/variants.
type variantsOut struct {
	ABTest   store.ABTest         `json:"ab_test"`
	Winner   *string              `json:"winner"`
	Variants []store.VariantStats `json:"variants"`
}

// abSubjects are the subjects of the three variants every A/B campaign here has.
var abSubjects = map[string]string{"Act now: A": "A", "Act now: B": "B", "Act now: C": "C"}

// scannerWindow is how soon after delivery a click counts as a link
// scanner's in tests that click as a person (app.WithScannerWindow; 10 s in
// production): their clicks must come later, and a second is soon waited out.
const scannerWindow = time.Second

// TestABTestEndToEnd sends three A/B campaigns of three variants to the same
// 100 people: a test share of 30 split 10/10/10 by subject (the same split
// for the same seed), the rest held until the winner, chosen by people's
// clicks on links taken from the captured emails, by hand, or after the
// wait; each person gets one message of each campaign, the rest the winner's.
func TestABTestEndToEnd(t *testing.T) {
	t.Parallel()
	const n, testShare = 100, 30
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			h := startOpts(t, b, harnessOpts{app: []app.Option{app.WithScannerWindow(scannerWindow)}})
			draft, emails := h.mustDraftCampaign(n)
			var base store.Campaign
			h.call("GET", fmt.Sprintf("/api/v1/campaigns/%d", draft), nil, &base)
			list := base.Audience.Lists[0]
			bodyA := h.mustLinkMessage("https://example.org/a")
			bodyB := h.mustLinkMessage("https://example.org/b")
			create := func(metric, wait string) int64 {
				t.Helper()
				var c store.Campaign
				code := h.call("POST", "/api/v1/campaigns", map[string]any{
					"name": "ab " + metric, "message_id": bodyA, "audience": map[string]any{"lists": []int64{list}},
					"variants": []map[string]any{{"subject": "Act now: A"}, {"subject": "Act now: B", "message_id": bodyB}, {"subject": "Act now: C"}},
					"ab_test":  map[string]any{"share": testShare, "metric": metric, "wait": wait, "seed": 7},
				}, &c)
				if code != http.StatusCreated || c.AB.Share != testShare {
					t.Fatalf("create A/B campaign: %d %+v", code, c)
				}
				if code := h.call("POST", h.campaignPath(c.ID, "send"), nil, nil); code != http.StatusAccepted {
					t.Fatalf("send: %d", code)
				}
				return c.ID
			}

			// By clicks: the test share goes out and the campaign waits.
			byClicks := create("clicks", "1h")
			testPhase := h.waitABCaptured(byClicks, testShare)
			h.waitLedgerSent(byClicks, testShare)
			clicksSentBy := time.Now()
			checkEvenSplit(t, testPhase, testShare/3)
			var p store.Progress
			h.call("GET", h.campaignPath(byClicks, "progress"), nil, &p)
			var v variantsOut
			h.call("GET", h.campaignPath(byClicks, "variants"), nil, &v)
			if p.Status != store.CampaignSending || p.Remaining != n-testShare || v.Winner != nil || v.ABTest.Phase != store.ABTesting {
				t.Fatalf("after the test share: progress %+v, A/B %+v winner %v; want sending with %d held and no winner", p, v.ABTest, v.Winner, n-testShare)
			}

			// By hand, with the same seed: the same split; C wins early.
			byHand := create("clicks", "1h")
			if diff := cmp.Diff(testPhase, h.waitABCaptured(byHand, testShare)); diff != "" {
				t.Errorf("two campaigns with the same audience and seed split differently (-first +second):\n%s", diff)
			}
			var won struct{ Winner string }
			if code := h.call("POST", h.campaignPath(byHand, "winner"), map[string]string{"variant": "C"}, &won); code != http.StatusOK || won.Winner != "C" {
				t.Fatalf("choose C: %d %+v", code, won)
			}
			var e apiError
			if code := h.call("POST", h.campaignPath(byHand, "winner"), map[string]string{"variant": "B"}, &e); code != http.StatusConflict {
				t.Errorf("second choice: %d %+v, want 409", code, e)
			}
			h.waitFinished(byHand)
			h.checkABOutcome(byHand, emails, testPhase, "C")

			// After the wait (1 s): nobody opened, a tie, so A.
			afterWait := create("opens", "1s")
			h.waitFinished(afterWait)
			h.call("GET", h.campaignPath(afterWait, "variants"), nil, &v)
			if v.Winner == nil || *v.Winner != "A" || v.ABTest.Phase != store.ABDecided {
				t.Errorf("after the wait: winner %v, A/B %+v; want A, decided", v.Winner, v.ABTest)
			}
			h.checkABOutcome(afterWait, emails, testPhase, "A") // the same seed: the same test group
			var finished store.Campaign
			h.call("GET", fmt.Sprintf("/api/v1/campaigns/%d", afterWait), nil, &finished)
			if finished.FinishedAt == nil || finished.AB.DecidedAt == nil || finished.FinishedAt.Before(*finished.AB.DecidedAt) {
				t.Errorf("finished at %v, winner decided at %v: want it finished after the winner", finished.FinishedAt, finished.AB.DecidedAt)
			}

			// People click: three of B's ten, one of A's, after the scanner window.
			time.Sleep(time.Until(clicksSentBy.Add(scannerWindow + 500*time.Millisecond)))
			clicked := map[string]int{}
			for to, label := range testPhase {
				if (label == "B" && clicked["B"] < 3) || (label == "A" && clicked["A"] < 1) {
					h.clickFirstLink(byClicks, to, map[string]string{"A": "https://example.org/a", "B": "https://example.org/b"}[label])
					clicked[label]++
				}
			}
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				h.call("GET", h.campaignPath(byClicks, "variants"), nil, &v)
				if v.Variants[0].Clicks == 1 && v.Variants[1].Clicks == 3 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("variant stats %+v, want 1 click on A and 3 on B", v.Variants)
				}
			}
			if v.Variants[1].Delivered != 10 || v.Variants[1].ClickRate != 0.3 {
				t.Errorf("B: %+v, want 10 delivered, click rate 0.3", v.Variants[1])
			}
			// End the test now: the metric picks B.
			if code := h.call("POST", h.campaignPath(byClicks, "winner"), map[string]any{}, &won); code != http.StatusOK || won.Winner != "B" {
				t.Fatalf("winner by clicks: %d %+v, want B", code, won)
			}
			h.waitFinished(byClicks)
			h.checkABOutcome(byClicks, emails, testPhase, "B")
		})
	}
}

// mustLinkMessage creates a message whose button links to target.
func (h *harness) mustLinkMessage(target string) int64 {
	h.t.Helper()
	var m store.Message
	if code := h.call("POST", "/api/v1/messages", map[string]any{"subject": "The message's own subject", "from_name": "Maya Ortiz",
		"from_email": "action@example.org", "html": `<p>Dear {{ .FirstName }},</p><p><a href="` + target + `">Act now</a></p>`}, &m); code != http.StatusCreated {
		h.t.Fatalf("create message: %d", code)
	}
	return m.ID
}

// abCaptured maps each recipient of a campaign's captured messages to the
// label of its subject, failing on a second message to one recipient.
func (h *harness) abCaptured(campaignID int64) map[string]string {
	h.t.Helper()
	out := map[string]string{}
	for _, m := range h.capture.Messages() {
		e := parseEmail(h.t.(*testing.T), m.Data)
		if e.header.Get("X-Campaign-ID") != fmt.Sprint(campaignID) {
			continue
		}
		label, ok := abSubjects[e.header.Get("Subject")]
		if !ok {
			h.t.Fatalf("message to %s has subject %q, not a variant's", m.To[0], e.header.Get("Subject"))
		}
		if _, twice := out[m.To[0]]; twice {
			h.t.Fatalf("%s got two messages of campaign %d", m.To[0], campaignID)
		}
		out[m.To[0]] = label
	}
	return out
}

// waitABCaptured waits until k messages of a campaign were captured and returns them as abCaptured does.
func (h *harness) waitABCaptured(campaignID int64, k int) map[string]string {
	h.t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		got := h.abCaptured(campaignID)
		if len(got) >= k {
			return got
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("campaign %d: %d messages captured after a minute, want %d", campaignID, len(got), k)
		}
	}
}

// waitLedgerSent waits until the ledger of a campaign says k rows were sent.
func (h *harness) waitLedgerSent(campaignID int64, k int64) {
	h.t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		var p store.Progress
		h.call("GET", h.campaignPath(campaignID, "progress"), nil, &p)
		if p.Sent >= k {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("campaign %d: %d sent after a minute, want %d", campaignID, p.Sent, k)
		}
	}
}

// checkEvenSplit fails unless each of the three variants got each (±1) of the test.
func checkEvenSplit(t *testing.T, testPhase map[string]string, each int) {
	t.Helper()
	counts := map[string]int{}
	for _, l := range testPhase {
		counts[l]++
	}
	for _, l := range []string{"A", "B", "C"} {
		if counts[l] < each-1 || counts[l] > each+1 {
			t.Errorf("test split %v, want about %d each", counts, each)
		}
	}
}

// checkABOutcome checks a finished A/B campaign: everyone got exactly one
// message; those of the test phase (when given) the variant they were sent
// then; everybody else the winner's.
func (h *harness) checkABOutcome(campaignID int64, emails []string, testPhase map[string]string, winner string) {
	h.t.Helper()
	got := h.abCaptured(campaignID)
	if len(got) != len(emails) {
		h.t.Errorf("campaign %d: %d people got a message, want %d", campaignID, len(got), len(emails))
	}
	// Each message has the subject of the variant its ledger row names.
	ctx := context.Background()
	vs, err := h.app.Store().Variants(ctx, campaignID)
	if err != nil {
		h.t.Fatal(err)
	}
	label := map[int64]string{}
	for _, v := range vs {
		label[v.ID] = v.Label
	}
	rows, err := h.app.Store().LedgerPage(ctx, campaignID, 0, 10*len(emails))
	if err != nil {
		h.t.Fatal(err)
	}
	for _, r := range rows {
		if r.Status != store.SendSent || r.VariantID == nil || label[*r.VariantID] != got[r.Email] {
			h.t.Errorf("campaign %d: ledger row %+v, message subject of %q", campaignID, r, got[r.Email])
		}
	}
	counts := map[string]int{}
	for _, to := range emails {
		label, ok := got[to]
		if !ok {
			h.t.Errorf("campaign %d: %s got nothing", campaignID, to)
			continue
		}
		counts[label]++
		if want, inTest := testPhase[to]; inTest && label != want {
			h.t.Errorf("campaign %d: %s was sent %s in the test and then %s", campaignID, to, want, label)
		} else if testPhase != nil && !inTest && label != winner {
			h.t.Errorf("campaign %d: %s, not in the test, got %s, want the winner %s", campaignID, to, label, winner)
		}
	}
	for _, l := range []string{"A", "B", "C"} {
		want := 10
		if l == winner {
			want = len(emails) - 20
		}
		if counts[l] != want {
			h.t.Errorf("campaign %d: %d messages of %s, want %d (winner %s)", campaignID, counts[l], l, want, winner)
		}
	}
}

var trackedLink = regexp.MustCompile(`href="(http://[^"]+/t/c/[^"]+)"`)

// clickFirstLink clicks, as a person's browser, the first tracked link of the
// message of a campaign to to, and checks it leads to target.
func (h *harness) clickFirstLink(campaignID int64, to, target string) {
	h.t.Helper()
	for _, m := range h.capture.Messages() {
		e := parseEmail(h.t.(*testing.T), m.Data)
		if m.To[0] != to || e.header.Get("X-Campaign-ID") != fmt.Sprint(campaignID) {
			continue
		}
		link := trackedLink.FindStringSubmatch(e.html)
		if link == nil {
			h.t.Fatalf("no tracked link in the message to %s", to)
		}
		req, _ := http.NewRequest("GET", link[1], nil)
		req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
		resp, err := noRedirect.Do(req)
		if err != nil {
			h.t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), target) {
			h.t.Fatalf("click in the message to %s: %d to %q, want %s", to, resp.StatusCode, resp.Header.Get("Location"), target)
		}
		return
	}
	h.t.Fatalf("no message of campaign %d to %s", campaignID, to)
}

// TestABTestBadInput: every bad A/B setting is refused naming its field, and
// no campaign is stored.
func TestABTestBadInput(t *testing.T) {
	t.Parallel()
	h := start(t, backends(t)[0])
	draft, _ := h.mustDraftCampaign(3)
	var base store.Campaign
	h.call("GET", fmt.Sprintf("/api/v1/campaigns/%d", draft), nil, &base)
	variants := func(n int) []map[string]any {
		vs := make([]map[string]any, n)
		for i := range vs {
			vs[i] = map[string]any{"subject": fmt.Sprintf("Subject %d", i)}
		}
		return vs
	}
	goodTest := map[string]any{"share": 20, "metric": "clicks", "wait": "2h"}
	testWith := func(k string, v any) map[string]any {
		m := map[string]any{}
		for k2, v2 := range goodTest {
			m[k2] = v2
		}
		m[k] = v
		return m
	}
	for _, tt := range []struct {
		name     string
		variants any
		abTest   any
		field    string
	}{
		{"five variants", variants(5), goodTest, "variants"},
		{"share 0", variants(2), testWith("share", 0), "ab_test.share"},
		{"share 101", variants(2), testWith("share", 101), "ab_test.share"},
		{"unknown metric", variants(2), testWith("metric", "likes"), "ab_test.metric"},
		{"bad duration", variants(2), testWith("wait", "soon"), "ab_test.wait"},
		{"no duration", variants(2), testWith("wait", ""), "ab_test.wait"},
		{"unknown message", []map[string]any{{"subject": "x"}, {"message_id": 999999}}, goodTest, "variants[1].message_id"},
		{"bad subject template", []map[string]any{{"subject": "Hi {{ .Nickname }}"}, {"subject": "x"}}, goodTest, "variants[0].subject"},
		{"line break in subject", []map[string]any{{"subject": "x"}, {"subject": "Hi\nBcc: a@example.org"}}, goodTest, "variants[1].subject"},
		{"variants without a test", variants(2), nil, "ab_test"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := map[string]any{"name": "bad", "message_id": base.MessageID, "audience": base.Audience, "variants": tt.variants}
			if tt.abTest != nil {
				body["ab_test"] = tt.abTest
			}
			var e apiError
			if code := h.call("POST", "/api/v1/campaigns", body, &e); code != http.StatusUnprocessableEntity || e.Error.Field != tt.field {
				t.Errorf("got %d field %q (%s); want 422 naming %s", code, e.Error.Field, e.Error.Message, tt.field)
			}
		})
	}
	var cs struct{ Campaigns []store.Campaign }
	h.call("GET", "/api/v1/campaigns", nil, &cs)
	if len(cs.Campaigns) != 1 {
		t.Errorf("%d campaigns stored, want only the draft", len(cs.Campaigns))
	}
	var e apiError
	if code := h.call("POST", h.campaignPath(draft, "winner"), map[string]string{"variant": "A"}, &e); code != http.StatusConflict {
		t.Errorf("winner of a campaign without a test: %d, want 409", code)
	}
	if code := h.call("POST", h.campaignPath(draft, "winner"), map[string]string{"variant": "Z"}, &e); code != http.StatusUnprocessableEntity || e.Error.Field != "variant" {
		t.Errorf("winner Z: %d %+v, want 422 naming variant", code, e)
	}
	if code := h.call("GET", h.campaignPath(424242, "variants"), nil, &e); code != http.StatusNotFound {
		t.Errorf("variants of no campaign: %d, want 404", code)
	}
}
