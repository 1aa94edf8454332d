package app_test

import (
	"context"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/dearfriend/dearfriend/pkg/admin"
	"github.com/dearfriend/dearfriend/pkg/app"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestOrganizerWalk is the whole job of a new organizer, in a real
// browser, through the admin UI alone: no API call, no HTML written, and
// nothing written to the database by the test but her account, made as
// at setup (it reads some rows to check what the pages say). She
// brands the organization and adds a photo to the image library; makes a
// list and imports into it a spreadsheet saved by Excel on Windows
// (Windows-1252: "José Núñez"), with states written every way, a bad
// address and a repeated row, both reported by line; makes the petition;
// builds "in NY, NJ or CT who have not signed it", its count live; writes
// the petition alert from blocks (heading, "Dear {First name, or
// Friend},", bold and a link, a bulleted list, a library image with alt
// text, the ADD YOUR NAME button to the petition, a divider, a signature,
// share links); reads the phone preview, sends a test, schedules the
// campaign, takes it back and sends it now. A recipient opens the
// delivered email's button, signs in one click, reloads the thank-you page
// and goes back; the report counts the button's click and the signature.
// Then a sign-on letter: ten organizations sign on, each seeing the
// organizer's thank-you text and the count right after signing, and the
// organizer approves them. Every page, admin and public, passes axe-core
// (no serious or critical violation) and the basic checks, fits 375 px,
// and is photographed at 375 and 1280 px (artifacts/walk-*.png).
func TestOrganizerWalk(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			// The two walks, each with its own App and browser tab, go
			// side by side: one after the other, they were the longest
			// path through make test.
			t.Parallel()
			w := newWalk(t, b)
			w.signIn()
			w.brand()
			list := w.makeList()
			w.importPeople(list)
			petition := w.makePetition()
			w.signAsStranger()
			segment := w.buildSegment(petition)
			message := w.writeAlert()
			w.previewAndTest(message)
			campaign := w.scheduleThenSend(message, segment)
			w.followAsRecipient(campaign)
			w.readReport(campaign)
			w.signOnLetter()
		})
	}
}

// walk is one organizer's browser on one running App.
type walk struct {
	t    *testing.T
	h    *harness
	ctx  context.Context
	base string
	dir  string // the organizer's files: the spreadsheet, the logo, a photo
	// prefix starts the names of this backend's screenshots.
	prefix string
}

const walkPassword = "correct horse battery"

// The organizer, and the recipient who signs.
const (
	organizerEmail = "maya@example.org"
	recipientEmail = "jose@example.org"
)

func newWalk(t *testing.T, b backend) *walk {
	// Some fifty pages, each drawn at two widths and checked by axe: two
	// minutes on a quiet machine, more while CI runs every suite at once.
	ctx := testenv.BrowserWithin(t, 10*time.Minute)
	// Twelve people sign from this one machine within a minute: the
	// per-address limit, meant for bots, is off. A click within a second
	// of delivery is a link scanner's (app.WithScannerWindow).
	h := startOpts(t, b, harnessOpts{app: []app.Option{app.WithScannerWindow(scannerWindow)}},
		map[string]string{"DEARFRIEND_SIGN_RATE": "0"})
	// The first account is made at setup (dearfriend user create); everything
	// after is the organizer's, in the browser.
	if _, err := admin.CreateUser(context.Background(), h.app.Store(), organizerEmail, store.RoleAdmin, walkPassword); err != nil {
		t.Fatal(err)
	}
	prefix := "walk"
	if b.redisURL != "" {
		prefix = "walk-pg"
	}
	return &walk{t: t, h: h, ctx: ctx, base: h.app.URL(), dir: t.TempDir(), prefix: prefix}
}

// screen checks and photographs the page open in the browser.
func (w *walk) screen(name string) {
	w.t.Helper()
	adminScreen(w.t, w.ctx, w.prefix+"-"+name)
}

func (w *walk) do(steps ...chromedp.Action[chromedp.Void]) {
	w.t.Helper()
	do(w.t, w.ctx, steps...)
}

// open goes to path and waits for sel.
func (w *walk) open(path, sel string) {
	w.t.Helper()
	w.do(chromedp.Navigate(w.base+path), chromedp.WaitVisible(chromedp.CSS(sel)))
}

// submit presses button and waits for the page that answers to show
// ready (the page pressed is marked, so its own ready does not count).
func (w *walk) submit(button, ready string) {
	w.t.Helper()
	w.do(chromedp.Evaluate[chromedp.Void](`document.body.dataset.before = "submit"`),
		chromedp.Click(chromedp.CSS(button)), chromedp.WaitVisible(chromedp.CSS("body:not([data-before]) "+ready)))
}

