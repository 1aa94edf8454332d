// Package render turns a message as the organizer wrote it into a compiled
// campaign email, once per campaign: layout applied, markup mail clients
// refuse removed, links rewritten to tracked ones, CSS inlined (pkg/inline),
// a plain-text alternative derived, templates parsed, tried and laid out for
// fast merging. Per recipient it only merges. It owns the merge-tag
// vocabulary; it must not touch the database, the network or MIME.
package render

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	texttemplate "text/template"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/inline"
	"github.com/dearfriend/dearfriend/pkg/mailer"
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
	UTM       UTM    // optional; added to tracked links' targets (a campaign's)
}

// Org is what every footer must say, and how the layouts look.
type Org struct {
	Name          string
	PostalAddress string
	// FooterText is an extra line of the footer; "" for none.
	FooterText string
	// Primary and Accent are #rrggbb colors put in place of the layouts'
	// own (the masthead and links, the buttons); "" keeps the layout's.
	Primary, Accent string
	// LogoURL is an absolute image URL shown in the masthead in place of the
	// name, LogoWidth by LogoHeight pixels; "" shows the name.
	LogoURL               string
	LogoWidth, LogoHeight int
}

// URLs makes the per-recipient URLs of a send; pkg/track implements it.
type URLs interface {
	Click(sendID, linkID int64) string
	Open(sendID int64) string
	Unsubscribe(sendID int64) string
	Preferences(sendID int64) string
	View(sendID int64) string
	// Action is the recipient's signed link to the action page named slug;
	// linkID is the link its visit counts as a click of (0: none).
	Action(sendID, linkID int64, slug string) string
}

// Compiler compiles messages with the layouts of one file system.
type Compiler struct {
	layouts       fs.FS
	org           Org
	cache         *inline.Cache // a layout's stylesheet is read once, not once per message
	signingDomain string        // DKIM d=; "": any From domain

	orgSource func() (Org, error) // nil: org, always
}

// CompilerOption adjusts NewCompiler.
type CompilerOption func(*Compiler)

// WithSigningDomain refuses a message whose From address is not aligned with
// domain, the domain its DKIM signature is for: the From domain itself, a
// subdomain or a parent of it (DMARC's relaxed alignment). Mail signed for
// another domain fails DMARC and lands in spam, or nowhere.
func WithSigningDomain(domain string) CompilerOption {
	return func(c *Compiler) { c.signingDomain = strings.ToLower(domain) }
}

// WithOrgSource reads the organization at each compile instead of once: an
// admin's change of name, colors or logo is in the next message compiled.
func WithOrgSource(org func() (Org, error)) CompilerOption {
	return func(c *Compiler) { c.orgSource = org }
}

// NewCompiler returns a compiler reading layouts from layouts (a folder of NAME.html files).
func NewCompiler(layouts fs.FS, org Org, opts ...CompilerOption) *Compiler {
	c := &Compiler{layouts: layouts, org: org, cache: inline.NewCache(64)}
	for _, opt := range opts {
		opt(c)
	}
	return c
}

// checkSigning refuses a From address the DKIM signature would not align with.
func (c *Compiler) checkSigning(in Input) error {
	if c.signingDomain == "" {
		return nil
	}
	_, domain, _ := strings.Cut(in.FromEmail, "@")
	if mailer.Aligned(domain, c.signingDomain) {
		return nil
	}
	return errs.Field("from_email", "is at %s, but this server signs mail with DKIM for %s (DEARFRIEND_DKIM_DOMAIN), so DMARC would fail and the mail land in spam; use an address at %s", domain, c.signingDomain, c.signingDomain)
}

// Compiled is a message ready to merge for any recipient; safe for concurrent use.
type Compiled struct {
	FromName, FromEmail, ReplyTo string
	// Warnings say what was changed or left out (a <script> removed, a
	// selector kept in <style>); the message is sent without it.
	Warnings []string
	// Links are the tracked URLs in body order; SetLinkIDs gives their ledger ids.
	Links   []string
	linkIDs []int64
	// Actions are the slugs action_link names, in order, each once: the
	// caller refuses a message naming a petition that does not exist, and
	// SetActionIDs gives the ids of their links.
	Actions   []string
	actionIDs map[string]int64
	org       Org
	subject   *texttemplate.Template
	html      *htmltemplate.Template
	text      *texttemplate.Template
	htmlSize  int
	textSize  int
	// markerPrefix starts the per-recipient URL markers of this compile (see merge.go).
	markerPrefix string
	// htmlPlan and textPlan merge fast; nil: execute the template (see plan.go).
	htmlPlan, textPlan *plan
}

