package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dearfriend/dearfriend/pkg/admin"
	"github.com/dearfriend/dearfriend/pkg/config"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// pngLogo is a w × h PNG of one color.
func pngLogo(t testing.TB, w, h int, c color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// attachment is a file posted with a multipart form.
type attachment struct {
	field, name string
	data        []byte
}

// postMultipart posts fields and files as a browser posts a form with
// enctype="multipart/form-data", following the redirect if any.
func postMultipart(t *testing.T, c *http.Client, u string, fields map[string]string, files ...attachment) fetched {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		w, err := mw.CreateFormFile(f.field, f.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(f.data)
	}
	mw.Close()
	resp, err := c.Post(u, mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fetched{resp.StatusCode, string(b)}
}

// getRaw gets u with headers and returns the whole answer, body read.
func getRaw(t *testing.T, u string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func mustHave(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

// brandingFields is a branding that is right in every field.
func brandingFields(token string) map[string]string {
	return map[string]string{"csrf": token, "org_name": "River Alliance", "postal_address": "2 Water St, Riverton, ST 00001",
		"footer_text": "Paid for by River Alliance PAC", "primary_color": "#203a5c", "accent_color": "#7a1f5c",
		"from_name": "Lee Park", "from_email": "lee@river.example.org"}
}

// TestBranding saves the branding in the admin and finds it, at once, in a
// message's preview, a sent email, the petition page and the unsubscribe
// page the email links to; the logo is served with cache headers at a
// stable URL and a content-addressed one. Each wrong field is refused next
// to it, with what was typed kept, and nothing stored changes.
func TestBranding(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, b)
			base, st, ctx := h.app.URL(), h.app.Store(), context.Background()
			const password = "correct horse battery"
			for _, u := range []struct{ email, role string }{{"ada@example.org", store.RoleAdmin}, {"olu@example.org", store.RoleOrganizer}} {
				if _, err := admin.CreateUser(ctx, st, u.email, u.role, password); err != nil {
					t.Fatal(err)
				}
			}
			if p := getPage(t, signedInClient(t, base, "olu@example.org", password), base+"/admin/branding"); p.status != http.StatusForbidden {
				t.Errorf("an organizer opens the branding: %d, want 403", p.status)
			}
			c := signedInClient(t, base, "ada@example.org", password)
			p := getPage(t, c, base+"/admin/branding")
			if p.status != 200 {
				t.Fatalf("branding page: %d", p.status)
			}
			mustHave(t, "the branding page before a save", p.body, `value="`+config.DemoOrgName+`"`, `value="#1d3b2a"`, "Nothing is saved yet")
			token := csrfOf(t, p.body)

			// Wrong input: refused at its field, what was typed kept, nothing stored.
			logo := pngLogo(t, 120, 40, color.RGBA{32, 58, 92, 255})
			for _, tc := range []struct {
				name, field, value string
				file               []byte
				says               string
			}{
				{"color", "primary_color", "green", nil, "Must be a hex color like #1d3b2a, not &#34;green&#34;."},
				{"light color", "accent_color", "#ffe680", nil, "#ffe680 is too light: the buttons&#39; white text on it has a contrast of 1.2:1"},
				{"postal address", "postal_address", "  ", nil, "Is required: the law (CAN-SPAM) wants a postal address in every email."},
				{"sender", "from_email", "lee at river", nil, "Must be a plain email address like action@example.org."},
				{"name", "org_name", "", nil, "Is required: every footer names the organization."},
				{"not an image", "logo", "", []byte("name,email\nAda,ada@example.org\n"), "Is not a PNG, JPEG, GIF or WebP image (its content is text/plain)."},
				{"image too large", "logo", "", append(logo, make([]byte, 5<<20)...), "Is 5,243,"}, // just over 5 MB: said in bytes
			} {
				fields := brandingFields(token)
				if tc.file == nil {
					fields[tc.field] = tc.value
				}
				var files []attachment
				if tc.file != nil {
					files = append(files, attachment{"logo", "members.png", tc.file})
				} else {
					files = append(files, attachment{"logo", "logo.png", logo}) // not stored either
				}
				p := postMultipart(t, c, base+"/admin/branding", fields, files...)
				if p.status != http.StatusUnprocessableEntity {
					t.Errorf("%s: %d, want 422", tc.name, p.status)
				}
				mustHave(t, tc.name, p.body, fmt.Sprintf(`id="f-%s-error">%s`, tc.field, tc.says), `aria-invalid="true"`)
				if tc.file == nil {
					mustHave(t, tc.name, p.body, `value="`+tc.value+`"`, `id="f-logo-error">Nothing was saved: choose the logo&#39;s file again.`)
				}
			}
			if _, _, err := st.GetBranding(ctx); errs.CodeOf(err) != errs.NotFound {
				t.Errorf("after refused saves the branding is stored: %v", err)
			}
			if ms, err := st.ListMedia(ctx, 10); err != nil || len(ms) != 0 {
				t.Errorf("after refused saves the library holds %d images (%v)", len(ms), err)
			}

			// A message and a petition, made before the save.
			var list store.List
			h.call("POST", "/api/v1/lists", map[string]any{"name": "Supporters"}, &list)
			h.call("POST", "/api/v1/contacts", map[string]any{"email": "jane@example.org", "first_name": "Jane", "lists": []int64{list.ID}}, nil)
			var msg store.Message
			if code := h.call("POST", "/api/v1/messages", map[string]any{"subject": "Protect the river", "from_name": "Lee", "from_email": "lee@example.org",
				"html": `<p>Dear {{ .FirstName }},</p><p><a class="button" href="` + base + `/a/river">ADD YOUR NAME</a></p>`}, &msg); code != 201 {
				t.Fatalf("create message: %d", code)
			}
			if code := h.call("POST", "/api/v1/petitions", map[string]any{"slug": "river", "title": "Protect the river", "petition_text": "Stop the permit."}, nil); code != 201 {
				t.Fatalf("create petition: %d", code)
			}

			// Saved, it is in force at once.
			p = postMultipart(t, c, base+"/admin/branding", brandingFields(token), attachment{"logo", "river logo.png", logo})
			if p.status != 200 {
				t.Fatalf("save branding: %d\n%s", p.status, p.body)
			}
			mustHave(t, "the branding page after the save", p.body, "The branding is saved", `value="#7a1f5c"`, "Last saved by ada@example.org",
				`<img class="logo" src="/brand/logo"`, "River Alliance</a>")
			saved, logoRow, err := st.GetBranding(ctx)
			if err != nil || logoRow == nil || saved.PostalAddress != "2 Water St, Riverton, ST 00001" || logoRow.Name != "river logo.png" {
				t.Fatalf("stored branding %+v, logo %+v, %v", saved, logoRow, err)
			}
			logoPath := "/media/" + logoRow.SHA256 + ".png"

			resp, preview := getRaw(t, fmt.Sprintf("%s/api/v1/messages/%d/preview", base, msg.ID), map[string]string{"Authorization": "Bearer " + testToken})
			if resp.StatusCode != 200 {
				t.Fatalf("preview: %d", resp.StatusCode)
			}
			wantEmail := []string{`<img src="` + base + logoPath + `" width="120" height="40" alt="River Alliance"`, "background-color: #7a1f5c",
				"background-color: #203a5c", "River Alliance, 2 Water St, Riverton, ST 00001", "<p>Paid for by River Alliance PAC</p>"}
			mustHave(t, "the preview", string(preview), wantEmail...)

			wantPage := []string{`<img src="` + logoPath + `" width="120" height="40" alt="River Alliance">`, "background: #7a1f5c;",
				"border-bottom: 3px solid #203a5c;", "River Alliance, 2 Water St, Riverton, ST 00001", "Paid for by River Alliance PAC"}
			page := getPage(t, http.DefaultClient, base+"/a/river")
			mustHave(t, "the petition page", page.body, append(wantPage, "others from River Alliance")...)
			if strings.Contains(page.body, config.DemoOrgName) || strings.Contains(page.body, "#c8402b") {
				t.Error("the petition page still shows the environment's name or color")
			}

			var camp store.Campaign
			h.call("POST", "/api/v1/campaigns", map[string]any{"name": "river", "message_id": msg.ID, "audience": map[string]any{"lists": []int64{list.ID}}}, &camp)
			if code := h.call("POST", fmt.Sprintf("/api/v1/campaigns/%d/send", camp.ID), nil, nil); code != 202 {
				t.Fatalf("send: %d", code)
			}
			h.waitFinished(camp.ID)
			msgs := h.capture.Messages()
			if len(msgs) != 1 {
				t.Fatalf("%d messages captured, want 1", len(msgs))
			}
			e := parseEmail(t, msgs[0].Data)
			mustHave(t, "the email sent", e.html, wantEmail...)
			mustHave(t, "the email's text part", e.text, "River Alliance, 2 Water St, Riverton, ST 00001", "Paid for by River Alliance PAC")
			unsub := regexp.MustCompile(`href="(http://[^"]+/u/[^"]+)"`).FindStringSubmatch(e.html)
			if unsub == nil {
				t.Fatal("no unsubscribe link in the email")
			}
			resp, body := getRaw(t, unsub[1], nil)
			mustHave(t, "the unsubscribe page", string(body), append(wantPage, "Stop email from River Alliance")...)
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self'") {
				t.Errorf("the unsubscribe page's CSP %q does not let the logo load", csp)
			}

			// The logo, content-addressed: for ever; at /brand/logo: a minute, then its ETag.
			for _, tc := range []struct{ path, cache string }{{logoPath, "public, max-age=31536000, immutable"}, {"/brand/logo", "public, max-age=60"}} {
				resp, got := getRaw(t, base+tc.path, nil)
				if resp.StatusCode != 200 || !bytes.Equal(got, logo) || resp.Header.Get("Content-Type") != "image/png" ||
					resp.Header.Get("Cache-Control") != tc.cache || resp.Header.Get("ETag") != `"`+logoRow.SHA256+`"` ||
					resp.Header.Get("X-Content-Type-Options") != "nosniff" {
					t.Errorf("GET %s: %d, %d bytes, %v", tc.path, resp.StatusCode, len(got), resp.Header)
				}
				if resp, _ := getRaw(t, base+tc.path, map[string]string{"If-None-Match": `"` + logoRow.SHA256 + `"`}); resp.StatusCode != http.StatusNotModified {
					t.Errorf("GET %s with its ETag: %d, want 304", tc.path, resp.StatusCode)
				}
			}

			// Changed again, without the logo: the next page shows it.
			fields := brandingFields(token)
			fields["primary_color"], fields["org_name"], fields["remove_logo"] = "#0b5d1e", "Riverkeepers", "1"
			if p := postMultipart(t, c, base+"/admin/branding", fields); p.status != 200 {
				t.Fatalf("save again: %d", p.status)
			}
			page = getPage(t, http.DefaultClient, base+"/a/river")
			mustHave(t, "the petition page after the second save", page.body, `<p class="org">Riverkeepers</p>`, "border-bottom: 3px solid #0b5d1e;")
			if strings.Contains(page.body, "<img") {
				t.Error("the petition page still shows the logo")
			}
			if resp, _ := getRaw(t, base+"/brand/logo", nil); resp.StatusCode != 404 {
				t.Errorf("/brand/logo without a logo: %d, want 404", resp.StatusCode)
			}
		})
	}
}

