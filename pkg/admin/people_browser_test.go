package admin_test

import (
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestPeopleInBrowser walks a person's profile, downloads their data,
// refuses then confirms their erasure, and manages users: a reset link made
// and used, and one's own password form, in a real browser. Each screen
// passes the accessibility checks and is photographed at 375 and 1280 px
// (artifacts/admin-*.png).
func TestPeopleInBrowser(t *testing.T) {
	t.Parallel()
	ctx := testenv.Browser(t)
	f := newFixture(t, testenv.SQLite(t), "")
	jane, _ := f.mustPerson()
	email, password := f.mustUser(store.RoleAdmin)
	organizer, _ := f.mustUser(store.RoleOrganizer)
	path := f.srv.URL + "/admin/contacts/" + strconv.FormatInt(jane.ID, 10)

	run(t, ctx, chromedp.Navigate(path), chromedp.WaitVisible(chromedp.CSS("#f-email")),
		chromedp.SendKeys(chromedp.CSS("#f-email"), email), chromedp.SendKeys(chromedp.CSS("#f-password"), password),
		chromedp.Click(chromedp.CSS("main button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(".history")))
	if got := evaluate[string](t, ctx, `document.querySelector('h1').textContent`); got != jane.Email {
		t.Fatalf("after signing in: %q, want Jane's profile", got)
	}
	screen(t, ctx, "admin-contact-profile")

	// The download, fetched as the link would fetch it.
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => {
		const href = document.querySelector('a[download][href$="export.json"]').getAttribute('href');
		const r = await fetch(href);
		const d = await r.json();
		return r.headers.get('content-disposition') + ' ' + d.contact.email + ' ' + d.lists.length + ' ' + d.signatures[0].title;
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if want := `attachment; filename="contact-` + strconv.FormatInt(jane.ID, 10) + `.json" jane@example.org 1 Save the Northfork`; got != want {
		t.Errorf("the export: %q, want %q", got, want)
	}

	run(t, ctx, chromedp.Click(chromedp.CSS(`a[href$="/erase"]`)), chromedp.WaitVisible(chromedp.CSS("#f-confirm")),
		chromedp.SendKeys(chromedp.CSS("#f-confirm"), "lin@example.org"), chromedp.Click(chromedp.CSS("main button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#f-confirm-error")))
	if !evaluate[bool](t, ctx, `document.querySelector('#f-confirm').getAttribute('aria-invalid') === 'true' &&
		document.querySelector('#f-confirm').value === 'lin@example.org'`) {
		t.Error("the confirmation field is not marked invalid with what was typed kept")
	}
	screen(t, ctx, "admin-contact-erase-error")
	run(t, ctx, chromedp.SetValue(chromedp.CSS("#f-confirm"), jane.Email), chromedp.Click(chromedp.CSS("main button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := evaluate[string](t, ctx, `document.querySelector('h1').textContent + ': ' + document.querySelector('.notice').textContent`); got !=
		"Contacts: The person's data is erased. Their address stays suppressed: no campaign mails it, even if it is imported, added or signs again." {
		t.Errorf("after erasing: %q", got)
	}
	screen(t, ctx, "admin-contact-erased")

	run(t, ctx, chromedp.Navigate(f.srv.URL+"/admin/users"), chromedp.WaitVisible(chromedp.CSS("table")),
		chromedp.Click(chromedp.CSS(`button[aria-label="Make a password-reset link for `+organizer+`"]`)), chromedp.WaitVisible(chromedp.CSS(".secret code")))
	link := evaluate[string](t, ctx, `document.querySelector('.secret code').textContent`)
	screen(t, ctx, "admin-users-reset-link")

	run(t, ctx, chromedp.Navigate(f.srv.URL+"/admin/account"), chromedp.WaitVisible(chromedp.CSS("#f-current_password")),
		chromedp.SendKeys(chromedp.CSS("#f-current_password"), "not the password"), chromedp.SendKeys(chromedp.CSS("#f-password"), "a long new password"),
		chromedp.SendKeys(chromedp.CSS("#f-password2"), "a long new password"), chromedp.Click(chromedp.CSS("main button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#f-current_password-error")))
	screen(t, ctx, "admin-account-error")

	// The link is for someone else, who is not signed in here.
	run(t, ctx, chromedp.Click(chromedp.CSS(".signout button")), chromedp.WaitVisible(chromedp.CSS("#f-email")))
	run(t, ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#f-password2")),
		chromedp.SendKeys(chromedp.CSS("#f-password"), "short"), chromedp.SendKeys(chromedp.CSS("#f-password2"), "short"),
		chromedp.Click(chromedp.CSS("main button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#f-password-error")))
	screen(t, ctx, "admin-reset-error")
	run(t, ctx, chromedp.SendKeys(chromedp.CSS("#f-password"), "a long new password"), chromedp.SendKeys(chromedp.CSS("#f-password2"), "a long new password"),
		chromedp.Click(chromedp.CSS("main button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := evaluate[string](t, ctx, `document.querySelector('.notice').textContent`); got != "Your new password is set. Sign in with it." {
		t.Errorf("after the reset: %q", got)
	}
	f.browser().mustSignin(organizer, "a long new password")
}
