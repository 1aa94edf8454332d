package mailer_test

import (
	"bytes"
	"mime"
	netmail "net/mail"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/dearfriend/dearfriend/pkg/mailer"
)

// checkEncodedWords builds m and checks what RFC 2047 asks of its header:
// no line that holds an encoded word is longer than 76 characters, field
// name included, and the subject, the display names and the extra headers
// read back as they were written.
func checkEncodedWords(t *testing.T, m *mailer.Message) {
	t.Helper()
	raw, err := mailer.Build(m)
	if err != nil {
		return // a message Build refuses puts nothing on the wire
	}
	header, _, _ := strings.Cut(string(raw), "\r\n\r\n")
	for _, line := range strings.Split(header, "\r\n") {
		if strings.Contains(line, "=?") && len(line) > 76 {
			t.Errorf("line with an encoded word of %d characters: %q", len(line), line)
		}
		if strings.TrimSpace(line) == "" {
			t.Errorf("whitespace-only header line in\n%s", header)
		}
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not an RFC 5322 message: %v\n%s", err, header)
	}
	var dec mime.WordDecoder
	read := func(field, value string) {
		got, err := dec.DecodeHeader(msg.Header.Get(field))
		want := value
		if !strings.Contains(msg.Header.Get(field), "=?") {
			want = strings.TrimSpace(value) // a reader trims a plain value
		}
		if err != nil {
			t.Errorf("%s %q does not decode: %v", field, msg.Header.Get(field), err)
		} else if got != want && utf8.ValidString(value) {
			t.Errorf("%s reads back as %q; want %q", field, got, want)
		}
	}
	read("Subject", m.Subject)
	for _, h := range m.Headers {
		read(h.Name, h.Value)
	}
	for field, name := range map[string]string{"From": m.FromName, "To": m.ToName} {
		if !strings.Contains(msg.Header.Get(field), "=?") || !utf8.ValidString(name) {
			continue // an ASCII name is quoted by net/mail, not encoded
		}
		list, err := msg.Header.AddressList(field)
		if err != nil || len(list) != 1 || list[0].Name != name {
			t.Errorf("%s %q reads back as %v, %v; want name %q", field, msg.Header.Get(field), list, err, name)
		}
	}
}

// TestEncodedWordsFit: subjects, display names and headers outside ASCII,
// long and short, in one script and several, fold to lines of at most 76
// characters with whole characters in every word.
func TestEncodedWordsFit(t *testing.T) {
	t.Parallel()
	long := "Tell the council: protect the river — today, not tomorrow, and every day after"
	for name, edit := range map[string]func(*mailer.Message){
		"long subject with one dash": func(m *mailer.Message) { m.Subject = long },
		"subject of accents":         func(m *mailer.Message) { m.Subject = strings.Repeat("é", 120) },
		"subject of emoji":           func(m *mailer.Message) { m.Subject = strings.Repeat("🌊🌲 ", 40) },
		"subject in Japanese": func(m *mailer.Message) {
			m.Subject = "川を守るために今日署名してください。期限は十一日後です。皆さんの声が必要です。"
		},
		"subject just past a word": func(m *mailer.Message) { m.Subject = strings.Repeat("a", 52) + "ü" },
		"looks encoded":            func(m *mailer.Message) { m.Subject = "=?UTF-8?q?not_a_word?= but text" },
		"long from name":           func(m *mailer.Message) { m.FromName = "Défense des Forêts et des Rivières du Québec, Campagnes" },
		"long to name":             func(m *mailer.Message) { m.ToName = strings.Repeat("Zoë ", 30) },
		"long address after name": func(m *mailer.Message) {
			m.FromName = strings.Repeat("ñ", 20)
			m.FromEmail = strings.Repeat("x", 60) + "@example.org"
		},
		"extra header": func(m *mailer.Message) {
			m.Headers = append(m.Headers, mailer.Header{Name: "X-Very-Long-Header-Name-For-A-Campaign-Label", Value: long + " ✓"})
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m := testMessage()
			edit(m)
			checkEncodedWords(t, m)
		})
	}
}

func FuzzEncodedWords(f *testing.F) {
	f.Add("Dear Friend: add your name — today", "Défense des Forêts", "Ada", "Forest Alerts")
	f.Add(strings.Repeat("é", 80), strings.Repeat("ü", 40), "Zoë Ångström", "✓ yes")
	f.Add("=?UTF-8?q?x?=", "=?", "🌊🌲", "a\u00a0b")
	f.Add(" lead and trail ", "\xff\xfe", "日本語の名前", strings.Repeat("word ", 30)+"ß")
	f.Fuzz(func(t *testing.T, subject, fromName, toName, value string) {
		m := testMessage()
		m.Subject, m.FromName, m.ToName = subject, fromName, toName
		m.Headers = append(m.Headers, mailer.Header{Name: "X-Label", Value: value})
		checkEncodedWords(t, m)
	})
}
