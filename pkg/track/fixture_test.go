package track

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
	"github.com/dearfriend/dearfriend/templates"
)

// fixture is a started campaign of n contacts, every send delivered, and the
// tracking handler serving it over HTTP.
type fixture struct {
	st       *store.Store
	rec      *Recorder
	signer   *Signer
	links    *Links
	srv      *httptest.Server
	camp     *store.Campaign
	list     *store.List
	contacts []store.Contact
	sends    []int64 // by contact
	notified []map[string]any
}

type fakeViewer struct{}

func (fakeViewer) View(context.Context, int64) (string, error) { return "<p>the email</p>", nil }

type recordingNotifier struct{ f *fixture }

func (n recordingNotifier) Notify(_ context.Context, event string, data map[string]any) error {
	data["event"] = event
	n.f.notified = append(n.f.notified, data)
	return nil
}

func quietLog() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func mustStore(tb testing.TB, dsn string) *store.Store {
	tb.Helper()
	return testenv.Store(tb, dsn)
}

// mustCampaign makes a list of n contacts and a campaign to it, started and every send delivered.
func mustCampaign(tb testing.TB, st *store.Store, n int, html string) (*store.Campaign, *store.List, []store.Contact, []int64) {
	tb.Helper()
	ctx := context.Background()
	list := &store.List{Name: "Supporters " + testenv.Random(3)}
	if err := st.CreateList(ctx, list); err != nil {
		tb.Fatal(err)
	}
	var contacts []store.Contact
	var ids []int64
	for i := range n {
		c := store.Contact{Email: fmt.Sprintf("p%d-%s@example.org", i, testenv.Random(3)), FirstName: fmt.Sprintf("P%d", i)}
		if err := st.CreateContact(ctx, &c); err != nil {
			tb.Fatal(err)
		}
		contacts = append(contacts, c)
		ids = append(ids, c.ID)
	}
	if err := st.AddListMembers(ctx, list.ID, ids); err != nil {
		tb.Fatal(err)
	}
	m := &store.Message{Name: "m", Subject: "s", FromName: "f", FromEmail: "f@example.org", HTML: html}
	if err := st.CreateMessage(ctx, m); err != nil {
		tb.Fatal(err)
	}
	camp := &store.Campaign{Name: "alert", MessageID: m.ID, Audience: store.Audience{Lists: []int64{list.ID}}}
	if err := st.CreateCampaign(ctx, camp); err != nil {
		tb.Fatal(err)
	}
	if _, err := st.StartCampaign(ctx, camp.ID); err != nil {
		tb.Fatal(err)
	}
	lo, hi, ok, err := st.SendRange(ctx, camp.ID)
	if err != nil || !ok {
		tb.Fatalf("send range: %v %v", ok, err)
	}
	rs, err := st.PendingRecipients(ctx, camp.ID, lo, hi)
	if err != nil {
		tb.Fatal(err)
	}
	sends := make([]int64, n)
	for _, r := range rs {
		if err := st.RecordOutcome(ctx, r.SendID, store.SendSent, "250 ok", true); err != nil {
			tb.Fatal(err)
		}
		for i, c := range contacts {
			if c.ID == r.ContactID {
				sends[i] = r.SendID
			}
		}
	}
	return camp, list, contacts, sends
}

// mustFixture serves the tracking handler; clicks within window of delivery are a scanner's.
func mustFixture(t *testing.T, dsn string, n int, window time.Duration) *fixture {
	t.Helper()
	f := &fixture{st: mustStore(t, dsn)}
	f.camp, f.list, f.contacts, f.sends = mustCampaign(t, f.st, n, `<a href="https://example.org/sign">Sign</a>`)
	f.signer = NewSigner(strings.Repeat("k", 32))
	f.rec = NewRecorder(f.st, RecorderOptions{FlushEvery: 5 * time.Millisecond, ScannerWindow: window}, quietLog())
	t.Cleanup(func() { f.rec.Close(context.Background()) })
	pages, err := fs.Sub(templates.FS, "pages")
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(nil)
	f.links = NewLinks(f.srv.URL, f.signer)
	h, err := New(Deps{Store: f.st, Recorder: f.rec, Signer: f.signer, Links: f.links, Viewer: fakeViewer{},
		Notifier: recordingNotifier{f}, Org: Org{Name: "Friends of the River", PostalAddress: "1 Main St"}, Pages: pages, Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Routes(mux)
	f.srv.Config.Handler = mux
	t.Cleanup(f.srv.Close)
	return f
}

// linkID registers the campaign's link and returns its id.
func (f *fixture) linkID(t *testing.T, url string) int64 {
	t.Helper()
	ids, err := f.st.EnsureLinks(context.Background(), f.camp.ID, []string{url})
	if err != nil {
		t.Fatal(err)
	}
	return ids[0]
}

// settle waits until every event accepted so far is written (or dropped as an orphan).
func (f *fixture) settle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := f.rec.Stats()
		if st.Written+st.Orphaned == st.Accepted {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("events not written after 10 s: %+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (f *fixture) events(t *testing.T) []store.Event {
	t.Helper()
	f.settle(t)
	es, err := f.st.CampaignEvents(context.Background(), f.camp.ID, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

type response struct {
	code int
	loc  string
	body string
}

// do makes a request; a non-empty form body is sent urlencoded.
func do(t *testing.T, method, url, ua, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("User-Agent", ua)
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{code: resp.StatusCode, loc: resp.Header.Get("Location"), body: string(b)}
}

const browserUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