func (w *walk) file(name string, data []byte) string {
	w.t.Helper()
	path := filepath.Join(w.dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		w.t.Fatal(err)
	}
	return path
}

func (w *walk) signIn() {
	w.t.Helper()
	w.open("/admin/", "#f-email")
	w.screen("signin")
	w.do(chromedp.SendKeys(chromedp.CSS("#f-email"), organizerEmail), chromedp.SendKeys(chromedp.CSS("#f-password"), walkPassword))
	w.submit("main button[type=submit]", "nav[aria-label=Main]")
	w.screen("dashboard")
}

// brand saves the organization's look, with a logo, and adds a photo to
// the image library for the alert.
func (w *walk) brand() {
	t := w.t
	t.Helper()
	logo := w.file("logo.png", pngLogo(t, 180, 48, color.RGBA{32, 58, 92, 255}))
	photo := w.file("river.png", pngLogo(t, 480, 240, color.RGBA{90, 140, 170, 255}))
	w.open("/admin/branding", "#f-org_name")
	w.do(chromedp.SetValue(chromedp.CSS("#f-org_name"), "Northfork River Alliance"),
		chromedp.SetValue(chromedp.CSS("#f-primary_color"), "#1d3b2a"),
		chromedp.SetValue(chromedp.CSS("#f-accent_color"), "#7a1f5c"),
		chromedp.SetValue(chromedp.CSS("#f-footer_text"), "Paid for by the Northfork River Alliance"),
		chromedp.SetValue(chromedp.CSS("#f-postal_address"), "12 Mill Street, Riverton, NY 12345"),
		chromedp.SetValue(chromedp.CSS("#f-from_name"), "Maya Ortiz, Northfork River Alliance"),
		chromedp.SetValue(chromedp.CSS("#f-from_email"), "action@example.org"),
		chromedp.SetUploadFiles(chromedp.CSS("#f-logo"), []string{logo}))
	w.submit("main form button[type=submit]", ".notice")
	waitFor(t, w.ctx, "the header's logo", `(() => { const i = document.querySelector('header .logo'); return !!i && i.complete && i.naturalWidth === 180; })()`)
	w.screen("branding")

	w.open("/admin/media", "#f-file")
	w.do(chromedp.SetUploadFiles(chromedp.CSS("#f-file"), []string{photo}))
	w.submit("main form button[type=submit]", ".notice")
	if n := eval[int](t, w.ctx, `document.querySelectorAll('.media li').length`); n != 2 {
		t.Errorf("the image library lists %d images, want the logo and the photo", n)
	}
	w.screen("images")
}

// makeList creates the list on the lists screen and returns its id.
func (w *walk) makeList() string {
	t := w.t
	t.Helper()
	w.open("/admin/lists", "#f-name")
	w.do(chromedp.SendKeys(chromedp.CSS("#f-name"), "Tri-state supporters"),
		chromedp.SendKeys(chromedp.CSS("#f-description"), "From the spring petition drive"))
	w.submit(`main form[action="/admin/lists"] button[type=submit]`, "table")
	id := eval[string](t, w.ctx, `(() => { const r = [...document.querySelectorAll('tbody tr')].find(r => r.querySelector('th').textContent === 'Tri-state supporters');
		return r ? r.querySelector('td[data-label=Id]').textContent.trim() : ''; })()`)
	if id == "" {
		t.Fatalf("the new list is not listed:\n%s", text(t, w.ctx, "main"))
	}
	w.screen("lists")
	return id
}

// latin1 encodes s, whose letters are all in Latin-1, one byte a letter:
// what Excel on Windows saves as "CSV".
func latin1(t *testing.T, s string) []byte {
	t.Helper()
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			t.Fatalf("%q is not Latin-1", r)
		}
		out = append(out, byte(r))
	}
	return out
}

// The spreadsheet: the states are written every way; line 8 is not an
// address and line 9 repeats line 4. In NY, NJ or CT: José, Ana, Ben,
// Cara and Fay; Fay signs the petition before the alert.
const walkCSV = "email,first_name,last_name,region\r\n" +
	"jose@example.org,José,Núñez,New York\r\n" + // line 2
	"ana@example.org,Ana,Lopez,ny\r\n" +
	"ben@example.org,Ben,Kim,NJ\r\n" +
	"cara@example.org,Cara,Diaz,Connecticut\r\n" +
	"dan@example.org,Dan,Wu,California\r\n" +
	"eve@example.org,Eve,Ng,Texas\r\n" +
	"eve at example.org,Eve,Ng,Texas\r\n" + // line 8
	"ben@example.org,Ben,Kim,NJ\r\n" + // line 9
	"fay@example.org,Fay,Orr,New Jersey\r\n"

