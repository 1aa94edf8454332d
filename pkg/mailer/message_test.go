package mailer_test

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/mailer"
)

var testDate = time.Date(2026, 3, 1, 9, 30, 0, 0, time.FixedZone("EST", -5*3600))

func testMessage() *mailer.Message {
	return &mailer.Message{
		FromName:  "Défense des Forêts",
		FromEmail: "alerts@example.org",
		ReplyTo:   "organizers@example.org",
		ToName:    "Ada Lovelace",
		ToEmail:   "ada@example.net",
		Subject:   "Dear Friend: add your name — today",
		MessageID: "c12.s345@example.org",
		Date:      testDate,
		Headers: []mailer.Header{
			{"List-Unsubscribe", "<https://example.org/u/tok123>, <mailto:unsub@example.org?subject=tok123>"},
			{"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"},
			{"List-Id", "Forest Alerts <forest.example.org>"},
			{"X-Campaign", "c12"},
		},
		Text:         "Dear Friend,\n\nAdd your name: https://example.org/p/1\n",
		HTML:         `<p style="color:#333">Dear Friend,</p><p><a href="https://example.org/p/1">ADD YOUR NAME</a> — merci</p>`,
		EnvelopeFrom: "bounce+c12.s345@example.org",
	}
}

func mustBuildBytes(tb testing.TB, m *mailer.Message) []byte {
	tb.Helper()
	raw, err := mailer.Build(m)
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

// parsed is what a recipient's mail client sees.
type parsed struct {
	Header    netmail.Header
	PartTypes []string
	Text      string
	HTML      string
}

func mustParse(tb testing.TB, raw []byte) parsed {
	tb.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		tb.Fatalf("not an RFC 5322 message: %v\n%s", err, raw)
	}
	p := parsed{Header: msg.Header}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		tb.Fatalf("Content-Type = %q (%v); want multipart/alternative", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		ct := part.Header.Get("Content-Type")
		p.PartTypes = append(p.PartTypes, ct)
		var body io.Reader = part
		if part.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
			body = quotedprintable.NewReader(part)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			tb.Fatal(err)
		}
		switch {
		case strings.HasPrefix(ct, "text/plain"):
			p.Text = string(b)
		case strings.HasPrefix(ct, "text/html"):
			p.HTML = string(b)
		}
	}
	return p
}

