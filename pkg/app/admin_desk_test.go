package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/admin"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// alertBlocks is the petition alert as the block editor posts it.
const alertBlocks = `{"blocks":[
 {"type":"paragraph","content":[{"text":"Dear "},{"merge":"FirstName","fallback":"Friend"},{"text":","}]},
 {"type":"paragraph","content":[{"text":"The administration must act","bold":true},{"text":" before the permit is renewed."}]},
 {"type":"button","text":"ADD YOUR NAME","petition":"northfork"},
 {"type":"signature","closing":"Thank you,","name":"Maya Ortiz","title":"Campaigns Director"}
]}`

// TestAdminBlocksAndDesk posts the message form with blocks as the editor's
// script does, and without, as a browser without JavaScript does; then
// duplicates, deletes and archives messages and campaigns and duplicates a
// petition, on both backends, without a browser.
func TestAdminBlocksAndDesk(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, b)
			base := h.app.URL()
			st := h.app.Store()
			ctx := context.Background()
			if _, err := admin.CreateUser(ctx, st, "maya@example.org", store.RoleOrganizer, "correct horse battery"); err != nil {
				t.Fatal(err)
			}
			c := signedInClient(t, base, "maya@example.org", "correct horse battery")
			pet := mustPetition(t, h, "northfork", 0)
			csrf := csrfOf(t, getPage(t, c, base+"/admin/messages/new").body)
			form := func(editor, blocks, body string) url.Values {
				return url.Values{"csrf": {csrf}, "subject": {"The administration must act"}, "from_name": {"Maya"},
					"from_email": {"action@example.org"}, "editor": {editor}, "blocks": {blocks}, "html": {body}}
			}

			// Blocks: saved with the HTML made of them, and the blocks
			// themselves, so the message opens again in the editor.
			p := postPage(t, c, base+"/admin/messages", form("blocks", alertBlocks, ""))
			if p.status != http.StatusOK || !strings.Contains(p.body, "The message is saved.") {
				t.Fatalf("save blocks: %d\n%s", p.status, p.body)
			}
			ms, err := st.ListMessages(ctx)
			if err != nil || len(ms) != 1 {
				t.Fatalf("messages: %v %v", ms, err)
			}
			m, err := st.GetMessage(ctx, ms[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{`Dear {{ .FirstName | default "Friend" }},`, `<strong>The administration must act</strong>`,
				`href="{{ action_link "northfork" }}"`, "ADD YOUR NAME</a>", "Maya Ortiz<br>Campaigns Director"} {
				if !strings.Contains(m.HTML, want) {
					t.Errorf("the saved HTML lacks %q:\n%s", want, m.HTML)
				}
			}
			if !strings.Contains(m.Blocks, `"petition":"northfork"`) {
				t.Errorf("the blocks were not kept: %q", m.Blocks)
			}
			page := getPage(t, c, fmt.Sprintf("%s/admin/messages/%d", base, m.ID)).body
			if !strings.Contains(page, `data-start="blocks"`) || !strings.Contains(html.UnescapeString(page), `"merge":"FirstName","fallback":"Friend"`) {
				t.Errorf("the editor does not open the blocks:\n%s", page)
			}
			// The preview is the sample contact's, whose first name is empty.
			prev := getPage(t, c, fmt.Sprintf("%s/admin/messages/%d/preview", base, m.ID))
			if !strings.Contains(prev.body, "Dear Friend,") || !strings.Contains(prev.body, "ADD YOUR NAME") {
				t.Errorf("preview of the blocks: %d\n%s", prev.status, prev.body)
			}
			var api struct {
				Blocks json.RawMessage `json:"blocks"`
			}
			if code := h.call("GET", fmt.Sprintf("/api/v1/messages/%d", m.ID), nil, &api); code != 200 || !strings.Contains(string(api.Blocks), `"button"`) {
				t.Errorf("the API's message: %d %s", code, api.Blocks)
			}

			// Mistakes are refused with the block and the field named, and
			// nothing is written.
			for _, tc := range []struct{ name, editor, blocks, html, errorID, want string }{
				{"script URL", "blocks", `{"blocks":[{"type":"paragraph","content":[{"text":"x"}]},{"type":"button","text":"Go","url":"javascript:alert(1)"}]}`, "",
					"f-blocks-error", "Block 2 (button), url: &#34;javascript:alert(1)&#34; is a javascript: link"},
				{"image without alt", "blocks", `{"blocks":[{"type":"image","src":"https://example.org/a.png"}]}`, "",
					"f-blocks-error", "Block 1 (image), alt: is required"},
				{"button to a petition that does not exist", "blocks", `{"blocks":[{"type":"button","text":"Go","petition":"nowhere"}]}`, "",
					"f-blocks-html-error", "The petition &#34;nowhere&#34; named by action_link does not exist"},
				{"raw HTML to a petition that does not exist", "html", "", `<p><a href="{{ action_link "elsewhere" }}">Sign</a></p>`,
					"f-html-error", "The petition &#34;elsewhere&#34; named by action_link does not exist"},
			} {
				p := postPage(t, c, base+"/admin/messages", form(tc.editor, tc.blocks, tc.html))
				if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="`+tc.errorID+`"`) || !strings.Contains(p.body, tc.want) {
					t.Errorf("%s: %d, want 422 with %s saying %q:\n%s", tc.name, p.status, tc.errorID, tc.want, p.body)
				}
			}
			if code := h.call("POST", "/api/v1/messages", map[string]any{"subject": "Hi", "from_name": "M", "from_email": "action@example.org",
				"html": `<a href="{{ action_link "gone" }}">x</a>`}, nil); code != 422 {
				t.Errorf("the API saved an action link to a petition that does not exist: %d", code)
			}
			if ms, _ := st.ListMessages(ctx); len(ms) != 1 {
				t.Errorf("refused saves wrote messages: %d", len(ms))
			}

			// Without JavaScript the form posts editor=html: the HTML as
			// typed, and the message keeps no blocks.
			p = postPage(t, c, fmt.Sprintf("%s/admin/messages/%d", base, m.ID), form("html", alertBlocks, `<p>Dear {{ .FirstName | default "Friend" }}, by hand.</p>`))
			if p.status != http.StatusOK {
				t.Fatalf("save HTML: %d\n%s", p.status, p.body)
			}
			if m2, _ := st.GetMessage(ctx, m.ID); m2.Blocks != "" || !strings.Contains(m2.HTML, "by hand") {
				t.Errorf("after an HTML save: blocks %q, html %q", m2.Blocks, m2.HTML)
			}
			postPage(t, c, fmt.Sprintf("%s/admin/messages/%d", base, m.ID), form("blocks", alertBlocks, ""))

			// Duplicate: a copy named "Copy of …", blocks and all.
			postPage(t, c, fmt.Sprintf("%s/admin/messages/%d/duplicate", base, m.ID), url.Values{"csrf": {csrf}})
			ms, _ = st.ListMessages(ctx)
			if len(ms) != 2 || ms[0].Name != "Copy of The administration must act" {
				t.Fatalf("after duplicating: %+v", ms)
			}
			cp, _ := st.GetMessage(ctx, ms[0].ID)
			if cp.Blocks == "" || cp.HTML != func() string { o, _ := st.GetMessage(ctx, m.ID); return o.HTML }() {
				t.Errorf("the copy lost its blocks or HTML: %q", cp.Blocks)
			}
			// A message never sent is deleted.
			if p := postPage(t, c, fmt.Sprintf("%s/admin/messages/%d/delete", base, cp.ID), url.Values{"csrf": {csrf}}); p.status != 200 || !strings.Contains(p.body, "Deleted.") {
				t.Errorf("delete the copy: %d", p.status)
			}
			if _, err := st.GetMessage(ctx, cp.ID); err == nil {
				t.Error("the deleted copy is still there")
			}

			// A campaign: the draft is duplicated and deleted; the message of
			// a draft is not deleted under it.
			var list store.List
			h.call("POST", "/api/v1/lists", map[string]any{"name": "Supporters"}, &list)
			h.call("POST", "/api/v1/contacts", map[string]any{"email": "jane@example.org", "first_name": "Jane", "lists": []int64{list.ID}}, nil)
			var camp store.Campaign
			if code := h.call("POST", "/api/v1/campaigns", map[string]any{"name": "Northfork alert", "message_id": m.ID,
				"audience": map[string]any{"lists": []int64{list.ID}}}, &camp); code != 201 {
				t.Fatalf("create campaign: %d", code)
			}
			if p := postPage(t, c, fmt.Sprintf("%s/admin/messages/%d/delete", base, m.ID), url.Values{"csrf": {csrf}}); p.status != http.StatusConflict ||
				!strings.Contains(p.body, "the draft campaign &#34;Northfork alert&#34;") {
				t.Errorf("deleting the message of a draft: %d\n%s", p.status, p.body)
			}
			postPage(t, c, fmt.Sprintf("%s/admin/campaigns/%d/duplicate", base, camp.ID), url.Values{"csrf": {csrf}})
			cs, _ := st.ListCampaigns(ctx)
			if len(cs) != 2 || cs[0].Name != "Copy of Northfork alert" || cs[0].Status != store.CampaignDraft || cs[0].MessageID != m.ID ||
				len(cs[0].Audience.Lists) != 1 {
				t.Fatalf("after duplicating the campaign: %+v", cs)
			}
			if p := postPage(t, c, fmt.Sprintf("%s/admin/campaigns/%d/delete", base, cs[0].ID), url.Values{"csrf": {csrf}}); p.status != 200 {
				t.Errorf("delete the draft copy: %d", p.status)
			}

			// Sent: neither deleted (409, nothing changed) nor changed, but
			// archived, and listed under Archived only.
			if code := h.call("POST", fmt.Sprintf("/api/v1/campaigns/%d/send", camp.ID), nil, nil); code != 202 {
				t.Fatalf("send: %d", code)
			}
			h.waitFinished(camp.ID)
			if p := postPage(t, c, fmt.Sprintf("%s/admin/campaigns/%d/delete", base, camp.ID), url.Values{"csrf": {csrf}}); p.status != http.StatusConflict {
				t.Errorf("deleting a sent campaign: %d", p.status)
			}
			if code := h.call("DELETE", fmt.Sprintf("/api/v1/messages/%d", m.ID), nil, nil); code != 409 {
				t.Errorf("API: deleting a sent message: %d", code)
			}
			page = getPage(t, c, fmt.Sprintf("%s/admin/messages/%d", base, m.ID)).body
			if !strings.Contains(page, fmt.Sprintf(`action="/admin/messages/%d/archive"`, m.ID)) || strings.Contains(page, fmt.Sprintf(`action="/admin/messages/%d/delete"`, m.ID)) {
				t.Errorf("a sent message's page offers delete, or not archive")
			}
			postPage(t, c, fmt.Sprintf("%s/admin/messages/%d/archive", base, m.ID), url.Values{"csrf": {csrf}})
			postPage(t, c, fmt.Sprintf("%s/admin/campaigns/%d/archive", base, camp.ID), url.Values{"csrf": {csrf}})
			for _, l := range []struct{ path, name string }{{"/admin/messages", m.Name}, {"/admin/campaigns", "Northfork alert"}} {
				if strings.Contains(getPage(t, c, base+l.path).body, ">"+l.name+"<") {
					t.Errorf("%s lists the archived %q", l.path, l.name)
				}
				if !strings.Contains(getPage(t, c, base+l.path+"?archived=1").body, ">"+l.name+"<") {
					t.Errorf("%s?archived=1 does not list %q", l.path, l.name)
				}
			}
			if code := h.call("DELETE", fmt.Sprintf("/api/v1/campaigns/%d/archive", camp.ID), nil, nil); code != 204 {
				t.Errorf("API: bring the campaign back: %d", code)
			}
			if !strings.Contains(getPage(t, c, base+"/admin/campaigns").body, ">Northfork alert<") {
				t.Error("the campaign brought back is not listed")
			}

			// A petition is copied closed, at a free slug, without signatures.
			postPage(t, c, fmt.Sprintf("%s/admin/petitions/%d/duplicate", base, pet.ID), url.Values{"csrf": {csrf}})
			var dup struct {
				store.Petition
				TotalSignatures int64 `json:"total_signatures"`
			}
			if code := h.call("POST", fmt.Sprintf("/api/v1/petitions/%d/duplicate", pet.ID), nil, &dup); code != 201 {
				t.Fatalf("API: duplicate the petition: %d", code)
			}
			if dup.Slug != "copy-of-northfork-2" || dup.Title != "Copy of Protect the North Fork" || dup.Open {
				t.Errorf("the second copy: %+v", dup.Petition)
			}
			if p, err := st.PetitionBySlug(ctx, "copy-of-northfork"); err != nil || p.Open || p.PetitionText != pet.PetitionText {
				t.Errorf("the admin's copy: %+v %v", p, err)
			}
		})
	}
}
