package mailer

import (
	"bytes"
	"encoding/base64"
	"io"
	"math/rand/v2"
	"mime/quotedprintable"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// canonicalText is what a text part decodes to: every line break as CRLF.
func canonicalText(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

// checkQP fails unless enc is valid quoted-printable that decodes to s.
func checkQP(tb testing.TB, s string, enc []byte) {
	tb.Helper()
	dec, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(enc)))
	if err != nil {
		tb.Fatalf("appendQP(%q) does not decode: %v\n%s", s, err, enc)
	}
	if diff := cmp.Diff(canonicalText(s), string(dec)); diff != "" {
		tb.Fatalf("appendQP(%q) decodes to something else (-want +got):\n%s\nencoded:\n%s", s, diff, enc)
	}
	if bytes.Contains(enc, []byte("=_")) {
		tb.Errorf("appendQP(%q) contains =_, which boundaries start with", s)
	}
	for i, line := range strings.Split(string(enc), "\r\n") {
		if len(line) > 76 {
			tb.Errorf("appendQP(%q) line %d has %d characters: %q", s, i, len(line), line)
		}
		if strings.HasSuffix(line, " ") || strings.HasSuffix(line, "\t") {
			tb.Errorf("appendQP(%q) line %d ends in whitespace: %q", s, i, line)
		}
		if strings.HasPrefix(line, "From ") {
			tb.Errorf("appendQP(%q) line %d starts with From: %q", s, i, line)
		}
		for j := 0; j < len(line); j++ {
			if c := line[j]; c > '~' || (c < ' ' && c != '\t') {
				tb.Errorf("appendQP(%q) line %d has byte %#x", s, i, c)
			}
		}
	}
}

func TestAppendQP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"plain", "Dear Friend,", "Dear Friend,"},
		{"equals", "a=b", "a=3Db"},
		{"non-ASCII", "forêt — ok", "for=C3=AAt =E2=80=94 ok"},
		{"LF to CRLF", "a\nb\r\nc", "a\r\nb\r\nc"},
		{"bare CR", "a\rb", "a=0Db"},
		{"trailing space", "a \nb\t", "a=20\r\nb=09"},
		{"spaces inside", "a  b", "a  b"},
		{"From at line start", "From here\nnot From here", "=46rom here\r\nnot From here"},
		{"long line", strings.Repeat("x", 80), strings.Repeat("x", 75) + "=\r\n" + strings.Repeat("x", 5)},
		{"escape not split", strings.Repeat("x", 74) + "é", strings.Repeat("x", 74) + "=\r\n=C3=A9"},
		{"exactly full line", strings.Repeat("x", 75), strings.Repeat("x", 75)},
		{"space at the fold", strings.Repeat("x", 74) + " y", strings.Repeat("x", 74) + " =\r\ny"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := appendQP(nil, tt.in)
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("appendQP(%q) (-want +got):\n%s", tt.in, diff)
			}
			checkQP(t, tt.in, got)
		})
	}
}

// TestAppendQPRoundTrip encodes random text built from the characters that
// need care (spaces and tabs before line ends, "=", non-ASCII, CR, LF, long
// runs) and decodes it back.
func TestAppendQPRoundTrip(t *testing.T) {
	t.Parallel()
	pieces := []string{" ", "\t", "=", "\n", "\r\n", "\r", "é", "—", "\x00", "\xff", "From ", ".", "a", "word ", strings.Repeat("y", 90), "=_", "  \n"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var b strings.Builder
		for range rng.IntN(60) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		checkQP(t, b.String(), appendQP([]byte("prefix"), b.String())[len("prefix"):])
	}
}

func FuzzAppendQP(f *testing.F) {
	for _, s := range []string{"", "a=b \n", "From x\r\n", strings.Repeat("é", 40), "\r\r\n \t\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkQP(t, s, appendQP(nil, s)) })
}

// BenchmarkEncodeHTML compares the two encodings a 20 KB HTML part could
// have: quoted-printable (what Build uses), base64 in 76-character lines,
// and the standard library's quoted-printable writer.
func BenchmarkEncodeHTML(b *testing.B) {
	var sb strings.Builder
	for sb.Len() < 20<<10 {
		sb.WriteString(`<tr><td style="padding:8px;font-family:Georgia,serif;color:#222">Our forests cannot wait — ` +
			`<a href="https://example.org/r/abc123?u=s345" style="color:#0a58ca">add your name</a> to tell the council.</td></tr>` + "\n")
	}
	html := sb.String()
	b.Run("qp", func(b *testing.B) {
		b.SetBytes(int64(len(html)))
		b.ReportAllocs()
		buf := make([]byte, 0, 64<<10)
		for b.Loop() {
			buf = appendQP(buf[:0], html)
		}
		b.ReportMetric(float64(len(buf)), "bytes/op")
	})
	b.Run("base64", func(b *testing.B) {
		b.SetBytes(int64(len(html)))
		b.ReportAllocs()
		buf := make([]byte, 0, 64<<10)
		for b.Loop() {
			buf = appendBase64Lines(buf[:0], html)
		}
		b.ReportMetric(float64(len(buf)), "bytes/op")
	})
	b.Run("stdlib-qp", func(b *testing.B) {
		b.SetBytes(int64(len(html)))
		b.ReportAllocs()
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			w := quotedprintable.NewWriter(&buf)
			io.WriteString(w, html)
			w.Close()
		}
		b.ReportMetric(float64(buf.Len()), "bytes/op")
	})
}

// appendBase64Lines is base64 in lines of 76, for the comparison above.
func appendBase64Lines(dst []byte, s string) []byte {
	const chunk = 57 // 57 bytes make 76 characters
	for len(s) > 0 {
		n := min(chunk, len(s))
		dst = base64.StdEncoding.AppendEncode(dst, []byte(s[:n]))
		dst = append(dst, '\r', '\n')
		s = s[n:]
	}
	return dst
}
