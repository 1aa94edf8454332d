package app_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dearfriend/dearfriend/pkg/admin"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// TestAdminBounceDays posts a hard bounce and a complaint through the API
// and reads them back, as a signed-in viewer, in today's row of the bounces
// by day on the dashboard and on the campaign's report, with the messages
// sent that day and the complaint rate over Gmail and Yahoo's 0.3% line.
func TestAdminBounceDays(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, b)
			base := h.app.URL()
			if _, err := admin.CreateUser(context.Background(), h.app.Store(), "viewer@example.org", store.RoleViewer, "correct horse battery"); err != nil {
				t.Fatal(err)
			}
			c := signedInClient(t, base, "viewer@example.org", "correct horse battery")
			if p := getPage(t, c, base+"/admin/"); !strings.Contains(p.body, "No bounces or complaints in the last 30 days.") {
				t.Errorf("dashboard before any bounce: %d, want the empty state\n%s", p.status, p.body)
			}

			day := time.Now().UTC().Format(time.DateOnly)
			const hard, complainer = "gone@example.org", "angry@example.org"
			camp := h.sendTo([]string{hard, complainer, "glad@example.org"})
			report := fmt.Sprintf("%s/admin/campaigns/%d/report", base, camp)
			if p := getPage(t, c, report); !strings.Contains(p.body, "No bounces or complaints yet.") {
				t.Errorf("report before any bounce: %d, want the empty state\n%s", p.status, grepLines(p.body, "bounce"))
			}
			if got := h.postJSONReport([]map[string]any{{"recipient": hard, "kind": "hard", "diagnostic": "550 5.1.1 no such user"},
				{"recipient": complainer, "kind": "complaint"}}); got.Matched != 2 {
				t.Fatalf("post a hard bounce and a complaint: %+v, want 2 matched", got)
			}

			for _, page := range []string{base + "/admin/", report} {
				p := getPage(t, c, page)
				if now := time.Now().UTC().Format(time.DateOnly); now != day {
					t.Skipf("the UTC day turned from %s to %s during the test", day, now)
				}
				if p.status != 200 {
					t.Fatalf("GET %s: %d", page, p.status)
				}
				_, table, ok := strings.Cut(p.body, `id="bounce-days-table"`)
				if !ok {
					t.Fatalf("GET %s: no bounces by day table\n%s", page, grepLines(p.body, "ounce"))
				}
				row := regexp.MustCompile(`(?s)<th scope="row">` + day + `</th>(.*?)</tr>`).FindStringSubmatch(table)
				if row == nil {
					t.Fatalf("GET %s: no row for %s\n%s", page, day, table)
				}
				for label, want := range map[string]string{"Hard": "1", "Soft": "0", "Block": "0", "Complaint": "1", "Sent": "3"} {
					if cell := `data-label="` + label + `">` + want + `</td>`; !strings.Contains(row[1], cell) {
						t.Errorf("GET %s: %s row lacks %s\n%s", page, day, cell, row[1])
					}
				}
				if !strings.Contains(row[1], "33.33%") || !strings.Contains(row[1], "over 0.3%") {
					t.Errorf("GET %s: %s row: want a complaint rate of 33.33%% marked over 0.3%%\n%s", page, day, row[1])
				}
				if !strings.Contains(p.body, "<title id=\"bounce-days-") {
					t.Errorf("GET %s: no bounces by day chart", page)
				}
			}
		})
	}
}
