package delivery

import (
	"log/slog"
	"testing"
	"time"

	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// A worker whose clock is two minutes off neither takes rows another
// worker holds (its clock fast) nor writes leases already over (its clock
// slow), and a sweep on a fast clock finds no lease expired: leases are on
// the database's clock.
func TestSkewedClockKeepsLeases(t *testing.T) {
	t.Parallel()
	const skew = 2 * time.Minute
	tests := []struct {
		name                  string
		holderSkew, takerSkew time.Duration
	}{
		{"the taker's clock is fast", 0, skew},
		{"the holder's clock is slow", -skew, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testenv.EachDatabase(t, func(t *testing.T, dsn string) {
				st := testenv.Store(t, dsn)
				camp, lo, hi := mustStartedCampaign(t, st, claimSize-5)
				p := SendBatchPayload{CampaignID: camp, From: lo, To: hi}
				workerAt := func(skew time.Duration) *Worker {
					w := newTestWorker(t, st, &countingSender{tries: map[string]int{}}, 5)
					w.now = func() time.Time { return time.Now().Add(skew) }
					return w
				}
				holder := workerAt(tt.holderSkew).newHolder(p)
				if _, ok, err := holder.next(t.Context()); err != nil || !ok {
					t.Fatalf("the first worker claimed nothing: %v", err)
				}
				if _, ok, err := workerAt(tt.takerSkew).newHolder(p).next(t.Context()); err != nil || ok {
					t.Errorf("a second worker took a row the first holds (err %v)", err)
				}
				d := NewDispatcher(st, nil, "q", 10, slog.New(slog.DiscardHandler))
				d.clock.local = func() time.Time { return time.Now().Add(skew) }
				if orphans, err := st.OrphanedRanges(t.Context(), camp, 10, d.clock.now(t.Context()), 10); err != nil || len(orphans) != 0 {
					t.Errorf("a sweep on a fast clock found %+v (err %v); want no lease expired", orphans, err)
				}
			})
		})
	}
}
