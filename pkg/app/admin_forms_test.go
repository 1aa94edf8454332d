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

	"github.com/dearfriend/dearfriend/pkg/admin"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// TestAdminFormErrors posts the import and message forms with mistakes, as
// a browser without JavaScript would, and checks each answer: 422, the
// error next to the field it concerns, nothing written.
func TestAdminFormErrors(t *testing.T) {
	t.Parallel()
	h := start(t, backends(t)[0])
	base := h.app.URL()
	if _, err := admin.CreateUser(context.Background(), h.app.Store(), "maya@example.org", store.RoleOrganizer, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	c := signedInClient(t, base, "maya@example.org", "correct horse battery")
	var list store.List
	h.call("POST", "/api/v1/lists", map[string]any{"name": "Volunteers"}, &list)

	upload := func(list, file string) fetched {
		t.Helper()
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("csrf", csrfOf(t, getPage(t, c, base+"/admin/imports/new").body))
		mw.WriteField("list", list)
		if file != "" {
			fw, _ := mw.CreateFormFile("file", "people.csv")
			io.WriteString(fw, file)
		}
		mw.Close()
		resp, err := c.Post(base+"/admin/imports", mw.FormDataContentType(), &buf)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return fetched{resp.StatusCode, string(b)}
	}
	for _, tc := range []struct {
		name, list, file string
		errorAt          []string
	}{
		{"no list and no file", "", "", []string{"f-list-error", "f-file-error"}},
		{"a file without an email column", fmt.Sprint(list.ID), "name,city\nJane,Albany\n", []string{"f-file-error"}},
		{"a list that does not exist", "999", "email\njane@example.org\n", []string{"f-list-error"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := upload(tc.list, tc.file)
			if p.status != http.StatusUnprocessableEntity {
				t.Errorf("status %d, want 422", p.status)
			}
			for _, id := range tc.errorAt {
				if !strings.Contains(p.body, `id="`+id+`"`) {
					t.Errorf("no %s in the page:\n%s", id, p.body)
				}
			}
		})
	}
	var contacts struct{ Contacts []store.Contact }
	h.call("GET", "/api/v1/contacts", nil, &contacts)
	if len(contacts.Contacts) != 0 {
		t.Errorf("refused imports wrote %d contacts", len(contacts.Contacts))
	}

	// A message saved, then saved over; a test to a bad address is refused
	// at the address field.
	form := url.Values{"subject": {"Act now"}, "from_name": {"Maya"}, "from_email": {"action@example.org"},
		"html": {"<p>Dear {{ .FirstName }},</p>\r\n<p>one</p>"}}
	post := func(path string, v url.Values) *http.Response {
		t.Helper()
		v.Set("csrf", csrfOf(t, getPage(t, c, base+"/admin/messages/new").body))
		resp, err := c.PostForm(base+path, v)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := post("/admin/messages", form)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Request.URL.Path, "/admin/messages/") {
		t.Fatalf("save: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	path := resp.Request.URL.Path
	form.Set("html", "<p>two</p>")
	if resp := post(path, form); resp.StatusCode != http.StatusOK {
		t.Fatalf("save over: %d", resp.StatusCode)
	}
	var m store.Message
	h.call("GET", "/api/v1"+strings.TrimPrefix(path, "/admin"), nil, &m)
	if m.HTML != "<p>two</p>" || m.Name != "Act now" {
		t.Errorf("after saving over: name %q, HTML %q", m.Name, m.HTML)
	}
	test := url.Values{"csrf": {csrfOf(t, getPage(t, c, base+path).body)}, "emails": {"maya at example.org"}}
	if p := postPage(t, c, base+path+"/test", test); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="f-emails-error"`) {
		t.Errorf("test to a bad address: %d, want 422 with the error at the address field", p.status)
	}
}