// TestImageLibrary uploads, lists, serves and deletes images through the
// admin, on both backends: a file that is not an image, or too large, is
// refused with a clear error; the logo cannot be deleted; a viewer sees
// the library but changes nothing.
func TestImageLibrary(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, b)
			base, st, ctx := h.app.URL(), h.app.Store(), context.Background()
			const password = "correct horse battery"
			for _, u := range []struct{ email, role string }{{"ada@example.org", store.RoleAdmin}, {"vic@example.org", store.RoleViewer}} {
				if _, err := admin.CreateUser(ctx, st, u.email, u.role, password); err != nil {
					t.Fatal(err)
				}
			}
			c := signedInClient(t, base, "ada@example.org", password)
			token := csrfOf(t, getPage(t, c, base+"/admin/media").body)
			upload := func(name string, data []byte) fetched {
				t.Helper()
				return postMultipart(t, c, base+"/admin/media", map[string]string{"csrf": token}, attachment{"file", name, data})
			}

			for _, tc := range []struct {
				name string
				data []byte
				says string
			}{
				{"text", []byte("<html><body>hello</body></html>"), "Is not a PNG, JPEG, GIF or WebP image (its content is text/html)."},
				{"too large", append(pngLogo(t, 4, 4, color.RGBA{A: 255}), make([]byte, 6<<20)...), "Is 6 MB; the limit is 5 MB: make the image smaller and try again."},
				{"damaged", pngLogo(t, 4, 4, color.RGBA{A: 255})[:30], "Looks like a png image but cannot be read"},
			} {
				p := upload("photo.png", tc.data)
				if p.status != http.StatusUnprocessableEntity {
					t.Errorf("%s: %d, want 422", tc.name, p.status)
				}
				mustHave(t, tc.name, p.body, `id="f-file-error">`+tc.says, `aria-describedby="f-file-hint f-file-error"`)
			}
			p := postMultipart(t, c, base+"/admin/media", map[string]string{"csrf": token})
			mustHave(t, "no file", p.body, `id="f-file-error">Choose an image file to upload.`)
			if ms, _ := st.ListMedia(ctx, 10); len(ms) != 0 {
				t.Fatalf("refused uploads stored %d images", len(ms))
			}

			red, blue := pngLogo(t, 64, 32, color.RGBA{200, 0, 0, 255}), pngLogo(t, 10, 10, color.RGBA{0, 0, 200, 255})
			p = upload("red.png", red)
			if p.status != http.StatusCreated {
				t.Fatalf("upload: %d\n%s", p.status, p.body)
			}
			mustHave(t, "after an upload", p.body, "red.png is added to the library.", "64 × 32 px")
			if p := upload("again.png", red); !strings.Contains(p.body, "This image is in the library already, as red.png.") {
				t.Errorf("the same image again: %d", p.status)
			}
			upload("blue.gif", blue) // named as what it is: blue.png
			var list struct {
				Images []struct {
					ID                  int64
					URL, Path, Name     string
					ContentType         string `json:"content_type"`
					Width, Height, Size int64
				}
			}
			resp, _ := getRaw(t, base+"/admin/media.json", nil)
			if resp.Header.Get("Content-Type") != "text/html; charset=utf-8" || resp.Request.URL.Path != "/admin/signin" {
				t.Errorf("media.json without a session: %d %s at %s, want the sign-in page", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Request.URL.Path)
			}
			jr, err := c.Get(base + "/admin/media.json")
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(jr.Body)
			jr.Body.Close()
			if err := json.Unmarshal(raw, &list); err != nil || jr.Header.Get("Content-Type") != "application/json; charset=utf-8" {
				t.Fatalf("media.json: %v %s", err, raw)
			}
			if len(list.Images) != 2 || list.Images[0].Name != "blue.png" || list.Images[1].Name != "red.png" || list.Images[1].Width != 64 ||
				list.Images[1].URL != base+list.Images[1].Path || !regexp.MustCompile(`^/media/[0-9a-f]{64}\.png$`).MatchString(list.Images[1].Path) {
				t.Fatalf("media.json: %s", raw)
			}
			redImg, blueImg := list.Images[1], list.Images[0]
			page := getPage(t, c, base+"/admin/media")
			mustHave(t, "the library", page.body, `<img src="`+redImg.Path+`" alt="" width="64" height="32"`, `value="`+redImg.URL+`"`, "Delete red.png")

			resp, got := getRaw(t, base+redImg.Path, nil)
			if resp.StatusCode != 200 || !bytes.Equal(got, red) || resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
				t.Errorf("GET %s: %d %v", redImg.Path, resp.StatusCode, resp.Header)
			}
			for _, bad := range []string{strings.TrimSuffix(redImg.Path, ".png") + ".gif", "/media/" + strings.Repeat("0", 64) + ".png", "/media/x.png", "/media/" + redImg.Path[7:71] + ".PNG"} {
				if resp, _ := getRaw(t, base+bad, nil); resp.StatusCode != 404 {
					t.Errorf("GET %s: %d, want 404", bad, resp.StatusCode)
				}
			}

			// A viewer sees the library and changes nothing.
			v := signedInClient(t, base, "vic@example.org", password)
			vp := getPage(t, v, base+"/admin/media")
			if vp.status != 200 || strings.Contains(vp.body, "Delete red.png") || strings.Contains(vp.body, `name="file"`) {
				t.Errorf("a viewer's library: %d, with upload or delete", vp.status)
			}
			if p := postMultipart(t, v, base+"/admin/media", map[string]string{"csrf": csrfOf(t, vp.body)}, attachment{"file", "v.png", pngLogo(t, 3, 3, color.RGBA{A: 255})}); p.status != http.StatusForbidden {
				t.Errorf("a viewer uploads: %d, want 403", p.status)
			}

			// The logo cannot be deleted; another image can, and is gone.
			fields := brandingFields(csrfOf(t, getPage(t, c, base+"/admin/branding").body))
			if p := postMultipart(t, c, base+"/admin/branding", fields, attachment{"logo", "red.png", red}); p.status != 200 {
				t.Fatalf("save branding with red.png: %d", p.status)
			}
			mustHave(t, "the library with a logo", getPage(t, c, base+"/admin/media").body, `<span class="tag">logo</span>`)
			p = postPage(t, c, fmt.Sprintf("%s/admin/media/%d/delete", base, redImg.ID), map[string][]string{"csrf": {token}})
			if p.status != http.StatusConflict {
				t.Errorf("delete the logo: %d, want 409", p.status)
			}
			mustHave(t, "deleting the logo", p.body, "This image is the organization&#39;s logo: choose another logo on the Branding screen before deleting it.")
			p = postPage(t, c, fmt.Sprintf("%s/admin/media/%d/delete", base, blueImg.ID), map[string][]string{"csrf": {token}})
			if p.status != 200 || !strings.Contains(p.body, "The image is deleted.") {
				t.Errorf("delete an image: %d", p.status)
			}
			if resp, _ := getRaw(t, base+blueImg.Path, nil); resp.StatusCode != 404 {
				t.Errorf("a deleted image is served: %d", resp.StatusCode)
			}
			if resp, _ := getRaw(t, base+redImg.Path, nil); resp.StatusCode != 200 {
				t.Errorf("the logo after the refused delete: %d", resp.StatusCode)
			}
			if p := postPage(t, c, fmt.Sprintf("%s/admin/media/%d/delete", base, blueImg.ID), map[string][]string{"csrf": {token}}); p.status != 404 {
				t.Errorf("delete it again: %d, want 404", p.status)
			}
		})
	}
}