func TestBuild(t *testing.T) {
	t.Parallel()
	m := testMessage()
	p := mustParse(t, mustBuildBytes(t, m))

	var dec mime.WordDecoder
	header := func(name string) string {
		v, err := dec.DecodeHeader(p.Header.Get(name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return v
	}
	got := map[string]string{}
	for _, name := range []string{"From", "To", "Reply-To", "Subject", "Message-Id", "Date", "List-Unsubscribe", "List-Unsubscribe-Post", "List-Id", "X-Campaign", "Mime-Version", "User-Agent", "X-Mailer"} {
		got[name] = header(name)
	}
	want := map[string]string{
		"From":                  "Défense des Forêts <alerts@example.org>",
		"To":                    `"Ada Lovelace" <ada@example.net>`,
		"Reply-To":              "<organizers@example.org>",
		"Subject":               "Dear Friend: add your name — today",
		"Message-Id":            "<c12.s345@example.org>",
		"Date":                  "Sun, 01 Mar 2026 09:30:00 -0500",
		"List-Unsubscribe":      "<https://example.org/u/tok123>, <mailto:unsub@example.org?subject=tok123>",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		"List-Id":               "Forest Alerts <forest.example.org>",
		"X-Campaign":            "c12",
		"Mime-Version":          "1.0",
		"User-Agent":            "",
		"X-Mailer":              "",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	from, err := p.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != m.FromName || from[0].Address != m.FromEmail {
		t.Errorf("From parses as %v, %v; want %q <%s>", from, err, m.FromName, m.FromEmail)
	}
	if diff := cmp.Diff([]string{"text/plain; charset=UTF-8", "text/html; charset=UTF-8"}, p.PartTypes); diff != "" {
		t.Errorf("parts (-want +got):\n%s", diff)
	}
	if got, want := crlfToLF(p.Text), m.Text; got != want {
		t.Errorf("text part = %q; want %q", got, want)
	}
	if p.HTML != m.HTML {
		t.Errorf("html part = %q; want %q", p.HTML, m.HTML)
	}
}

// TestAppendMessage: the pool writes message after message into one buffer.
func TestAppendMessage(t *testing.T) {
	t.Parallel()
	m := testMessage()
	want := mustBuildBytes(t, m)
	buf := []byte("left alone")
	for range 2 {
		var err error
		buf, err = mailer.AppendMessage(buf[:len("left alone")], m)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(buf); got != "left alone"+string(want) {
			t.Fatalf("AppendMessage wrote %q", got)
		}
	}
	m.Subject = "a\r\nBcc: x@example.com"
	if out, err := mailer.AppendMessage(buf[:3], m); err == nil || string(out) != "lef" {
		t.Errorf("AppendMessage of a bad message = %q, %v; want dst unchanged and an error", out, err)
	}
}

// TestBuildFoldsHeaders: long header fields are folded at spaces to lines of
// at most 78 characters where they have spaces, and read back unchanged.
func TestBuildFoldsHeaders(t *testing.T) {
	t.Parallel()
	m := testMessage()
	m.Subject = strings.Repeat("Tell the council: protect the river, today and every day — ", 3)
	m.ToName = "Ada Augusta King, Countess of Lovelace and Friend of the Forests and Rivers"
	long := "<https://act.example.org/u/AQF1hAbcdefghijklmnopqrstuvw>, <mailto:unsubscribe@example.org?subject=unsubscribe-AQF1hAbcdefghijklmnopqrstuvw>"
	m.Headers[0].Value = long
	m.Headers[2].Value = strings.Repeat("word ", 40) + "<forest.example.org>"
	raw := mustBuildBytes(t, m)
	header, _, _ := strings.Cut(string(raw), "\r\n\r\n")
	for _, line := range strings.Split(header, "\r\n") {
		// The URLs alone are longer than 78; nothing else may be.
		if len(line) > 78 && !strings.Contains(line, "https://") && !strings.Contains(line, "mailto:") {
			t.Errorf("header line of %d characters: %q", len(line), line)
		}
		if strings.TrimSpace(line) == "" {
			t.Errorf("whitespace-only header line in\n%s", header)
		}
	}
	p := mustParse(t, raw)
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(p.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	to, err := p.Header.AddressList("To")
	if err != nil {
		t.Fatal(err)
	}
	got := []string{subject, to[0].Name, p.Header.Get("List-Unsubscribe"), p.Header.Get("List-Id")}
	want := []string{m.Subject, m.ToName, long, m.Headers[2].Value}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("subject, to name, List-Unsubscribe, List-Id after folding (-want +got):\n%s", diff)
	}
}

func crlfToLF(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

func TestBuildRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		change    func(m *mailer.Message)
		wantField string
	}{
		{"CRLF in Subject", func(m *mailer.Message) { m.Subject = "Hi\r\nBcc: everyone@example.com" }, "Subject"},
		{"LF in Subject", func(m *mailer.Message) { m.Subject = "Hi\nX-Evil: 1" }, "Subject"},
		{"CR in FromName", func(m *mailer.Message) { m.FromName = "Dear Friend\rBcc: x@example.com" }, "FromName"},
		{"LF in ToName", func(m *mailer.Message) { m.ToName = "Ada\n" }, "ToName"},
		{"NUL in Subject", func(m *mailer.Message) { m.Subject = "a\x00b" }, "Subject"},
		{"CRLF in header value", func(m *mailer.Message) { m.Headers[0].Value = "<https://x>\r\nBcc: x@example.com" }, "Headers[0].Value"},
		{"LF in header value", func(m *mailer.Message) { m.Headers[3].Value = "c12\n" }, "Headers[3].Value"},
		{"CRLF in header name", func(m *mailer.Message) { m.Headers[1].Name = "X-A\r\nBcc" }, "Headers[1].Name"},
		{"colon in header name", func(m *mailer.Message) { m.Headers[1].Name = "X-A: b" }, "Headers[1].Name"},
		{"empty header name", func(m *mailer.Message) { m.Headers[2].Name = "" }, "Headers[2].Name"},
		{"reserved header", func(m *mailer.Message) { m.Headers[3].Name = "bcc" }, "Headers[3].Name"},
		{"reserved Content-Type", func(m *mailer.Message) { m.Headers[3].Name = "Content-Type" }, "Headers[3].Name"},
		{"duplicate header", func(m *mailer.Message) { m.Headers[3].Name = "list-id" }, "Headers[3].Name"},
		{"missing FromEmail", func(m *mailer.Message) { m.FromEmail = "" }, "FromEmail"},
		{"FromEmail with name", func(m *mailer.Message) { m.FromEmail = "Ada <ada@example.org>" }, "FromEmail"},
		{"FromEmail with CRLF", func(m *mailer.Message) { m.FromEmail = "a@example.org\r\nRCPT TO:<x@y>" }, "FromEmail"},
		{"ToEmail without at", func(m *mailer.Message) { m.ToEmail = "ada.example.net" }, "ToEmail"},
		{"ToEmail two addresses", func(m *mailer.Message) { m.ToEmail = "a@example.net, b@example.net" }, "ToEmail"},
		{"bad ReplyTo", func(m *mailer.Message) { m.ReplyTo = "not an address" }, "ReplyTo"},
		{"bad EnvelopeFrom", func(m *mailer.Message) { m.EnvelopeFrom = "<bounce@example.org>" }, "EnvelopeFrom"},
		{"missing MessageID", func(m *mailer.Message) { m.MessageID = "" }, "MessageID"},
		{"MessageID with brackets", func(m *mailer.Message) { m.MessageID = "<c12@example.org>" }, "MessageID"},
		{"MessageID without at", func(m *mailer.Message) { m.MessageID = "c12" }, "MessageID"},
		{"MessageID with CRLF", func(m *mailer.Message) { m.MessageID = "c12@example.org\r\nBcc: x" }, "MessageID"},
		{"zero Date", func(m *mailer.Message) { m.Date = time.Time{} }, "Date"},
		{"no body", func(m *mailer.Message) { m.HTML, m.Text = "", "" }, "HTML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := testMessage()
			tt.change(m)
			msg, err := mailer.Build(m)
			var inv *mailer.InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("Build = %v, %v; want an *InvalidError", msg, err)
			}
			if inv.Field != tt.wantField {
				t.Errorf("Field = %q; want %q (%v)", inv.Field, tt.wantField, err)
			}
			if !strings.Contains(err.Error(), tt.wantField) {
				t.Errorf("error %q does not name %s", err, tt.wantField)
			}
		})
	}
}

