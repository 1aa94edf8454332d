package mailer

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"time"
)

// dkimHeaders are the fields a DKIM signature covers, when present. Each is
// named once more than it occurs (over-signing, RFC 6376 §8.15): a From,
// Subject or List-Unsubscribe added on the way then breaks the signature
// instead of riding on it.
var dkimHeaders = []string{
	"From", "Reply-To", "To", "Subject", "Date", "Message-ID",
	"List-Unsubscribe", "List-Unsubscribe-Post", "List-Id", "Feedback-ID",
	"MIME-Version", "Content-Type",
}

// minRSABits is the smallest RSA key accepted. RFC 8301 allows 1024 bits;
// the large mailbox providers expect 2048.
const minRSABits = 2048

// DKIMSigner signs messages with DKIM (RFC 6376), relaxed/relaxed
// canonicalization, rsa-sha256 or ed25519-sha256 (RFC 8463). It is a Signer
// and safe for concurrent use.
//
// It signs the wire form Build writes, without parsing MIME: it needs the
// header, the blank line and the body, with CRLF line ends.
type DKIMSigner struct {
	domain, selector string
	key              crypto.Signer
	algo             string // "rsa-sha256" or "ed25519-sha256"
	now              func() time.Time
}

var _ Signer = (*DKIMSigner)(nil)

// NewDKIMSigner signs for domain (d=) with selector (s=) and the private
// key in keyPEM: PKCS#8 ("PRIVATE KEY", RSA or Ed25519) or PKCS#1 ("RSA
// PRIVATE KEY"), RSA of at least 2048 bits. Errors say what is wrong with
// the key and never show it.
func NewDKIMSigner(domain, selector string, keyPEM []byte) (*DKIMSigner, error) {
	if err := checkDKIMName("domain", domain); err != nil {
		return nil, err
	}
	if err := checkDKIMName("selector", selector); err != nil {
		return nil, err
	}
	key, err := ParseDKIMKey(keyPEM)
	if err != nil {
		return nil, err
	}
	s := &DKIMSigner{domain: domain, selector: selector, key: key, now: time.Now}
	if _, ok := key.(ed25519.PrivateKey); ok {
		s.algo = "ed25519-sha256"
	} else {
		s.algo = "rsa-sha256"
	}
	return s, nil
}

