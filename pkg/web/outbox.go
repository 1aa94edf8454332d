package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dearfriend/dearfriend/pkg/devsvc"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// OutboxStore is where the outbox reads the captured messages; *store.Store
// is one.
type OutboxStore interface {
	OutboxPage(ctx context.Context, q store.OutboxQuery) ([]store.OutboxMessage, error)
	OutboxSpan(ctx context.Context, search string) (store.OutboxSpan, error)
	OutboxMessageByID(ctx context.Context, id int64) (*store.OutboxMessage, error)
}

var _ OutboxStore = (*store.Store)(nil)

// OutboxKeeper stores captured messages; *store.Store is one.
type OutboxKeeper interface {
	KeepOutboxMessages(ctx context.Context, msgs []store.OutboxMessage) error
}

// KeepOutbox is a devsvc.CaptureOptions.Keep that stores each batch of
// captured messages in st, for the outbox to show.
func KeepOutbox(st OutboxKeeper) func(context.Context, []devsvc.Message) error {
	return func(ctx context.Context, msgs []devsvc.Message) error {
		rows := make([]store.OutboxMessage, len(msgs))
		for i, m := range msgs {
			rows[i] = store.OutboxMessage{ReceivedAt: m.Received, MailFrom: m.From, Recipients: strings.Join(m.To, ", "),
				Subject: m.Subject, Raw: m.Data}
		}
		return st.KeepOutboxMessages(ctx, rows)
	}
}

// OutboxOptions are the outbox's optional parts.
type OutboxOptions struct {
	// Suggest names a campaign ready to send and the page it is sent
	// from, for the empty outbox to point to; ok false when there is none.
	Suggest func(ctx context.Context) (name, url string, ok bool)
	// AdminURL is linked from every page ("" leaves the link out).
	AdminURL string
	// Log receives the errors of the database; nil discards them.
	Log *slog.Logger
}

// outboxPageSize is how many messages a page of the outbox lists.
const outboxPageSize = 50

// outboxHTMLPolicy is for the message's own HTML: no scripts, no forms, no
// plugins, an opaque origin; images, styles and fonts load as they would in
// a mail client (remote images included, so a tracking pixel fires), and
// links open in a new tab, outside the sandbox.
const outboxHTMLPolicy = "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; " +
	"img-src data: http: https:; style-src 'unsafe-inline' http: https:; font-src data: http: https:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'self'"

// Outbox serves the captured messages in embedded mode, every one kept in
// the database. Mount it at its prefix without stripping it:
// mux.Handle(prefix+"/", outbox); ServeMux then also redirects the bare
// prefix to prefix+"/".
//
//	GET {prefix}/           the messages, newest first, 50 a page; ?q= searches recipients and subjects
//	GET {prefix}/{id}       one message: headers, HTML part, text part, source
//	GET {prefix}/{id}/html  the HTML part alone, for the page's sandboxed iframe
//	GET {prefix}/{id}/raw   the message as received, as an .eml download
type Outbox struct {
	src        OutboxStore
	opts       OutboxOptions
	prefix     string
	tmpl       *template.Template
	pagePolicy string
}

