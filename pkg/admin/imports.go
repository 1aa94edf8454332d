package admin

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dearfriend/dearfriend/pkg/audience"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// Import screen limits.
const (
	// maxImportUpload bounds a CSV uploaded through the admin UI; larger
	// files go through the API (POST /api/v1/imports takes 2 GiB).
	maxImportUpload = 256 << 20
	// rejectsShown is how many rejected rows the report lists; the
	// download has them all.
	rejectsShown = 50
	// refreshSeconds is how often a page of something running reloads itself.
	refreshSeconds = 2
)

// importForm shows the upload form: the list to import into and the file.
func (h *Handler) importForm(w http.ResponseWriter, r *http.Request, s *signedIn) {
	h.showImportForm(w, r, s, http.StatusOK, NewForm(url.Values{"list": {r.URL.Query().Get("list")}}))
}

// The form, shown or posted, deletes the files kept longer than
// keptUploadTTL, which nothing takes any more.
func (h *Handler) showImportForm(w http.ResponseWriter, r *http.Request, s *signedIn, status int, f *Form) {
	if _, err := h.Store.DeleteKeptUploadsBefore(r.Context(), h.Now().Add(-keptUploadTTL)); err != nil {
		h.failFor(w, r, s, err)
		return
	}
	ls, err := h.Store.ListLists(r.Context())
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	h.render(w, r, s, status, "import_new.html", view{Title: "Import contacts", Section: "Contacts", Form: f, Data: ls})
}

// createImport checks the uploaded file whole with the API's rules
// (audience.StartImport, through the API's runner) and sends the browser to
// the import's progress page; the rows are written in the background. A
// refused form keeps its file (keepImportFile), so that it can be sent
// again with another list or encoding without choosing the file again.
func (h *Handler) createImport(w http.ResponseWriter, r *http.Request, s *signedIn) {
	if h.Imports == nil {
		h.problem(w, r, s, http.StatusNotFound, "Imports are not available on this server.")
		return
	}
	ctx := r.Context()
	f := NewForm(r.PostForm)
	listID, _ := strconv.ParseInt(f.Get("list"), 10, 64)
	newName := strings.TrimSpace(f.Get("new_list"))
	switch {
	case listID > 0 && newName != "":
		f.Fail("new_list", "Choose a list or name a new one, not both.")
	case listID <= 0 && newName == "":
		f.Fail("list", "Choose the list to import into, or name a new one.")
	case newName != "":
		if _, _, err := store.CheckNamed(newName, "", store.MaxListName); err != nil {
			f.Fail("new_list", fmt.Sprintf("A list's name is at most %d characters.", store.MaxListName))
		}
	}
	file, err := h.importFile(r, s, f)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	if file != nil {
		defer file.close()
	} else if f.Errors["file"] == "" {
		f.Fail("file", "Choose a CSV file to upload.")
	}
	refuse := func() {
		if err := h.keepImportFile(r, s, f, file); err != nil {
			h.failFor(w, r, s, err)
			return
		}
		h.showImportForm(w, r, s, http.StatusUnprocessableEntity, f)
	}
	if !f.OK() {
		refuse()
		return
	}
	var created *store.List
	if newName != "" {
		created = &store.List{Name: newName}
		if err := h.Store.CreateList(ctx, created); err != nil {
			if f.Take(err) {
				f.Errors["new_list"] = f.Errors["name"]
				delete(f.Errors, "name")
				refuse()
				return
			}
			h.failFor(w, r, s, err)
			return
		}
		listID = created.ID
	}
	// A file refused whole leaves no new, empty list behind.
	undo := func() {
		if created != nil {
			if err := h.Store.DeleteList(ctx, created.ID); err != nil {
				h.Log.Error("remove the list made for a refused import", "list_id", created.ID, "err", err)
			}
		}
	}
	rows, err := countRows(file.data)
	if err == nil {
		_, err = file.data.Seek(0, io.SeekStart)
	}
	if err != nil {
		undo()
		h.failFor(w, r, s, err)
		return
	}
	imp, err := h.Imports.StartImport(ctx, file.data, audience.ImportRequest{ListID: listID, Filename: file.name, Encoding: f.Get("encoding")})
	if err != nil {
		undo()
		if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
			field := "file" // the encoding, the header and the rows are all the file's
			if e.Field == "list" || e.Field == "encoding" {
				field = e.Field
			}
			f.Fail(field, sentence(e.Message))
			refuse()
			return
		}
		h.failFor(w, r, s, err)
		return
	}
	if file.token != "" {
		if err := h.Store.DeleteKeptUpload(ctx, hashID(file.token)); err != nil {
			h.Log.Error("delete a kept upload", "err", err)
		}
	}
	http.Redirect(w, r, "/admin/imports/"+strconv.FormatInt(imp.ID, 10)+"?rows="+strconv.FormatInt(rows, 10), http.StatusSeeOther)
}

// How a file the import form was refused with is kept: for an hour at most
// (deleted when used, and expired ones at each keep), and only up to a size
// a database row holds without strain; a larger one is chosen again.
const (
	keptUploadTTL = time.Hour
	maxKeptUpload = 32 << 20
)

// importFile is the file an import reads: chosen in the form, or kept from
// an earlier refusal of it (token set).
type importFile struct {
	name  string
	data  io.ReadSeeker
	size  int64
	token string
	close func() error
}

