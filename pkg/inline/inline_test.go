package inline

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// mustInline inlines doc, and again through a cache, first missing and then
// hitting it: all three must agree.
func mustInline(tb testing.TB, doc string, css ...string) (string, []string) {
	tb.Helper()
	out, warnings, err := Inline(doc, Options{ExtraCSS: css})
	if err != nil {
		tb.Fatalf("Inline: %v", err)
	}
	cache := NewCache(8)
	for _, pass := range []string{"cache miss", "cache hit"} {
		cached, cachedWarnings, err := Inline(doc, Options{ExtraCSS: css, Cache: cache})
		if err != nil {
			tb.Fatalf("Inline (%s): %v", pass, err)
		}
		if diff := cmp.Diff(out, cached); diff != "" {
			tb.Errorf("output on a %s differs (-uncached +cached):\n%s", pass, diff)
		}
		if diff := cmp.Diff(warnings, cachedWarnings); diff != "" {
			tb.Errorf("warnings on a %s differ (-uncached +cached):\n%s", pass, diff)
		}
	}
	return out, warnings
}

// TestCacheSharedSheet inlines two documents that share a stylesheet but not
// its position: the cached declarations must take their new place in the
// source order (the second document's own rule comes first and loses).
func TestCacheSharedSheet(t *testing.T) {
	shared := `p { color: red; } .a { margin: 0; }`
	cache := NewCache(8)
	first, _, err := Inline(`<style>`+shared+`</style><p class="a">x</p>`, Options{Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	second, _, err := Inline(`<style>p { color: blue; padding: 1px }</style><style>`+shared+`</style><p class="a">x</p>`, Options{Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`<p class="a" style="color: red; margin: 0;">x</p>`, `<p class="a" style="padding: 1px; color: red; margin: 0;">x</p>`}
	if diff := cmp.Diff(want, []string{first, second}); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestInline(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		css  []string
		want string
	}{
		{
			name: "specificity beats source order",
			doc:  `<style>#a { color: red; } .b { color: blue; } p { color: green; }</style><p id="a" class="b">x</p>`,
			want: `<p id="a" class="b" style="color: red;">x</p>`,
		},
		{
			name: "later rule wins at equal specificity",
			doc:  `<style>.a { color: red; } .b { color: blue; }</style><p class="b a">x</p>`,
			want: `<p class="b a" style="color: blue;">x</p>`,
		},
		{
			name: "declarations listed weakest first",
			doc:  `<style>#x { margin: 0; } div { padding: 1px; color: red; } .c { color: blue; }</style><div id="x" class="c">x</div>`,
			want: `<div id="x" class="c" style="padding: 1px; color: blue; margin: 0;">x</div>`,
		},
		{
			name: "extra CSS comes after the document's own",
			doc:  `<style>p { color: red; }</style><p>x</p>`,
			css:  []string{"p { color: blue; }", "p { color: green; }"},
			want: `<p style="color: green;">x</p>`,
		},
		{
			name: "style attribute beats normal rules",
			doc:  `<style>#a { color: red; }</style><p id="a" style="color: blue">x</p>`,
			want: `<p id="a" style="color: blue;">x</p>`,
		},
		{
			name: "important rule beats style attribute",
			doc:  `<style>p { color: red !important; }</style><p style="color: blue">x</p>`,
			want: `<p style="color: red;">x</p>`,
		},
		{
			name: "important style attribute beats important rule",
			doc:  `<style>#a { color: red !important; }</style><p id="a" style="color: blue !important">x</p>`,
			want: `<p id="a" style="color: blue !important;">x</p>`,
		},
		{
			name: "important with odd spacing and case",
			doc:  `<style>p { color: red ! IMPORTANT; } #a { color: blue; }</style><p id="a">x</p>`,
			want: `<p id="a" style="color: red;">x</p>`,
		},
		{
			name: "untouched style attribute of an unmatched element",
			doc:  `<style>p { color: red; }</style><div style="COLOR:blue !important">x</div>`,
			want: `<div style="COLOR:blue !important">x</div>`,
		},
		{
			name: "longhand before the shorthand that overrides it",
			doc:  `<style>#p { padding: 0; } p { padding-bottom: 10px; }</style><p id="p">x</p>`,
			want: `<p id="p" style="padding-bottom: 10px; padding: 0;">x</p>`,
		},
		{
			name: "longhand after the shorthand it overrides",
			doc:  `<style>p { padding: 0; } #p { padding-bottom: 10px; }</style><p id="p">x</p>`,
			want: `<p id="p" style="padding: 0; padding-bottom: 10px;">x</p>`,
		},
		{
			name: "repeated property in one rule kept as fallback",
			doc:  `<style>p { color: red; color: rgba(255,0,0,.5); }</style><p>x</p>`,
			want: `<p style="color: red; color: rgba(255,0,0,.5);">x</p>`,
		},
		{
			name: "repeated property across rules keeps the winner only",
			doc:  `<style>p { color: red; } p { color: blue; }</style><p>x</p>`,
			want: `<p style="color: blue;">x</p>`,
		},
		{
			name: "double quotes become single quotes",
			doc:  `<style>p { font-family: "Helvetica Neue", Arial; background: url("/a.png"); content: "it's"; }</style><p>x</p>`,
			want: `<p style="font-family: 'Helvetica Neue', Arial; background: url('/a.png'); content: 'it\'s';">x</p>`,
		},
		{
			name: "escaped quotes outside strings stay",
			doc:  `<style>p { font-family: a\"b, "c d"; }</style><p>x</p>`,
			want: `<p style="font-family: a\&#34;b, 'c d';">x</p>`,
		},
		{
			name: "comments and whitespace",
			doc:  "<style>/* top */ p /* sel */ {\n  margin: 0\n    auto /* centred */;\n  color: red /* last */\n}</style><p>x</p>",
			want: `<p style="margin: 0 auto; color: red;">x</p>`,
		},
		{
			name: "colon inside a value",
			doc:  `<style>p { filter: progid:DXImageTransform.Microsoft.gradient(startColorstr='#000', endColorstr='#fff'); }</style><p>x</p>`,
			want: `<p style="filter: progid:DXImageTransform.Microsoft.gradient(startColorstr='#000', endColorstr='#fff');">x</p>`,
		},
		{
			name: "unquoted data URL with semicolon",
			doc:  `<style>p { background: url(data:image/png;base64,iVBORw0KGgo=); }</style><p>x</p>`,
			want: `<p style="background: url(data:image/png;base64,iVBORw0KGgo=);">x</p>`,
		},
		{
			name: "structural characters in strings, url() and parentheses",
			doc:  `<style>a[title="x;y{"] { content: "a;b}{:c"; x: f(a;b); background: url(a{b}.png); }</style><a title="x;y{">x</a>`,
			want: `<a title="x;y{" style="content: 'a;b}{:c'; x: f(a;b); background: url(a{b}.png);">x</a>`,
		},
		{
			name: "private-use characters in the input",
			doc:  "<style>p { content: \"\uE000\uE001\"; }</style><p>x</p>",
			want: `<p style="content: '\E000 \E001 ';">x</p>`,
		},
		{
			name: "selector list and combinators",
			doc:  `<style>ul > li, p + p { color: red; } div li { margin: 0; }</style><div><ul><li>a</li></ul><p>b</p><p>c</p></div>`,
			want: `<div><ul><li style="color: red; margin: 0;">a</li></ul><p>b</p><p style="color: red;">c</p></div>`,
		},
		{
			name: "media query stays in style",
			doc:  `<html><head><style>p { color: red; } @media (max-width: 600px) { p { color: blue !important; } }</style></head><body><p>x</p></body></html>`,
			want: "<html><head><style>\n@media (max-width: 600px) { p { color: blue !important; } }\n</style></head><body><p style=\"color: red;\">x</p></body></html>",
		},
		{
			name: "other at-rules stay in order",
			doc:  `<style>@import url("fonts.css"); @font-face { font-family: X; src: url(x.woff); } p { color: red; } @supports (display: grid) { p { display: grid; } }</style><p>x</p>`,
			want: "<style>\n@import url(\"fonts.css\");\n@font-face { font-family: X; src: url(x.woff); }\n@supports (display: grid) { p { display: grid; } }\n</style><p style=\"color: red;\">x</p>",
		},
		{
			name: "hover stays in style, the rest of its list is inlined",
			doc:  `<style>a, a:hover { color: red; } a:focus { color: blue; }</style><a href="#">x</a>`,
			want: "<style>\na:hover { color: red; }\na:focus { color: blue; }\n</style><a href=\"#\" style=\"color: red;\">x</a>",
		},
		{
			name: "pseudo-elements stay in style",
			doc:  `<style>p::before { content: "»"; } p:first-line { font-weight: bold; } p { color: red; }</style><p>x</p>`,
			want: "<style>\np::before { content: \"»\"; }\np:first-line { font-weight: bold; }\n</style><p style=\"color: red;\">x</p>",
		},
		{
			name: "static pseudo-classes are inlined",
			doc:  `<style>li:first-child { color: red; } li:not(.x) { margin: 0; } li:nth-child(2n) { color: blue; }</style><ul><li>a</li><li class="x">b</li></ul>`,
			want: `<ul><li style="color: red; margin: 0;">a</li><li class="x" style="color: blue;">b</li></ul>`,
		},
		{
			name: "extra CSS leftovers go to the head",
			doc:  `<html><head><title>t</title></head><body><a href="#">x</a></body></html>`,
			css:  []string{"a { color: red; } a:hover { color: blue; }"},
			want: "<html><head><title>t</title><style>\na:hover { color: blue; }\n</style></head><body><a href=\"#\" style=\"color: red;\">x</a></body></html>",
		},
		{
			name: "style elements left alone",
			doc:  `<style data-embed>p { color: red; }</style><style media="print">p { color: blue; }</style><p>x</p>`,
			want: `<style data-embed="">p { color: red; }</style><style media="print">p { color: blue; }</style><p>x</p>`,
		},
		{
			name: "invented tbody and wrappers stay out",
			doc:  `<style>* { margin: 0; }</style><table><tr><td>x</td></tr></table>`,
			want: `<table style="margin: 0;"><tr style="margin: 0;"><td style="margin: 0;">x</td></tr></table>`,
		},
		{
			name: "written tbody and body are kept and styled",
			doc:  `<style>tbody, body { margin: 0; }</style><body><table><tbody><tr><td>x</td></tr></tbody></table></body>`,
			want: `<body style="margin: 0;"><table><tbody style="margin: 0;"><tr><td>x</td></tr></tbody></table></body>`,
		},
		{
			name: "head elements take no style",
			doc:  `<html><head><title>t</title><style>* { margin: 0; }</style></head><body></body></html>`,
			want: `<html style="margin: 0;"><head><title>t</title></head><body style="margin: 0;"></body></html>`,
		},
		{
			name: "text keeps its quotes and entities stay valid",
			doc:  `<p>Don't say "no" &amp; &lt;b&gt; &nbsp;&copy;</p>`,
			want: `<p>Don't say "no" &amp; &lt;b&gt; &nbsp;©</p>`,
		},
		{
			name: "link attributes keep their written order",
			doc:  `<style>a { color: red; }</style><a id="c" href="#" class="b">x</a><b title="t" class="b">y</b>`,
			want: `<a id="c" href="#" class="b" style="color: red;">x</a><b title="t" class="b">y</b>`,
		},
		{
			name: "comments and conditional comments",
			doc:  `<!--[if mso]><table><tr><td><![endif]--><p>x</p><!--[if mso]></td></tr></table><![endif]-->`,
			want: `<!--[if mso]><table><tr><td><![endif]--><p>x</p><!--[if mso]></td></tr></table><![endif]-->`,
		},
		{
			name: "empty value skipped, the rest still cascades",
			doc:  `<style>p { color: ; margin: 0; } p { padding: 1px; }</style><p>x</p>`,
			want: `<p style="margin: 0; padding: 1px;">x</p>`,
		},
		{
			name: "stray semicolons and old-style comment markers",
			doc:  `<style><!-- p { color: red; }; ; div { margin: 0 } --></style><p>x</p><div>y</div>`,
			want: `<p style="color: red;">x</p><div style="margin: 0;">y</div>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := mustInline(t, tt.doc, tt.css...)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Inline() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInlineMergeTags(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		css  []string
		want string
	}{
		{
			name: "go template in text",
			doc:  `<style>p { color: red; }</style><p>Dear {{ .FirstName | default "Friend" }},</p>`,
			want: `<p style="color: red;">Dear {{ .FirstName | default "Friend" }},</p>`,
		},
		{
			name: "go template in attributes",
			doc:  `<style>a { color: red; }</style><a href="https://x.org/?n={{ .Name | default "Friend" | urlquery }}&amp;r={{.Ref}}" title='{{ .T }}'>x</a>`,
			want: `<a href="https://x.org/?n={{ .Name | default "Friend" | urlquery }}&amp;r={{.Ref}}" title="{{ .T }}" style="color: red;">x</a>`,
		},
		{
			name: "unquoted attribute and attribute position",
			doc:  `<a href={{.URL}} {{if .NewTab}}target="_blank"{{end}}>x</a><div{{.Attrs}}></div>`,
			want: `<a href="{{.URL}}" {{if .NewTab}}target="_blank" {{end}}>x</a><div {{.Attrs}}></div>`,
		},
		{
			name: "attribute order of links kept around actions",
			doc:  `{{.A}}{{.B}}{{.C}}{{.D}}{{.E}}{{.F}}{{.G}}{{.H}}<a title="t" {{if .X}} target="_blank" {{end}} href="{{.URL}}" class="c">x</a>`,
			want: `{{.A}}{{.B}}{{.C}}{{.D}}{{.E}}{{.F}}{{.G}}{{.H}}<a title="t" {{if .X}} target="_blank" {{end}} href="{{.URL}}" class="c">x</a>`,
		},
		{
			name: "actions between table rows stay in place",
			doc:  `<table>{{range .Reps}}<tr><td>{{.Name}}</td></tr>{{end}}</table>`,
			want: `<table>{{range .Reps}}<tr><td>{{.Name}}</td></tr>{{end}}</table>`,
		},
		{
			name: "title, comments and scripts",
			doc:  `<title>{{.Subject}} & more</title><!-- {{ "note" }} --><script>var a = "{{.A}}" < 1;</script>`,
			want: `<title>{{.Subject}} &amp; more</title><!-- {{ "note" }} --><script>var a = "{{.A}}" < 1;</script>`,
		},
		{
			name: "ejs, erb, php and liquid",
			doc:  `<style>div { color: red; }</style><div data-x="<%= user.name %>"><%- include("x") %> <?php echo "a" ?> {% if a > b %}yes{% endif %}</div>`,
			want: `<div data-x="<%= user.name %>" style="color: red;"><%- include("x") %> <?php echo "a" ?> {% if a > b %}yes{% endif %}</div>`,
		},
		{
			name: "handlebars blocks",
			doc:  `<style>p { color: red; }</style>{{#if ok}}<p>{{{ html }}}</p>{{/if}}`,
			want: `{{#if ok}}<p style="color: red;">{{{ html }}}</p>{{/if}}`,
		},
		{
			name: "unterminated tags pass through",
			doc:  `<p>{{ oops</p>`,
			want: `<p>{{ oops</p>`,
		},
		{
			name: "merge tag in a CSS value",
			doc:  `<style>p { color: {{ .Brand | default "#c00" }}; }</style><p>x</p><p>y</p>`,
			want: `<p style="color: {{ .Brand | default "#c00" }};">x</p><p style="color: {{ .Brand | default "#c00" }};">y</p>`,
		},
		{
			name: "merge tag in extra CSS",
			doc:  `<p>x</p>`,
			css:  []string{`p { color: {{.Color}}; }`},
			want: `<p style="color: {{.Color}};">x</p>`,
		},
		{
			name: "merge tag in a matched element's style attribute",
			doc:  `<style>p { margin: 0; }</style><p style="color: red; {{ .ExtraStyle }}">x</p>`,
			want: `<p style="margin: 0; color: red; {{ .ExtraStyle }};">x</p>`,
		},
		{
			name: "merge tag standing for a whole stylesheet",
			doc:  `<style>{{ .BrandCSS }}</style><p>x</p>`,
			want: "<style>\n{{ .BrandCSS }}\n</style><p>x</p>",
		},
		{
			name: "merge tags around rules stay, the rules are inlined",
			doc:  `<style>{{ if .Dark }}p { color: white; }{{ end }}</style><p>x</p>`,
			want: "<style>\n{{ if .Dark }}\n{{ end }}\n</style><p style=\"color: white;\">x</p>",
		},
		{
			name: "placeholder-like text in the input",
			doc:  `<p class="dfmt0_">dfmt1_ DFMT</p>`,
			want: `<p class="dfmt0_">dfmt1_ DFMT</p>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := mustInline(t, tt.doc, tt.css...)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Inline() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDouceurGuards covers the inputs douceur mishandles on its own.
func TestDouceurGuards(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{
			name: "declarations right inside @media (douceur loops forever)",
			doc:  `<style>@media screen { color: blue; } p { color: red; }</style><p>x</p>`,
			want: "<style>\n@media screen { color: blue; }\n</style><p style=\"color: red;\">x</p>",
		},
		{
			name: "declarations right inside nested at-rules",
			doc:  `<style>@supports (x: y) { @media screen { color: blue; a; } }</style><p>x</p>`,
			want: "<style>\n@supports (x: y) { @media screen { color: blue; a; } }\n</style><p>x</p>",
		},
		{
			name: "last declaration without ';' in a rule",
			doc:  `<style>p { margin: 0; color: red }</style><p>x</p>`,
			want: `<p style="margin: 0; color: red;">x</p>`,
		},
		{
			name: "last declaration without ';' in a style attribute (douceur drops its value)",
			doc:  `<style>.a { padding-bottom: 5px; }</style><div class="a" style="margin: 0; padding: 10px"></div>`,
			want: `<div class="a" style="padding-bottom: 5px; margin: 0; padding: 10px;"></div>`,
		},
		{
			name: "semicolon after a rule",
			doc:  `<style>p { color: red; }; div { margin: 0; };</style><p>x</p>`,
			want: `<p style="color: red;">x</p>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := mustInline(t, tt.doc)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Inline() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInlineErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		css  []string
		want string
	}{
		{
			name: "declaration outside any rule",
			doc:  "<style>\np { color: red; }\ncolor: blue;\n</style>",
			want: `<style> element 1, line 3: rule "color: blue": expected '{' before ';'`,
		},
		{
			name: "declaration without colon",
			doc:  "<style>p { color red; }</style>",
			want: `<style> element 1, line 1: rule "p": declaration "color red" has no ':'`,
		},
		{
			name: "missing closing brace",
			doc:  "<style>p { color: red; }\n.a { margin: 0;</style>",
			want: `<style> element 1, line 2: rule ".a": missing '}'`,
		},
		{
			name: "stray closing brace",
			doc:  "<style>p { color: red; } }</style>",
			want: `<style> element 1, line 1: unexpected '}'`,
		},
		{
			name: "nested rule",
			doc:  "<style>.a { color: red; .b { color: blue; } }</style>",
			want: `<style> element 1, line 1: rule ".a": unexpected '{' inside a declaration block (nested rules are not supported)`,
		},
		{
			name: "unterminated comment",
			doc:  "<style>p { color: red; } /* oops</style>",
			want: `<style> element 1, line 1: unterminated comment`,
		},
		{
			name: "unterminated string",
			doc:  "<style>p { font-family: \"Arial; }</style>",
			want: `<style> element 1, line 1: rule "p": unreadable string (no closing quote, or a raw tab, newline or control character in it)`,
		},
		{
			name: "unterminated at-rule",
			doc:  "<style>@media screen { p { color: red; }</style>",
			want: `<style> element 1, line 1: rule "@media": missing '}'`,
		},
		{
			name: "selector without block",
			doc:  "<style>p { color: red; } div</style>",
			want: `<style> element 1, line 1: rule "div": no declaration block`,
		},
		{
			name: "empty selector",
			doc:  "<style>a, { color: red; }</style>",
			want: `<style> element 1, line 1: rule "a,": empty selector in the list`,
		},
		{
			name: "merge tags shown as written",
			doc:  `<style>.{{ .Class }} { color {{ .Color }}; }</style>`,
			want: `<style> element 1, line 1: rule ".{{ .Class }}": declaration "color {{ .Color }}" has no ':'`,
		},
		{
			name: "broken url",
			doc:  `<style>p { background: url(a b.png); }</style>`,
			want: `<style> element 1, line 1: rule "p": unreadable url( (unquoted with a space, quote or control character in it, or no ')')`,
		},
		{
			name: "error in extra CSS",
			doc:  "<p>x</p>",
			css:  []string{"p { color: red; }", "\n\np { color red }"},
			want: `ExtraCSS[1], line 3: rule "p": declaration "color red" has no ':'`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Inline(tt.doc, Options{ExtraCSS: tt.css})
			var ce *cssError
			if !errors.As(err, &ce) {
				t.Fatalf("Inline() error = %v, want a CSS error", err)
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInlineWarnings(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{
			name: "unsupported selector stays in style",
			doc:  `<style>p:is(.a) { color: red; } p { margin: 0; }</style><p class="a">x</p>`,
			want: []string{`selector "p:is(.a)" is not supported; its rule stays in <style>`},
		},
		{
			name: "declaration without value",
			doc:  `<style>a { color: ; }</style><a>x</a>`,
			want: []string{`declaration "color:" has no value; skipped`},
		},
		{
			name: "unreadable style attribute kept",
			doc:  `<style>p { margin: 0; }</style><p style="color red">x</p>`,
			want: []string{`style attribute "color red" cannot be read (declaration "color red" has no ':'); kept as it is`},
		},
		{
			name: "merge tag in CSS that matched nothing",
			doc:  `<style>.none { color: {{.C}}; }</style><p>x</p>`,
			want: []string{`merge tag "{{.C}}" was dropped: it sat in CSS that was inlined nowhere, or in markup the HTML parser discards`},
		},
		{
			name: "merge tags around rules",
			doc:  `<style>{{ if .Dark }}p { color: white; }{{ end }}</style><p>x</p>`,
			want: []string{`merge tags between CSS rules ({{ if .Dark }} {{ end }}) stay in <style>; the rules are inlined as if they were not there`},
		},
		{
			name: "no warnings",
			doc:  `<style>p { color: red; }</style><p>x</p>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := mustInline(t, tt.doc)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("warnings mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInlineKeepsUnsupportedSelectorRule(t *testing.T) {
	got, _ := mustInline(t, `<style>p:is(.a), p { color: red; }</style><p class="a">x</p>`)
	want := "<style>\np:is(.a) { color: red; }\n</style><p class=\"a\" style=\"color: red;\">x</p>"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Inline() mismatch (-want +got):\n%s", diff)
	}
}

func TestInlineFullDocument(t *testing.T) {
	doc := "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<style>\nbody { margin: 0; }\n</style>\n</head>\n<body>\n<p>x</p>\n</body>\n</html>\n"
	got, _ := mustInline(t, doc)
	want := "<!DOCTYPE html><html lang=\"en\"><head>\n\n</head>\n<body style=\"margin: 0;\">\n<p>x</p>\n\n\n</body></html>"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Inline() mismatch (-want +got):\n%s", diff)
	}
	if strings.Contains(got, "dfmt") {
		t.Errorf("marker left in output: %s", got)
	}
}

func TestInlineManyProperties(t *testing.T) {
	var css, want strings.Builder
	css.WriteString("<style>p {")
	for i := range 40 {
		fmt.Fprintf(&css, " --p%d: %d;", i, i)
	}
	css.WriteString(" } #a { --p3: x; --p3: y; } p { --p39: z; }</style><p id=\"a\">x</p>")
	want.WriteString(`<p id="a" style="`)
	for i := range 39 {
		if i != 3 {
			fmt.Fprintf(&want, "--p%d: %d; ", i, i)
		}
	}
	want.WriteString(`--p39: z; --p3: x; --p3: y;">x</p>`)
	got, _ := mustInline(t, css.String())
	if diff := cmp.Diff(want.String(), got); diff != "" {
		t.Errorf("Inline() mismatch (-want +got):\n%s", diff)
	}
}

// TestInlinePathological runs inputs that would take minutes if some scan
// were quadratic; they take milliseconds.
func TestInlinePathological(t *testing.T) {
	const n = 100_000
	docs := []struct {
		name string
		doc  string
		css  string
	}{
		{"unclosed merge tags", strings.Repeat("{{", n), ""},
		{"unclosed merge tags in a tag", "<a " + strings.Repeat("{{ <% ", n) + ">", ""},
		{"unclosed merge tags in a comment", "<!--" + strings.Repeat("{%", n) + "-->", ""},
		{"placeholder prefix lookalikes", strings.Repeat("dfmt", n) + "dfmt" + strings.Repeat("x", n), ""},
		{"unclosed url", "<p>x</p>", "p { a: " + strings.Repeat("url(", n) + " }"},
		{"many rules", strings.Repeat("<p class=a>x</p>", 1000), strings.Repeat(".a { color: red; }", 2000)},
	}
	for _, tt := range docs {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Inline(tt.doc, Options{ExtraCSS: []string{tt.css}})
			var ce *cssError
			if err != nil && !errors.As(err, &ce) {
				t.Fatal(err)
			}
		})
	}
}
