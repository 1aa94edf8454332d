// Package blocks turns a message written in the admin's block editor
// (headings, paragraphs, lists, images, buttons, dividers, a signature,
// share links) into the HTML body pkg/render compiles. The blocks are JSON;
// the HTML is made only here, with every text escaped for where it stands,
// every URL checked (http, https and mailto only) and every merge tag
// written from a list of known fields, so that nothing an organizer types
// becomes markup, script or template syntax. It owns the block vocabulary;
// it must not touch the database, and it does not check that a petition
// exists (the caller does, on the compiled message's action links).
package blocks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

// Limits of a document: far above any action alert, low enough that no
// document makes a body over render.MaxBodySize.
const (
	MaxSize     = 512 << 10 // bytes of JSON
	MaxBlocks   = 200
	maxItems    = 50
	maxText     = 5000 // bytes of one text
	maxURL      = 2000
	maxFallback = 40
)

// ColumnWidth is the content column of the layouts, 600 pixels less the
// padding: an image without a width fills it.
const ColumnWidth = 536

// maxImageHeight bounds an image's height: a few screens, no more.
const maxImageHeight = 3000

// Block types.
const (
	Heading   = "heading"
	Paragraph = "paragraph"
	List      = "list"
	Image     = "image"
	Button    = "button"
	Divider   = "divider"
	Signature = "signature"
	Share     = "share"
)

// Doc is a message body as blocks, in order.
type Doc struct {
	Blocks []Block `json:"blocks"`
}

// Block is one block; which fields count depends on Type.
type Block struct {
	Type string `json:"type"`
	// Level is a heading's: 1 to 3 (0 is 2).
	Level int `json:"level,omitempty"`
	// Content is the text of a heading or a paragraph.
	Content []Span `json:"content,omitempty"`
	// Items are a list's, each a text.
	Items [][]Span `json:"items,omitempty"`
	// Src, Alt, Width and Height are an image's; URL, if set, is where it
	// links. Height, at Width, keeps the email from jumping about as the
	// image loads (Outlook wants it too); 0 leaves it out.
	Src    string `json:"src,omitempty"`
	Alt    string `json:"alt,omitempty"`
	Width  int    `json:"width,omitempty"`
	Height int    `json:"height,omitempty"`
	// Text and either URL or Petition (a petition's slug, which becomes
	// the recipient's action_link) are a button's. A share block shares
	// URL, with Text as the suggested post.
	Text     string `json:"text,omitempty"`
	URL      string `json:"url,omitempty"`
	Petition string `json:"petition,omitempty"`
	// Closing ("Thank you,"), Name and Title are a signature's.
	Closing string `json:"closing,omitempty"`
	Name    string `json:"name,omitempty"`
	Title   string `json:"title,omitempty"`
}

// Span is a run of text with one style, or a merge field.
type Span struct {
	Text   string `json:"text,omitempty"`
	Bold   bool   `json:"bold,omitempty"`
	Italic bool   `json:"italic,omitempty"`
	// Link is where the run links: http, https or mailto.
	Link string `json:"link,omitempty"`
	// Merge names a field of MergeFields instead of text; Fallback is what
	// stands for it when the recipient's is empty.
	Merge    string `json:"merge,omitempty"`
	Fallback string `json:"fallback,omitempty"`
}

// Field is a merge field the editor offers.
type Field struct {
	Name  string // the field of render.Data: FirstName
	Label string // what the organizer reads: First name
}

// MergeFields are the recipient and sender fields a text may merge.
var MergeFields = []Field{
	{"FirstName", "First name"},
	{"LastName", "Last name"},
	{"Email", "Email address"},
	{"OrgName", "Organization name"},
	{"PostalAddress", "Postal address"},
}

// Choice is an entry of the editor's merge-tag picker.
type Choice struct {
	Label    string
	Field    string
	Fallback string
}

// Tag is the merge tag the choice stands for, as a message's template
// takes it: {{ .FirstName | default "Friend" }}.
func (c Choice) Tag() string { return mergeTag(c.Field, c.Fallback) }

// mergeTag writes the template of a merge field with its fallback, which
// fallbackRe keeps to what needs no escaping in a template string.
func mergeTag(field, fallback string) string {
	if fallback == "" {
		return "{{ ." + field + " }}"
	}
	return "{{ ." + field + ` | default "` + fallback + `" }}`
}

// MergeChoices are the picker's entries, the usual salutation first.
var MergeChoices = []Choice{
	{"First name, or Friend", "FirstName", "Friend"},
	{"First name", "FirstName", ""},
	{"Last name", "LastName", ""},
	{"Email address", "Email", ""},
	{"Organization name", "OrgName", ""},
	{"Postal address", "PostalAddress", ""},
}

