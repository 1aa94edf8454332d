package mailer

import (
	"bufio"
	"bytes"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

// refDotWriter is what go-mail sent before: net/textproto's DotWriter.
func refDotWriter(parts ...[]byte) []byte {
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	w := textproto.NewWriter(bw).DotWriter()
	for _, p := range parts {
		w.Write(p)
	}
	w.Close()
	return buf.Bytes()
}

func dotStuff(parts ...[]byte) []byte {
	var dst []byte
	st := dotBegin
	for _, p := range parts {
		dst, st = appendDotStuffed(dst, p, st)
	}
	return appendDotEnd(dst, st)
}

var dotSeeds = []struct{ a, b string }{
	{"", ""},
	{"Subject: x\r\n\r\nbody\r\n", ""},
	{"X-Sig: a\r\n", ".leading dot\r\n..two\r\nmid.dle\r\n.\r\n"},
	{".", ""},
	{"bare\nLF\n.dot after bare LF\n", "no end"},
	{"CR at the end\r", "\n.next"},
	{"CR CR LF\r\r\n", "\r\r\r\n\r"},
	{"\r", "\r\n"},
	{"\r\r", "\n"},
	{"lone \r CR\r\nand\rx", "\x00\xff\x80binary\r\n"},
	{"", ".\n"},
}

func TestDotStuffingMatchesTextproto(t *testing.T) {
	for _, s := range dotSeeds {
		want := refDotWriter([]byte(s.a), []byte(s.b))
		if got := dotStuff([]byte(s.a), []byte(s.b)); !bytes.Equal(got, want) {
			t.Errorf("stuffing %q then %q:\n got %q\nwant %q", s.a, s.b, got, want)
		}
	}
}

func FuzzDotStuffing(f *testing.F) {
	for _, s := range dotSeeds {
		f.Add([]byte(s.a), []byte(s.b))
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		want := refDotWriter(a, b)
		if got := dotStuff(a, b); !bytes.Equal(got, want) {
			t.Errorf("stuffing %q then %q:\n got %q\nwant %q", a, b, got, want)
		}
	})
}

// BenchmarkDataWrite compares the two ways of writing one 50 KB message as
// DATA to a connection (here io.Discard behind a 4 KB bufio.Writer, as in
// go-mail): net/textproto's DotWriter, which go-mail's Data returns, and
// the stuffed copy written at once that Pool sends.
func BenchmarkDataWrite(b *testing.B) {
	para := "Dear Friend, the forest needs you. Add your name before Friday: https://example.org/p/1?c=12&s=345\n"
	raw, err := Build(&Message{
		FromEmail: "a@example.org", ToEmail: "b@example.net", MessageID: "m@example.org", Date: time.Unix(0, 0),
		Text: strings.Repeat(para, 25<<10/len(para)), HTML: strings.Repeat("<p>"+para+"</p>", 25<<10/(len(para)+7)),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("textproto", func(b *testing.B) {
		cw := &countingWriter{}
		w := textproto.NewWriter(bufio.NewWriter(cw))
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for b.Loop() {
			d := w.DotWriter()
			d.Write(raw)
			d.Close()
		}
		b.ReportMetric(float64(cw.writes)/float64(b.N), "writes/op")
	})
	b.Run("stuffed", func(b *testing.B) {
		cw := &countingWriter{}
		bw := bufio.NewWriter(cw)
		var wire []byte
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for b.Loop() {
			w, st := appendDotStuffed(wire[:0], raw, dotBegin)
			wire = appendDotEnd(w, st)
			bw.Write(wire)
			bw.Flush()
		}
		b.ReportMetric(float64(cw.writes)/float64(b.N), "writes/op")
	})
}

// countingWriter discards what it is given, counting the writes.
type countingWriter struct{ writes int }

func (c *countingWriter) Write(p []byte) (int, error) { c.writes++; return len(p), nil }
