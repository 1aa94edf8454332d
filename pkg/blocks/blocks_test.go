package blocks_test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html"

	"github.com/dearfriend/dearfriend/pkg/blocks"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/render"
	"github.com/dearfriend/dearfriend/templates"
)

// alert is the petition alert of the domain, as the editor posts it.
const alert = `{"blocks":[
 {"type":"paragraph","content":[{"text":"Dear "},{"merge":"FirstName","fallback":"Friend"},{"text":","}]},
 {"type":"paragraph","content":[{"text":"The permit comes up in "},{"text":"eleven days","bold":true},{"text":": "},{"text":"the administration must act","italic":true},{"text":". "},{"text":"Read the report","link":"https://example.org/report?a=1&b=2"},{"text":"."}]},
 {"type":"heading","level":2,"content":[{"text":"Our demands"}]},
 {"type":"list","items":[[{"text":"refuse the permit"}],[{"text":"publish the tests"}]]},
 {"type":"image","src":"https://example.org/river.jpg","alt":"The North Fork at dawn","width":536,"height":268},
 {"type":"button","text":"ADD YOUR NAME","petition":"northfork"},
 {"type":"divider"},
 {"type":"signature","closing":"Thank you,","name":"Maya Ortiz","title":"Campaigns Director"},
 {"type":"share","url":"https://example.org/a/northfork","text":"I signed & you can too"}
]}`

func mustRender(t *testing.T, doc string) string {
	t.Helper()
	d, err := blocks.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	out, err := blocks.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRenderAlert(t *testing.T) {
	t.Parallel()
	got := mustRender(t, alert)
	for _, want := range []string{
		"<p>Dear {{ .FirstName | default \"Friend\" }},</p>\n",
		"<strong>eleven days</strong>",
		"<em>the administration must act</em>",
		`<a href="https://example.org/report?a=1&amp;b=2">Read the report</a>`,
		"<h2>Our demands</h2>\n",
		"<ul>\n<li>refuse the permit</li>\n<li>publish the tests</li>\n</ul>\n",
		`<img src="https://example.org/river.jpg" alt="The North Fork at dawn" width="536" height="268"`,
		`<a class="button" href="{{ action_link "northfork" }}"`,
		">ADD YOUR NAME</a>",
		`<hr style=`,
		"<p class=\"signature\">Thank you,</p>\n<p>Maya Ortiz<br>Campaigns Director</p>\n",
		`{{ share_x "https://example.org/a/northfork" "I signed \u0026 you can too" }}`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the HTML lacks %q:\n%s", want, got)
		}
	}
}

// compile compiles body as a message in layout.
func compile(t testing.TB, layout, body string) (*render.Compiled, error) {
	t.Helper()
	layouts, err := fs.Sub(templates.FS, "email")
	if err != nil {
		t.Fatal(err)
	}
	c := render.NewCompiler(layouts, render.Org{Name: "Friends of the River", PostalAddress: "12 Water St"})
	return c.Compile(render.Input{Subject: "Act now", FromName: "Maya", FromEmail: "action@example.org", Layout: layout, HTML: body})
}

type urls struct{}

func (urls) Click(int64, int64) string          { return "https://act.example.org/t/c" }
func (urls) Open(int64) string                  { return "https://act.example.org/t/o" }
func (urls) Unsubscribe(int64) string           { return "https://act.example.org/u" }
func (urls) Preferences(int64) string           { return "https://act.example.org/p" }
func (urls) View(int64) string                  { return "https://act.example.org/v" }
func (urls) Action(_, _ int64, s string) string { return "https://act.example.org/a/" + s }

