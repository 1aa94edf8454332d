package inline

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// computedStyles is a script that writes the computed style of every element
// of the body, in document order, into the page, where --dump-dom shows it.
const computedStyles = `<pre id="computed-styles"></pre><script>
(function () {
  var props = ["color", "background-color", "padding-top", "padding-right", "padding-bottom", "padding-left",
    "margin-top", "margin-bottom", "font-size", "font-weight", "text-decoration-line", "display", "border-top-width"];
  var lines = [];
  document.querySelectorAll("body *:not(#computed-styles):not(script)").forEach(function (el) {
    var s = getComputedStyle(el);
    lines.push(el.tagName + " " + props.map(function (p) { return p + ": " + s.getPropertyValue(p); }).join("; "));
  });
  document.getElementById("computed-styles").textContent = lines.join("\n");
})();
</script>`

var computedRe = regexp.MustCompile(`(?s)<pre id="computed-styles">(.*?)</pre>`)

// TestBrowserCascade checks in a real browser that the cases where the
// inliner departs from juice (browserCascade) look the same inlined as they
// do with their stylesheet: juice counts pseudo-classes as element names,
// a browser counts them as classes (Selectors level 3, section 9).
func TestBrowserCascade(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed")
	}
	if _, err := os.Stat(juiceCases); err != nil {
		t.Skipf("juice cases not found at %s", juiceCases)
	}
	for name := range browserCascade {
		t.Run(name, func(t *testing.T) {
			base := filepath.Join(juiceCases, name)
			doc, css := mustRead(t, base+".html"), mustRead(t, base+".css")
			inlined, _ := mustInline(t, doc, css)
			want := browserStyles(t, chromium, "<style>"+css+"</style>", doc)
			got := browserStyles(t, chromium, "", inlined)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("computed styles, with the stylesheet (-) and inlined (+):\n%s", d)
			}
			// And juice's expected output is not what the browser shows.
			if juice := browserStyles(t, chromium, "", mustRead(t, base+".out")); juice == want {
				t.Errorf("juice's expected output looks the same as the stylesheet in the browser; drop %q from browserCascade", name)
			}
		})
	}
}

// browserStyles loads a page in headless Chromium and returns the computed styles of its body's elements.
func browserStyles(t *testing.T, chromium, head, body string) string {
	t.Helper()
	dir := t.TempDir()
	page := filepath.Join(dir, "page.html")
	if err := os.WriteFile(page, []byte("<!DOCTYPE html><html><head>"+head+"</head><body>"+body+computedStyles+"</body></html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--no-first-run", "--user-data-dir="+filepath.Join(dir, "profile"), "--dump-dom", "file://"+page).Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	m := computedRe.FindSubmatch(out)
	if m == nil || len(m[1]) == 0 {
		t.Fatalf("no computed styles in chromium's output:\n%s", out)
	}
	return strings.TrimSpace(string(m[1]))
}
