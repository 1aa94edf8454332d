package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// send sends a request with a body of any type and returns the status and
// the body, for what is not JSON (multipart uploads, CSV).
func send(c client, method, path, contentType string, body io.Reader) (int, []byte) {
	c.tb.Helper()
	req, err := http.NewRequest(method, c.srv.URL+path, body)
	if err != nil {
		c.tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer token")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.tb.Fatal(err)
	}
	return resp.StatusCode, b
}

// mustDo sends a JSON body and fails unless the answer has wantStatus.
func mustDo(c client, method, path string, in, out any, wantStatus int) {
	c.tb.Helper()
	body := ""
	if in != nil {
		b, _ := json.Marshal(in)
		body = string(b)
	}
	var raw json.RawMessage
	if status := c.do(method, path, body, &raw); status != wantStatus {
		c.tb.Fatalf("%s %s: %d %s, want %d", method, path, status, raw, wantStatus)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			c.tb.Fatal(err)
		}
	}
}

// upload posts a multipart import.
func upload(c client, file string, fields map[string]string) (int, []byte) {
	c.tb.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", "people.csv")
	io.WriteString(fw, file)
	mw.Close()
	return send(c, "POST", "/api/v1/imports", mw.FormDataContentType(), &buf)
}

func errorField(tb testing.TB, body []byte) string {
	tb.Helper()
	var e apiError
	if err := json.Unmarshal(body, &e); err != nil {
		tb.Fatalf("%v in %s", err, body)
	}
	return e.Error.Field
}

// TestImportAPI uploads a CSV, polls the import to its end, downloads the
// rejected rows and exports the list.
func TestImportAPI(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		c, _ := mustServer(t, dsn)
		var list struct{ ID int64 }
		mustDo(c, "POST", "/api/v1/lists", map[string]string{"name": "petition signers"}, &list, http.StatusCreated)

		file := "\xEF\xBB\xBFE-mail,First,State,Tags,Gift\r\n" +
			"jane@example.org,Jane,NY,\"alert, donor\",25\r\n" +
			"nobody,No,NJ,,\r\n" +
			"sam@example.org,Sam,\"C\nT\",,x\r\n" +
			"lee@example.org,Lee,CT,,\r\n"
		mapping := `{"First": "first_name", "Gift": "attributes.gift:number"}`
		status, body := upload(c, file, map[string]string{"list": "petition signers", "mapping": mapping})
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
		got := [4]int64{imp.RowsDone, imp.Imported, imp.Updated, imp.Rejected}
		if want := [4]int64{4, 2, 0, 2}; imp.Status != store.ImportDone || got != want {
			t.Fatalf("import %s with rows/imported/updated/rejected %v, want done %v", imp.Status, got, want)
		}

		status, body = send(c, "GET", fmt.Sprintf("/api/v1/imports/%d/rejects.csv", imp.ID), "", nil)
		wantRejects := "line,reason,row\n" +
			"3,\"column \"\"E-mail\"\": \"\"nobody\"\" is not a valid email address\",\"nobody,No,NJ,,\"\n" +
			"4,\"column \"\"State\"\": must be one line\",\"sam@example.org,Sam,\"\"C\nT\"\",,x\"\n"
		if status != http.StatusOK || string(body) != wantRejects {
			t.Errorf("rejects.csv: %d\n%s\nwant\n%s", status, body, wantRejects)
		}

		status, body = send(c, "GET", fmt.Sprintf("/api/v1/lists/%d/export.csv", list.ID), "", nil)
		lines := strings.Split(strings.TrimSpace(string(body)), "\n")
		for i, l := range lines { // created_at differs run to run
			lines[i] = l[:strings.LastIndexByte(l, ',')]
		}
		want := []string{
			"email,first_name,last_name,postal_code,region,country,time_zone,tags,consent_at,attributes,status,source",
			`jane@example.org,Jane,,,NY,,,"alert, donor",,"{""gift"":25}",subscribed,import:people.csv`,
			`lee@example.org,Lee,,,CT,,,,,{},subscribed,import:people.csv`,
		}
		if diff := cmp.Diff(want, lines); status != http.StatusOK || diff != "" {
			t.Errorf("export.csv %d (-want +got):\n%s", status, diff)
		}
	})
}

