// Package api is the JSON campaign API under /api/v1: bearer-token auth, one
// file per resource, one error shape ({"error": {"code", "message", "field"}})
// mapped from pkg/errs at this edge. It must not render HTML pages (pkg/web and
// pkg/track do) nor hold state beyond its dependencies.
package api

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/input"
	"github.com/dearfriend/dearfriend/pkg/render"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// Dispatcher starts, pauses, resumes and cancels a campaign's send.
type Dispatcher interface {
	Send(ctx context.Context, campaignID int64) (int64, error)
	Pause(ctx context.Context, campaignID int64) error
	Unpause(ctx context.Context, campaignID int64) error
	Cancel(ctx context.Context, campaignID int64) (int64, error)
	// ResendUnknown sends again the rows whose outcome is unknown.
	ResendUnknown(ctx context.Context, campaignID int64) (int64, error)
	// ChooseWinner ends an A/B test with the variant labelled label and sends it to the rest.
	ChooseWinner(ctx context.Context, campaignID int64, label string) (*store.Variant, error)
}

// Compiler validates messages at save time.
type Compiler interface {
	Compile(in render.Input) (*render.Compiled, error)
}

// API holds the handlers' dependencies.
type API struct {
	store      *store.Store
	compiler   Compiler
	dispatcher Dispatcher
	token      string
	// tokenSource, when set, gives the token in place of token (token.go).
	tokenSource TokenSource
	log         *slog.Logger
	jobs        *jobs // imports running in the background
	previews    Previews
	reports     Reports // nil: POST /api/v1/bounces answers 404 (bounces.go)
}

// New returns the API; token is the bearer token every request must carry.
func New(st *store.Store, compiler Compiler, dispatcher Dispatcher, token string, log *slog.Logger) *API {
	return &API{store: st, compiler: compiler, dispatcher: dispatcher, token: token, log: log, jobs: newJobs()}
}

// maxBody bounds every request body; a message body may be up to render.MaxBodySize.
const maxBody = render.MaxBodySize + 1<<20

// auth lets through a request carrying the token, its body bounded to limit bytes.
func (a *API) auth(limit int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		want, err := a.currentToken(r.Context())
		if err != nil {
			a.error(w, r, err)
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="dearfriend"`)
			a.error(w, r, errs.New(errs.Unauthorized, "a valid API token is required: Authorization: Bearer <token>"))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

type errorBody struct {
	Error struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		Field     string `json:"field,omitempty"`
		RequestID string `json:"request_id,omitempty"`
	} `json:"error"`
}

var statusOf = map[errs.Code]int{
	errs.Invalid:      http.StatusUnprocessableEntity,
	errs.NotFound:     http.StatusNotFound,
	errs.Conflict:     http.StatusConflict,
	errs.Forbidden:    http.StatusForbidden,
	errs.Unauthorized: http.StatusUnauthorized,
	errs.TooLarge:     http.StatusRequestEntityTooLarge,
	errs.Malformed:    http.StatusBadRequest,
}

// error writes err in the one error shape; anything not a domain error is a
// 500 whose body says only "internal error" and a request id.
func (a *API) error(w http.ResponseWriter, r *http.Request, err error) {
	var body errorBody
	status := http.StatusInternalServerError
	if e, ok := errs.As(err); ok {
		if s, known := statusOf[e.Code]; known {
			status = s
			body.Error.Code, body.Error.Message, body.Error.Field = string(e.Code), e.Message, e.Field
		}
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		status = http.StatusRequestEntityTooLarge
		body.Error.Code, body.Error.Message = string(errs.TooLarge), fmt.Sprintf("request body over %d bytes", tooBig.Limit)
	}
	if status == http.StatusInternalServerError {
		id := requestID()
		a.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "request_id", id, "err", err)
		body.Error.Code, body.Error.Message, body.Error.RequestID = "internal", "internal error", id
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// decode reads a JSON body into v, refusing unknown fields and any text
// input.JSON refuses (invalid UTF-8, control characters), named by its path.
func decode(r *http.Request, v any) error {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if err := input.JSON(raw); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return errs.Field(typeErr.Field, "must be a %s", typeErr.Type)
		}
		if errors.Is(err, io.EOF) {
			return errs.New(errs.Invalid, "the request body must be a JSON object")
		}
		return errs.New(errs.Invalid, "the request body is not valid JSON: %v", err)
	}
	return nil
}

// pathID parses the {id} of the route.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.New(errs.NotFound, "no such id %q", r.PathValue("id"))
	}
	return id, nil
}

// handle adapts a handler that returns an error.
func (a *API) handle(fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return a.handleLimit(maxBody, fn)
}

// handleLimit is handle for a route whose body may be up to limit bytes.
func (a *API) handleLimit(limit int64, fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return a.auth(limit, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Every query parameter obeys the rule of every other input: a NUL
		// in a search is refused here, not by the database.
		if err := input.Check("path", r.URL.Path, false); err != nil {
			a.error(w, r, err)
			return
		}
		if err := input.Values(r.URL.Query()); err != nil {
			a.error(w, r, err)
			return
		}
		if err := fn(w, r); err != nil {
			a.error(w, r, err)
		}
	}))
}

// named is the input of a resource that is a name and a description (lists, topics).
type named struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// decodeNamed reads a named input checked by store.CheckNamed.
func decodeNamed(r *http.Request, maxName int) (named, error) {
	var in named
	if err := decode(r, &in); err != nil {
		return in, err
	}
	var err error
	in.Name, in.Description, err = store.CheckNamed(in.Name, in.Description, maxName)
	return in, err
}
