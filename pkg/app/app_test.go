package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dearfriend/dearfriend/pkg/app"
	"github.com/dearfriend/dearfriend/pkg/config"
	"github.com/dearfriend/dearfriend/pkg/devsvc"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// backend is one way of running the system: embedded, or PostgreSQL and Redis.
type backend struct {
	name     string
	dsn      func(testing.TB) string
	redisURL string
}

func backends(t *testing.T) []backend {
	bs := []backend{{name: "sqlite+inprocess-redis", dsn: testenv.MigratedSQLite}}
	if os.Getenv("DEARFRIEND_TEST_DATABASE_URL") != "" && testenv.RedisURL() != "" {
		bs = append(bs, backend{name: "postgres+redis", dsn: testenv.MigratedPostgres, redisURL: testenv.RedisURL()})
	} else {
		t.Log("PostgreSQL+Redis run skipped: DEARFRIEND_TEST_DATABASE_URL or DEARFRIEND_TEST_REDIS_URL unset (make test sets them when reachable)")
	}
	return bs
}

// harness is a running App with a capture server of the test's own.
type harness struct {
	t       testing.TB
	app     *app.App
	capture *devsvc.Capture
	mu      sync.Mutex
	byRcpt  map[string]int
	browser *http.Client // a cookie jar of the test's own (newBrowser)
	queue   string       // DEARFRIEND_QUEUE, unless the test set its own
	// stop shuts the App down as a signal would (Run returns) and leaves it
	// open for inspection; the test's cleanup calls it too.
	stop func() error
}

const testToken = "test-token-0123456789"

func start(t *testing.T, b backend, extraEnv ...map[string]string) *harness {
	t.Helper()
	return startWith(t, b, nil, extraEnv...)
}

// startWith is start with a relay that refuses messages as reject says
// (devsvc.CaptureOptions.Reject); nil accepts all.
func startWith(t *testing.T, b backend, reject func(from string, to []string) error, extraEnv ...map[string]string) *harness {
	t.Helper()
	return startOpts(t, b, harnessOpts{reject: reject}, extraEnv...)
}

// harnessOpts are startOpts's knobs beyond the environment.
type harnessOpts struct {
	reject    func(from string, to []string) error // the relay's refusals (devsvc.CaptureOptions.Reject); nil accepts all
	smtpQuery string                               // appended to the relay's URL, e.g. "&timeout=20s"
	app       []app.Option
	mode      config.Mode // config.ModeDev when empty
}

