package purge

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/reauth/reauth/internal/testenv"
)

// engine is what differs between PostgreSQL and MariaDB: the real Jira DDL, how to load rows
// fast, how the KB's manual dump is taken, and the login statement.
type engine struct {
	name string
	// server is the database server's process name (comm), to see when it is idle (settle).
	server string
	open   func(testing.TB) *testenv.DB
	// ddl is the Jira token table as the real dumps create it (realcases/schema).
	ddl []string
	// load fills the empty table with ids 1..n (one %d) over 10,000 users; settle then runs what
	// a long-lived production table has had done to it (statistics, vacuum, a checkpoint) so
	// that no measurement pays for the load.
	load, truncate string
	settle         []string
	// login is one token row as the product inserts it at login (id, token, username).
	login string
	// dump writes the KB's dump of the table to stdout, as a command with its environment.
	dump func(ctx context.Context, db *testenv.DB) (*exec.Cmd, error)
	// loginDSN opens the login loop's own connection pool.
	loginDSN func(db *testenv.DB) (driver, dsn string, err error)
}

var engines = []engine{
	{
		name:   "postgres",
		server: "postgres",
		open:   testenv.Postgres,
		ddl: []string{
			"CREATE TABLE public.remembermetoken (id numeric(18,0) NOT NULL, created timestamp with time zone, token character varying(255), username character varying(255))",
			"ALTER TABLE ONLY public.remembermetoken ADD CONSTRAINT pk_remembermetoken PRIMARY KEY (id)",
			"CREATE INDEX remembermetoken_username_index ON public.remembermetoken USING btree (username)",
		},
		load: "INSERT INTO remembermetoken SELECT g, timestamptz '2025-03-01 12:00:00+00' - g * interval '1 second', md5(g::text), 'user' || (g %% 10000) " +
			"FROM generate_series(1, %d) g",
		truncate: "TRUNCATE remembermetoken",
		// VACUUM sets the hint bits and visibility map a long-lived table has (else the first
		// reader of fresh rows pays for writing them); CHECKPOINT keeps the load's WAL from
		// being flushed during a measurement.
		settle: []string{"VACUUM ANALYZE remembermetoken", "CHECKPOINT"},
		login:  "INSERT INTO remembermetoken (id, created, token, username) VALUES ($1, now(), $2, $3)",
		dump: func(ctx context.Context, db *testenv.DB) (*exec.Cmd, error) {
			bin, err := tool("/usr/lib/postgresql/15/bin/pg_dump", "pg_dump")
			if err != nil {
				return nil, err
			}
			cmd := exec.CommandContext(ctx, bin, "-h", db.Host, "-p", strconv.Itoa(db.Port), "-U", db.User, "-d", db.Name, "-t", "public.remembermetoken")
			cmd.Env = append(os.Environ(), "PGPASSWORD="+db.Pass)
			return cmd, nil
		},
		loginDSN: func(db *testenv.DB) (string, string, error) { return "pgx", db.URL, nil },
	},
	{
		name:   "mariadb",
		server: "mariadbd",
		open:   testenv.MariaDB,
		ddl: []string{
			"CREATE TABLE `remembermetoken` (`ID` decimal(18,0) NOT NULL, `CREATED` datetime DEFAULT NULL, `TOKEN` varchar(255) DEFAULT NULL, " +
				"`USERNAME` varchar(255) DEFAULT NULL, PRIMARY KEY (`ID`), KEY `remembermetoken_username_index` (`USERNAME`)) ENGINE=InnoDB DEFAULT CHARSET=latin1",
		},
		// seq_1_to_N is MariaDB's built-in Sequence engine: one INSERT … SELECT, no client round trips.
		load: "INSERT INTO remembermetoken SELECT seq, TIMESTAMP'2025-03-01 12:00:00' - INTERVAL seq SECOND, MD5(seq), CONCAT('user', seq %% 10000) " +
			"FROM seq_1_to_%d",
		truncate: "TRUNCATE TABLE remembermetoken",
		settle:   []string{"ANALYZE TABLE remembermetoken"},
		login:    "INSERT INTO remembermetoken (`ID`, `CREATED`, `TOKEN`, `USERNAME`) VALUES (?, NOW(), ?, ?)",
		dump: func(ctx context.Context, db *testenv.DB) (*exec.Cmd, error) {
			bin, err := tool("", "mariadb-dump", "mysqldump")
			if err != nil {
				return nil, err
			}
			// --single-transaction: the consistent, non-locking dump of an InnoDB table that a
			// careful admin takes (the default --lock-tables would block logins for the dump).
			cmd := exec.CommandContext(ctx, bin, "--no-defaults", "-h", db.Host, "-P", strconv.Itoa(db.Port), "-u", db.User,
				"--single-transaction", db.Name, "remembermetoken")
			cmd.Env = append(os.Environ(), "MYSQL_PWD="+db.Pass)
			return cmd, nil
		},
		loginDSN: func(db *testenv.DB) (string, string, error) {
			cfg, err := mysql.ParseDSN(db.URL)
			if err != nil {
				return "", "", err
			}
			// One round trip per login, as a JDBC driver with cached statements does, instead of
			// prepare + execute + close.
			cfg.InterpolateParams = true
			return "mysql", cfg.FormatDSN(), nil
		},
	},
}

