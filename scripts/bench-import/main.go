// Command bench-import measures a CSV import of -n generated rows into a new
// list of an empty database: SQLite (a temporary file) and, when -pg names a
// PostgreSQL server (default DEARFRIEND_TEST_DATABASE_URL), a database created
// and dropped for the run. The file is generated on the fly, never held whole
// in memory nor written to disk; it goes through the same path as
// `dearfriend import`: a checking pass, then the import in batches. It prints
// rows per second and the peak resident memory of this process (run one
// backend per process, -only, to read each peak apart).
//
//	go run ./scripts/bench-import -n 1000000 -only sqlite
//	go run ./scripts/bench-import -n 1000000 -only postgres
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/dearfriend/dearfriend/pkg/audience"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/scripts/internal/benchdb"
)

func main() {
	n := flag.Int("n", 1000000, "rows in the generated CSV")
	batch := flag.Int("batch", audience.DefaultBatchSize, "rows per transaction")
	pg := flag.String("pg", os.Getenv("DEARFRIEND_TEST_DATABASE_URL"), "PostgreSQL admin URL (a database is created and dropped)")
	only := flag.String("only", "", "sqlite or postgres (default: both)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fail(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if *only != "postgres" {
		dir, err := os.MkdirTemp("", "bench-import")
		if err != nil {
			fail(err)
		}
		err = bench("sqlite", filepath.Join(dir, "bench.db"), *n, *batch)
		os.RemoveAll(dir)
		if err != nil {
			fail(err)
		}
	}
	if *only == "sqlite" {
		return
	}
	if *pg == "" {
		fmt.Println("postgres: skipped (give -pg or set DEARFRIEND_TEST_DATABASE_URL)")
		return
	}
	dsn, err := benchdb.Create(*pg, "dfbench_import")
	if err != nil {
		fail(err)
	}
	err = bench("postgres", dsn, *n, *batch)
	benchdb.Drop(*pg, dsn)
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench-import:", err)
	os.Exit(1)
}

func bench(name, dsn string, n, batch int) error {
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	l := &store.List{Name: "bench"}
	if err := st.CreateList(ctx, l); err != nil {
		return err
	}
	start := time.Now()
	job, err := audience.StartImport(ctx, st, audience.ImportRequest{ListID: l.ID, Filename: "bench.csv",
		Open: func() (io.ReadCloser, error) { return io.NopCloser(&generator{n: n}), nil }})
	if err != nil {
		return err
	}
	checked := time.Since(start)
	job.BatchSize = batch
	var peakHeap uint64
	var ms runtime.MemStats
	if err := job.Run(ctx, func(imp store.Import) {
		if imp.RowsDone%(50*int64(batch)) == 0 {
			runtime.ReadMemStats(&ms)
			peakHeap = max(peakHeap, ms.HeapInuse)
		}
	}); err != nil {
		return err
	}
	total := time.Since(start)
	imp := job.Import()
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Printf("%-8s %d rows (batch %d): check %s, import %s: %.0f rows/s overall (%.0f rows/s writing); imported %d, rejected %d; peak RSS %d MiB, sampled heap %d MiB\n",
		name, imp.RowsDone, batch, checked.Round(time.Millisecond), total.Round(time.Millisecond),
		float64(imp.RowsDone)/total.Seconds(), float64(imp.RowsDone)/(total-checked).Seconds(),
		imp.Imported, imp.Rejected, ru.Maxrss/1024, peakHeap>>20)
	return nil
}

// generator is a CSV of n rows made as it is read: the same bytes every time.
type generator struct {
	n, i int
	buf  []byte
}

var (
	firsts = []string{"Jane", "José", "Amara", "Wei", "Sam", "Priya", "Olu", "Maria"}
	lasts  = []string{"Doe", "García", "Okafor", "Chen", "Smith", "Patel", "Adeyemi", "Rossi"}
	states = []string{"NY", "NJ", "CT", "CA", "TX", "MA", "IL", "WA"}
	tags   = []string{"", "donor", "volunteer", "donor, volunteer"}
)

func (g *generator) Read(p []byte) (int, error) {
	if g.i == 0 && len(g.buf) == 0 {
		g.buf = append(g.buf, "email,first_name,last_name,zip,state,tags,signup_source\n"...)
	}
	for len(g.buf) < len(p) && g.i < g.n {
		i := g.i
		g.buf = fmt.Appendf(g.buf, "supporter%07d@example.org,%s,%s,%05d,%s,%q,%s\n", i, firsts[i%8], lasts[i/8%8],
			i%100000, states[i/64%8], tags[i%4], strings.Repeat("web", 1+i%2))
		g.i++
	}
	if len(g.buf) == 0 {
		return 0, io.EOF
	}
	k := copy(p, g.buf)
	g.buf = g.buf[:copy(g.buf, g.buf[k:])]
	return k, nil
}
