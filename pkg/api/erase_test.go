package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestEraseStaysSuppressed exports a person's data, erases them through the
// API, then stores their address again the three ways it can come back: a
// CSV import into a list, the API creating a contact, a petition signed
// with the opt-in. None puts the address in a campaign's audience.
func TestEraseStaysSuppressed(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		c, s := mustServer(t, dsn)
		ctx := context.Background()
		var list struct{ ID int64 }
		mustDo(c, "POST", "/api/v1/lists", map[string]string{"name": "members"}, &list, http.StatusCreated)
		var jane, lin store.Contact
		mustDo(c, "POST", "/api/v1/contacts", map[string]any{"email": "Jane@Example.org", "first_name": "Jane",
			"lists": []int64{list.ID}, "tags": []string{"volunteer"}, "attributes": map[string]any{"donor": true}}, &jane, http.StatusCreated)
		mustDo(c, "POST", "/api/v1/contacts", map[string]any{"email": "lin@example.org", "lists": []int64{list.ID}}, &lin, http.StatusCreated)
		audience := func() int64 {
			t.Helper()
			var count struct{ Count int64 }
			mustDo(c, "POST", "/api/v1/campaigns/audience/count", map[string]any{"audience": map[string]any{"lists": []int64{list.ID}}}, &count, http.StatusOK)
			return count.Count
		}
		if n := audience(); n != 2 {
			t.Fatalf("the audience before erasing: %d, want 2", n)
		}

		var rec store.PersonRecord
		mustDo(c, "GET", fmt.Sprintf("/api/v1/contacts/%d/export.json", jane.ID), nil, &rec, http.StatusOK)
		if rec.Contact.Email != "Jane@example.org" || len(rec.Lists) != 1 || rec.Lists[0].Name != "members" ||
			len(rec.Tags) != 1 || rec.Contact.Attributes["donor"] != true {
			t.Errorf("the export: %+v", rec)
		}

		path := fmt.Sprintf("/api/v1/contacts/%d", jane.ID)
		var e apiError
		if status := c.do("DELETE", path, "", &e); status != http.StatusUnprocessableEntity || e.Error.Field != "erase" {
			t.Errorf("DELETE without ?erase=true: %d %+v, want a refusal naming erase", status, e.Error)
		}
		if status := c.do("DELETE", "/api/v1/contacts/999999?erase=true", "", &e); status != http.StatusNotFound {
			t.Errorf("erasing an unknown id: %d, want 404", status)
		}
		mustDo(c, "DELETE", path+"?erase=true", nil, nil, http.StatusOK)
		if status := c.do("GET", path, "", &e); status != http.StatusNotFound {
			t.Errorf("reading the erased contact: %d, want 404", status)
		}
		if status := c.do("DELETE", path+"?erase=true", "", &e); status != http.StatusNotFound {
			t.Errorf("erasing twice: %d, want 404", status)
		}
		if n := audience(); n != 1 {
			t.Fatalf("the audience after erasing: %d, want Lin alone", n)
		}

		// Back by an import...
		status, body := upload(c, "email,first_name\r\njane@example.org,Jane\r\n", map[string]string{"list": "members"})
		if status != http.StatusAccepted {
			t.Fatalf("upload: %d %s", status, body)
		}
		var imp store.Import
		if err := json.Unmarshal(body, &imp); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for imp.Status == store.ImportRunning && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
			mustDo(c, "GET", fmt.Sprintf("/api/v1/imports/%d", imp.ID), nil, &imp, http.StatusOK)
		}
		if imp.Status != store.ImportDone || imp.Imported != 1 {
			t.Fatalf("the import: %+v", imp)
		}
		if n := audience(); n != 1 {
			t.Errorf("the audience after an import brought the address back: %d, want 1", n)
		}
		// ... by the API, under another case and on the list again ...
		back, err := s.ContactByEmail(ctx, "jane@example.org")
		if err != nil {
			t.Fatal(err)
		}
		mustDo(c, "DELETE", fmt.Sprintf("/api/v1/contacts/%d?erase=true", back.ID), nil, nil, http.StatusOK)
		var again store.Contact
		mustDo(c, "POST", "/api/v1/contacts", map[string]any{"email": "JANE@example.org", "lists": []int64{list.ID}}, &again, http.StatusCreated)
		if n := audience(); n != 1 {
			t.Errorf("the audience after the API brought the address back: %d, want 1", n)
		}
		// ... and by signing a petition with the opt-in, as the petition page does.
		if _, err := s.UpsertSigner(ctx, store.Signer{Email: "jane@example.org", FirstName: "Jane", OptIn: true}); err != nil {
			t.Fatal(err)
		}
		if n := audience(); n != 1 {
			t.Errorf("the audience after a signature brought the address back: %d, want 1", n)
		}
		var sups struct{ Suppressions []store.Suppression }
		mustDo(c, "GET", "/api/v1/suppressions", nil, &sups, http.StatusOK)
		if len(sups.Suppressions) != 1 || sups.Suppressions[0].Email != "Jane@example.org" || sups.Suppressions[0].Reason != store.ErasedReason {
			t.Errorf("suppressions: %+v, want Jane's address, erased", sups.Suppressions)
		}
	})
}
