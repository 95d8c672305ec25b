package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	mssql "github.com/microsoft/go-mssqldb"
	goora "github.com/sijms/go-ora/v2"

	"github.com/reauth/reauth"
)

// DefaultConnectTimeout bounds each new database connection (TCP connect, TLS, login) when
// Options.ConnectTimeout is zero: --connect-timeout's default.
const DefaultConnectTimeout = 20 * time.Second

// openDB returns a handle whose every new connection is bounded by timeout and abandoned when
// its context is cancelled (Ctrl-C), on every engine. Drivers differ here: pgx, go-sql-driver
// and go-ora watch the context, but go-mssqldb reads the server's PRELOGIN answer with no
// deadline at all, so a server that accepts TCP and then says nothing held a connect forever,
// and go-ora gives up on time but leaves its socket open. Their connections are dialed through
// watchDialer, which closes them when the connect's context ends before the connect does.
func openDB(db reauth.Database, timeout time.Duration) (*sql.DB, error) {
	d, err := DialectFor(db.Engine)
	if err != nil {
		return nil, err
	}
	_, dsn, err := dsnWithTimeout(db, timeout)
	if err != nil {
		return nil, err
	}
	inner, err := d.connector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(boundedConnector{inner: inner, timeout: timeout}), nil
}

// go-mssqldb reads the server's PRELOGIN answer with no deadline: its dialer is watched.
func (SQLServer) connector(dsn string) (driver.Connector, error) {
	c, err := mssql.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	c.Dialer = watchDialer{}
	return c, nil
}

// go-ora returns on time but left the socket open: its dialer is watched.
func (Oracle) connector(dsn string) (driver.Connector, error) {
	c := goora.NewConnector(dsn).(*goora.OracleConnector)
	c.Dialer(watchDialer{})
	return c, nil
}

// pgx, go-sql-driver and the SQLite driver watch the connect's context themselves.
func (d Postgres) connector(dsn string) (driver.Connector, error) {
	return driverConnector(d.Driver(), dsn)
}
func (d MySQL) connector(dsn string) (driver.Connector, error) {
	return driverConnector(d.Driver(), dsn)
}
func (d SQLite) connector(dsn string) (driver.Connector, error) {
	return driverConnector(d.Driver(), dsn)
}

// driverConnector is the registered driver's own connector for dsn.
func driverConnector(name, dsn string) (driver.Connector, error) {
	h, err := sql.Open(name, dsn)
	if err != nil {
		return nil, err
	}
	drv := h.Driver()
	h.Close()
	if dc, ok := drv.(driver.DriverContext); ok {
		return dc.OpenConnector(dsn)
	}
	return dsnConnector{drv: drv, dsn: dsn}, nil
}

// boundedConnector gives every Connect at most timeout, and closes the connections its dialer
// saw (watchDialer) once the context ends first.
type boundedConnector struct {
	inner   driver.Connector
	timeout time.Duration
}

func (c boundedConnector) Driver() driver.Driver { return c.inner.Driver() }

func (c boundedConnector) Connect(ctx context.Context) (driver.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	w := &connWatch{}
	ctx = context.WithValue(ctx, connWatchKey{}, w)
	stop := context.AfterFunc(ctx, w.abort)
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		w.abort() // a failed connect's socket is of no use (go-ora left it open after its own timeout)
	}
	if !stop() { // the context ended first: the connect was cut short, or just made it
		if err == nil {
			conn.Close()
		}
		return nil, fmt.Errorf("connect: %w", ctx.Err())
	}
	return conn, err
}

type dsnConnector struct {
	drv driver.Driver
	dsn string
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.drv }

type connWatchKey struct{}

// connWatch holds the network connections one Connect dialed, to close them if it is abandoned.
type connWatch struct {
	mu      sync.Mutex
	conns   []net.Conn
	aborted bool
}

func (w *connWatch) add(c net.Conn) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.aborted {
		return false
	}
	w.conns = append(w.conns, c)
	return true
}

func (w *connWatch) abort() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.aborted = true
	for _, c := range w.conns {
		c.Close()
	}
}

// watchDialer dials TCP and registers the connection with the Connect that asked for it.
type watchDialer struct{}

func (watchDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if w, ok := ctx.Value(connWatchKey{}).(*connWatch); ok && !w.add(c) {
		c.Close()
		return nil, errors.New("connect abandoned")
	}
	return c, nil
}

// connectError is Open's error when the first connection fails: interrupted (exit 130) when the
// caller's context was cancelled, a timeout that names --connect-timeout, or the driver's error.
func connectError(ctx, cctx context.Context, db reauth.Database, timeout time.Duration, err error) error {
	msg := redact(err.Error(), db)
	switch {
	case ctx.Err() != nil:
		return &reauth.Error{Code: reauth.ExitInterrupted, Op: "connect to " + db.String(),
			Err: fmt.Errorf("%w while connecting; nothing was changed", reauth.ErrInterrupted)}
	case cctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return reauth.Failed("check that host and port are the database's (a firewall or proxy may accept the connection and never answer), or allow more time with --connect-timeout",
			"connect to %s: no answer within %s (%s)", db.String(), timeout, msg)
	}
	return reauth.Failed("check the host, port, database name, user and password (REAUTH_DB_PASSWORD overrides the config's)",
		"connect to %s: %s", db.String(), msg)
}

// isTimeout: the driver's own deadline (the DSN's timeout, the same bound) ended the connect.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || strings.Contains(err.Error(), "i/o timeout")
}
