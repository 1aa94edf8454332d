package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dearfriend/dearfriend/pkg/admin"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestOrganizerInBrowser walks the whole campaign cycle in a real browser,
// as an organizer: sign in, import a CSV with bad rows and read the report,
// build a segment (a mistake first, shown at its row) and count it, write an
// alert (a merge-tag mistake first, shown at its line) and preview it at
// phone width, send a test, then send the alert to the segment through the
// wizard, one step by the keyboard alone, typing the number of recipients to
// confirm, and watch the progress to the end. The test then opens the
// captured email's pixel and link, and the campaign's report counts them. A
// viewer sees no send button and is refused the send. Each step passes the
// basic accessibility checks, does not scroll sideways at 375 px, and is
// photographed at 375 and 1280 px (artifacts/organizer-*.png).
func TestOrganizerInBrowser(t *testing.T) {
	t.Parallel()
	ctx := testenv.Browser(t)
	// Three recipients are above a threshold of 2: the review asks to type 3.
	h := start(t, backends(t)[0], map[string]string{"DEARFRIEND_CONFIRM_ABOVE": "2"})
	base := h.app.URL()
	const password = "correct horse battery"
	for _, u := range []struct{ email, role string }{{"maya@example.org", store.RoleOrganizer}, {"vic@example.org", store.RoleViewer}} {
		if _, err := admin.CreateUser(context.Background(), h.app.Store(), u.email, u.role, password); err != nil {
			t.Fatal(err)
		}
	}
	var list store.List
	if code := h.call("POST", "/api/v1/lists", map[string]any{"name": "Volunteers"}, &list); code != 201 {
		t.Fatalf("create list: %d", code)
	}
	csvPath := filepath.Join(t.TempDir(), "volunteers.csv")
	csv := "email,first_name,region\namara@example.org,Amara,NY\nlin@example.org,Lin,NY\njo@example.org,Jo,NY\n" +
		"sam@example.org,Sam,CA\nnot an address,Bad,NY\n,Empty,NY\n"
	if err := os.WriteFile(csvPath, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}

	// Sign in.
	do(t, ctx, chromedp.Navigate(base+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#f-email")),
		chromedp.SendKeys(chromedp.CSS("#f-email"), "maya@example.org"), chromedp.SendKeys(chromedp.CSS("#f-password"), password),
		chromedp.Click(chromedp.CSS("main button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("nav[aria-label=Main]")))

	// Import: the progress page reloads itself until the report.
	do(t, ctx, chromedp.Navigate(base+"/admin/imports/new"), chromedp.WaitVisible(chromedp.CSS("#f-list")),
		chromedp.SetValue(chromedp.CSS("#f-list"), strconv.FormatInt(list.ID, 10)),
		chromedp.SetUploadFiles(chromedp.CSS("#f-file"), []string{csvPath}))
	adminScreen(t, ctx, "organizer-import")
	do(t, ctx, chromedp.Click(chromedp.CSS("main button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#rows-rejected")))
	for sel, want := range map[string]string{"#rows-done": "6", "#rows-imported": "4", "#rows-rejected": "2"} {
		if got := text(t, ctx, sel); got != want {
			t.Errorf("import report %s: %q, want %s", sel, got, want)
		}
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('table.rejects tbody tr').length`); n != 2 {
		t.Errorf("the report lists %d rejected rows, want 2", n)
	}
	rejects, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(document.querySelector('a[href$="rejects.csv"]').href).then(r => r.text())`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if want := "line,reason,row\n6,"; !strings.HasPrefix(rejects, want) || strings.Count(rejects, "\n") != 3 || !strings.Contains(rejects, ",Empty,NY") {
		t.Errorf("rejects.csv:\n%s\nwant a header and lines 6 and 7", rejects)
	}
	adminScreen(t, ctx, "organizer-import-report")

	// Segment: a date that is not one is refused at its row, what was typed kept.
	// The new builder's first rule is a region rule; made a date rule, the
	// script draws its inputs in place, then a date that is not one is refused.
	idle := `document.readyState === 'complete' && !document.querySelector('[data-builder][aria-busy]')`
	do(t, ctx, chromedp.Navigate(base+"/admin/segments/new"), chromedp.WaitVisible(chromedp.CSS("#f-kind_r-0")),
		chromedp.SetValue(chromedp.CSS("#f-kind_r-0"), "field:created_at")) // SetValue fires change: a redraw
	waitFor(t, ctx, "the date rule's inputs", idle+` && !!document.querySelector('#f-op_r-0 option[value=gt]')`)
	do(t, ctx, chromedp.SetValue(chromedp.CSS("#f-op_r-0"), "gt"))
	waitFor(t, ctx, "the redraw", idle)
	do(t, ctx, chromedp.SetValue(chromedp.CSS("#f-value_r-0"), "last tuesday"),
		chromedp.Click(chromedp.CSS(".buttons button[value=count]")), chromedp.WaitVisible(chromedp.CSS("#f-value_r-0-error")))
	if got := value(t, ctx, "#f-value_r-0"); got != "last tuesday" {
		t.Errorf("the value typed was not kept: %q", got)
	}
	adminScreen(t, ctx, "organizer-segment-error")
	do(t, ctx, chromedp.SetValue(chromedp.CSS("#f-kind_r-0"), "field:region"))
	waitFor(t, ctx, "the region rule's inputs", idle+` && !!document.querySelector('#f-op_r-0 option[value=equals]')`)
	do(t, ctx, chromedp.SetValue(chromedp.CSS("#f-op_r-0"), "equals"))
	waitFor(t, ctx, "the redraw", idle)
	do(t, ctx, chromedp.SetValue(chromedp.CSS("#f-value_r-0"), "NY"),
		chromedp.Click(chromedp.CSS(".buttons button[value=count]")), chromedp.WaitVisible(chromedp.CSS("#segment-count")))
	if got := text(t, ctx, "#segment-count"); got != "3" {
		t.Errorf("segment region = NY counts %q, want 3", got)
	}
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#f-name"), "New York volunteers"),
		// The count is on the page before saving too: wait for the saved segment's page.
		chromedp.Evaluate[chromedp.Void](`document.body.dataset.before = "save"`),
		chromedp.Click(chromedp.CSS("button[value=save]")), chromedp.WaitVisible(chromedp.CSS("body:not([data-before]) #segment-count")))
	if got := text(t, ctx, "h1"); got != "New York volunteers" {
		t.Errorf("after saving the segment: %q", got)
	}
	segmentID := strings.TrimPrefix(eval[string](t, ctx, `location.pathname`), "/admin/segments/")
	adminScreen(t, ctx, "organizer-segment")

	// Message: a merge field that does not exist is shown at its line.
	do(t, ctx, chromedp.Navigate(base+"/admin/messages/new"), chromedp.WaitVisible(chromedp.CSS("#f-subject")),
		chromedp.Click(chromedp.CSS("#to-html")), chromedp.WaitVisible(chromedp.CSS("#f-html")),
		chromedp.SendKeys(chromedp.CSS("#f-subject"), "Tell the Governor: protect the North Fork"),
		chromedp.SetValue(chromedp.CSS("#f-from_name"), "Maya"), chromedp.SetValue(chromedp.CSS("#f-from_email"), "action@example.org"),
		chromedp.SetValue(chromedp.CSS("#f-html"), "<p>Dear {{ .FirstName }},</p>\n<p>{{ .Nickname }}</p>"),
		chromedp.Click(chromedp.CSS("form.compose button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#f-html-error")))
	if got := text(t, ctx, "#f-html-error"); !strings.HasPrefix(got, "Line 2, column") || !strings.Contains(got, "Nickname") {
		t.Errorf("HTML error %q, want it at line 2 naming the field", got)
	}
	if got := text(t, ctx, ".error-line"); !strings.Contains(got, "{{ .Nickname }}") {
		t.Errorf("the line shown with the error: %q", got)
	}
	adminScreen(t, ctx, "organizer-message-error")
	do(t, ctx, chromedp.SetValue(chromedp.CSS("#f-html"), `<p>Dear {{ .FirstName | default "friend" }},</p>`+"\n"+
		`<p>The permit hearing is Thursday. <a href="https://example.org/northfork">Tell the Governor</a>.</p>`),
		chromedp.Click(chromedp.CSS("form.compose button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("iframe.phone")))
	messageID := strings.TrimPrefix(eval[string](t, ctx, `location.pathname`), "/admin/messages/")
	waitFor(t, ctx, "the phone preview", `(() => { const d = document.querySelector('iframe.phone').contentDocument;
		return !!d && !!d.body && d.body.textContent.includes('Dear friend'); })()`)
	if w := eval[int](t, ctx, `document.querySelector('iframe.phone').getBoundingClientRect().width`); w < 370 || w > 380 {
		t.Errorf("the phone preview is %d px wide, want 375", w)
	}
	adminScreen(t, ctx, "organizer-message-preview")
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#f-emails"), "maya@example.org"),
		chromedp.Submit(chromedp.CSS("#f-emails")), chromedp.WaitVisible(chromedp.CSS(".notice")))
	waitMessageTo(t, h, "maya@example.org")

	// Wizard: the segment ticked with the space bar counts at once (the
	// script recounts on each change; the segment's Count button above is
	// the same without it), and Enter on the focused button goes on.
	do(t, ctx, chromedp.Navigate(base+"/admin/campaigns/new?message="+messageID), chromedp.WaitVisible(chromedp.CSS("#f-name")),
		chromedp.SendKeys(chromedp.CSS("#f-name"), "North Fork alert"),
		chromedp.Focus(chromedp.CSS("input[name=segments][value='"+segmentID+"']")), chromedp.KeyEvent(" "))
	waitFor(t, ctx, "the live audience count", `(() => { const n = document.querySelector('#audience-count'); return !!n && n.textContent === '3'; })()`)
	if got := eval[string](t, ctx, `location.pathname`); got != "/admin/campaigns/new" {
		t.Errorf("the live count navigated to %s", got)
	}
	adminScreen(t, ctx, "organizer-campaign-audience")
	do(t, ctx, chromedp.Focus(chromedp.CSS("button[value=next]")), chromedp.KeyEvent("\r"), chromedp.WaitVisible(chromedp.CSS("#recipients")))
	if got := text(t, ctx, "#recipients"); got != "3" {
		t.Errorf("review states %q recipients, want 3", got)
	}
	campaignID := strings.TrimPrefix(eval[string](t, ctx, `location.pathname`), "/admin/campaigns/")
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#f-confirm"), "30"), chromedp.Click(chromedp.CSS("#send")),
		chromedp.WaitVisible(chromedp.CSS("#f-confirm-error")))
	if got := value(t, ctx, "#f-confirm"); got != "30" {
		t.Errorf("the number typed was not kept: %q", got)
	}
	adminScreen(t, ctx, "organizer-campaign-review")
	do(t, ctx, chromedp.SetValue(chromedp.CSS("#f-confirm"), "3"), chromedp.Click(chromedp.CSS("#send")),
		chromedp.WaitVisible(chromedp.CSS("#send-progress")))
	waitFor(t, ctx, "the campaign to be sent", `document.querySelector('#campaign-status') && document.querySelector('#campaign-status').textContent === 'sent'`)
	if got := text(t, ctx, "#sent") + " of " + text(t, ctx, "#total"); got != "3 of 3" {
		t.Errorf("progress says %s, want 3 of 3", got)
	}
	adminScreen(t, ctx, "organizer-campaign-progress")

	// The recipient opens the email and follows its link.
	e := parseEmail(t, waitMessageTo(t, h, "amara@example.org"))
	pixel := regexp.MustCompile(`src="(http://[^"]+/t/o/[^"]+)"`).FindStringSubmatch(e.html)
	click := regexp.MustCompile(`href="(http://[^"]+/t/c/[^"]+)"`).FindStringSubmatch(e.html)
	if pixel == nil || click == nil {
		t.Fatalf("no pixel (%v) or tracked link (%v) in the email:\n%s", pixel, click, e.html)
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
	do(t, ctx, chromedp.Navigate(base+"/admin/campaigns/"+campaignID+"/report"), chromedp.WaitVisible(chromedp.CSS("h1")))
	if eval[bool](t, ctx, `!!document.querySelector('#outcomes')`) {
		countOf := `(() => { const r = [...document.querySelectorAll('tbody tr')].find(r => r.querySelector('th').textContent.startsWith(%q));
			return r ? r.querySelector('td').textContent.trim() : ''; })()`
		waitFor(t, ctx, "the report to count the open and the click", `(() => {
			if (`+fmt.Sprintf(countOf, "Opened incl")+` === '1' && [...document.querySelectorAll('table.links tbody tr')].some(r => r.querySelector('th').textContent.includes('example.org/northfork') && r.querySelector('td:last-child').textContent.trim() !== '0')) return true;
			location.reload(); return false; })()`)
		adminScreen(t, ctx, "organizer-campaign-report")
	} else {
		t.Log("no campaign report screen in this build: opens and clicks not checked there")
	}

	// A viewer reads the review of a draft but has no send button, and the
	// send itself is refused.
	var draft store.Campaign
	if code := h.call("POST", "/api/v1/campaigns", map[string]any{"name": "draft", "message_id": mustAtoi(t, messageID),
		"audience": map[string]any{"lists": []int64{list.ID}}}, &draft); code != 201 {
		t.Fatalf("create draft: %d", code)
	}
	viewer := signedInClient(t, base, "vic@example.org", password)
	review := getPage(t, viewer, base+fmt.Sprintf("/admin/campaigns/%d", draft.ID))
	if review.status != 200 || strings.Contains(review.body, `id="send"`) || !strings.Contains(review.body, `id="recipients"`) {
		t.Errorf("viewer's review: %d, send button shown: %v", review.status, strings.Contains(review.body, `id="send"`))
	}
	resp, err := viewer.PostForm(base+fmt.Sprintf("/admin/campaigns/%d/send", draft.ID), url.Values{"csrf": {csrfOf(t, review.body)}, "when": {"now"}, "confirm": {"4"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer's send: %d, want 403", resp.StatusCode)
	}
	var after store.Campaign
	h.call("GET", fmt.Sprintf("/api/v1/campaigns/%d", draft.ID), nil, &after)
	if after.Status != store.CampaignDraft {
		t.Errorf("after a viewer's send the campaign is %s, want still draft", after.Status)
	}
}

// adminScreen checks the page for accessibility problems and sideways
// scrolling at 375 px, and photographs it at 375 and 1280 px.
func adminScreen(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	checkAccessible(t, ctx, name)
	testenv.Screenshot(t, ctx, name, 375)
	if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 375 {
		t.Errorf("%s is %d px wide at a 375 px screen: it scrolls sideways", name, w)
	}
	testenv.Screenshot(t, ctx, name, 1280)
}

// waitFor evaluates js until it is true, for at most a minute.
func waitFor(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s (last error: %v)", what, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("%q is not an id", s)
	}
	return n
}

// signedInClient signs in to the admin UI as a browser would, without one.
func signedInClient(t *testing.T, base, email, password string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	token := csrfOf(t, getPage(t, c, base+"/admin/signin").body)
	resp, err := c.PostForm(base+"/admin/signin", url.Values{"csrf": {token}, "email": {email}, "password": {password}, "next": {"/admin/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/admin/" {
		t.Fatalf("sign in as %s ended at %s", email, resp.Request.URL)
	}
	return c
}

type fetched struct {
	status int
	body   string
}

func getPage(t *testing.T, c *http.Client, u string) fetched {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		if problems := idRefProblems(string(b)); len(problems) > 0 {
			t.Errorf("GET %s: %s", u, strings.Join(problems, "; "))
		}
	}
	return fetched{resp.StatusCode, string(b)}
}
