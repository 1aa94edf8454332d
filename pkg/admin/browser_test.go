package admin_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestAdminInBrowser signs in with a wrong password and then the right one
// in a real browser, and walks the screens built so far: each passes the
// basic accessibility checks, fits 375 px without sideways scrolling, and is
// photographed at 375 and 1280 px (artifacts/admin-*.png).
func TestAdminInBrowser(t *testing.T) {
	t.Parallel()
	ctx := testenv.Browser(t)
	f := newFixture(t, testenv.SQLite(t), "")
	people := []*store.Contact{f.mustContact("jane@example.org", "Jane"), f.mustContact("amara@example.org", "Amara"),
		f.mustContact("lin@example.org", "Lin")}
	mustSentCampaign(t, f.st, "Tell the Governor: protect the Northfork", people)
	email, password := f.mustUser(store.RoleAdmin)
	jane := strconv.FormatInt(people[0].ID, 10)

	run(t, ctx, chromedp.Navigate(f.srv.URL+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#f-email")))
	// The first Tab reaches the skip link, and it leads to the main region.
	run(t, ctx, chromedp.KeyEvent("\t"))
	if got := evaluate[string](t, ctx, `document.activeElement.textContent`); got != "Skip to content" {
		t.Errorf("the first Tab focuses %q, want the skip link", got)
	}
	screen(t, ctx, "admin-signin")

	run(t, ctx, chromedp.SendKeys(chromedp.CSS("#f-email"), email), chromedp.SendKeys(chromedp.CSS("#f-password"), "not the password"),
		chromedp.Click(chromedp.CSS("main button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#f-password-error")))
	if got := evaluate[string](t, ctx, `document.querySelector('#f-password-error').textContent`); got != "The email or the password is not right." {
		t.Errorf("error next to the password: %q", got)
	}
	if got := evaluate[string](t, ctx, `document.querySelector('#f-email').value`); got != email {
		t.Errorf("the email typed was not kept: %q", got)
	}
	screen(t, ctx, "admin-signin-error")

	run(t, ctx, chromedp.SendKeys(chromedp.CSS("#f-password"), password), chromedp.Click(chromedp.CSS("main button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("table")))
	if got := evaluate[string](t, ctx, `document.querySelector('h1').textContent`); got != "Dashboard" {
		t.Fatalf("after signing in: %q, want the dashboard", got)
	}
	if got := evaluate[string](t, ctx, `document.querySelector('tbody th').textContent`); got != "Tell the Governor: protect the Northfork" {
		t.Errorf("dashboard's first campaign: %q", got)
	}
	screen(t, ctx, "admin-dashboard")

	run(t, ctx, chromedp.Navigate(f.srv.URL+"/admin/contacts"), chromedp.WaitVisible(chromedp.CSS("#f-q")),
		chromedp.SendKeys(chromedp.CSS("#f-q"), "ja"),
		// The table counted must be the results page's, not the one before it.
		chromedp.Evaluate[chromedp.Void](`document.body.dataset.before = "search"`),
		chromedp.Submit(chromedp.CSS("#f-q")), chromedp.WaitVisible(chromedp.CSS(`body:not([data-before]) table`)))
	if got := evaluate[int](t, ctx, `document.querySelectorAll('tbody tr').length`); got != 1 {
		t.Errorf("searching \"ja\" lists %d contacts, want Jane alone", got)
	}
	screen(t, ctx, "admin-contacts")

	run(t, ctx, chromedp.Click(chromedp.CSS("tbody a")), chromedp.WaitVisible(chromedp.CSS(".history")))
	screen(t, ctx, "admin-contact")

	run(t, ctx, chromedp.Navigate(f.srv.URL+"/admin/contacts/"+jane+"/edit"), chromedp.WaitVisible(chromedp.CSS("#f-time_zone")),
		chromedp.SendKeys(chromedp.CSS("#f-time_zone"), "Mars/Olympus"), chromedp.Click(chromedp.CSS("main button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#f-time_zone-error")))
	if !evaluate[bool](t, ctx, `document.querySelector('#f-time_zone').getAttribute('aria-invalid') === 'true' &&
		document.querySelector('#f-time_zone').getAttribute('aria-describedby') === 'f-time_zone-error' &&
		document.querySelector('#f-time_zone').value === 'Mars/Olympus'`) {
		t.Error("the time zone field is not marked invalid, tied to its error, with what was typed kept")
	}
	screen(t, ctx, "admin-contact-edit-error")

	run(t, ctx, chromedp.Navigate(f.srv.URL+"/admin/lists"), chromedp.WaitVisible(chromedp.CSS("table")))
	if got := evaluate[string](t, ctx, `document.querySelector('td[data-label=Members]').textContent`); got != "3" {
		t.Errorf("the campaign's list has %q members, want 3", got)
	}
	screen(t, ctx, "admin-lists")

	run(t, ctx, chromedp.Navigate(f.srv.URL+"/admin/users"), chromedp.WaitVisible(chromedp.CSS("#f-role")))
	screen(t, ctx, "admin-users")
}

// screen checks the page open in ctx for accessibility problems and for
// sideways scrolling at 375 px, and photographs it at 375 and 1280 px.
func screen(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	for _, p := range testenv.AccessibilityProblems(t, ctx) {
		t.Errorf("%s: %s", name, p)
	}
	testenv.Screenshot(t, ctx, name, 375)
	if w := evaluate[int](t, ctx, `document.documentElement.scrollWidth`); w > 375 {
		t.Errorf("%s is %d px wide at a 375 px screen: it scrolls sideways", name, w)
	}
	testenv.Screenshot(t, ctx, name, 1280)
}

func run(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

func evaluate[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[T](strings.TrimSpace(js)))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return out
}
