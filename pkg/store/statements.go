package store

import (
	"context"
	"sync/atomic"

	"github.com/uptrace/bun"
)

// statementCounter is a bun query hook that counts the statements run and
// the transactions begun, for benchmarks that report SQL statements per
// message on SQLite as on PostgreSQL (where pg_stat_statements is seldom
// installed).
type statementCounter struct{ n, tx atomic.Int64 }

func (c *statementCounter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

func (c *statementCounter) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	switch e.Query { // bun reports transaction control as these queries
	case "BEGIN":
		c.tx.Add(1)
	case "COMMIT", "ROLLBACK":
	default:
		c.n.Add(1)
	}
}

// Statements is how many SQL statements this Store has run through bun since
// it was opened: queries, inserts, updates, deletes and raw SQL, whether they
// succeeded or not; BEGIN, COMMIT and ROLLBACK are not counted.
func (s *Store) Statements() int64 { return s.statements.n.Load() }

// Transactions is how many transactions this Store has begun.
func (s *Store) Transactions() int64 { return s.statements.tx.Load() }
