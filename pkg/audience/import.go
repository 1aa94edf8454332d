package audience

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// DefaultBatchSize is how many rows one import transaction writes. Measured
// with scripts/bench-import: larger batches gain little and hold locks longer.
const DefaultBatchSize = 2000

// ImportRequest is a CSV file to import into a list.
type ImportRequest struct {
	ListID   int64
	Filename string
	Encoding string // as given; see ParseEncoding
	Mapping  Mapping
	// Open opens the file from its start; it is read twice: once to check
	// it, once to import it.
	Open func() (io.ReadCloser, error)
}

// Job is an import that passed its checks and is recorded as running.
type Job struct {
	st        *store.Store
	imp       store.Import
	enc       string
	mapping   Mapping
	open      func() (io.ReadCloser, error)
	BatchSize int
}

// StartImport checks the request: the list exists, the whole file is CSV
// text in its encoding (a streamed pass), its header maps; then it records
// the import as running. A refused file leaves nothing written.
func StartImport(ctx context.Context, st *store.Store, req ImportRequest) (*Job, error) {
	enc, err := ParseEncoding("encoding", req.Encoding)
	if err != nil {
		return nil, err
	}
	if _, err := st.GetList(ctx, req.ListID); err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return nil, errs.Field("list", "list %d does not exist", req.ListID)
		}
		return nil, err
	}
	if enc, err = CheckEncoded(req.Open, enc); err != nil {
		return nil, err
	}
	if err := withFile(req.Open, func(r io.Reader) error {
		_, err := NewReader(r, enc, req.Mapping)
		return err
	}); err != nil {
		return nil, err
	}
	j := &Job{st: st, enc: enc, mapping: req.Mapping, open: req.Open, BatchSize: DefaultBatchSize,
		imp: store.Import{ListID: &req.ListID, Filename: req.Filename, Encoding: enc}}
	if err := st.CreateImport(ctx, &j.imp); err != nil {
		return nil, err
	}
	return j, nil
}

func withFile(open func() (io.ReadCloser, error), fn func(io.Reader) error) error {
	f, err := open()
	if err != nil {
		return fmt.Errorf("open import file: %w", err)
	}
	defer f.Close()
	return fn(f)
}

// Import is the import record as it stands.
func (j *Job) Import() store.Import { return j.imp }

// Run reads the file and writes it batch by batch, each batch in one
// transaction, then marks the import done; on any error, a cancelled ctx
// included, it marks it failed with the reason. progress, when not nil, is
// called after each batch.
func (j *Job) Run(ctx context.Context, progress func(store.Import)) (err error) {
	defer func() {
		status, reason := store.ImportDone, ""
		if err != nil {
			status, reason = store.ImportFailed, failReason(ctx, err)
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if ferr := j.st.FinishImport(fctx, j.imp.ID, status, reason); ferr != nil && err == nil {
			err = ferr
		}
		j.st.AnalyzeAudience(fctx, j.imp.Imported) // a failed import's batches stay written too
		j.imp.Status, j.imp.Error = status, reason
	}()
	stopBeat := j.heartbeat(ctx)
	defer stopBeat()

	f, err := j.open()
	if err != nil {
		return fmt.Errorf("open import file: %w", err)
	}
	defer f.Close()
	rd, err := NewReader(f, j.enc, j.mapping)
	if err != nil {
		return err
	}
	source := "import:" + j.imp.Filename
	size := max(j.BatchSize, 1)
	var b store.ImportBatch
	flush := func() error {
		b.RowsDone, b.RegionsNormalized, b.RegionChanges = rd.Rows(), rd.RegionsNormalized(), rd.RegionChanges()
		c, err := j.st.ApplyImportBatch(ctx, &j.imp, source, b)
		if err != nil {
			return err
		}
		j.imp.RowsDone, j.imp.RegionsNormalized, j.imp.RegionChanges = b.RowsDone, b.RegionsNormalized, b.RegionChanges
		j.imp.Imported += c.Imported
		j.imp.Updated += c.Updated
		j.imp.Rejected += c.Rejected
		b = store.ImportBatch{Rows: b.Rows[:0], Rejects: b.Rejects[:0]}
		if progress != nil {
			progress(j.imp)
		}
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if rec.Reject != "" {
			b.Rejects = append(b.Rejects, store.ImportReject{Line: rec.Line, Reason: rec.Reject, Raw: rec.Raw})
		} else {
			b.Rows = append(b.Rows, rec.Row)
		}
		if len(b.Rows)+len(b.Rejects) >= size {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// heartbeat keeps the import's heartbeat fresh between batches, so a slow
// batch is not taken for a dead process; the returned func stops it.
func (j *Job) heartbeat(ctx context.Context) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(store.ImportStale / 4)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				_ = j.st.ImportHeartbeat(ctx, j.imp.ID)
			}
		}
	}()
	return func() { cancel(); <-done }
}

func failReason(ctx context.Context, err error) string {
	if ctx.Err() != nil {
		return "interrupted before the end of the file; import the file again to complete it"
	}
	if e, ok := errs.As(err); ok {
		return e.Error()
	}
	return "internal error (see the server log)"
}
