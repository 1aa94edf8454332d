package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestImportCommand imports a file into a list of a SQLite database: the
// progress goes to stderr as plain lines (stderr is not a terminal), rejected
// rows are listed by line, and a binary file or an unknown list writes nothing.
func TestImportCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "df.db")
	t.Setenv("DEARFRIEND_DATABASE_URL", db)
	ctx := context.Background()
	st := testenv.Store(t, db)
	if err := st.CreateList(ctx, &store.List{Name: "Signers"}); err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("people.csv", "Email,Name,Zip\r\njane@example.org,Jane,02134\r\nnope,No,1\r\nsam@example.org,Sam,10001\r\n")
	binary := write("photo.csv", "\x89PNG\r\n\x1a\n\x00\x00")

	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr []string
	}{
		{"a new list for a refused file", []string{"import", binary, "--list", "Nobody"}, 2, []string{`created the list "Nobody"`, "is not a CSV text file"}},
		{"binary", []string{"import", binary, "--list", "Signers"}, 2, []string{"is not a CSV text file"}},
		{"unknown mapping field", []string{"import", good, "--list", "Signers", "--mapping", `{"Name": "fullname"}`}, 2, []string{`mapping.Name: unknown field "fullname"`}},
		{"good", []string{"import", "--list", "Signers", "--mapping", `{"Name": "first_name"}`, good}, 0,
			[]string{"100% 3 rows: 2 imported, 0 updated, 1 rejected", "import 1 done: 3 rows", `line 3: column "Email": "nope" is not a valid email address`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, strings.NewReader(""), &stdout, &stderr)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, stderr.String())
			}
			for _, want := range tt.wantStderr {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
				}
			}
		})
	}
	c, err := st.ContactByEmail(ctx, "jane@example.org")
	if err != nil || c.FirstName != "Jane" || c.PostalCode != "02134" {
		t.Errorf("jane: %+v, %v", c, err)
	}
	if n, err := st.CountContacts(ctx); err != nil || n != 2 {
		t.Errorf("contacts = %d, %v; want 2", n, err)
	}
	if l, err := st.ListNamed(ctx, "Nobody"); err == nil {
		t.Errorf("the list made for a refused file is still there: %+v", l)
	}

	// A list no list is named is created, and the rows go into it.
	var stdout, stderr bytes.Buffer
	if code := run([]string{"import", good, "--list", "Newcomers"}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("import into a new list: exit %d; stderr:\n%s", code, stderr.String())
	}
	l, err := st.ListNamed(ctx, "Newcomers")
	if err != nil {
		t.Fatalf("the new list: %v", err)
	}
	if n, err := st.CountListMembers(ctx, l.ID); err != nil || n != 2 {
		t.Errorf("the new list has %d members, %v; want 2", n, err)
	}
}
