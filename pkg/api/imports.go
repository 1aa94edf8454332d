package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dearfriend/dearfriend/pkg/audience"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// maxImportBytes bounds an uploaded CSV file.
const maxImportBytes = 2 << 30

// jobs are the imports this process runs in the background.
type jobs struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newJobs() *jobs {
	ctx, cancel := context.WithCancel(context.Background())
	return &jobs{ctx: ctx, cancel: cancel}
}

func (j *jobs) start(fn func(ctx context.Context)) {
	j.wg.Add(1)
	go func() {
		defer j.wg.Done()
		fn(j.ctx)
	}()
}

// Close stops the imports still running, which are marked failed (importing
// the file again completes them), and waits for them.
func (a *API) Close() {
	a.jobs.cancel()
	a.jobs.wg.Wait()
}

// createImport takes a multipart upload: file (the CSV), list (an id or a
// name), and optional mapping (JSON {"Header": "field"}) and encoding. The
// file is spooled to disk and checked whole before the import is recorded;
// rows are then written in the background: poll GET /api/v1/imports/{id}.
func (a *API) createImport(w http.ResponseWriter, r *http.Request) error {
	mr, err := r.MultipartReader()
	if err != nil {
		return errs.New(errs.Invalid, "the body must be multipart/form-data with a file part")
	}
	var (
		path                     string
		filename                 string
		list, mapping, encodingV string
	)
	defer func() {
		if path != "" {
			os.Remove(path)
		}
	}()
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return multipartError(err)
		}
		switch name := part.FormName(); name {
		case "file":
			if path != "" {
				return errs.Field("file", "only one file per import")
			}
			if path, err = spool(part); err != nil {
				return multipartError(err)
			}
			filename = filepath.Base(part.FileName())
		case "list", "mapping", "encoding":
			b, err := io.ReadAll(io.LimitReader(part, 64<<10))
			if err != nil {
				return multipartError(err)
			}
			switch name {
			case "list":
				list = string(b)
			case "mapping":
				mapping = string(b)
			default:
				encodingV = string(b)
			}
		default:
			return errs.Field(name, "unknown form field: send file, list, mapping and encoding")
		}
	}
	if path == "" {
		return errs.Field("file", "is required: the CSV file as a multipart file part")
	}
	listID, err := a.listRef(r.Context(), list)
	if err != nil {
		return err
	}
	var m audience.Mapping
	if strings.TrimSpace(mapping) != "" {
		if err := json.Unmarshal([]byte(mapping), &m); err != nil {
			return errs.Field("mapping", "must be a JSON object of column header to field, like {\"E-mail\": \"email\"}")
		}
	}
	imp, err := a.startImport(r.Context(), path, audience.ImportRequest{ListID: listID, Filename: filename, Encoding: encodingV, Mapping: m})
	if err != nil {
		return err
	}
	path = "" // the job removes it when done
	writeJSON(w, http.StatusAccepted, imp)
	return nil
}

// StartImport spools file to disk, checks it whole and records the import,
// then writes its rows in the background as POST /api/v1/imports does: the
// admin UI's upload. req.Open is set here.
func (a *API) StartImport(ctx context.Context, file io.Reader, req audience.ImportRequest) (store.Import, error) {
	path, err := spool(file)
	if err != nil {
		return store.Import{}, err
	}
	imp, err := a.startImport(ctx, path, req)
	if err != nil {
		os.Remove(path)
	}
	return imp, err
}

// startImport records an import of the CSV file at path and runs it in the
// background. Once it returns without error the job owns the file and
// removes it when done.
func (a *API) startImport(ctx context.Context, path string, req audience.ImportRequest) (store.Import, error) {
	if req.Filename == "." || req.Filename == "/" {
		req.Filename = ""
	}
	req.Filename = req.Filename[:min(len(req.Filename), 200)]
	req.Open = func() (io.ReadCloser, error) { return os.Open(path) }
	job, err := audience.StartImport(ctx, a.store, req)
	if err != nil {
		return store.Import{}, err
	}
	a.jobs.start(func(ctx context.Context) {
		defer os.Remove(path)
		if err := job.Run(ctx, nil); err != nil {
			a.log.Error("import failed", "import_id", job.Import().ID, "err", err)
		}
	})
	return job.Import(), nil
}

// spool copies an uploaded file to a temporary file and returns its path.
func spool(file io.Reader) (string, error) {
	f, err := os.CreateTemp("", "dearfriend-import-*.csv")
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, file); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// multipartError keeps a too-large body a 413 and makes other read errors a 422.
func multipartError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return err
	}
	return errs.New(errs.Invalid, "the multipart body cannot be read: %v", err)
}

// listRef resolves the list form field: a list id or a list name.
func (a *API) listRef(ctx context.Context, ref string) (int64, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return 0, errs.Field("list", "is required: the id or name of the list to import into")
	}
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		if _, err := a.store.GetList(ctx, id); err != nil {
			if errs.CodeOf(err) == errs.NotFound {
				return 0, errs.Field("list", "list %d does not exist", id)
			}
			return 0, err
		}
		return id, nil
	}
	l, err := a.store.ListNamed(ctx, ref)
	if err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return 0, errs.Field("list", "no list is named %q", ref)
		}
		return 0, err
	}
	return l.ID, nil
}

func (a *API) getImport(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	// An import whose process died shows as failed, not running for ever.
	if _, err := a.store.FailStaleImports(r.Context(), time.Now()); err != nil {
		return err
	}
	imp, err := a.store.GetImport(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, imp)
	return nil
}

// importRejects streams the rejected rows of an import as CSV: line, reason, row.
func (a *API) importRejects(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := a.store.GetImport(r.Context(), id); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="import-`+strconv.FormatInt(id, 10)+`-rejects.csv"`)
	if err := audience.WriteRejects(r.Context(), a.store, w, id); err != nil {
		a.log.Error("stream import rejects", "import_id", id, "err", err)
	}
	return nil
}