// TestMergedAlert compiles the blocks' HTML as a campaign would, with no
// warning, and merges it: "Friend" stands for an empty first name, the name when there is one,
// escaped; the button is the recipient's action link.
func TestMergedAlert(t *testing.T) {
	t.Parallel()
	c, err := compile(t, "", mustRender(t, alert))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"northfork"}, c.Actions); diff != "" {
		t.Errorf("action links (-want +got):\n%s", diff)
	}
	// What the blocks write is held to the checks of a message, and passes.
	if len(c.Warnings) > 0 {
		t.Errorf("the blocks' HTML draws warnings: %q", c.Warnings)
	}
	for _, tc := range []struct{ first, want, wantText string }{
		{"", "Dear Friend,", "Dear Friend,"},
		{"  ", "Dear Friend,", "Dear Friend,"},
		{"Jane", "Dear Jane,", "Dear Jane,"},
		{"<b>Jo</b>", "Dear &lt;b&gt;Jo&lt;/b&gt;,", "Dear <b>Jo</b>,"},
	} {
		r, err := c.Merge(render.Recipient{SendID: 1, Email: "j@example.org", FirstName: tc.first}, urls{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(r.HTML, tc.want) {
			t.Errorf("first name %q: the HTML lacks %q", tc.first, tc.want)
		}
		if !strings.Contains(r.Text, tc.wantText) {
			t.Errorf("first name %q: the text lacks %q:\n%s", tc.first, tc.wantText, r.Text)
		}
		if !strings.Contains(r.HTML, `href="https://act.example.org/a/northfork"`) {
			t.Errorf("the button is not the action link")
		}
	}
}

// TestEscaping: what an organizer types stays text, in the HTML and in the
// text alternative, whatever it looks like.
func TestEscaping(t *testing.T) {
	t.Parallel()
	for _, typed := range []string{
		`<script>alert(1)</script>`,
		`{{ .Email }}`,
		`{{ template "x" }}`,
		`}}{{`,
		`"><img src=x onerror=alert(1)>`,
		`&lt;b&gt; & {`,
	} {
		doc, _ := json.Marshal(blocks.Doc{Blocks: []blocks.Block{
			{Type: "paragraph", Content: []blocks.Span{{Text: typed}, {Merge: "FirstName", Fallback: "Friend"}}},
			{Type: "image", Src: "https://example.org/a.png", Alt: typed},
			{Type: "button", Text: typed, URL: "https://example.org/?q=" + typed},
			{Type: "share", URL: "https://example.org/p", Text: typed},
			{Type: "signature", Name: typed, Title: typed},
		}})
		c, err := compile(t, "none", mustRender(t, string(doc)))
		if err != nil {
			t.Fatalf("%q: %v", typed, err)
		}
		r, err := c.Merge(render.Recipient{SendID: 1, Email: "j@example.org"}, urls{})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(r.HTML, "j@example.org") {
			t.Errorf("%q became a merge tag:\n%s", typed, r.HTML)
		}
		if err := onlyBlockMarkup(r.HTML); err != nil {
			t.Errorf("%q: %v", typed, err)
		}
		if !strings.Contains(r.Text, typed) {
			t.Errorf("the text alternative lacks %q as typed:\n%s", typed, r.Text)
		}
		if !strings.Contains(html.UnescapeString(r.HTML), typed) {
			t.Errorf("the HTML lacks %q as text:\n%s", typed, r.HTML)
		}
	}
}

// TestRefused: each mistake is refused with the block, counted from 1, and
// the field named, at the field path the forms read.
func TestRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, doc, field, msg string
	}{
		{"javascript link", `{"blocks":[{"type":"paragraph","content":[{"text":"x","link":"javascript:alert(1)"}]}]}`,
			"blocks[0].content[0].link", `block 1 (paragraph), content[0].link: "javascript:alert(1)" is a javascript: link`},
		{"javascript with spaces", `{"blocks":[{"type":"button","text":"Go","url":" JavaScript:alert(1)"}]}`,
			"blocks[0].url", "is a javascript: link"},
		{"data image", `{"blocks":[{"type":"image","src":"data:image/png;base64,AAAA","alt":"x"}]}`,
			"blocks[0].src", "is a data: link"},
		{"mailto image", `{"blocks":[{"type":"image","src":"mailto:a@example.org","alt":"x"}]}`,
			"blocks[0].src", "use http or https"},
		{"relative", `{"blocks":[{"type":"button","text":"Go","url":"/a/northfork"}]}`,
			"blocks[0].url", "start it with https://"},
		{"no host", `{"blocks":[{"type":"button","text":"Go","url":"https:///x"}]}`,
			"blocks[0].url", "has no host"},
		{"image without alt", `{"blocks":[{"type":"paragraph","content":[{"text":"hi"}]},{"type":"image","src":"https://example.org/a.png","alt":" "}]}`,
			"blocks[1].alt", "block 2 (image), alt: is required"},
		{"button nowhere", `{"blocks":[{"type":"button","text":"Go"}]}`, "blocks[0].url", "choose a petition or type the URL"},
		{"button both", `{"blocks":[{"type":"button","text":"Go","url":"https://example.org","petition":"northfork"}]}`, "blocks[0].url", "not both"},
		{"bad slug", `{"blocks":[{"type":"button","text":"Go","petition":"North Fork\" }}{{ .Email"}]}`, "blocks[0].petition", "is not a petition's slug"},
		{"unknown merge", `{"blocks":[{"type":"paragraph","content":[{"merge":"Password"}]}]}`, "blocks[0].content[0]", `"Password" is not a merge field`},
		{"fallback with a quote", `{"blocks":[{"type":"paragraph","content":[{"merge":"FirstName","fallback":"a\" }}"}]}]}`, "blocks[0].content[0].fallback", "must be at most 40 letters"},
		{"empty paragraph", `{"blocks":[{"type":"paragraph","content":[{"text":"  "}]}]}`, "blocks[0].content", "is empty"},
		{"unknown type", `{"blocks":[{"type":"video"}]}`, "blocks[0].type", `"video" is not a block type`},
		{"image height", `{"blocks":[{"type":"image","src":"https://example.org/a.png","alt":"x","height":-4}]}`, "blocks[0].height", "must be from 1 to 3000 pixels, not -4"},
		{"heading level", `{"blocks":[{"type":"heading","level":7,"content":[{"text":"x"}]}]}`, "blocks[0].level", "must be 1, 2 or 3"},
		{"control character", `{"blocks":[{"type":"paragraph","content":[{"text":"a\u0000b"}]}]}`, "blocks[0].content[0].text", "control character"},
		{"no blocks", `{"blocks":[]}`, "blocks", "add at least one block"},
		{"unknown field", `{"blocks":[{"type":"paragraph","onclick":"x"}]}`, "blocks", `unknown field "onclick"`},
		{"not JSON", `<p>hi</p>`, "blocks", "could not be read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := blocks.Body("", tc.doc)
			e, ok := errs.As(err)
			if !ok || e.Code != errs.Invalid {
				t.Fatalf("error %v, want invalid input", err)
			}
			if e.Field != tc.field || !strings.Contains(e.Message, tc.msg) {
				t.Errorf("error at %q: %q, want at %q containing %q", e.Field, e.Message, tc.field, tc.msg)
			}
		})
	}
}

