package app_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dearfriend/dearfriend/pkg/admin"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// TestAdminLists creates, renames and deletes lists through the admin
// forms, as a browser without JavaScript would, and imports into a list the
// import form creates: refused input is shown at its field with nothing
// written, and deleting a list keeps its members as contacts.
func TestAdminLists(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, b)
			base, st, ctx := h.app.URL(), h.app.Store(), context.Background()
			if _, err := admin.CreateUser(ctx, st, "maya@example.org", store.RoleOrganizer, "correct horse battery"); err != nil {
				t.Fatal(err)
			}
			c := signedInClient(t, base, "maya@example.org", "correct horse battery")
			post := func(path string, v url.Values) fetched {
				t.Helper()
				v.Set("csrf", csrfOf(t, getPage(t, c, base+"/admin/lists").body))
				return postPage(t, c, base+path, v)
			}
			var uploadedTo string // where the last upload ended
			upload := func(newList, file string) fetched {
				t.Helper()
				var buf bytes.Buffer
				mw := multipart.NewWriter(&buf)
				mw.WriteField("csrf", csrfOf(t, getPage(t, c, base+"/admin/imports/new").body))
				mw.WriteField("list", "")
				mw.WriteField("new_list", newList)
				fw, _ := mw.CreateFormFile("file", "people.csv")
				io.WriteString(fw, file)
				mw.Close()
				resp, err := c.Post(base+"/admin/imports", mw.FormDataContentType(), &buf)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				uploadedTo = resp.Request.URL.Path
				body, _ := io.ReadAll(resp.Body)
				return fetched{resp.StatusCode, string(body)}
			}
			refused := func(p fetched, errorAt string) {
				t.Helper()
				if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="`+errorAt+`"`) {
					t.Errorf("status %d, want 422 with %s in the page:\n%s", p.status, errorAt, p.body)
				}
			}

			if p := post("/admin/lists", url.Values{"name": {"Volunteers"}, "description": {"people who help"}}); p.status != http.StatusOK || !strings.Contains(p.body, "List created.") {
				t.Fatalf("create: %d\n%s", p.status, p.body)
			}
			refused(post("/admin/lists", url.Values{"name": {"Volunteers"}}), "f-name-error")
			refused(post("/admin/lists", url.Values{"name": {"  "}}), "f-name-error")

			// The import form makes its list, but not for a file it refuses.
			refused(upload("Refused", "name,city\nJane,Albany\n"), "f-file-error")
			if _, err := st.ListNamed(ctx, "Refused"); err == nil {
				t.Error("a refused import left its new list behind")
			}
			refused(upload("Volunteers", "email\njane@example.org\n"), "f-new_list-error")
			// A Windows-1252 file, recognized as not UTF-8, with state names.
			if p := upload("Walkers", "email,first_name,state\njane@example.org,Jos\xe9,New York\nsam@example.org,Sam,ny\n"); p.status != http.StatusOK {
				t.Fatalf("import into a new list: %d\n%s", p.status, p.body)
			}
			walkers, err := st.ListNamed(ctx, "Walkers")
			if err != nil {
				t.Fatalf("the import's new list: %v", err)
			}
			for deadline := time.Now().Add(30 * time.Second); ; {
				n, err := st.CountListMembers(ctx, walkers.ID)
				if err != nil {
					t.Fatal(err)
				}
				if n == 2 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the new list has %d members, want 2", n)
				}
				time.Sleep(50 * time.Millisecond)
			}
			jane, err := st.ContactByEmail(ctx, "jane@example.org")
			if err != nil || jane.FirstName != "José" || jane.Region != "NY" {
				t.Errorf("jane after the import: %+v, %v; want José in NY", jane, err)
			}
			for deadline := time.Now().Add(30 * time.Second); ; {
				report := getPage(t, c, base+uploadedTo).body
				if strings.Contains(report, `id="regions-normalized">2<`) && strings.Contains(report, `id="import-encoding">windows-1252<`) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the import report lacks 2 regions normalized, read as windows-1252:\n%s", report)
				}
				time.Sleep(50 * time.Millisecond)
			}
			page := getPage(t, c, base+"/admin/lists").body
			for _, want := range []string{fmt.Sprintf(`data-label="Id">%d<`, walkers.ID), `data-label="Members">2<`, "people who help"} {
				if !strings.Contains(page, want) {
					t.Errorf("the lists page lacks %s:\n%s", want, page)
				}
			}

			rename := fmt.Sprintf("/admin/lists/%d/rename", walkers.ID)
			refused(post(rename, url.Values{"rename": {"Volunteers"}}), "f-rename-error")
			refused(post(rename, url.Values{"rename": {""}}), "f-rename-error")
			if p := post(rename, url.Values{"rename": {"Hikers"}}); p.status != http.StatusOK || !strings.Contains(p.body, "List renamed.") {
				t.Fatalf("rename: %d\n%s", p.status, p.body)
			}
			if l, err := st.GetList(ctx, walkers.ID); err != nil || l.Name != "Hikers" {
				t.Errorf("after renaming: %+v, %v", l, err)
			}
			if p := post("/admin/lists/999999/rename", url.Values{"rename": {"Ghosts"}}); p.status != http.StatusNotFound {
				t.Errorf("renaming a list that does not exist: %d, want 404", p.status)
			}

			// A list a draft campaign sends to is kept until the campaign ends.
			m := &store.Message{Name: "Act", Subject: "Act", FromName: "Maya", FromEmail: "action@example.org", HTML: "<p>Hi</p>"}
			if err := st.CreateMessage(ctx, m); err != nil {
				t.Fatal(err)
			}
			volunteers, err := st.ListNamed(ctx, "Volunteers")
			if err != nil {
				t.Fatal(err)
			}
			draft := &store.Campaign{Name: "Spring call", MessageID: m.ID, Audience: store.Audience{Lists: []int64{volunteers.ID}}}
			if err := st.CreateCampaign(ctx, draft); err != nil {
				t.Fatal(err)
			}
			if p := post(fmt.Sprintf("/admin/lists/%d/delete", volunteers.ID), url.Values{}); p.status != http.StatusConflict ||
				!strings.Contains(p.body, `id="f-delete-error"`) || !strings.Contains(p.body, "Spring call") {
				t.Errorf("deleting a list a draft sends to: %d, want 409 naming the campaign:\n%s", p.status, p.body)
			}
			if _, err := st.GetList(ctx, volunteers.ID); err != nil {
				t.Errorf("the list a draft sends to was deleted: %v", err)
			}

			if p := post(fmt.Sprintf("/admin/lists/%d/delete", walkers.ID), url.Values{}); p.status != http.StatusOK || !strings.Contains(p.body, "List deleted") {
				t.Fatalf("delete: %d\n%s", p.status, p.body)
			}
			if _, err := st.GetList(ctx, walkers.ID); err == nil {
				t.Error("the deleted list is still there")
			}
			if n, err := st.CountContacts(ctx); err != nil || n != 2 {
				t.Errorf("after deleting the list: %d contacts, %v; want 2", n, err)
			}
			if p := post(fmt.Sprintf("/admin/lists/%d/delete", walkers.ID), url.Values{}); p.status != http.StatusNotFound {
				t.Errorf("deleting it again: %d, want 404", p.status)
			}

			// A viewer sees the lists but not the forms, and cannot post them.
			if _, err := admin.CreateUser(ctx, st, "vic@example.org", store.RoleViewer, "correct horse battery"); err != nil {
				t.Fatal(err)
			}
			v := signedInClient(t, base, "vic@example.org", "correct horse battery")
			vp := getPage(t, v, base+"/admin/lists")
			if strings.Contains(vp.body, `action="/admin/lists"`) {
				t.Error("a viewer is shown the form to create a list")
			}
			if p := postPage(t, v, base+"/admin/lists", url.Values{"csrf": {csrfOf(t, vp.body)}, "name": {"Sneaky"}}); p.status != http.StatusForbidden {
				t.Errorf("a viewer creating a list: %d, want 403", p.status)
			}
		})
	}
}
