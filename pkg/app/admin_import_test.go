package app_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"mime/multipart"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dearfriend/dearfriend/pkg/admin"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// TestAdminImportKeepsFile posts the import form as a browser without
// JavaScript does, on both backends: a file refused for its encoding is
// kept and named on the form shown again, which imports it with another
// encoding and no file chosen; the report names the rejected rows by line
// (a row repeating an earlier one, a bad address) and lists each region
// written as a code. Another user cannot take a kept file, a file chosen
// replaces it, and none stays past an hour.
func TestAdminImportKeepsFile(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, b)
			base, st, ctx := h.app.URL(), h.app.Store(), context.Background()
			const password = "correct horse battery"
			var users []*store.User
			for _, email := range []string{"maya@example.org", "olu@example.org"} {
				u, err := admin.CreateUser(ctx, st, email, store.RoleOrganizer, password)
				if err != nil {
					t.Fatal(err)
				}
				users = append(users, u)
			}
			maya := signedInClient(t, base, "maya@example.org", password)
			var list store.List
			h.call("POST", "/api/v1/lists", map[string]any{"name": "Volunteers"}, &list)
			post := func(c *http.Client, fields map[string]string, files ...attachment) fetched {
				t.Helper()
				fields["csrf"] = csrfOf(t, getPage(t, c, base+"/admin/imports/new").body)
				return postMultipart(t, c, base+"/admin/imports", fields, files...)
			}
			token := regexp.MustCompile(`<input type="hidden" name="upload" value="([^"]+)">`)

			// Windows-1252 bytes read as UTF-8: refused by line, and kept.
			file := "email,first_name,state\r\njane@example.org,Jane,New York\r\nsam@example.org,Sam,new jersey\r\n" +
				"JANE@example.org,Janet,NY\r\nnot-an-address,Bo,CT\r\nana@example.org,Jos\xe9,n.y.\r\n"
			p := post(maya, map[string]string{"list": "", "encoding": "utf-8"}, attachment{"file", "volunteers.csv", []byte(file)})
			if p.status != http.StatusUnprocessableEntity {
				t.Fatalf("a Windows-1252 file read as UTF-8 and no list: %d, want 422\n%s", p.status, p.body)
			}
			mustHave(t, "the refused form", p.body, `id="f-list-error"`, `id="f-file-kept">Using the uploaded file <strong>volunteers.csv</strong> (choose another to replace it).`)
			m := token.FindStringSubmatch(p.body)
			if m == nil {
				t.Fatalf("the refused form carries no upload token:\n%s", p.body)
			}
			first := m[1]
			if strings.Contains(p.body, `name="file" type="file" accept=".csv,.txt,text/csv,text/plain" required`) {
				t.Error("the file input is still required with a file kept")
			}
			// The list chosen now, no file: the kept one is read, and its
			// encoding is refused naming the line, not a byte offset.
			p = post(maya, map[string]string{"list": itoa(list.ID), "encoding": "utf-8", "upload": first})
			if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "invalid UTF-8 on line 6") || !strings.Contains(p.body, "volunteers.csv") {
				t.Fatalf("the kept file read as UTF-8: %d, want 422 naming line 6 and the file\n%s", p.status, p.body)
			}
			// Another user cannot take it.
			olu := signedInClient(t, base, "olu@example.org", password)
			p = post(olu, map[string]string{"list": itoa(list.ID), "upload": first})
			if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "no longer kept") {
				t.Errorf("another user's kept file: %d, want 422 saying it is not kept\n%s", p.status, p.body)
			}
			// Recognized (auto): read as Windows-1252 and imported.
			fields := map[string]string{"list": itoa(list.ID), "encoding": "auto", "upload": first,
				"csrf": csrfOf(t, getPage(t, maya, base+"/admin/imports/new").body)}
			body, ctype := multipartOf(t, fields)
			res, err := maya.Post(base+"/admin/imports", ctype, body)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			importID, err := strconv.ParseInt(strings.TrimPrefix(res.Request.URL.Path, "/admin/imports/"), 10, 64)
			if res.StatusCode != http.StatusOK || err != nil {
				t.Fatalf("the kept file, recognized, without a file field: %d at %s", res.StatusCode, res.Request.URL)
			}
			if _, err := st.KeptUploadOf(ctx, hashHex(first), users[0].ID, time.Time{}); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("the kept file stays after its import: %v", err)
			}
			report := waitImportDone(t, maya, base, importID)
			mustHave(t, "the report", report, `id="import-encoding">windows-1252<`, `id="regions-normalized">3<`,
				`<td data-label="As typed">New York</td><td data-label="Written as">NY</td><td data-label="Rows" class="num">1</td>`,
				`<td data-label="As typed">n.y.</td><td data-label="Written as">NY</td>`,
				`<td data-label="As typed">new jersey</td><td data-label="Written as">NJ</td>`,
				`<th scope="row" class="num">4</th><td data-label="Reason">repeats line 2`,
				`<th scope="row" class="num">5</th><td data-label="Reason">column &#34;email&#34;`)
			if ana, err := st.ContactByEmail(ctx, "ana@example.org"); err != nil || ana.FirstName != "José" || ana.Region != "NY" {
				t.Errorf("ana: %+v %v, want José in NY", ana, err)
			}
			var api struct {
				RegionChanges []store.RegionChange `json:"region_changes"`
			}
			if h.call("GET", "/api/v1/imports/"+itoa(importID), nil, &api); len(api.RegionChanges) != 3 {
				t.Errorf("the API's region_changes: %+v", api.RegionChanges)
			}

			// A file chosen replaces the kept one, which is deleted; a kept
			// file over an hour old is deleted at the next keep.
			old := &store.KeptUpload{KeyHash: hashHex("old"), UserID: users[1].ID, Filename: "old.csv", Data: []byte("email\n"), CreatedAt: time.Now().Add(-2 * time.Hour)}
			if err := st.KeepUpload(ctx, old, time.Now().Add(-3*time.Hour)); err != nil {
				t.Fatal(err)
			}
			p = post(maya, map[string]string{"list": "", "encoding": "auto"}, attachment{"file", "a.csv", []byte("email\na@example.org\n")})
			second := token.FindStringSubmatch(p.body)
			if p.status != http.StatusUnprocessableEntity || second == nil {
				t.Fatalf("refused without a list: %d\n%s", p.status, p.body)
			}
			if _, err := st.KeptUploadOf(ctx, old.KeyHash, users[1].ID, time.Time{}); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("a file kept two hours ago is still there: %v", err)
			}
			p = post(maya, map[string]string{"list": "", "upload": second[1]}, attachment{"file", "b.csv", []byte("email\nb@example.org\n")})
			third := token.FindStringSubmatch(p.body)
			if third == nil || third[1] == second[1] || !strings.Contains(p.body, "<strong>b.csv</strong>") {
				t.Fatalf("a file chosen over a kept one:\n%s", p.body)
			}
			if _, err := st.KeptUploadOf(ctx, hashHex(second[1]), users[0].ID, time.Time{}); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("the replaced file is still kept: %v", err)
			}
		})
	}
}

// waitImportDone reads the admin's report of import id until it is done,
// and returns it.
func waitImportDone(t *testing.T, c *http.Client, base string, id int64) string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; {
		report := getPage(t, c, base+"/admin/imports/"+itoa(id)).body
		if strings.Contains(report, `id="import-status">done<`) {
			return report
		}
		if time.Now().After(deadline) {
			t.Fatalf("import %d is not done:\n%s", id, report)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// multipartOf encodes fields as a multipart form without a file, as a
// browser posts a file input left empty.
func multipartOf(t *testing.T, fields map[string]string) (*bytes.Buffer, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	mw.Close()
	return &b, mw.FormDataContentType()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// hashHex is the SHA-256 of s in hex: what the database keeps of a token.
func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
