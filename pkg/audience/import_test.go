package audience_test

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/audience"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

func mustList(tb testing.TB, s *store.Store, name string) int64 {
	tb.Helper()
	l := &store.List{Name: name}
	if err := s.CreateList(context.Background(), l); err != nil {
		tb.Fatal(err)
	}
	return l.ID
}

func request(listID int64, file string, m audience.Mapping) audience.ImportRequest {
	return audience.ImportRequest{ListID: listID, Filename: "test.csv", Mapping: m,
		Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(file)), nil }}
}

// mustImport runs an import to its end and returns its record.
func mustImport(tb testing.TB, s *store.Store, req audience.ImportRequest, batch int) store.Import {
	tb.Helper()
	job, err := audience.StartImport(context.Background(), s, req)
	if err != nil {
		tb.Fatal(err)
	}
	job.BatchSize = batch
	if err := job.Run(context.Background(), nil); err != nil {
		tb.Fatal(err)
	}
	imp, err := s.GetImport(context.Background(), job.Import().ID)
	if err != nil {
		tb.Fatal(err)
	}
	return *imp
}

// contactState is what an import leaves of a contact.
type contactState struct {
	Email, FirstName, LastName, PostalCode, Status string
	Attributes                                     map[string]any
	Tags                                           []string
}

func mustState(tb testing.TB, s *store.Store) []contactState {
	tb.Helper()
	var out []contactState
	err := s.EachContact(context.Background(), nil, func(page []store.TaggedContact) error {
		for _, c := range page {
			out = append(out, contactState{c.Email, c.FirstName, c.LastName, c.PostalCode, c.Status, c.Attributes, c.Tags})
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Email < out[j].Email })
	return out
}

func countMembers(tb testing.TB, s *store.Store, listID int64) int64 {
	tb.Helper()
	n, err := s.CountListMembers(context.Background(), listID)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// TestImport imports a file with good and bad rows into a list holding
// contacts that left: the good rows land, each bad row is reported by line,
// and nobody who unsubscribed, bounced or is suppressed becomes mailable.
func TestImport(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustStore(t, dsn)
		ctx := context.Background()
		listID := mustList(t, s, "members")
		if _, err := s.InsertContacts(ctx, []store.Contact{
			{Email: "gone@example.org", FirstName: "Old", Status: store.ContactUnsubscribed},
			{Email: "kept@example.org", FirstName: "Kept", LastName: "Name", Attributes: map[string]any{"a": "1"}},
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddSuppressions(ctx, []store.Suppression{{Email: "@blocked.example", Reason: "test"}}); err != nil {
			t.Fatal(err)
		}
		file := "email,first_name,last_name,zip,tags,b\r\n" +
			"new@example.org,New,Person,02134,\"x, y\",2\r\n" +
			"gone@EXAMPLE.org,Back,,,,\r\n" +
			"kept@EXAMPLE.org,,Renamed,,y,3\r\n" +
			"bad-address,Nope,,,,\r\n" +
			"short@example.org\r\n" +
			"who@blocked.example,Blocked,,,,\r\n" +
			"drop@example.org,'; DROP TABLE contacts; --,,,,\r\n" +
			"new@example.org,Again,,,,\r\n"
		imp := mustImport(t, s, request(listID, file, nil), 3)

		gotCounts := [4]int64{imp.RowsDone, imp.Imported, imp.Updated, imp.Rejected}
		if want := [4]int64{8, 3, 2, 3}; gotCounts != want || imp.Status != store.ImportDone {
			t.Errorf("import %s rows/imported/updated/rejected = %v, want done %v", imp.Status, gotCounts, want)
		}
		var rejects []store.ImportReject
		if err := s.EachImportReject(ctx, imp.ID, func(p []store.ImportReject) error { rejects = append(rejects, p...); return nil }); err != nil {
			t.Fatal(err)
		}
		wantRejects := []store.ImportReject{
			{ImportID: imp.ID, Line: 5, Reason: `column "email": "bad-address" is not a valid email address`, Raw: "bad-address,Nope,,,,"},
			{ImportID: imp.ID, Line: 6, Reason: "has 1 fields, the header has 6", Raw: "short@example.org"},
			{ImportID: imp.ID, Line: 9, Reason: "repeats line 2: the same address in any letter case; only the first row is imported", Raw: "new@example.org,Again,,,,"},
		}
		if diff := cmp.Diff(wantRejects, rejects); diff != "" {
			t.Errorf("rejects (-want +got):\n%s", diff)
		}
		want := []contactState{
			{Email: "drop@example.org", FirstName: "'; DROP TABLE contacts; --", Status: store.ContactSubscribed, Attributes: map[string]any{}},
			{Email: "gone@example.org", FirstName: "Back", Status: store.ContactUnsubscribed, Attributes: map[string]any{}},
			{Email: "kept@example.org", FirstName: "Kept", LastName: "Renamed", Status: store.ContactSubscribed, Attributes: map[string]any{"a": "1", "b": "3"}, Tags: []string{"y"}},
			{Email: "new@example.org", FirstName: "New", LastName: "Person", PostalCode: "02134", Status: store.ContactSubscribed, Attributes: map[string]any{"b": "2"}, Tags: []string{"x", "y"}},
			{Email: "who@blocked.example", FirstName: "Blocked", Status: store.ContactSubscribed, Attributes: map[string]any{}},
		}
		if diff := cmp.Diff(want, mustState(t, s)); diff != "" {
			t.Errorf("contacts (-want +got):\n%s", diff)
		}
		// The unsubscribed gone@ is updated but stays unsubscribed. The
		// suppressed domain is imported but never mailed: the campaign
		// snapshot leaves it out.
		if sup, err := s.IsSuppressed(ctx, "who@blocked.example"); err != nil || !sup {
			t.Errorf("who@blocked.example suppressed = %v, %v; want true", sup, err)
		}
		if n := countMembers(t, s, listID); n != 5 {
			t.Errorf("list members = %d, want 5", n)
		}
	})
}

// TestImportRefusedWritesNothing checks that a refused file, an unknown list
// or a bad mapping leave no import and no contact behind.
func TestImportRefusedWritesNothing(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustStore(t, dsn)
		listID := mustList(t, s, "members")
		tests := []struct {
			name      string
			req       audience.ImportRequest
			wantField string
		}{
			{"binary", request(listID, "email\na@example.org\n\x00\x01\x02PK\x03\x04", nil), "file"},
			{"unknown list", request(listID+100, "email\na@example.org\n", nil), "list"},
			{"unknown mapping field", request(listID, "Mail\na@example.org\n", audience.Mapping{"Mail": "e-mail"}), "mapping.Mail"},
			{"unknown encoding", audience.ImportRequest{ListID: listID, Encoding: "ebcdic"}, "encoding"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := audience.StartImport(context.Background(), s, tt.req)
				if e, ok := errs.As(err); !ok || e.Code != errs.Invalid || e.Field != tt.wantField {
					t.Fatalf("got %v, want an invalid error on %s", err, tt.wantField)
				}
			})
		}
		if n, err := s.CountContacts(context.Background()); err != nil || n != 0 {
			t.Errorf("contacts = %d, %v; want 0", n, err)
		}
		if _, err := s.GetImport(context.Background(), 1); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("an import was recorded: %v", err)
		}
	})
}