func (w *walk) importPeople(listID string) {
	t := w.t
	t.Helper()
	csv := w.file("supporters.csv", latin1(t, walkCSV))
	w.open("/admin/imports/new", "#f-list")
	w.do(chromedp.SetValue(chromedp.CSS("#f-list"), listID), chromedp.SetUploadFiles(chromedp.CSS("#f-file"), []string{csv}))
	w.screen("import")
	w.submit("main button[type=submit]", "#rows-rejected")
	for sel, want := range map[string]string{"#rows-done": "9", "#rows-imported": "7", "#rows-rejected": "2"} {
		if got := text(t, w.ctx, sel); got != want {
			t.Errorf("import report %s: %q, want %s", sel, got, want)
		}
	}
	if got := text(t, w.ctx, "#import-encoding"); !strings.Contains(strings.ToLower(got), "1252") {
		t.Errorf("the report says the file was read as %q, want Windows-1252", got)
	}
	rejects := eval[[]string](t, w.ctx, `[...document.querySelectorAll('table.rejects tbody tr')].map(r => r.querySelector('th').textContent.trim() + ': ' + r.querySelector('td').textContent.trim())`)
	if len(rejects) != 2 || !strings.HasPrefix(rejects[0], "8: ") || !strings.HasPrefix(rejects[1], "9: ") || !strings.Contains(rejects[1], "repeats line 4") {
		t.Errorf("rejected rows: %q, want line 8 (the address) and line 9 (repeats line 4)", rejects)
	}
	if got := text(t, w.ctx, "#regions-normalized"); got == "" || got == "0" {
		t.Errorf("the report names no region written as a code: %q", got)
	}
	w.screen("import-report")

	// The Latin-1 name arrives whole, and the states as codes.
	c, err := w.h.app.Store().ContactByEmail(context.Background(), recipientEmail)
	if err != nil {
		t.Fatal(err)
	}
	if c.FirstName != "José" || c.LastName != "Núñez" || c.Region != "NY" {
		t.Errorf("José's row arrived as %q %q, region %q", c.FirstName, c.LastName, c.Region)
	}
	w.open("/admin/contacts?q=jose", "main table")
	if got := text(t, w.ctx, "main table tbody"); !strings.Contains(got, "José") || !strings.Contains(got, "Núñez") {
		t.Errorf("the contacts screen shows %q", got)
	}
	w.screen("contacts")
}

// makePetition creates the petition the alert asks people to sign and
// returns its id.
func (w *walk) makePetition() string {
	t := w.t
	t.Helper()
	w.open("/admin/petitions/new", "#f-title")
	w.do(chromedp.SendKeys(chromedp.CSS("#f-title"), "Protect the North Fork"),
		chromedp.SendKeys(chromedp.CSS("#f-slug"), "northfork"),
		chromedp.SendKeys(chromedp.CSS("#f-target"), "Governor Reyes"),
		chromedp.SendKeys(chromedp.CSS("#f-petition_text"), "Deny the permit for the North Fork quarry."),
		chromedp.SetValue(chromedp.CSS("#f-goal"), "1000"),
		chromedp.SendKeys(chromedp.CSS("#f-thank_you_text"), "Thank you! The hearing is Thursday."))
	w.screen("petition-new")
	w.submit("main button[type=submit]", "h1")
	id := strings.TrimPrefix(eval[string](t, w.ctx, `location.pathname`), "/admin/petitions/")
	if _, err := strconv.Atoi(id); err != nil {
		t.Fatalf("after saving the petition the browser is at %s:\n%s", id, text(t, w.ctx, "main"))
	}
	w.screen("petition")
	return id
}

// signAsStranger: Fay, of New Jersey, finds the petition and signs before
// any alert, so the alert's segment leaves her out.
func (w *walk) signAsStranger() {
	t := w.t
	t.Helper()
	w.open("/a/northfork", "#email")
	w.screen("public-petition")
	w.do(chromedp.SendKeys(chromedp.CSS("#email"), "fay@example.org"), chromedp.SendKeys(chromedp.CSS("#first_name"), "Fay"),
		chromedp.SendKeys(chromedp.CSS("#last_name"), "Orr"))
	w.submit("main button[type=submit]", ".share")
	if got := text(t, w.ctx, "h1"); got != "Thank you, Fay!" {
		t.Errorf("after Fay signs: %q", got)
	}
}

