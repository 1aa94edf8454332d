package audience

import (
	"bytes"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

// The encodings a CSV file may be in. Auto is UTF-8 unless the file is not
// valid UTF-8, then Windows-1252 (which reads Latin-1's letters the same).
const (
	Auto        = "auto"
	UTF8        = "utf-8"
	Latin1      = "latin-1"
	Windows1252 = "windows-1252"
)

// ParseEncoding names the encoding s spells ("" is Auto); another is an
// error naming field.
func ParseEncoding(field, s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return Auto, nil
	case "utf-8", "utf8":
		return UTF8, nil
	case "latin-1", "latin1", "iso-8859-1", "iso8859-1":
		return Latin1, nil
	case "windows-1252", "cp1252":
		return Windows1252, nil
	}
	return "", errs.Field(field, "unknown encoding %q: use auto, utf-8, latin-1 or windows-1252", s)
}

// decode turns r into UTF-8 text from enc, without a UTF-8 byte order mark.
func decode(r io.Reader, enc string) io.Reader {
	switch enc {
	case Latin1:
		return charmap.ISO8859_1.NewDecoder().Reader(r)
	case Windows1252:
		return charmap.Windows1252.NewDecoder().Reader(r)
	}
	return &bomSkipper{r: r}
}

type bomSkipper struct {
	r    io.Reader
	done bool
	head []byte
}

func (b *bomSkipper) Read(p []byte) (int, error) {
	if !b.done {
		b.done = true
		head := make([]byte, 3)
		n, err := io.ReadFull(b.r, head)
		head = head[:n]
		if !bytes.Equal(head, []byte("\xEF\xBB\xBF")) {
			b.head = head
		}
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return 0, err
		}
	}
	if len(b.head) > 0 {
		n := copy(p, b.head)
		b.head = b.head[n:]
		return n, nil
	}
	return b.r.Read(p)
}

// Limits of what a CSV file may look like before it is taken for something else.
const (
	sniffSize     = 8 << 10 // the head checked for control bytes
	MaxLineLength = 1 << 20 // bytes without a newline
)

// Checker is an io.Writer that refuses, as the bytes go by, a file that is
// not CSV text: a NUL byte anywhere, control bytes in its head, invalid UTF-8
// when UTF-8 is declared, a line over MaxLineLength. Write the whole file,
// then Close; the first error is kept.
type Checker struct {
	enc     string
	off     int64 // bytes seen
	line    int64 // the line being read, from 1 (a quoted cell's newline counts: it is a line of the file)
	lineLen int
	carry   []byte // the start of a UTF-8 sequence cut by the chunk's end
	buf     []byte
	err     error
	badUTF8 bool // the file failed as UTF-8 only
}

// NewChecker checks a file in encoding enc.
func NewChecker(enc string) *Checker { return &Checker{enc: enc, line: 1} }

// lineAt is the line of the i-th byte of p, the chunk being written.
func (c *Checker) lineAt(p []byte, i int) int64 {
	return c.line + int64(bytes.Count(p[:i], []byte{'\n'}))
}

func (c *Checker) fail(format string, args ...any) error {
	c.err = errs.Field("file", "is not a CSV text file: "+format, args...)
	return c.err
}

// Write checks p, the next bytes of the file.
func (c *Checker) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n := len(p)
	if i := bytes.IndexByte(p, 0); i >= 0 {
		return 0, c.fail("a NUL byte on line %d (a binary file?)", c.lineAt(p, i))
	}
	if c.off < sniffSize {
		head := p[:min(int64(len(p)), sniffSize-c.off)]
		for i, b := range head {
			if (b < 0x20 && b != '\t' && b != '\n' && b != '\r' && b != '\f') || b == 0x7f {
				return 0, c.fail("control byte 0x%02x on line %d (a binary file?)", b, c.lineAt(p, i))
			}
		}
	}
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			c.lineLen += len(p)
		} else {
			c.lineLen += i
		}
		if c.lineLen > MaxLineLength {
			return 0, c.fail("line %d is longer than %d bytes", c.line, MaxLineLength)
		}
		if i < 0 {
			break
		}
		c.lineLen = 0
		if err := c.utf8(p[:i+1]); err != nil {
			return 0, err
		}
		c.line++
		c.off += int64(i + 1)
		p = p[i+1:]
		if len(p) == 0 {
			return n, nil
		}
	}
	if err := c.utf8(p); err != nil {
		return 0, err
	}
	c.off += int64(len(p))
	return n, nil
}

// utf8 checks p, continuing a sequence left open by the previous chunk.
func (c *Checker) utf8(p []byte) error {
	if c.enc != UTF8 {
		return nil
	}
	c.buf = append(append(c.buf[:0], c.carry...), p...)
	b := c.buf
	cut := len(b)
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				cut = i
			}
			break
		}
	}
	if !utf8.Valid(b[:cut]) {
		bad := 0
		for bad < cut {
			r, size := utf8.DecodeRune(b[bad:cut])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			bad += size
		}
		c.badUTF8 = true
		return c.fail("invalid UTF-8 on line %d; if the file is Windows-1252 or Latin-1, say so", c.line)
	}
	c.carry = append(c.carry[:0], b[cut:]...)
	return nil
}

// Close reports the first problem of the file, or that it was empty.
func (c *Checker) Close() error {
	if c.err != nil {
		return c.err
	}
	if c.off == 0 && len(c.carry) == 0 {
		return c.fail("the file is empty")
	}
	if len(c.carry) > 0 {
		c.badUTF8 = true
		return c.fail("invalid UTF-8 at the end of the file (line %d)", c.line)
	}
	return nil
}

// CheckEncoded checks the file open opens, in enc, and returns the encoding
// to read it in: Auto becomes UTF-8, or Windows-1252 when the file is not
// valid UTF-8 but passes as Windows-1252.
func CheckEncoded(open func() (io.ReadCloser, error), enc string) (string, error) {
	try := enc
	if enc == Auto {
		try = UTF8
	}
	var bad bool
	err := withFile(open, func(r io.Reader) error {
		var err error
		bad, err = checkFile(r, try)
		return err
	})
	if err == nil || !bad || enc != Auto {
		return try, err
	}
	return Windows1252, withFile(open, func(r io.Reader) error { return CheckFile(r, Windows1252) })
}

// CheckFile reads r to its end through a Checker: a streamed first pass that
// refuses a file before anything of it is written.
func CheckFile(r io.Reader, enc string) error {
	_, err := checkFile(r, enc)
	return err
}

// checkFile is CheckFile that also says whether the file failed for
// invalid UTF-8 alone.
func checkFile(r io.Reader, enc string) (badUTF8 bool, err error) {
	c := NewChecker(enc)
	if _, err := io.Copy(c, r); err != nil {
		if c.err != nil {
			return c.badUTF8, c.err
		}
		return false, err
	}
	return c.badUTF8, c.Close()
}