// TestImportInterrupted cancels an import after a few batches: every row
// written is whole, the import is failed, and running the file again gives
// the same contacts as one uninterrupted run.
func TestImportInterrupted(t *testing.T) {
	var b strings.Builder
	b.WriteString("email,first_name,last_name,zip,tags,score\n")
	const rows = 500
	for i := range rows {
		fmt.Fprintf(&b, "p%04d@example.org,First%d,Last%d,%05d,t%d,%d\n", i, i, i, i, i%3, i)
	}
	file := b.String()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustStore(t, dsn)
		listID := mustList(t, s, "members")
		ctx, cancel := context.WithCancel(context.Background())
		job, err := audience.StartImport(ctx, s, request(listID, file, nil))
		if err != nil {
			t.Fatal(err)
		}
		job.BatchSize = 40
		batches := 0
		err = job.Run(ctx, func(store.Import) {
			if batches++; batches == 3 {
				cancel()
			}
		})
		if err == nil {
			t.Fatal("the interrupted import returned no error")
		}
		imp, err := s.GetImport(context.Background(), job.Import().ID)
		if err != nil {
			t.Fatal(err)
		}
		if imp.Status != store.ImportFailed || imp.RowsDone != 120 || imp.Imported != 120 {
			t.Errorf("interrupted import: status %s, rows %d, imported %d; want failed, 120, 120", imp.Status, imp.RowsDone, imp.Imported)
		}
		partial := mustState(t, s)
		if len(partial) != 120 {
			t.Fatalf("%d contacts after the interruption, want the 120 of three whole batches", len(partial))
		}
		for _, c := range partial {
			var i int
			fmt.Sscanf(c.Email, "p%04d@", &i)
			if c.FirstName != fmt.Sprint("First", i) || c.LastName != fmt.Sprint("Last", i) || len(c.Tags) != 1 || c.Attributes["score"] != fmt.Sprint(i) {
				t.Fatalf("a half-written contact: %+v", c)
			}
		}

		again := mustImport(t, s, request(listID, file, nil), 40)
		if again.Imported != rows-120 || again.Updated != 120 {
			t.Errorf("re-run imported %d, updated %d; want %d, 120", again.Imported, again.Updated, rows-120)
		}
		fresh := mustStore(t, testenv.SQLite(t))
		mustImport(t, fresh, request(mustList(t, fresh, "members"), file, nil), 1000)
		if diff := cmp.Diff(mustState(t, fresh), mustState(t, s)); diff != "" {
			t.Errorf("interrupted + re-run differs from one run (-one +two):\n%s", diff)
		}
		if n := countMembers(t, s, listID); n != rows {
			t.Errorf("list members = %d, want %d", n, rows)
		}
	})
}

