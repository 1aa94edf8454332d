package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
	"github.com/dearfriend/dearfriend/scripts/internal/benchdb"
)

// database gives dearfriend a database and Redis of its own: PostgreSQL and
// Redis when the test services are set, else SQLite and an in-process Redis.
func database(dir string) (env []string, dsn string, cleanup func(), err error) {
	dsn, redis, cleanup, err := benchdb.Backends(os.Getenv("DEARFRIEND_TEST_DATABASE_URL"), os.Getenv("DEARFRIEND_TEST_REDIS_URL"), "bounceloop")
	if err != nil {
		return nil, "", nil, err
	}
	queue := fmt.Sprintf("bounceloop%d", time.Now().UnixNano())
	if shared := os.Getenv("DEARFRIEND_TEST_REDIS_URL"); shared != "" {
		dropDB := cleanup
		cleanup = func() { testenv.DropQueueKeys(shared, queue); dropDB() } // the shared Redis keeps nothing of ours
	}
	return []string{"DEARFRIEND_DATABASE_URL=" + dsn, "DEARFRIEND_REDIS_URL=" + redis, "DEARFRIEND_QUEUE=" + queue}, dsn, cleanup, nil
}

// checker reads the contacts' state from the database.
type checker struct{ st *store.Store }

func openStore(ctx context.Context, dsn string) (*checker, error) {
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open the database: %w", err)
	}
	return &checker{st}, nil
}

func (c *checker) close() { c.st.Close() }

func (c *checker) contact(ctx context.Context, email string) (status string, suppressed bool, err error) {
	ct, err := c.st.ContactByEmail(ctx, email)
	if err != nil {
		return "", false, fmt.Errorf("contact %s: %w", email, err)
	}
	suppressed, err = c.st.IsSuppressed(ctx, email)
	return ct.Status, suppressed, err
}

func (c *checker) countStatus(ctx context.Context, emails []string, status string) (int, error) {
	n := 0
	for _, e := range emails {
		s, _, err := c.contact(ctx, e)
		if err != nil {
			return 0, err
		}
		if s == status {
			n++
		}
	}
	return n, nil
}

// sends counts a campaign's ledger rows by status.
func (c *checker) sends(ctx context.Context, campaign int64) (map[string]int64, error) {
	st, err := c.st.Stats(ctx, campaign)
	if err != nil {
		return nil, fmt.Errorf("campaign %d: %w", campaign, err)
	}
	return st.Sends, nil
}
