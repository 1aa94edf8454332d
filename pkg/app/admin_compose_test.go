package app_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/admin"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// TestAdminComposeDefaults reads, without a browser and on both backends,
// what the message and campaign screens offer: a new message from the
// default sender (the environment's, then the branding's once saved), the
// subject's and preheader's merge tags as text to type (what a browser
// without scripts shows) and as the picker's choices, and a campaign
// wizard that does not offer archived or deleted messages (but keeps one
// chosen from its page); the segment builder marks archived campaigns and
// the block editor closed petitions.
func TestAdminComposeDefaults(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, b, map[string]string{"DEARFRIEND_FROM_NAME": "Env Sender", "DEARFRIEND_FROM_EMAIL": "env@example.org"})
			base, st, ctx := h.app.URL(), h.app.Store(), context.Background()
			const password = "correct horse battery"
			if _, err := admin.CreateUser(ctx, st, "ada@example.org", store.RoleAdmin, password); err != nil {
				t.Fatal(err)
			}
			c := signedInClient(t, base, "ada@example.org", password)

			// The sender: the environment's until the branding is saved.
			p := getPage(t, c, base+"/admin/messages/new")
			mustHave(t, "a new message before branding", p.body, `id="f-from_name" name="from_name" type="text" value="Env Sender"`,
				`id="f-from_email" name="from_email" type="email" value="env@example.org"`)
			token := csrfOf(t, getPage(t, c, base+"/admin/branding").body)
			if r := postMultipart(t, c, base+"/admin/branding", brandingFields(token)); r.status != http.StatusOK || !strings.Contains(r.body, "saved") {
				t.Fatalf("save the branding: %d\n%s", r.status, r.body)
			}
			p = getPage(t, c, base+"/admin/messages/new")
			mustHave(t, "a new message after branding", p.body, `id="f-from_name" name="from_name" type="text" value="Lee Park"`,
				`id="f-from_email" name="from_email" type="email" value="lee@river.example.org"`)

			// The subject's and preheader's merge tags: listed as text, and
			// as the picker's options, whose values are the tags the
			// template takes; both compile in a saved subject.
			body := html.UnescapeString(p.body)
			for _, f := range []string{"subject", "preheader"} {
				mustHave(t, "the "+f+"'s picker", body, `<div class="merge-picker" data-for="f-`+f+`">`,
					`<code>{{ .FirstName | default "Friend" }}</code> (First name, or Friend)`, `<div class="html-tools merge-tools" hidden>`,
					`<button type="button" class="small secondary">Insert in the `+f+`</button>`,
					`<select id="f-`+f+`-merge"><option value="{{ .FirstName | default "Friend" }}">First name, or Friend</option>`)
			}
			save := postPage(t, c, base+"/admin/messages", map[string][]string{"csrf": {token}, "subject": {`Dear {{ .FirstName | default "Friend" }}: act`},
				"preheader": {`{{ .OrgName }} needs you`}, "from_name": {"Lee Park"}, "from_email": {"lee@river.example.org"}, "editor": {"html"},
				"html": {"<p>Sign.</p>"}})
			if save.status != http.StatusOK || !strings.Contains(save.body, "The message is saved.") {
				t.Fatalf("save a message with merge tags in the subject: %d\n%s", save.status, save.body)
			}

			// The wizard: archived messages are not offered, unless chosen.
			mk := func(name string) int64 {
				m := store.Message{Name: name, Subject: name, FromName: "Lee", FromEmail: "lee@river.example.org", HTML: "<p>x</p>"}
				if err := st.CreateMessage(ctx, &m); err != nil {
					t.Fatal(err)
				}
				return m.ID
			}
			live, old, gone := mk("Live alert"), mk("Old alert"), mk("Gone alert")
			if err := st.SetMessageArchived(ctx, old, true); err != nil {
				t.Fatal(err)
			}
			if r := postPage(t, c, fmt.Sprintf("%s/admin/messages/%d/delete", base, gone), map[string][]string{"csrf": {token}}); r.status != http.StatusOK {
				t.Fatalf("delete a message: %d", r.status)
			}
			options := regexp.MustCompile(`(?s)<select id="f-message".*?</select>`)
			w := options.FindString(getPage(t, c, base+"/admin/campaigns/new").body)
			if !strings.Contains(w, fmt.Sprintf(`value="%d">Live alert<`, live)) || strings.Contains(w, "Old alert") || strings.Contains(w, "Gone alert") {
				t.Errorf("the wizard's messages, want Live alert only:\n%s", w)
			}
			w = options.FindString(getPage(t, c, fmt.Sprintf("%s/admin/campaigns/new?message=%d", base, old)).body)
			if !strings.Contains(w, fmt.Sprintf(`value="%d" selected>Old alert (archived)<`, old)) {
				t.Errorf("the wizard lost the archived message it was opened with:\n%s", w)
			}

			// The segment builder keeps archived campaigns choosable, marked
			// and last; the block editor marks a closed petition.
			var list store.List
			h.call("POST", "/api/v1/lists", map[string]any{"name": "Supporters"}, &list)
			h.call("POST", "/api/v1/contacts", map[string]any{"email": "jane@example.org", "lists": []int64{list.ID}}, nil)
			for i, name := range []string{"Spring alert", "Summer alert"} {
				var camp store.Campaign
				if code := h.call("POST", "/api/v1/campaigns", map[string]any{"name": name, "message_id": live,
					"audience": map[string]any{"lists": []int64{list.ID}}}, &camp); code != 201 {
					t.Fatalf("create campaign: %d", code)
				}
				if i > 0 {
					continue
				}
				if code := h.call("POST", fmt.Sprintf("/api/v1/campaigns/%d/send", camp.ID), nil, nil); code != 202 {
					t.Fatalf("send: %d", code)
				}
				h.waitFinished(camp.ID)
				if code := h.call("POST", fmt.Sprintf("/api/v1/campaigns/%d/archive", camp.ID), nil, nil); code != 204 {
					t.Fatalf("archive the campaign: %d", code)
				}
			}
			seg := postPage(t, c, base+"/admin/segments/new", map[string][]string{"csrf": {token}, "do": {"redraw"},
				"match_r": {"all"}, "n_r": {"1"}, "kind_r-0": {"engagement"}, "action_r-0": {"opened"}})
			if got := regexp.MustCompile(`>(Spring|Summer) alert[^<]*<`).FindAllString(seg.body, -1); strings.Join(got, " ") != ">Summer alert< >Spring alert (archived)<" {
				t.Errorf("the segment builder's campaigns: %q\n%s", got, seg.body)
			}
			pet := mustPetition(t, h, "northfork", 0)
			if code := h.call("POST", fmt.Sprintf("/api/v1/petitions/%d/duplicate", pet.ID), nil, nil); code != 201 {
				t.Fatalf("copy the petition (closed): %d", code)
			}
			mustHave(t, "the block editor's petitions", getPage(t, c, base+"/admin/messages/new").body,
				`<option value="northfork">Protect the North Fork (northfork)</option>`,
				`<option value="copy-of-northfork">Copy of Protect the North Fork (copy-of-northfork, closed)</option>`)
		})
	}
}
