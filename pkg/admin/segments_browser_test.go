package admin_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestSegmentBuilderInBrowser builds "in NY, NJ or CT who have not signed
// the petition" in Chromium with admin.js: the count follows the typing,
// adding a rule puts the cursor on it, choosing what a rule is about draws
// its inputs in place. The page passes the accessibility checks and fits
// 375 px (artifacts/admin-segment-builder-*.png).
func TestSegmentBuilderInBrowser(t *testing.T) {
	t.Parallel()
	ctx := testenv.Browser(t)
	w := newSegmentWorld(t, testenv.SQLite(t))
	f := w.f
	email, password := f.mustUser(store.RoleOrganizer)
	run(t, ctx, chromedp.Navigate(f.srv.URL+"/admin/segments/new"), chromedp.WaitVisible(chromedp.CSS("#f-email")),
		chromedp.SendKeys(chromedp.CSS("#f-email"), email), chromedp.SendKeys(chromedp.CSS("#f-password"), password),
		chromedp.Click(chromedp.CSS("main button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("nav[aria-label=Main]")))
	run(t, ctx, chromedp.Navigate(f.srv.URL+"/admin/segments/new"), chromedp.WaitVisible(chromedp.CSS("#f-value_r-0")))

	count := `document.querySelector('#segment-count') && document.querySelector('#segment-count').textContent`
	run(t, ctx, chromedp.SendKeys(chromedp.CSS("#f-value_r-0"), "New York, NJ, ct"))
	poll(t, ctx, "the count of four contacts in NY, NJ and CT", count+` === '4'`)

	// Add a rule by keyboard: the cursor lands on what it is about.
	run(t, ctx, chromedp.Focus(chromedp.CSS("#add-r")), chromedp.KeyEvent("\r"))
	poll(t, ctx, "the new rule, focused", `document.activeElement && document.activeElement.id === 'f-kind_r-1'`)
	choose(t, ctx, "#f-kind_r-1", "petition")
	poll(t, ctx, "the petition rule's inputs", `!!document.querySelector('#f-petition_r-1') && document.activeElement.id === 'f-kind_r-1'`)
	choose(t, ctx, "#f-signed_r-1", "no")
	choose(t, ctx, "#f-petition_r-1", strconv.FormatInt(w.petition.ID, 10))
	poll(t, ctx, "the count without the one who signed", count+` === '3'`)
	if got := evaluate[string](t, ctx, `document.querySelector('#f-value_r-0').value`); got != "New York, NJ, ct" {
		t.Errorf("redrawing lost what was typed: %q", got)
	}
	screen(t, ctx, "admin-segment-builder")

	run(t, ctx, chromedp.SendKeys(chromedp.CSS("#f-name"), "Tri-state, not signed"),
		chromedp.Click(chromedp.CSS("button[value=save]")), chromedp.WaitVisible(chromedp.CSS("p.notice")))
	gs, err := f.st.ListSegments(context.Background())
	if err != nil || len(gs) != 1 {
		t.Fatalf("segments %+v (%v)", gs, err)
	}
	want := jsonOf(t, `{"all": [{"field": "region", "op": "in", "value": ["NY", "NJ", "CT"]}, {"petition": `+
		strconv.FormatInt(w.petition.ID, 10)+`, "signed": false}]}`)
	if d := cmp.Diff(want, rulesOf(t, f.st, gs[0].ID)); d != "" {
		t.Errorf("saved rules (-want +got):\n%s", d)
	}
	if got := evaluate[string](t, ctx, count); got != "3" {
		t.Errorf("the saved segment counts %q, want 3", got)
	}

	// A rule typed wrong: the live count says what is wrong and where.
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('#f-value_r-0').value = ''`),
		chromedp.SendKeys(chromedp.CSS("#f-value_r-0"), " "))
	poll(t, ctx, "the problem named in the count", `document.querySelector('[data-count]').textContent.includes('in rule 1: Type one value or more')`)
	// Groups nest: a group added to the root, and one inside it.
	run(t, ctx, chromedp.Click(chromedp.CSS("button[value='group:r']")))
	poll(t, ctx, "the new group, focused", `document.activeElement && document.activeElement.id === 'f-match_r-2'`)
	run(t, ctx, chromedp.Click(chromedp.CSS("button[value='group:r-2']")))
	poll(t, ctx, "the group in the group", `!!document.querySelector('#f-kind_r-2-1-0')`)
	if got := evaluate[string](t, ctx, `document.querySelector('#n-r-2-1 > legend').textContent`); got != "Group 3.2" {
		t.Errorf("the inner group's legend: %q", got)
	}
	screen(t, ctx, "admin-segment-builder-edit")
}

// choose picks an option of a select as a person does: focused, the value
// changes and the change event fires (chromedp.SetValue sends input and change).
func choose(t *testing.T, ctx context.Context, sel, value string) {
	t.Helper()
	run(t, ctx, chromedp.Focus(chromedp.CSS(sel)), chromedp.SetValue(chromedp.CSS(sel), value))
}

// poll waits until js is true in the page and the builder is not being
// drawn again.
func poll(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	js = `!document.querySelector('[data-builder][aria-busy]') && (` + js + `)`
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(time.Minute), chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}
