package render

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

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
	f.Fuzz(func(t *testing.T, s string) {
		out := TextFromHTML(s)
		if strings.Contains(out, "\n\n\n") {
			t.Fatalf("three newlines in a row: %q", out)
		}
	})
}
