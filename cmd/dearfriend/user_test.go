package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestUserCreateCommand adds admin UI users: a password from stdin, a
// generated one printed once, and refusals that name the field at fault.
func TestUserCreateCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "df.db")
	t.Setenv("DEARFRIEND_DATABASE_URL", db)
	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"from stdin", []string{"user", "create", "--email", "Maya@Example.org", "--role", "admin", "--password-stdin"},
			"river and mountains\n", 0, "user maya@example.org created with role admin", ""},
		{"generated", []string{"user", "create", "--email", "lin@example.org", "--role", "viewer"}, "", 0, "password: ", ""},
		{"taken", []string{"user", "create", "--email", "maya@example.org", "--role", "viewer"}, "", 2, "", "a user with email maya@example.org already exists"},
		{"unknown role", []string{"user", "create", "--email", "sam@example.org", "--role", "owner"}, "", 2, "", "role: must be viewer, organizer or admin"},
		{"short password", []string{"user", "create", "--email", "sam@example.org", "--role", "viewer", "--password-stdin"}, "short\n", 2, "", "password: must be 10 to 72 characters"},
		{"no email", []string{"user", "create", "--role", "viewer"}, "", 2, "", "usage: dearfriend user create"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, strings.NewReader(tt.stdin), &stdout, &stderr)
			if code != tt.wantCode || !strings.Contains(stdout.String(), tt.wantStdout) || !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("exit %d, want %d; stdout %q, want %q; stderr %q, want %q",
					code, tt.wantCode, stdout.String(), tt.wantStdout, stderr.String(), tt.wantStderr)
			}
		})
	}
	st := testenv.Store(t, db)
	u, err := st.UserByEmail(context.Background(), "maya@example.org")
	if err != nil || u.Role != store.RoleAdmin || bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte("river and mountains")) != nil {
		t.Errorf("maya: %+v, %v; want an admin whose password is the one piped in", u, err)
	}
	if n, err := st.CountUsers(context.Background()); err != nil || n != 2 {
		t.Errorf("users = %d, %v; want 2", n, err)
	}
}

// TestUserPasswordCommand gives a user a new password, from stdin or
// generated, ends their sessions, and refuses an unknown user or a short
// password, naming what is wrong.
func TestUserPasswordCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "df.db")
	t.Setenv("DEARFRIEND_DATABASE_URL", db)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"user", "create", "--email", "ada@example.org", "--role", "admin"}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("create: %d %s", code, stderr.String())
	}
	st := testenv.Store(t, db)
	ctx := context.Background()
	u, err := st.UserByEmail(ctx, "ada@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateSession(ctx, &store.Session{IDHash: "h", UserID: u.ID, CSRFToken: "c", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"from stdin", []string{"user", "password", "--email", "Ada@Example.org", "--password-stdin"}, "a new river song\n", 0,
			"password of ada@example.org changed; their sessions are ended", ""},
		{"unknown", []string{"user", "password", "--email", "nobody@example.org"}, "", 2, "", "user nobody@example.org not found"},
		{"short", []string{"user", "password", "--email", "ada@example.org", "--password-stdin"}, "short\n", 2, "", "password: must be 10 to 72 characters"},
		{"with a role", []string{"user", "password", "--email", "ada@example.org", "--role", "viewer"}, "", 2, "", "usage: dearfriend user"},
	}
	for _, tt := range tests {
		stdout.Reset()
		stderr.Reset()
		code := run(tt.args, strings.NewReader(tt.stdin), &stdout, &stderr)
		if code != tt.wantCode || !strings.Contains(stdout.String(), tt.wantStdout) || !strings.Contains(stderr.String(), tt.wantStderr) {
			t.Errorf("%s: exit %d, want %d; stdout %q, want %q; stderr %q, want %q",
				tt.name, code, tt.wantCode, stdout.String(), tt.wantStdout, stderr.String(), tt.wantStderr)
		}
	}
	u, err = st.UserByEmail(ctx, "ada@example.org")
	if err != nil || bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte("a new river song")) != nil {
		t.Errorf("ada's password is not the one piped in: %v", err)
	}
	if _, _, err := st.SessionUser(ctx, "h", time.Now()); err == nil {
		t.Error("ada's session outlived the new password")
	}
}
