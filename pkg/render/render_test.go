package render

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const layout = `<!DOCTYPE html><html><head><style>
.box { color: #222; padding: 4px; }
p { margin: 0 0 12px 0; }
@media (max-width: 600px) { .box { padding: 0 !important; } }
</style></head><body><span class="pre" style="display:none"><!--preheader--></span>
<div class="box"><!--content--></div>
<p>{{ .OrgName }}, {{ .PostalAddress }}. <a href="{{ .UnsubscribeURL }}">Unsubscribe</a></p>
</body></html>`

func testCompiler() *Compiler {
	fsys := fstest.MapFS{"basic.html": {Data: []byte(layout)}}
	return NewCompiler(fsys, Org{Name: "Example Action", PostalAddress: "1 Main St, Springfield"})
}

type fakeURLs struct{}

func (fakeURLs) Click(s, l int64) string    { return "https://t.example/c/" + itoa(s) + "/" + itoa(l) }
func (fakeURLs) Open(s int64) string        { return "https://t.example/o/" + itoa(s) }
func (fakeURLs) Unsubscribe(s int64) string { return "https://t.example/u/" + itoa(s) }
func (fakeURLs) Preferences(s int64) string { return "https://t.example/p/" + itoa(s) }
func (fakeURLs) View(s int64) string        { return "https://t.example/v/" + itoa(s) }
func (fakeURLs) Action(s, _ int64, slug string) string {
	return "https://t.example/a/" + slug + "?r=" + itoa(s)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func input(body string) Input {
	return Input{Subject: "{{ .FirstName | default \"Friend\" }}, act now", Preheader: "Eleven days left", FromName: "Maya",
		FromEmail: "action@example.org", Layout: "basic", HTML: body}
}

// TestCompileAndMerge renders one recipient's email and compares it with the golden files.
func TestCompileAndMerge(t *testing.T) {
	body := `<p>Dear {{ .FirstName | default "Friend" }},</p>
<p><strong>Sign now.</strong> Our demands:</p>
<ul><li>one</li><li>two &amp; three</li></ul>
<p><a href="https://example.org/sign?a=1&amp;b=2">ADD YOUR NAME</a> or <a href="https://example.org/sign?a=1&amp;b=2">here</a>,
<a data-notrack href="https://example.org/private">untracked</a>, <a href="mailto:x@example.org">mail us</a>.</p>`
	c, err := testCompiler().Compile(input(body))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"https://example.org/sign?a=1&b=2"}, c.Links); d != "" {
		t.Errorf("links (-want +got):\n%s", d)
	}
	c.SetLinkIDs([]int64{7})
	for _, r := range []Recipient{{SendID: 3, Email: "jane@example.org", FirstName: "Jane"}, {SendID: 4, Email: "x@example.org", FirstName: "<b>Bo</b>"}} {
		out, err := c.Merge(r, fakeURLs{})
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "merged-"+r.Email+".html", out.HTML)
		golden(t, "merged-"+r.Email+".txt", "Subject: "+out.Subject+"\n\n"+out.Text)
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("%s (-want +got):\n%s", name, d)
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name  string
		in    Input
		field string
		msg   string
	}{
		{"bad function", input("<p>a</p>\n<p>{{ .FirstName | nope }}</p>"), "html", "line 2, column 4: function \"nope\" not defined"},
		{"unterminated", input("<p>a</p>\n\n<p>{{ .FirstName }} and {{ .LastName</p>"), "html", "line 3, column 25"},
		{"unknown field", input("<p>{{ .Nick }}</p>"), "html", "line 1, column 7: unknown merge field .Nick"},
		{"unclosed if", input("<p>{{ if .FirstName }}x</p>"), "html", "line 1"},
		{"subject", Input{Subject: "Hi {{ .Nick }}", FromName: "M", FromEmail: "a@example.org", HTML: "<p>x</p>", Layout: "basic"}, "subject", "unknown merge field .Nick"},
		{"header injection", Input{Subject: "Hi\nBcc: x@y.org", FromName: "M", FromEmail: "a@example.org", HTML: "x"}, "subject", "one line"},
		{"bad from", Input{Subject: "Hi", FromName: "M", FromEmail: "Maya <a@example.org>", HTML: "x"}, "from_email", "plain email"},
		{"unknown layout", Input{Subject: "Hi", FromName: "M", FromEmail: "a@example.org", HTML: "x", Layout: "../etc/passwd"}, "layout", "unknown layout"},
		{"shortener", input(`<p>a</p><p><a href="https://bit.ly/3xyz">b</a></p>`), "html", `link "https://bit.ly/3xyz" goes through the URL shortener bit.ly`},
		{"shortener subdomain, untracked", input(`<p><a data-notrack href="http://www.TinyURL.com/x">b</a></p>`), "html", "URL shortener tinyurl.com"},
		{"unreadable CSS", input(`<style>p { color: red; } .x { color: blue; </style><p>a</p>`), "html", `CSS: <style> element 2, line 1: rule ".x": missing '}'`},
		{"share wrong arg count", input("<p>a</p>\n<a href=\"{{ share_facebook }}\">x</a>"), "html", "line 2, column 13: wrong number of args for share_facebook: want 1 got 0"},
		{"share wrong arg type", input("<p>a</p>\n<a href=\"{{ share_x 42 }}\">x</a>"), "html", "line 2, column 21: expected string; found 42"},
		{"share not a URL", input("<p>a</p>\n<a href=\"{{ share_facebook \"example.org\" }}\">x</a>"), "html", `line 2, column 13: error calling share_facebook: share_facebook wants an absolute http(s) URL, got "example.org"`},
		{"share too many texts", input(`<a href="{{ share_x "https://x.org" "a" "b" }}">x</a>`), "html", "at most one text"},
		{"action bad slug", input("<p>a</p>\n<p>x</p>\n<a href=\"{{ action_link \"North Fork\" }}\">x</a>"), "html", `line 3, column 13: error calling action_link: action_link wants a slug`},
		{"action no slug", input(`<a href="{{ action_link }}">x</a>`), "html", "wrong number of args for action_link"},
		{"too large", Input{Subject: "Hi", FromName: "M", FromEmail: "a@example.org", HTML: strings.Repeat("x", MaxBodySize+1)}, "html", "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := testCompiler().Compile(tt.in)
			e, ok := errs.As(err)
			if !ok || e.Field != tt.field || !strings.Contains(e.Message, tt.msg) {
				t.Fatalf("error = %v; want field %q and message containing %q", err, tt.field, tt.msg)
			}
		})
	}
}

