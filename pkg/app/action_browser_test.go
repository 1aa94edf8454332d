package app_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestPetitionInBrowser follows the action alert in a real browser: the link
// from a captured message opens a page that knows the recipient, the
// keyboard alone signs it, the count rises by one and the thank-you page
// offers its share links; then a visitor makes a mistake on the form, sees
// it next to the field with what they typed kept, corrects it and signs.
// Both pages, and a sign-on letter's, pass the basic accessibility checks
// and are photographed at 375 and 1280 px.
func TestPetitionInBrowser(t *testing.T) {
	t.Parallel()
	ctx := testenv.Browser(t)
	h := start(t, backends(t)[0])
	pet := mustPetition(t, h, "northfork", 10)
	camp := mustSendAlert(t, h, "northfork", "Jane", "Ahmed", "Lin")
	h.waitFinished(camp.ID)
	link := actionLink(t, h, "jane@example.org", "northfork")

	do(t, ctx, chromedp.Navigate(link))
	if body := text(t, ctx, "main"); !strings.Contains(body, "Not Jane? Sign as someone else") {
		t.Fatalf("the page does not recognize Jane:\n%s", body)
	}
	if got := text(t, ctx, "#count"); got != "0 signatures of a goal of 10" {
		t.Fatalf("count before signing: %q", got)
	}
	checkAccessible(t, ctx, "recognized petition page")
	testenv.Screenshot(t, ctx, "petition-recognized", 375)
	testenv.Screenshot(t, ctx, "petition-recognized", 1280)

	// Keyboard only: tab through the form, tick "show my name" with the space
	// bar, and press Enter on the sign button.
	for i := 0; ; i++ {
		if i == 30 {
			t.Fatal("30 presses of Tab never reached the sign button")
		}
		do(t, ctx, chromedp.KeyEvent("\t"))
		focused := eval[string](t, ctx, `document.activeElement.name || document.activeElement.tagName`)
		if focused == "show_name" {
			do(t, ctx, chromedp.KeyEvent(" "))
		}
		if eval[bool](t, ctx, `document.activeElement.matches('button[type=submit]')`) {
			break
		}
	}
	if !eval[bool](t, ctx, `document.querySelector('input[name=show_name]').checked`) {
		t.Fatal("the space bar did not tick the show-my-name box on the way to the button")
	}
	do(t, ctx, chromedp.KeyEvent("\r"), chromedp.WaitVisible(chromedp.CSS(".share")))

	if got := text(t, ctx, "h1"); got != "Thank you, Jane!" {
		t.Errorf("thank-you heading %q", got)
	}
	if got := text(t, ctx, "#count"); got != "1 signature of a goal of 10" {
		t.Errorf("count after one click: %q, want one more", got)
	}
	if got := text(t, ctx, ".signers"); !strings.Contains(got, "Jane") {
		t.Errorf("recent signers %q lack Jane, who agreed to be shown", got)
	}
	shares := eval[map[string]string](t, ctx, `Object.fromEntries([...document.querySelectorAll('.share a')].map(a => [a.textContent.trim(), a.href]))`)
	for label, prefix := range map[string]string{"Share on Facebook": "https://www.facebook.com/", "Share on X": "https://x.com/", "Share by email": "mailto:"} {
		if !strings.HasPrefix(shares[label], prefix) || !referral.MatchString(shares[label]) {
			t.Errorf("%s links to %q, want %s… carrying a referral code", label, shares[label], prefix)
		}
	}
	if v := value(t, ctx, "#share-link"); !strings.Contains(v, "/a/northfork?ref=") {
		t.Errorf("link to copy %q carries no referral code", v)
	}
	checkAccessible(t, ctx, "thank-you page")
	testenv.Screenshot(t, ctx, "petition-thanks", 375)
	testenv.Screenshot(t, ctx, "petition-thanks", 1280)

	// The thank-you page has an address of its own (post, redirect, get):
	// a reload shows it again and signs nothing twice, and going back
	// shows the petition with the count as it is now.
	if u := eval[string](t, ctx, `location.pathname + location.search`); !strings.HasPrefix(u, "/a/northfork/thanks?t=") {
		t.Errorf("the thank-you page is at %q, want an address of its own", u)
	}
	do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(".share")))
	if h1, count := text(t, ctx, "h1"), text(t, ctx, "#count"); h1 != "Thank you, Jane!" || count != "1 signature of a goal of 10" {
		t.Errorf("after a reload: %q, %q; want the same thanks and count", h1, count)
	}
	if n, err := h.app.Store().CountSignatures(context.Background(), pet.ID); err != nil || n != 1 {
		t.Errorf("signatures after a reload: %d, %v; want 1", n, err)
	}
	// After a move through history chromedp's selectors wait on the page
	// it knew; the page's own script reads the one shown. Back shows the
	// count as it is now, not the page as it was before signing.
	if body := history(t, ctx, "back", "/a/northfork", "1 signature of a goal of 10"); !strings.Contains(body, "Not Jane? Sign as someone else") {
		t.Errorf("back from the thank-you page:\n%s", body)
	}
	history(t, ctx, "forward", "/a/northfork/thanks", "Thank you, Jane!")

	// A visitor the page does not know, with a mistake in the email.
	do(t, ctx, chromedp.Navigate(h.app.URL()+"/a/northfork"),
		chromedp.SendKeys(chromedp.CSS("#email"), "sam at example.org"),
		chromedp.SendKeys(chromedp.CSS("#first_name"), "Sam"),
		chromedp.SendKeys(chromedp.CSS("#last_name"), "Lee"),
		chromedp.SendKeys(chromedp.CSS("#comment"), "Protect it for our kids."),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#email-error")))
	if got := text(t, ctx, "#email-error"); !strings.Contains(got, "does not look like an email address") {
		t.Errorf("message at the email field: %q", got)
	}
	if !eval[bool](t, ctx, `document.querySelector('#email').getAttribute('aria-describedby') === 'email-error'`) {
		t.Error("the email field does not point screen readers at its message")
	}
	for sel, want := range map[string]string{"#email": "sam at example.org", "#first_name": "Sam", "#last_name": "Lee", "#comment": "Protect it for our kids."} {
		if got := value(t, ctx, sel); got != want {
			t.Errorf("after the mistake %s holds %q, want what was typed, %q", sel, got, want)
		}
	}
	checkAccessible(t, ctx, "form with a mistake")
	testenv.Screenshot(t, ctx, "petition-form-error", 375)
	eval[bool](t, ctx, `(document.querySelector('#email').value = '') === ''`)
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#email"), "sam@example.org"),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".share")))
	if got := text(t, ctx, "h1"); got != "Thank you, Sam!" {
		t.Errorf("visitor's thank-you heading %q", got)
	}
	if got := text(t, ctx, "#count"); got != "2 signatures of a goal of 10" {
		t.Errorf("count after the visitor signed: %q", got)
	}
	if strings.Contains(text(t, ctx, ".signers"), "Sam") {
		t.Error("Sam did not agree to be shown but is listed")
	}
	n, err := h.app.Store().CountSignatures(context.Background(), pet.ID)
	if err != nil || n != 2 {
		t.Errorf("signatures stored: %d, %v; want 2", n, err)
	}

	// A sign-on letter's form for organizations passes the same checks.
	if code := h.call("POST", "/api/v1/petitions", map[string]any{"slug": "coalition", "title": "Coalition letter on the North Fork",
		"petition_text": "We, the undersigned organizations…", "kind": "letter"}, nil); code != 201 {
		t.Fatalf("create letter: %d", code)
	}
	do(t, ctx, chromedp.Navigate(h.app.URL()+"/a/coalition"), chromedp.WaitVisible(chromedp.CSS("#organization")))
	checkAccessible(t, ctx, "sign-on letter")
	testenv.Screenshot(t, ctx, "letter", 375)
}

