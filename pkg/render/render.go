// Package render turns a message as the organizer wrote it into a compiled
// campaign email, once per campaign: layout applied, CSS inlined (pkg/inline),
// links rewritten to tracked ones, a plain-text alternative derived, templates
// parsed and tried. Per recipient it only merges. It owns the merge-tag
// vocabulary; it must not touch the database, the network or MIME.
package render

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"net/mail"
	"strings"
	texttemplate "text/template"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/inline"
)

// MaxBodySize is the largest HTML body accepted.
const MaxBodySize = 2 << 20

// Input is a message as written: every field may hold merge tags except the addresses.
type Input struct {
	Subject   string
	Preheader string
	FromName  string
	FromEmail string
	ReplyTo   string
	Layout    string // a file of templates/email without .html; "" is action-alert, "none" is the body alone
	HTML      string
	Text      string // optional; derived from the HTML when empty
}

// Org is what every footer must say.
type Org struct {
	Name          string
	PostalAddress string
}

// URLs makes the per-recipient URLs of a send; pkg/track implements it.
type URLs interface {
	Click(sendID, linkID int64) string
	Open(sendID int64) string
	Unsubscribe(sendID int64) string
	Preferences(sendID int64) string
	View(sendID int64) string
}

// Compiler compiles messages with the layouts of one file system.
type Compiler struct {
	layouts fs.FS
	org     Org
}

// NewCompiler returns a compiler reading layouts from layouts (a folder of NAME.html files).
func NewCompiler(layouts fs.FS, org Org) *Compiler {
	return &Compiler{layouts: layouts, org: org}
}

// Compiled is a message ready to merge for any recipient; safe for concurrent use.
type Compiled struct {
	FromName, FromEmail, ReplyTo string
	// Links are the tracked URLs in body order; SetLinkIDs gives their ledger ids.
	Links    []string
	linkIDs  []int64
	org      Org
	subject  *texttemplate.Template
	html     *htmltemplate.Template
	text     *texttemplate.Template
	htmlSize int
	textSize int
	// markerPrefix starts the per-recipient URL markers of this compile (see merge.go).
	markerPrefix string
}

// SetLinkIDs tells the compiled message the ids its links have in the link table.
func (c *Compiled) SetLinkIDs(ids []int64) { c.linkIDs = ids }

// Check validates the fields of a message that are not templates, naming the field at fault.
func (in Input) Check() error {
	for field, v := range map[string]string{"subject": in.Subject, "from_name": in.FromName, "preheader": in.Preheader} {
		if strings.ContainsAny(v, "\r\n") {
			return errs.Field(field, "must be one line: line breaks in a header would let text be injected as headers")
		}
	}
	if strings.TrimSpace(in.Subject) == "" {
		return errs.Field("subject", "is required")
	}
	if strings.TrimSpace(in.HTML) == "" {
		return errs.Field("html", "is required")
	}
	if len(in.HTML) > MaxBodySize {
		return &errs.Error{Code: errs.TooLarge, Field: "html", Message: fmt.Sprintf("is %d bytes; the limit is %d", len(in.HTML), MaxBodySize)}
	}
	if a, err := mail.ParseAddress(in.FromEmail); err != nil || a.Address != in.FromEmail {
		return errs.Field("from_email", "must be a plain email address like action@example.org")
	}
	if in.ReplyTo != "" {
		if a, err := mail.ParseAddress(in.ReplyTo); err != nil || a.Address != in.ReplyTo {
			return errs.Field("reply_to", "must be a plain email address")
		}
	}
	return nil
}

// Compile validates in and compiles it. Every template error names its field,
// line and column; a trial merge against a contact with every optional field
// empty finds what parsing cannot (an unknown merge field).
func (c *Compiler) Compile(in Input) (*Compiled, error) {
	if err := in.Check(); err != nil {
		return nil, err
	}
	// The body alone first, so positions are the organizer's own lines.
	if _, err := parseHTML("html", in.HTML); err != nil {
		return nil, templateError("html", in.HTML, err)
	}
	if err := tryHTML("html", in.HTML); err != nil {
		return nil, err
	}
	doc, err := c.layout(in)
	if err != nil {
		return nil, err
	}
	inlined, _, err := inline.Inline(doc, inline.Options{})
	if err != nil {
		return nil, errs.Field("html", "CSS: %v", err)
	}
	out := &Compiled{FromName: in.FromName, FromEmail: in.FromEmail, ReplyTo: in.ReplyTo, org: c.org, markerPrefix: newMarkerPrefix()}
	htmlSrc, links := rewriteLinks(inlined, out.marker)
	htmlSrc = addPixel(htmlSrc, out.marker(codeOpen, 0))
	out.Links = links
	if out.subject, err = parseText("subject", in.Subject); err != nil {
		return nil, templateError("subject", in.Subject, err)
	}
	if err := out.subject.Execute(discard{}, &Data{c: out}); err != nil {
		return nil, templateError("subject", in.Subject, err)
	}
	if out.html, err = parseHTML("layout", htmlSrc); err != nil {
		return nil, templateError("layout", htmlSrc, err)
	}
	textSrc, textField := in.Text, "text"
	if strings.TrimSpace(textSrc) == "" {
		textSrc, textField = TextFromHTML(htmlSrc), "html"
	}
	if out.text, err = parseText("text", textSrc); err != nil {
		return nil, templateError(textField, textSrc, err)
	}
	out.htmlSize, out.textSize = len(htmlSrc), len(textSrc)
	if _, err := out.Merge(Recipient{SendID: 1, Email: "friend@example.org"}, trialURLs{}); err != nil {
		return nil, templateError("html", htmlSrc, err)
	}
	return out, nil
}

func (c *Compiler) layout(in Input) (string, error) {
	name := in.Layout
	if name == "" {
		name = "action-alert"
	}
	if name == "none" {
		return in.HTML, nil
	}
	if strings.ContainsAny(name, "/\\.") {
		return "", errs.Field("layout", "unknown layout %q", name)
	}
	b, err := fs.ReadFile(c.layouts, name+".html")
	if err != nil {
		return "", errs.Field("layout", "unknown layout %q", name)
	}
	r := strings.NewReplacer("<!--content-->", in.HTML, "<!--preheader-->", htmltemplate.HTMLEscapeString(in.Preheader))
	return r.Replace(string(b)), nil
}

// tryHTML parses and merges a body alone against an empty contact.
func tryHTML(field, src string) error {
	t, err := parseHTML(field, src)
	if err != nil {
		return templateError(field, src, err)
	}
	d := &Data{Email: "friend@example.org", c: &Compiled{markerPrefix: "~dftrial~"}}
	if err := t.Execute(discard{}, d); err != nil {
		return templateError(field, src, err)
	}
	return nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// trialURLs fills URLs during a trial merge.
type trialURLs struct{}

func (trialURLs) Click(int64, int64) string { return "https://example.org/c" }
func (trialURLs) Open(int64) string         { return "https://example.org/o" }
func (trialURLs) Unsubscribe(int64) string  { return "https://example.org/u" }
func (trialURLs) Preferences(int64) string  { return "https://example.org/p" }
func (trialURLs) View(int64) string         { return "https://example.org/v" }

func newMarkerPrefix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "~df" + hex.EncodeToString(b) + "~"
}