// buildSegment builds "in NY, NJ or CT who have not signed the petition"
// and returns the saved segment's id.
func (w *walk) buildSegment(petitionID string) string {
	t := w.t
	t.Helper()
	idle := `document.readyState === 'complete' && !document.querySelector('[data-builder][aria-busy]')`
	w.open("/admin/segments/new", "#f-kind_r-0")
	w.do(chromedp.SetValue(chromedp.CSS("#f-kind_r-0"), "field:region"))
	waitFor(t, w.ctx, "the region rule", idle+` && !!document.querySelector('#f-op_r-0 option[value=in]')`)
	w.do(chromedp.SetValue(chromedp.CSS("#f-op_r-0"), "in"))
	waitFor(t, w.ctx, "the values of the region rule", idle+` && !!document.querySelector('#f-value_r-0')`)
	w.do(chromedp.SendKeys(chromedp.CSS("#f-value_r-0"), "New York, NJ, CT"))
	count := func(want string) string {
		return `(() => { const n = document.querySelector('#segment-count'); return !!n && n.textContent === '` + want + `'; })()`
	}
	// Five of the spreadsheet live in the three states.
	waitFor(t, w.ctx, "the live count of the region rule", idle+" && "+count("5"))
	w.do(chromedp.Click(chromedp.CSS("#add-r")))
	waitFor(t, w.ctx, "a second rule", idle+` && !!document.querySelector('#f-kind_r-1')`)
	w.do(chromedp.SetValue(chromedp.CSS("#f-kind_r-1"), "petition"))
	waitFor(t, w.ctx, "the petition rule", idle+` && !!document.querySelector('#f-petition_r-1')`)
	w.do(chromedp.SetValue(chromedp.CSS("#f-signed_r-1"), "no"), chromedp.SetValue(chromedp.CSS("#f-petition_r-1"), petitionID))
	// Fay signed: four.
	waitFor(t, w.ctx, "the live count of both rules", idle+" && "+count("4"))
	w.screen("segment-builder")
	w.do(chromedp.SendKeys(chromedp.CSS("#f-name"), "Tri-state, not signed the North Fork"))
	w.submit("button[value=save]", "#segment-count")
	if got := text(t, w.ctx, "h1"); got != "Tri-state, not signed the North Fork" {
		t.Errorf("after saving the segment: %q", got)
	}
	if got := text(t, w.ctx, "#segment-count"); got != "4" {
		t.Errorf("the saved segment counts %q, want 4", got)
	}
	w.screen("segment")
	return strings.TrimPrefix(eval[string](t, w.ctx, `location.pathname`), "/admin/segments/")
}

// answerPrompts answers each prompt the page opens with the next of
// answers, as a person typing into the dialog.
func (w *walk) answerPrompts(answers ...string) {
	t := w.t
	var mu sync.Mutex
	opening := chromedp.Events(w.ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range opening {
			if err != nil {
				return
			}
			mu.Lock()
			answer := ""
			if len(answers) > 0 {
				answer, answers = answers[0], answers[1:]
			}
			mu.Unlock()
			if ev.Type != page.DialogTypePrompt {
				t.Errorf("an unexpected %s: %q", ev.Type, ev.Message)
			}
			go chromedp.Do(w.ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true, PromptText: answer})
				return err
			}))
		}
	}()
}

