package render

import (
	htmltemplate "html/template"
	"strconv"
	"strings"
)

// Recipient is who one merge is for.
type Recipient struct {
	SendID    int64
	Email     string
	FirstName string
	LastName  string
}

// Rendered is one recipient's email.
type Rendered struct {
	Subject string
	HTML    string
	Text    string
}

// Data is what merge tags see: {{ .FirstName }}, {{ .Email }}, {{ .UnsubscribeURL }} and so on.
type Data struct {
	FirstName string
	LastName  string
	Email     string
	Subject   string

	c *Compiled
}

// Per-recipient URLs are not computed by the template: the template writes a
// marker (markerPrefix, a code, "~") and Merge expands every marker of the
// output in one pass, signing each distinct URL once. Tracked links are
// written as markers at compile time, so a message with fifty links costs no
// template calls for them. The prefix carries a random nonce per compile and
// only characters that HTML and URL escaping leave alone.
const (
	codeOpen        = 'O'
	codeUnsubscribe = 'U'
	codePreferences = 'P'
	codeView        = 'V'
	codeLink        = 'L' // followed by the link's index
	codeAction      = 'A' // followed by the action's slug
)

func (c *Compiled) marker(code byte, index int) string {
	s := c.markerPrefix + string(code)
	if code == codeLink {
		s += strconv.Itoa(index)
	}
	return s + "~"
}

// String keeps {{ . }} and {{ $ }} from printing the data's memory address.
func (d *Data) String() string { return "" }

// OrgName is the sending organization's name.
func (d *Data) OrgName() string { return d.c.org.Name }

// PostalAddress is the organization's postal address.
func (d *Data) PostalAddress() string { return d.c.org.PostalAddress }

// UnsubscribeURL is this recipient's unsubscribe page.
func (d *Data) UnsubscribeURL() htmltemplate.URL {
	return htmltemplate.URL(d.c.marker(codeUnsubscribe, 0))
}

// PreferencesURL is this recipient's preference page.
func (d *Data) PreferencesURL() htmltemplate.URL {
	return htmltemplate.URL(d.c.marker(codePreferences, 0))
}

// ViewURL shows this recipient's email in a browser.
func (d *Data) ViewURL() htmltemplate.URL { return htmltemplate.URL(d.c.marker(codeView, 0)) }

// Merge renders the compiled message for one recipient.
func (c *Compiled) Merge(r Recipient, urls URLs) (Rendered, error) {
	return c.merge(r, urls, false)
}

// MergeUntracked renders the compiled message for a recipient no ledger row
// stands for (a test send, a confirmation): without the open pixel, with
// each link going straight to its target. A tracked URL would name no send
// and answer 404. Only the unsubscribe, preferences, view and action URLs
// are asked of urls, and its Click and Open are never called.
func (c *Compiled) MergeUntracked(r Recipient, urls URLs) (Rendered, error) {
	out, err := c.merge(r, urls, true)
	if err != nil {
		return out, err
	}
	out.HTML = strings.Replace(out.HTML, pixelTag(""), "", 1)
	return out, nil
}

func (c *Compiled) merge(r Recipient, urls URLs, untracked bool) (Rendered, error) {
	d := &Data{FirstName: r.FirstName, LastName: r.LastName, Email: r.Email, c: c}
	x := expander{c: c, urls: urls, sendID: r.SendID, untracked: untracked}
	var sb strings.Builder
	if err := c.subject.Execute(&sb, d); err != nil {
		return Rendered{}, err
	}
	// A merged value must not break the Subject header onto a new line.
	d.Subject = strings.Join(strings.Fields(x.expand(sb.String(), 0)), " ")
	html, err := x.merge(d, c.htmlPlan, c.html, c.htmlSize)
	if err != nil {
		return Rendered{}, err
	}
	text, err := x.merge(d, c.textPlan, c.text, c.textSize)
	if err != nil {
		return Rendered{}, err
	}
	return Rendered{Subject: d.Subject, HTML: html, Text: text}, nil
}

// merge runs the plan of a template when it has one, else the template and
// then expands its markers.
func (x *expander) merge(d *Data, p *plan, t executor, size int) (string, error) {
	var b strings.Builder
	if p != nil {
		b.Grow(p.size + 64*len(p.pieces))
		err := p.execute(&b, d, x)
		return b.String(), err
	}
	b.Grow(size + 256)
	if err := t.Execute(&b, d); err != nil {
		return "", err
	}
	return x.expand(b.String(), size), nil
}

// expander replaces markers with one recipient's URLs, signing each once.
type expander struct {
	c      *Compiled
	urls   URLs
	sendID int64
	// untracked writes link targets for link markers and nothing for the
	// open pixel (MergeUntracked).
	untracked bool
	fixed     [4]string // O, U, P, V
	links     []string
	actions   map[string]string
}

func (x *expander) expand(s string, size int) string {
	p := x.c.markerPrefix
	i := strings.Index(s, p)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(max(size, len(s)) + 1024)
	for i >= 0 {
		b.WriteString(s[:i])
		s = s[i+len(p):]
		end := strings.IndexByte(s, '~')
		if end < 1 {
			b.WriteString(p) // not one of ours after all
			i = strings.Index(s, p)
			continue
		}
		b.WriteString(x.url(s[:end]))
		s = s[end+1:]
		i = strings.Index(s, p)
	}
	b.WriteString(s)
	return b.String()
}

func (x *expander) url(code string) string {
	slot := strings.IndexByte("OUPV", code[0])
	if slot >= 0 && len(code) == 1 {
		if x.fixed[slot] == "" {
			switch code[0] {
			case codeOpen:
				if x.untracked {
					return ""
				}
				x.fixed[slot] = x.urls.Open(x.sendID)
			case codeUnsubscribe:
				x.fixed[slot] = x.urls.Unsubscribe(x.sendID)
			case codePreferences:
				x.fixed[slot] = x.urls.Preferences(x.sendID)
			case codeView:
				x.fixed[slot] = x.urls.View(x.sendID)
			}
		}
		return x.fixed[slot]
	}
	if code[0] == codeAction {
		slug := code[1:]
		if !slugRe.MatchString(slug) {
			return ""
		}
		if x.actions == nil {
			x.actions = map[string]string{}
		}
		u, ok := x.actions[slug]
		if !ok {
			var id int64
			if !x.untracked {
				id = x.c.actionIDs[slug]
			}
			u = x.urls.Action(x.sendID, id, slug)
			x.actions[slug] = u
		}
		return u
	}
	n, err := strconv.Atoi(code[1:])
	if code[0] != codeLink || err != nil || n < 0 || n >= len(x.c.Links) {
		return ""
	}
	if x.links == nil {
		x.links = make([]string, len(x.c.Links))
	}
	if x.untracked {
		return x.c.Links[n]
	}
	if x.links[n] == "" {
		var id int64
		if n < len(x.c.linkIDs) {
			id = x.c.linkIDs[n]
		}
		x.links[n] = x.urls.Click(x.sendID, id)
	}
	return x.links[n]
}
