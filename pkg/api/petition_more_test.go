package api_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestPetitionReport checks the report (by day, by campaign, by referral)
// and the CSV for the target: names, places, comments, dates, no email
// addresses, and no cell a spreadsheet would run as a formula.
func TestPetitionReport(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		c, s := mustServer(t, dsn)
		ctx := context.Background()
		var p store.Petition
		mustDo(c, "POST", "/api/v1/petitions", map[string]any{"slug": "river", "title": "Save the river"}, &p, http.StatusCreated)
		m := &store.Message{Name: "m", Subject: "s", FromName: "f", FromEmail: "f@example.org", HTML: "x"}
		if err := s.CreateMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		camp := &store.Campaign{Name: "June alert", MessageID: m.ID}
		if err := s.CreateCampaign(ctx, camp); err != nil {
			t.Fatal(err)
		}
		signer := func(email, first string) *store.Contact {
			ct, err := s.UpsertSigner(ctx, store.Signer{Email: email, FirstName: first, LastName: "Doe", PostalCode: "12207"})
			if err != nil {
				t.Fatal(err)
			}
			return ct
		}
		jane, sam, kim := signer("jane@example.org", "Jane"), signer("sam@example.org", "Sam"), signer("kim@example.org", "Kim")
		for _, sg := range []struct {
			who *store.Contact
			at  store.Attribution
		}{
			{jane, store.Attribution{CampaignID: camp.ID, Comment: "For the fish", City: "Albany"}},
			{sam, store.Attribution{ReferrerContactID: jane.ID}},
			{kim, store.Attribution{Comment: "=HYPERLINK(\"http://evil.example\")"}},
		} {
			if _, err := s.Sign(ctx, p.ID, sg.who.ID, sg.at); err != nil {
				t.Fatal(err)
			}
		}
		var rep store.PetitionReport
		mustDo(c, "GET", fmt.Sprintf("/api/v1/petitions/%d/report", p.ID), nil, &rep, http.StatusOK)
		want := store.PetitionReport{PetitionID: p.ID, Total: 3, Referred: 1, Direct: 1,
			ByDay:      []store.DayCount{{Day: time.Now().UTC().Format(time.DateOnly), Signatures: 3}},
			ByCampaign: []store.CampaignCount{{CampaignID: camp.ID, Name: "June alert", Signatures: 1}},
			Referrers:  []store.ReferrerCount{{ContactID: jane.ID, Signatures: 1}}}
		if d := cmp.Diff(want, rep); d != "" {
			t.Errorf("report (-want +got):\n%s", d)
		}

		status, body := send(c, "GET", fmt.Sprintf("/api/v1/petitions/%d/signatures.csv", p.ID), "", nil)
		rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
		if status != http.StatusOK || err != nil || len(rows) != 4 {
			t.Fatalf("CSV: %d, %v\n%s", status, err, body)
		}
		if d := cmp.Diff([]string{"first_name", "last_name", "city", "region", "postal_code", "comment", "signed_at"}, rows[0]); d != "" {
			t.Errorf("CSV header (-want +got):\n%s", d)
		}
		if d := cmp.Diff([]string{"Jane", "Doe", "Albany", "", "12207", "For the fish"}, rows[1][:6]); d != "" {
			t.Errorf("CSV row (-want +got):\n%s", d)
		}
		if got := rows[3][5]; !strings.HasPrefix(got, "'=") {
			t.Errorf("a formula comment is exported as %q, want it quoted", got)
		}
		if strings.Contains(string(body), "@example.org") {
			t.Error("the CSV for the target carries email addresses")
		}
	})
}

// TestLetterOrganizationsAPI checks listing, approving and rejecting the
// organizations that signed a letter, and the letter's CSV and report.
func TestLetterOrganizationsAPI(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		c, s := mustServer(t, dsn)
		ctx := context.Background()
		status, body := send(c, "POST", "/api/v1/petitions", "application/json", strings.NewReader(`{"slug": "x", "title": "t", "kind": "memo"}`))
		if status != http.StatusUnprocessableEntity || errorField(t, body) != "kind" {
			t.Errorf("unknown kind: %d %s", status, body)
		}
		var p store.Petition
		mustDo(c, "POST", "/api/v1/petitions", map[string]any{"slug": "coalition", "title": "Coalition", "kind": "letter", "org_order": "alphabetical"}, &p, http.StatusCreated)
		for _, org := range []string{"River Keepers", "Trout Club"} {
			email := strings.ToLower(strings.Fields(org)[0]) + "@example.org"
			if _, err := s.SignLetter(ctx, &store.OrganizationSignature{PetitionID: p.ID, Organization: org, ContactName: "Robin", Email: email}); err != nil {
				t.Fatal(err)
			}
		}
		var pending struct{ Organizations []store.OrganizationSignature }
		mustDo(c, "GET", fmt.Sprintf("/api/v1/petitions/%d/organizations?status=pending", p.ID), nil, &pending, http.StatusOK)
		if len(pending.Organizations) != 2 {
			t.Fatalf("pending: %+v", pending)
		}
		var decided store.OrganizationSignature
		mustDo(c, "POST", fmt.Sprintf("/api/v1/petitions/%d/organizations/%d/approve", p.ID, pending.Organizations[1].ID), nil, &decided, http.StatusOK)
		if decided.Status != store.OrgApproved || decided.DecidedAt == nil {
			t.Errorf("approved: %+v", decided)
		}
		mustDo(c, "POST", fmt.Sprintf("/api/v1/petitions/%d/organizations/%d/reject", p.ID, pending.Organizations[0].ID), nil, &decided, http.StatusOK)
		if status, _ := send(c, "POST", fmt.Sprintf("/api/v1/petitions/%d/organizations/999/approve", p.ID), "", nil); status != http.StatusNotFound {
			t.Errorf("approve an unknown organization: %d, want 404", status)
		}
		if status, body := send(c, "GET", fmt.Sprintf("/api/v1/petitions/%d/organizations?status=maybe", p.ID), "", nil); status != http.StatusUnprocessableEntity || errorField(t, body) != "status" {
			t.Errorf("unknown status: %d %s", status, body)
		}
		_, body = send(c, "GET", fmt.Sprintf("/api/v1/petitions/%d/signatures.csv", p.ID), "", nil)
		rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
		if err != nil || len(rows) != 2 || rows[1][0] != "Trout Club" {
			t.Errorf("letter CSV lists the approved organization only: %q, %v", rows, err)
		}
		var rep store.PetitionReport
		mustDo(c, "GET", fmt.Sprintf("/api/v1/petitions/%d/report", p.ID), nil, &rep, http.StatusOK)
		if d := cmp.Diff(map[string]int64{"pending": 0, "approved": 1, "rejected": 1}, rep.Orgs); d != "" {
			t.Errorf("organizations by status (-want +got):\n%s", d)
		}
	})
}