// writeAlert composes the petition alert from blocks, by clicking and
// typing, saves it and returns its id.
func (w *walk) writeAlert() string {
	t := w.t
	t.Helper()
	ctx := w.ctx
	block := func(n int, sel string) string { return fmt.Sprintf(".block:nth-child(%d) %s", n, sel) }
	add := func(kind string, n int, first string) {
		t.Helper()
		w.do(chromedp.Click(chromedp.CSS(`[data-add=`+kind+`]`)), chromedp.WaitVisible(chromedp.CSS(block(n, first))))
	}
	w.answerPrompts("https://example.org/northfork-facts")

	w.open("/admin/messages/new", ".block-list .rich")
	w.do(chromedp.SetValue(chromedp.CSS("#f-subject"), "Tell Governor Reyes: deny the quarry permit"),
		chromedp.SetValue(chromedp.CSS("#f-from_name"), "Maya Ortiz, Northfork River Alliance"),
		chromedp.SetValue(chromedp.CSS("#f-from_email"), "action@example.org"),
		// 1: "Dear {First name, or Friend},"
		chromedp.Click(chromedp.CSS(block(1, ".rich"))), chromedp.KeyEvent("Dear "),
		chromedp.Click(chromedp.CSS(block(1, `button[aria-label="Insert the merge tag"]`))), chromedp.KeyEvent(","))
	// A heading, moved above the salutation.
	add("heading", 2, ".rich")
	w.do(chromedp.KeyEvent("The North Fork needs you"),
		chromedp.Click(chromedp.CSS(`button[aria-label="Move block 2 (heading) up"]`)))
	// 3: a paragraph with a bold sentence and a link.
	add("paragraph", 3, ".rich")
	w.do(chromedp.KeyEvent("The hearing is Thursday. "),
		chromedp.Click(chromedp.CSS(block(3, ".toolbar button:first-child"))), chromedp.KeyEvent("Governor Reyes can still deny the permit."),
		chromedp.Click(chromedp.CSS(block(3, ".toolbar button:first-child"))), chromedp.KeyEvent(" Read the facts"))
	for range len("Read the facts") {
		w.do(chromedp.KeyEvent(kb.ArrowLeft, chromedp.KeyModifiers(kb.ModifierShift)))
	}
	w.do(chromedp.Click(chromedp.CSS(block(3, ".toolbar button:nth-child(3)"))))
	waitFor(t, ctx, "the link", `!!document.querySelector('`+block(3, `.rich a[href="https://example.org/northfork-facts"]`)+`')`)
	// 4: the demands as a bulleted list.
	add("list", 4, ".rich")
	w.do(chromedp.KeyEvent("Deny the quarry permit"),
		chromedp.Click(chromedp.CSS(block(4, ".items + button"))), chromedp.WaitVisible(chromedp.CSS(block(4, ".item:nth-child(2) .rich"))),
		chromedp.KeyEvent("Protect the trout and the town's water"))
	// 5: the photo from the library, with its alt text.
	add("image", 5, "[data-field=library]")
	photo := eval[string](t, ctx, `[...document.querySelectorAll('`+block(5, "[data-field=library] option")+`')].find(o => o.textContent === 'river.png').value`)
	w.do(chromedp.SetValue(chromedp.CSS(block(5, "[data-field=library]")), photo),
		chromedp.SendKeys(chromedp.CSS(block(5, "[data-field=alt]")), "The North Fork below the mill, in spring"))
	if got := value(t, ctx, block(5, "[data-field=src]")); got != photo || !strings.Contains(got, "/media/") {
		t.Errorf("choosing the photo filled the address with %q, want %q", got, photo)
	}
	// 6: the button to the petition, chosen from the list.
	add("button", 6, "[data-field=petition]")
	w.do(chromedp.SetValue(chromedp.CSS(block(6, "[data-field=petition]")), "northfork"))
	// 7, 8, 9: a divider, the signature, share links to the petition.
	add("divider", 7, "button")
	add("signature", 8, "[data-field=name]")
	w.do(chromedp.SendKeys(chromedp.CSS(block(8, "[data-field=name]")), "Maya Ortiz"),
		chromedp.SendKeys(chromedp.CSS(block(8, "[data-field=title]")), "Campaigns Director"))
	add("share", 9, "[data-field=share-petition]")
	w.do(chromedp.SetValue(chromedp.CSS(block(9, "[data-field=share-petition]")), "northfork"),
		chromedp.SendKeys(chromedp.CSS(block(9, "[data-field=text]")), "I told Governor Reyes to protect the North Fork."))
	if got := eval[string](t, ctx, `Array.from(document.querySelectorAll('.block-list .block')).map(b => b.dataset.type).join(' ')`); got != "heading paragraph paragraph list image button divider signature share" {
		t.Errorf("the blocks: %s", got)
	}
	w.screen("message-compose")

	w.submit("form.compose button[type=submit]", "iframe.phone")
	if got := text(t, ctx, "main .notice"); !strings.Contains(got, "The message is saved.") {
		t.Fatalf("after saving: %q\n%s", got, text(t, ctx, "main"))
	}
	// Blocks write what the checks of a message ask for: nothing to fix.
	if eval[bool](t, ctx, `!!document.querySelector('.warnings')`) {
		t.Errorf("the saved alert has warnings: %s", text(t, ctx, ".warnings"))
	}
	id := strings.TrimPrefix(eval[string](t, ctx, `location.pathname`), "/admin/messages/")
	m, err := w.h.app.Store().GetMessage(context.Background(), mustAtoi(t, id))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"The North Fork needs you</h2>", `Dear {{ .FirstName | default "Friend" }},`,
		`<strong>Governor Reyes can still deny the permit.</strong>`, `<a href="https://example.org/northfork-facts">Read the facts</a>`,
		"<li>Deny the quarry permit</li>", `alt="The North Fork below the mill, in spring"`, `src="` + photo + `" alt="The North Fork below the mill, in spring" width="480" height="240"`,
		`{{ action_link "northfork" }}`, "Maya Ortiz<br>Campaigns Director"} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("the saved HTML lacks %q:\n%s", want, m.HTML)
		}
	}
	return id
}

