package mailer_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/dearfriend/dearfriend/pkg/mailer"
)

// tlsRelay is an SMTP server offering STARTTLS, or TLS from the first byte,
// with a certificate for 127.0.0.1 from its own CA. It requires AUTH PLAIN
// with user "u", password "p", and records whether each message came over
// TLS.
type tlsRelay struct {
	addr  string
	roots *x509.CertPool

	mu      sync.Mutex
	overTLS []bool
}

func startTLSRelay(tb testing.TB, implicit bool) *tlsRelay {
	tb.Helper()
	cert, roots := mustSelfSigned(tb)
	r := &tlsRelay{roots: roots}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &tlsSession{relay: r, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true   // the client decides when plain text is acceptable
	srv.ErrorLog = discardLogger{} // the untrusted-certificate case logs a failed handshake
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	if implicit {
		ln = tls.NewListener(ln, tlsConfig)
	} else {
		srv.TLSConfig = tlsConfig
	}
	r.addr = ln.Addr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	tb.Cleanup(func() {
		srv.Close()
		ln.Close()
		<-done
	})
	return r
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}

func (r *tlsRelay) received() []bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bool(nil), r.overTLS...)
}

type tlsSession struct {
	relay  *tlsRelay
	conn   *smtp.Conn
	authed bool
}

func (s *tlsSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *tlsSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "u" || pass != "p" {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}

func (s *tlsSession) Mail(string, *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	return nil
}

func (s *tlsSession) Rcpt(string, *smtp.RcptOptions) error { return nil }

func (s *tlsSession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	_, ok := s.conn.TLSConnectionState()
	s.relay.mu.Lock()
	s.relay.overTLS = append(s.relay.overTLS, ok)
	s.relay.mu.Unlock()
	return nil
}

func (s *tlsSession) Reset()        {}
func (s *tlsSession) Logout() error { return nil }

func mustSelfSigned(tb testing.TB) (tls.Certificate, *x509.CertPool) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test relay"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots
}

func TestPoolTLS(t *testing.T) {
	t.Parallel()
	startTLS := startTLSRelay(t, false)
	implicit := startTLSRelay(t, true)

	tests := []struct {
		name    string
		relay   *tlsRelay
		url     string
		trust   bool
		want    mailer.Status
		wantTLS bool
	}{
		{"smtps", implicit, "smtps://u:p@" + implicit.addr, true, mailer.StatusSent, true},
		{"smtps, untrusted certificate", implicit, "smtps://u:p@" + implicit.addr, false, mailer.StatusDeferred, false},
		{"starttls mandatory", startTLS, "smtp://u:p@" + startTLS.addr + "?tls=mandatory", true, mailer.StatusSent, true},
		{"starttls opportunistic", startTLS, "smtp://u:p@" + startTLS.addr + "?tls=starttls", true, mailer.StatusSent, true},
		{"loopback default is plain", startTLS, "smtp://u:p@" + startTLS.addr, true, mailer.StatusSent, false},
		{"wrong password", startTLS, "smtp://u:wrong@" + startTLS.addr + "?tls=mandatory", true, mailer.StatusDeferred, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []mailer.Option
			if tt.trust {
				opts = append(opts, mailer.WithTLSConfig(&tls.Config{RootCAs: tt.relay.roots}))
			}
			pool := mustNewPool(t, mailer.Config{URL: tt.url, Timeout: 5 * time.Second}, opts...)
			before := len(tt.relay.received())
			res := pool.Send(t.Context(), testMessage())
			if res.Status != tt.want {
				t.Fatalf("Send = %+v; want %v", res, tt.want)
			}
			got := tt.relay.received()[before:]
			if tt.want != mailer.StatusSent {
				if len(got) != 0 {
					t.Errorf("relay received %d messages; want none", len(got))
				}
				return
			}
			if len(got) != 1 || got[0] != tt.wantTLS {
				t.Errorf("relay received over TLS: %v; want [%v]", got, tt.wantTLS)
			}
		})
	}
}
