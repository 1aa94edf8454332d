// Package stack runs dearfriend as a fleet of processes for the scripts that
// test it that way (fault-kill, rolling-restart): the binaries built once,
// each process logging to a file of its own in one folder, the API and the
// SMTP sink's counts read over HTTP, and everything stopped at the end.
package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
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
	"github.com/dearfriend/dearfriend/scripts/internal/fleet"
)

// Build builds dearfriend and scripts/smtp-sink into dir.
func Build(dir string) error {
	for _, b := range [][2]string{{"dearfriend", "./cmd/dearfriend"}, {"smtp-sink", "./scripts/smtp-sink"}} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(dir, b[0]), b[1]).CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", b[1], err, out)
		}
	}
	return nil
}

// Procs are the processes started, stopped at the end.
type Procs struct {
	Dir  string // where the binaries are and the logs go
	list []*exec.Cmd
}

// Start runs args with env added to this process's environment; its output
// goes to Dir/name.log (appended: a process started again logs after the last).
func (p *Procs) Start(name string, env []string, args ...string) (*exec.Cmd, error) {
	log, err := os.OpenFile(filepath.Join(p.Dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
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

// Stop ends every process still running: SIGTERM, then SIGKILL after 15 s.
func (p *Procs) Stop() {
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

// WaitUntil and FreeAddr are fleet's: the two packages' scripts poll and
// pick ports alike.
var (
	WaitUntil = fleet.WaitUntil
	FreeAddr  = fleet.FreeAddr
)

// Client talks JSON to dearfriend's API (or the sink's counts) at Base.
type Client struct{ Base, Token string }

// Do sends in as JSON and decodes the answer into out.
func (c *Client) Do(method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	return c.Raw(method, path, "application/json", body, out)
}

// Raw sends body as contentType and decodes the answer into out.
func (c *Client) Raw(method, path, contentType string, body io.Reader, out any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
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

// SinkSummary is the smtp-sink's GET /recipients.
type SinkSummary struct {
	Messages, Distinct, Duplicates int
}

// Recipients reads the sink's counts (c is the sink's HTTP address).
func (c *Client) Recipients() (SinkSummary, error) {
	var s SinkSummary
	err := c.Do("GET", "/recipients", nil, &s)
	return s, err
}

// Status is the campaign's status ("sending", "sent", …).
func (c *Client) Status(camp int64) (string, error) {
	var got struct{ Status string }
	err := c.Do("GET", fmt.Sprintf("/api/v1/campaigns/%d", camp), nil, &got)
	return got.Status, err
}

// SetUp imports n contacts (<prefix>NNNNNN@example.org) into a list through
// the API and makes a draft campaign to it, with campaign (fields of POST
// /api/v1/campaigns) added; it returns the campaign's id.
func SetUp(api *Client, prefix string, n int, campaign map[string]any, deadline time.Time) (int64, error) {
	var list struct{ ID int64 }
	if err := api.Do("POST", "/api/v1/lists", map[string]any{"name": prefix}, &list); err != nil {
		return 0, err
	}
	var csv bytes.Buffer
	csv.WriteString("email,first_name\n")
	for i := range n {
		fmt.Fprintf(&csv, "%s%06d@example.org,Friend%d\n", prefix, i, i)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("list", strconv.FormatInt(list.ID, 10))
	fw, _ := mw.CreateFormFile("file", prefix+".csv")
	fw.Write(csv.Bytes())
	mw.Close()
	var imp struct {
		ID       int64
		Status   string
		Imported int64
	}
	if err := api.Raw("POST", "/api/v1/imports", mw.FormDataContentType(), &body, &imp); err != nil {
		return 0, err
	}
	if err := WaitUntil(deadline, func() (bool, error) {
		err := api.Do("GET", fmt.Sprintf("/api/v1/imports/%d", imp.ID), nil, &imp)
		return imp.Status != "running", err
	}); err != nil {
		return 0, err
	}
	if imp.Imported != int64(n) {
		return 0, fmt.Errorf("import %s with %d contacts, want %d", imp.Status, imp.Imported, n)
	}
	var msg, camp struct{ ID int64 }
	if err := api.Do("POST", "/api/v1/messages", map[string]any{"subject": "Call the Governor today", "from_name": "Maya Ortiz",
		"from_email": "action@example.org", "html": "<p>Dear {{ .FirstName }}, call now.</p>"}, &msg); err != nil {
		return 0, err
	}
	fields := map[string]any{"name": prefix, "message_id": msg.ID, "audience": map[string]any{"lists": []int64{list.ID}}}
	for k, v := range campaign {
		fields[k] = v
	}
	err := api.Do("POST", "/api/v1/campaigns", fields, &camp)
	return camp.ID, err
}

// token is the API token of a fleet's processes.
const token = "fleet-token-0123456789"

// Fleet is a database and a Redis queue of its own, an SMTP sink counting
// per recipient and a serve process, ready for workers.
type Fleet struct {
	*Procs
	API, Sink *Client
	Env       []string // every dearfriend process's environment
	Bin       string   // the dearfriend binary
	// Deadline is when the script gives up: timeout after the builds,
	// which take what the machine gives them.
	Deadline time.Time
	closers  []func()
}

// Up builds the binaries, makes a database and a queue named after prefix
// (removed by Close), starts the sink and `dearfriend serve` (sweeping every
// second) and waits until serve is ready. It needs
// DEARFRIEND_TEST_DATABASE_URL (an admin URL: it creates a database) and
// DEARFRIEND_TEST_REDIS_URL. env is added to every dearfriend process's
// environment.
func Up(prefix string, timeout time.Duration, env ...string) (_ *Fleet, err error) {
	admin, redisURL := os.Getenv("DEARFRIEND_TEST_DATABASE_URL"), os.Getenv("DEARFRIEND_TEST_REDIS_URL")
	if admin == "" || redisURL == "" {
		return nil, errors.New(`DEARFRIEND_TEST_DATABASE_URL and DEARFRIEND_TEST_REDIS_URL are required: eval "$(scripts/test-services)"`)
	}
	dir, err := os.MkdirTemp("", prefix+"-")
	if err != nil {
		return nil, err
	}
	f := &Fleet{Procs: &Procs{Dir: dir}, Bin: filepath.Join(dir, "dearfriend")}
	defer func() {
		if err != nil {
			f.Close(true)
			err = fmt.Errorf("%w (logs in %s)", err, dir)
		}
	}()
	if err := Build(dir); err != nil {
		return nil, err
	}
	f.Deadline = time.Now().Add(timeout)
	name := "df" + strings.ReplaceAll(prefix, "-", "")
	dsn, err := benchdb.Create(admin, name)
	if err != nil {
		return nil, err
	}
	f.closers = append(f.closers, func() { benchdb.Drop(admin, dsn) })
	queue := name + "_" + testenv.Random(6)
	f.closers = append(f.closers, func() { testenv.DropQueueKeys(redisURL, queue) })
	f.closers = append(f.closers, f.Procs.Stop)
	sinkSMTP, sinkHTTP, apiAddr := FreeAddr(), FreeAddr(), FreeAddr()
	if _, err := f.Start("smtp-sink", nil, filepath.Join(dir, "smtp-sink"), "-smtp", sinkSMTP, "-http", sinkHTTP, "-recipients"); err != nil {
		return nil, err
	}
	f.Env = append([]string{
		"DEARFRIEND_DATABASE_URL=" + dsn, "DEARFRIEND_REDIS_URL=" + redisURL, "DEARFRIEND_QUEUE=" + queue,
		"DEARFRIEND_HTTP_ADDR=" + apiAddr, "DEARFRIEND_API_TOKEN=" + token, "DEARFRIEND_SECRET=" + strings.Repeat("k", 40),
		"DEARFRIEND_POSTAL_ADDRESS=1 Main St, Springfield", "DEARFRIEND_SMTP_URL=smtp://" + sinkSMTP + "?tls=none",
		"DEARFRIEND_SWEEP_INTERVAL=1s",
		// serve and worker refuse the demo's identity and http without these.
		"DEARFRIEND_ALLOW_HTTP=1", "DEARFRIEND_ORG_NAME=Fleet Test Org", "DEARFRIEND_FROM_NAME=Fleet Test",
		"DEARFRIEND_FROM_EMAIL=fleet@dearfriend.test",
	}, env...)
	if _, err := f.Start("serve", f.Env, f.Bin, "serve"); err != nil {
		return nil, err
	}
	f.API = &Client{Base: "http://" + apiAddr, Token: token}
	f.Sink = &Client{Base: "http://" + sinkHTTP}
	if err := WaitUntil(f.Deadline, func() (bool, error) { err := f.API.Do("GET", "/readyz", nil, nil); return err == nil, err }); err != nil {
		return nil, fmt.Errorf("serve is not ready: %w", err)
	}
	return f, nil
}

// StartWorker starts a `dearfriend worker` logging to name.log.
func (f *Fleet) StartWorker(name string) (*exec.Cmd, error) {
	return f.Start(name, f.Env, f.Bin, "worker")
}

// WaitSent waits until the campaign is sent.
func (f *Fleet) WaitSent(camp int64) error {
	if err := WaitUntil(f.Deadline, func() (bool, error) {
		status, err := f.API.Status(camp)
		return status == "sent", err
	}); err != nil {
		s, _ := f.Sink.Recipients()
		return fmt.Errorf("campaign not finished (sink: %+v; logs in %s): %w", s, f.Dir, err)
	}
	return nil
}

// Close stops the processes and removes the database and the queue; the
// logs are removed too unless keepLogs.
func (f *Fleet) Close(keepLogs bool) {
	for i := len(f.closers) - 1; i >= 0; i-- {
		f.closers[i]()
	}
	if !keepLogs {
		os.RemoveAll(f.Dir)
	}
}