func TestBuildSinglePart(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, text, html, wantType string
	}{
		{"text only", "hello", "", "text/plain"},
		{"html only", "", "<p>hello</p>", "text/html"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := testMessage()
			m.Text, m.HTML = tt.text, tt.html
			msg, err := netmail.ReadMessage(bytes.NewReader(mustBuildBytes(t, m)))
			if err != nil {
				t.Fatal(err)
			}
			if ct := msg.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.wantType+";") {
				t.Errorf("Content-Type = %q; want %s", ct, tt.wantType)
			}
		})
	}
}

func BenchmarkBuild(b *testing.B) {
	m := testMessage()
	var html strings.Builder
	for html.Len() < 20<<10 {
		html.WriteString(`<tr><td style="padding:8px;font-family:Georgia,serif;color:#222">Our forests cannot wait — ` +
			`<a href="https://example.org/r/abc123?u=s345" style="color:#0a58ca">add your name</a> to tell the council.</td></tr>` + "\n")
	}
	m.HTML = html.String()
	m.Text = strings.Repeat("Our forests cannot wait. Add your name: https://example.org/r/abc123?u=s345\n", 40)
	b.SetBytes(int64(len(m.HTML) + len(m.Text)))
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		var err error
		if buf, err = mailer.AppendMessage(buf[:0], m); err != nil {
			b.Fatal(err)
		}
	}
}
