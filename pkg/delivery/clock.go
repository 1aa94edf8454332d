package delivery

import (
	"context"
	"sync"
	"time"
)

// clockCheck is how often a process measures its clock against the
// database's: an NTP step or a drift is followed within it.
const clockCheck = 10 * time.Second

// clocker reads the database's clock (store.Store.Now).
type clocker interface {
	Now(ctx context.Context) (time.Time, error)
}

// dbClock tells the time on the database's clock from the process's own
// and their difference, measured every clockCheck. Lease times are taken
// from it: a worker whose clock is two minutes fast would otherwise see a
// live lease as expired and take its rows, and one two minutes slow would
// write leases already over.
type dbClock struct {
	db    clocker
	local func() time.Time

	mu       sync.Mutex
	offset   time.Duration // database minus local
	measured time.Time     // local time of the last measure; zero: never
}

// now returns the database's time; when it cannot be read, the last offset
// known (none at first) is used, and measured again at the next call.
func (c *dbClock) now(ctx context.Context) time.Time {
	local := c.local()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.measured.IsZero() || local.Sub(c.measured) >= clockCheck || local.Before(c.measured) {
		before := c.local()
		db, err := c.db.Now(ctx)
		after := c.local()
		if err == nil {
			// The database read its clock about halfway through the round trip.
			c.offset = db.Sub(before.Add(after.Sub(before) / 2))
			c.measured, local = after, after
		}
	}
	return local.Add(c.offset)
}
