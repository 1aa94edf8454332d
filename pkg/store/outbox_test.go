package store_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestOutboxKeepsBytes keeps messages whose raw bytes are not text (a NUL,
// Latin-1, a lone 0xff) and reads them back byte for byte on both
// backends; the span and pages count and order them, and an id that is
// not there is not found.
func TestOutboxKeepsBytes(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		st := mustOpen(t, dsn)
		ctx := context.Background()
		at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		raws := [][]byte{[]byte("Subject: one\r\n\r\nplain\r\n"), {'S', ':', ' ', 0x00, 0xe9, 0xff, '\r', '\n'}, []byte("Subject: three\r\n\r\n")}
		msgs := make([]store.OutboxMessage, len(raws))
		for i, raw := range raws {
			msgs[i] = store.OutboxMessage{ReceivedAt: at, MailFrom: "alerts@example.org", Recipients: "ada@example.net", Subject: string(rune('a' + i)), Raw: raw}
		}
		if err := st.KeepOutboxMessages(ctx, msgs); err != nil {
			t.Fatal(err)
		}
		span, err := st.OutboxSpan(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(store.OutboxSpan{Count: 3, Newest: 3, Oldest: 1}, span); d != "" {
			t.Errorf("span (-want +got):\n%s", d)
		}
		for id, raw := range raws {
			m, err := st.OutboxMessageByID(ctx, int64(id+1))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(m.Raw, raw) || m.Size != int64(len(raw)) || !m.ReceivedAt.Equal(at) {
				t.Errorf("message %d: raw %q size %d at %v; want %q, %d, %v", id+1, m.Raw, m.Size, m.ReceivedAt, raw, len(raw), at)
			}
		}
		page, err := st.OutboxPage(ctx, store.OutboxQuery{Before: 3, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != 2 || page[0].ID != 2 || page[1].ID != 1 || page[0].Raw != nil {
			t.Errorf("the page before 3: %+v; want 2 then 1, without their bytes", page)
		}
		if _, err := st.OutboxMessageByID(ctx, 9); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("message 9: %v, want not found", err)
		}
	})
}

// TestSetUserPassword replaces a user's hash and ends their sessions, and
// only theirs, on both backends; an unknown email is not found.
func TestSetUserPassword(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		st := mustOpen(t, dsn)
		ctx := context.Background()
		ada, lin := &store.User{Email: "ada@example.org", Role: store.RoleAdmin, PasswordHash: "old"}, &store.User{Email: "lin@example.org", Role: store.RoleViewer, PasswordHash: "lin"}
		for _, u := range []*store.User{ada, lin} {
			if err := st.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			if err := st.CreateSession(ctx, &store.Session{IDHash: u.Email, UserID: u.ID, CSRFToken: "c", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.SetUserPassword(ctx, "ada@example.org", "new"); err != nil {
			t.Fatal(err)
		}
		if u, err := st.UserByEmail(ctx, "ada@example.org"); err != nil || u.PasswordHash != "new" {
			t.Errorf("ada's hash: %+v, %v", u, err)
		}
		if _, _, err := st.SessionUser(ctx, "ada@example.org", time.Now()); err == nil {
			t.Error("ada's session outlived the new password")
		}
		if _, _, err := st.SessionUser(ctx, "lin@example.org", time.Now()); err != nil {
			t.Errorf("lin's session ended too: %v", err)
		}
		if err := st.SetUserPassword(ctx, "nobody@example.org", "x"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("an unknown user: %v, want not found", err)
		}
	})
}
