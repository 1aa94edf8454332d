package admin

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/dearfriend/dearfriend/pkg/blocks"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/render"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// maxTestEmails is how many addresses one test send may go to.
const maxTestEmails = 10

// messageFields are the one-line fields of the editor, in order; those
// with a Merge name (how the picker's label calls the field) get a
// merge-tag picker, the tags as text without JavaScript.
var messageFields = []struct{ Name, Label, Type, Hint, Merge string }{
	{"name", "Name", "text", "For you: how the message is listed. Empty: the subject.", ""},
	{"subject", "Subject", "text", "Merge tags work here too.", "subject"},
	{"preheader", "Preheader", "text", "The line inboxes show after the subject; merge tags work here too.", "preheader"},
	{"from_name", "From name", "text", "", ""},
	{"from_email", "From address", "email", "", ""},
	{"reply_to", "Reply-to address", "email", "Empty: replies go to the from address.", ""},
	{"layout", "Layout", "text", "A layout of templates/email; empty is action-alert, none is the body alone.", ""},
}

// messageView is the editor page.
type messageView struct {
	Message   *store.Message // nil before the first save
	Fields    any
	Tags      []render.Help
	Functions []render.Help
	// ErrorLine is the line of the HTML the save error is about, and its text.
	ErrorLine     int
	ErrorLineText string
	Warnings      []string

	// The block editor's: the editor to open in ("blocks" or "html"), the
	// merge tags, petitions and library images it offers, the base URL of
	// petition pages (share links), and the field path a block error is about.
	Editor          string
	MergeChoices    []blocks.Choice
	Petitions       []store.Petition
	Images          []imageChoice
	PublicURL       string
	BlocksErrorPath string
	// Sent is true when a campaign has sent (or scheduled) the message:
	// it is archived then, not deleted.
	Sent bool
}

// messageList is the messages screen: the messages shown and the filter.
type messageList struct {
	Messages []store.Message
	Archived bool
}

// messages lists the messages, newest first.
func (h *Handler) messages(w http.ResponseWriter, r *http.Request, s *signedIn) {
	archived := archivedFilter(r)
	ms, err := h.Store.ListMessagesShown(r.Context(), archived)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	h.render(w, r, s, http.StatusOK, "messages.html", view{Title: "Messages", Section: "Messages",
		Notice: deskNotices[r.URL.Query().Get("done")], Data: messageList{ms, archived}})
}

// newMessage opens the editor on an empty message from the default sender
// of the branding (the environment's until an admin saves one).
func (h *Handler) newMessage(w http.ResponseWriter, r *http.Request, s *signedIn) {
	f := NewForm(url.Values{"editor": {"blocks"}})
	if h.Brand != nil {
		b, err := h.Brand.Current(r.Context())
		if err != nil {
			h.failFor(w, r, s, err)
			return
		}
		f.Values.Set("from_name", b.FromName)
		f.Values.Set("from_email", b.FromEmail)
	}
	h.showEditor(w, r, s, http.StatusOK, f, nil, "")
}

// message shows a saved message in the editor, with its previews and the
// test-send form.
func (h *Handler) message(w http.ResponseWriter, r *http.Request, s *signedIn) {
	m, err := h.messageOf(r)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	notice := map[string]string{"saved": "The message is saved.", "test": "The test is on its way.",
		"copied": "This is the copy: change it and save."}[r.URL.Query().Get("done")]
	h.showEditor(w, r, s, http.StatusOK, messageForm(m), m, notice)
}

func (h *Handler) messageOf(r *http.Request) (*store.Message, error) {
	id, err := routeID(r, "message")
	if err != nil {
		return nil, err
	}
	return h.Store.GetMessage(r.Context(), id)
}

func messageForm(m *store.Message) *Form {
	editor := "html"
	if m.Blocks != "" {
		editor = "blocks"
	}
	return NewForm(url.Values{"name": {m.Name}, "subject": {m.Subject}, "preheader": {m.Preheader}, "from_name": {m.FromName},
		"from_email": {m.FromEmail}, "reply_to": {m.ReplyTo}, "layout": {m.Layout}, "html": {m.HTML}, "text": {m.Text},
		"blocks": {m.Blocks}, "editor": {editor}})
}

// messageInput is a message as the compiler takes it.
func messageInput(m *store.Message) render.Input {
	return render.Input{Subject: m.Subject, Preheader: m.Preheader, FromName: m.FromName,
		FromEmail: m.FromEmail, ReplyTo: m.ReplyTo, Layout: m.Layout, HTML: m.HTML, Text: m.Text}
}

