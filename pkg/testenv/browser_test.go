package testenv_test

import (
	"net/url"
	"slices"
	"strings"
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
	var got []string
	for _, p := range testenv.AccessibilityProblems(t, ctx) {
		if !strings.HasPrefix(p, "axe ") {
			got = append(got, p)
		}
	}
	want := []string{"no label: input#nolabel[name=q]", "contrast 2.32:1 < 4.5:1: p \"Pale text\""}
	slices.Sort(got)
	slices.Sort(want)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("problems (-want +got):\n%s", d)
	}
}

// TestAxeViolations shows axe-core the same page with faults our own
// checks do not look for, a picture without a text alternative and a
// button without a name, and a page without them: it reports the two,
// and nothing of the sound page.
func TestAxeViolations(t *testing.T) {
	ctx := testenv.Browser(t)
	page := `<!DOCTYPE html><html lang="en"><head><title>Check</title></head><body><main><h1>Check</h1>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" id="noalt"><button id="noname"></button></main></body></html>`
	if err := chromedp.Do(ctx, chromedp.Navigate("data:text/html,"+url.PathEscape(page))); err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, p := range testenv.AccessibilityProblems(t, ctx) {
		if rule, ok := strings.CutPrefix(p, "axe "); ok {
			rules = append(rules, strings.Fields(rule)[0])
		}
	}
	slices.Sort(rules)
	if d := cmp.Diff([]string{"button-name", "image-alt"}, rules); d != "" {
		t.Errorf("axe-core's violations (-want +got):\n%s", d)
	}
	sound := strings.NewReplacer(` id="noalt">`, ` id="noalt" alt="A dot">`, `<button id="noname"></button>`, `<button>Sign</button>`).Replace(page)
	if err := chromedp.Do(ctx, chromedp.Navigate("data:text/html,"+url.PathEscape(sound))); err != nil {
		t.Fatal(err)
	}
	if got := testenv.AccessibilityProblems(t, ctx); len(got) > 0 {
		t.Errorf("problems of a sound page: %v", got)
	}
}
