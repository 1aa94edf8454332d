package inline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzInline checks that Inline always returns, in time and without
// panicking, whatever the document and the extra stylesheet.
//
//	go test -run '^$' -fuzz FuzzInline -fuzztime 5m ./pkg/inline/
func FuzzInline(f *testing.F) {
	seeds := [][2]string{
		// douceur loops forever on these, or loses values.
		{`<style>@media screen { color: blue; }</style><p>x</p>`, ``},
		{`<p>x</p>`, `@media screen { color: blue; }`},
		{`<style>a{};b{color:red}</style><b>x</b>`, `color: red;`},
		{`<style>@supports (a:b) { @media x { a; } }</style>`, `;;`},
		{`<p class="a" style="padding: 10px">x</p>`, `.a { padding-top: 5px !important }`},
		{`<p style="color:">x</p>`, `p{color:red`},
		{`<p>x</p>`, `p { background: url(data:image/png;base64,AA==) } p{x:y:z}`},
		{`<p>x</p>`, `p { content: "a\"b;}" ; font-family: 'x\'y' }`},
		{`<p>x</p>`, "p /* { */ { color: red } /* unterminated"},
		{`<p>x</p>`, `p{a:url(x}y);b:url( "q" )}`},
		{`<p>x</p>`, "<!-- p { color: red } -->\uFEFF\x00\r\n@import 'x';"},
		// merge tags
		{`<p>Dear {{ .FirstName | default "Friend" }},</p><a href="{{ .URL | default "x" }}">go</a>`, `p { color: {{.C}}; }`},
		{`<table>{{range .Rows}}<tr><td>{{.}}</td></tr>{{end}}</table>`, `td { padding: 0 }`},
		{`<div <%= attrs %>><%- include("x") %></div><?php echo "x" ?>{% if a %}b{% endif %}`, `div{color:red}`},
		{`<a {{if .X}}class="x"{{end}} href=x>y</a>{{ unterminated`, `a{{{x}}:1}`},
		{`<style>{{.CSS}}</style><title>{{.T}}</title><script>{{.S}}</script>`, ``},
		// selectors and cascade
		{`<div id=a class="b c"><p>x</p></div>`, `#a .b > p, div:not(.c) p:first-child, p::before, a:hover, p:is(x) { color: red !important; margin: 0 }`},
		{`<table><td>x</table><b><p>y</b></p>`, `* { margin: 0 } tbody tr { color: red }`},
		{`<svg><style>rect{fill:red}</style><rect/></svg><plaintext><p>`, `rect { color: red }`},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	if files, err := filepath.Glob(filepath.Join(juiceCases, "*.html")); err == nil {
		for _, file := range files {
			doc, _ := os.ReadFile(file)
			css, _ := os.ReadFile(strings.TrimSuffix(file, ".html") + ".css")
			f.Add(string(doc), string(css))
		}
	}
	fuzzCache := NewCache(64)
	f.Fuzz(func(t *testing.T, doc, css string) {
		done := make(chan error, 1)
		go func() {
			_, _, err := Inline(doc, Options{ExtraCSS: []string{css}})
			done <- err
		}()
		select {
		case err := <-done:
			if errors.Is(err, errPanic) {
				t.Errorf("Inline panicked: %v", err)
				inline(doc, Options{ExtraCSS: []string{css}}, douceurParser{}) // again, for the stack
			}
			if errors.Is(err, errTimeout) {
				t.Fatalf("Inline timed out")
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("Inline did not return within 2s")
		}
		// Through a cache shared by every input, the result is the same.
		want, wantWarnings, wantErr := inline(doc, Options{ExtraCSS: []string{css}}, douceurParser{})
		for range 2 {
			got, gotWarnings, gotErr := inline(doc, Options{ExtraCSS: []string{css}, Cache: fuzzCache}, douceurParser{})
			if got != want || fmt.Sprint(gotWarnings) != fmt.Sprint(wantWarnings) || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				t.Fatalf("cached inlining differs:\n%q %q %v\nuncached:\n%q %q %v", got, gotWarnings, gotErr, want, wantWarnings, wantErr)
			}
		}
		// The guard in front of douceur: it must only ever see well-formed input.
		inline(doc, Options{ExtraCSS: []string{css}}, guardChecker{t})
	})
}

// guardChecker fails the test when the reader hands the parser anything but
// "selectors{prop:value;...}", with ':', ';', '{' and '}' only as structure.
type guardChecker struct{ t *testing.T }

func (g guardChecker) parseRule(text string) (parsedRule, error) {
	open := strings.IndexByte(text, '{')
	if open <= 0 || strings.ContainsAny(text[:open], ";}") || !strings.HasSuffix(text, "}") {
		g.t.Fatalf("parser given a malformed rule: %q", text)
	}
	if _, err := g.parseDeclarations(text[open+1 : len(text)-1]); err != nil {
		return parsedRule{}, err
	}
	return douceurParser{}.parseRule(text)
}

func (g guardChecker) parseDeclarations(text string) ([]parsedDecl, error) {
	if strings.ContainsAny(text, "{}") || (text != "" && !strings.HasSuffix(text, ";")) {
		g.t.Fatalf("parser given malformed declarations: %q", text)
	}
	for d := range strings.SplitSeq(strings.TrimSuffix(text, ";"), ";") {
		if text != "" && strings.Count(d, ":") != 1 {
			g.t.Fatalf("parser given a malformed declaration %q in %q", d, text)
		}
	}
	return douceurParser{}.parseDeclarations(text)
}
