package mailer

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

var wsp = regexp.MustCompile(`[ \t]+`)

// refRelaxedBody is RFC 6376 §3.4.4 written the slow, obvious way.
func refRelaxedBody(body string) string {
	lines := strings.Split(body, "\r\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(wsp.ReplaceAllString(l, " "), " ")
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\r\n") + "\r\n"
}

func TestRelaxedBody(t *testing.T) {
	t.Parallel()
	check := func(body string) {
		t.Helper()
		h := sha256.New()
		relaxedBody(h, []byte(body))
		if want := sha256.Sum256([]byte(refRelaxedBody(body))); !bytes.Equal(h.Sum(nil), want[:]) {
			t.Fatalf("relaxedBody(%q): hash differs from that of %q", body, refRelaxedBody(body))
		}
	}
	for _, body := range []string{
		"", "\r\n", "\r\n\r\n", " \t \r\n", "a", "a\r\n", "a \r\n\r\n \r\n", "a  b\tc \t d\r\n",
		"line one\r\n\r\nline  three \r\n\t\r\n", "x\t\r\ny", " leading\r\n",
	} {
		check(body)
	}
	pieces := []string{" ", "  ", "\t", "\r\n", "a", "word", "=20", " \r\n", "\t\r\n", "\r", "\n", "\t ", "12345678"}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		var b strings.Builder
		for range rng.IntN(40) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		check(b.String())
	}
}

func FuzzRelaxedBody(f *testing.F) {
	for _, s := range []string{"", "a  b\r\n", " \t\r\n\r\n", "x\r", "word \tword\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		h := sha256.New()
		relaxedBody(h, []byte(body))
		if want := sha256.Sum256([]byte(refRelaxedBody(body))); !bytes.Equal(h.Sum(nil), want[:]) {
			t.Fatalf("relaxedBody(%q): hash differs from that of %q", body, refRelaxedBody(body))
		}
	})
}

func TestRelaxedHeader(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Subject: Hello\r\n":                 "subject:Hello\r\n",
		"SUBJECT \t:  a  b: \t c \r\n":       "subject:a b: c\r\n",
		"List-Unsubscribe: <a>,\r\n <b>\r\n": "list-unsubscribe:<a>, <b>\r\n",
		"X: \r\n\tfolded\r\n \tvalue \t\r\n": "x:folded value\r\n",
		"Empty:\r\n":                         "empty:\r\n",
		"DKIM-Signature: v=1;\r\n\tb=\r\n":   "dkim-signature:v=1; b=\r\n",
	} {
		if got := string(relaxedHeader(nil, []byte(in))); got != want {
			t.Errorf("relaxedHeader(%q) = %q; want %q", in, got, want)
		}
	}
}
