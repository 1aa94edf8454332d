package brand_test

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/brand"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// BenchmarkServeMedia serves a 50 KB image at /media/: from the process's
// memory (every load after the first within a minute) and from the
// database (the first, or a library that keeps nothing). A run on
// PostgreSQL: DEARFRIEND_TEST_DATABASE_URL set and -bench with
// -benchtime; the README gives the command.
func BenchmarkServeMedia(b *testing.B) {
	for _, db := range testenv.Databases() {
		b.Run(db.Name, func(b *testing.B) {
			st := testenv.Store(b, db.Migrated(b))
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			src := brand.NewSource(st, brand.Brand{OrgName: "River Alliance", PostalAddress: "1 Main St"}, brand.DefaultTTL)
			lib := brand.NewLibrary(st, src, "https://act.example.org", log)
			data := append(pngImage(b, 8, 8), make([]byte, 50<<10)...)
			rand.Read(data[len(data)-50<<10:])
			m, _, err := lib.Add(context.Background(), "photo.png", data, "bench")
			if err != nil {
				b.Fatal(err)
			}
			path := brand.MediaPath(m.SHA256, m.ContentType)
			serve := func(b *testing.B, lib *brand.Library) {
				mux := http.NewServeMux()
				lib.Routes(mux)
				rec := httptest.NewRecorder()
				mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
				if rec.Code != 200 || rec.Body.Len() != len(data) {
					b.Fatalf("GET %s: %d, %d bytes", path, rec.Code, rec.Body.Len())
				}
			}
			b.Run("memory", func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					serve(b, lib)
				}
			})
			b.Run("database", func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					serve(b, brand.NewLibrary(st, src, "https://act.example.org", log))
				}
			})
		})
	}
}
