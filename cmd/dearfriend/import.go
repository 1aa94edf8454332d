package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dearfriend/dearfriend/pkg/audience"
	"github.com/dearfriend/dearfriend/pkg/config"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
)

const importUsage = `usage: dearfriend import FILE --list NAME [--encoding auto|utf-8|latin-1|windows-1252] [--mapping JSON] [--batch N]

Imports the contacts of a CSV file into a list (created when no list has
that name, and removed again if the file is refused), in the database of
DEARFRIEND_DATABASE_URL (default: the dev database ./data/dearfriend.db).
Columns are mapped by header (email, first_name, last_name, postal_code or zip,
region or state, country, time_zone, tags; others become custom fields);
--mapping '{"E-mail": "email", "Donated": "attributes.donated:number"}' maps
them explicitly, "-" ignores one. Rejected rows are listed with their line.
`

// importFile is the import command; it returns the exit code.
func importFile(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, importUsage) }
	list := fs.String("list", "", "the name of the list to import into")
	encoding := fs.String("encoding", "auto", "the file's encoding (auto: UTF-8, or Windows-1252 when the file is not valid UTF-8)")
	mapping := fs.String("mapping", "", `JSON {"Header": "field"}`)
	batch := fs.Int("batch", audience.DefaultBatchSize, "rows per transaction")
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	} else if fs.NArg() > 0 {
		fmt.Fprint(stderr, importUsage)
		return 2
	}
	if file == "" || *list == "" {
		fmt.Fprint(stderr, importUsage)
		return 2
	}
	var m audience.Mapping
	if *mapping != "" {
		if err := json.Unmarshal([]byte(*mapping), &m); err != nil {
			fmt.Fprintf(stderr, "dearfriend import: --mapping must be a JSON object of header to field: %v\n", err)
			return 2
		}
	}
	cfg, err := config.FromEnv(config.ModeDev, os.Getenv)
	if cfg.DatabaseURL == "" {
		fmt.Fprintf(stderr, "dearfriend import: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := store.Open(ctx, cfg.DatabaseURL, store.WithPool(cfg.DB))
	if err != nil {
		fmt.Fprintf(stderr, "dearfriend import: %v\n", err)
		return 1
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		fmt.Fprintf(stderr, "dearfriend import: %v\n", err)
		return 1
	}
	if err := runImport(ctx, st, file, *list, *encoding, m, *batch, stderr); err != nil {
		fmt.Fprintf(stderr, "dearfriend import: %v\n", err)
		if errs.CodeOf(err) == errs.Invalid || errs.CodeOf(err) == errs.NotFound {
			return 2
		}
		return 1
	}
	return 0
}

func runImport(ctx context.Context, st *store.Store, file, listName, encoding string, m audience.Mapping, batch int, stderr io.Writer) error {
	l, created, err := listNamed(ctx, st, listName, stderr)
	if err != nil {
		return err
	}
	info, err := os.Stat(file)
	if err != nil {
		return err
	}
	var read atomic.Int64
	job, err := audience.StartImport(ctx, st, audience.ImportRequest{
		ListID: l.ID, Filename: filepath.Base(file), Encoding: encoding, Mapping: m,
		Open: func() (io.ReadCloser, error) {
			f, err := os.Open(file)
			if err != nil {
				return nil, err
			}
			read.Store(0)
			return &countingFile{File: f, n: &read}, nil
		},
	})
	if err != nil {
		if created { // the file was refused whole: leave no empty list behind
			if derr := st.DeleteList(ctx, l.ID); derr != nil {
				return fmt.Errorf("%w (and removing the new list %q: %v)", err, listName, derr)
			}
		}
		return err
	}
	job.BatchSize = batch
	bar := newProgress(stderr, info.Size())
	err = job.Run(ctx, func(imp store.Import) { bar.update(read.Load(), imp) })
	imp := job.Import()
	bar.done(imp)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("import %d interrupted after %d rows; run the same command again to complete it", imp.ID, imp.RowsDone)
		}
		return fmt.Errorf("import %d failed: %w", imp.ID, err)
	}
	if imp.Rejected > 0 {
		printRejects(ctx, st, imp, stderr)
	}
	return nil
}

// listNamed returns the list called name, creating it when no list has that
// name; created says it did.
func listNamed(ctx context.Context, st *store.Store, name string, stderr io.Writer) (*store.List, bool, error) {
	l, err := st.ListNamed(ctx, name)
	if err == nil || errs.CodeOf(err) != errs.NotFound {
		return l, false, err
	}
	name, _, err = store.CheckNamed(name, "", store.MaxListName)
	if err != nil {
		return nil, false, errs.Field("--list", "a new list's name is required, at most %d characters", store.MaxListName)
	}
	l = &store.List{Name: name}
	if err := st.CreateList(ctx, l); err != nil {
		return nil, false, fmt.Errorf("create list %q: %w", name, err)
	}
	fmt.Fprintf(stderr, "created the list %q (id %d)\n", name, l.ID)
	return l, true, nil
}

// printRejects lists the first rejected rows of an import.
func printRejects(ctx context.Context, st *store.Store, imp store.Import, w io.Writer) {
	const show = 20
	shown := 0
	errStop := errors.New("enough")
	_ = st.EachImportReject(ctx, imp.ID, func(page []store.ImportReject) error {
		for _, r := range page {
			if shown == show {
				return errStop
			}
			fmt.Fprintf(w, "  line %d: %s\n", r.Line, r.Reason)
			shown++
		}
		return nil
	})
	if imp.Rejected > show {
		fmt.Fprintf(w, "  ... and %d more (GET /api/v1/imports/%d/rejects.csv)\n", imp.Rejected-show, imp.ID)
	}
}

type countingFile struct {
	*os.File
	n *atomic.Int64
}

func (f *countingFile) Read(p []byte) (int, error) {
	n, err := f.File.Read(p)
	f.n.Add(int64(n))
	return n, err
}

// progress draws an import's progress on stderr (bar): the share of the
// file read and the rows done.
type progress struct {
	bar   *bar
	size  int64
	start time.Time
}

func newProgress(w io.Writer, size int64) *progress {
	return &progress{bar: newBar(w), size: max(size, 1), start: time.Now()}
}

func (p *progress) line(read int64, imp store.Import) string {
	pct := min(100*read/p.size, 100)
	rate := float64(imp.RowsDone) / max(time.Since(p.start).Seconds(), 0.001)
	return fmt.Sprintf("%3d%% %d rows: %d imported, %d updated, %d rejected (%.0f rows/s)",
		pct, imp.RowsDone, imp.Imported, imp.Updated, imp.Rejected, rate)
}

func (p *progress) update(read int64, imp store.Import) {
	p.bar.update(read, p.size, p.line(read, imp))
}

func (p *progress) done(imp store.Import) {
	p.bar.finish(fmt.Sprintf("import %d %s: %d rows in %s: %d imported, %d updated, %d rejected; read as %s, %d regions written as state or province codes",
		imp.ID, imp.Status, imp.RowsDone, time.Since(p.start).Round(time.Millisecond), imp.Imported, imp.Updated, imp.Rejected,
		imp.Encoding, imp.RegionsNormalized))
}
