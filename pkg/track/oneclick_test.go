package track

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestOneClickEncodings: an RFC 8058 one-click POST unsubscribes in both
// encodings the RFC allows, multipart/form-data (its recommended form) and
// urlencoded, and a malformed multipart body is refused without a change.
func TestOneClickEncodings(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := mustFixture(t, dsn, 3, time.Nanosecond)
		multi := func() (string, string) {
			var b bytes.Buffer
			mw := multipart.NewWriter(&b)
			if err := mw.WriteField("List-Unsubscribe", "One-Click"); err != nil {
				t.Fatal(err)
			}
			mw.Close()
			return mw.FormDataContentType(), b.String()
		}
		mType, mBody := multi()
		for i, tc := range []struct{ name, contentType, body string }{
			{"multipart/form-data", mType, mBody},
			{"urlencoded", "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got := post(t, f.links.Unsubscribe(f.sends[i]), tc.contentType, tc.body)
				if got.code != 200 || got.body != "" {
					t.Fatalf("one-click: %d %q, want 200 and no page", got.code, got.body)
				}
				if c, _ := f.st.GetContact(context.Background(), f.contacts[i].ID); c.Status != store.ContactUnsubscribed {
					t.Errorf("after one-click the contact is %s, want unsubscribed", c.Status)
				}
			})
		}
		bad := post(t, f.links.Unsubscribe(f.sends[2]), "multipart/form-data; boundary=xyz", "--xyz\r\nnot a part")
		if bad.code != 400 {
			t.Errorf("broken multipart body: %d, want 400", bad.code)
		}
		if c, _ := f.st.GetContact(context.Background(), f.contacts[2].ID); c.Status != store.ContactSubscribed {
			t.Errorf("after a refused post the contact is %s", c.Status)
		}
	})
}

func post(t *testing.T, url, contentType, body string) response {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{code: resp.StatusCode, body: string(b)}
}

// FuzzUnsubscribeForm: any body in any content type is read without a
// panic, and a form that reads as one-click says List-Unsubscribe=One-Click.
func FuzzUnsubscribeForm(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", "List-Unsubscribe=One-Click")
	f.Add("multipart/form-data; boundary=xyz", "--xyz\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--xyz--\r\n")
	f.Add("multipart/form-data; boundary=xyz", "--xyz\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\r\nhi\r\n--xyz--\r\n")
	f.Add("multipart/form-data", "--\r\n")
	f.Add("", "csrf=abc&scope=all")
	f.Fuzz(func(t *testing.T, contentType, body string) {
		req, err := http.NewRequest("POST", "/u/x", strings.NewReader(body))
		if err != nil {
			t.Skip()
		}
		req.Header.Set("Content-Type", contentType)
		form, err := readUnsubscribeForm(req, 4096)
		if err != nil {
			return
		}
		if isOneClick(form) && !slices.Contains(form["List-Unsubscribe"], "One-Click") {
			t.Errorf("one-click without the field: %v", form)
		}
		if len(body) > 4096 {
			t.Errorf("a body of %d bytes was read; the limit is 4096", len(body))
		}
	})
}
