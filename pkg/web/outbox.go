package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dearfriend/dearfriend/pkg/devsvc"
)

// OutboxSource is where the outbox reads captured messages; *devsvc.Capture
// is one.
type OutboxSource interface {
	Messages() []devsvc.Message
	Message(id int64) (devsvc.Message, bool)
	Count() int64
}

var _ OutboxSource = (*devsvc.Capture)(nil)

// outboxHTMLPolicy is for the message's own HTML: no scripts, no forms, no
// plugins, an opaque origin; images, styles and fonts load as they would in
// a mail client (remote images included, so a tracking pixel fires), and
// links open in a new tab, outside the sandbox.
const outboxHTMLPolicy = "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; " +
	"img-src data: http: https:; style-src 'unsafe-inline' http: https:; font-src data: http: https:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'self'"

// Outbox serves the captured messages in embedded mode. Mount it at its
// prefix without stripping it: mux.Handle(prefix+"/", outbox); ServeMux
// then also redirects the bare prefix to prefix+"/".
//
//	GET {prefix}/           the messages, newest first
//	GET {prefix}/{id}       one message: headers, HTML part, text part
//	GET {prefix}/{id}/html  the HTML part alone, for the page's sandboxed iframe
//	GET {prefix}/{id}/raw   the message as received, as an .eml download
type Outbox struct {
	src        OutboxSource
	prefix     string
	tmpl       *template.Template
	pagePolicy string
}

// NewOutbox serves src under prefix, e.g. "/outbox".
func NewOutbox(src OutboxSource, prefix string) http.Handler {
	prefix = "/" + strings.Trim(prefix, "/")
	if prefix == "/" {
		prefix = ""
	}
	sum := sha256.Sum256([]byte(outboxCSS))
	o := &Outbox{
		src:    src,
		prefix: prefix,
		tmpl: template.Must(template.New("outbox").Funcs(template.FuncMap{
			"css":  func() template.CSS { return template.CSS(outboxCSS) },
			"when": func(t time.Time) string { return t.Format("2006-01-02 15:04:05") },
			"join": func(s []string) string { return strings.Join(s, ", ") },
		}).Parse(outboxTemplates)),
		pagePolicy: "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; " +
			"frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET "+prefix+"/{$}", o.list)
	mux.HandleFunc("GET "+prefix+"/{id}", o.detail)
	mux.HandleFunc("GET "+prefix+"/{id}/html", o.html)
	mux.HandleFunc("GET "+prefix+"/{id}/raw", o.raw)
	return mux
}

type outboxList struct {
	Prefix   string
	Count    int64
	Messages []devsvc.Message
}

func (o *Outbox) list(w http.ResponseWriter, r *http.Request) {
	o.render(w, "list", outboxList{Prefix: o.prefix, Count: o.src.Count(), Messages: o.src.Messages()})
}

type outboxDetail struct {
	Prefix                     string
	ID                         int64
	Subject, From, To, ReplyTo string
	Date                       string
	Received                   time.Time
	EnvelopeFrom               string
	EnvelopeTo                 []string
	Mail                       mailView
}

func (o *Outbox) detail(w http.ResponseWriter, r *http.Request) {
	m, ok := o.message(w, r)
	if !ok {
		return
	}
	v := parseMail(m.Data)
	o.render(w, "detail", outboxDetail{
		Prefix:       o.prefix,
		ID:           m.ID,
		Subject:      m.Subject,
		From:         v.header("From"),
		To:           v.header("To"),
		ReplyTo:      v.header("Reply-To"),
		Date:         v.header("Date"),
		Received:     m.Received,
		EnvelopeFrom: m.From,
		EnvelopeTo:   m.To,
		Mail:         v,
	})
}

func (o *Outbox) html(w http.ResponseWriter, r *http.Request) {
	m, ok := o.message(w, r)
	if !ok {
		return
	}
	v := parseMail(m.Data)
	if !v.HasHTML {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", outboxHTMLPolicy)
	setPrivate(h)
	_, _ = w.Write([]byte(v.HTML))
}

func (o *Outbox) raw(w http.ResponseWriter, r *http.Request) {
	m, ok := o.message(w, r)
	if !ok {
		return
	}
	h := w.Header()
	h.Set("Content-Type", "message/rfc822")
	h.Set("Content-Disposition", `attachment; filename="message-`+strconv.FormatInt(m.ID, 10)+`.eml"`)
	h.Set("Content-Length", strconv.Itoa(len(m.Data)))
	setPrivate(h)
	_, _ = w.Write(m.Data)
}

// message finds the message the path names, or answers 404.
func (o *Outbox) message(w http.ResponseWriter, r *http.Request) (devsvc.Message, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.NotFound(w, r)
		return devsvc.Message{}, false
	}
	m, ok := o.src.Message(id)
	if !ok {
		http.NotFound(w, r)
		return devsvc.Message{}, false
	}
	return m, true
}

func (o *Outbox) render(w http.ResponseWriter, name string, data any) {
	var buf bytes.Buffer
	if err := o.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		// Only a template bug gets here, and the tests render every page.
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", o.pagePolicy)
	setPrivate(h)
	_, _ = w.Write(buf.Bytes())
}

// setPrivate marks captured mail, which carries live unsubscribe and
// tracking tokens, as not for caches or other sites.
func setPrivate(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}
