package testenv

import (
	"bytes"
	"cmp"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// PgBouncer starts Debian's pgbouncer in transaction mode in front of the
// PostgreSQL server of dsn, on a free loopback port, with poolSize server
// connections per database, and returns dsn through it. It skips the test,
// saying how to install it, when pgbouncer is not on the PATH (or in
// /usr/sbin). The bouncer logs in to PostgreSQL as dsn's user and takes any
// client (auth_type any); it stops when the test ends.
func PgBouncer(tb testing.TB, dsn string, poolSize int) string {
	tb.Helper()
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/pgbouncer"); serr != nil {
			tb.Skip("pgbouncer is not installed (apt-get install pgbouncer): the PgBouncer test is skipped")
		}
		bin = "/usr/sbin/pgbouncer"
	}
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatalf("PgBouncer: %v", err)
	}
	password, _ := u.User.Password()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir := tb.TempDir()
	// pgbouncer will not run as root: it drops to postgres, which must read the file.
	if err := os.Chmod(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	ini := fmt.Sprintf(`[databases]
* = host=%s port=%s user=%s password=%s
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = %d
max_client_conn = 500
server_reset_query =
`, u.Hostname(), cmp.Or(u.Port(), "5432"), u.User.Username(), password, port, poolSize)
	path := filepath.Join(dir, "pgbouncer.ini")
	if err := os.WriteFile(path, []byte(ini), 0o644); err != nil {
		tb.Fatal(err)
	}
	args := []string{path}
	if os.Geteuid() == 0 {
		args = []string{"-u", "postgres", path}
	}
	cmd := exec.Command(bin, args...)
	var log syncBuffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start pgbouncer: %v", err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("pgbouncer did not listen on %s within 10 s:\n%s", addr, log.String())
		}
	}
	u.Host = addr
	return u.String()
}

// syncBuffer is a bytes.Buffer a process writes to while a test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
