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

func (h *Handler) showImportForm(w http.ResponseWriter, r *http.Request, s *signedIn, status int, f *Form) {
	ls, err := h.Store.ListLists(r.Context())
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	h.render(w, r, s, status, "import_new.html", view{Title: "Import contacts", Section: "Contacts", Form: f, Data: ls})
}

// createImport checks the uploaded file whole with the API's rules
// (audience.StartImport, through the API's runner) and sends the browser to
// the import's progress page; the rows are written in the background.
func (h *Handler) createImport(w http.ResponseWriter, r *http.Request, s *signedIn) {
	if h.Imports == nil {
		h.problem(w, r, s, http.StatusNotFound, "Imports are not available on this server.")
		return
	}
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
	file, hdr, err := r.FormFile("file")
	if err != nil {
		f.Fail("file", "Choose a CSV file to upload.")
	} else {
		defer file.Close()
	}
	if !f.OK() {
		h.showImportForm(w, r, s, http.StatusUnprocessableEntity, f)
		return
	}
	var created *store.List
	if newName != "" {
		created = &store.List{Name: newName}
		if err := h.Store.CreateList(r.Context(), created); err != nil {
			if f.Take(err) {
				f.Errors["new_list"] = f.Errors["name"]
				delete(f.Errors, "name")
				h.showImportForm(w, r, s, http.StatusUnprocessableEntity, f)
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
			if err := h.Store.DeleteList(r.Context(), created.ID); err != nil {
				h.Log.Error("remove the list made for a refused import", "list_id", created.ID, "err", err)
			}
		}
	}
	rows, err := countRows(file)
	if err == nil {
		_, err = file.Seek(0, io.SeekStart)
	}
	if err != nil {
		undo()
		h.failFor(w, r, s, err)
		return
	}
	imp, err := h.Imports.StartImport(r.Context(), file, audience.ImportRequest{ListID: listID, Filename: filepath.Base(hdr.Filename), Encoding: f.Get("encoding")})
	if err != nil {
		undo()
		if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
			field := "file" // the encoding, the header and the rows are all the file's
			if e.Field == "list" || e.Field == "encoding" {
				field = e.Field
			}
			f.Fail(field, sentence(e.Message))
			h.showImportForm(w, r, s, http.StatusUnprocessableEntity, f)
			return
		}
		h.failFor(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/admin/imports/"+strconv.FormatInt(imp.ID, 10)+"?rows="+strconv.FormatInt(rows, 10), http.StatusSeeOther)
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
