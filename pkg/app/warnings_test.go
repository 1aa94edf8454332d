package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/admin"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// TestSaveWarningsShown: a message with an image without alt text and a
// link whose text is another site's address is saved, and what is wrong is
// said in the API's answer and in the admin editor.
func TestSaveWarningsShown(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, b)
			html := `<p><img src="https://example.org/r.jpg" width="600" height="300"> <a href="https://example.net/x">https://example.org/sign</a></p>`
			var saved struct {
				ID       int64    `json:"id"`
				Warnings []string `json:"warnings"`
			}
			if code := h.call("POST", "/api/v1/messages", map[string]any{"subject": "Act", "from_name": "Maya", "from_email": "action@example.org", "html": html}, &saved); code != 201 {
				t.Fatalf("save: %d, want 201: warnings do not refuse", code)
			}
			if len(saved.Warnings) != 2 || !strings.Contains(saved.Warnings[0], "no alt text") || !strings.Contains(saved.Warnings[1], "the link that shows") {
				t.Errorf("warnings = %q; want the image's alt and the link's text", saved.Warnings)
			}

			if _, err := admin.CreateUser(context.Background(), h.app.Store(), "maya@example.org", store.RoleOrganizer, "correct horse battery"); err != nil {
				t.Fatal(err)
			}
			c := signedInClient(t, h.app.URL(), "maya@example.org", "correct horse battery")
			page := getPage(t, c, h.app.URL()+"/admin/messages/"+strconv.FormatInt(saved.ID, 10))
			if page.status != http.StatusOK || !strings.Contains(page.body, "Worth fixing before you send") || !strings.Contains(page.body, "has no alt text") {
				t.Errorf("editor: %d, want the warnings shown:\n%s", page.status, page.body)
			}
			form := url.Values{"csrf": {csrfOf(t, page.body)}, "subject": {"Act"}, "from_name": {"Maya"}, "from_email": {"action@example.org"},
				"html": {`<p><img src="https://example.org/r.jpg" alt="The river" width="600" height="300"></p>`}}
			if p := postPage(t, c, h.app.URL()+"/admin/messages/"+strconv.FormatInt(saved.ID, 10), form); p.status != http.StatusOK || strings.Contains(p.body, "Worth fixing") {
				t.Errorf("after fixing: %d, want the editor without warnings:\n%s", p.status, p.body)
			}
		})
	}
}
