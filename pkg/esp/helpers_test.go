package esp

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/bounce"
)

// recSink records what it takes; with fail set it takes nothing and errs.
type recSink struct {
	mu   sync.Mutex
	evs  []bounce.Event
	fail bool
}

func (s *recSink) Take(_ context.Context, evs []bounce.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errors.New("database unavailable")
	}
	s.evs = append(s.evs, evs...)
	return nil
}

func (s *recSink) taken() []bounce.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]bounce.Event(nil), s.evs...)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func mustRead(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// post sends body to h and returns the status and the answer's text.
func post(tb testing.TB, h http.Handler, body []byte, header http.Header) (int, string) {
	tb.Helper()
	req := httptest.NewRequest(http.MethodPost, "/hooks/x", strings.NewReader(string(body)))
	for k, vs := range header {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// brief is what a test compares of an event.
type brief struct {
	Recipient, Kind, Reason, Status, MessageID, EventID string
}

func briefs(evs []bounce.Event) []brief {
	out := make([]brief, 0, len(evs))
	for _, e := range evs {
		out = append(out, brief{e.Recipient, string(e.Kind), e.Reason, e.Status, e.MessageID, e.EventID})
	}
	return out
}

func checkEvents(tb testing.TB, got []bounce.Event, want []brief, source string) {
	tb.Helper()
	if diff := cmp.Diff(want, briefs(got)); diff != "" {
		tb.Errorf("events (-want +got):\n%s", diff)
	}
	for _, e := range got {
		if e.Source != source || e.At.IsZero() {
			tb.Errorf("event %+v: want source %q and a time", e, source)
		}
	}
}

// checkRefused asserts a refusal: the status, words of the answer, and
// nothing taken.
func checkRefused(tb testing.TB, sink *recSink, code int, body string, wantCode int, wantWords string) {
	tb.Helper()
	if code != wantCode || !strings.Contains(body, wantWords) {
		tb.Errorf("got %d %q, want %d naming %q", code, body, wantCode, wantWords)
	}
	if n := len(sink.taken()); n != 0 {
		tb.Errorf("a refused request reached the sink with %d events", n)
	}
}

func TestBodyLimit(t *testing.T) {
	sink := &recSink{}
	h := NewPostmark(sink, PostmarkOptions{User: "u", Password: "p", Log: quiet})
	code, body := post(t, h, []byte(strings.Repeat(" ", MaxBody+1)), http.Header{"Authorization": {basicAuth("u", "p")}})
	checkRefused(t, sink, code, body, http.StatusRequestEntityTooLarge, "larger than")
}
