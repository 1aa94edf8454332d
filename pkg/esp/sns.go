package esp

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1" // SNS SignatureVersion 1 is SHA1withRSA, as AWS documents it
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// snsMessage is the envelope Amazon SNS posts to an HTTP(S) subscription.
// https://docs.aws.amazon.com/sns/latest/dg/http-notification-json.html
type snsMessage struct {
	Type             string
	MessageId        string // SNS spells it so
	Token            string
	TopicArn         string
	Subject          *string // absent and "" differ: only a present Subject is signed
	Message          string
	SubscribeURL     string
	Timestamp        string
	SignatureVersion string
	Signature        string
	SigningCertURL   string
}

// snsHost is the host of SNS's signing certificates and subscription URLs:
// sns.<region>.amazonaws.com, or .amazonaws.com.cn in China.
var snsHost = regexp.MustCompile(`^sns\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?$`)

// snsURL checks that raw is an https URL on an SNS host.
func snsURL(raw, field string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || !snsHost.MatchString(u.Hostname()) || u.Port() != "" || u.User != nil {
		return nil, fmt.Errorf("%s %q is not an https URL on sns.<region>.amazonaws.com", field, raw)
	}
	return u, nil
}

// stringToSign is the canonical string SNS signs: the documented fields of
// the message's type, each name and value on a line of its own.
// https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message-verify-message-signature.html
func (m *snsMessage) stringToSign() (string, error) {
	type kv struct{ k, v string }
	var fields []kv
	switch m.Type {
	case "Notification":
		fields = []kv{{"Message", m.Message}, {"MessageId", m.MessageId}}
		if m.Subject != nil {
			fields = append(fields, kv{"Subject", *m.Subject})
		}
		fields = append(fields, kv{"Timestamp", m.Timestamp}, kv{"TopicArn", m.TopicArn}, kv{"Type", m.Type})
	case "SubscriptionConfirmation", "UnsubscribeConfirmation":
		fields = []kv{{"Message", m.Message}, {"MessageId", m.MessageId}, {"SubscribeURL", m.SubscribeURL},
			{"Timestamp", m.Timestamp}, {"Token", m.Token}, {"TopicArn", m.TopicArn}, {"Type", m.Type}}
	default:
		return "", fmt.Errorf("unknown SNS message Type %q", m.Type)
	}
	var b strings.Builder
	for _, f := range fields {
		b.WriteString(f.k)
		b.WriteByte('\n')
		b.WriteString(f.v)
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// CertFetcher returns the certificate at an SNS SigningCertURL (already
// checked to be https on an SNS host).
type CertFetcher func(ctx context.Context, certURL string) (*x509.Certificate, error)

// verify checks m's signature with the certificate of its SigningCertURL.
func (m *snsMessage) verify(ctx context.Context, fetch CertFetcher) error {
	if _, err := snsURL(m.SigningCertURL, "SigningCertURL"); err != nil {
		return err
	}
	var hash crypto.Hash
	switch m.SignatureVersion {
	case "1":
		hash = crypto.SHA1
	case "2":
		hash = crypto.SHA256
	default:
		return fmt.Errorf("SignatureVersion %q is neither 1 nor 2", m.SignatureVersion)
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil {
		return fmt.Errorf("the Signature field is not base64: %w", err)
	}
	canonical, err := m.stringToSign()
	if err != nil {
		return err
	}
	cert, err := fetch(ctx, m.SigningCertURL)
	if err != nil {
		return fmt.Errorf("signing certificate: %w", err)
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return errors.New("signing certificate has no RSA key")
	}
	var digest []byte
	if hash == crypto.SHA1 {
		sum := sha1.Sum([]byte(canonical)) // SignatureVersion 1
		digest = sum[:]
	} else {
		sum := sha256.Sum256([]byte(canonical))
		digest = sum[:]
	}
	if err := rsa.VerifyPKCS1v15(pub, hash, digest, sig); err != nil {
		return errors.New("signature does not verify")
	}
	return nil
}

// certCache fetches SNS signing certificates over HTTPS, with a timeout,
// and keeps them: SNS signs with few certificates, rotated rarely.
type certCache struct {
	client *http.Client
	mu     sync.Mutex
	certs  map[string]*x509.Certificate
}

// maxCerts bounds the cache; a verified URL is on an SNS host, so the set
// of them is small, but the bound keeps a flood of distinct URLs harmless.
const maxCerts = 32

func newCertCache() *certCache {
	return &certCache{client: &http.Client{Timeout: 10 * time.Second}, certs: map[string]*x509.Certificate{}}
}

func (c *certCache) fetch(ctx context.Context, certURL string) (*x509.Certificate, error) {
	c.mu.Lock()
	cert := c.certs[certURL]
	c.mu.Unlock()
	if cert != nil {
		return cert, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, certURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", certURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get %s: %s", certURL, resp.Status)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", certURL, err)
	}
	if cert, err = parseCert(raw); err != nil {
		return nil, fmt.Errorf("%s: %w", certURL, err)
	}
	c.mu.Lock()
	if len(c.certs) >= maxCerts {
		clear(c.certs)
	}
	c.certs[certURL] = cert
	c.mu.Unlock()
	return cert, nil
}

// parseCert reads a PEM certificate and checks it is valid today.
func parseCert(raw []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(raw)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("not a PEM certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse certificate: %w", err)
	}
	if now := time.Now(); now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return nil, fmt.Errorf("certificate valid from %s to %s only", cert.NotBefore.Format(time.DateOnly), cert.NotAfter.Format(time.DateOnly))
	}
	return cert, nil
}
