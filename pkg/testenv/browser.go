package testenv

import (
	"context"
	_ "embed"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// BrowserTimeout bounds everything one test does in its browser.
const BrowserTimeout = 2 * time.Minute

// chromiumNames are the executables Browser looks for on $PATH after
// $DEARFRIEND_CHROMIUM and /usr/bin/chromium.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// chromiumPath returns the browser to run, or "" when there is none.
func chromiumPath() string {
	if p := os.Getenv("DEARFRIEND_CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range chromiumNames {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Browser starts a headless Chromium of the test's own (a fresh profile, no
// network of its own beyond what the page asks for) and returns the context
// to pass to chromedp.Run. The browser closes when the test ends or after
// BrowserTimeout. Without Chromium the test is skipped, saying how to get it;
// $DEARFRIEND_CHROMIUM names a browser elsewhere.
func Browser(tb testing.TB) context.Context {
	tb.Helper()
	return BrowserWithin(tb, BrowserTimeout)
}

// BrowserWithin is Browser for a test that does more than BrowserTimeout
// allows on a loaded machine (a whole walk of the product), bounded by
// timeout instead.
func BrowserWithin(tb testing.TB, timeout time.Duration) context.Context {
	tb.Helper()
	path := chromiumPath()
	if path == "" {
		tb.Skip("headless Chromium not found ($DEARFRIEND_CHROMIUM, /usr/bin/chromium, or chromium on $PATH): browser test skipped; install Debian's chromium package to run it")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true), // containers give /dev/shm little room
		chromedp.WindowSize(1280, 800),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	tb.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	// The first run starts the browser and must not carry the timeout: the
	// browser lives as long as the context of that run.
	if err := chromedp.Do(browserCtx); err != nil {
		tb.Fatalf("start Chromium %s: %v", path, err)
	}
	ctx, cancelTimeout := context.WithTimeout(browserCtx, timeout)
	tb.Cleanup(cancelTimeout)
	return ctx
}

// ArtifactsDir is where tests leave files for people to look at
// (screenshots): $DEARFRIEND_ARTIFACTS, or artifacts/ at the module root.
func ArtifactsDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("DEARFRIEND_ARTIFACTS")
	if dir == "" {
		root, err := moduleRoot()
		if err != nil {
			tb.Fatalf("artifacts directory: %v", err)
		}
		dir = filepath.Join(root, "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatalf("artifacts directory: %v", err)
	}
	return dir
}

// moduleRoot is the nearest directory above the working directory (a test
// runs in its package's) that holds go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

// Screenshot saves the whole page, laid out width CSS pixels wide, as
// <ArtifactsDir>/<name>-<width>.png and logs the path. It leaves the
// viewport at that width.
func Screenshot(tb testing.TB, ctx context.Context, name string, width int) {
	tb.Helper()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), 800)); err != nil {
		tb.Fatalf("screenshot %s at %d px: %v", name, width, err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.Fatalf("screenshot %s at %d px: %v", name, width, err)
	}
	path := filepath.Join(ArtifactsDir(tb), name+"-"+strconv.Itoa(width)+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.Fatalf("screenshot %s: %v", name, err)
	}
	tb.Logf("screenshot: %s", path)
}

// accessibilityScript lists what the page in the browser gets wrong of the
// basics: a form control without a label, and text whose contrast with its
// background (from computed styles, the first opaque background up the
// tree) is under 4.5:1, or 3:1 for large text. What is hidden from people
// (display: none, aria-hidden, off-screen honeypots) is not checked.
const accessibilityScript = `(() => {
  const problems = [];
  const hidden = el => el.closest('[aria-hidden="true"]') || el.getClientRects().length === 0 ||
    getComputedStyle(el).visibility === 'hidden';
  const describe = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.name ? '[name=' + el.name + ']' : '');
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden' || hidden(el)) continue;
    const labelled = (el.labels && el.labels.length > 0) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
    if (!labelled) problems.push('no label: ' + describe(el));
  }
  const rgba = s => { const m = s.match(/[\d.]+/g).map(Number); return {r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const background = el => {
    for (let e = el; e; e = e.parentElement) { const c = rgba(getComputedStyle(e).backgroundColor); if (c.a > 0.5) return c; }
    return {r: 255, g: 255, b: 255, a: 1};
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || seen.has(el) || hidden(el)) continue;
    seen.add(el);
    const st = getComputedStyle(el);
    const fg = rgba(st.color), bg = background(el);
    const hi = Math.max(lum(fg), lum(bg)), lo = Math.min(lum(fg), lum(bg));
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(st.fontSize), bold = parseInt(st.fontWeight, 10) >= 700;
    const need = (size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
    if (ratio < need) problems.push('contrast ' + ratio.toFixed(2) + ':1 < ' + need + ':1: ' + describe(el) + ' "' + n.textContent.trim().slice(0, 40) + '"');
  }
  return problems;
})()`

// axeSource is axe-core (axe/README.md), run in the page by AccessibilityProblems.
//
//go:embed axe/axe.min.js
var axeSource string

// axeScript runs axe-core on the page, frames left out (the sandboxed
// previews run no script, and asynqmon's frame is not our markup), and
// lists the serious and critical violations, one line per rule with the
// elements at fault.
const axeScript = `axe.run(document, {iframes: false, resultTypes: ['violations']}).then(r => r.violations
  .filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => 'axe ' + v.id + ' (' + v.impact + '): ' + v.help + ': ' +
    v.nodes.map(n => n.target.join(' ') + (n.failureSummary ? ' [' + n.failureSummary.replace(/\s+/g, ' ').trim() + ']' : '')).join('; ')))`

// AccessibilityProblems checks the page open in ctx with axe-core (its
// serious and critical violations) and with checks of our own for
// unlabelled form controls and text of too little contrast (WCAG AA),
// and returns each problem found as a sentence naming the element; none
// is an empty list.
func AccessibilityProblems(tb testing.TB, ctx context.Context) []string {
	tb.Helper()
	problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](accessibilityScript))
	if err != nil {
		tb.Fatalf("accessibility check: %v", err)
	}
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe !== 'undefined'`))
	if err != nil {
		tb.Fatalf("accessibility check: %v", err)
	}
	if !loaded {
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](axeSource)); err != nil {
			tb.Fatalf("load axe-core into the page: %v", err)
		}
	}
	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](axeScript, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.Fatalf("axe-core: %v", err)
	}
	return append(problems, violations...)
}