// SetLinkIDs tells the compiled message the ids its links have in the link table.
func (c *Compiled) SetLinkIDs(ids []int64) { c.linkIDs = ids }

// SetActionIDs tells the compiled message the link ids of its Actions, in
// the same order: a recipient's visit of the action page is a click of it.
func (c *Compiled) SetActionIDs(ids []int64) {
	c.actionIDs = make(map[string]int64, len(ids))
	for i, id := range ids {
		if i < len(c.Actions) {
			c.actionIDs[c.Actions[i]] = id
		}
	}
}

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
// empty finds what parsing cannot (an unknown merge field). Markup that mail
// clients refuse is removed; Compiled.Warnings says what was.
func (c *Compiler) Compile(in Input) (*Compiled, error) {
	if err := in.Check(); err != nil {
		return nil, err
	}
	if err := c.checkSigning(in); err != nil {
		return nil, err
	}
	org := c.org
	if c.orgSource != nil {
		var err error
		if org, err = c.orgSource(); err != nil {
			return nil, fmt.Errorf("read the organization's branding: %w", err)
		}
	}
	out := &Compiled{FromName: in.FromName, FromEmail: in.FromEmail, ReplyTo: in.ReplyTo, org: org, markerPrefix: newMarkerPrefix()}
	doc, err := c.layout(in, org)
	if err != nil {
		return nil, err
	}
	lintWarnings := lint(doc)
	pass := linkPass{marker: out.marker, utm: in.UTM}
	if doc, err = pass.rewrite(doc); err != nil {
		return nil, err
	}
	inlined, warnings, err := inline.Inline(doc, inline.Options{Cache: c.cache})
	if err != nil {
		return nil, errs.Field("html", "CSS: %v", err)
	}
	out.Links, out.Warnings = pass.links, append(append(pass.warnings, warnings...), lintWarnings...)
	htmlSrc := addPixel(inlined, out.marker(codeOpen, 0))
	if out.subject, err = parseText(out, "subject", in.Subject); err != nil {
		return nil, templateError("subject", in.Subject, err)
	}
	if err := out.subject.Execute(discard{}, &Data{c: out}); err != nil {
		return nil, templateError("subject", in.Subject, err)
	}
	if out.html, err = parseHTML(out, "layout", htmlSrc); err != nil {
		return nil, c.bodyError(out, in, "layout", htmlSrc, err)
	}
	textSrc, textField := in.Text, "text"
	if strings.TrimSpace(textSrc) == "" {
		textSrc, textField = pass.text.String(), "html"
	}
	if out.text, err = parseText(out, "text", textSrc); err != nil {
		return nil, templateError(textField, textSrc, err)
	}
	out.htmlSize, out.textSize = len(htmlSrc), len(textSrc)
	out.Actions = actionSlugs(out.subject.Tree, out.html.Tree, out.text.Tree)
	trial := Recipient{SendID: 1, Email: "friend@example.org"}
	tried, err := out.Merge(trial, trialURLs{actions: &out.Actions})
	if err != nil {
		return nil, c.bodyError(out, in, "html", htmlSrc, err)
	}
	// The trial URLs are as long as real ones, so the trial's size is the
	// size a recipient's email will have.
	if n := len(tried.HTML); n > ClipSize {
		out.Warnings = append(out.Warnings, fmt.Sprintf("the email's HTML is %d KB: Gmail clips messages over about 102 KB and hides the rest, footer and unsubscribe link included; shorten it to under %d KB", (n+1023)>>10, ClipSize>>10))
	}
	out.plan(trial, tried)
	return out, nil
}

