package api

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/dearfriend/dearfriend/pkg/blocks"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/render"
	"github.com/dearfriend/dearfriend/pkg/store"
)

type messageInput struct {
	Name      string `json:"name"`
	Subject   string `json:"subject"`
	Preheader string `json:"preheader"`
	FromName  string `json:"from_name"`
	FromEmail string `json:"from_email"`
	ReplyTo   string `json:"reply_to"`
	Layout    string `json:"layout"`
	HTML      string `json:"html"`
	Text      string `json:"text"`
	// Blocks is a document of pkg/blocks; the HTML is made of it.
	Blocks json.RawMessage `json:"blocks,omitempty"`
}

// messageOut is a message as the API answers it: its blocks as JSON.
type messageOut struct {
	*store.Message
	Blocks json.RawMessage `json:"blocks,omitempty"`
}

func outMessage(m *store.Message) messageOut {
	o := messageOut{Message: m}
	if m.Blocks != "" {
		o.Blocks = json.RawMessage(m.Blocks)
	}
	return o
}

// createMessage compiles the message before storing it, so a template that
// does not parse or merge is refused now, with its line and column, and never
// fails at send time.
func (a *API) createMessage(w http.ResponseWriter, r *http.Request) error {
	var in messageInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if len(in.Blocks) > 0 && string(in.Blocks) != "null" && strings.TrimSpace(in.HTML) != "" {
		return errs.Field("html", "give the HTML or the blocks, not both: the HTML is made of the blocks")
	}
	var doc string
	if len(in.Blocks) > 0 && string(in.Blocks) != "null" {
		doc = string(in.Blocks)
	}
	html, doc, err := blocks.Body(in.HTML, doc)
	if err != nil {
		return err
	}
	in.HTML = html
	ri := render.Input{Subject: in.Subject, Preheader: in.Preheader, FromName: in.FromName, FromEmail: in.FromEmail,
		ReplyTo: in.ReplyTo, Layout: in.Layout, HTML: in.HTML, Text: in.Text}
	compiled, err := a.compiler.Compile(ri)
	if err != nil {
		return err
	}
	if err := a.store.CheckActionLinks(r.Context(), "html", compiled.Actions); err != nil {
		return err
	}
	if strings.ContainsAny(in.Name, "\r\n") || len(in.Name) > 200 {
		return errs.Field("name", "must be one line of at most 200 characters")
	}
	if strings.TrimSpace(in.Name) == "" {
		in.Name = in.Subject
	}
	m := &store.Message{Name: in.Name, Subject: in.Subject, Preheader: in.Preheader, FromName: in.FromName,
		FromEmail: in.FromEmail, ReplyTo: in.ReplyTo, Layout: in.Layout, HTML: in.HTML, Text: in.Text, Blocks: doc}
	if err := a.store.CreateMessage(r.Context(), m); err != nil {
		return err
	}
	warnings := compiled.Warnings
	if warnings == nil {
		warnings = []string{}
	}
	// What compiling removed or left in <style> is said, not hidden.
	writeJSON(w, http.StatusCreated, struct {
		messageOut
		Warnings []string `json:"warnings"`
	}{outMessage(m), warnings})
	return nil
}

func (a *API) getMessage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	m, err := a.store.GetMessage(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, outMessage(m))
	return nil
}

func (a *API) listMessages(w http.ResponseWriter, r *http.Request) error {
	ms, err := a.store.ListMessages(r.Context())
	if err != nil {
		return err
	}
	if ms == nil {
		ms = []store.Message{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": ms})
	return nil
}