// TestFailStaleImports checks that a running import whose heartbeat stopped
// (its process was killed) is marked failed, and a live one is not.
func TestFailStaleImports(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustStore(t, dsn)
		ctx := context.Background()
		listID := mustList(t, s, "members")
		job, err := audience.StartImport(ctx, s, request(listID, "email\na@example.org\n", nil))
		if err != nil {
			t.Fatal(err)
		}
		if n, err := s.FailStaleImports(ctx, time.Now()); err != nil || n != 0 {
			t.Fatalf("a live import was failed: %d, %v", n, err)
		}
		if n, err := s.FailStaleImports(ctx, time.Now().Add(store.ImportStale+time.Second)); err != nil || n != 1 {
			t.Fatalf("stale imports failed = %d, %v; want 1", n, err)
		}
		imp, err := s.GetImport(ctx, job.Import().ID)
		if err != nil || imp.Status != store.ImportFailed || !strings.Contains(imp.Error, "interrupted") {
			t.Fatalf("got %+v, %v; want failed as interrupted", imp, err)
		}
	})
}

// TestImportReportsRepeatedRows imports a file holding one person three
// times in three letter cases, across batches: the first row is imported,
// the others are reported by line, and an existing contact in another case
// is updated, not doubled.
func TestImportReportsRepeatedRows(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustStore(t, dsn)
		ctx := context.Background()
		listID := mustList(t, s, "members")
		if _, err := s.InsertContacts(ctx, []store.Contact{{Email: "Known@example.org", FirstName: "Old"}}); err != nil {
			t.Fatal(err)
		}
		file := "email,first_name\n" +
			"CaseTest@example.org,First\n" +
			"casetest@example.org,Second\n" +
			"known@EXAMPLE.org,Kim\n" +
			"other@example.org,Other\n" +
			"CASETEST@EXAMPLE.ORG,Third\n"
		imp := mustImport(t, s, request(listID, file, nil), 2)
		gotCounts := [4]int64{imp.RowsDone, imp.Imported, imp.Updated, imp.Rejected}
		if want := [4]int64{5, 2, 1, 2}; gotCounts != want {
			t.Errorf("rows/imported/updated/rejected = %v, want %v", gotCounts, want)
		}
		var rejects []store.ImportReject
		if err := s.EachImportReject(ctx, imp.ID, func(p []store.ImportReject) error { rejects = append(rejects, p...); return nil }); err != nil {
			t.Fatal(err)
		}
		const why = "repeats line 2: the same address in any letter case; only the first row is imported"
		wantRejects := []store.ImportReject{
			{ImportID: imp.ID, Line: 3, Reason: why, Raw: "casetest@example.org,Second"},
			{ImportID: imp.ID, Line: 6, Reason: why, Raw: "CASETEST@EXAMPLE.ORG,Third"},
		}
		if diff := cmp.Diff(wantRejects, rejects); diff != "" {
			t.Errorf("rejects (-want +got):\n%s", diff)
		}
		want := []contactState{
			{Email: "CaseTest@example.org", FirstName: "First", Status: store.ContactSubscribed, Attributes: map[string]any{}},
			{Email: "Known@example.org", FirstName: "Kim", Status: store.ContactSubscribed, Attributes: map[string]any{}},
			{Email: "other@example.org", FirstName: "Other", Status: store.ContactSubscribed, Attributes: map[string]any{}},
		}
		if diff := cmp.Diff(want, mustState(t, s)); diff != "" {
			t.Errorf("contacts (-want +got):\n%s", diff)
		}
		if n := countMembers(t, s, listID); n != 3 {
			t.Errorf("list members = %d, want 3", n)
		}
	})
}
