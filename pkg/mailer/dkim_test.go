package mailer_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/devsvc"
	"github.com/dearfriend/dearfriend/pkg/mailer"
)

var (
	rsaKeyOnce sync.Once
	rsaKeyPEM  []byte
)

// mustDKIMKey returns a PEM private key: "rsa" (2048 bits, PKCS#1, made
// once per test binary: it takes a while), "rsa-pkcs8" (the same key as
// PKCS#8) or "ed25519" (PKCS#8).
func mustDKIMKey(tb testing.TB, kind string) []byte {
	tb.Helper()
	rsaKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		rsaKeyPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	})
	switch kind {
	case "rsa":
		return rsaKeyPEM
	case "rsa-pkcs8":
		block, _ := pem.Decode(rsaKeyPEM)
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			tb.Fatal(err)
		}
		return mustPKCS8(tb, k)
	case "ed25519":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			tb.Fatal(err)
		}
		return mustPKCS8(tb, k)
	}
	tb.Fatalf("unknown key kind %q", kind)
	return nil
}

func mustPKCS8(tb testing.TB, key any) []byte {
	tb.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func mustDKIMSigner(tb testing.TB, keyPEM []byte) *mailer.DKIMSigner {
	tb.Helper()
	s, err := mailer.NewDKIMSigner("example.org", "df2026", keyPEM)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// verifyDKIM checks raw with go-msgauth, an implementation independent of
// ours, against the DNS record the signer says to publish.
func verifyDKIM(tb testing.TB, s *mailer.DKIMSigner, raw []byte) *dkim.Verification {
	tb.Helper()
	name, record := s.DNSRecord()
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{
		LookupTXT: func(domain string) ([]string, error) {
			if domain != name {
				return nil, fmt.Errorf("no TXT record at %s", domain)
			}
			return []string{record}, nil
		},
	})
	if err != nil {
		tb.Fatalf("dkim.Verify: %v", err)
	}
	if len(vs) != 1 {
		tb.Fatalf("%d DKIM signatures; want 1\n%s", len(vs), raw)
	}
	return vs[0]
}

// TestDKIMSignedMessageVerifies sends messages through the pool to the
// capture server, signed with each kind of key, and checks the signature of
// what arrived with an independent verifier; then that changing a signed
// header, adding one or changing the body breaks it.
func TestDKIMSignedMessageVerifies(t *testing.T) {
	t.Parallel()
	capture := mustStartCapture(t, devsvc.CaptureOptions{})
	bodies := map[string]func(m *mailer.Message){
		"demo": func(*mailer.Message) {},
		"whitespace": func(m *mailer.Message) {
			m.Text = "Dear  Friend,\t\n\ntrailing   \n \t\n" + strings.Repeat("long line with  double spaces ", 20) + "\n\n\n\n"
			m.HTML = "<p>a\t\tb</p>  \r\n\r\n<p>=_ From here</p>\n  \n"
		},
		"html only": func(m *mailer.Message) { m.Text = "" },
		"long subject": func(m *mailer.Message) {
			m.Subject = strings.Repeat("Tell the council: protect the river — ", 4)
			m.ToName = "Ada Augusta King, Countess of Lovelace, Friend of the Forests and Rivers"
		},
	}
	for _, kind := range []string{"rsa", "rsa-pkcs8", "ed25519"} {
		signer := mustDKIMSigner(t, mustDKIMKey(t, kind))
		pool := mustNewPool(t, mailer.Config{URL: "smtp://" + capture.Addr()}, mailer.WithSigner(signer))
		for name, change := range bodies {
			t.Run(kind+"/"+name, func(t *testing.T) {
				m := testMessage()
				change(m)
				m.ToEmail = kind + "." + strings.ReplaceAll(name, " ", "-") + "@example.net"
				if res := pool.Send(t.Context(), m); res.Status != mailer.StatusSent {
					t.Fatalf("Send = %+v", res)
				}
				raw := mustCaptured(t, capture, m.ToEmail)

				v := verifyDKIM(t, signer, raw)
				if v.Err != nil {
					t.Fatalf("signature does not verify: %v\n%s", v.Err, raw)
				}
				if v.Domain != "example.org" {
					t.Errorf("d= %q; want example.org", v.Domain)
				}
				signed := map[string]bool{}
				for _, k := range v.HeaderKeys {
					signed[strings.ToLower(k)] = true
				}
				for _, want := range []string{"from", "to", "subject", "date", "message-id", "list-unsubscribe", "list-unsubscribe-post"} {
					if !signed[want] {
						t.Errorf("h= does not cover %s: %v", want, v.HeaderKeys)
					}
				}

				for what, tampered := range map[string][]byte{
					"List-Unsubscribe changed": bytes.Replace(raw, []byte("/u/tok123"), []byte("/u/tok124"), 1),
					"List-Unsubscribe added":   append([]byte("List-Unsubscribe: <https://evil.example/u>\r\n"), raw...),
					"Subject changed":          bytes.Replace(raw, []byte("Subject: "), []byte("Subject: Re: "), 1),
					"body changed":             bytes.Replace(raw, []byte("Friend,"), []byte("Fiend,"), 1),
				} {
					if bytes.Equal(tampered, raw) {
						t.Fatalf("%s: the tampering changed nothing", what)
					}
					if v := verifyDKIM(t, signer, tampered); v.Err == nil {
						t.Errorf("%s: signature still verifies", what)
					}
				}
			})
		}
	}
}

func mustCaptured(tb testing.TB, c *devsvc.Capture, to string) []byte {
	tb.Helper()
	for _, m := range c.Messages() {
		if len(m.To) == 1 && m.To[0] == to {
			return m.Data
		}
	}
	tb.Fatalf("no captured message to %s", to)
	return nil
}

func TestDKIMDNSRecord(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ kind, prefix string }{
		{"rsa", "v=DKIM1; k=rsa; p=MIIBIjAN"},
		{"ed25519", "v=DKIM1; k=ed25519; p="},
	} {
		name, value := mustDKIMSigner(t, mustDKIMKey(t, tt.kind)).DNSRecord()
		if name != "df2026._domainkey.example.org" || !strings.HasPrefix(value, tt.prefix) {
			t.Errorf("%s: DNSRecord = %q, %q; want df2026._domainkey.example.org, %q...", tt.kind, name, value, tt.prefix)
		}
	}
}

