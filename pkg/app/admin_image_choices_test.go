package app_test

import (
	"context"
	"html"
	"image/color"
	"net/http"
	"strings"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/admin"
	"github.com/dearfriend/dearfriend/pkg/brand"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// TestEditorOffersLibraryImages: the message editor hands the block
// editor the library's images, each with its address and the size it
// takes in the email: its own, or the column's width (536 px) at its
// proportions (rounded) when it is wider, so the image block writes a width and a
// height and the message draws no warning for it.
func TestEditorOffersLibraryImages(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, b)
			base := h.app.URL()
			const password = "correct horse battery"
			if _, err := admin.CreateUser(context.Background(), h.app.Store(), "maya@example.org", store.RoleOrganizer, password); err != nil {
				t.Fatal(err)
			}
			c := signedInClient(t, base, "maya@example.org", password)
			if body := getPage(t, c, base+"/admin/messages/new").body; !strings.Contains(body, `<template id="image-source"></template>`) {
				t.Errorf("an empty library offers images:\n%s", body)
			}
			token := csrfOf(t, getPage(t, c, base+"/admin/media").body)
			for _, img := range []attachment{{"file", "narrow.png", pngLogo(t, 300, 120, color.RGBA{20, 60, 90, 255})},
				{"file", "wide.png", pngLogo(t, 1072, 401, color.RGBA{90, 60, 20, 255})}} {
				if p := postMultipart(t, c, base+"/admin/media", map[string]string{"csrf": token}, img); p.status != http.StatusCreated {
					t.Fatalf("upload %s: %d", img.name, p.status)
				}
			}
			ms, err := h.app.Store().ListMedia(context.Background(), 10)
			if err != nil || len(ms) != 2 {
				t.Fatalf("library: %v, %v", ms, err)
			}
			url := map[string]string{}
			for _, m := range ms {
				url[m.Name] = html.EscapeString(base + brand.MediaPath(m.SHA256, m.ContentType))
			}
			page := getPage(t, c, base+"/admin/messages/new")
			mustHave(t, "the editor's images", page.body,
				`<option value="`+url["wide.png"]+`" data-width="536" data-height="201">wide.png</option>`,
				`<option value="`+url["narrow.png"]+`" data-width="300" data-height="120">narrow.png</option>`)
		})
	}
}
