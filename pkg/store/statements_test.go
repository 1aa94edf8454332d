package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestStatementsByKind: statements that differ only in their values are one
// kind, named by their start with numbers written N; the kinds add up to
// Statements.
func TestStatementsByKind(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		ctx := context.Background()
		before, total := s.StatementsByKind(), s.Statements()
		for _, id := range []int64{7, 123456} {
			if _, err := s.CampaignStatus(ctx, id); err == nil {
				t.Fatalf("campaign %d found in a new database", id)
			}
		}
		after := s.StatementsByKind()
		var added int64
		var kinds []string
		for k, n := range after {
			if d := n - before[k]; d > 0 {
				added += d
				kinds = append(kinds, k)
			}
		}
		if len(kinds) != 1 || after[kinds[0]]-before[kinds[0]] != 2 {
			t.Fatalf("two reads differing in an id gave kinds %q, want one kind counted twice", kinds)
		}
		if k := kinds[0]; !strings.HasPrefix(k, "SELECT campaign.status FROM campaigns") || strings.ContainsAny(k, "\"0123456789") {
			t.Errorf("kind %q: want the statement's start, unquoted, numbers as N", k)
		}
		if got := s.Statements() - total; got != added {
			t.Errorf("kinds add up to %d, Statements to %d", added, got)
		}
	})
}
