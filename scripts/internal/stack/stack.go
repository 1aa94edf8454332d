// Package stack is one whole deployment for the scripts that break it
// (fault-kill, rolling-restart): a database and a queue of its own, the
// fleet's smtp-sink and `dearfriend serve` started and ready, workers
// started on demand, and everything removed at the end. The processes are
// package fleet's, the API calls package dfapi's.
package stack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/dearfriend/dearfriend/pkg/testenv"
	"github.com/dearfriend/dearfriend/scripts/internal/benchdb"
	"github.com/dearfriend/dearfriend/scripts/internal/dfapi"
	"github.com/dearfriend/dearfriend/scripts/internal/fleet"
)

// Stack is a database, a Redis queue, an SMTP sink counting per recipient
// and a serve process, ready for workers.
type Stack struct {
	*fleet.Fleet
	API  *dfapi.Client
	Sink *fleet.Sink
	Env  []string // every dearfriend process's environment
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
// environment (and wins over the stack's own settings).
func Up(prefix string, timeout time.Duration, env ...string) (_ *Stack, err error) {
	admin, redisURL := os.Getenv("DEARFRIEND_TEST_DATABASE_URL"), os.Getenv("DEARFRIEND_TEST_REDIS_URL")
	if admin == "" || redisURL == "" {
		return nil, errors.New(`DEARFRIEND_TEST_DATABASE_URL and DEARFRIEND_TEST_REDIS_URL are required: eval "$(scripts/test-services)"`)
	}
	f, err := fleet.New(prefix)
	if err != nil {
		return nil, err
	}
	s := &Stack{Fleet: f, Deadline: time.Now().Add(timeout)}
	defer func() {
		if err != nil {
			s.Close(true)
			err = fmt.Errorf("%w (logs in %s)", err, f.Dir)
		}
	}()
	name := "df" + strings.ReplaceAll(prefix, "-", "")
	dsn, err := benchdb.Create(admin, name)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() { benchdb.Drop(admin, dsn) })
	queue := name + "_" + testenv.Random(6)
	s.closers = append(s.closers, func() { testenv.DropQueueKeys(redisURL, queue) }, f.Stop)
	if s.Sink, err = f.StartSink(); err != nil {
		return nil, err
	}
	settings := fleet.Settings{DatabaseURL: dsn, RedisURL: redisURL, Queue: queue, HTTPAddr: fleet.FreeAddr(),
		SMTP: s.Sink.SMTP, Conns: 8, Workers: 8, Extra: env}
	s.Env = settings.Env()
	if _, err := f.Start("serve", s.Env, f.Bin("dearfriend"), "serve"); err != nil {
		return nil, err
	}
	s.API = &dfapi.Client{Base: "http://" + settings.HTTPAddr, Token: fleet.Token}
	ctx, cancel := s.Context()
	defer cancel()
	if err := s.API.WaitUp(ctx); err != nil {
		return nil, fmt.Errorf("serve is not ready: %w", err)
	}
	return s, nil
}

// Context ends at the deadline.
func (s *Stack) Context() (context.Context, context.CancelFunc) {
	return context.WithDeadline(context.Background(), s.Deadline)
}

// StartWorker starts a `dearfriend worker` logging to name.log.
func (s *Stack) StartWorker(name string) (*exec.Cmd, error) {
	return s.Start(name, s.Env, s.Bin("dearfriend"), "worker")
}

// Campaign imports n contacts (<prefix>NNNNNN@example.org) into a list
// through the API and makes a draft campaign to it, with fields (of POST
// /api/v1/campaigns) added; it returns the campaign's id.
func (s *Stack) Campaign(prefix string, n int, fields map[string]any) (int64, error) {
	ctx, cancel := s.Context()
	defer cancel()
	emails := make([]string, n)
	for i := range emails {
		emails[i] = fmt.Sprintf("%s%06d@example.org", prefix, i)
	}
	list, err := s.API.ImportList(ctx, emails)
	if err != nil {
		return 0, err
	}
	return s.API.DraftCampaignWith(ctx, list, prefix, fields)
}

// Send starts sending the campaign.
func (s *Stack) Send(camp int64) error {
	ctx, cancel := s.Context()
	defer cancel()
	return s.API.Send(ctx, camp)
}

// WaitSent waits until the campaign is sent.
func (s *Stack) WaitSent(camp int64) error {
	ctx, cancel := s.Context()
	defer cancel()
	if err := s.API.WaitSent(ctx, camp); err != nil {
		sum, _ := s.Sink.Recipients()
		return fmt.Errorf("campaign not finished (sink: %+v; logs in %s): %w", sum, s.Dir, err)
	}
	return nil
}

// Close stops the processes and removes the database and the queue; the
// logs are removed too unless keepLogs.
func (s *Stack) Close(keepLogs bool) {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	if !keepLogs {
		s.Remove()
	}
}
