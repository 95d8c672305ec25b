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
	"sync"
	"syscall"
	"time"

	"github.com/reauth/reauth"
)

// locker takes the one-run-at-a-time lock of a database. acquire returns the held lock, or
// (nil, holder) when another session holds the lock; holder describes it where the database can
// tell ("" otherwise).
type locker interface {
	acquire(ctx context.Context, conn *sql.Conn, name string) (held heldLock, holder string, err error)
	// scopeSQL asks the server which database the session is in: the lock is named after the
	// database as the server knows it, not as the JDBC URL spells it ("" for SQLite's file lock,
	// which needs no session).
	scopeSQL() string
	// family is the lock name's engine family: one server protocol, one family, whatever word
	// the URL used for it (jdbc:mysql and jdbc:mariadb to one server must contend).
	family() string
	// idleSQL asks the server for the shortest idle timeout that would end the session: one row
	// of the setting's name and its value in milliseconds, no row when none is set ("" when the
	// engine has none reauth knows of). The keep-alive is derived from it (lockkeep.go).
	idleSQL() string
}

// heldLock is a lock this process holds. held answers false (nil error) when the database no
// longer counts this session as the holder: the session died (idle timeout, killed backend,
// failover) and with it the lock, so another run may have taken it.
type heldLock struct {
	held    func(context.Context) (bool, error)
	release func(context.Context) error
	// note records what the holder is doing where a colleague reads it (nil: nowhere).
	note func(context.Context, string) error
}

// sqlLocker is a lock taken, checked and released by single statements on one session.
type sqlLocker struct {
	acquireSQL, holderSQL, checkSQL, releaseSQL, scope string
	fam, idle                                          string
	// noteSQL sets the lock session's visible note to its one argument ("" = none).
	noteSQL string
	key     func(name string) any
}

func (l sqlLocker) scopeSQL() string { return l.scope }
func (l sqlLocker) family() string   { return l.fam }
func (l sqlLocker) idleSQL() string  { return l.idle }

func (l sqlLocker) acquire(ctx context.Context, conn *sql.Conn, name string) (heldLock, string, error) {
	k := l.key(name)
	var ok int64
	if err := conn.QueryRowContext(ctx, l.acquireSQL, k).Scan(&ok); err != nil {
		return heldLock{}, "", err
	}
	if ok != 1 {
		var who sql.NullString
		if err := conn.QueryRowContext(ctx, l.holderSQL, k).Scan(&who); err != nil {
			return heldLock{}, "", nil // the lock is held; who holds it is a nicety
		}
		return heldLock{}, strings.TrimSpace(who.String), nil
	}
	h := heldLock{
		held: func(ctx context.Context) (bool, error) {
			var n int64
			if err := conn.QueryRowContext(ctx, l.checkSQL, k).Scan(&n); err != nil {
				return false, err
			}
			return n == 1, nil
		},
		release: func(ctx context.Context) error {
			_, err := conn.ExecContext(ctx, l.releaseSQL, k)
			return err
		},
	}
	if l.noteSQL != "" {
		h.note = func(ctx context.Context, note string) error {
			var ignored sql.NullString
			return conn.QueryRowContext(ctx, l.noteSQL, note).Scan(&ignored)
		}
	}
	return h, "", nil
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
	checkSQL: "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid() " +
		"AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = $1",
	releaseSQL: "SELECT pg_advisory_unlock($1)",
	// The holder query above shows application_name: the lock session's note (who, what phase).
	noteSQL: "SELECT set_config('application_name', $1, false)",
	scope:   "SELECT current_database()",
	fam:     string(reauth.Postgres),
	key:     pgLockKey,
	// In milliseconds; PostgreSQL 14 and later (no row before). Not
	// idle_in_transaction_session_timeout: the lock's session runs single autocommit statements
	// and is never idle inside a transaction, so that one cannot end it.
	idle: "SELECT name, setting::bigint FROM pg_settings WHERE name = 'idle_session_timeout' AND setting::bigint > 0",
}

