package feedback

import (
	"testing"

	"github.com/dearfriend/dearfriend/pkg/config"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// TestJudge: a rate counts only past its minimum sample, at or past its threshold.
func TestJudge(t *testing.T) {
	g := &Guard{policy: config.Feedback{Guard: true, GuardMin: 200, GuardHard: 0.05, GuardBlock: 0.05, GuardComplaint: 0.003, GuardComplaintMin: 1000}}
	for _, tc := range []struct {
		name string
		c    store.GuardCounts
		want string
	}{
		{"too few answered", store.GuardCounts{Attempted: 199, Sent: 100, Hard: 100}, ""},
		{"hard at the threshold", store.GuardCounts{Attempted: 200, Sent: 190, Hard: 10}, "hard"},
		{"hard under", store.GuardCounts{Attempted: 200, Sent: 191, Hard: 9}, ""},
		{"blocks", store.GuardCounts{Attempted: 1000, Sent: 900, Blocked: 100}, "block"},
		{"complaints before their sample", store.GuardCounts{Attempted: 999, Sent: 999, Complaints: 50}, ""},
		{"complaints", store.GuardCounts{Attempted: 1000, Sent: 1000, Complaints: 3}, "complaint"},
		{"complaints under", store.GuardCounts{Attempted: 1000, Sent: 1000, Complaints: 2}, ""},
	} {
		if got, reason := g.judge(tc.c); got != tc.want || (got != "") != (reason != "") {
			t.Errorf("%s: judge(%+v) = %q %q, want %q", tc.name, tc.c, got, reason, tc.want)
		}
	}
}
