package admin

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/dearfriend/dearfriend/pkg/brand"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// uploadLimit bounds the body of a form carrying an image: well above
// brand.MaxImageSize, so that an image too large is answered at its field,
// saying its size and the limit.
const uploadLimit = 4 * brand.MaxImageSize

func (h *Handler) brandingRoutes(mux *http.ServeMux) {
	mux.Handle("GET /admin/branding", h.page(store.RoleAdmin, h.branding))
	mux.Handle("POST /admin/branding", h.upload(store.RoleAdmin, uploadLimit, h.saveBranding))
	mux.Handle("GET /admin/media", h.page(store.RoleViewer, h.media))
	mux.Handle("GET /admin/media.json", h.page(store.RoleViewer, h.mediaJSON))
	mux.Handle("POST /admin/media", h.upload(store.RoleOrganizer, uploadLimit, h.addMedia))
	mux.Handle("POST /admin/media/{id}/delete", h.action(store.RoleOrganizer, h.deleteMedia))
}

// brandingForm is the form of a branding as saved.
func brandingForm(b brand.Brand) *Form {
	return NewForm(url.Values{"org_name": {b.OrgName}, "postal_address": {b.PostalAddress}, "footer_text": {b.FooterText},
		"primary_color": {b.Primary}, "accent_color": {b.Accent}, "from_name": {b.FromName}, "from_email": {b.FromEmail}})
}

func (h *Handler) branding(w http.ResponseWriter, r *http.Request, s *signedIn) {
	if h.noLibrary(w, r, s) {
		return
	}
	b, err := h.Brand.Current(r.Context())
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	notice := ""
	if r.URL.Query().Get("saved") != "" {
		notice = "The branding is saved: new emails and every public page show it now."
	}
	h.showBranding(w, r, s, http.StatusOK, b, brandingForm(b), notice)
}

func (h *Handler) showBranding(w http.ResponseWriter, r *http.Request, s *signedIn, status int, b brand.Brand, f *Form, notice string) {
	h.render(w, r, s, status, "branding.html", view{Title: "Branding", Section: "Branding", Form: f, Notice: notice,
		Data: struct {
			Brand    brand.Brand
			Defaults brand.Brand
			MaxSize  string
		}{b, h.Brand.Defaults(), brand.Size(brand.MaxImageSize)}})
}

// saveBranding checks every field and the logo uploaded, if any, before
// storing anything: a wrong field leaves the branding and the library as
// they were.
func (h *Handler) saveBranding(w http.ResponseWriter, r *http.Request, s *signedIn) {
	if h.noLibrary(w, r, s) {
		return
	}
	ctx := r.Context()
	cur, err := h.Brand.Current(ctx)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	f := NewForm(r.PostForm)
	b := brand.Brand{OrgName: f.Get("org_name"), PostalAddress: f.Get("postal_address"), FooterText: f.Get("footer_text"),
		Primary: f.Get("primary_color"), Accent: f.Get("accent_color"), FromName: f.Get("from_name"), FromEmail: f.Get("from_email"),
		Logo: cur.Logo}
	if f.Get("remove_logo") != "" {
		b.Logo = nil
	}
	if err := b.Check(); err != nil && !f.Take(err) {
		h.failFor(w, r, s, err)
		return
	}
	logo, err := uploaded(r, "logo")
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	if logo != nil {
		if err := logo.check(); err != nil {
			f.Fail("logo", fieldMessage(err))
		}
	}
	if !f.OK() {
		if logo != nil && f.Errors["logo"] == "" {
			f.Fail("logo", "Nothing was saved: choose the logo's file again.")
		}
		h.showBranding(w, r, s, http.StatusUnprocessableEntity, cur, f, "")
		return
	}
	if logo != nil {
		m, _, err := h.Library.Add(ctx, logo.name, logo.data, s.User.Email)
		if err != nil {
			h.failFor(w, r, s, err)
			return
		}
		b.Logo = brand.ImageOf(m)
	}
	if err := h.Brand.Save(ctx, b, s.User.Email); err != nil {
		if f.Take(err) {
			h.showBranding(w, r, s, http.StatusUnprocessableEntity, cur, f, "")
			return
		}
		h.failFor(w, r, s, err)
		return
	}
	h.Log.Info("branding saved", "by", s.User.Email)
	http.Redirect(w, r, "/admin/branding?saved=1", http.StatusSeeOther)
}

// upload is an image file posted with a form.
type upload struct {
	name string
	size int64
	data []byte // nil when size is over brand.MaxImageSize: not read
}

// uploaded reads the file of a multipart field; nil when none was chosen.
func uploaded(r *http.Request, field string) (*upload, error) {
	file, hdr, err := r.FormFile(field)
	if errors.Is(err, http.ErrMissingFile) {
		return nil, nil
	}
	if err != nil {
		return nil, errs.New(errs.Malformed, "the uploaded file could not be read")
	}
	defer file.Close()
	if hdr.Filename == "" && hdr.Size == 0 {
		return nil, nil // a file input left empty
	}
	u := &upload{name: hdr.Filename, size: hdr.Size}
	if brand.CheckSize(u.size) != nil {
		return u, nil
	}
	if u.data, err = io.ReadAll(file); err != nil {
		return nil, fmt.Errorf("read uploaded %s: %w", field, err)
	}
	return u, nil
}

// check says what is wrong with the file as an image of the library.
func (u *upload) check() error {
	if err := brand.CheckSize(u.size); err != nil {
		return err
	}
	_, err := brand.ReadImage(u.name, u.data)
	return err
}

// fieldMessage is the message of an invalid-input error as a form shows it.
func fieldMessage(err error) string {
	if e, ok := errs.As(err); ok {
		return sentence(e.Message)
	}
	return sentence(err.Error())
}