// TestImportAPIRefuses checks that bad uploads get a 422 naming the field,
// and that nothing is recorded.
func TestImportAPIRefuses(t *testing.T) {
	c, st := mustServer(t, testenv.SQLite(t))
	var list struct{ ID int64 }
	mustDo(c, "POST", "/api/v1/lists", map[string]string{"name": "l"}, &list, http.StatusCreated)
	tests := []struct {
		name      string
		file      string
		fields    map[string]string
		wantField string
	}{
		{"binary", "\x7fELF\x02\x01\x01\x00\x00\x00", map[string]string{"list": "l"}, "file"},
		{"Latin-1 declared UTF-8", "email,first_name\nj@example.org,Jos\xe9\n", map[string]string{"list": "l", "encoding": "utf-8"}, "file"},
		{"unknown mapping field", "email,Zip\nj@example.org,1\n", map[string]string{"list": "l", "mapping": `{"Zip": "zip_code"}`}, "mapping.Zip"},
		{"mapping not JSON", "email\nj@example.org\n", map[string]string{"list": "l", "mapping": `Zip=zip`}, "mapping"},
		{"unknown list", "email\nj@example.org\n", map[string]string{"list": "nope"}, "list"},
		{"unknown list id", "email\nj@example.org\n", map[string]string{"list": "999"}, "list"},
		{"no list", "email\nj@example.org\n", nil, "list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := upload(c, tt.file, tt.fields)
			if status != http.StatusUnprocessableEntity || errorField(t, body) != tt.wantField {
				t.Fatalf("got %d %s, want 422 on %s", status, body, tt.wantField)
			}
		})
	}
	if status, body := send(c, "GET", "/api/v1/imports/1", "", nil); status != http.StatusNotFound {
		t.Errorf("an import was recorded: %d %s", status, body)
	}
	if n, err := st.CountContacts(context.Background()); err != nil || n != 0 {
		t.Errorf("contacts = %d, %v; want 0", n, err)
	}
}