// plan lays out the HTML and text templates for fast merging, keeping each
// plan only when it merges the trial recipient exactly as executing the
// template did (tried). That fields are escaped as html/template does is
// the business of the tests and FuzzMergePlan.
func (c *Compiled) plan(trial Recipient, tried Rendered) {
	c.htmlPlan, c.textPlan = htmlPlan(c), textPlan(c)
	if c.htmlPlan == nil && c.textPlan == nil {
		return
	}
	fast, err := c.Merge(trial, trialURLs{})
	if err != nil || fast.HTML != tried.HTML {
		c.htmlPlan = nil
	}
	if err != nil || fast.Text != tried.Text {
		c.textPlan = nil
	}
}

// bodyError reports a template error of the compiled document as the
// organizer's: the body is parsed and tried alone, so that its error names
// their own line and column. Only when the body alone is fine is the error
// the document's (field, at its line in src).
func (c *Compiler) bodyError(out *Compiled, in Input, field, src string, err error) error {
	body, berr := parseHTML(out, "html", in.HTML)
	if berr == nil {
		berr = body.Execute(discard{}, &Data{Email: "friend@example.org", c: out})
	}
	if berr != nil {
		return templateError("html", in.HTML, berr)
	}
	return templateError(field, src, err)
}

// brandColor is a color of a layout's stylesheet that the organization's
// colors replace: /*primary*/#1d3b2a or /*accent*/#c8402b.
var brandColor = regexp.MustCompile(`/\*(primary|accent)\*/(#[0-9a-fA-F]{3,6})`)

// brand puts the organization's look into a layout: its colors in place of
// the marked ones, its logo (or name) in the masthead, its footer line.
func brand(layout string, org Org) string {
	layout = brandColor.ReplaceAllStringFunc(layout, func(m string) string {
		sub := brandColor.FindStringSubmatch(m)
		if c := map[string]string{"primary": org.Primary, "accent": org.Accent}[sub[1]]; c != "" {
			return c
		}
		return sub[2]
	})
	// The organization's words are text, never merge tags.
	text := func(s string) string { return strings.ReplaceAll(htmltemplate.HTMLEscapeString(s), "{{", `{{"{{"}}`) }
	masthead := "{{ .OrgName }}"
	if org.LogoURL != "" {
		masthead = fmt.Sprintf(`<img src="%s" width="%d" height="%d" alt="{{ .OrgName }}" style="display:block;border:0;width:%dpx;height:%dpx;max-width:100%%;">`,
			text(org.LogoURL), org.LogoWidth, org.LogoHeight, org.LogoWidth, org.LogoHeight)
	}
	footer := ""
	if org.FooterText != "" {
		footer = "<p>" + text(org.FooterText) + "</p>"
	}
	return strings.NewReplacer("<!--masthead-->", masthead, "<!--footer-text-->", footer).Replace(layout)
}

func (c *Compiler) layout(in Input, org Org) (string, error) {
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
	// parts/ holds what layouts share, such as the footer.
	var footer []byte
	if bytes.Contains(b, []byte("<!--footer-->")) {
		if footer, err = fs.ReadFile(c.layouts, "parts/footer.html"); err != nil {
			return "", fmt.Errorf("layout %s: %w", name, err)
		}
	}
	r := strings.NewReplacer("<!--content-->", in.HTML, "<!--preheader-->", htmltemplate.HTMLEscapeString(in.Preheader),
		"<!--footer-->", string(footer))
	return brand(r.Replace(string(b)), org), nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// trialURLs fills URLs during a trial merge; it notes the action slugs
// asked for in actions when that is set.
type trialURLs struct{ actions *[]string }

// Each is as long as a real one (a public URL and a signed token), so that
// the trial merge has the size of a real email.
func (trialURLs) Click(int64, int64) string { return trialURL("/t/c/") }
func (trialURLs) Open(int64) string         { return trialURL("/t/o/") }
func (trialURLs) Unsubscribe(int64) string  { return trialURL("/u/") }
func (trialURLs) Preferences(int64) string  { return trialURL("/p/") }
func (trialURLs) View(int64) string         { return trialURL("/v/") }
func (u trialURLs) Action(_, _ int64, slug string) string {
	if u.actions != nil && !slices.Contains(*u.actions, slug) {
		*u.actions = append(*u.actions, slug)
	}
	return trialURL("/a/")
}

func trialURL(path string) string {
	return "https://act.example.org" + path + "AQAAAAAAAAABAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
}

func newMarkerPrefix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "~df" + hex.EncodeToString(b) + "~"
}
