package brand_test

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/brand"
	"github.com/dearfriend/dearfriend/pkg/errs"
)

func good() brand.Brand {
	return brand.Brand{OrgName: "River Alliance", PostalAddress: "1 Main St, Riverton", Primary: "#1D3B2A", Accent: "c8402b",
		FromName: "Maya Ortiz", FromEmail: "action@river.example.org"}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	b := good()
	if err := b.Check(); err != nil {
		t.Fatal(err)
	}
	if b.Primary != "#1d3b2a" || b.Accent != "#c8402b" {
		t.Errorf("colors read as %s and %s, want #1d3b2a and #c8402b", b.Primary, b.Accent)
	}
	for _, tc := range []struct {
		name   string
		change func(*brand.Brand)
		field  string
		says   string
	}{
		{"no name", func(b *brand.Brand) { b.OrgName = "  " }, "org_name", "is required"},
		{"long name", func(b *brand.Brand) { b.OrgName = strings.Repeat("x", 201) }, "org_name", "the limit is 200"},
		{"no postal address", func(b *brand.Brand) { b.PostalAddress = "" }, "postal_address", "CAN-SPAM"},
		{"two-line address", func(b *brand.Brand) { b.PostalAddress = "1 Main St\nRiverton" }, "postal_address", "one line"},
		{"not a color", func(b *brand.Brand) { b.Primary = "green" }, "primary_color", "hex color like #1d3b2a"},
		{"five digits", func(b *brand.Brand) { b.Accent = "#12345" }, "accent_color", "hex color"},
		{"css injection", func(b *brand.Brand) { b.Accent = "#000;}body{display:none" }, "accent_color", "hex color"},
		{"too light", func(b *brand.Brand) { b.Accent = "#ffdd00" }, "accent_color", "too light"},
		{"no sender name", func(b *brand.Brand) { b.FromName = "" }, "from_name", "is required"},
		{"bad sender", func(b *brand.Brand) { b.FromEmail = "Maya <action@example.org>" }, "from_email", "plain email address"},
		{"no domain", func(b *brand.Brand) { b.FromEmail = "action@localhost" }, "from_email", "plain email address"},
		{"control character", func(b *brand.Brand) { b.FooterText = "paid\x07" }, "footer_text", "control character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := good()
			tc.change(&b)
			err := b.Check()
			e, ok := errs.As(err)
			if !ok || e.Code != errs.Invalid || e.Field != tc.field || !strings.Contains(e.Message, tc.says) {
				t.Errorf("Check() = %v, want an invalid %s saying %q", err, tc.field, tc.says)
			}
		})
	}
}

func TestContrast(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want float64
	}{
		{"#000000", "#ffffff", 21},
		{"#ffffff", "#ffffff", 1},
		{"#767676", "#ffffff", 4.54}, // the lightest grey AA allows on white
	} {
		if got := brand.Contrast(tc.a, tc.b); got < tc.want-0.01 || got > tc.want+0.01 {
			t.Errorf("Contrast(%s, %s) = %.2f, want %.2f", tc.a, tc.b, got, tc.want)
		}
	}
	for _, c := range []string{brand.DefaultPrimary, brand.DefaultAccent} {
		if r := brand.Contrast(c, "#ffffff"); r < brand.MinContrast {
			t.Errorf("default color %s has a contrast of %.2f with white", c, r)
		}
	}
}