// MySQL lock names are server-wide (not per database) and at most 64 characters. The scope
// folds case where the server does (lower_case_table_names), so JIRADB and jiradb contend.
var mysqlLocker = sqlLocker{
	acquireSQL: "SELECT COALESCE(GET_LOCK(?, 0), 0)",
	holderSQL: "SELECT CONCAT('connection ', p.ID, ' user ', p.USER, ' from ', p.HOST, ' running for ', p.TIME, ' s') " +
		"FROM information_schema.PROCESSLIST p WHERE p.ID = IS_USED_LOCK(?)",
	checkSQL:   "SELECT COALESCE(IS_USED_LOCK(?) = CONNECTION_ID(), 0)",
	releaseSQL: "SELECT RELEASE_LOCK(?)",
	scope:      "SELECT CASE WHEN @@lower_case_table_names = 0 THEN DATABASE() ELSE LOWER(DATABASE()) END",
	fam:        string(reauth.MySQL), // MariaDB too: one protocol, one server
	key:        func(name string) any { return truncate(name, 64) },
	// The session's value: the server copied wait_timeout (or interactive_timeout) into it at connect.
	idle: "SELECT 'wait_timeout', @@SESSION.wait_timeout * 1000",
}

// sp_getapplock with a Session owner outlives transactions, and a timeout of 0 answers at once.
var sqlServerLocker = sqlLocker{
	acquireSQL: "DECLARE @r int; EXEC @r = sp_getapplock @Resource = @p1, @LockMode = 'Exclusive', " +
		"@LockOwner = 'Session', @LockTimeout = 0; SELECT CASE WHEN @r >= 0 THEN 1 ELSE 0 END",
	holderSQL: "SELECT TOP (1) CONCAT('session ', s.session_id, ' program ', s.program_name, ' host ', s.host_name, " +
		"' login ', s.login_name) FROM sys.dm_tran_locks l JOIN sys.dm_exec_sessions s ON s.session_id = l.request_session_id " +
		"WHERE l.resource_type = 'APPLICATION' AND l.request_status = 'GRANT' AND l.resource_description LIKE '%' + @p1 + '%'",
	checkSQL:   "SELECT CASE WHEN APPLOCK_MODE('public', @p1, 'Session') = 'Exclusive' THEN 1 ELSE 0 END",
	releaseSQL: "EXEC sp_releaseapplock @Resource = @p1, @LockOwner = 'Session'",
	scope:      "SELECT DB_NAME()",
	fam:        string(reauth.SQLServer),
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

// The lock is named after the schema the session works in (DBMS_LOCK ids are instance-wide).
func (oracleLocker) family() string { return string(reauth.Oracle) }

// idleSQL: a profile's IDLE_TIME needs DBA_PROFILES to read; not derived.
func (oracleLocker) idleSQL() string { return "" }

func (oracleLocker) scopeSQL() string {
	return "SELECT SYS_CONTEXT('USERENV', 'DB_NAME') || '.' || SYS_CONTEXT('USERENV', 'CURRENT_SCHEMA') FROM DUAL"
}

func (oracleLocker) acquire(ctx context.Context, conn *sql.Conn, name string) (heldLock, string, error) {
	id := oracleLockID(name)
	var r int64
	if _, err := conn.ExecContext(ctx, oracleAcquireSQL, sql.Out{Dest: &r}, id); err != nil {
		return heldLock{}, "", reauth.WithHint(err, "reauth takes its run lock with DBMS_LOCK: ask the DBA to run "+
			"GRANT EXECUTE ON SYS.DBMS_LOCK TO <product user>")
	}
	switch r {
	case 0, 4: // granted, or already held by this session
	case 1:
		var who sql.NullString
		_ = conn.QueryRowContext(ctx, oracleHolderSQL, id).Scan(&who)
		return heldLock{}, who.String, nil
	default:
		return heldLock{}, "", fmt.Errorf("DBMS_LOCK.REQUEST returned %d", r)
	}
	return heldLock{
		// Asking again answers 4 ("already own it") while this session holds the lock; it needs
		// no grant on v$lock. Any other answer means the lock was lost (a 0 re-took it: another
		// run may have held it meanwhile, so it still counts as lost).
		held: func(ctx context.Context) (bool, error) {
			var r int64
			if _, err := conn.ExecContext(ctx, oracleAcquireSQL, sql.Out{Dest: &r}, id); err != nil {
				return false, err
			}
			return r == 4, nil
		},
		release: func(ctx context.Context) error {
			var r int64
			_, err := conn.ExecContext(ctx, oracleReleaseSQL, sql.Out{Dest: &r}, id)
			return err
		},
	}, "", nil
}

// fileLocker is SQLite's lock: flock on a file beside the database. The kernel drops the lock
// when the process dies, so a crash leaves no stale lock; the file's text names the holder.
type fileLocker struct{}

func (fileLocker) scopeSQL() string { return "" }
func (fileLocker) family() string   { return string(reauth.SQLite) }
func (fileLocker) idleSQL() string  { return "" }

func (fileLocker) acquire(_ context.Context, _ *sql.Conn, path string) (heldLock, string, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return heldLock{}, "", fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b := make([]byte, 512)
		n, _ := f.ReadAt(b, 0)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return heldLock{}, strings.TrimSpace(string(b[:n])), nil
		}
		return heldLock{}, "", fmt.Errorf("lock %s: %w", path, err)
	}
	since := time.Now()
	_ = fileNote(f, since, "")
	return heldLock{
		note: func(_ context.Context, note string) error { return fileNote(f, since, note) },
		// The flock lives as long as the open file, but a lock file removed (or replaced) under
		// it lets another run lock a new file at the same path: held only while the path is
		// still the file locked.
		held: func(context.Context) (bool, error) {
			a, err1 := f.Stat()
			b, err2 := os.Stat(path)
			if err1 != nil || err2 != nil {
				return false, nil
			}
			return os.SameFile(a, b), nil
		},
		release: func(context.Context) error {
			_ = f.Truncate(0)
			return f.Close() // closing drops the flock
		},
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
// database can tell. The lock is named after the database as the server reports it, so two
// spellings of one database (jdbc:mysql and jdbc:mariadb, a host alias) contend. While it is
// held, a background check keeps its session alive, and CheckLock (run before every purge
// batch) reports a lost lock. One Store holds one lock at a time.
func (s *Store) Lock(ctx context.Context, purpose string) (release func() error, err error) {
	s.lockMu.Lock()
	defer s.lockMu.Unlock()
	if s.lock != nil {
		return nil, fmt.Errorf("lock %s: this store already holds the run lock (%s)", s.db.String(), s.lock.name)
	}
	var conn *sql.Conn
	if s.dialect.locker().scopeSQL() != "" { // a server's lock lives on one session
		if conn, err = s.sql.Conn(ctx); err != nil {
			return nil, fmt.Errorf("lock: connect: %w", err)
		}
	}
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	every, idle, err := s.keepAlivePeriod(lctx, conn)
	if err != nil {
		if conn != nil {
			conn.Close()
		}
		return nil, err
	}
	name, err := s.lockName(lctx, conn)
	var held heldLock
	var holder string
	if err == nil {
		held, holder, err = s.dialect.locker().acquire(lctx, conn, name)
	}
	if err == nil && held.release == nil {
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
	l := &runLock{name: name, held: held, conn: conn, stop: make(chan struct{}), done: make(chan struct{}), every: every,
		base: s.keepAliveBase(), idle: idle}
	go l.keepAlive()
	s.lock = l
	s.log.Info("lock taken", "purpose", purpose, "name", name, "keep_alive", every)
	var once sync.Once
	return func() error {
		var err error
		once.Do(func() { err = s.unlock(l) })
		return err
	}, nil
}

// lockName is "reauth:<engine family>:<database as the server names it>"; SQLite's is the lock
// file beside the database.
func (s *Store) lockName(ctx context.Context, conn *sql.Conn) (string, error) {
	q := s.dialect.locker().scopeSQL()
	if q == "" {
		return s.db.Name + ".reauth-lock", nil
	}
	var scope sql.NullString
	if err := conn.QueryRowContext(ctx, q).Scan(&scope); err != nil {
		return "", fmt.Errorf("ask the server which database this is: %w", err)
	}
	return "reauth:" + s.dialect.locker().family() + ":" + scope.String, nil
}

func (s *Store) unlock(l *runLock) error {
	close(l.stop)
	<-l.done
	s.lockMu.Lock()
	if s.lock == l {
		s.lock = nil
	}
	s.lockMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.held.release(ctx)
	if l.conn != nil {
		if err != nil || l.lost != nil {
			// The unlock failed (or the session is gone): throw the session away rather than
			// return it to the pool still holding the lock (closing a session drops its locks).
			_ = l.conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		if cerr := l.conn.Close(); err == nil {
			err = cerr
		}
	}
	if l.lost != nil {
		return nil // nothing left to release; the loss was reported where it was seen
	}
	return err
}

// CheckLock reports whether the run lock this store holds is still held: nil when it is (or
// when the store holds none), an error wrapping ErrLockLost once it is lost. Long runs call it
// before each step that changes something (every purge batch, every node).
func (s *Store) CheckLock(ctx context.Context) error {
	if s.parent != nil { // a companion table: its parent's run lock covers it
		return s.parent.CheckLock(ctx)
	}
	s.lockMu.Lock()
	l := s.lock
	s.lockMu.Unlock()
	if l == nil {
		return nil
	}
	return l.check(ctx)
}