// referral finds a referral code in a share link, encoded once or twice.
var referral = regexp.MustCompile(`ref(=|%3D)\d+\.`)

func checkAccessible(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	for _, p := range testenv.AccessibilityProblems(t, ctx) {
		t.Errorf("%s: %s", page, p)
	}
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// history goes back or forward in the tab's history and waits until it
// shows a page at path whose main text holds want (a page restored from the
// back-forward cache reloads itself first); it returns that text.
func history(t *testing.T, ctx context.Context, way, path, want string) string {
	t.Helper()
	eval[bool](t, ctx, `(history.`+way+`(), true)`)
	js := fmt.Sprintf(`(() => { const m = document.querySelector('main');
		return location.pathname === %q && document.readyState === 'complete' && m ? m.innerText : ''; })()`, path)
	var seen string
	for deadline := time.Now().Add(20 * time.Second); ; {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err == nil && strings.Contains(got, want) {
			return got
		}
		if err == nil && got != "" {
			seen = got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never showed %q at %s; last seen (%v):\n%s", way, want, path, err, seen)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.Join(strings.Fields(s), " ")
}

func value(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("value of %s: %v", sel, err)
	}
	return s
}

// mustPetition creates an open petition with slug and goal through the API.
func mustPetition(t *testing.T, h *harness, slug string, goal int) *store.Petition {
	t.Helper()
	var p store.Petition
	if code := h.call("POST", "/api/v1/petitions", map[string]any{"slug": slug, "title": "Protect the North Fork",
		"target": "Governor Reyes", "petition_text": "Deny the permit.", "goal": goal}, &p); code != 201 {
		t.Fatalf("create petition: %d", code)
	}
	return &p
}

// mustSendAlert sends an alert linking to the petition slug to one contact
// per first name, <name>@example.org, and returns the campaign.
func mustSendAlert(t *testing.T, h *harness, slug string, names ...string) store.Campaign {
	t.Helper()
	var list store.List
	h.call("POST", "/api/v1/lists", map[string]any{"name": "Supporters " + slug}, &list)
	for _, n := range names {
		if code := h.call("POST", "/api/v1/contacts", map[string]any{"email": strings.ToLower(n) + "@example.org", "first_name": n,
			"last_name": "Doe", "lists": []int64{list.ID}}, nil); code != 201 {
			t.Fatalf("create contact %s: %d", n, code)
		}
	}
	var msg store.Message
	if code := h.call("POST", "/api/v1/messages", map[string]any{"subject": "Add your name", "from_name": "Maya", "from_email": "action@example.org",
		"html": `<p>Dear {{ .FirstName }},</p><p><a href="{{ action_link "` + slug + `" }}">ADD YOUR NAME</a></p>`}, &msg); code != 201 {
		t.Fatalf("create message: %d", code)
	}
	var camp store.Campaign
	h.call("POST", "/api/v1/campaigns", map[string]any{"name": "alert " + slug, "message_id": msg.ID, "audience": map[string]any{"lists": []int64{list.ID}}}, &camp)
	if code := h.call("POST", fmt.Sprintf("/api/v1/campaigns/%d/send", camp.ID), nil, nil); code != 202 {
		t.Fatalf("send: %d", code)
	}
	return camp
}

// actionLink is the link to petition slug in the message captured for to.
func actionLink(t *testing.T, h *harness, to, slug string) string {
	t.Helper()
	for _, m := range h.capture.Messages() {
		if len(m.To) == 0 || m.To[0] != to {
			continue
		}
		e := parseEmail(t, m.Data)
		if link := regexp.MustCompile(`href="(http://[^"]+/a/` + slug + `\?r=[^"]+)"`).FindStringSubmatch(e.html); link != nil {
			return link[1]
		}
	}
	t.Fatalf("no message to %s links to /a/%s", to, slug)
	return ""
}