func TestDKIMRefusesBadKeys(t *testing.T) {
	t.Parallel()
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	good := mustDKIMKey(t, "ed25519")
	tests := []struct {
		name, domain, selector string
		key                    []byte
		want                   string
	}{
		{"empty file", "example.org", "s1", nil, "no PEM block"},
		{"not PEM", "example.org", "s1", []byte("MC4CAQAwBQYDK2VwBCIEI..."), "no PEM block"},
		{"certificate", "example.org", "s1", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}), `PEM block "CERTIFICATE"`},
		{"two blocks", "example.org", "s1", append(append([]byte{}, good...), good...), "more than one PEM block"},
		{"encrypted PKCS#8", "example.org", "s1", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}), "encrypted"},
		{"encrypted PKCS#1", "example.org", "s1", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: []byte{1}}), "encrypted"},
		{"garbage PKCS#8", "example.org", "s1", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("garbage")}), "PRIVATE KEY block does not parse"},
		{"garbage PKCS#1", "example.org", "s1", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte("garbage")}), "RSA PRIVATE KEY block does not parse"},
		{"RSA 1024", "example.org", "s1", mustPKCS8(t, small), "RSA key of 1024 bits; want at least 2048"},
		{"ECDSA", "example.org", "s1", mustPKCS8(t, ec), "*ecdsa.PrivateKey keys cannot sign DKIM"},
		{"empty domain", "", "s1", good, `DKIM domain ""`},
		{"domain with space", "example .org", "s1", good, `DKIM domain "example .org"`},
		{"selector with dot at end", "example.org", "s1.", good, `DKIM selector "s1."`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := mailer.NewDKIMSigner(tt.domain, tt.selector, tt.key)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewDKIMSigner = %v, %v; want an error containing %q", s, err, tt.want)
			}
		})
	}
}

// TestDKIMSignAppends: Sign appends to dst without touching the
// message, even when they share an array, as in the pool.
func TestDKIMSignAppends(t *testing.T) {
	t.Parallel()
	signer := mustDKIMSigner(t, mustDKIMKey(t, "ed25519"))
	raw := mustBuildBytes(t, testMessage())
	buf := append(make([]byte, 0, len(raw)+1024), raw...)
	out, err := signer.Sign(buf, buf)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(raw), string(out[:len(raw)])); diff != "" {
		t.Errorf("message changed by Sign (-want +got):\n%s", diff)
	}
	field := out[len(raw):]
	if !bytes.HasPrefix(field, []byte("DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.org; s=df2026;")) || !bytes.HasSuffix(field, []byte("\r\n")) {
		t.Errorf("field = %q", field)
	}
	for _, line := range strings.Split(strings.TrimSuffix(string(field), "\r\n"), "\r\n") {
		if len(line) > 998 {
			t.Errorf("line of %d characters", len(line))
		}
	}
	if v := verifyDKIM(t, signer, append(append([]byte{}, field...), raw...)); v.Err != nil {
		t.Errorf("does not verify: %v", v.Err)
	}
	if _, err := signer.Sign(nil, []byte("Subject: no body separator\r\n")); err == nil {
		t.Error("Sign of a message without a blank line after the header succeeded")
	}
}

// BenchmarkDKIMSign is the signature alone, on a message of the size of a
// long action alert (about 50 KB on the wire).
func BenchmarkDKIMSign(b *testing.B) {
	m := testMessage()
	m.HTML = strings.Repeat(`<tr><td style="padding:8px;color:#222">Our forests cannot wait — <a href="https://example.org/r/abc123?u=s345">add your name</a>.</td></tr>`+"\n", 300)
	m.Text = strings.Repeat("Our forests cannot wait. Add your name: https://example.org/r/abc123?u=s345\n", 100)
	raw := mustBuildBytes(b, m)
	for _, kind := range []string{"rsa", "ed25519"} {
		b.Run(kind, func(b *testing.B) {
			signer := mustDKIMSigner(b, mustDKIMKey(b, kind))
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			var buf []byte
			for b.Loop() {
				var err error
				if buf, err = signer.Sign(buf[:0], raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