// previewAndTest reads the phone preview and sends a test to herself.
func (w *walk) previewAndTest(messageID string) {
	t := w.t
	t.Helper()
	waitFor(t, w.ctx, "the phone preview", `(() => { const d = document.querySelector('iframe.phone').contentDocument;
		return !!d && !!d.body && d.body.textContent.includes('Dear Friend,') && d.body.textContent.includes('ADD YOUR NAME') &&
			[...d.images].some(i => i.alt === 'The North Fork below the mill, in spring' && i.complete && i.naturalWidth === 480); })()`)
	if wd := eval[int](t, w.ctx, `document.querySelector('iframe.phone').getBoundingClientRect().width`); wd < 370 || wd > 380 {
		t.Errorf("the phone preview is %d px wide, want 375", wd)
	}
	if sw := eval[int](t, w.ctx, `document.querySelector('iframe.phone').contentDocument.documentElement.scrollWidth`); sw > 375 {
		t.Errorf("the alert is %d px wide on a 375 px phone: it scrolls sideways", sw)
	}
	w.screen("message-preview")
	w.do(chromedp.SendKeys(chromedp.CSS("#f-emails"), organizerEmail))
	w.submit(`form[action$="/test"] button[type=submit]`, ".notice")
	e := parseEmail(t, waitMessageTo(t, w.h, organizerEmail))
	if subject := e.header.Get("Subject"); !strings.Contains(subject, "[Test]") {
		t.Errorf("the test's subject: %q", subject)
	}
	for _, want := range []string{"ADD YOUR NAME", "Northfork River Alliance", "12 Mill Street, Riverton, NY 12345"} {
		if !strings.Contains(e.html, want) {
			t.Errorf("the test email lacks %q", want)
		}
	}
}

// scheduleThenSend makes the campaign for the segment in the wizard,
// schedules it for tomorrow morning, takes it back to the review and
// sends it now; it returns the campaign's id once sent.
func (w *walk) scheduleThenSend(messageID, segmentID string) string {
	t := w.t
	t.Helper()
	ctx := w.ctx
	w.open("/admin/campaigns/new?message="+messageID, "#f-name")
	w.do(chromedp.SendKeys(chromedp.CSS("#f-name"), "North Fork hearing alert"),
		chromedp.Click(chromedp.CSS("input[name=segments][value='"+segmentID+"']")))
	waitFor(t, ctx, "the audience count", `(() => { const n = document.querySelector('#audience-count'); return !!n && n.textContent === '4'; })()`)
	w.screen("campaign-new")
	w.submit("button[value=next]", "#recipients")
	if got := text(t, ctx, "#recipients"); got != "4" {
		t.Errorf("the review says %q recipients, want 4", got)
	}
	campaignID := strings.TrimPrefix(eval[string](t, ctx, `location.pathname`), "/admin/campaigns/")
	confirm := func() {
		if eval[bool](t, ctx, `!!document.querySelector('#f-confirm')`) {
			w.do(chromedp.SendKeys(chromedp.CSS("#f-confirm"), "4"))
		}
	}

	// Tomorrow at 9:00, New York time.
	zone, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().In(zone).AddDate(0, 0, 1).Format("2006-01-02") + "T09:00"
	w.do(chromedp.Click(chromedp.CSS("input[name=when][value=later]")), chromedp.SetValue(chromedp.CSS("#f-send_at"), at),
		chromedp.SetValue(chromedp.CSS("#f-time_zone"), "America/New_York"))
	confirm()
	w.screen("campaign-review")
	w.submit("#send", "#campaign-status")
	if got := text(t, ctx, "#campaign-status"); got != "scheduled" {
		t.Fatalf("after scheduling the campaign is %q", got)
	}
	if got := text(t, ctx, "#schedule"); !strings.HasPrefix(got, "at 09:00 on ") || !strings.HasSuffix(got, "America/New_York") {
		t.Errorf("the schedule reads %q", got)
	}
	w.screen("campaign-scheduled")

	// Not tomorrow after all: back to the review, and send now.
	w.submit("#unschedule", "#recipients")
	if got := text(t, ctx, "main .notice"); !strings.Contains(got, "draft again") {
		t.Errorf("after unscheduling: %q", got)
	}
	w.do(chromedp.Click(chromedp.CSS("input[name=when][value=now]")))
	confirm()
	w.submit("#send", "#send-progress")
	waitFor(t, ctx, "the campaign to be sent", `(() => { const s = document.querySelector('#campaign-status');
		if (s && s.textContent === 'sent') return true; if (document.readyState === 'complete') location.reload(); return false; })()`)
	if got := text(t, ctx, "#sent") + " of " + text(t, ctx, "#total"); got != "4 of 4" {
		t.Errorf("progress says %s, want 4 of 4", got)
	}
	w.screen("campaign-sent")
	return campaignID
}