// NewOutbox serves src under prefix, e.g. "/outbox".
func NewOutbox(src OutboxStore, prefix string, opts OutboxOptions) http.Handler {
	prefix = "/" + strings.Trim(prefix, "/")
	if prefix == "/" {
		prefix = ""
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	sum := sha256.Sum256([]byte(outboxCSS))
	o := &Outbox{
		src:    src,
		opts:   opts,
		prefix: prefix,
		tmpl: template.Must(template.New("outbox").Funcs(template.FuncMap{
			"css":  func() template.CSS { return template.CSS(outboxCSS) },
			"when": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
		}).Parse(outboxTemplates)),
		pagePolicy: "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; " +
			"frame-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET "+prefix+"/{$}", o.list)
	mux.HandleFunc("GET "+prefix+"/{id}", o.detail)
	mux.HandleFunc("GET "+prefix+"/{id}/html", o.html)
	mux.HandleFunc("GET "+prefix+"/{id}/raw", o.raw)
	return mux
}

type outboxList struct {
	Prefix, AdminURL string
	Search           string
	Span             store.OutboxSpan
	Messages         []store.OutboxMessage
	Newer, Older     string // links to the next pages, "" when there is none
	Suggest          struct {
		Name, URL string
		OK        bool
	}
}

func (o *Outbox) list(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	v := outboxList{Prefix: o.prefix, AdminURL: o.opts.AdminURL, Search: strings.TrimSpace(q.Get("q"))}
	before, errB := bound(q.Get("before"))
	after, errA := bound(q.Get("after"))
	if errB != nil || errA != nil {
		http.Error(w, "before and after must be message ids", http.StatusBadRequest)
		return
	}
	var err error
	if v.Span, err = o.src.OutboxSpan(ctx, v.Search); err != nil {
		o.fail(w, r, err)
		return
	}
	if v.Messages, err = o.src.OutboxPage(ctx, store.OutboxQuery{Search: v.Search, Before: before, After: after, Limit: outboxPageSize}); err != nil {
		o.fail(w, r, err)
		return
	}
	if n := len(v.Messages); n > 0 {
		if v.Messages[0].ID < v.Span.Newest {
			v.Newer = o.pageLink(v.Search, "after", v.Messages[0].ID)
		}
		if v.Messages[n-1].ID > v.Span.Oldest {
			v.Older = o.pageLink(v.Search, "before", v.Messages[n-1].ID)
		}
	}
	if v.Span.Count == 0 && v.Search == "" && o.opts.Suggest != nil {
		v.Suggest.Name, v.Suggest.URL, v.Suggest.OK = o.opts.Suggest(ctx)
	}
	o.render(w, "list", v)
}

// bound reads a keyset bound: "" is none.
func bound(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return 0, errors.New("not an id")
	}
	return n, nil
}

func (o *Outbox) pageLink(search, key string, id int64) string {
	q := url.Values{key: {strconv.FormatInt(id, 10)}}
	if search != "" {
		q.Set("q", search)
	}
	return o.prefix + "/?" + q.Encode()
}

type outboxDetail struct {
	Prefix, AdminURL           string
	ID                         int64
	Subject, From, To, ReplyTo string
	Date                       string
	Received                   time.Time
	EnvelopeFrom               string
	EnvelopeTo                 string
	Mail                       mailView
	Source                     string
}

func (o *Outbox) detail(w http.ResponseWriter, r *http.Request) {
	m, ok := o.message(w, r)
	if !ok {
		return
	}
	v := parseMail(m.Raw)
	o.render(w, "detail", outboxDetail{
		Prefix:       o.prefix,
		AdminURL:     o.opts.AdminURL,
		ID:           m.ID,
		Subject:      m.Subject,
		From:         v.header("From"),
		To:           v.header("To"),
		ReplyTo:      v.header("Reply-To"),
		Date:         v.header("Date"),
		Received:     m.ReceivedAt,
		EnvelopeFrom: m.MailFrom,
		EnvelopeTo:   m.Recipients,
		Mail:         v,
		Source:       strings.ToValidUTF8(string(m.Raw), "\uFFFD"),
	})
}

func (o *Outbox) html(w http.ResponseWriter, r *http.Request) {
	m, ok := o.message(w, r)
	if !ok {
		return
	}
	v := parseMail(m.Raw)
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
	h.Set("Content-Length", strconv.Itoa(len(m.Raw)))
	setPrivate(h)
	_, _ = w.Write(m.Raw)
}

// message finds the message the path names, or answers 404.
func (o *Outbox) message(w http.ResponseWriter, r *http.Request) (*store.OutboxMessage, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		http.NotFound(w, r)
		return nil, false
	}
	m, err := o.src.OutboxMessageByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		http.NotFound(w, r)
		return nil, false
	} else if err != nil {
		o.fail(w, r, err)
		return nil, false
	}
	return m, true
}

// fail answers a database error with a 500 that says only "internal error";
// the detail goes to the log.
func (o *Outbox) fail(w http.ResponseWriter, r *http.Request, err error) {
	o.opts.Log.Error("outbox", "path", r.URL.Path, "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
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