// imageChoice is an image of the library as the image block offers it:
// its address, which emails load, its name, and its size in the email:
// its own, or the column's width at its proportions when it is wider.
type imageChoice struct {
	URL, Name     string
	Width, Height int
}

// imageChoices lists the library's images for the image block, newest
// first; none when the server keeps no library.
func (h *Handler) imageChoices(ctx context.Context) ([]imageChoice, error) {
	if h.Library == nil {
		return nil, nil
	}
	ms, err := h.Library.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]imageChoice, len(ms))
	for i, m := range ms {
		out[i] = imageChoice{URL: h.Library.URL(&m), Name: m.Name, Width: m.Width, Height: m.Height}
		if m.Width > blocks.ColumnWidth {
			out[i].Width, out[i].Height = blocks.ColumnWidth, (m.Height*blocks.ColumnWidth+m.Width/2)/m.Width
		}
	}
	return out, nil
}

// blocksErrorPath is where the form keeps the path of a block error
// ("blocks[2].alt"), so the editor's script can take the cursor there.
const blocksErrorPath = "blocks_error_path"

// errorLine finds "line N" in a template error: the line the editor points at.
var errorLine = regexp.MustCompile(`^Line (\d+), column \d+:`)

func (h *Handler) showEditor(w http.ResponseWriter, r *http.Request, s *signedIn, status int, f *Form, m *store.Message, notice string) {
	v := messageView{Message: m, Fields: messageFields, Tags: render.MergeTags, Functions: render.Functions,
		Editor: "html", MergeChoices: blocks.MergeChoices, PublicURL: h.PublicURL, BlocksErrorPath: f.Errors[blocksErrorPath]}
	if f.Get("editor") == "blocks" {
		v.Editor = "blocks"
	}
	ps, err := h.Store.ListPetitions(r.Context())
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	v.Petitions = ps
	if v.Images, err = h.imageChoices(r.Context()); err != nil {
		h.failFor(w, r, s, err)
		return
	}
	if m != nil {
		if v.Sent, err = h.Store.MessageSent(r.Context(), m.ID); err != nil {
			h.failFor(w, r, s, err)
			return
		}
	}
	if sub := errorLine.FindStringSubmatch(f.Errors["html"]); sub != nil {
		v.ErrorLine, _ = strconv.Atoi(sub[1])
		if lines := strings.Split(f.Get("html"), "\n"); v.ErrorLine >= 1 && v.ErrorLine <= len(lines) {
			v.ErrorLineText = lines[v.ErrorLine-1]
		}
	}
	title := "New message"
	if m != nil {
		title = m.Name
		// What the saved message will be held against, said while it can
		// still be changed: refused it is not.
		if h.Compiler != nil {
			if c, err := h.Compiler.Compile(messageInput(m)); err == nil {
				v.Warnings = c.Warnings
			}
		}
	}
	h.render(w, r, s, status, "message.html", view{Title: title, Section: "Messages", Notice: notice, Form: f, Data: v})
}