// TestBodyKeepsHTML: without blocks the HTML is the organizer's, and no
// blocks are kept; with blocks the stored JSON reads back the same.
func TestBodyKeepsHTML(t *testing.T) {
	t.Parallel()
	got, doc, err := blocks.Body("<p>mine</p>", " ")
	if err != nil || got != "<p>mine</p>" || doc != "" {
		t.Errorf("Body(html, no blocks) = %q, %q, %v", got, doc, err)
	}
	_, doc, err = blocks.Body("", alert)
	if err != nil {
		t.Fatal(err)
	}
	again, err := blocks.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	first, _ := blocks.Parse([]byte(alert))
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("stored blocks (-posted +stored):\n%s", diff)
	}
}

// allowed are the elements and attributes block HTML may have after a merge
// with layout "none" (the open pixel included).
var allowed = map[string]map[string]bool{
	"p": {"class": true}, "h1": {}, "h2": {}, "h3": {}, "strong": {}, "em": {}, "br": {}, "ul": {}, "li": {},
	"a":     {"href": true, "class": true, "style": true},
	"img":   {"src": true, "alt": true, "width": true, "height": true, "style": true, "border": true},
	"table": {"role": true, "cellpadding": true, "cellspacing": true, "border": true},
	"tbody": {}, "tr": {}, "td": {"class": true, "style": true}, "hr": {"style": true},
	"html": {}, "head": {}, "body": {},
}

// FuzzRender: whatever the JSON, a document is refused with an error or
// made into HTML that compiles and merges, whose elements and attributes are
// the blocks' own and whose links are http, https or mailto.
func FuzzRender(f *testing.F) {
	f.Add([]byte(alert))
	f.Add([]byte(`{"blocks":[{"type":"paragraph","content":[{"text":"{{ .Email }} <b>"},{"merge":"FirstName","fallback":"Friend"}]}]}`))
	f.Add([]byte(`{"blocks":[{"type":"share","url":"https://example.org/p?}}\"","text":"}}\\u0026{{"}]}`))
	f.Add([]byte(`{"blocks":[{"type":"button","text":"x","url":"mailto:a@example.org?subject={{x}}"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := blocks.Parse(data)
		if err != nil {
			return
		}
		body, err := blocks.Render(d)
		if err != nil {
			if _, ok := errs.As(err); !ok {
				t.Fatalf("not a domain error: %v", err)
			}
			return
		}
		c, err := compile(t, "none", body)
		if err != nil {
			if strings.Contains(err.Error(), "shortener") || strings.Contains(err.Error(), "bytes; the limit") {
				return
			}
			t.Fatalf("the blocks' HTML does not compile: %v\n%s", err, body)
		}
		r, err := c.Merge(render.Recipient{SendID: 1, Email: "j@example.org", FirstName: "<x>"}, urls{})
		if err != nil {
			t.Fatalf("merge: %v", err)
		}
		if err := onlyBlockMarkup(r.HTML); err != nil {
			t.Fatal(err)
		}
	})
}

// onlyBlockMarkup says what in a merged email is not the blocks' own
// markup: an element or attribute they do not write, a link or image that
// is not http, https or mailto.
func onlyBlockMarkup(doc string) error {
	z := html.NewTokenizer(strings.NewReader(doc))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return nil
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		attrs, ok := allowed[tok.Data]
		if !ok {
			return fmt.Errorf("element <%s> in the blocks' HTML:\n%s", tok.Data, doc)
		}
		for _, a := range tok.Attr {
			if !attrs[a.Key] {
				return fmt.Errorf("attribute %s of <%s> in the blocks' HTML:\n%s", a.Key, tok.Data, doc)
			}
			if a.Key == "href" || a.Key == "src" {
				v := strings.ToLower(a.Val)
				if !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "mailto:") {
					return fmt.Errorf("%s=%q in the blocks' HTML", a.Key, a.Val)
				}
			}
		}
	}
}
