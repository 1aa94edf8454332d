package audience

import (
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// csvRecord is one Read of a CSV reader: the fields, or the error, and the line.
type csvRecord struct {
	Fields          []string
	Err             string
	Line, StartLine int
}

// readCSV reads every record of data, through crlfKeeper when keep.
func readCSV(tb testing.TB, data string, keep bool) []csvRecord {
	tb.Helper()
	var r io.Reader = strings.NewReader(data)
	if keep {
		r = newCRLFKeeper(r)
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	var out []csvRecord
	for i := 0; ; i++ {
		fields, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if i > len(data)+1 {
			tb.Fatalf("more records than bytes in %q", data)
		}
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			out = append(out, csvRecord{Err: perr.Err.Error(), Line: perr.Line, StartLine: perr.StartLine})
			continue
		}
		if err != nil {
			tb.Fatal(err)
		}
		line, _ := cr.FieldPos(0)
		rec := csvRecord{Line: line}
		for _, f := range fields {
			if keep {
				f = unescapeField(f)
			}
			rec.Fields = append(rec.Fields, f)
		}
		out = append(out, rec)
	}
}

// TestKeepCRLF is csv-spectrum's newlines_crlf: a CR LF inside a quoted field
// is kept as CR LF, while CR LF ends a record as before.
func TestKeepCRLF(t *testing.T) {
	file := "a,b,c\r\n1,2,3\r\n\"Once upon \r\na time\",5,6\r\n7,8,9\r\n"
	want := []csvRecord{
		{Fields: []string{"a", "b", "c"}, Line: 1},
		{Fields: []string{"1", "2", "3"}, Line: 2},
		{Fields: []string{"Once upon \r\na time", "5", "6"}, Line: 3},
		{Fields: []string{"7", "8", "9"}, Line: 5},
	}
	if diff := cmp.Diff(want, readCSV(t, file, true)); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	// What the keeper does is needed: encoding/csv alone turns it into LF.
	if got := readCSV(t, file, false)[2].Fields[0]; got != "Once upon \na time" {
		t.Errorf("encoding/csv alone read %q", got)
	}
	// Through the import reader, a custom field keeps it.
	recs, err := readAll(t, "email,notes\r\njane@example.org,\"line one\r\nline two\"\r\n", UTF8, nil)
	if err != nil || len(recs) != 1 || recs[0].Row.Attributes["notes"] != "line one\r\nline two" {
		t.Errorf("import: %+v, %v", recs, err)
	}
}

// FuzzKeepCRLF checks the keeper against encoding/csv on any input: the same
// records, errors and lines, the fields equal once CR LF is read as LF; and
// that any records written by encoding/csv read back exactly.
func FuzzKeepCRLF(f *testing.F) {
	for _, s := range []string{
		"a,b,c\r\n1,2,3\r\n\"Once upon \r\na time\",5,6\r\n7,8,9\r\n",
		"a,\"b\"\"c\r\n\"\r\n",
		"\"unterminated\r\n",
		"a\"b,c\r\n\"x\r\ny\"\r\n",
		"\"a\"x,\"b\r\nc\"\r\n",
		"x\r\r\n\"\r\r\n\"\r\n",
		"\"a\x00b\r\n\"\x00,\x00\r\n",
		"\r\n\r\n\"\"\r\n",
		"a\x1eb\x1fc\r\nd\x1e\x1f \x1f\"q\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		ours, theirs := readCSV(t, data, true), readCSV(t, data, false)
		if len(ours) != len(theirs) {
			t.Fatalf("%d records, encoding/csv %d", len(ours), len(theirs))
		}
		for i := range ours {
			o := ours[i]
			for j := range o.Fields {
				o.Fields[j] = strings.ReplaceAll(o.Fields[j], "\r\n", "\n")
			}
			if diff := cmp.Diff(theirs[i], o); diff != "" {
				t.Fatalf("record %d (-encoding/csv +ours):\n%s", i, diff)
			}
		}

		// Records made of the input (0x1e between records, 0x1f between
		// fields), written and read back.
		var want [][]string
		for _, rec := range strings.Split(data, "\x1e") {
			fields := strings.Split(rec, "\x1f")
			if len(fields) == 1 && fields[0] == "" {
				continue // written as an empty line, which readers skip
			}
			want = append(want, fields)
		}
		var b strings.Builder
		w := csv.NewWriter(&b)
		if err := w.WriteAll(want); err != nil {
			return
		}
		var got [][]string
		for _, r := range readCSV(t, b.String(), true) {
			if r.Err != "" {
				t.Fatalf("written file %q: %s", b.String(), r.Err)
			}
			got = append(got, r.Fields)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("round trip of %q (-want +got):\n%s", b.String(), diff)
		}
	})
}

// TestReaderRowRules checks that an imported row is refused when a field
// holds what a mail header or the database cannot take (the file check only
// looks for control bytes in a file's head); a custom field may hold lines.
func TestReaderRowRules(t *testing.T) {
	file := "email,first_name,notes\n" +
		"a@example.org,\"Evil\r\nBcc: x@example.org\",\n" +
		"b@example.org,Bell\x07,\n" +
		"c@example.org,C\u0080D,\n" +
		"d@example.org,Dee,\"ok\r\nok\"\n" +
		"e@example.org,Eve,\"no\x1b\"\n"
	rd, err := NewReader(strings.NewReader(file), UTF8, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rec.Reject)
	}
	want := []string{
		`column "first_name": must be one line`,
		`column "first_name": must not contain the control character U+0007`,
		`column "first_name": must not contain the control character U+0080`,
		"",
		`column "notes": must not contain the control character U+001B`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rejects (-want +got):\n%s", diff)
	}
}
