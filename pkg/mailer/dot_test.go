package mailer

import (
	"bufio"
	"bytes"
	"net/textproto"
	"testing"
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
