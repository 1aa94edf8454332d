// Command fault-kill kills the sending worker with SIGKILL in the middle of a
// campaign and starts it again, then counts what every recipient got.
//
// It builds dearfriend and scripts/smtp-sink, and runs `dearfriend serve`,
// `dearfriend worker` and the sink as processes of their own, against a
// PostgreSQL database and a Redis queue of its own (removed at the end). The
// worker is killed once a share of the campaign is accepted by the sink.
// Every recipient must get the message; a message accepted by the relay but
// whose outcome was not yet durable in the ledger when the worker died is
// sent again. Outcomes are group-committed, and a sender hands the relay a
// message only once the outcome from two messages back is durable, so each
// sender (DEARFRIEND_WORKERS) has at most two such messages: the one whose
// outcome was being written and the one on its connection. Duplicates may
// reach workers + min(workers, connections), two per open connection when
// each sender has its own; the run fails above that bound.
//
//	eval "$(scripts/test-services)"; go run ./scripts/fault-kill
//
// It needs DEARFRIEND_TEST_DATABASE_URL (an admin URL: it creates a database)
// and DEARFRIEND_TEST_REDIS_URL.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dearfriend/dearfriend/pkg/testenv"
	"github.com/dearfriend/dearfriend/scripts/internal/benchdb"
)

const token = "fault-kill-token-0123456789"

func main() {
	n := flag.Int("n", 20000, "recipients")
	conns := flag.Int("conns", 8, "DEARFRIEND_SMTP_CONNS of the worker")
	workers := flag.Int("workers", 8, "DEARFRIEND_WORKERS of the worker")
	killAt := flag.Float64("kill-at", 0.3, "share of the campaign accepted when the worker is killed")
	timeout := flag.Duration("timeout", 3*time.Minute, "give up after this long")
	flag.Parse()
	if err := run(*n, *conns, *workers, *killAt, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "fault-kill:", err)
		os.Exit(1)
	}
}

// procs are the processes started, stopped at the end.
type procs struct {
	dir  string
	list []*exec.Cmd
}

