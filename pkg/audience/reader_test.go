package audience

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// readAll reads every record of a file, checked first as an import does.
func readAll(tb testing.TB, file, enc string, m Mapping) ([]Record, error) {
	tb.Helper()
	rd, err := readerOf(file, enc, m)
	if err != nil {
		return nil, err
	}
	var out []Record
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, rec)
	}
}

// readerOf checks file in enc (Auto recognizing it) and opens a Reader on it.
func readerOf(file, enc string, m Mapping) (*Reader, error) {
	enc, err := CheckEncoded(func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(file)), nil }, enc)
	if err != nil {
		return nil, err
	}
	return NewReader(strings.NewReader(file), enc, m)
}

func TestReaderRows(t *testing.T) {
	jane := store.ImportRow{Line: 2, Email: "jane@example.org", FirstName: "Jane", LastName: "Doe"}
	tests := []struct {
		name string
		file string
		enc  string
		m    Mapping
		want []Record
	}{
		{"utf-8 with BOM and CRLF", "\xEF\xBB\xBFemail,first_name,last_name\r\njane@Example.ORG,Jane,Doe\r\n", "", nil,
			[]Record{{Line: 2, Row: jane}}},
		{"quoted field with a newline", "email,first_name,notes\njane@example.org,Jane,\"line one\nline two\"\nx@example.org,X,\n", "", nil,
			[]Record{
				{Line: 2, Row: store.ImportRow{Line: 2, Email: "jane@example.org", FirstName: "Jane", Attributes: map[string]any{"notes": "line one\nline two"}}},
				{Line: 4, Row: store.ImportRow{Line: 4, Email: "x@example.org", FirstName: "X"}},
			}},
		{"latin-1", "email,first_name\njos\xe9@example.org,Jos\xe9\n", "latin-1", nil,
			[]Record{{Line: 2, Row: store.ImportRow{Line: 2, Email: "josé@example.org", FirstName: "José"}}}},
		{"latin-1 recognized when not UTF-8", "email,first_name\njos\xe9@example.org,Jos\xe9\n", "", nil,
			[]Record{{Line: 2, Row: store.ImportRow{Line: 2, Email: "josé@example.org", FirstName: "José"}}}},
		{"windows-1252 recognized when not UTF-8", "email,last_name\nmo@example.org,O\x92Brien\n", "auto", nil,
			[]Record{{Line: 2, Row: store.ImportRow{Line: 2, Email: "mo@example.org", LastName: "O’Brien"}}}},
		{"UTF-8 stays UTF-8", "email,first_name\njose@example.org,Jos\u00e9\n", "", nil,
			[]Record{{Line: 2, Row: store.ImportRow{Line: 2, Email: "jose@example.org", FirstName: "José"}}}},
		{"state and province names as codes", "email,state\na@example.org,New York\nb@example.org,new  york\nc@example.org,ny\nd@example.org,Qu\u00e9bec\ne@example.org,Bavaria\n", "", nil,
			[]Record{
				{Line: 2, Row: store.ImportRow{Line: 2, Email: "a@example.org", Region: "NY"}},
				{Line: 3, Row: store.ImportRow{Line: 3, Email: "b@example.org", Region: "NY"}},
				{Line: 4, Row: store.ImportRow{Line: 4, Email: "c@example.org", Region: "NY"}},
				{Line: 5, Row: store.ImportRow{Line: 5, Email: "d@example.org", Region: "QC"}},
				{Line: 6, Row: store.ImportRow{Line: 6, Email: "e@example.org", Region: "Bavaria"}},
			}},
		{"header aliases, tags and custom fields", "E-mail,Zip,State,Tags,Favorite Color\njane@example.org,02134,MA,\"a, b;c\",blue\n", "", nil,
			[]Record{{Line: 2, Row: store.ImportRow{Line: 2, Email: "jane@example.org", PostalCode: "02134", Region: "MA",
				Tags: []string{"a", "b", "c"}, Attributes: map[string]any{"favorite_color": "blue"}}}}},
		{"explicit mapping with types", "Mail,Gift,Member,Joined,Skip\njane@example.org,12.5,yes,2024-03-01,x\n", "",
			Mapping{"Mail": "email", "Gift": "attributes.gift:number", "Member": "attributes.member:bool", "Joined": "attributes.joined:date", "Skip": "-"},
			[]Record{{Line: 2, Row: store.ImportRow{Line: 2, Email: "jane@example.org",
				Attributes: map[string]any{"gift": 12.5, "member": true, "joined": "2024-03-01"}}}}},
		{"bad rows rejected with their line", "email,first_name\nnot-an-email,A\nb@example.org\nc@example.org,C,extra\n,D\nok@example.org,\"bad\"quote\"\n", "", nil,
			[]Record{
				{Line: 2, Reject: `column "email": "not-an-email" is not a valid email address`, Raw: "not-an-email,A"},
				{Line: 3, Reject: "has 1 fields, the header has 2", Raw: "b@example.org"},
				{Line: 4, Reject: "has 3 fields, the header has 2", Raw: "c@example.org,C,extra"},
				{Line: 5, Reject: "no email address", Raw: ",D"},
				{Line: 6, Reject: `not valid CSV: extraneous or missing " in quoted-field`},
			}},
		{"bad typed value", "email,n\njane@example.org,ten\n", "", Mapping{"n": "attributes.n:number"},
			[]Record{{Line: 2, Reject: `column "n": "ten" is not a number`, Raw: "jane@example.org,ten"}}},
		{"SQL is data", "email,first_name\njane@example.org,'; DROP TABLE contacts; --\n", "", nil,
			[]Record{{Line: 2, Row: store.ImportRow{Line: 2, Email: "jane@example.org", FirstName: "'; DROP TABLE contacts; --"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := ParseEncoding("encoding", tt.enc)
			if err != nil {
				t.Fatal(err)
			}
			got, err := readAll(t, tt.file, enc, tt.m)
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if got[i].Reject != "" {
					got[i].Row = store.ImportRow{} // a rejected row's partial fields are not part of the contract
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReaderRefuses checks that what is not a CSV of contacts is refused
// before any row is read, with an error naming the field at fault.
func TestReaderRefuses(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		enc       string
		m         Mapping
		wantField string
		wantMsg   string
	}{
		{"empty", "", "utf-8", nil, "file", "empty"},
		{"NUL byte", "email\na@example.org\x00\n", "utf-8", nil, "file", "NUL byte on line 2"},
		{"NUL byte after a quoted newline", "email,notes\na@example.org,\"one\ntwo\"\nb@example.org,\x00\n", "utf-8", nil, "file", "NUL byte on line 4"},
		{"binary head", "\x89PNG\r\n\x1a\n", "utf-8", nil, "file", "control byte 0x1a"},
		{"invalid UTF-8", "email,first_name\njose@example.org,Jos\xe9\n", "utf-8", nil, "file", "invalid UTF-8 on line 2"},
		{"invalid UTF-8 on a later line", "email\na@example.org\nb@example.org\nJos\xe9@example.org\n", "utf-8", nil, "file", "invalid UTF-8 on line 4"},
		{"unknown encoding", "email\na@example.org\n", "ebcdic", nil, "encoding", `unknown encoding "ebcdic"`},
		{"truncated UTF-8 at the end", "email\n\xc3", "utf-8", nil, "file", "invalid UTF-8 at the end"},
		{"no email column", "name,zip\nJane,02134\n", "utf-8", nil, "mapping", "no column holds the email address"},
		{"unknown mapping field", "Mail\nx@example.org\n", "utf-8", Mapping{"Mail": "emial"}, "mapping.Mail", `unknown field "emial"`},
		{"mapping names a missing column", "email\nx@example.org\n", "utf-8", Mapping{"Zip": "postal_code"}, "mapping.Zip", "names no column"},
		{"unknown attribute type", "email,n\nx@example.org,1\n", "utf-8", Mapping{"n": "attributes.n:money"}, "mapping.n", `unknown type "money"`},
		{"two columns for one field", "email,Mail\nx@example.org,y@example.org\n", "utf-8", nil, "mapping.Mail", "both fill email"},
		{"a line over the limit", "email\n" + strings.Repeat("a", MaxLineLength+1), "utf-8", nil, "file", "line 2 is longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := ParseEncoding("encoding", tt.enc)
			if err == nil {
				_, err = readAll(t, tt.file, enc, tt.m)
			}
			e, ok := errs.As(err)
			if !ok || e.Code != errs.Invalid || e.Field != tt.wantField || !strings.Contains(e.Message, tt.wantMsg) {
				t.Fatalf("got %v, want an invalid error on %s containing %q", err, tt.wantField, tt.wantMsg)
			}
		})
	}
}

// TestCheckerChunks feeds a valid multi-byte file one byte at a time: a
// sequence cut between writes is not invalid.
func TestCheckerChunks(t *testing.T) {
	file := "email,first_name\nj@example.org,José Ñúñez 日本\n"
	c := NewChecker(UTF8)
	for i := range len(file) {
		if _, err := c.Write([]byte{file[i]}); err != nil {
			t.Fatalf("byte %d: %v", i, err)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

func FuzzReader(f *testing.F) {
	seeds := []string{
		"email,first_name\njane@example.org,Jane\n",
		"\xEF\xBB\xBFemail,first_name\r\njane@example.org,Jane\r\n",
		"email,notes\njane@example.org,\"multi\nline \"\"quoted\"\"\"\n",
		"email,first_name\njos\xe9@example.org,Jos\xe9\n",
		"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
		"email,tags,attributes\na@b.org,\"x,y\",\"{\"\"k\"\":1}\"\n",
		"email\n\"unterminated\n",
		"email,a,b\n1\n1,2,3,4\n",
		"email,state\na@b.org,New York\nc@d.org,n.j.\nA@B.org,Texas\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, latin1 bool) {
		enc := UTF8
		if latin1 {
			enc = Latin1
		}
		if err := CheckFile(strings.NewReader(string(data)), enc); err != nil {
			return
		}
		rd, err := NewReader(strings.NewReader(string(data)), enc, nil)
		if err != nil {
			return
		}
		var last int64
		for n := 0; ; n++ {
			rec, err := rd.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				t.Fatalf("a checked file failed mid-way: %v", err)
			}
			if rec.Line <= last {
				t.Fatalf("line %d after line %d", rec.Line, last)
			}
			last = rec.Line
			if rec.Reject == "" && rec.Row.Email == "" {
				t.Fatalf("line %d accepted without an email", rec.Line)
			}
			if n > len(data) {
				t.Fatalf("more records than bytes: a loop")
			}
			// Every value listed as written as a code is one, and the rows
			// listed are those counted (the list is far from its bound here).
			var rows int64
			for _, c := range rd.RegionChanges() {
				if NormalizeRegion(c.From) != c.To || c.From == c.To || len(c.To) != 2 || c.Rows < 1 {
					t.Fatalf("listed %+v", c)
				}
				rows += c.Rows
			}
			if len(rd.RegionChanges()) < maxRegionChanges && rows != rd.RegionsNormalized() {
				t.Fatalf("%d rows listed, %d counted", rows, rd.RegionsNormalized())
			}
		}
	})
}

// TestReaderCountsRegions counts the valid rows whose region was rewritten:
// not a code already upper case, not an unknown region, not a rejected row.
func TestReaderCountsRegions(t *testing.T) {
	file := "email,region\na@example.org,New York\nb@example.org,NY\nc@example.org,ontario\nd@example.org,Bavaria\nnot-an-email,Texas\ne@example.org,New York\n"
	rd, err := readerOf(file, Auto, nil)
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := rd.Next(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if got := rd.RegionsNormalized(); got != 3 {
		t.Errorf("RegionsNormalized() = %d, want 3 (New York twice, ontario)", got)
	}
	want := store.RegionChanges{{From: "New York", To: "NY", Rows: 2}, {From: "ontario", To: "ON", Rows: 1}}
	if diff := cmp.Diff(want, rd.RegionChanges()); diff != "" {
		t.Errorf("RegionChanges() (-want +got):\n%s", diff)
	}
}

func TestNormalizeRegion(t *testing.T) {
	for in, want := range map[string]string{
		"New York": "NY", "new york": "NY", "ny": "NY", "N.Y.": "NY", " NY ": "NY", "District of Columbia": "DC",
		"British Columbia": "BC", "québec": "QC", "Newfoundland and Labrador": "NL", "Bavaria": "Bavaria", "": "",
		"New Yorkshire": "New Yorkshire",
	} {
		if got := NormalizeRegion(in); got != want {
			t.Errorf("NormalizeRegion(%q) = %q, want %q", in, got, want)
		}
	}
}
