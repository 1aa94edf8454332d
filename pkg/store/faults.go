package store

import (
	"context"
	"database/sql/driver"
	"errors"

	"github.com/dearfriend/dearfriend/pkg/config"
)

// OpenOption adjusts Open.
type OpenOption func(*openOptions)

type openOptions struct {
	fault func(query string) error
	pool  config.Pool // WithPool
}

// WithFault makes every statement and transaction pass through fault first:
// a non-nil error fails it as the database would. It is the seam of the
// fault tests (a full disk under SQLite, say), which cannot fill a real disk
// on a shared machine; production never sets it. fault sees the statement's
// SQL, or "BEGIN" for a transaction.
func WithFault(fault func(query string) error) OpenOption {
	return func(o *openOptions) { o.fault = fault }
}

// faultConnector opens the driver's connections wrapped in faultConn.
type faultConnector struct {
	drv   driver.Driver
	dsn   string
	fault func(string) error
}

func (c *faultConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &faultConn{Conn: conn, fault: c.fault}, nil
}

func (c *faultConnector) Driver() driver.Driver { return c.drv }

// faultConn offers no ExecerContext or QueryerContext, so database/sql
// prepares every statement, and each one meets the fault.
type faultConn struct {
	driver.Conn
	fault func(string) error
}

func (c *faultConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *faultConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if err := c.fault(query); err != nil {
		return nil, err
	}
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		return p.PrepareContext(ctx, query)
	}
	return c.Conn.Prepare(query)
}

func (c *faultConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *faultConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if err := c.fault("BEGIN"); err != nil {
		return nil, err
	}
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	return nil, errors.New("store: driver without BeginTx")
}