// Images of each type the library takes, made here.
func pngImage(t testing.TB, w, h int) []byte {
	var buf bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.RGBA{200, 64, 43, 255})
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func jpegImage(t testing.TB) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 30, 20)), nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gifImage(t testing.TB) []byte {
	var buf bytes.Buffer
	if err := gif.Encode(&buf, image.NewPaletted(image.Rect(0, 0, 7, 9), color.Palette{color.Black, color.White}), nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// webpLossless is the header of a lossless WebP of w × h.
func webpLossless(w, h int) []byte {
	b := []byte("RIFF\x00\x00\x00\x00WEBPVP8L\x00\x00\x00\x00\x2f")
	b = binary.LittleEndian.AppendUint32(b, uint32(w-1)|uint32(h-1)<<14)
	return append(b, make([]byte, 16)...)
}

// webpExtended is the header of an extended WebP of w × h.
func webpExtended(w, h int) []byte {
	b := []byte("RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\x00")
	b = append(b, byte(w-1), byte((w-1)>>8), byte((w-1)>>16), byte(h-1), byte((h-1)>>8), byte((h-1)>>16))
	return append(b, make([]byte, 16)...)
}

func TestReadImage(t *testing.T) {
	t.Parallel()
	type got struct {
		Name, ContentType string
		Width, Height     int
	}
	for _, tc := range []struct {
		name, file string
		data       []byte
		want       got
	}{
		{"png", "logo.png", pngImage(t, 120, 40), got{"logo.png", "image/png", 120, 40}},
		{"jpeg named png", "photo.png", jpegImage(t), got{"photo.jpg", "image/jpeg", 30, 20}},
		{"gif", `C:\Users\maya\spinner.gif`, gifImage(t), got{"spinner.gif", "image/gif", 7, 9}},
		{"webp lossless", "a.webp", webpLossless(300, 200), got{"a.webp", "image/webp", 300, 200}},
		{"webp extended", "b.webp", webpExtended(640, 480), got{"b.webp", "image/webp", 640, 480}},
		{"no name", "", pngImage(t, 2, 2), got{"image.png", "image/png", 2, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := brand.ReadImage(tc.file, tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got{m.Name, m.ContentType, m.Width, m.Height}); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
			if len(m.SHA256) != 64 || m.Size != int64(len(tc.data)) {
				t.Errorf("sha256 %q, size %d", m.SHA256, m.Size)
			}
			if p := brand.MediaPath(m.SHA256, m.ContentType); !strings.HasPrefix(p, "/media/"+m.SHA256+".") {
				t.Errorf("path %s", p)
			}
		})
	}
	for _, tc := range []struct {
		name string
		data []byte
		says string
	}{
		{"empty", nil, "is empty"},
		{"text", []byte("hello, this is not an image"), "not a PNG, JPEG, GIF or WebP image (its content is text/plain)"},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "not a PNG, JPEG, GIF or WebP image (its content is text/plain)"},
		{"pdf", []byte("%PDF-1.7\n"), "its content is application/pdf"},
		{"truncated png", pngImage(t, 10, 10)[:20], "looks like a png image but cannot be read"},
		{"too large", make([]byte, 6<<20), "is 6 MB; the limit is 5 MB"},
		{"just too large", append(pngImage(t, 10, 10), make([]byte, brand.MaxImageSize)...), "bytes; the limit is 5,242,880 bytes"},
		{"too wide", webpLossless(12000, 10), "the limit is 10000 on each side"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := brand.ReadImage("x.png", tc.data)
			e, ok := errs.As(err)
			if !ok || e.Field != "file" || !strings.Contains(e.Message, tc.says) {
				t.Errorf("ReadImage = %v, want an error on file saying %q", err, tc.says)
			}
		})
	}
}

func TestSize(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{512: "512 bytes", 37 << 10: "37 KB", 5 << 20: "5 MB", 6_500_000: "6.2 MB"} {
		if got := brand.Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}

// FuzzReadImage: any bytes are an image with a size and a type the library
// takes, or an error on the file field; never a panic.
func FuzzReadImage(f *testing.F) {
	f.Add(pngImage(f, 3, 2))
	f.Add(gifImage(f))
	f.Add(jpegImage(f))
	f.Add(webpLossless(5, 6))
	f.Add(webpExtended(7, 8))
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8 \x00\x00\x00\x00\x00\x00\x00\x9d\x01\x2a\x10\x00\x10\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := brand.ReadImage("f", data)
		if err != nil {
			if e, ok := errs.As(err); !ok || e.Field != "file" {
				t.Fatalf("error %v is not on the file field", err)
			}
			return
		}
		if !brand.IsImageType(m.ContentType) || m.Width < 1 || m.Height < 1 || m.Width > brand.MaxImageSide || m.Height > brand.MaxImageSide {
			t.Fatalf("taken: %s %d × %d", m.ContentType, m.Width, m.Height)
		}
	})
}

// FuzzParseColor: a color taken is always #rrggbb in lower case, what a
// stylesheet and an SVG attribute take as it is.
func FuzzParseColor(f *testing.F) {
	for _, s := range []string{"#1d3b2a", "ABC", " #fff ", "#12345", "red", "#000;}", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := brand.ParseColor(s)
		if err != nil {
			return
		}
		if len(c) != 7 || c[0] != '#' || strings.Trim(c[1:], "0123456789abcdef") != "" {
			t.Fatalf("ParseColor(%q) = %q", s, c)
		}
	})
}
