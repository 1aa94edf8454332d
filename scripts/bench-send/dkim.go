package main

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
)

// dkimEnv returns the settings that make the app sign every message with a
// new key of kind ("rsa": RSA-2048, "ed25519"), written to dir; none for "".
func dkimEnv(kind, dir string) (map[string]string, error) {
	var key crypto.Signer
	var err error
	switch kind {
	case "":
		return nil, nil
	case "rsa":
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ed25519":
		_, key, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("-dkim %q: want rsa or ed25519", kind)
	}
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "dkim-"+kind+".pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	return map[string]string{"DEARFRIEND_DKIM_DOMAIN": "dearfriend.test", "DEARFRIEND_DKIM_SELECTOR": "bench",
		"DEARFRIEND_DKIM_KEY_FILE": path}, nil
}
