// Package fleet runs dearfriend as a deployment runs it, for the scripts
// that test it so: `dearfriend serve`, one or more `dearfriend worker` and
// scripts/smtp-sink, each a process of its own built from this checkout,
// with its log in a folder of the run's own. It holds no data; the
// database and Redis are the caller's.
package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Token is the API token of the serve processes a Fleet starts.
const Token = "fleet-script-token-0123456789"

// Fleet is the processes of one run and the folder of their binaries and logs.
type Fleet struct {
	Dir  string
	list []proc
}

// proc is a process started and the name its log is under.
type proc struct {
	name string
	cmd  *exec.Cmd
}

// New makes a folder named after prefix and builds dearfriend and
// scripts/smtp-sink into it (run from the module's root).
func New(prefix string) (*Fleet, error) {
	dir, err := os.MkdirTemp("", prefix+"-")
	if err != nil {
		return nil, err
	}
	for _, b := range [][2]string{{"dearfriend", "./cmd/dearfriend"}, {"smtp-sink", "./scripts/smtp-sink"}} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(dir, b[0]), b[1]).CombinedOutput(); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("build %s: %v\n%s", b[1], err, out)
		}
	}
	return &Fleet{Dir: dir}, nil
}

// Bin is the path of a binary New built: "dearfriend" or "smtp-sink".
func (f *Fleet) Bin(name string) string { return filepath.Join(f.Dir, name) }

// Start runs args with env added to this process's, its output appended
// to <name>.log.
func (f *Fleet) Start(name string, env []string, args ...string) (*exec.Cmd, error) {
	log, err := os.OpenFile(filepath.Join(f.Dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	f.list = append(f.list, proc{name, cmd})
	return cmd, nil
}

// Stop ends every process still running: SIGTERM, SIGKILL after 15 s.
func (f *Fleet) Stop() { f.StopMatching("") }

// StopMatching ends the processes whose name starts with prefix, as Stop does.
func (f *Fleet) StopMatching(prefix string) {
	var rest []proc
	for _, p := range f.list {
		if !strings.HasPrefix(p.name, prefix) {
			rest = append(rest, p)
			continue
		}
		if cmd := p.cmd; cmd.ProcessState == nil {
			cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				cmd.Process.Kill()
			}
		}
	}
	f.list = rest
}

// Remove deletes the folder, logs and all: call it when the run passed.
func (f *Fleet) Remove() { os.RemoveAll(f.Dir) }

// Sink is a running scripts/smtp-sink.
type Sink struct {
	SMTP string // the address it takes mail on
	http string
}

// StartSink starts scripts/smtp-sink counting messages per recipient,
// with args added (e.g. -latency).
func (f *Fleet) StartSink(args ...string) (*Sink, error) {
	return f.StartSinkNamed("smtp-sink", args...)
}

// StartSinkNamed is StartSink with its log and process under name.
func (f *Fleet) StartSinkNamed(name string, args ...string) (*Sink, error) {
	s := &Sink{SMTP: FreeAddr(), http: FreeAddr()}
	if _, err := f.Start(name, nil, append([]string{f.Bin("smtp-sink"), "-smtp", s.SMTP, "-http", s.http, "-recipients"}, args...)...); err != nil {
		return nil, err
	}
	return s, nil
}

// Summary is the sink's count: messages accepted, recipients reached, and
// messages a recipient got more than once.
type Summary struct {
	Messages, Distinct, Duplicates int
	PeakConns                      int `json:"peak_conns"` // the most connections at once, with -rtt
}

// Recipients asks the sink for its count.
func (s *Sink) Recipients() (Summary, error) {
	var sum Summary
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+s.http+"/recipients", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return sum, err
	}
	defer resp.Body.Close()
	return sum, json.NewDecoder(resp.Body).Decode(&sum)
}

// Settings are what a run sets of dearfriend's configuration.
type Settings struct {
	DatabaseURL, RedisURL, Queue string
	HTTPAddr                     string // serve's
	SMTP                         string // the sink's address
	SMTPQuery                    string // added to the relay URL's query, like "&rate=100"
	Conns, Workers               int    // DEARFRIEND_SMTP_CONNS and DEARFRIEND_WORKERS of each worker
	Extra                        []string
}

// Env is the environment of serve and worker for s.
func (s Settings) Env() []string {
	return append([]string{
		"DEARFRIEND_DATABASE_URL=" + s.DatabaseURL, "DEARFRIEND_REDIS_URL=" + s.RedisURL, "DEARFRIEND_QUEUE=" + s.Queue,
		"DEARFRIEND_HTTP_ADDR=" + s.HTTPAddr, "DEARFRIEND_API_TOKEN=" + Token, "DEARFRIEND_SECRET=" + strings.Repeat("k", 40),
		"DEARFRIEND_POSTAL_ADDRESS=1 Main St, Springfield", "DEARFRIEND_SMTP_URL=smtp://" + s.SMTP + "?tls=none" + s.SMTPQuery,
		"DEARFRIEND_SMTP_CONNS=" + strconv.Itoa(s.Conns), "DEARFRIEND_WORKERS=" + strconv.Itoa(s.Workers),
		"DEARFRIEND_SWEEP_INTERVAL=1s",
		// serve and worker refuse the demo's identity and http without these.
		"DEARFRIEND_ALLOW_HTTP=1", "DEARFRIEND_ORG_NAME=Fleet Test Org", "DEARFRIEND_FROM_NAME=Fleet Test",
		"DEARFRIEND_FROM_EMAIL=fleet@dearfriend.test",
	}, s.Extra...)
}

// DuplicateBound is how many messages a worker stopped at any moment (a
// SIGKILL, or its queue gone) may have handed the relay with no durable
// outcome: per sender, the message on its connection and the one before
// it, whose outcome may be in the committer still; only min(workers,
// conns) senders hold a connection.
func DuplicateBound(workers, conns int) int { return workers + min(workers, conns) }

// WaitUntil polls done every 100 ms until it says true, fails, or deadline passes.
func WaitUntil(deadline time.Time, done func() (bool, error)) error {
	var last error
	for time.Now().Before(deadline) {
		ok, err := done()
		if ok && err == nil {
			return nil
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("timed out (last error: %v)", last)
}

// FreeAddr is a loopback address with a port free now.
func FreeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
