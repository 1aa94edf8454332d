package brand

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // the decoders image.DecodeConfig reads sizes with
	_ "image/jpeg"
	_ "image/png"
	"net/http"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/input"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// MaxImageSize is the largest image the library takes: more is slow in an
// email, and mail clients may not load it.
const MaxImageSize = 5 << 20

// MaxImageSide is the largest width or height taken, in pixels.
const MaxImageSide = 10000

// maxImageName bounds the file name kept with an image.
const maxImageName = 200

// imageTypes are the types taken, by what the bytes are (not what the
// browser said), with the extension their URL ends in. SVG is not among
// them: it may carry script, and mail clients do not show it.
var imageTypes = map[string]string{"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}

// IsImageType reports whether the library takes images of content type ct.
func IsImageType(ct string) bool { return imageTypes[ct] != "" }

// MediaPath is the path an image with that digest and type is served at.
func MediaPath(sum, contentType string) string {
	return "/media/" + sum + "." + imageTypes[contentType]
}

// ReadImage checks an upload and returns it as an image of the library,
// not yet stored: at most MaxImageSize bytes, a PNG, JPEG, GIF or WebP by
// its content whatever its name says, with a size that can be read. The
// error names the field "file" and says what was wrong.
func ReadImage(name string, data []byte) (*store.Media, error) {
	if len(data) == 0 {
		return nil, errs.Field("file", "is empty: choose an image file")
	}
	if err := CheckSize(int64(len(data))); err != nil {
		return nil, err
	}
	ct := http.DetectContentType(data)
	if !IsImageType(ct) {
		what := ct
		if i := strings.IndexByte(what, ';'); i >= 0 {
			what = what[:i]
		}
		return nil, errs.Field("file", "is not a PNG, JPEG, GIF or WebP image (its content is %s)", what)
	}
	w, h, err := imageSize(ct, data)
	if err != nil {
		return nil, errs.Field("file", "looks like a %s image but cannot be read (%v): it may be damaged", imageTypes[ct], err)
	}
	if w > MaxImageSide || h > MaxImageSide {
		return nil, errs.Field("file", "is %d × %d pixels; the limit is %d on each side", w, h, MaxImageSide)
	}
	sum := sha256.Sum256(data)
	return &store.Media{SHA256: hex.EncodeToString(sum[:]), Name: cleanName(name, imageTypes[ct]), ContentType: ct,
		Size: int64(len(data)), Width: w, Height: h, Data: data}, nil
}

// CheckSize refuses an image of n bytes when it is over MaxImageSize, on
// the field "file": an upload's size is known before its bytes are read.
func CheckSize(n int64) error {
	if n <= MaxImageSize {
		return nil
	}
	size, limit := Size(n), Size(MaxImageSize)
	if size == limit { // just over: say it in bytes
		size, limit = bytesText(n), bytesText(MaxImageSize)
	}
	return errs.Field("file", "is %s; the limit is %s: make the image smaller and try again", size, limit)
}

// bytesText says n bytes with thousands separators: 5,242,881 bytes.
func bytesText(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s + " bytes"
}

// imageSize reads the width and height of an image of type ct.
func imageSize(ct string, data []byte) (int, int, error) {
	if ct == "image/webp" {
		return webpSize(data)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return 0, 0, err
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return 0, 0, errors.New("it has no pixels")
	}
	return cfg.Width, cfg.Height, nil
}

// webpSize reads the canvas size of a WebP file from its first chunk:
// VP8X (extended), VP8 (lossy) or VP8L (lossless).
func webpSize(b []byte) (int, int, error) {
	if len(b) < 30 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WEBP" {
		return 0, 0, errors.New("no WebP header")
	}
	le24 := func(p []byte) int { return int(p[0]) | int(p[1])<<8 | int(p[2])<<16 }
	switch string(b[12:16]) {
	case "VP8X":
		return le24(b[24:27]) + 1, le24(b[27:30]) + 1, nil
	case "VP8 ":
		if b[23] != 0x9d || b[24] != 0x01 || b[25] != 0x2a {
			return 0, 0, errors.New("no VP8 start code")
		}
		w, h := int(binary.LittleEndian.Uint16(b[26:28])&0x3fff), int(binary.LittleEndian.Uint16(b[28:30])&0x3fff)
		if w == 0 || h == 0 {
			return 0, 0, errors.New("it has no pixels")
		}
		return w, h, nil
	case "VP8L":
		if b[20] != 0x2f {
			return 0, 0, errors.New("no VP8L signature")
		}
		bits := binary.LittleEndian.Uint32(b[21:25])
		return int(bits&0x3fff) + 1, int(bits>>14&0x3fff) + 1, nil
	}
	return 0, 0, fmt.Errorf("unknown WebP chunk %q", b[12:16])
}

// cleanName keeps the base of an uploaded file's name, one line of text
// and bounded, with the extension of what the file is.
func cleanName(name, ext string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	if input.Check("name", name, false) != nil || name == "." || name == "/" {
		name = ""
	}
	base := strings.TrimSpace(strings.TrimSuffix(name, path.Ext(name)))
	if utf8.RuneCountInString(base) > maxImageName {
		base = string([]rune(base)[:maxImageName])
	}
	if base == "" {
		base = "image"
	}
	return base + "." + ext
}

// Size says a number of bytes as people read it: 512 bytes, 37 KB, 4.8 MB.
func Size(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return fmt.Sprintf("%d KB", (n+1<<9)>>10)
	default:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/(1<<20)), ".0") + " MB"
	}
}
