package testenv_test

import (
	"net/url"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestAccessibilityProblems shows the check a page with each fault and one
// without: it must name the unlabelled input and the pale text, and only them.
func TestAccessibilityProblems(t *testing.T) {
	ctx := testenv.Browser(t)
	page := `<!DOCTYPE html><html lang="en"><body style="background:#fff;color:#222">
<p>Readable text</p><p style="color:#aaa">Pale text</p>
<label for="a">Name</label><input id="a"><input id="nolabel" name="q">
<div aria-hidden="true" style="position:absolute;left:-9999px"><input id="trap"></div>
<h1 style="color:#767676;font-size:32px">Large grey heading</h1></body></html>`
	if err := chromedp.Do(ctx, chromedp.Navigate("data:text/html,"+url.PathEscape(page))); err != nil {
		t.Fatal(err)
	}
	got := testenv.AccessibilityProblems(t, ctx)
	want := []string{"no label: input#nolabel[name=q]", "contrast 2.32:1 < 4.5:1: p \"Pale text\""}
	slices.Sort(got)
	slices.Sort(want)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("problems (-want +got):\n%s", d)
	}
}