// followAsRecipient is José: he reads the alert, presses its button,
// signs in one click, reloads the thank-you page and goes back.
func (w *walk) followAsRecipient(campaignID string) {
	t := w.t
	t.Helper()
	ctx := w.ctx
	e := parseEmail(t, waitMessageTo(t, w.h, recipientEmail))
	if !strings.Contains(e.html, "Dear José,") {
		t.Errorf("the alert does not greet José by his name:\n%s", e.html)
	}
	for _, want := range []string{"Protect the trout", "ADD YOUR NAME", "Maya Ortiz"} {
		if !strings.Contains(e.html, want) {
			t.Errorf("the alert lacks %q", want)
		}
	}
	button := regexp.MustCompile(`<a [^>]*href="(http://[^"]+/a/northfork\?r=[^"]+)"[^>]*>\s*ADD YOUR NAME`).FindStringSubmatch(e.html)
	if button == nil {
		t.Fatalf("no ADD YOUR NAME button to the petition in the alert:\n%s", e.html)
	}
	// A person reads before clicking: later than a link scanner would.
	outcomes, err := w.h.app.Store().RecipientOutcomes(context.Background(), mustAtoi(t, campaignID), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outcomes {
		if o.Email == recipientEmail && o.SentAt != nil {
			time.Sleep(time.Until(o.SentAt.Add(scannerWindow + 100*time.Millisecond)))
		}
	}
	w.do(chromedp.Navigate(strings.ReplaceAll(button[1], "&amp;", "&")), chromedp.WaitVisible(chromedp.CSS("main button[type=submit]")))
	if got := text(t, ctx, "main"); !strings.Contains(got, "Signing as José Núñez") {
		t.Errorf("the petition does not recognize José:\n%s", got)
	}
	w.screen("recipient-petition")
	w.submit("main button[type=submit]", ".share")
	thanks := eval[string](t, ctx, `location.pathname + location.search`)
	if !strings.HasPrefix(thanks, "/a/northfork/thanks?t=") {
		t.Errorf("after signing the browser is at %s, want the thank-you page's own address", thanks)
	}
	if got := text(t, ctx, "h1"); got != "Thank you, José!" {
		t.Errorf("the thank-you page: %q", got)
	}
	if got := text(t, ctx, "#count"); !strings.HasPrefix(got, "2 signatures") {
		t.Errorf("the count after José signs: %q, want 2 (Fay and José)", got)
	}
	w.screen("recipient-thanks")
	w.do(chromedp.Evaluate[chromedp.Void](`document.body.dataset.before = "reload"`), chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS("body:not([data-before]) .share")))
	if got := text(t, ctx, "h1"); got != "Thank you, José!" {
		t.Errorf("the thank-you page reloaded: %q", got)
	}
	back := history(t, ctx, "back", "/a/northfork", "Protect the North Fork")
	if strings.Contains(back, "Method Not Allowed") {
		t.Errorf("back from the thank-you page:\n%s", back)
	}
	if n := mustCount(t, w.h, mustPetitionID(t, w.h, "northfork")); n != 2 {
		t.Errorf("signatures stored: %d, want 2", n)
	}
}

func mustPetitionID(t *testing.T, h *harness, slug string) int64 {
	t.Helper()
	p, err := h.app.Store().PetitionBySlug(context.Background(), slug)
	if err != nil {
		t.Fatal(err)
	}
	return p.ID
}

// readReport reads the campaign's report: the button's click is counted
// at its link, and José as one who clicked and took action.
func (w *walk) readReport(campaignID string) {
	t := w.t
	t.Helper()
	ctx := w.ctx
	w.open("/admin/campaigns/"+campaignID+"/report", "#outcomes")
	countOf := `(() => { const r = [...document.querySelectorAll('tbody tr')].find(r => r.querySelector('th').textContent.startsWith(%q));
		return r ? r.querySelector('td').textContent.trim() : ''; })()`
	button := `[...document.querySelectorAll('table.links tbody tr')].filter(r => r.querySelector('th').textContent.trim().endsWith('/a/northfork')).map(r => r.querySelector('td').textContent.trim()).join()`
	// Tracking writes its events in batches: reload until they are in.
	waitFor(t, ctx, "the report to count the button's click", `(() => {
		if (`+fmt.Sprintf(countOf, "Took action")+` === '1' && `+button+` === '1') return true;
		if (document.readyState === 'complete') location.reload(); return false; })()`)
	for row, want := range map[string]string{"Delivered": "4", "Clicked by people": "1", "Took action": "1", "Bounced": "0"} {
		if got := eval[string](t, ctx, fmt.Sprintf(countOf, row)); got != want {
			t.Errorf("report row %q: %q, want %s", row, got, want)
		}
	}
	w.screen("report")
}

