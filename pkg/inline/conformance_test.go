package inline

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// juiceCases is where the juice conformance cases live, next to the
// repository; they are not copied into it.
var juiceCases = filepath.Join("..", "..", "..", "shared", "conformance", "juice", "cases")

// browserCascade lists the cases whose expected output follows juice's own
// specificity rule, which counts pseudo-classes like element names, and so
// differs from what a browser shows. There the browser's result is expected.
var browserCascade = map[string]string{
	// .a:first-child is (0,2,0) and beats span.a, .a:not(div) and span.b, all (0,1,1).
	"pseudo-specificity": `<div>
  <span class="a b" style="color: blue; background-color: blue; padding: 10px;"></span>
  <span class="c"></span>
</div>`,
}

// TestJuiceConformance scores Inline on the juice cases the way
// conformance/juice/run does: the style of every element, in document
// order, compared declaration by declaration.
func TestJuiceConformance(t *testing.T) {
	if _, err := os.Stat(juiceCases); err != nil {
		t.Skipf("juice cases not found at %s (they sit next to the repository, in ../shared)", juiceCases)
	}
	files, err := filepath.Glob(filepath.Join(juiceCases, "*.html"))
	if err != nil {
		t.Fatal(err)
	}
	tally := map[string]int{}
	scored := 0
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".html")
		base := strings.TrimSuffix(f, ".html")
		if _, err := os.Stat(base + ".json"); err == nil {
			continue // needs juice options; the run script does not score it either
		}
		scored++
		t.Run(name, func(t *testing.T) {
			doc := mustRead(t, base+".html")
			want := mustRead(t, base+".out")
			var opts Options
			if css, err := os.ReadFile(base + ".css"); err == nil {
				opts.ExtraCSS = []string{string(css)}
			} else if !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			got, _, err := Inline(doc, opts)
			if err != nil {
				tally["error"]++
				t.Fatalf("Inline: %v", err)
			}
			verdict, why := compareStyles(want, got)
			tally[verdict]++
			if browser, ok := browserCascade[name]; ok {
				if v, why := compareStyles(browser, got); v != "strict" {
					t.Errorf("want the browser's cascade: %s", why)
				}
				return
			}
			if verdict != "strict" {
				t.Errorf("%s: %s\n--- got:\n%s", verdict, why, got)
			}
		})
	}
	t.Logf("juice conformance: %d/%d strict, %d/%d loose, %d errors (expected to differ: %v)",
		tally["strict"], scored, tally["strict"]+tally["loose"], scored, tally["error"], slices.Sorted(mapKeys(browserCascade)))
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// compareStyles is run_case of conformance/juice/run.
func compareStyles(wantHTML, gotHTML string) (verdict, why string) {
	want, got := elementStyles(wantHTML), elementStyles(gotHTML)
	if len(want) != len(got) {
		return "fail", fmt.Sprintf("%d elements, expected %d", len(got), len(want))
	}
	firstDiff := -1
	loose := true
	for i := range want {
		if want[i].String() != got[i].String() && firstDiff < 0 {
			firstDiff = i
		}
		w, g := slices.Clone(want[i].decls), slices.Clone(got[i].decls)
		slices.Sort(w)
		slices.Sort(g)
		loose = loose && slices.Equal(w, g)
	}
	if firstDiff < 0 {
		return "strict", ""
	}
	why = fmt.Sprintf("<%s> expected %v got %v", want[firstDiff].tag, want[firstDiff].decls, got[firstDiff].decls)
	if loose {
		return "loose", why
	}
	return "fail", why
}

type styledElement struct {
	tag   string
	decls []string // "prop: value"
}

func (e styledElement) String() string { return e.tag + " " + strings.Join(e.decls, "; ") }

// elementStyles is styles() of the run script: wrappers the parser may add
// are matched by name, the rest by position.
func elementStyles(doc string) []styledElement {
	skip := map[string]bool{"style": true, "script": true, "meta": true, "title": true, "link": true}
	wrappers := []string{"body", "head", "html", "tbody"} // sorted, as the script does
	wrapped := map[string][]string{}
	var elements []styledElement
	z := html.NewTokenizer(strings.NewReader(doc))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if z.Err() != io.EOF {
				panic(z.Err())
			}
			break
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		if skip[tok.Data] {
			continue
		}
		var style string
		for _, a := range tok.Attr {
			if a.Key == "style" {
				style = a.Val
			}
		}
		decls := scriptDeclarations(style)
		if slices.Contains(wrappers, tok.Data) {
			wrapped[tok.Data] = decls
		} else {
			elements = append(elements, styledElement{tag: tok.Data, decls: decls})
		}
	}
	var out []styledElement
	for _, w := range wrappers {
		out = append(out, styledElement{tag: w, decls: wrapped[w]})
	}
	return append(out, elements...)
}

// scriptDeclarations is declarations() of the run script.
func scriptDeclarations(style string) []string {
	var out []string
	for _, part := range splitOutsideParens(style) {
		prop, value, ok := strings.Cut(part, ":")
		if !ok {
			continue
		}
		prop = strings.ToLower(strings.TrimSpace(prop))
		value = strings.Join(strings.Fields(value), " ")
		if v, ok := cutImportant(value); ok {
			value = v + " !important"
		}
		if prop != "" {
			out = append(out, prop+": "+value)
		}
	}
	return out
}

// splitOutsideParens splits at each ';' not followed by a ')' before a '('
// (the script's regexp ";(?![^(]*\)").
func splitOutsideParens(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] != ';' {
			continue
		}
		rest := s[i+1:]
		if close := strings.IndexByte(rest, ')'); close >= 0 && !strings.Contains(rest[:close], "(") {
			continue
		}
		out = append(out, s[start:i])
		start = i + 1
	}
	return append(out, s[start:])
}

func mustRead(tb testing.TB, path string) string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}
