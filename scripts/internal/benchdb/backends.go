package benchdb

import (
	"os"
	"path/filepath"

	"github.com/dearfriend/dearfriend/pkg/devsvc"
)

// Backends gives a benchmark a database and a Redis of its own: a PostgreSQL
// database made through pgAdmin (prefix names it), or a SQLite file in a
// temporary folder when pgAdmin is empty; redisURL, or an in-process Redis
// when it is empty. cleanup removes what Backends made.
func Backends(pgAdmin, redisURL, prefix string) (dsn, redis string, cleanup func(), err error) {
	var undo []func()
	cleanup = func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", "", nil, err
	}
	undo = append(undo, func() { os.RemoveAll(dir) })
	dsn = filepath.Join(dir, "bench.db")
	if pgAdmin != "" {
		if dsn, err = Create(pgAdmin, prefix); err != nil {
			cleanup()
			return "", "", nil, err
		}
		undo = append(undo, func() { Drop(pgAdmin, dsn) })
	}
	if redis = redisURL; redis == "" {
		r, err := devsvc.StartRedis("127.0.0.1:0")
		if err != nil {
			cleanup()
			return "", "", nil, err
		}
		undo = append(undo, func() { r.Close() })
		redis = "redis://" + r.Addr()
	}
	return dsn, redis, cleanup, nil
}
