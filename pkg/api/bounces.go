package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/dearfriend/dearfriend/pkg/bounce"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/feedback"
	"github.com/dearfriend/dearfriend/pkg/input"
)

// Reports takes what the mail system reports back (feedback.Sink).
type Reports interface {
	TakeAll(ctx context.Context, evs []bounce.Event) (feedback.Result, error)
}

// WithReports enables POST /api/v1/bounces.
func (a *API) WithReports(r Reports) *API {
	a.reports = r
	return a
}

// maxReportEvents bounds the events of one JSON post.
const maxReportEvents = 1000

// reportIn is one event of a JSON post to /api/v1/bounces.
type reportIn struct {
	Recipient  string `json:"recipient"`
	Kind       string `json:"kind"`   // hard, soft, complaint or auto_reply; classified from status and diagnostic when empty
	Status     string `json:"status"` // an enhanced status code such as 5.1.1
	Diagnostic string `json:"diagnostic"`
	MessageID  string `json:"message_id"`
	Token      string `json:"token"` // the VERP token, or the whole bounce+<token>@ address
	EventID    string `json:"event_id"`
}

// takeBounces answers POST /api/v1/bounces: a returned message as it
// arrived (message/rfc822 or text/plain), or JSON events (one object or an
// array), for a Postfix pipe or a script. It answers what was taken.
func (a *API) takeBounces(w http.ResponseWriter, r *http.Request) error {
	if a.reports == nil {
		return errs.New(errs.NotFound, "reports are not taken by this process")
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil && r.Header.Get("Content-Type") != "" {
		return errs.New(errs.Malformed, "the Content-Type %q cannot be read", r.Header.Get("Content-Type"))
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return err // over the limit: 413
	}
	now := time.Now().UTC()
	var evs []bounce.Event
	switch ct {
	case "message/rfc822", "text/plain":
		rep, err := bounce.Read(bytes.NewReader(raw))
		if errors.Is(err, bounce.ErrTooLarge) {
			return errs.New(errs.TooLarge, "the message is over %d bytes", bounce.MaxSize)
		} else if err != nil {
			return errs.New(errs.Malformed, "the message cannot be read: %v", err)
		}
		evs = rep.Events("api", "", bounce.Digest(raw), now)
	case "application/json", "":
		if evs, err = reportEvents(raw, now); err != nil {
			return err
		}
	default:
		return errs.New(errs.Malformed, "Content-Type must be message/rfc822 or text/plain (a returned message) or application/json (events), got %q", ct)
	}
	res, err := a.reports.TakeAll(r.Context(), evs)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": len(evs), "matched": res.Matched, "ignored": res.Ignored, "duplicates": res.Duplicates})
	return nil
}

// reportEvents reads a JSON post of one event or an array of them; any
// event that is wrong refuses the whole post, naming it.
func reportEvents(raw []byte, now time.Time) ([]bounce.Event, error) {
	if err := input.JSON(raw); err != nil {
		return nil, err
	}
	trimmed := bytes.TrimSpace(raw)
	var ins []reportIn
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	var err error
	if bytes.HasPrefix(trimmed, []byte("[")) {
		err = dec.Decode(&ins)
	} else {
		var one reportIn
		err = dec.Decode(&one)
		ins = []reportIn{one}
	}
	if err != nil {
		return nil, errs.New(errs.Malformed, "the body must be a JSON event or an array of them "+
			`({"recipient", "kind" or "status", "diagnostic", "message_id", "token", "event_id"}): %v`, err)
	}
	if dec.More() {
		return nil, errs.New(errs.Malformed, "the body must hold one JSON value; more follows it")
	}
	if len(ins) > maxReportEvents {
		return nil, errs.New(errs.TooLarge, "%d events in one post; the limit is %d", len(ins), maxReportEvents)
	}
	evs := make([]bounce.Event, 0, len(ins))
	for i, in := range ins {
		ev, err := in.event(now)
		if err != nil {
			var e *errs.Error
			if errors.As(err, &e) {
				e.Field = fmt.Sprintf("[%d].%s", i, e.Field)
			}
			return nil, err
		}
		evs = append(evs, ev)
	}
	return evs, nil
}

// event checks one JSON event and makes it a bounce.Event, classifying
// its status and diagnostic when it names no kind.
func (in reportIn) event(now time.Time) (bounce.Event, error) {
	f := bounce.Failure{Recipient: strings.TrimSpace(in.Recipient), Kind: bounce.Kind(in.Kind), Status: strings.TrimSpace(in.Status),
		Diagnostic: in.Diagnostic}
	switch f.Kind {
	case bounce.Hard, bounce.Soft, bounce.Complaint, bounce.AutoReply:
	case "":
		if f.Status == "" && strings.TrimSpace(f.Diagnostic) == "" {
			return bounce.Event{}, errs.Field("kind", "give a kind (hard, soft, complaint or auto_reply), or a status or diagnostic to classify")
		}
	default:
		return bounce.Event{}, errs.Field("kind", "must be hard, soft, complaint or auto_reply, got %q", in.Kind)
	}
	kind := f.Kind
	bounce.Classify(&f) // the reason, and the kind when none is given
	if kind != "" {
		f.Kind = kind // the caller's word stands
	}
	if f.Kind == "" {
		return bounce.Event{}, errs.Field("kind", "status %q and diagnostic say no failure: give a kind", in.Status)
	}
	token := strings.TrimSpace(in.Token)
	if t := bounce.VERPToken(token); t != "" {
		token = t
	}
	if f.Recipient == "" && token == "" && strings.TrimSpace(in.MessageID) == "" {
		return bounce.Event{}, errs.Field("recipient", "give a recipient, a token or a message_id to match the report to its send")
	}
	if len(in.EventID) > 300 || len(f.Recipient) > 320 || len(in.MessageID) > 1000 || len(token) > 200 {
		return bounce.Event{}, errs.Field("event_id", "event_id, recipient, message_id or token is too long")
	}
	return bounce.Event{Failure: f, Source: "api", Token: token, MessageID: strings.Trim(strings.TrimSpace(in.MessageID), "<>"),
		EventID: in.EventID, At: now}, nil
}
