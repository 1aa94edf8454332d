package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dearfriend/dearfriend/pkg/admin"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestBlockEditorInBrowser composes the petition alert with the block
// editor in a real browser, by clicking and typing: "Dear {First name, or
// Friend}," from the merge-tag picker, a paragraph with a bold sentence, the
// ADD YOUR NAME button to a petition chosen from the list, a signature. It
// saves, finds the blocks again on the page that opens, reads the phone
// preview at 375 px, switches to HTML and back, and is warned, with nothing
// changed, when the HTML holds what blocks cannot show. Each screen passes
// the accessibility checks and fits 375 px (artifacts/blocks-*.png).
func TestBlockEditorInBrowser(t *testing.T) {
	t.Parallel()
	ctx := testenv.Browser(t)
	h := start(t, backends(t)[0])
	base := h.app.URL()
	const password = "correct horse battery"
	if _, err := admin.CreateUser(context.Background(), h.app.Store(), "maya@example.org", store.RoleOrganizer, password); err != nil {
		t.Fatal(err)
	}
	mustPetition(t, h, "northfork", 0)

	do(t, ctx, chromedp.Navigate(base+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#f-email")),
		chromedp.SendKeys(chromedp.CSS("#f-email"), "maya@example.org"), chromedp.SendKeys(chromedp.CSS("#f-password"), password),
		chromedp.Click(chromedp.CSS("main button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("nav[aria-label=Main]")))

	// A new message opens in the block editor with one empty paragraph.
	do(t, ctx, chromedp.Navigate(base+"/admin/messages/new"), chromedp.WaitVisible(chromedp.CSS(".block-list .rich")),
		chromedp.SendKeys(chromedp.CSS("#f-subject"), "Tell the administration: act now"),
		chromedp.SetValue(chromedp.CSS("#f-from_name"), "Maya Ortiz"),
		chromedp.SetValue(chromedp.CSS("#f-from_email"), "action@example.org"),
		// "Dear ", the merge tag from the picker (its first choice is
		// "First name, or Friend"), ",".
		chromedp.Click(chromedp.CSS(".block:nth-child(1) .rich")), chromedp.KeyEvent("Dear "),
		chromedp.Click(chromedp.CSS(`.block:nth-child(1) button[aria-label="Insert the merge tag"]`)), chromedp.KeyEvent(","))
	if got := text(t, ctx, ".block:nth-child(1) .merge-tag"); got != "First name, or Friend" {
		t.Errorf("the merge tag reads %q", got)
	}

	// A paragraph with a bold sentence, by the toolbar.
	do(t, ctx, chromedp.Click(chromedp.CSS(`[data-add=paragraph]`)), chromedp.WaitVisible(chromedp.CSS(".block:nth-child(2) .rich")),
		chromedp.KeyEvent("We have eleven days. "),
		chromedp.Click(chromedp.CSS(".block:nth-child(2) .toolbar button:first-child")), chromedp.KeyEvent("The administration must act"),
		chromedp.Click(chromedp.CSS(".block:nth-child(2) .toolbar button:first-child")), chromedp.KeyEvent(" before the permit is renewed."))

	// The button, to the petition chosen from the list; then the signature.
	do(t, ctx, chromedp.Click(chromedp.CSS(`[data-add=button]`)), chromedp.WaitVisible(chromedp.CSS(".block:nth-child(3) [data-field=petition]")),
		chromedp.SetValue(chromedp.CSS(".block:nth-child(3) [data-field=petition]"), "northfork"),
		chromedp.Click(chromedp.CSS(`[data-add=signature]`)), chromedp.WaitVisible(chromedp.CSS(".block:nth-child(4) [data-field=name]")),
		chromedp.SendKeys(chromedp.CSS(".block:nth-child(4) [data-field=name]"), "Maya Ortiz"),
		chromedp.SendKeys(chromedp.CSS(".block:nth-child(4) [data-field=title]"), "Campaigns Director"))
	if got := eval[string](t, ctx, `document.querySelector('.block:nth-child(3) [data-field=text]').value`); got != "ADD YOUR NAME" {
		t.Errorf("the button's text starts as %q", got)
	}
	// By the keyboard: a divider added and moved up one place, then removed.
	do(t, ctx, chromedp.Focus(chromedp.CSS(`[data-add=divider]`)), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(`.block:nth-child(5)[data-type=divider]`)),
		chromedp.Focus(chromedp.CSS(`button[aria-label="Move block 5 (divider) up"]`)), chromedp.KeyEvent("\r"))
	if got := eval[string](t, ctx, `Array.from(document.querySelectorAll('.block-list .block')).map(b => b.dataset.type).join(' ')`); got != "paragraph paragraph button divider signature" {
		t.Errorf("after moving the divider up: %s", got)
	}
	if got := eval[string](t, ctx, `document.activeElement.getAttribute('aria-label')`); got != "Move block 4 (divider) up" {
		t.Errorf("after the move the focus is on %q, want the same button, renamed", got)
	}
	do(t, ctx, chromedp.Focus(chromedp.CSS(`button[aria-label="Remove block 4 (divider)"]`)), chromedp.KeyEvent("\r"))
	if n := eval[int](t, ctx, `document.querySelectorAll('.block-list .block').length`); n != 4 {
		t.Errorf("after removing the divider: %d blocks, want 4", n)
	}
	adminScreen(t, ctx, "blocks-compose")

	do(t, ctx, chromedp.Click(chromedp.CSS("form.compose button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("iframe.phone")))
	if got := text(t, ctx, "main .notice"); !strings.Contains(got, "The message is saved.") {
		t.Fatalf("after saving: %q", got)
	}
	ms, err := h.app.Store().ListMessages(context.Background())
	if err != nil || len(ms) != 1 {
		t.Fatalf("messages: %v %v", ms, err)
	}
	m, err := h.app.Store().GetMessage(context.Background(), ms[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<p>Dear {{ .FirstName | default "Friend" }},</p>`,
		`We have eleven days. <strong>The administration must act</strong> before the permit is renewed.`,
		`href="{{ action_link "northfork" }}"`, "Maya Ortiz<br>Campaigns Director"} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("the saved HTML lacks %q:\n%s", want, m.HTML)
		}
	}

	// Opened again: the same blocks, the merge tag and the petition kept.
	waitFor(t, ctx, "the blocks again", `document.querySelectorAll('.block-list .block').length === 4`)
	if !eval[bool](t, ctx, `document.querySelector('.block:nth-child(1) .merge-tag').dataset.fallback === 'Friend' &&
		document.querySelector('.block:nth-child(3) [data-field=petition]').value === 'northfork' &&
		document.querySelector('.block:nth-child(2) .rich strong').textContent === 'The administration must act'`) {
		t.Error("the re-opened editor lost the merge tag, the bold sentence or the petition")
	}
	// The phone preview: Friend for the sample contact, who has no name.
	waitFor(t, ctx, "the phone preview", `(() => { const d = document.querySelector('iframe.phone').contentDocument;
		return d && d.body && d.body.textContent.includes('Dear Friend,') && d.body.textContent.includes('ADD YOUR NAME'); })()`)
	if w := eval[int](t, ctx, `document.querySelector('iframe.phone').getBoundingClientRect().width`); w < 370 || w > 380 {
		t.Errorf("the phone preview is %d px wide, want 375", w)
	}
	adminScreen(t, ctx, "blocks-saved")

	// To HTML and back: the same four blocks.
	do(t, ctx, chromedp.Click(chromedp.CSS("#to-html")), chromedp.WaitVisible(chromedp.CSS("#f-html")))
	if got := eval[string](t, ctx, `document.querySelector('#f-html').value`); !strings.Contains(got, `{{ action_link "northfork" }}`) {
		t.Errorf("the HTML of the blocks: %q", got)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS("#to-blocks")), chromedp.WaitVisible(chromedp.CSS(".block-list .rich")))
	if n := eval[int](t, ctx, `document.querySelectorAll('.block-list .block').length`); n != 4 {
		t.Errorf("back from HTML: %d blocks, want 4", n)
	}

	// HTML the blocks cannot show: a warning, and the HTML as it was.
	do(t, ctx, chromedp.Click(chromedp.CSS("#to-html")), chromedp.WaitVisible(chromedp.CSS("#f-html")),
		chromedp.SetValue(chromedp.CSS("#f-html"), "<p>Hello</p>\n<blockquote>Words of the Governor</blockquote>"),
		chromedp.Click(chromedp.CSS("#to-blocks")), chromedp.WaitVisible(chromedp.CSS("#switch-warning")))
	if got := text(t, ctx, "#switch-warning"); !strings.Contains(got, "<blockquote>") || !strings.Contains(got, "nothing was changed") {
		t.Errorf("the warning: %q", got)
	}
	if got := eval[string](t, ctx, `document.querySelector('#f-html').value`); !strings.Contains(got, "Words of the Governor") ||
		!eval[bool](t, ctx, `!document.querySelector('#f-html').closest('.field').hidden`) {
		t.Errorf("after the warning the HTML is %q", got)
	}
	adminScreen(t, ctx, "blocks-html-warning")
}