func (p *procs) start(name string, env []string, args ...string) (*exec.Cmd, error) {
	log, err := os.OpenFile(filepath.Join(p.dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p.list = append(p.list, cmd)
	return cmd, nil
}

func (p *procs) stop() {
	for _, cmd := range p.list {
		if cmd.ProcessState == nil {
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
}

// duplicateBound is how many messages a worker killed at any moment may
// have handed the relay with no durable outcome: per sender, the message on
// its connection and the one before it, whose outcome may be in the
// committer still; only min(workers, conns) senders hold a connection.
func duplicateBound(workers, conns int) int { return workers + min(workers, conns) }

func run(n, conns, workers int, killAt float64, timeout time.Duration) error {
	admin, redisURL := os.Getenv("DEARFRIEND_TEST_DATABASE_URL"), os.Getenv("DEARFRIEND_TEST_REDIS_URL")
	if admin == "" || redisURL == "" {
		return errors.New(`DEARFRIEND_TEST_DATABASE_URL and DEARFRIEND_TEST_REDIS_URL are required: eval "$(scripts/test-services)"`)
	}
	dir, err := os.MkdirTemp("", "fault-kill-")
	if err != nil {
		return err
	}
	keepLogs := true
	defer func() {
		if !keepLogs {
			os.RemoveAll(dir)
		}
	}()
	for _, b := range [][2]string{{"dearfriend", "./cmd/dearfriend"}, {"smtp-sink", "./scripts/smtp-sink"}} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(dir, b[0]), b[1]).CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", b[1], err, out)
		}
	}
	deadline := time.Now().Add(timeout) // from here: the builds take what the machine gives them
	dsn, err := benchdb.Create(admin, "dffault")
	if err != nil {
		return err
	}
	defer benchdb.Drop(admin, dsn)
	queue := "dffault_" + testenv.Random(6)
	defer testenv.DropQueueKeys(redisURL, queue)

	p := &procs{dir: dir}
	defer p.stop()
	sinkSMTP, sinkHTTP, apiAddr := freeAddr(), freeAddr(), freeAddr()
	if _, err := p.start("smtp-sink", nil, filepath.Join(dir, "smtp-sink"), "-smtp", sinkSMTP, "-http", sinkHTTP, "-recipients"); err != nil {
		return err
	}
	env := []string{
		"DEARFRIEND_DATABASE_URL=" + dsn, "DEARFRIEND_REDIS_URL=" + redisURL, "DEARFRIEND_QUEUE=" + queue,
		"DEARFRIEND_HTTP_ADDR=" + apiAddr, "DEARFRIEND_API_TOKEN=" + token, "DEARFRIEND_SECRET=" + strings.Repeat("k", 40),
		"DEARFRIEND_POSTAL_ADDRESS=1 Main St, Springfield", "DEARFRIEND_SMTP_URL=smtp://" + sinkSMTP + "?tls=none",
		"DEARFRIEND_SMTP_CONNS=" + strconv.Itoa(conns), "DEARFRIEND_WORKERS=" + strconv.Itoa(workers),
		"DEARFRIEND_SWEEP_INTERVAL=1s",
		// serve and worker refuse the demo's identity and http without these.
		"DEARFRIEND_ALLOW_HTTP=1", "DEARFRIEND_ORG_NAME=Fault Test Org", "DEARFRIEND_FROM_NAME=Fault Test",
		"DEARFRIEND_FROM_EMAIL=fault@dearfriend.test",
	}
	bin := filepath.Join(dir, "dearfriend")
	if _, err := p.start("serve", env, bin, "serve"); err != nil {
		return err
	}
	api := &client{base: "http://" + apiAddr}
	if err := waitUntil(deadline, func() (bool, error) { err := api.do("GET", "/readyz", nil, nil); return err == nil, err }); err != nil {
		return fmt.Errorf("serve is not ready (log in %s): %w", dir, err)
	}
	worker, err := p.start("worker", env, bin, "worker")
	if err != nil {
		return err
	}
	camp, err := setUp(api, n, deadline)
	if err != nil {
		return err
	}
	sink := &client{base: "http://" + sinkHTTP}
	start := time.Now()
	if err := api.do("POST", fmt.Sprintf("/api/v1/campaigns/%d/send", camp), nil, nil); err != nil {
		return err
	}
	var killedAfter int64
	if err := waitUntil(deadline, func() (bool, error) {
		s, err := sink.recipients()
		killedAfter = int64(s.Messages)
		return killedAfter >= int64(killAt*float64(n)), err
	}); err != nil {
		return err
	}
	if err := worker.Process.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	worker.Wait()
	killedAt := time.Now()
	fmt.Printf("fault-kill: worker killed (SIGKILL) after %d of %d messages, %s into the send\n", killedAfter, n, killedAt.Sub(start).Round(time.Millisecond))
	if _, err := p.start("worker", env, bin, "worker"); err != nil {
		return err
	}
	if err := waitUntil(deadline, func() (bool, error) {
		var c struct{ Status string }
		err := api.do("GET", fmt.Sprintf("/api/v1/campaigns/%d", camp), nil, &c)
		return c.Status == "sent", err
	}); err != nil {
		s, _ := sink.recipients()
		return fmt.Errorf("campaign not finished (sink: %+v; logs in %s): %w", s, dir, err)
	}
	finished := time.Now()
	s, err := sink.recipients()
	if err != nil {
		return err
	}
	bound := duplicateBound(workers, conns)
	fmt.Printf("fault-kill: %d recipients, %d messages accepted, %d recipients reached, %d duplicates (bound %d: %d workers + min(%d workers, %d connections)); "+
		"finished %s after the kill, %s in all\n", n, s.Messages, s.Distinct, s.Duplicates, bound, workers, workers, conns,
		finished.Sub(killedAt).Round(time.Millisecond), finished.Sub(start).Round(time.Millisecond))
	if s.Distinct != n {
		return fmt.Errorf("%d of %d recipients got the message (logs in %s)", s.Distinct, n, dir)
	}
	if s.Duplicates > bound {
		return fmt.Errorf("%d duplicates, more than the bound of %d (logs in %s)", s.Duplicates, bound, dir)
	}
	keepLogs = false
	return nil
}

// setUp imports n contacts into a list through the API and makes a draft
// campaign to it; it returns the campaign's id.
func setUp(api *client, n int, deadline time.Time) (int64, error) {
	var list struct{ ID int64 }
	if err := api.do("POST", "/api/v1/lists", map[string]any{"name": "fault"}, &list); err != nil {
		return 0, err
	}
	var csv bytes.Buffer
	csv.WriteString("email,first_name\n")
	for i := range n {
		fmt.Fprintf(&csv, "fault%06d@example.org,Friend%d\n", i, i)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("list", strconv.FormatInt(list.ID, 10))
	fw, _ := mw.CreateFormFile("file", "fault.csv")
	fw.Write(csv.Bytes())
	mw.Close()
	var imp struct {
		ID       int64
		Status   string
		Imported int64
	}
	if err := api.raw("POST", "/api/v1/imports", mw.FormDataContentType(), &body, &imp); err != nil {
		return 0, err
	}
	if err := waitUntil(deadline, func() (bool, error) {
		err := api.do("GET", fmt.Sprintf("/api/v1/imports/%d", imp.ID), nil, &imp)
		return imp.Status != "running", err
	}); err != nil {
		return 0, err
	}
	if imp.Imported != int64(n) {
		return 0, fmt.Errorf("import %s with %d contacts, want %d", imp.Status, imp.Imported, n)
	}
	var msg, camp struct{ ID int64 }
	if err := api.do("POST", "/api/v1/messages", map[string]any{"subject": "Call the Governor today", "from_name": "Maya Ortiz",
		"from_email": "action@example.org", "html": "<p>Dear {{ .FirstName }}, call now.</p>"}, &msg); err != nil {
		return 0, err
	}
	err := api.do("POST", "/api/v1/campaigns", map[string]any{"name": "fault", "message_id": msg.ID,
		"audience": map[string]any{"lists": []int64{list.ID}}}, &camp)
	return camp.ID, err
}

// waitUntil polls done every 100 ms until it says true, fails, or deadline passes.
func waitUntil(deadline time.Time, done func() (bool, error)) error {
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

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type client struct{ base string }

func (c *client) do(method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	return c.raw(method, path, "application/json", body, out)
}

func (c *client) raw(method, path, contentType string, body io.Reader, out any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s %s", method, path, resp.Status, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// sinkSummary is the smtp-sink's GET /recipients.
type sinkSummary struct {
	Messages, Distinct, Duplicates int
}

func (c *client) recipients() (sinkSummary, error) {
	var s sinkSummary
	err := c.do("GET", "/recipients", nil, &s)
	return s, err
}