// startOpts is startWith with app options and relay URL parameters.
func startOpts(t *testing.T, b backend, o harnessOpts, extraEnv ...map[string]string) *harness {
	t.Helper()
	reject := o.reject
	h := &harness{t: t, byRcpt: map[string]int{}, browser: newBrowser()}
	var err error
	h.capture, err = devsvc.StartCapture("", devsvc.CaptureOptions{Limit: 2000, Reject: reject, OnMessage: func(m devsvc.Message) {
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, to := range m.To {
			h.byRcpt[to]++
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.capture.Close() })
	queue := testenv.Queue()
	h.queue = queue
	env := map[string]string{
		"DEARFRIEND_HTTP_ADDR":    "127.0.0.1:0",
		"DEARFRIEND_INBOUND_ADDR": "127.0.0.1:0",
		"DEARFRIEND_DATABASE_URL": b.dsn(t),
		"DEARFRIEND_REDIS_URL":    b.redisURL,
		"DEARFRIEND_QUEUE":        queue,
		"DEARFRIEND_SMTP_URL":     "smtp://" + h.capture.Addr() + "?tls=none" + o.smtpQuery,
		"DEARFRIEND_API_TOKEN":    testToken,
		"DEARFRIEND_SECRET":       strings.Repeat("s", 40),
		"DEARFRIEND_SEED":         "false",
		"DEARFRIEND_BATCH_SIZE":   "50",
	}
	for _, extra := range extraEnv {
		maps.Copy(env, extra)
	}
	mode := o.mode
	if mode == "" {
		mode = config.ModeDev
	}
	cfg, err := config.FromEnv(mode, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.app, err = app.New(ctx, cfg, append([]app.Option{app.WithLogger(log)}, o.app...)...)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- h.app.Run(ctx) }()
	var once sync.Once
	var runErr error
	h.stop = func() error {
		once.Do(func() { cancel(); runErr = <-done })
		return runErr
	}
	t.Cleanup(func() {
		if err := h.stop(); err != nil {
			t.Errorf("run: %v", err)
		}
		h.app.Close()
		if b.redisURL != "" && b.redisURL == testenv.RedisURL() { // the shared test Redis keeps nothing of ours
			testenv.DropQueue(t, b.redisURL, queue)
		}
	})
	return h
}

// call makes an API request with the test token and decodes the JSON answer into out.
func (h *harness) call(method, path string, body any, out any) int {
	h.t.Helper()
	return h.callAs(testToken, method, path, body, out)
}

func (h *harness) callAs(token, method, path string, body any, out any) int {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, h.app.URL()+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			h.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode
}

type apiError struct {
	Error struct{ Code, Message, Field string } `json:"error"`
}

// TestCampaignEndToEnd sends a campaign to 500 contacts and follows it to the inbox and back.
func TestCampaignEndToEnd(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, b)
			const n = 500
			var list store.List
			if code := h.call("POST", "/api/v1/lists", map[string]any{"name": "Supporters"}, &list); code != 201 {
				t.Fatalf("create list: %d", code)
			}
			firstNames := map[string]string{}
			for i := range n {
				first := fmt.Sprintf("Ada%d", i)
				if i%5 == 0 {
					first = "" // no first name: "Dear Friend"
				}
				if i%7 == 0 {
					first = fmt.Sprintf("Zoë%d", i)
				}
				email := fmt.Sprintf("person%03d@example.org", i)
				firstNames[email] = first
				var c store.Contact
				if code := h.call("POST", "/api/v1/contacts", map[string]any{"email": email, "first_name": first, "lists": []int64{list.ID}}, &c); code != 201 {
					t.Fatalf("create contact %d: %d", i, code)
				}
			}
			body, err := os.ReadFile("../../templates/demo/action-alert.html")
			if err != nil {
				t.Fatal(err)
			}
			var msg store.Message
			code := h.call("POST", "/api/v1/messages", map[string]any{
				"subject": "Tell the Governor: no permit", "from_name": "Maya Ortiz", "from_email": "action@example.org",
				"html": string(body)}, &msg)
			if code != 201 {
				t.Fatalf("create message: %d", code)
			}
			var camp store.Campaign
			if code := h.call("POST", "/api/v1/campaigns", map[string]any{"name": "alert", "message_id": msg.ID, "audience": map[string]any{"lists": []int64{list.ID}}}, &camp); code != 201 {
				t.Fatalf("create campaign: %d", code)
			}
			var sent struct{ Recipients int64 }
			if code := h.call("POST", fmt.Sprintf("/api/v1/campaigns/%d/send", camp.ID), nil, &sent); code != 202 || sent.Recipients != n {
				t.Fatalf("send: %d, %d recipients", code, sent.Recipients)
			}
			var conflict apiError
			if code := h.call("POST", fmt.Sprintf("/api/v1/campaigns/%d/send", camp.ID), nil, &conflict); code != 409 {
				t.Fatalf("second send: %d, want 409", code)
			}
			h.waitFinished(camp.ID)

			// Exactly n messages, each once, each to its own address.
			if got := h.capture.Count(); got != n {
				t.Fatalf("captured %d messages, want %d", got, n)
			}
			h.mu.Lock()
			for email := range firstNames {
				if h.byRcpt[email] != 1 {
					t.Errorf("%s received %d messages, want 1", email, h.byRcpt[email])
				}
			}
			h.mu.Unlock()

			msgs := h.capture.Messages()
			for _, m := range msgs {
				e := parseEmail(t, m.Data)
				to := m.To[0]
				want := "Dear Friend,"
				if f := firstNames[to]; f != "" {
					want = "Dear " + f + ","
				}
				if !strings.Contains(e.html, want) || !strings.Contains(e.text, want) {
					t.Fatalf("message to %s lacks %q in both parts", to, want)
				}
				if !strings.Contains(e.header.Get("To"), to) {
					t.Fatalf("To header %q is not %s", e.header.Get("To"), to)
				}
			}
			e := parseEmail(t, msgs[0].Data)
			checkInlined(t, e.html)
			if got := e.header.Get("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
				t.Errorf("List-Unsubscribe-Post = %q", got)
			}
			lu := e.header.Get("List-Unsubscribe")
			httpUnsub := regexp.MustCompile(`<(http[^>]+)>`).FindStringSubmatch(lu)
			if httpUnsub == nil || !strings.Contains(lu, "<mailto:") {
				t.Fatalf("List-Unsubscribe = %q, want an http(s) URL and a mailto", lu)
			}
			if !regexp.MustCompile(`^<c\d+\.s\d+\.[a-z2-7]{16}@example\.org>$`).MatchString(e.header.Get("Message-Id")) {
				t.Errorf("Message-ID = %q, want a deterministic c<campaign>.s<send>.<deployment> id", e.header.Get("Message-Id"))
			}

			// A GET of the unsubscribe URL changes nothing; the one-click POST unsubscribes.
			recipient := msgs[0].To[0]
			resp := mustDo(t, "GET", httpUnsub[1], "")
			if resp.StatusCode != 200 || contactStatus(t, h, recipient) != store.ContactSubscribed {
				t.Fatalf("GET unsubscribe: %d, status %s; want 200 and still subscribed", resp.StatusCode, contactStatus(t, h, recipient))
			}
			resp = mustDo(t, "POST", httpUnsub[1], "List-Unsubscribe=One-Click")
			if resp.StatusCode != 200 {
				t.Fatalf("one-click POST: %d", resp.StatusCode)
			}
			if s := contactStatus(t, h, recipient); s != store.ContactUnsubscribed {
				t.Errorf("after one-click: contact %s, want unsubscribed", s)
			}
			if sup, err := h.app.Store().IsSuppressed(context.Background(), recipient); err != nil || !sup {
				t.Errorf("after one-click: suppressed = %v, %v", sup, err)
			}

			// A click redirect lands on the original URL and is recorded.
			clicks := regexp.MustCompile(`href="(http://[^"]+/t/c/[^"]+)"`).FindAllStringSubmatch(e.html, -1)
			if len(clicks) == 0 {
				t.Fatal("no tracked link in the HTML part")
			}
			resp = mustDo(t, "GET", clicks[0][1], "")
			if resp.StatusCode != 302 || resp.Header.Get("Location") != "https://example.org/petitions/northfork?source=email" {
				t.Fatalf("click: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			// A forged or altered token gets 404, never a redirect.
			forged := clicks[0][1][:len(clicks[0][1])-3] + "AAA"
			if resp := mustDo(t, "GET", forged, ""); resp.StatusCode != 404 {
				t.Errorf("forged click token: %d, want 404", resp.StatusCode)
			}
			var got struct {
				Status string
				Stats  store.CampaignStats
			}
			// Clicks are written in batches, a moment after the redirect.
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				h.call("GET", fmt.Sprintf("/api/v1/campaigns/%d", camp.ID), nil, &got)
				if got.Stats.Events[store.EventClick] > 0 || time.Now().After(deadline) {
					break
				}
			}
			if got.Stats.Sends[store.SendSent] != n || got.Stats.Events[store.EventClick] != 1 || got.Stats.Events[store.EventUnsubscribe] != 1 {
				t.Errorf("campaign stats = %+v, want %d sent, 1 click, 1 unsubscribe", got.Stats, n)
			}
		})
	}
}