// importFile opens the form's file: the one chosen, which replaces any
// kept one, or else the one kept under the form's "upload" token. Without
// either it returns nil; a token no longer kept is an error at the field.
func (h *Handler) importFile(r *http.Request, s *signedIn, f *Form) (*importFile, error) {
	ctx := r.Context()
	token := f.Get("upload")
	f.Values.Del("upload")
	f.Values.Del("upload_name")
	if file, hdr, err := r.FormFile("file"); err == nil {
		if token != "" {
			if err := h.Store.DeleteKeptUpload(ctx, hashID(token)); err != nil {
				file.Close()
				return nil, err
			}
		}
		return &importFile{name: filepath.Base(hdr.Filename), data: file, size: hdr.Size, close: file.Close}, nil
	}
	if token == "" {
		return nil, nil
	}
	u, err := h.Store.KeptUploadOf(ctx, hashID(token), s.User.ID, h.Now().Add(-keptUploadTTL))
	if errors.Is(err, store.ErrNotFound) {
		f.Fail("file", "The file uploaded before is no longer kept (files are kept for an hour): choose it again.")
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	f.Values.Set("upload", token)
	f.Values.Set("upload_name", u.Filename)
	return &importFile{name: u.Filename, data: bytes.NewReader(u.Data), size: int64(len(u.Data)), token: token,
		close: func() error { return nil }}, nil
}

// keepImportFile keeps the file of a refused form under a new token, which
// the form shown again carries, unless it is kept already; a file over
// maxKeptUpload is not kept, and the form says so.
func (h *Handler) keepImportFile(r *http.Request, s *signedIn, f *Form, file *importFile) error {
	if file == nil || file.token != "" {
		return nil
	}
	if file.size > maxKeptUpload {
		f.Values.Set("upload_dropped", file.name)
		return nil
	}
	if _, err := file.data.Seek(0, io.SeekStart); err != nil {
		return err
	}
	data, err := io.ReadAll(io.LimitReader(file.data, maxKeptUpload+1))
	if err != nil {
		return err
	}
	if len(data) > maxKeptUpload {
		f.Values.Set("upload_dropped", file.name)
		return nil
	}
	token := randomID()
	now := h.Now()
	if err := h.Store.KeepUpload(r.Context(), &store.KeptUpload{KeyHash: hashID(token), UserID: s.User.ID, Filename: file.name,
		Data: data, CreatedAt: now}, now.Add(-keptUploadTTL)); err != nil {
		return err
	}
	f.Values.Set("upload", token)
	f.Values.Set("upload_name", file.name)
	return nil
}

// countRows counts the lines of a file after its header: the rows a CSV has
// when no field spans lines, close enough for a progress bar.
func countRows(r io.Reader) (int64, error) {
	var n int64
	var last byte = '\n'
	buf := make([]byte, 64<<10)
	for {
		k, err := r.Read(buf)
		n += int64(bytes.Count(buf[:k], []byte{'\n'}))
		if k > 0 {
			last = buf[k-1]
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	if last != '\n' {
		n++ // a last line without its newline
	}
	return max(n-1, 0), nil
}

// importView is an import's progress, or its report once done.
type importView struct {
	Import   *store.Import
	List     string
	Expected int64 // rows the file was counted to have; 0: unknown
	Percent  int64
	Rejects  []store.ImportReject
	More     bool // rejects beyond those listed
}

var errEnough = errors.New("enough rejects")

// importReport shows a running import's progress, reloading itself, and a
// finished one's counts and first rejected rows.
func (h *Handler) importReport(w http.ResponseWriter, r *http.Request, s *signedIn) {
	ctx := r.Context()
	id, err := routeID(r, "import")
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	// An import whose process died shows as failed, not running for ever.
	if _, err := h.Store.FailStaleImports(ctx, h.Now()); err != nil {
		h.failFor(w, r, s, err)
		return
	}
	imp, err := h.Store.GetImport(ctx, id)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	v := importView{Import: imp}
	if imp.ListID != nil {
		if l, err := h.Store.GetList(ctx, *imp.ListID); err == nil {
			v.List = l.Name
		}
	}
	if n, err := strconv.ParseInt(r.URL.Query().Get("rows"), 10, 64); err == nil && n > 0 {
		v.Expected = n
		v.Percent = min(100, imp.RowsDone*100/n)
	}
	if imp.Status == store.ImportDone {
		v.Percent = 100
	}
	err = h.Store.EachImportReject(ctx, id, func(page []store.ImportReject) error {
		room := rejectsShown - len(v.Rejects)
		v.Rejects = append(v.Rejects, page[:min(room, len(page))]...)
		if len(page) > room {
			v.More = true
			return errEnough
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		h.failFor(w, r, s, err)
		return
	}
	title := "Import " + strconv.FormatInt(id, 10)
	if imp.Filename != "" {
		title = "Import of " + imp.Filename
	}
	vw := view{Title: title, Section: "Contacts", Data: v}
	if imp.Status == store.ImportRunning {
		vw.Refresh = refreshSeconds
	}
	h.render(w, r, s, http.StatusOK, "import.html", vw)
}

// importRejects downloads every rejected row of an import as CSV.
func (h *Handler) importRejects(w http.ResponseWriter, r *http.Request, s *signedIn) {
	id, err := routeID(r, "import")
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	if _, err := h.Store.GetImport(r.Context(), id); err != nil {
		h.failFor(w, r, s, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="import-`+strconv.FormatInt(id, 10)+`-rejects.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	if err := audience.WriteRejects(r.Context(), h.Store, w, id); err != nil {
		h.Log.Error("stream import rejects", "import_id", id, "err", err)
	}
}
