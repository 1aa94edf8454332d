package app_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dearfriend/dearfriend/pkg/admin"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestDeskInBrowser checks in Chromium what the organizer's desk does with
// scripts: a new message starts from the branding's default sender, the
// subject's merge-tag picker inserts "First name, or Friend" at the cursor
// (the tags as text hidden then); the import form, refused, keeps the file
// chosen and imports it when sent again without choosing it; and the queue
// monitor's page fits 375 px with the navigation back. Each page passes
// the accessibility checks (artifacts/desk-*.png).
func TestDeskInBrowser(t *testing.T) {
	t.Parallel()
	ctx := testenv.Browser(t)
	h := start(t, backends(t)[0])
	base, st := h.app.URL(), h.app.Store()
	const password = "correct horse battery"
	if _, err := admin.CreateUser(context.Background(), st, "ada@example.org", store.RoleAdmin, password); err != nil {
		t.Fatal(err)
	}
	c := signedInClient(t, base, "ada@example.org", password)
	token := csrfOf(t, getPage(t, c, base+"/admin/branding").body)
	if p := postMultipart(t, c, base+"/admin/branding", brandingFields(token)); p.status != 200 {
		t.Fatalf("save the branding: %d", p.status)
	}
	var list store.List
	h.call("POST", "/api/v1/lists", map[string]any{"name": "Volunteers"}, &list)

	do(t, ctx, chromedp.Navigate(base+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#f-email")),
		chromedp.SendKeys(chromedp.CSS("#f-email"), "ada@example.org"), chromedp.SendKeys(chromedp.CSS("#f-password"), password),
		chromedp.Click(chromedp.CSS("main button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("nav[aria-label=Main]")))

	// The sender, and the subject's picker: a tag at the end, then one at
	// the start of what was typed.
	do(t, ctx, chromedp.Navigate(base+"/admin/messages/new"), chromedp.WaitVisible(chromedp.CSS("#f-subject-merge")),
		chromedp.SendKeys(chromedp.CSS("#f-subject"), "Dear "),
		chromedp.SetValue(chromedp.CSS("#f-subject-merge"), `{{ .FirstName | default "Friend" }}`),
		chromedp.Click(chromedp.CSS(`.merge-picker[data-for=f-subject] button`)),
		chromedp.KeyEvent(": act now"))
	if got := value(t, ctx, "#f-from_name") + " <" + value(t, ctx, "#f-from_email") + ">"; got != "Lee Park <lee@river.example.org>" {
		t.Errorf("a new message's sender: %q", got)
	}
	if got := value(t, ctx, "#f-subject"); got != `Dear {{ .FirstName | default "Friend" }}: act now` {
		t.Errorf("the subject after the picker and typing on: %q", got)
	}
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#f-preheader"), " needs you"))
	eval[bool](t, ctx, `(document.getElementById('f-preheader').setSelectionRange(0, 0), true)`)
	do(t, ctx, chromedp.SetValue(chromedp.CSS("#f-preheader-merge"), `{{ .OrgName }}`),
		chromedp.Click(chromedp.CSS(`.merge-picker[data-for=f-preheader] button`)))
	if got := value(t, ctx, "#f-preheader"); got != `{{ .OrgName }} needs you` {
		t.Errorf("the preheader after inserting at its start: %q", got)
	}
	if !eval[bool](t, ctx, `Array.from(document.querySelectorAll('.merge-text')).every(p => p.getClientRects().length === 0)`) {
		t.Error("the merge tags as text still show with the picker")
	}
	adminScreen(t, ctx, "desk-message-subject")

	// The import form refused (no list chosen): the file stays chosen.
	csvPath := filepath.Join(t.TempDir(), "walkers.csv")
	if err := os.WriteFile(csvPath, []byte("email,first_name,state\njane@example.org,Jos\xe9,New York\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.Navigate(base+"/admin/imports/new"), chromedp.WaitVisible(chromedp.CSS("#f-file")),
		chromedp.SetUploadFiles(chromedp.CSS("#f-file"), []string{csvPath}),
		chromedp.Click(chromedp.CSS("main button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#f-list-error")))
	if got := text(t, ctx, "#f-file-kept"); got != "Using the uploaded file walkers.csv (choose another to replace it)." {
		t.Errorf("the refused form says of the file: %q", got)
	}
	adminScreen(t, ctx, "desk-import-kept")
	do(t, ctx, chromedp.SetValue(chromedp.CSS("#f-list"), strconv.FormatInt(list.ID, 10)),
		chromedp.Click(chromedp.CSS("main button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#rows-imported")))
	if got := text(t, ctx, "#region-changes tbody"); got != "New York NY 1" {
		t.Errorf("the report's regions: %q", got)
	}
	if got := text(t, ctx, "#import-encoding"); got != "windows-1252" {
		t.Errorf("the kept file was read as %q", got)
	}

	// The queue monitor at 375 px: the page does not scroll sideways (the
	// monitor scrolls inside its frame), and the navigation leads back.
	do(t, ctx, chromedp.EmulateViewport(375, 800), chromedp.Navigate(base+"/admin/queue/"), chromedp.WaitVisible(chromedp.CSS("iframe.queue")))
	waitFor(t, ctx, "the queue monitor to draw in its frame", `(() => { const d = document.querySelector('iframe.queue').contentDocument;
		const root = d && d.getElementById('root'); return !!root && root.innerText.includes('Queues'); })()`)
	if got := eval[string](t, ctx, `document.documentElement.scrollWidth + ' ' + window.innerWidth + ' ' +
		Math.ceil(document.querySelector('iframe.queue').getBoundingClientRect().right)`); !fits(got) {
		t.Errorf("the queue page at 375 px: scroll width, viewport and frame's right edge %s: it scrolls sideways", got)
	}
	if !eval[bool](t, ctx, `(() => { const a = document.querySelector('nav[aria-label=Main] a[href="/admin/"]');
		return !!a && a.getClientRects().length > 0; })()`) {
		t.Error("no visible way back to the admin from the queue monitor at 375 px")
	}
	adminScreen(t, ctx, "desk-queue")
}

// fits reads "scrollWidth viewport right" and reports whether neither the
// page nor the frame is wider than the viewport.
func fits(s string) bool {
	f := strings.Fields(s)
	if len(f) != 3 {
		return false
	}
	n := make([]int, 3)
	for i, x := range f {
		v, err := strconv.Atoi(x)
		if err != nil {
			return false
		}
		n[i] = v
	}
	return n[0] <= n[1] && n[2] <= n[1]
}
