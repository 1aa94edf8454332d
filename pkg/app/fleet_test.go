package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dearfriend/dearfriend/pkg/admin"
	"github.com/dearfriend/dearfriend/pkg/config"
	"github.com/dearfriend/dearfriend/pkg/devsvc"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// startPair starts two processes on one database and one Redis, as behind a
// load balancer: a (dev: HTTP and a worker) and b (serve: HTTP alone). On
// SQLite both open one file and share an in-process Redis of the test's.
func startPair(t *testing.T, be backend, env map[string]string) (a, b *harness) {
	t.Helper()
	dsn := be.dsn(t)
	redisURL := be.redisURL
	if redisURL == "" {
		r, err := devsvc.StartRedis("")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(r.Close)
		redisURL = "redis://" + r.Addr()
	}
	shared := backend{name: be.name, dsn: func(testing.TB) string { return dsn }, redisURL: redisURL}
	env["DEARFRIEND_QUEUE"] = testenv.Queue()
	a = startOpts(t, shared, harnessOpts{}, env)
	serve := map[string]string{"DEARFRIEND_ALLOW_HTTP": "1", "DEARFRIEND_ORG_NAME": "Friends of the River",
		"DEARFRIEND_FROM_NAME": "Sam Lee", "DEARFRIEND_FROM_EMAIL": "action@riverfriends.org", "DEARFRIEND_POSTAL_ADDRESS": "12 Water St, Bend, OR 97701"}
	b = startOpts(t, shared, harnessOpts{mode: config.ModeServe}, env, serve)
	return a, b
}