func (h *harness) waitFinished(id int64) {
	h.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		var c store.Campaign
		h.call("GET", fmt.Sprintf("/api/v1/campaigns/%d", id), nil, &c)
		if c.Status == store.CampaignSent {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	h.t.Fatalf("campaign %d not finished after 2 minutes; %d messages captured", id, h.capture.Count())
}

func contactStatus(t *testing.T, h *harness, email string) string {
	t.Helper()
	c, err := h.app.Store().ContactByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return c.Status
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func mustDo(t *testing.T, method, url, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// checkInlined fails when a <style> block still holds a rule that only it could
// apply: after inlining, what is left must sit inside an at-rule (@media) or be
// a dynamic pseudo-class.
func checkInlined(t *testing.T, html string) {
	t.Helper()
	for _, m := range regexp.MustCompile(`(?s)<style[^>]*>(.*?)</style>`).FindAllStringSubmatch(html, -1) {
		css := stripAtRules(m[1])
		for _, rule := range regexp.MustCompile(`([^{}]+)\{[^{}]*\}`).FindAllStringSubmatch(css, -1) {
			sel := strings.TrimSpace(rule[1])
			if strings.ContainsAny(sel, ".#") && !strings.Contains(sel, ":") {
				t.Errorf("selector %q left in <style> outside any at-rule", sel)
			}
		}
	}
	if !regexp.MustCompile(`<a [^>]*style="[^"]*background-color: ?#c8402b`).MatchString(html) {
		t.Error("the button's style was not inlined onto its <a>")
	}
}

func stripAtRules(css string) string {
	var out strings.Builder
	for i := 0; i < len(css); i++ {
		if css[i] != '@' {
			out.WriteByte(css[i])
			continue
		}
		depth := 0
		for ; i < len(css); i++ {
			if css[i] == '{' {
				depth++
			} else if css[i] == '}' {
				depth--
				if depth == 0 {
					break
				}
			} else if css[i] == ';' && depth == 0 {
				break
			}
		}
	}
	return out.String()
}

type email struct {
	header     mail.Header
	html, text string
}

// parseEmail reads a captured message: headers and the decoded HTML and text parts.
func parseEmail(t *testing.T, raw []byte) email {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	e := email{header: m.Header}
	var walk func(ct string, h map[string][]string, body io.Reader)
	walk = func(ct string, h map[string][]string, body io.Reader) {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil {
			t.Fatalf("content type %q: %v", ct, err)
		}
		if strings.HasPrefix(mt, "multipart/") {
			r := multipart.NewReader(body, params["boundary"])
			for {
				p, err := r.NextRawPart()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				walk(p.Header.Get("Content-Type"), p.Header, p)
			}
		}
		if te := strings.ToLower(strings.Join(h["Content-Transfer-Encoding"], "")); te == "quoted-printable" {
			body = quotedprintable.NewReader(body)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		switch mt {
		case "text/html":
			e.html = string(b)
		case "text/plain":
			e.text = string(b)
		}
	}
	walk(m.Header.Get("Content-Type"), m.Header, m.Body)
	if e.html == "" || e.text == "" {
		t.Fatalf("message lacks an HTML or a text part:\n%s", raw[:min(len(raw), 2000)])
	}
	return e
}

// TestBadInput checks the API's answers to bad requests: the status, the code
// and the field, and that nothing was stored.
func TestBadInput(t *testing.T) {
	t.Parallel()
	h := start(t, backends(t)[0])
	good := map[string]any{"subject": "Hi", "from_name": "Maya", "from_email": "action@example.org", "html": "<p>Dear {{ .FirstName }}</p>"}
	with := func(k, v string) map[string]any {
		m := map[string]any{}
		for k2, v2 := range good {
			m[k2] = v2
		}
		m[k] = v
		return m
	}
	tests := []struct {
		name, method, path, token string
		body                      any
		status                    int
		field, message            string
	}{
		{"invalid email", "POST", "/api/v1/contacts", testToken, map[string]any{"email": "not-an-email"}, 422, "email", "not a valid email"},
		{"unparsable template", "POST", "/api/v1/messages", testToken, with("html", "<p>Dear friend</p>\n<p>{{ .FirstName | nosuchfunc }}</p>"), 422, "html", "line 2, column 4"},
		{"unterminated tag", "POST", "/api/v1/messages", testToken, with("html", "<p>x</p>\n<p>ok {{ .FirstName }} then {{ .LastName </p>"), 422, "html", "line 2, column"},
		{"unknown merge field", "POST", "/api/v1/messages", testToken, with("html", "<p>Hi</p>\n<p>{{ .Nickname }}</p>"), 422, "html", "line 2, column 7: unknown merge field .Nickname"},
		{"CR/LF in subject", "POST", "/api/v1/messages", testToken, with("subject", "Hi\r\nBcc: victim@example.org"), 422, "subject", "one line"},
		{"LF in sender name", "POST", "/api/v1/messages", testToken, with("from_name", "Maya\nBcc: x@example.org"), 422, "from_name", "one line"},
		{"body over 2 MB", "POST", "/api/v1/messages", testToken, with("html", strings.Repeat("x", 2<<20+1)), 413, "html", "limit"},
		{"unknown campaign", "GET", "/api/v1/campaigns/999999", testToken, nil, 404, "", "not found"},
		{"send unknown campaign", "POST", "/api/v1/campaigns/999999/send", testToken, nil, 404, "", "not found"},
		{"missing token", "GET", "/api/v1/campaigns", "", nil, 401, "", "API token"},
		{"wrong token", "GET", "/api/v1/campaigns", "wrong", nil, 401, "", "API token"},
		{"unknown field", "POST", "/api/v1/lists", testToken, map[string]any{"name": "x", "colour": "red"}, 422, "", "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e apiError
			code := h.callAs(tt.token, tt.method, tt.path, tt.body, &e)
			if code != tt.status || e.Error.Field != tt.field || !strings.Contains(e.Error.Message, tt.message) {
				t.Fatalf("got %d field %q message %q; want %d field %q message containing %q", code, e.Error.Field, e.Error.Message, tt.status, tt.field, tt.message)
			}
		})
	}
	var ms struct{ Messages []store.Message }
	h.call("GET", "/api/v1/messages", nil, &ms)
	if len(ms.Messages) != 0 {
		t.Errorf("%d messages stored by refused requests", len(ms.Messages))
	}
}

// TestReadiness checks /readyz: ready with its database and Redis, 503 naming
// Redis when Redis does not answer, while /healthz stays up.
func TestReadiness(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		b        backend
		status   int
		contains string
	}{
		{"all up", backends(t)[0], 200, "ready"},
		{"redis down", backend{name: "no redis", dsn: testenv.SQLite, redisURL: "redis://127.0.0.1:1/0"}, 503, "redis unavailable"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := start(t, tt.b)
			resp, err := http.Get(h.app.URL() + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.contains) {
				t.Fatalf("/readyz: %d %q, want %d %q", resp.StatusCode, body, tt.status, tt.contains)
			}
			if r := mustDo(t, "GET", h.app.URL()+"/healthz", ""); r.StatusCode != 200 {
				t.Fatalf("/healthz: %d", r.StatusCode)
			}
		})
	}
}