// signOnLetter: the organizer writes a sign-on letter, ten organizations
// sign on, each reading her thank-you text and the count at once, and
// she approves them.
func (w *walk) signOnLetter() {
	t := w.t
	t.Helper()
	ctx := w.ctx
	const thanks = "Thank you for standing with the river. We deliver the letter to the Governor on Thursday."
	w.open("/admin/petitions/new", "#f-title")
	w.do(chromedp.SendKeys(chromedp.CSS("#f-title"), "Coalition letter on the North Fork"),
		chromedp.SendKeys(chromedp.CSS("#f-slug"), "coalition"),
		chromedp.SetValue(chromedp.CSS("#f-kind"), "letter"),
		chromedp.SendKeys(chromedp.CSS("#f-target"), "Governor Reyes"),
		chromedp.SendKeys(chromedp.CSS("#f-petition_text"), "We, the undersigned organizations, ask you to deny the quarry permit."),
		chromedp.SendKeys(chromedp.CSS("#f-thank_you_text"), thanks))
	w.submit("main button[type=submit]", "h1")
	letterPath := eval[string](t, ctx, `location.pathname`)

	orgs := []string{"River Keepers", "Trout Unlimited Riverton", "Riverton Rotary", "Friends of the Mill", "Hudson Anglers",
		"Riverton Teachers Union", "Clean Water Action NY", "Saint Mark's Parish", "Riverton Youth Soccer", "North Fork Farmers"}
	// onLetter is the count the public pages show: the organizations
	// approved, so a bot's sign-on never shows.
	onLetter := func(n int) string {
		if n == 1 {
			return "1 organization on the letter"
		}
		return fmt.Sprintf("%d organizations on the letter", n)
	}
	signOn := func(i int, approved int) {
		t.Helper()
		org := orgs[i]
		w.open("/a/coalition", "#organization")
		if i == 0 {
			w.screen("letter")
		}
		w.do(chromedp.SendKeys(chromedp.CSS("#organization"), org), chromedp.SendKeys(chromedp.CSS("#contact_name"), "Ana Ruiz"),
			chromedp.SendKeys(chromedp.CSS("#email"), fmt.Sprintf("ana@org%d.example.org", i)),
			chromedp.SendKeys(chromedp.CSS("#website"), fmt.Sprintf("https://org%d.example.org", i)))
		w.submit("main button[type=submit]", ".share")
		if got := text(t, ctx, "main"); !strings.Contains(got, thanks) {
			t.Errorf("%s's thank-you page lacks the organizer's text:\n%s", org, got)
		}
		if got := text(t, ctx, "#count"); got != onLetter(approved) {
			t.Errorf("right after %s signs the count reads %q, want %q", org, got, onLetter(approved))
		}
		if n := eval[int](t, ctx, `document.querySelectorAll('.signers li').length`); n != approved {
			t.Errorf("right after %s signs the page lists %d organizations, want %d", org, n, approved)
		}
		if i == 0 || i == 5 {
			w.screen(fmt.Sprintf("letter-thanks-%d", i))
		}
	}
	approve := func(from, to int) {
		t.Helper()
		w.open(letterPath, "#organizations")
		w.screen(fmt.Sprintf("letter-pending-%d", from))
		for _, org := range orgs[from:to] {
			w.submit(`button[aria-label="Approve `+org+`"]`, ".notice")
		}
		if n := eval[int](t, ctx, `[...document.querySelectorAll('td[data-label=Status]')].filter(td => td.textContent.trim() === 'approved').length`); n != to {
			t.Errorf("%d organizations approved, want %d", n, to)
		}
	}

	// Five sign on: none is listed before the organizer approves it.
	for i := range 5 {
		signOn(i, 0)
	}
	approve(0, 5)
	// Five more: each sees the five approved at once.
	for i := 5; i < 10; i++ {
		signOn(i, 5)
	}
	approve(5, 10)
	w.screen("letter-approved")

	w.open("/a/coalition", "#organization")
	if got := text(t, ctx, "#count"); got != onLetter(len(orgs)) {
		t.Errorf("the letter's count: %q, want %q", got, onLetter(len(orgs)))
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('.signers li').length`); n != len(orgs) {
		t.Errorf("the letter lists %d organizations, want %d", n, len(orgs))
	}
	w.screen("letter-signed")
}
