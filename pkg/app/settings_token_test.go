package app_test

import (
	"context"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// TestRotatedTokenAtOnce: without DEARFRIEND_API_TOKEN the API requires the
// token kept in the database as it is at each request, so a token replaced
// (as the admin settings screen does) is required at once.
func TestRotatedTokenAtOnce(t *testing.T) {
	t.Parallel()
	h := start(t, backends(t)[0], map[string]string{"DEARFRIEND_API_TOKEN": ""})
	first := h.app.APIToken()
	if first == "" || first == testToken {
		t.Fatalf("generated token %q", first)
	}
	if code := h.callAs(first, "GET", "/api/v1/lists", nil, nil); code != 200 {
		t.Fatalf("the generated token: %d, want 200", code)
	}
	const next = "a-rotated-token-0123456789abcdef"
	if err := h.app.Store().ReplaceSetting(context.Background(), store.SettingAPIToken, next); err != nil {
		t.Fatal(err)
	}
	if code := h.callAs(first, "GET", "/api/v1/lists", nil, nil); code != 401 {
		t.Errorf("the replaced token: %d, want 401", code)
	}
	if code := h.callAs(next, "GET", "/api/v1/lists", nil, nil); code != 200 {
		t.Errorf("the new token: %d, want 200", code)
	}
	if code := h.callAs("", "GET", "/api/v1/lists", nil, nil); code != 401 {
		t.Errorf("no token: %d, want 401", code)
	}
}
