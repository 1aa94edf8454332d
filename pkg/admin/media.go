package admin

import (
	"net/http"
	"strconv"

	"github.com/dearfriend/dearfriend/pkg/brand"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// mediaItem is one image as the Images screen lists it.
type mediaItem struct {
	store.Media
	Path, URL, Size string
	Logo            bool // the organization's logo: not deleted
}

func (h *Handler) media(w http.ResponseWriter, r *http.Request, s *signedIn) {
	notice := ""
	if r.URL.Query().Get("deleted") != "" {
		notice = "The image is deleted."
	}
	h.showMedia(w, r, s, http.StatusOK, NewForm(nil), notice)
}

func (h *Handler) showMedia(w http.ResponseWriter, r *http.Request, s *signedIn, status int, f *Form, notice string) {
	if h.noLibrary(w, r, s) {
		return
	}
	ms, err := h.Library.List(r.Context())
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	b, err := h.Brand.Current(r.Context())
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	items := make([]mediaItem, len(ms))
	for i, m := range ms {
		items[i] = mediaItem{Media: m, Path: brand.MediaPath(m.SHA256, m.ContentType), URL: h.Library.URL(&m), Size: brand.Size(m.Size),
			Logo: b.Logo != nil && b.Logo.ID == m.ID}
	}
	h.render(w, r, s, status, "media.html", view{Title: "Images", Section: "Images", Form: f, Notice: notice,
		Data: struct {
			Images  []mediaItem
			MaxSize string
			Limit   int
		}{items, brand.Size(brand.MaxImageSize), brand.ListLimit}})
}

// mediaJSON lists the images for editors that pick one (Library.ServeList).
func (h *Handler) mediaJSON(w http.ResponseWriter, r *http.Request, s *signedIn) {
	if h.noLibrary(w, r, s) {
		return
	}
	h.Library.ServeList(w, r)
}

// addMedia stores an uploaded image; a file that is not an image, or too
// large, is refused at the field and nothing is stored.
func (h *Handler) addMedia(w http.ResponseWriter, r *http.Request, s *signedIn) {
	if h.noLibrary(w, r, s) {
		return
	}
	f := NewForm(nil)
	file, err := uploaded(r, "file")
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	if file == nil {
		f.Fail("file", "Choose an image file to upload.")
	} else if err := file.check(); err != nil {
		f.Fail("file", fieldMessage(err))
	}
	if !f.OK() {
		h.showMedia(w, r, s, http.StatusUnprocessableEntity, f, "")
		return
	}
	m, created, err := h.Library.Add(r.Context(), file.name, file.data, s.User.Email)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	notice := m.Name + " is added to the library."
	if !created {
		notice = "This image is in the library already, as " + m.Name + "."
	}
	h.Log.Info("image added", "media_id", m.ID, "sha256", m.SHA256, "by", s.User.Email, "new", created)
	h.showMedia(w, r, s, http.StatusCreated, NewForm(nil), notice)
}

func (h *Handler) deleteMedia(w http.ResponseWriter, r *http.Request, s *signedIn) {
	if h.noLibrary(w, r, s) {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.problem(w, r, s, http.StatusNotFound, "There is no such image.")
		return
	}
	if err := h.Library.Delete(r.Context(), id); err != nil {
		f := NewForm(nil)
		if f.Take(err) { // the logo
			h.showMedia(w, r, s, http.StatusConflict, f, "")
			return
		}
		h.failFor(w, r, s, err)
		return
	}
	h.Log.Info("image deleted", "media_id", id, "by", s.User.Email)
	http.Redirect(w, r, "/admin/media?deleted=1", http.StatusSeeOther)
}

// noLibrary answers 404 when the server keeps no branding and images
// (tests of other screens leave them out), and says whether it did.
func (h *Handler) noLibrary(w http.ResponseWriter, r *http.Request, s *signedIn) bool {
	if h.Library != nil && h.Brand != nil {
		return false
	}
	h.problem(w, r, s, http.StatusNotFound, "The branding and image library are not kept by this server.")
	return true
}