// saveMessage compiles the form as the API does before it stores a message,
// so a template that does not parse is refused with its line and column.
// With the path's {id} it saves over that message, unless a campaign sent it.
func (h *Handler) saveMessage(w http.ResponseWriter, r *http.Request, s *signedIn) {
	var m *store.Message
	if r.PathValue("id") != "" {
		var err error
		if m, err = h.messageOf(r); err != nil {
			h.failFor(w, r, s, err)
			return
		}
	}
	if h.Compiler == nil {
		h.problem(w, r, s, http.StatusNotFound, "Messages cannot be edited on this server.")
		return
	}
	f := NewForm(r.PostForm)
	in := store.Message{Name: strings.TrimSpace(f.Get("name")), Subject: f.Get("subject"), Preheader: f.Get("preheader"),
		FromName: f.Get("from_name"), FromEmail: f.Get("from_email"), ReplyTo: f.Get("reply_to"), Layout: f.Get("layout"),
		// Browsers post text areas with CRLF line ends.
		HTML: strings.ReplaceAll(f.Get("html"), "\r\n", "\n"), Text: strings.ReplaceAll(f.Get("text"), "\r\n", "\n")}
	// The block editor's script says it is in use; without it (or in HTML
	// mode) the HTML is as typed and the message keeps no blocks.
	var doc string
	if f.Get("editor") == "blocks" {
		doc = f.Get("blocks")
		if strings.TrimSpace(doc) == "" {
			doc = `{"blocks":[]}`
		}
	}
	var err error
	in.HTML, in.Blocks, err = blocks.Body(in.HTML, doc)
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
		f.Errors[blocksErrorPath] = e.Field
	}
	var c *render.Compiled
	if err == nil {
		c, err = h.Compiler.Compile(messageInput(&in))
	}
	if err == nil {
		err = h.Store.CheckActionLinks(r.Context(), "html", c.Actions)
	}
	if err == nil && (strings.ContainsAny(in.Name, "\r\n") || len(in.Name) > 200) {
		err = errs.Field("name", "must be one line of at most 200 characters")
	}
	if err == nil {
		if in.Name == "" {
			in.Name = in.Subject
		}
		if m == nil {
			err = h.Store.CreateMessage(r.Context(), &in)
		} else {
			in.ID = m.ID
			err = h.Store.UpdateMessage(r.Context(), &in)
		}
	}
	if err != nil {
		if e, ok := errs.As(err); ok && e.Code == errs.Conflict && e.Field == "" {
			f.Fail("", sentence(e.Message))
		} else if !f.Take(err) {
			h.failFor(w, r, s, err)
			return
		}
		h.showEditor(w, r, s, http.StatusUnprocessableEntity, f, m, "")
		return
	}
	http.Redirect(w, r, "/admin/messages/"+strconv.FormatInt(in.ID, 10)+"?done=saved", http.StatusSeeOther)
}

// previewMessage answers the saved message's HTML as a sample contact (every
// optional field empty) gets it: what the editor's preview frames show.
func (h *Handler) previewMessage(w http.ResponseWriter, r *http.Request, s *signedIn) {
	id, err := routeID(r, "message")
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	if h.Previews == nil {
		h.problem(w, r, s, http.StatusNotFound, "Previews are not available on this server.")
		return
	}
	m, err := h.Previews.Preview(r.Context(), id, 0)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	// Framed by the editor only (sandboxed there too); no script or form
	// runs, images load as in an inbox.
	hd.Set("Content-Security-Policy", "default-src 'none'; img-src * data:; style-src 'unsafe-inline'; font-src *; frame-ancestors 'self'; form-action 'none'; base-uri 'none'")
	hd.Set("X-Frame-Options", "SAMEORIGIN")
	hd.Set("Referrer-Policy", "no-referrer")
	w.Write([]byte(m.HTML))
}

// testMessage queues a test send of the saved message to the addresses of
// the "emails" field, separated by commas, with the API's rules.
func (h *Handler) testMessage(w http.ResponseWriter, r *http.Request, s *signedIn) {
	m, err := h.messageOf(r)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	if h.Previews == nil {
		h.problem(w, r, s, http.StatusNotFound, "Test sends are not available on this server.")
		return
	}
	f := messageForm(m)
	f.Values.Set("emails", r.PostForm.Get("emails"))
	emails := splitValues(f.Get("emails"))
	switch {
	case len(emails) == 0:
		f.Fail("emails", "Type at least one address.")
	case len(emails) > maxTestEmails:
		f.Fail("emails", "Send a test to at most 10 addresses.")
	default:
		if _, err := h.Previews.EnqueueTest(r.Context(), m.ID, emails); err != nil && !f.Take(err) {
			h.failFor(w, r, s, err)
			return
		}
	}
	if !f.OK() {
		h.showEditor(w, r, s, http.StatusUnprocessableEntity, f, m, "")
		return
	}
	http.Redirect(w, r, "/admin/messages/"+strconv.FormatInt(m.ID, 10)+"?done=test", http.StatusSeeOther)
}

// blocksHTML answers the HTML the posted blocks make (text/plain), or 422
// with the error naming the block: what the editor's script shows when the
// organizer switches from blocks to HTML.
func (h *Handler) blocksHTML(w http.ResponseWriter, r *http.Request, s *signedIn) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	out, _, err := blocks.Body("", r.PostForm.Get("blocks"))
	if err != nil {
		e, ok := errs.As(err)
		if !ok || (e.Code != errs.Invalid && e.Code != errs.TooLarge) {
			h.failFor(w, r, s, err)
			return
		}
		w.WriteHeader(http.StatusUnprocessableEntity)
		w.Write([]byte(sentence(e.Message)))
		return
	}
	w.Write([]byte(out))
}