// ParseDKIMKey reads a PEM private key for DKIM signing; see NewDKIMSigner.
func ParseDKIMKey(keyPEM []byte) (crypto.Signer, error) {
	block, rest := pem.Decode(keyPEM)
	if block == nil {
		return nil, errors.New("mailer: DKIM key: no PEM block found; want a file starting with -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----")
	}
	if next, _ := pem.Decode(rest); next != nil {
		return nil, errors.New("mailer: DKIM key: the file holds more than one PEM block; want the private key alone")
	}
	if _, encrypted := block.Headers["Proc-Type"]; encrypted {
		return nil, errors.New("mailer: DKIM key: the key is encrypted; want an unencrypted key, readable only by the sending user")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "ENCRYPTED PRIVATE KEY":
		return nil, errors.New("mailer: DKIM key: the key is encrypted; want an unencrypted key, readable only by the sending user")
	default:
		return nil, fmt.Errorf("mailer: DKIM key: PEM block %q; want PRIVATE KEY (PKCS#8) or RSA PRIVATE KEY (PKCS#1)", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("mailer: DKIM key: %s block does not parse: %w", block.Type, err)
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if bits := k.N.BitLen(); bits < minRSABits {
			return nil, fmt.Errorf("mailer: DKIM key: RSA key of %d bits; want at least %d", bits, minRSABits)
		}
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	default:
		return nil, fmt.Errorf("mailer: DKIM key: %T keys cannot sign DKIM; want RSA (2048 bits or more) or Ed25519", key)
	}
}

// checkDKIMName accepts a DNS name: letters, digits, hyphens, dots and
// underscores, no empty label.
func checkDKIMName(what, name string) error {
	bad := name == "" || len(name) > 253 || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..")
	for i := 0; i < len(name) && !bad; i++ {
		c := name[i]
		bad = !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_')
	}
	if bad {
		return fmt.Errorf("mailer: DKIM %s %q: want a DNS name such as example.org", what, name)
	}
	return nil
}

// DNSRecord is the TXT record to publish for the signer's public key: its
// name (selector._domainkey.domain) and value.
func (s *DKIMSigner) DNSRecord() (name, value string) {
	name = s.selector + "._domainkey." + s.domain
	switch pub := s.key.Public().(type) {
	case ed25519.PublicKey:
		return name, "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
	default:
		der, _ := x509.MarshalPKIXPublicKey(pub) // an RSA key always marshals
		return name, "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
	}
}

// Sign appends a DKIM-Signature header field for msg to dst.
func (s *DKIMSigner) Sign(dst, msg []byte) ([]byte, error) {
	end := bytes.Index(msg, []byte("\r\n\r\n"))
	if end < 0 {
		return dst, errors.New("dkim: the message has no blank line between header and body")
	}
	header, body := msg[:end+2], msg[end+4:]
	var fieldsBuf [32]dkimField
	fields, err := splitHeader(fieldsBuf[:0], header)
	if err != nil {
		return dst, err
	}
	if from := fromDomain(fields); !Aligned(from, s.domain) {
		return dst, fmt.Errorf("dkim: the From address is at %q, which a signature for %s does not align with: DMARC would fail; send from an address at %s", from, s.domain, s.domain)
	}

	h := sha256.New()
	relaxedBody(h, body)
	var sum [sha256.Size]byte
	bh := h.Sum(sum[:0])

	start := len(dst)
	dst = append(dst, "DKIM-Signature: v=1; a="...)
	dst = append(dst, s.algo...)
	dst = append(dst, "; c=relaxed/relaxed; d="...)
	dst = append(dst, s.domain...)
	dst = append(dst, "; s="...)
	dst = append(dst, s.selector...)
	dst = append(dst, ";\r\n\tt="...)
	dst = strconv.AppendInt(dst, s.now().Unix(), 10)
	dst = append(dst, "; h="...)
	first := true
	for _, name := range dkimHeaders {
		for range countFields(fields, name) + 1 {
			if !first {
				dst = append(dst, ':')
			}
			first = false
			dst = append(dst, name...)
		}
	}
	dst = append(dst, ";\r\n\tbh="...)
	dst = base64.StdEncoding.AppendEncode(dst, bh)
	dst = append(dst, ";\r\n\tb="...)

	// The header hash: the signed fields, each instance picked from the
	// bottom up, then this field with an empty b=, without its CRLF.
	h.Reset()
	var scratch [512]byte
	for _, name := range dkimHeaders {
		n := countFields(fields, name)
		for i := len(fields) - 1; i >= 0 && n > 0; i-- {
			if strings.EqualFold(fields[i].name, name) {
				h.Write(relaxedHeader(scratch[:0], fields[i].raw))
				n--
			}
		}
	}
	canon := relaxedHeader(scratch[:0], dst[start:])
	h.Write(canon[:len(canon)-2])
	digest := h.Sum(sum[:0])

	var sig []byte
	switch k := s.key.(type) {
	case ed25519.PrivateKey:
		sig = ed25519.Sign(k, digest)
	default:
		sig, err = s.key.Sign(rand.Reader, digest, crypto.SHA256)
		if err != nil {
			return dst[:start], fmt.Errorf("dkim: %w", err)
		}
	}
	// b= is folded; verifiers drop the whitespace.
	const width = 72
	enc := base64.StdEncoding.AppendEncode(scratch[:0], sig)
	for len(enc) > width {
		dst = append(dst, enc[:width]...)
		dst = append(dst, "\r\n\t "...)
		enc = enc[width:]
	}
	dst = append(dst, enc...)
	return append(dst, '\r', '\n'), nil
}

// dkimField is one field of a header: its name and its whole text, from
// the name to the final CRLF, continuation lines included.
type dkimField struct {
	name string
	raw  []byte
}

func splitHeader(dst []dkimField, header []byte) ([]dkimField, error) {
	for len(header) > 0 {
		n := 0
		for {
			i := bytes.Index(header[n:], []byte("\r\n"))
			if i < 0 {
				return dst, errors.New("dkim: a header line does not end in CRLF")
			}
			n += i + 2
			if n == len(header) || (header[n] != ' ' && header[n] != '\t') {
				break
			}
		}
		raw := header[:n]
		colon := bytes.IndexByte(raw, ':')
		if colon <= 0 {
			return dst, fmt.Errorf("dkim: header line %q has no field name", raw)
		}
		dst = append(dst, dkimField{name: string(bytes.TrimRight(raw[:colon], " \t")), raw: raw})
		header = header[n:]
	}
	return dst, nil
}

func countFields(fields []dkimField, name string) int {
	n := 0
	for _, f := range fields {
		if strings.EqualFold(f.name, name) {
			n++
		}
	}
	return n
}

func isWSP(c byte) bool { return c == ' ' || c == '\t' }

// relaxedHeader appends the relaxed canonical form of one header field
// (RFC 6376 §3.4.2): name in lower case, no space around the colon,
// unfolded, runs of whitespace as one space, none at the end, then CRLF.
func relaxedHeader(dst, field []byte) []byte {
	colon := bytes.IndexByte(field, ':')
	for _, c := range bytes.TrimRight(field[:colon], " \t") {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	dst = append(dst, ':')
	space, started := false, false
	for _, c := range field[colon+1:] {
		switch {
		case c == '\r' || c == '\n':
		case isWSP(c):
			space = true
		default:
			if space && started {
				dst = append(dst, ' ')
			}
			space, started = false, true
			dst = append(dst, c)
		}
	}
	return append(dst, '\r', '\n')
}

// relaxedBody hashes the relaxed canonical form of a body (RFC 6376
// §3.4.4): runs of whitespace as one space, none at a line's end, no empty
// lines at the end, and a final CRLF unless the body is empty.
//
// The stretches where nothing changes go to the hash as they are. It skips
// eight bytes at a time where none is a tab and no space is followed by
// whitespace or CR, so that a run of whitespace is always met at its start:
// a quoted-printable body is almost all such words.
func relaxedBody(h hash.Hash, b []byte) {
	n := len(b)
	for {
		if n > 0 && isWSP(b[n-1]) {
			n--
		} else if n > 1 && b[n-2] == '\r' && b[n-1] == '\n' {
			n -= 2
		} else {
			break
		}
	}
	if n == 0 {
		return
	}
	b = b[:n] // ends in neither whitespace nor CRLF
	from := 0
	for i := 0; i < n; {
		for i+9 <= n {
			x := binary.LittleEndian.Uint64(b[i:])
			y := binary.LittleEndian.Uint64(b[i+1:]) // the byte after each of x's
			if byteIs(x, '\t')|(byteIs(x, ' ')&(byteIs(y, ' ')|byteIs(y, '\t')|byteIs(y, '\r'))) != 0 {
				break
			}
			i += 8
		}
		if i == n {
			break
		}
		if c := b[i]; c != ' ' && c != '\t' {
			i++
			continue
		}
		j := i + 1
		for isWSP(b[j]) { // b does not end in whitespace
			j++
		}
		eol := b[j] == '\r' && j+1 < n && b[j+1] == '\n'
		if b[i] == ' ' && j == i+1 && !eol {
			i = j // one space inside a line: already canonical
			continue
		}
		h.Write(b[from:i])
		if !eol {
			h.Write(space)
		}
		from, i = j, j
	}
	h.Write(b[from:])
	h.Write(crlf)
}

// byteIs sets the high bit of each byte of x that may equal c: exact when
// no byte of x equals c, which is all the scan above needs.
func byteIs(x uint64, c byte) uint64 {
	t := x ^ uint64(c)*lsb
	return (t - lsb) &^ t & msb
}

var (
	space = []byte(" ")
	crlf  = []byte("\r\n")
)

// Aligned reports whether mail from an address at fromDomain, signed for
// signingDomain, passes DMARC's relaxed alignment: one domain is the other
// or a subdomain of it.
func Aligned(fromDomain, signingDomain string) bool {
	f, d := strings.ToLower(fromDomain), strings.ToLower(signingDomain)
	return f != "" && (f == d || strings.HasSuffix(f, "."+d) || strings.HasSuffix(d, "."+f))
}

// fromDomain is the domain of the address in the From field, as Build
// writes it: the address last, in angle brackets. "" when there is no From.
func fromDomain(fields []dkimField) string {
	for _, f := range fields {
		if !strings.EqualFold(f.name, "From") {
			continue
		}
		v := bytes.TrimRight(f.raw, "\r\n \t")
		v = bytes.TrimSuffix(v, []byte(">"))
		at := bytes.LastIndexByte(v, '@')
		if at < 0 {
			return ""
		}
		return string(v[at+1:])
	}
	return ""
}