// tool finds a client program: path if it exists, else the first name on PATH.
func tool(path string, names ...string) (string, error) {
	if path != "" {
		if _, err := os.Stat(path); err == nil {
			return path, nil
		}
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%v not installed", names)
}

// execAll runs statements with a timeout each.
func execAll(ctx context.Context, db *sql.DB, stmts ...string) error {
	for _, s := range stmts {
		c, cancel := context.WithTimeout(ctx, 10*time.Minute)
		_, err := db.ExecContext(c, s)
		cancel()
		if err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// reload empties the table and loads ids 1..rows again, settled; it returns the load time.
func (e engine) reload(ctx context.Context, db *sql.DB, rows int) (time.Duration, error) {
	t0 := time.Now()
	if err := execAll(ctx, db, e.truncate, fmt.Sprintf(e.load, rows)); err != nil {
		return 0, err
	}
	if err := execAll(ctx, db, e.settle...); err != nil {
		return 0, err
	}
	return time.Since(t0), nil
}

// leftBelow counts rows with id <= rows: what a complete purge of the loaded rows leaves (0).
func leftBelow(ctx context.Context, db *sql.DB, rows int) (int64, error) {
	c, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var n int64
	err := db.QueryRowContext(c, fmt.Sprintf("SELECT COUNT(*) FROM remembermetoken WHERE id <= %d", rows)).Scan(&n)
	return n, err
}

// serverCPU is the CPU time in seconds used so far by every process named name: the database
// server, which runs on this machine (loopback) for the benchmark. Linux /proc only.
func serverCPU(name string) (float64, error) {
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return 0, err
	}
	var ticks float64
	found := false
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // the process ended
		}
		s := string(b)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open || s[open+1:end] != name {
			continue
		}
		f := strings.Fields(s[end+1:]) // f[0] is the state: utime and stime are fields 14 and 15
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		ticks += u + st
		found = true
	}
	if !found {
		return 0, fmt.Errorf("no %s process on this machine", name)
	}
	return ticks / 100, nil // USER_HZ
}

// settle waits until the database server is idle (under 10% of a core for two seconds: InnoDB's
// purge can take a second to start) and
// returns how long it stayed busy after a step returned: the work the step left for later. A
// bare InnoDB DELETE returns with every deleted row still to be purged in the background
// (about 10 s of a core per million rows here), while a batched purge has its batches purged
// as it goes; timing the statements alone leaves that out.
func settle(ctx context.Context, name string) (time.Duration, error) {
	return settleWithin(ctx, name, 3*time.Minute)
}

// settleWithin is settle giving up after limit with an error (the server is shared and others
// keep it busy: -baseline runs go on after a shorter wait, and count it).
func settleWithin(ctx context.Context, name string, limit time.Duration) (time.Duration, error) {
	const tick, idleTicks = 250 * time.Millisecond, 8
	t0 := time.Now()
	last, err := serverCPU(name)
	if err != nil {
		return 0, err
	}
	busyUntil, idle := t0, 0
	for time.Since(t0) < limit {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(tick):
		}
		c, err := serverCPU(name)
		if err != nil {
			return 0, err
		}
		if c-last < 0.1*tick.Seconds() {
			if idle++; idle >= idleTicks {
				return busyUntil.Sub(t0), nil
			}
		} else {
			idle, busyUntil = 0, time.Now()
		}
		last = c
	}
	return 0, fmt.Errorf("%s still busy after %s", name, limit)
}

// reloader returns the step that opens every measurement: load the rows again and wait for the
// server to be idle, so that no step pays for the previous one's leftovers (or the load's). With
// loadS it keeps the last load time there. With unsettled nil a server still busy after settle's
// limit ends the benchmark; otherwise the step waits at most 30 s and counts it in *unsettled
// (other tenants keep the shared server busy: -baseline runs go on, and say so).
func reloader(ctx context.Context, b *testing.B, e engine, db *testenv.DB, rows int, loadS *float64, unsettled *int) func() {
	must := fatalOn(b)
	return func() {
		b.Helper()
		d, err := e.reload(ctx, db.SQL, rows)
		must(err)
		if loadS != nil {
			*loadS = round(d.Seconds(), 3)
		}
		if unsettled == nil {
			_, err = settle(ctx, e.server)
			must(err)
		} else if _, err := settleWithin(ctx, e.server, 30*time.Second); err != nil {
			*unsettled++
		}
	}
}
