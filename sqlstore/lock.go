package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/reauth/reauth"
)

// locker takes the one-run-at-a-time lock of a database. acquire returns a release function, or
// (nil, holder) when another session holds the lock; holder describes it where the database can
// tell ("" otherwise).
type locker interface {
	acquire(ctx context.Context, conn *sql.Conn, name string) (release func(context.Context) error, holder string, err error)
}

// sqlLocker is a lock taken and released by single statements on one session.
type sqlLocker struct {
	acquireSQL, holderSQL, releaseSQL string
	key                               func(name string) any
}

func (l sqlLocker) acquire(ctx context.Context, conn *sql.Conn, name string) (func(context.Context) error, string, error) {
	k := l.key(name)
	var ok int64
	if err := conn.QueryRowContext(ctx, l.acquireSQL, k).Scan(&ok); err != nil {
		return nil, "", err
	}
	if ok != 1 {
		var who sql.NullString
		if err := conn.QueryRowContext(ctx, l.holderSQL, k).Scan(&who); err != nil {
			return nil, "", nil // the lock is held; who holds it is a nicety
		}
		return nil, strings.TrimSpace(who.String), nil
	}
	return func(ctx context.Context) error {
		_, err := conn.ExecContext(ctx, l.releaseSQL, k)
		return err
	}, "", nil
}

// pgLockKey maps a lock name to a positive bigint advisory lock key.
func pgLockKey(name string) any {
	h := fnv.New64a()
	h.Write([]byte(name))
	return int64(h.Sum64() & math.MaxInt64)
}

// The holder query reads pg_locks: a bigint advisory key is stored as classid (high 32 bits)
// and objid (low 32 bits) with objsubid 1.
var pgLocker = sqlLocker{
	acquireSQL: "SELECT CASE WHEN pg_try_advisory_lock($1) THEN 1 ELSE 0 END",
	holderSQL: "SELECT 'pid ' || a.pid || ' application ' || COALESCE(NULLIF(a.application_name, ''), '?') || " +
		"' user ' || COALESCE(a.usename, '?') || ' from ' || COALESCE(host(a.client_addr), 'local socket') || " +
		"' since ' || COALESCE(to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ'), '?') " +
		"FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted " +
		"AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) " +
		"AND ((l.classid::bigint << 32) | l.objid::bigint) = $1 LIMIT 1",
	releaseSQL: "SELECT pg_advisory_unlock($1)",
	key:        pgLockKey,
}

// MySQL lock names are server-wide (not per database) and at most 64 characters.
var mysqlLocker = sqlLocker{
	acquireSQL: "SELECT COALESCE(GET_LOCK(?, 0), 0)",
	holderSQL: "SELECT CONCAT('connection ', p.ID, ' user ', p.USER, ' from ', p.HOST, ' running for ', p.TIME, ' s') " +
		"FROM information_schema.PROCESSLIST p WHERE p.ID = IS_USED_LOCK(?)",
	releaseSQL: "SELECT RELEASE_LOCK(?)",
	key:        func(name string) any { return truncate(name, 64) },
}

// sp_getapplock with a Session owner outlives transactions, and a timeout of 0 answers at once.
var sqlServerLocker = sqlLocker{
	acquireSQL: "DECLARE @r int; EXEC @r = sp_getapplock @Resource = @p1, @LockMode = 'Exclusive', " +
		"@LockOwner = 'Session', @LockTimeout = 0; SELECT CASE WHEN @r >= 0 THEN 1 ELSE 0 END",
	holderSQL: "SELECT TOP (1) CONCAT('session ', s.session_id, ' program ', s.program_name, ' host ', s.host_name, " +
		"' login ', s.login_name) FROM sys.dm_tran_locks l JOIN sys.dm_exec_sessions s ON s.session_id = l.request_session_id " +
		"WHERE l.resource_type = 'APPLICATION' AND l.request_status = 'GRANT' AND l.resource_description LIKE '%' + @p1 + '%'",
	releaseSQL: "EXEC sp_releaseapplock @Resource = @p1, @LockOwner = 'Session'",
	key:        func(name string) any { return truncate(name, 255) },
}

// oracleLocker uses DBMS_LOCK with a numeric user-lock id. Chosen over a lock row because a
// DBMS_LOCK lock belongs to the session: it disappears when reauth's session dies, so a crash
// never leaves a stale lock behind, and it needs no table (no DDL in the product's schema).
// release_on_commit => FALSE keeps it across the purge's batch commits. It needs
// EXECUTE ON SYS.DBMS_LOCK, which the error hint asks the DBA to grant.
type oracleLocker struct{}