// TestContactsAPI searches contacts by prefix, changes one and its tags, and
// refuses to make an unsubscribed contact mailable again.
func TestContactsAPI(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		c, _ := mustServer(t, dsn)
		for _, in := range []map[string]any{
			{"email": "jane.doe@example.org", "first_name": "Jane", "last_name": "Doe"},
			{"email": "sam@example.org", "first_name": "Samuel", "last_name": "Janeway"},
			{"email": "x_y@example.org", "first_name": "Xavier"},
			{"email": "xay@example.org", "first_name": "Xay"},
		} {
			mustDo(c, "POST", "/api/v1/contacts", in, nil, http.StatusCreated)
		}
		search := func(q string) []string {
			var out struct{ Contacts []store.Contact }
			mustDo(c, "GET", "/api/v1/contacts?q="+q, nil, &out, http.StatusOK)
			var emails []string
			for _, ct := range out.Contacts {
				emails = append(emails, ct.Email)
			}
			return emails
		}
		for q, want := range map[string][]string{
			"JANE": {"jane.doe@example.org", "sam@example.org"},
			"sam":  {"sam@example.org"},
			"x_":   {"x_y@example.org"}, // _ is a character, not a wildcard
			"%25":  nil,
		} {
			if diff := cmp.Diff(want, search(q)); diff != "" {
				t.Errorf("q=%s (-want +got):\n%s", q, diff)
			}
		}

		var ct struct {
			store.Contact
			Tags []string `json:"tags"`
		}
		mustDo(c, "PATCH", "/api/v1/contacts/1", map[string]any{"region": "NY", "time_zone": "America/New_York",
			"attributes": map[string]any{"gift": 10, "member": true}}, &ct, http.StatusOK)
		if ct.Region != "NY" || ct.FirstName != "Jane" || !cmp.Equal(ct.Attributes, map[string]any{"gift": 10.0, "member": true}) {
			t.Errorf("after PATCH: %+v", ct.Contact)
		}
		mustDo(c, "POST", "/api/v1/contacts/1/tags", map[string]any{"tags": []string{"donor", "alert"}}, &ct, http.StatusOK)
		mustDo(c, "DELETE", "/api/v1/contacts/1/tags/alert", nil, &ct, http.StatusOK)
		if diff := cmp.Diff([]string{"donor"}, ct.Tags); diff != "" {
			t.Errorf("tags (-want +got):\n%s", diff)
		}
		mustDo(c, "PATCH", "/api/v1/contacts/1", map[string]any{"status": "unsubscribed"}, nil, http.StatusOK)
		for _, tt := range []struct {
			body       map[string]any
			wantStatus int
			wantField  string
		}{
			{map[string]any{"status": "subscribed"}, http.StatusConflict, "status"},
			{map[string]any{"status": "gone"}, http.StatusUnprocessableEntity, "status"},
			{map[string]any{"time_zone": "Mars/Olympus"}, http.StatusUnprocessableEntity, "time_zone"},
			{map[string]any{"attributes": map[string]any{"Bad Key": 1}}, http.StatusUnprocessableEntity, "attributes.Bad Key"},
			{map[string]any{"attributes": map[string]any{"k": []int{1}}}, http.StatusUnprocessableEntity, "attributes.k"},
		} {
			b, _ := json.Marshal(tt.body)
			status, body := send(c, "PATCH", "/api/v1/contacts/1", "application/json", bytes.NewReader(b))
			if status != tt.wantStatus || errorField(t, body) != tt.wantField {
				t.Errorf("PATCH %s: %d %s, want %d on %s", b, status, body, tt.wantStatus, tt.wantField)
			}
		}
	})
}

// TestSuppressionsAPI adds addresses and domains as JSON and CSV, refuses a
// bad entry without adding any, lists and deletes.
func TestSuppressionsAPI(t *testing.T) {
	c, _ := mustServer(t, testenv.SQLite(t))
	var res map[string]int64
	mustDo(c, "POST", "/api/v1/suppressions", map[string]any{"entries": []string{"A@Example.ORG", "@Bücher.de"}, "reason": "asked"}, &res, http.StatusCreated)
	status, body := send(c, "POST", "/api/v1/suppressions", "text/csv", strings.NewReader("email,reason\n@spam.example,complaints\nA@EXAMPLE.org,dup\n"))
	if status != http.StatusCreated || !strings.Contains(string(body), `"added": 1`) {
		t.Fatalf("CSV: %d %s", status, body)
	}
	b, _ := json.Marshal(map[string]any{"entries": []string{"ok@example.org", "@nodot"}})
	status, body = send(c, "POST", "/api/v1/suppressions", "application/json", bytes.NewReader(b))
	if status != http.StatusUnprocessableEntity || errorField(t, body) != "entries[1]" {
		t.Errorf("bad entry: %d %s, want 422 on entries[1]", status, body)
	}
	var out struct{ Suppressions []store.Suppression }
	mustDo(c, "GET", "/api/v1/suppressions", nil, &out, http.StatusOK)
	var got []string
	for _, s := range out.Suppressions {
		got = append(got, s.Email+" "+s.Reason)
	}
	want := []string{"A@example.org asked", "@xn--bcher-kva.de asked", "@spam.example complaints"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("suppressions (-want +got):\n%s", diff)
	}
	path := fmt.Sprintf("/api/v1/suppressions/%d", out.Suppressions[0].ID)
	if status, body := send(c, "DELETE", path, "", nil); status != http.StatusNoContent {
		t.Errorf("DELETE: %d %s, want 204", status, body)
	}
	if status, body := send(c, "DELETE", path, "", nil); status != http.StatusNotFound {
		t.Errorf("second DELETE: %d %s, want 404", status, body)
	}
}
