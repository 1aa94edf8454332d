package store

import (
	"context"
	"maps"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/uptrace/bun"
)

// statementCounter is a bun query hook that counts the statements run and
// the transactions begun, for benchmarks that report SQL statements per
// message on SQLite as on PostgreSQL (where pg_stat_statements is seldom
// installed), and the statements by kind (StatementsByKind).
type statementCounter struct {
	n, tx atomic.Int64

	mu    sync.Mutex
	kinds map[string]int64
}

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
		k := statementKind(e.Query)
		c.mu.Lock()
		if c.kinds == nil {
			c.kinds = map[string]int64{}
		}
		if _, ok := c.kinds[k]; !ok && len(c.kinds) >= maxKinds {
			k = otherKinds // a long-lived process's map stays bounded
		}
		c.kinds[k]++
		c.mu.Unlock()
	}
}

const (
	// kindLen is how much of a statement names its kind.
	kindLen = 56
	// maxKinds bounds the kinds kept apart: a value that is not a number
	// (a token, an address) early in a statement makes a kind of its own.
	maxKinds = 512
	// otherKinds counts the statements of kinds beyond maxKinds.
	otherKinds = "(other kinds)"
)

// statementKind is the start of a statement, its quotes dropped, spaces
// folded and numbers written N, so that statements that differ only in
// their values are one kind.
func statementKind(q string) string {
	var b strings.Builder
	space, digit := false, false
	for _, r := range q {
		if b.Len() >= kindLen {
			break
		}
		switch {
		case r == '"' || r == '`':
			continue
		case r == ' ' || r == '\n' || r == '\t' || r == '\r':
			space, digit = true, false
			continue
		case r >= '0' && r <= '9':
			if digit {
				continue
			}
			r, digit = 'N', true
		default:
			digit = false
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// Statements is how many SQL statements this Store has run through bun since
// it was opened: queries, inserts, updates, deletes and raw SQL, whether they
// succeeded or not; BEGIN, COMMIT and ROLLBACK are not counted.
func (s *Store) Statements() int64 { return s.statements.n.Load() }

// StatementsByKind is Statements by the start of each statement, numbers
// written N (a copy: benchmarks subtract two of them).
func (s *Store) StatementsByKind() map[string]int64 {
	c := s.statements
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.kinds)
}

// Transactions is how many transactions this Store has begun.
func (s *Store) Transactions() int64 { return s.statements.tx.Load() }
