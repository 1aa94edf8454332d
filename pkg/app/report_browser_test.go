package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/dearfriend/dearfriend/pkg/admin"
	"github.com/dearfriend/dearfriend/pkg/app"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestReportInBrowser sends an alert, opens one captured email's pixel and
// follows its link as a mail program would, signs the petition from the
// email's action link in the browser, and reads the campaign's report as an
// admin: the open, the click and the signature are counted there. The
// petition, its edit form with an error, and the settings are photographed
// too, each checked for accessibility and for fitting 375 px.
func TestReportInBrowser(t *testing.T) {
	t.Parallel()
	ctx := testenv.Browser(t)
	h := startOpts(t, backends(t)[0], harnessOpts{app: []app.Option{app.WithScannerWindow(scannerWindow)}})
	base := h.app.URL()
	pet := mustPetition(t, h, "northfork", 10)

	var list store.List
	h.call("POST", "/api/v1/lists", map[string]any{"name": "River supporters"}, &list)
	for _, n := range []string{"Jane", "Ahmed", "Lin"} {
		if code := h.call("POST", "/api/v1/contacts", map[string]any{"email": strings.ToLower(n) + "@example.org", "first_name": n,
			"lists": []int64{list.ID}}, nil); code != 201 {
			t.Fatalf("create contact %s: %d", n, code)
		}
	}
	var msg store.Message
	if code := h.call("POST", "/api/v1/messages", map[string]any{"subject": "The river needs you", "from_name": "Maya", "from_email": "action@example.org",
		"html": `<p>Dear {{ .FirstName }},</p><p><a href="https://example.org/northfork-facts">Read the facts</a></p>` +
			`<p><a href="{{ action_link "northfork" }}">ADD YOUR NAME</a></p>`}, &msg); code != 201 {
		t.Fatalf("create message: %d", code)
	}
	var camp store.Campaign
	h.call("POST", "/api/v1/campaigns", map[string]any{"name": "River alert", "message_id": msg.ID, "audience": map[string]any{"lists": []int64{list.ID}}}, &camp)
	if code := h.call("POST", fmt.Sprintf("/api/v1/campaigns/%d/send", camp.ID), nil, nil); code != 202 {
		t.Fatalf("send: %d", code)
	}
	h.waitFinished(camp.ID)
	e := parseEmail(t, waitMessageTo(t, h, "jane@example.org")) // the alert, before the signature's confirmation

	// Jane signs from the email's action link.
	do(t, ctx, chromedp.Navigate(actionLink(t, h, "jane@example.org", "northfork")), chromedp.WaitVisible(chromedp.CSS("main button[type=submit]")),
		chromedp.Click(chromedp.CSS("main button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(".share")))

	// Her mail program loads the pixel and she follows the facts link, later
	// than a link scanner would: a click within seconds of delivery is
	// counted as a scanner's (app.WithScannerWindow).
	outcomes, err := h.app.Store().RecipientOutcomes(context.Background(), camp.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outcomes {
		if o.Email == "jane@example.org" && o.SentAt != nil {
			time.Sleep(time.Until(o.SentAt.Add(scannerWindow + 500*time.Millisecond)))
		}
	}
	pixel := regexp.MustCompile(`src="(http://[^"]+/t/o/[^"]+)"`).FindStringSubmatch(e.html)
	click := regexp.MustCompile(`href="(http://[^"]+/t/c/[^"]+)"`).FindStringSubmatch(e.html)
	if pixel == nil || click == nil {
		t.Fatalf("no pixel or tracked link in the email:\n%s", e.html)
	}
	for _, u := range []string{pixel[1], click[1]} {
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	const password = "correct horse battery"
	if _, err := admin.CreateUser(context.Background(), h.app.Store(), "ada@example.org", store.RoleAdmin, password); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.Navigate(base+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#f-email")),
		chromedp.SendKeys(chromedp.CSS("#f-email"), "ada@example.org"), chromedp.SendKeys(chromedp.CSS("#f-password"), password),
		chromedp.Click(chromedp.CSS("main button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("nav")))

	// Tracking writes its events in batches: reload until they are in.
	do(t, ctx, chromedp.Navigate(fmt.Sprintf("%s/admin/campaigns/%d/report", base, camp.ID)), chromedp.WaitVisible(chromedp.CSS("#outcomes")))
	countOf := `(() => { const r = [...document.querySelectorAll('tbody tr')].find(r => r.querySelector('th').textContent.startsWith(%q));
		return r ? r.querySelector('td').textContent.trim() : ''; })()`
	waitFor(t, ctx, "the report to count the open and the click", `(() => {
		if (`+fmt.Sprintf(countOf, "Clicked by people")+` === '1' && `+fmt.Sprintf(countOf, "Opened by people")+` === '1') return true;
		location.reload(); return false; })()`)
	for row, want := range map[string]string{"Delivered": "3", "Opened by people": "1", "Opened incl": "1", "Clicked by people": "1", "Took action": "1", "Bounced": "0"} {
		if got := eval[string](t, ctx, fmt.Sprintf(countOf, row)); got != want {
			t.Errorf("report row %q: %q, want %s", row, got, want)
		}
	}
	if got := eval[string](t, ctx, `[...document.querySelectorAll('table.links tbody tr')].filter(r => r.querySelector('th').textContent.includes('northfork-facts')).map(r => r.querySelector('td').textContent.trim()).join()`); got != "1" {
		t.Errorf("people who clicked the facts link: %q, want 1", got)
	}
	// The email's ADD YOUR NAME button is a link like the others: Jane, who
	// signed through it, clicked it.
	if got := eval[string](t, ctx, `[...document.querySelectorAll('table.links tbody tr')].filter(r => r.querySelector('th').textContent.trim().endsWith('/a/northfork')).map(r => r.querySelector('td').textContent.trim()).join()`); got != "1" {
		t.Errorf("people who clicked the action link: %q, want 1", got)
	}
	if got := eval[string](t, ctx, `document.querySelector('figure.chart svg title').textContent`); !strings.HasPrefix(got, "Opens, clicks and signatures") {
		t.Errorf("the activity chart's title: %q", got)
	}
	adminScreen(t, ctx, "admin-campaign-report")

	id := strconv.FormatInt(pet.ID, 10)
	do(t, ctx, chromedp.Navigate(base+"/admin/petitions"), chromedp.WaitVisible(chromedp.CSS("table")))
	if got := eval[string](t, ctx, `document.querySelector('td[data-label=Signatures]').textContent`); got != "1" {
		t.Errorf("the petitions list counts %q signatures, want 1", got)
	}
	adminScreen(t, ctx, "admin-petitions")
	do(t, ctx, chromedp.Navigate(base+"/admin/petitions/"+id), chromedp.WaitVisible(chromedp.CSS("#signatures")))
	if body := text(t, ctx, "main"); !strings.Contains(body, "River alert: 1") || !strings.Contains(body, "Jane") {
		t.Errorf("the petition page does not credit the alert with Jane's signature:\n%s", body)
	}
	adminScreen(t, ctx, "admin-petition")
	do(t, ctx, chromedp.Navigate(base+"/admin/petitions/"+id+"/edit"), chromedp.WaitVisible(chromedp.CSS("#f-goal")),
		chromedp.SetValue(chromedp.CSS("#f-slug"), "North Fork"), chromedp.Click(chromedp.CSS("main button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#f-slug-error")))
	if got := value(t, ctx, "#f-slug"); got != "North Fork" {
		t.Errorf("the slug typed was not kept: %q", got)
	}
	adminScreen(t, ctx, "admin-petition-edit-error")
	do(t, ctx, chromedp.Navigate(base+"/admin/petitions/new"), chromedp.WaitVisible(chromedp.CSS("#f-title")))
	adminScreen(t, ctx, "admin-petition-new")

	// A sign-on letter: one of its organizations approved.
	st := h.app.Store()
	letter := &store.Petition{Slug: "letter-northfork", Title: "Open letter on the North Fork", Kind: store.PetitionKindLetter, Open: true}
	if err := st.CreatePetition(context.Background(), letter); err != nil {
		t.Fatal(err)
	}
	for _, org := range []string{"River Keepers", "Trout Unlimited Riverton"} {
		if _, err := st.SignLetter(context.Background(), &store.OrganizationSignature{PetitionID: letter.ID, Organization: org,
			ContactName: "Ana Ruiz", Email: strings.ReplaceAll(org, " ", "") + "@example.org", Website: "https://example.org"}); err != nil {
			t.Fatal(err)
		}
	}
	do(t, ctx, chromedp.Navigate(fmt.Sprintf("%s/admin/petitions/%d", base, letter.ID)), chromedp.WaitVisible(chromedp.CSS("#organizations")),
		chromedp.Click(chromedp.CSS(`button[aria-label="Approve River Keepers"]`)), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := text(t, ctx, "tbody tr:first-child td[data-label=Status]"); got != "approved" {
		t.Errorf("River Keepers after approving: %q", got)
	}
	adminScreen(t, ctx, "admin-letter")

	do(t, ctx, chromedp.Navigate(base+"/admin/settings"), chromedp.WaitVisible(chromedp.CSS("#relays")))
	if body := text(t, ctx, "main"); !strings.Contains(body, "smtp://127.0.0.1:") {
		t.Errorf("the settings do not show the test's relay:\n%s", body)
	}
	adminScreen(t, ctx, "admin-settings")
	// The queue monitor opens in the admin layout, its navigation the way
	// back, and its frame lists the app's queue at 375 px as at 1280, with
	// nothing loaded from another site.
	var mu sync.Mutex
	var elsewhere []string
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok && !strings.HasPrefix(e.Request.URL, base+"/") && !strings.HasPrefix(e.Request.URL, "data:") {
			mu.Lock()
			elsewhere = append(elsewhere, e.Request.URL)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	listed := `(() => { const d = document.querySelector('iframe.queue').contentDocument;
		return !!d && !!d.body && d.body.innerText.includes(` + strconv.Quote(h.queue) + `); })()`
	do(t, ctx, chromedp.EmulateViewport(375, 800), chromedp.Navigate(base+"/admin/queue/"), chromedp.WaitVisible(chromedp.CSS("iframe.queue")))
	waitFor(t, ctx, "the queue monitor to list the queue at 375 px", listed)
	if !eval[bool](t, ctx, `!!document.querySelector('nav[aria-label=Main] a[href="/admin/"]') &&
		document.querySelector('nav[aria-label=Main] [aria-current=page]').textContent === 'Queue'`) {
		t.Error("the queue monitor is not inside the admin layout with its navigation")
	}
	adminScreen(t, ctx, "admin-queue")
	do(t, ctx, chromedp.Reload())
	waitFor(t, ctx, "the queue monitor to list the queue at 1280 px", listed)
	mu.Lock()
	defer mu.Unlock()
	if len(elsewhere) > 0 {
		t.Errorf("the queue monitor loads from other sites: %v", elsewhere)
	}
}