// TestTwoServeProcesses runs two processes behind one imagined address and
// sends each request of one person's work to either: a session and CSRF
// token made on one are taken by the other, an import started on one is
// followed on the other to its end (never marked failed by it), links signed
// by one are tracked by the other, and the petition sign limit is counted
// across both.
func TestTwoServeProcesses(t *testing.T) {
	t.Parallel()
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			a, b := startPair(t, be, map[string]string{"DEARFRIEND_SIGN_RATE": "3", "DEARFRIEND_TRUST_PROXY": "true"})
			ctx := context.Background()
			const password = "correct horse battery"
			if _, err := admin.CreateUser(ctx, a.app.Store(), "maya@example.org", store.RoleOrganizer, password); err != nil {
				t.Fatal(err)
			}

			// Signed in on A; B knows the session and takes the CSRF token of A's page.
			browser := signedInClient(t, a.app.URL(), "maya@example.org", password)
			if p := getPage(t, browser, b.app.URL()+"/admin/lists"); p.status != http.StatusOK || !strings.Contains(p.body, "Sign out") {
				t.Fatalf("B's list page with A's session: %d, signed in %v", p.status, strings.Contains(p.body, "Sign out"))
			}
			form := url.Values{"csrf": {csrfOf(t, getPage(t, browser, a.app.URL()+"/admin/lists").body)}, "name": {"Made on B"}}
			resp, err := browser.PostForm(b.app.URL()+"/admin/lists", form)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			list, err := a.app.Store().ListNamed(ctx, "Made on B")
			if resp.StatusCode != http.StatusOK || err != nil {
				t.Fatalf("list posted to B with A's token: %d, %v", resp.StatusCode, err)
			}

			// An import started on A, followed on B to its end.
			imp := startImport(t, a, list.ID, 10000)
			var seen []string
			for deadline := time.Now().Add(2 * time.Minute); imp.Status == store.ImportRunning && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				if code := b.call("GET", fmt.Sprintf("/api/v1/imports/%d", imp.ID), nil, &imp); code != http.StatusOK {
					t.Fatalf("import on B: %d", code)
				}
				if len(seen) == 0 || seen[len(seen)-1] != imp.Status {
					seen = append(seen, imp.Status)
				}
				if p := getPage(t, browser, fmt.Sprintf("%s/admin/imports/%d", b.app.URL(), imp.ID)); p.status != http.StatusOK {
					t.Fatalf("B's import page: %d", p.status)
				}
			}
			if imp.Status != store.ImportDone || imp.Imported != 10000 || strings.Contains(strings.Join(seen, " "), store.ImportFailed) {
				t.Fatalf("import followed on B: %s, %d imported, statuses seen %v; want done with 10000", imp.Status, imp.Imported, seen)
			}

			// A sends; its links are tracked by B, and B shows the progress.
			mustPetition(t, a, "fleet", 0)
			camp := mustSendAlert(t, a, "fleet", "Ana", "Ben", "Cy")
			a.waitFinished(camp.ID)
			var opened int
			for _, m := range a.capture.Messages() {
				pixel := regexp.MustCompile(`src="http://[^/"]+(/t/o/[^"]+)"`).FindStringSubmatch(parseEmail(t, m.Data).html)
				if pixel == nil {
					t.Fatalf("no open pixel in %s", m.Data)
				}
				resp, err := noRedirect.Get(b.app.URL() + pixel[1])
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/gif" {
					t.Fatalf("A's pixel on B: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
				}
				opened++
			}
			if opened != 3 {
				t.Fatalf("%d messages captured, want 3", opened)
			}
			b.waitEvents(camp.ID, store.EventOpen, 3)
			// A's signed action link: B knows who signs.
			if p := getPage(t, http.DefaultClient, strings.Replace(actionLink(t, a, "ana@example.org", "fleet"), a.app.URL(), b.app.URL(), 1)); !strings.Contains(p.body, "Ana") {
				t.Errorf("A's action link on B: %d, the page does not greet Ana", p.status)
			}
			if p := getPage(t, browser, fmt.Sprintf("%s/admin/campaigns/%d", b.app.URL(), camp.ID)); p.status != http.StatusOK || !strings.Contains(p.body, `id="sent">3<`) {
				t.Errorf("B's progress page: %d, want 3 sent shown", p.status)
			}

			// The sign limit (3 a minute) holds across both.
			page := a.mustGetPage(a.app.URL() + "/a/fleet")
			token := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
			if token == nil {
				t.Fatal("no CSRF token on the petition page")
			}
			var codes []int
			for i := range 4 {
				to := []*harness{a, b}[i%2]
				codes = append(codes, a.postForm(to.app.URL()+"/a/fleet/sign", "203.0.113.7",
					url.Values{"csrf": {token[1]}, "email": {fmt.Sprintf("signer%d@example.org", i)}, "first_name": {"Pat"}, "last_name": {"Lee"}}))
			}
			if want := []int{200, 200, 200, 429}; fmt.Sprint(codes) != fmt.Sprint(want) {
				t.Errorf("sign posts to A, B, A, B from one address: %v, want %v", codes, want)
			}

			// Signed out on B: A no longer takes the session.
			form = url.Values{"csrf": {csrfOf(t, getPage(t, browser, a.app.URL()+"/admin/lists").body)}}
			if resp, err = browser.PostForm(b.app.URL()+"/admin/signout", form); err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if p := getPage(t, browser, a.app.URL()+"/admin/lists"); strings.Contains(p.body, "Sign out") {
				t.Error("A still takes the session signed out on B")
			}
		})
	}
}

// startImport posts a CSV of n new contacts to list through h's API and
// returns the import as first answered (running).
func startImport(t *testing.T, h *harness, list int64, n int) store.Import {
	t.Helper()
	var csv strings.Builder
	csv.WriteString("email,first_name\n")
	for i := range n {
		fmt.Fprintf(&csv, "imported%06d@example.org,Friend%d\n", i, i)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("list", fmt.Sprint(list))
	fw, _ := mw.CreateFormFile("file", "people.csv")
	io.WriteString(fw, csv.String())
	mw.Close()
	req, err := http.NewRequest("POST", h.app.URL()+"/api/v1/imports", &buf)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var imp store.Import
	if err := json.NewDecoder(resp.Body).Decode(&imp); err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("import: %d %v", resp.StatusCode, err)
	}
	return imp
}

// waitEvents waits until the campaign's stats, read through h, count n events of kind.
func (h *harness) waitEvents(camp int64, kind string, n int64) {
	h.t.Helper()
	var got struct{ Stats store.CampaignStats }
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		h.call("GET", fmt.Sprintf("/api/v1/campaigns/%d", camp), nil, &got)
		if got.Stats.Events[kind] >= n {
			return
		}
	}
	h.t.Fatalf("campaign %d: %d %s events after a minute, want %d", camp, got.Stats.Events[kind], kind, n)
}