func TestTextFromHTML(t *testing.T) {
	got := TextFromHTML(`<html><head><title>x</title><style>p{}</style></head><body>
<span style="display: none">preheader</span>
<h1>Act now</h1><p>Dear {{ .FirstName | default "Friend" }},</p>
<ul><li>one</li><li>two</li></ul>
<p><a href="~m~L0~">Sign</a> &amp; <a href="https://x.org">https://x.org</a></p></body></html>`)
	want := "Act now\n\nDear {{ .FirstName | default \"Friend\" }},\n\n- one\n- two\n\nSign (~m~L0~) & https://x.org\n"
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func FuzzTextFromHTML(f *testing.F) {
	f.Add(`<p>Dear {{ .FirstName }}</p><ul><li><a href="x">y</a></li></ul>`)
	f.Add(`<a><a><a></p></li>`)
	f.Add(`<a href="{{ share_x "https://x.org" }}" title='{{ "<" }}'>x</a><script>{{ "</script>" }}</script><plaintext>`)
	f.Fuzz(func(t *testing.T, s string) {
		out := TextFromHTML(s)
		if strings.Contains(out, "\n\n\n") {
			t.Fatalf("three newlines in a row: %q", out)
		}
		// The tokens' bytes as written put together are the input.
		var tiled strings.Builder
		for z, done := newTokenizer(s), false; !done; {
			done = z.Next() == html.ErrorToken
			tiled.WriteString(z.raw) // at the end: an unfinished tag, if any
		}
		if tiled.String() != s {
			t.Fatalf("tokens do not tile the input:\n%q\n%q", tiled.String(), s)
		}
	})
}

// TestCompileCleansBody checks that what mail clients refuse is removed, with
// a warning, and everything else is kept as written.
func TestCompileCleansBody(t *testing.T) {
	tests := []struct {
		name, body, want string
		warnings         []string
	}{
		{"script", `<p>a</p><script>alert("x")</script><p>b</p>`, `<p>a</p><p>b</p>`,
			[]string{"<script> removed: mail clients do not run or show it"}},
		{"form with content", `<form action="https://x.example/"><input name="q"><button>Go</button></form><p>b</p>`, `<p>b</p>`,
			[]string{"<form> removed: mail clients do not run or show it"}},
		{"iframe, object, embed", `<iframe src="https://x.example/"></iframe><object data="x"><p>fallback</p></object><embed src="x.swf"><p>b</p>`, `<p>b</p>`,
			[]string{"<iframe> removed: mail clients do not run or show it", "<object> removed: mail clients do not run or show it"}},
		{"event handlers", `<p onclick="steal()" class="x" ONMOUSEOVER='y()'>a</p>`, `<p class="x">a</p>`,
			[]string{"onclick attribute removed from <p>: mail clients do not run scripts", "onmouseover attribute removed from <p>: mail clients do not run scripts"}},
		{"javascript URL", `<p><a href=" java&#09;script:alert(1)">a</a></p>`, `<p><a>a</a></p>`,
			[]string{"javascript: URL removed from <a href>"}},
		{"merge tags kept", `<p {{ if .FirstName }}class="named"{{ end }} onclick="x">Dear {{ .FirstName | default "Friend" }}</p>`, `<p {{ if .FirstName }}class="named"{{ end }}>Dear {{ .FirstName | default "Friend" }}</p>`,
			[]string{"onclick attribute removed from <p>: mail clients do not run scripts"}},
		{"data: link", `<p><a href=" DATA:text/html;base64,PHNjcmlwdD4=">a</a><img src="data:image/png;base64,iVBO"></p>`, `<p><a>a</a><img src="data:image/png;base64,iVBO"></p>`,
			[]string{"data: URL removed from <a href>"}},
		{"meta refresh", `<head><meta charset="utf-8"><meta http-equiv=" Refresh " content="0;url=https://evil.example/"></head><p>a</p>`, `<head><meta charset="utf-8"></head><p>a</p>`,
			[]string{`<meta http-equiv="refresh"> removed: it would take the reader to another page`}},
		{"base", `<head><base href="https://evil.example/"><BASE target=_top></head><p><a href="x">a</a></p>`, `<head></head><p><a href="x">a</a></p>`,
			[]string{"<base> removed: it would change where the message's links go"}},
		{"clean body", `<p class="a">Dear {{ .FirstName }}</p>`, `<p class="a">Dear {{ .FirstName }}</p>`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := linkPass{marker: func(byte, int) string { return "M" }}
			got, err := p.rewrite(tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("body (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.warnings, p.warnings); d != "" {
				t.Errorf("warnings (-want +got):\n%s", d)
			}
		})
	}
	// Compile reports them and sends without them.
	c, err := testCompiler().Compile(input(`<p onclick="x()">Hi</p><script>x()</script>`))
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Merge(Recipient{SendID: 1, Email: "a@example.org"}, fakeURLs{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 2 || strings.Contains(out.HTML, "onclick") || strings.Contains(out.HTML, "<script") {
		t.Errorf("warnings %q; merged HTML still has the script:\n%s", c.Warnings, out.HTML)
	}
}

func TestLinks(t *testing.T) {
	tests := []struct {
		name string
		utm  UTM
		href string
		want string // the tracked target
	}{
		{"no UTM", UTM{}, "https://example.org/sign?a=1&amp;b=2", "https://example.org/sign?a=1&b=2"},
		{"UTM added", UTM{Source: "email", Medium: "alert", Campaign: "north fork"}, "https://example.org/sign",
			"https://example.org/sign?utm_source=email&utm_medium=alert&utm_campaign=north+fork"},
		{"existing kept, fragment kept", UTM{Source: "email", Medium: "alert"}, "https://example.org/sign?utm_source=fb&x=1#form",
			"https://example.org/sign?utm_source=fb&x=1&utm_medium=alert#form"},
		{"empty query", UTM{Campaign: "c"}, "https://example.org/sign?", "https://example.org/sign?utm_campaign=c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := input(`<p><a href="` + tt.href + `">sign</a></p>`)
			in.UTM = tt.utm
			c, err := testCompiler().Compile(in)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff([]string{tt.want}, c.Links); d != "" {
				t.Errorf("links (-want +got):\n%s", d)
			}
		})
	}
}

func TestShareAndActionLinks(t *testing.T) {
	c, err := testCompiler().Compile(input(`<p><a href="{{ share_facebook "https://example.org/p?a=1&b=2" }}">Share</a>
<a href="{{ share_x "https://example.org/p" "Sign this now" }}">Post</a>
<a href="{{ share_email "https://example.org/p" "Sign this" }}">Forward</a>
<a href="{{ action_link "northfork" }}">ADD YOUR NAME</a></p>`))
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Merge(Recipient{SendID: 42, Email: "jane@example.org"}, fakeURLs{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`href="https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fexample.org%2Fp%3Fa%3D1%26b%3D2"`,
		`href="https://x.com/intent/post?url=https%3A%2F%2Fexample.org%2Fp&amp;text=Sign&#43;this&#43;now"`,
		`href="mailto:?subject=Sign%20this&amp;body=https:%2F%2Fexample.org%2Fp"`,
		`href="https://t.example/a/northfork?r=42"`,
	} {
		if !strings.Contains(out.HTML, want) {
			t.Errorf("merged HTML lacks %s:\n%s", want, out.HTML)
		}
	}
	if !strings.Contains(out.Text, "ADD YOUR NAME (https://t.example/a/northfork?r=42)") {
		t.Errorf("text part lacks the action link:\n%s", out.Text)
	}
}

// TestPlanMatchesTemplate merges with the fast plan and by executing the
// templates, for bodies of every kind of action and for recipients whose
// fields need escaping: both must give the same bytes.
func TestPlanMatchesTemplate(t *testing.T) {
	bodies := []struct {
		name, body string
		plan       bool // whether the HTML part gets a plan
	}{
		{"fields", `<p title="{{ .FirstName }} {{ .LastName | upper }}">Dear {{ .FirstName | default "Friend" | trim }}, {{ .Email | lower }}</p>`, true},
		{"links and constants", `<p><a href="https://example.org/x">x</a> <a href="{{ action_link "northfork" }}">sign</a> <a href="{{ share_facebook "https://example.org/p?a=1&b=2" }}">share</a> {{ .OrgName | upper }} <a href="{{ .UnsubscribeURL }}">u</a></p>`, true},
		{"other actions", `<p>{{ printf "%s/%s" .FirstName .LastName }} <a href="mailto:{{ .Email }}?subject={{ .FirstName }}">m</a></p>`, true},
		{"control flow", `<p>{{ if .FirstName }}Dear {{ .FirstName }}{{ else }}Friend{{ end }}</p>`, false},
	}
	recipients := []Recipient{
		{SendID: 3, Email: "jane@example.org", FirstName: "Jane", LastName: "Doe"},
		{SendID: 4, Email: "o'brien+x@example.org", FirstName: `<script>"x"</script> & +`, LastName: "Zoë\x00\xff"},
		{SendID: 5, Email: "e@example.org"},
	}
	for _, b := range bodies {
		t.Run(b.name, func(t *testing.T) {
			c, err := testCompiler().Compile(input(b.body))
			if err != nil {
				t.Fatal(err)
			}
			if (c.htmlPlan != nil) != b.plan {
				t.Fatalf("HTML plan: %v, want %v", c.htmlPlan != nil, b.plan)
			}
			slow := *c
			slow.htmlPlan, slow.textPlan = nil, nil
			for _, r := range recipients {
				fast, err := c.Merge(r, fakeURLs{})
				if err != nil {
					t.Fatal(err)
				}
				want, err := slow.Merge(r, fakeURLs{})
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(want, fast); d != "" {
					t.Errorf("recipient %d (-executed +planned):\n%s", r.SendID, d)
				}
			}
		})
	}
}

// FuzzMergePlan compiles any body and checks that, when it compiles, the
// fast plan merges exactly as executing the templates does.
//
//	go test -run '^$' -fuzz FuzzMergePlan -fuzztime 1m ./pkg/render/
func FuzzMergePlan(f *testing.F) {
	f.Add(`<p title="{{ .FirstName }}">Dear {{ .FirstName | default "Friend" | upper }}</p>`)
	f.Add(`<a href="https://x.org/?a={{ .Email }}&amp;b=1" onclick="x()">{{ .OrgName }}</a><script>x</script>`)
	f.Add(`<p>{{ printf "%q" .LastName }} <a href="{{ action_link "a-1" }}">a</a> {{ if .Email }}{{ .Email }}{{ end }}</p>`)
	f.Add(`<style>p { color: red }</style><p style="x: {{ .FirstName }}">{{ share_x "https://x.org" .FirstName }}</p>`)
	compiler := testCompiler()
	r := Recipient{SendID: 9, Email: "o'brien+x@example.org", FirstName: `<b>"Zoë"</b> & +`, LastName: "\x00\xff'"}
	f.Fuzz(func(t *testing.T, body string) {
		c, err := compiler.Compile(input(body))
		if err != nil {
			return
		}
		fast, ferr := c.Merge(r, fakeURLs{})
		slow := *c
		slow.htmlPlan, slow.textPlan = nil, nil
		want, serr := slow.Merge(r, fakeURLs{})
		if fmt.Sprint(ferr) != fmt.Sprint(serr) {
			t.Fatalf("errors differ: planned %v, executed %v", ferr, serr)
		}
		if d := cmp.Diff(want, fast); d != "" {
			t.Fatalf("(-executed +planned):\n%s", d)
		}
	})
}