const (
	oracleAcquireSQL = "BEGIN :1 := DBMS_LOCK.REQUEST(id => :2, lockmode => DBMS_LOCK.X_MODE, timeout => 0, release_on_commit => FALSE); END;"
	oracleReleaseSQL = "BEGIN :1 := DBMS_LOCK.RELEASE(id => :2); END;"
	oracleHolderSQL  = "SELECT 'sid ' || s.sid || ' program ' || s.program || ' machine ' || s.machine || ' user ' || s.username " +
		"FROM v$lock l JOIN v$session s ON s.sid = l.sid WHERE l.type = 'UL' AND l.id1 = :1 AND l.lmode = 6"
)

// oracleLockID maps a name into DBMS_LOCK's user range 0..1073741823.
func oracleLockID(name string) int64 {
	h := fnv.New32a()
	h.Write([]byte(name))
	return int64(h.Sum32() % 1073741824)
}

func (oracleLocker) acquire(ctx context.Context, conn *sql.Conn, name string) (func(context.Context) error, string, error) {
	id := oracleLockID(name)
	var r int64
	if _, err := conn.ExecContext(ctx, oracleAcquireSQL, sql.Out{Dest: &r}, id); err != nil {
		return nil, "", reauth.WithHint(err, "reauth takes its run lock with DBMS_LOCK: ask the DBA to run "+
			"GRANT EXECUTE ON SYS.DBMS_LOCK TO <product user>")
	}
	switch r {
	case 0, 4: // granted, or already held by this session
	case 1:
		var who sql.NullString
		_ = conn.QueryRowContext(ctx, oracleHolderSQL, id).Scan(&who)
		return nil, who.String, nil
	default:
		return nil, "", fmt.Errorf("DBMS_LOCK.REQUEST returned %d", r)
	}
	return func(ctx context.Context) error {
		var r int64
		_, err := conn.ExecContext(ctx, oracleReleaseSQL, sql.Out{Dest: &r}, id)
		return err
	}, "", nil
}

// fileLocker is SQLite's lock: flock on a file beside the database. The kernel drops the lock
// when the process dies, so a crash leaves no stale lock; the file's text names the holder.
type fileLocker struct{}

func (fileLocker) acquire(_ context.Context, _ *sql.Conn, path string) (func(context.Context) error, string, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, "", fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b := make([]byte, 512)
		n, _ := f.ReadAt(b, 0)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, strings.TrimSpace(string(b[:n])), nil
		}
		return nil, "", fmt.Errorf("lock %s: %w", path, err)
	}
	host, _ := os.Hostname()
	_ = f.Truncate(0)
	_, _ = fmt.Fprintf(f, "pid %d on %s since %s", os.Getpid(), host, time.Now().UTC().Format(time.RFC3339))
	return func(context.Context) error {
		_ = f.Truncate(0)
		return f.Close() // closing drops the flock
	}, "", nil
}

func (Postgres) locker() locker  { return pgLocker }
func (MySQL) locker() locker     { return mysqlLocker }
func (SQLServer) locker() locker { return sqlServerLocker }
func (Oracle) locker() locker    { return oracleLocker{} }
func (SQLite) locker() locker    { return fileLocker{} }

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Lock takes the one-run-at-a-time lock of this database, on a dedicated connection held until
// release. When another run holds it, the error has exit code 5 and names the holder when the
// database can tell.
func (s *Store) Lock(ctx context.Context, purpose string) (release func() error, err error) {
	name := "reauth:" + string(s.db.Engine) + ":" + s.db.Name
	if s.dialect.Engine() == reauth.SQLite {
		name = s.db.Name + ".reauth-lock"
	}
	var conn *sql.Conn
	if s.dialect.Engine() != reauth.SQLite {
		if conn, err = s.sql.Conn(ctx); err != nil {
			return nil, fmt.Errorf("lock: connect: %w", err)
		}
	}
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rel, holder, err := s.dialect.locker().acquire(lctx, conn, name)
	if err == nil && rel == nil {
		if holder == "" {
			holder = "another session (the database does not say which)"
		}
		err = &reauth.Error{Code: reauth.ExitLocked, Op: "lock " + s.db.String(),
			Err:  fmt.Errorf("another reauth run holds the lock: %s", holder),
			Hint: "wait for that run to finish (one run at a time per database), then run this again"}
	}
	if err != nil {
		if conn != nil {
			conn.Close()
		}
		if reauth.CodeOf(err) == reauth.ExitLocked {
			return nil, err
		}
		return nil, fmt.Errorf("lock %s: %w", s.db.String(), err)
	}
	s.log.Info("lock taken", "purpose", purpose, "name", name)
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := rel(ctx)
		if conn != nil {
			if err != nil {
				// The unlock failed: throw the session away rather than return it to the pool
				// still holding the lock (closing a session drops its session locks).
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			}
			if cerr := conn.Close(); err == nil {
				err = cerr
			}
		}
		return err
	}, nil
}