// slugRe is what a petition's slug may be, as action_link takes it.
var slugRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// fallbackRe keeps a fallback to words: it is written inside a template
// string and the text alternative, so nothing there may need escaping.
var fallbackRe = regexp.MustCompile(`^[\p{L}\p{N} .,'!?-]+$`)

// Parse reads a document, refusing unknown fields and trailing data.
func Parse(data []byte) (*Doc, error) {
	if len(data) > MaxSize {
		return nil, &errs.Error{Code: errs.TooLarge, Field: "blocks", Message: fmt.Sprintf("the blocks are %d bytes; the limit is %d", len(data), MaxSize)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var d Doc
	if err := dec.Decode(&d); err != nil {
		return nil, errs.Field("blocks", "the blocks could not be read: %v", err)
	}
	if dec.More() {
		return nil, errs.Field("blocks", "the blocks could not be read: more after the document")
	}
	return &d, nil
}

// JSON returns the document as stored.
func (d *Doc) JSON() string {
	b, _ := json.Marshal(d) // only strings, numbers and booleans
	return string(b)
}

// Render checks the document and returns its HTML body. An error names the
// block (counted from 1, and by its type) and the field at fault.
func Render(d *Doc) (string, error) {
	if len(d.Blocks) == 0 {
		return "", errs.Field("blocks", "add at least one block")
	}
	if len(d.Blocks) > MaxBlocks {
		return "", errs.Field("blocks", "has %d blocks; the limit is %d", len(d.Blocks), MaxBlocks)
	}
	var w writer
	for i := range d.Blocks {
		if err := w.block(i, &d.Blocks[i]); err != nil {
			return "", err
		}
	}
	return w.String(), nil
}

// writer writes blocks, failing at the first one that is wrong.
type writer struct {
	strings.Builder
}

// fail is an invalid-input error about field of block i.
func fail(i int, b *Block, field, format string, args ...any) error {
	path := fmt.Sprintf("blocks[%d]", i)
	if field != "" {
		path += "." + field
	}
	what := fmt.Sprintf("block %d (%s)", i+1, b.Type)
	if field != "" {
		what += ", " + field
	}
	return errs.Field(path, "%s: %s", what, fmt.Sprintf(format, args...))
}

func (w *writer) block(i int, b *Block) error {
	switch b.Type {
	case Heading:
		level := b.Level
		if level == 0 {
			level = 2
		}
		if level < 1 || level > 3 {
			return fail(i, b, "level", "must be 1, 2 or 3, not %d", b.Level)
		}
		tag := "h" + strconv.Itoa(level)
		w.WriteString("<" + tag + ">")
		if err := w.spans(i, b, "content", b.Content); err != nil {
			return err
		}
		w.WriteString("</" + tag + ">\n")
	case Paragraph:
		w.WriteString("<p>")
		if err := w.spans(i, b, "content", b.Content); err != nil {
			return err
		}
		w.WriteString("</p>\n")
	case List:
		if len(b.Items) == 0 {
			return fail(i, b, "items", "add at least one item")
		}
		if len(b.Items) > maxItems {
			return fail(i, b, "items", "has %d items; the limit is %d", len(b.Items), maxItems)
		}
		w.WriteString("<ul>\n")
		for j, item := range b.Items {
			w.WriteString("<li>")
			if err := w.spans(i, b, fmt.Sprintf("items[%d]", j), item); err != nil {
				return err
			}
			w.WriteString("</li>\n")
		}
		w.WriteString("</ul>\n")
	case Image:
		return w.image(i, b)
	case Button:
		return w.button(i, b)
	case Divider:
		w.WriteString(`<hr style="border:0;border-top:1px solid #dddddd;margin:24px 0;">` + "\n")
	case Signature:
		if err := checkText(i, b, "name", b.Name, true); err != nil {
			return err
		}
		for _, f := range []struct{ name, v string }{{"closing", b.Closing}, {"title", b.Title}} {
			if err := checkText(i, b, f.name, f.v, false); err != nil {
				return err
			}
		}
		if b.Closing != "" {
			w.WriteString(`<p class="signature">` + text(b.Closing) + "</p>\n")
		}
		w.WriteString("<p>" + text(b.Name))
		if b.Title != "" {
			w.WriteString("<br>" + text(b.Title))
		}
		w.WriteString("</p>\n")
	case Share:
		return w.share(i, b)
	case "":
		return fail(i, b, "type", "is missing")
	default:
		return fail(i, b, "type", "%q is not a block type (heading, paragraph, list, image, button, divider, signature, share)", b.Type)
	}
	return nil
}

func (w *writer) image(i int, b *Block) error {
	src, err := checkURL(b.Src, false)
	if err != nil {
		return fail(i, b, "src", "%v", err)
	}
	if strings.TrimSpace(b.Alt) == "" {
		return fail(i, b, "alt", "is required: it is what people read when their mail client hides images, and what screen readers say")
	}
	if err := checkText(i, b, "alt", b.Alt, true); err != nil {
		return err
	}
	width := b.Width
	if width == 0 {
		width = ColumnWidth
	}
	if width < 1 || width > 600 {
		return fail(i, b, "width", "must be from 1 to 600 pixels, not %d", b.Width)
	}
	height := ""
	if b.Height != 0 {
		if b.Height < 1 || b.Height > maxImageHeight {
			return fail(i, b, "height", "must be from 1 to %d pixels, not %d", maxImageHeight, b.Height)
		}
		height = fmt.Sprintf(` height="%d"`, b.Height)
	}
	img := fmt.Sprintf(`<img src="%s" alt="%s" width="%d"%s style="display:block;width:100%%;max-width:%dpx;height:auto;border:0;">`,
		attr(src), attrText(b.Alt), width, height, width)
	if b.URL != "" {
		link, err := checkURL(b.URL, true)
		if err != nil {
			return fail(i, b, "url", "%v", err)
		}
		img = `<a href="` + attr(link) + `">` + img + "</a>"
	}
	w.WriteString(`<p>` + img + "</p>\n")
	return nil
}

func (w *writer) button(i int, b *Block) error {
	if err := checkText(i, b, "text", b.Text, true); err != nil {
		return err
	}
	var href string
	switch {
	case b.URL != "" && b.Petition != "":
		return fail(i, b, "url", "a button goes to a URL or to a petition, not both")
	case b.Petition != "":
		if !slugRe.MatchString(b.Petition) {
			return fail(i, b, "petition", "%q is not a petition's slug (lowercase letters, digits and dashes)", b.Petition)
		}
		href = `{{ action_link "` + b.Petition + `" }}`
	case b.URL != "":
		u, err := checkURL(b.URL, true)
		if err != nil {
			return fail(i, b, "url", "%v", err)
		}
		href = attr(u)
	default:
		return fail(i, b, "url", "choose a petition or type the URL the button goes to")
	}
	w.WriteString(`<table role="presentation" cellpadding="0" cellspacing="0" border="0"><tr><td class="button-cell" style="padding:8px 0 20px 0;">` + "\n")
	w.WriteString(`<a class="button" href="` + href + `" style="display:inline-block;padding:15px 28px;background-color:#c8402b;color:#ffffff;font-weight:bold;text-decoration:none;border-radius:4px;">`)
	w.WriteString(text(b.Text) + "</a>\n</td></tr></table>\n")
	return nil
}

func (w *writer) share(i int, b *Block) error {
	u, err := checkURL(b.URL, false)
	if err != nil {
		return fail(i, b, "url", "%v", err)
	}
	if err := checkText(i, b, "text", b.Text, false); err != nil {
		return err
	}
	page := quote(u)
	more := ""
	if b.Text != "" {
		more = " " + quote(strings.ReplaceAll(b.Text, "\n", " "))
	}
	w.WriteString(`<p class="share">Share: <a href="{{ share_facebook ` + page + ` }}">Facebook</a> · <a href="{{ share_x ` + page + more + ` }}">X</a> · <a href="{{ share_email ` + page + more + ` }}">Email</a></p>` + "\n")
	return nil
}

// spans writes a text: escaped runs, each bold, italic or linked as marked,
// and merge tags written from MergeFields.
func (w *writer) spans(i int, b *Block, field string, spans []Span) error {
	empty := true
	for j, s := range spans {
		at := fmt.Sprintf("%s[%d]", field, j)
		if s.Merge != "" {
			if s.Text != "" {
				return fail(i, b, at, "a merge field has no text of its own")
			}
			if !knownField(s.Merge) {
				return fail(i, b, at, "%q is not a merge field (%s)", s.Merge, fieldNames())
			}
			if s.Fallback != "" && (len(s.Fallback) > maxFallback || !fallbackRe.MatchString(s.Fallback)) {
				return fail(i, b, at+".fallback", "must be at most %d letters, digits, spaces and . , ' ! ? -", maxFallback)
			}
		} else if err := checkText(i, b, at+".text", s.Text, false); err != nil {
			return err
		}
		if strings.TrimSpace(s.Text) != "" || s.Merge != "" {
			empty = false
		}
		open, end := "", ""
		if s.Link != "" {
			u, err := checkURL(s.Link, true)
			if err != nil {
				return fail(i, b, at+".link", "%v", err)
			}
			open, end = `<a href="`+attr(u)+`">`, "</a>"
		}
		if s.Bold {
			open, end = open+"<strong>", "</strong>"+end
		}
		if s.Italic {
			open, end = open+"<em>", "</em>"+end
		}
		w.WriteString(open)
		if s.Merge != "" {
			w.WriteString(mergeTag(s.Merge, s.Fallback))
		} else {
			w.WriteString(strings.ReplaceAll(text(s.Text), "\n", "<br>\n"))
		}
		w.WriteString(end)
	}
	if empty {
		return fail(i, b, field, "is empty: type some text or remove the block")
	}
	return nil
}

func knownField(name string) bool {
	for _, f := range MergeFields {
		if f.Name == name {
			return true
		}
	}
	return false
}

func fieldNames() string {
	names := make([]string, len(MergeFields))
	for i, f := range MergeFields {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

// checkText refuses a text that is not UTF-8, holds control characters
// other than line ends, or is too long; required refuses an empty one.
func checkText(i int, b *Block, field, s string, required bool) error {
	switch {
	case required && strings.TrimSpace(s) == "":
		return fail(i, b, field, "is required")
	case len(s) > maxText:
		return fail(i, b, field, "is %d bytes; the limit is %d", len(s), maxText)
	case !utf8.ValidString(s):
		return fail(i, b, field, "is not valid UTF-8")
	}
	for _, r := range s {
		if r < ' ' && r != '\n' && r != '\t' || r == 0x7f {
			return fail(i, b, field, "holds the control character %U", r)
		}
	}
	return nil
}

// text escapes s for HTML text and keeps it from being read as a merge tag:
// every "{" becomes a template action printing "{", so neither the HTML nor
// the text alternative derived from it (which unescapes entities) can
// start a tag the organizer did not pick.
func text(s string) string {
	return strings.ReplaceAll(html.EscapeString(s), "{", `{{"{"}}`)
}

// attrText escapes s for an attribute value, braces as in text.
func attrText(s string) string {
	return text(strings.ReplaceAll(s, "\n", " "))
}

// quote writes s as a template string. Besides Go's escapes, the
// characters that the HTML tokenizer, the merge-tag masking (which ends a
// tag at the first "}}") or the text alternative (which unescapes
// entities) would read are written as \u escapes.
func quote(s string) string {
	return strings.NewReplacer("&", `\u0026`, "<", `\u003c`, ">", `\u003e`, "{", `\u007b`, "}", `\u007d`, "'", `\u0027`).
		Replace(strconv.Quote(s))
}

// attr escapes a checked URL for an attribute value.
func attr(u string) string { return html.EscapeString(u) }

// checkURL returns u trimmed and with every byte outside a URL's safe set
// percent-encoded (braces, quotes, spaces, non-ASCII), or an error saying
// why it cannot be a link: only absolute http and https URLs, and mailto
// when mailto is true.
func checkURL(u string, mailto bool) (string, error) {
	u = strings.TrimSpace(u)
	if u == "" {
		return "", fmt.Errorf("is required")
	}
	if len(u) > maxURL {
		return "", fmt.Errorf("is %d bytes; the limit is %d", len(u), maxURL)
	}
	for _, r := range u {
		if r < ' ' || r == 0x7f {
			return "", fmt.Errorf("holds the control character %U", r)
		}
	}
	var out strings.Builder
	for i := 0; i < len(u); i++ {
		c := u[i]
		if c > ' ' && c < 0x7f && !strings.ContainsRune(`"'<>\{}|^`+"`", rune(c)) {
			out.WriteByte(c)
		} else {
			fmt.Fprintf(&out, "%%%02X", c)
		}
	}
	// What is checked is what will be written.
	p, err := url.Parse(out.String())
	if err != nil {
		return "", fmt.Errorf("%q is not a URL", u)
	}
	switch scheme := strings.ToLower(p.Scheme); {
	case scheme == "http" || scheme == "https":
		if p.Host == "" {
			return "", fmt.Errorf("%q has no host: type the whole address, like https://example.org/page", u)
		}
	case scheme == "mailto" && mailto:
		if p.Opaque == "" && p.RawQuery == "" {
			return "", fmt.Errorf("%q has no address", u)
		}
	case scheme == "":
		return "", fmt.Errorf("%q is not a whole address: start it with https://", u)
	default:
		allowed := "http or https"
		if mailto {
			allowed = "http, https or mailto"
		}
		return "", fmt.Errorf("%q is a %s: link, which a message may not carry; use %s", u, p.Scheme, allowed)
	}
	return out.String(), nil
}

// Body is the HTML a message is saved with and the blocks kept beside it:
// with blocks (JSON, as posted), the HTML made of them and the blocks as
// read; without, html as written and no blocks.
func Body(html, doc string) (string, string, error) {
	if strings.TrimSpace(doc) == "" {
		return html, "", nil
	}
	d, err := Parse([]byte(doc))
	if err != nil {
		return "", "", err
	}
	out, err := Render(d)
	if err != nil {
		return "", "", err
	}
	return out, d.JSON(), nil
}
