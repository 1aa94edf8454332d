package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dearfriend/dearfriend/pkg/store"
)

const campaignUsage = `usage: dearfriend campaign <action> ID

actions:
  send ID [--wait]   start the send; --wait follows it to the end with a progress bar
  pause ID           no worker takes a new recipient until it is resumed
  resume ID          send the rest of a paused campaign
  cancel ID          skip what is left
  progress ID        sent, failed, bounced, remaining, rate and ETA, once

Talks to the API at DEARFRIEND_API_URL (default http://127.0.0.1:8080) with
the token DEARFRIEND_API_TOKEN. The exit status is 1 when the API cannot be
reached or refuses, and when a campaign followed with --wait is cancelled.
`

// waitPoll is how often --wait asks for progress.
const waitPoll = 500 * time.Millisecond

// campaignCommand is the campaign command; it returns the exit code.
func campaignCommand(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("campaign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, campaignUsage) }
	wait := fs.Bool("wait", false, "follow the send until it ends (send only)")
	var positional []string
	for len(args) > 0 { // flags may come after the action and the id
		if err := fs.Parse(args); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(positional) != 2 {
		fmt.Fprint(stderr, campaignUsage)
		return 2
	}
	action := positional[0]
	id, err := strconv.ParseInt(positional[1], 10, 64)
	if err != nil || id <= 0 {
		fmt.Fprintf(stderr, "dearfriend campaign: ID must be a campaign's number, got %q\n", positional[1])
		return 2
	}
	if *wait && action != "send" {
		fmt.Fprintln(stderr, "dearfriend campaign: --wait goes with send")
		return 2
	}
	c := newAPIClient(getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fail := func(err error) int {
		fmt.Fprintf(stderr, "dearfriend campaign %s %d: %v\n", action, id, err)
		return 1
	}
	path := fmt.Sprintf("/api/v1/campaigns/%d/", id)
	switch action {
	case "send":
		var out struct {
			Recipients int64 `json:"recipients"`
		}
		if err := c.do(ctx, "POST", path+"send", &out); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "campaign %d sending to %d recipients\n", id, out.Recipients)
		if !*wait {
			return 0
		}
		return follow(ctx, c, id, stdout, stderr)
	case "pause", "resume", "cancel":
		var out struct {
			Status string `json:"status"`
		}
		if err := c.do(ctx, "POST", path+action, &out); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "campaign %d %s\n", id, out.Status)
		return 0
	case "progress":
		var p store.Progress
		if err := c.do(ctx, "GET", path+"progress", &p); err != nil {
			return fail(err)
		}
		fmt.Fprintln(stdout, progressLine(id, p))
		return 0
	}
	fmt.Fprintf(stderr, "dearfriend campaign: unknown action %q\n\n%s", action, campaignUsage)
	return 2
}

// follow draws a campaign's progress until it is sent (0) or cancelled (1).
// A paused campaign is waited for.
func follow(ctx context.Context, c *apiClient, id int64, stdout, stderr io.Writer) int {
	b := newBar(stdout)
	path := fmt.Sprintf("/api/v1/campaigns/%d/progress", id)
	for {
		var p store.Progress
		if err := c.do(ctx, "GET", path, &p); err != nil {
			b.finish("")
			fmt.Fprintf(stderr, "dearfriend campaign send %d: %v\n", id, err)
			return 1
		}
		switch p.Status {
		case store.CampaignSent:
			b.finish(progressLine(id, p))
			return 0
		case store.CampaignCancelled:
			b.finish(progressLine(id, p))
			fmt.Fprintf(stderr, "dearfriend campaign send %d: the campaign was cancelled\n", id)
			return 1
		}
		b.update(p.Total-p.Remaining, p.Total, progressLine(id, p))
		select {
		case <-ctx.Done():
			b.finish(progressLine(id, p))
			fmt.Fprintf(stderr, "dearfriend campaign send %d: stopped waiting; the send goes on\n", id)
			return 1
		case <-time.After(waitPoll):
		}
	}
}

// progressLine says where a send stands in one line.
func progressLine(id int64, p store.Progress) string {
	eta := "-"
	if p.ETASeconds != nil {
		eta = (time.Duration(*p.ETASeconds) * time.Second).String()
	}
	return fmt.Sprintf("campaign %d %s: %d/%d sent, %d failed, %d bounced, %d skipped, %d remaining, %.0f/s, ETA %s",
		id, p.Status, p.Sent, p.Total, p.Failed, p.Bounced, p.Skipped, p.Remaining, p.Rate, eta)
}

// apiClient calls the JSON API with the bearer token.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

func newAPIClient(getenv func(string) string) *apiClient {
	base := strings.TrimRight(strings.TrimSpace(getenv("DEARFRIEND_API_URL")), "/")
	if base == "" {
		base = "http://127.0.0.1:8080"
	}
	return &apiClient{base: base, token: getenv("DEARFRIEND_API_TOKEN"), http: &http.Client{Timeout: 30 * time.Second}}
}

// do makes a request and decodes the JSON answer into out. An error answer
// becomes an error carrying the API's message.
func (c *apiClient) do(ctx context.Context, method, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, nil)
	if err != nil {
		return err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the API at %s (DEARFRIEND_API_URL): %w", c.base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Code, Message, Field string } `json:"error"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Error.Message != "" {
			if resp.StatusCode == http.StatusUnauthorized {
				return errors.New(e.Error.Message + " (set DEARFRIEND_API_TOKEN)")
			}
			return errors.New(e.Error.Message)
		}
		return fmt.Errorf("the API answered %s", resp.Status)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("the API's answer is not the JSON expected: %w", err)
	}
	return nil
}
