package app_test

import (
	"context"
	"image/color"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dearfriend/dearfriend/pkg/admin"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestBrandingInBrowser, in a real browser: an admin types a color white
// text cannot be read on and is told so at the field, then uploads a logo
// and sets the accent color; the petition page shows the logo loaded and
// its button in the color. An image is added to the library. Each screen
// and the branded page pass the basic accessibility checks, fit 375 px, and
// are photographed at 375 and 1280 px (artifacts/branding-*.png).
func TestBrandingInBrowser(t *testing.T) {
	t.Parallel()
	ctx := testenv.Browser(t)
	h := start(t, backends(t)[0])
	base := h.app.URL()
	const password = "correct horse battery"
	if _, err := admin.CreateUser(context.Background(), h.app.Store(), "ada@example.org", store.RoleAdmin, password); err != nil {
		t.Fatal(err)
	}
	mustPetition(t, h, "northfork", 100)
	dir := t.TempDir()
	logoFile, photoFile := filepath.Join(dir, "logo.png"), filepath.Join(dir, "river.png")
	if err := os.WriteFile(logoFile, pngLogo(t, 180, 48, color.RGBA{32, 58, 92, 255}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(photoFile, pngLogo(t, 600, 300, color.RGBA{90, 140, 170, 255}), 0o600); err != nil {
		t.Fatal(err)
	}

	do(t, ctx, chromedp.Navigate(base+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#f-email")),
		chromedp.SendKeys(chromedp.CSS("#f-email"), "ada@example.org"), chromedp.SendKeys(chromedp.CSS("#f-password"), password),
		chromedp.Click(chromedp.CSS("main button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("nav[aria-label=Main]")))

	// A yellow white text cannot be read on: refused at its field.
	do(t, ctx, chromedp.Navigate(base+"/admin/branding"), chromedp.WaitVisible(chromedp.CSS("#f-accent_color")),
		chromedp.SetValue(chromedp.CSS("#f-accent_color"), "#f5c518"),
		chromedp.SetUploadFiles(chromedp.CSS("#f-logo"), []string{logoFile}),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#f-accent_color-error")))
	if got := text(t, ctx, "#f-accent_color-error"); got != "#f5c518 is too light: the buttons' white text on it has a contrast of 1.6:1, and text needs at least 4.5:1 to be read; choose a darker color." {
		t.Errorf("error at the accent color: %q", got)
	}
	if got := value(t, ctx, "#f-accent_color"); got != "#f5c518" {
		t.Errorf("the color typed was not kept: %q", got)
	}
	adminScreen(t, ctx, "branding-error")

	// A logo and a darker color: saved.
	do(t, ctx, chromedp.SetValue(chromedp.CSS("#f-accent_color"), "#7a1f5c"),
		chromedp.SetValue(chromedp.CSS("#f-footer_text"), "Paid for by the Northfork River Alliance PAC"),
		chromedp.SetUploadFiles(chromedp.CSS("#f-logo"), []string{logoFile}),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(".notice")))
	waitFor(t, ctx, "the header's logo", `(() => { const i = document.querySelector('header .logo'); return i && i.complete && i.naturalWidth === 180; })()`)
	adminScreen(t, ctx, "branding")

	// The public page, in the organization's look.
	do(t, ctx, chromedp.Navigate(base+"/a/northfork"), chromedp.WaitVisible(chromedp.CSS("button[type=submit]")))
	waitFor(t, ctx, "the page's logo", `(() => { const i = document.querySelector('.org img'); return i && i.complete && i.naturalWidth === 180; })()`)
	if got := eval[string](t, ctx, `getComputedStyle(document.querySelector('button[type=submit]')).backgroundColor`); got != "rgb(122, 31, 92)" {
		t.Errorf("the sign button is %s, want the accent rgb(122, 31, 92)", got)
	}
	if got := eval[string](t, ctx, `document.querySelector('.org img').alt`); got != "Northfork River Alliance" {
		t.Errorf("the logo's alt text is %q, want the organization's name", got)
	}
	adminScreen(t, ctx, "branding-petition")

	// The library: an image added, its address ready to copy.
	do(t, ctx, chromedp.Navigate(base+"/admin/media"), chromedp.WaitVisible(chromedp.CSS("#f-file")),
		chromedp.SetUploadFiles(chromedp.CSS("#f-file"), []string{photoFile}),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if n := eval[int](t, ctx, `document.querySelectorAll('.media li').length`); n != 2 {
		t.Errorf("the library lists %d images, want the logo and the photo", n)
	}
	if eval[bool](t, ctx, `document.querySelector('button[data-copy]').hidden`) {
		t.Error("the copy button is hidden with JavaScript on")
	}
	adminScreen(t, ctx, "images")
}