// TestBrandingAcrossProcesses runs two serve processes on one database: the
// branding saved on one is on the other's pages within the Source's few
// seconds, with no restart, and an image uploaded on one is served by the
// other.
func TestBrandingAcrossProcesses(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			dsn := b.dsn(t)
			one := start(t, b, map[string]string{"DEARFRIEND_DATABASE_URL": dsn})
			two := start(t, b, map[string]string{"DEARFRIEND_DATABASE_URL": dsn})
			ctx := context.Background()
			const password = "correct horse battery"
			if _, err := admin.CreateUser(ctx, one.app.Store(), "ada@example.org", store.RoleAdmin, password); err != nil {
				t.Fatal(err)
			}
			mustPetition(t, one, "river", 10)
			if page := getPage(t, http.DefaultClient, two.app.URL()+"/a/river"); !strings.Contains(page.body, config.DemoOrgName) {
				t.Fatalf("the second process's page before the save lacks %q", config.DemoOrgName)
			}
			c := signedInClient(t, one.app.URL(), "ada@example.org", password)
			logo := pngLogo(t, 90, 30, color.RGBA{122, 31, 92, 255})
			token := csrfOf(t, getPage(t, c, one.app.URL()+"/admin/branding").body)
			if p := postMultipart(t, c, one.app.URL()+"/admin/branding", brandingFields(token), attachment{"logo", "logo.png", logo}); p.status != 200 {
				t.Fatalf("save on the first process: %d", p.status)
			}
			_, row, err := one.app.Store().GetBranding(ctx)
			if err != nil || row == nil {
				t.Fatalf("stored logo: %v", err)
			}
			logoPath := "/media/" + row.SHA256 + ".png"
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
				page := getPage(t, http.DefaultClient, two.app.URL()+"/a/river")
				if strings.Contains(page.body, `<img src="`+logoPath+`"`) && strings.Contains(page.body, "background: #7a1f5c;") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the second process's page shows no new branding after 30 s:\n%s", page.body)
				}
			}
			if resp, got := getRaw(t, two.app.URL()+logoPath, nil); resp.StatusCode != 200 || !bytes.Equal(got, logo) {
				t.Errorf("the second process serves the logo: %d, %d bytes", resp.StatusCode, len(got))
			}
		})
	}
}
