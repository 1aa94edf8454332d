package redisconn_test

import (
	"crypto/tls"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/dearfriend/dearfriend/pkg/redisconn"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// rediss:// speaks TLS to the server and verifies its certificate: with
// the private CA the queue and the client work; with the system's roots
// the certificate is refused, and redis:// gets no answer it can read.
func TestTLS(t *testing.T) {
	t.Parallel()
	addr, roots := testenv.RedisTLS(t)
	opt, rdb, err := redisconn.Open("rediss://"+addr+"/0", redisconn.WithTLS(&tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}))
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	if err := rdb.Set(t.Context(), "tls:k", "v", 0).Err(); err != nil {
		t.Fatalf("SET over TLS: %v", err)
	}
	client := asynq.NewClient(opt)
	defer client.Close()
	if _, err := client.EnqueueContext(t.Context(), asynq.NewTask("test:tls", nil), asynq.Queue("tls")); err != nil {
		t.Fatalf("enqueue over TLS: %v", err)
	}

	_, untrusted, err := redisconn.Open("rediss://" + addr + "/0")
	if err != nil {
		t.Fatal(err)
	}
	defer untrusted.Close()
	if err := untrusted.Ping(t.Context()).Err(); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("rediss:// with the system's roots: %v; want the private certificate refused", err)
	}
	_, plain, err := redisconn.Open("redis://" + addr + "/0")
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if err := plain.Ping(t.Context()).Err(); err == nil {
		t.Error("redis:// to a TLS-only server answered; want an error")
	}
}
