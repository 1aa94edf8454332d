package testenv

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// RedisTLS starts a redis-server that speaks only TLS, on loopback, with a
// certificate for 127.0.0.1 of a private CA; it returns the server's
// address and a pool holding the CA. It skips the test when redis-server
// is not installed.
func RedisTLS(tb testing.TB) (addr string, roots *x509.CertPool) {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		tb.Skip("redis-server is not installed (apt-get install redis-server): no TLS Redis to test on")
	}
	dir := tb.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "dearfriend test Redis"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for file, block := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "EC PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	addr = freePort()
	s := &SentinelSet{dir: dir, servers: map[string]*exec.Cmd{}} // a set without sentinels: it runs and stops the server
	tb.Cleanup(s.Close)
	cmd, err := s.run("redis-tls", "redis-server", "--bind", "127.0.0.1", "--port", "0", "--tls-port", portOf(addr),
		"--tls-cert-file", certFile, "--tls-key-file", keyFile, "--tls-ca-cert-file", certFile, "--tls-auth-clients", "no",
		"--save", "", "--appendonly", "no", "--dir", dir)
	if err != nil {
		tb.Fatal(err)
	}
	s.servers[addr] = cmd
	roots = x509.NewCertPool()
	cert, _ := x509.ParseCertificate(der)
	roots.AddCert(cert)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = poll(ctx, func() error {
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots})
		if err == nil {
			c.Close()
		}
		return err
	})
	if err != nil {
		tb.Fatalf("TLS Redis did not answer: %v", err)
	}
	return addr, roots
}
