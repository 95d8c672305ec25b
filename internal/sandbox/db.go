package sandbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"

	"github.com/reauth/reauth"
)

// dbTarget is the sandbox's database, parsed from Options.DB (or the embedded SQLite file).
type dbTarget struct {
	Engine   reauth.Engine
	Host     string
	Port     int
	Name     string // database name, or the SQLite file path
	User     string
	Password string
}

// parseDBURL accepts "" (SQLite file sqlitePath), postgres://, postgresql://, mysql:// and
// mariadb:// URLs. It never puts the password in an error.
func parseDBURL(raw, sqlitePath string) (dbTarget, error) {
	if raw == "" {
		return dbTarget{Engine: reauth.SQLite, Name: sqlitePath}, nil
	}
	if p, ok := strings.CutPrefix(raw, "sqlite:"); ok {
		p = strings.TrimPrefix(p, "//")
		if p == "" || !strings.HasPrefix(p, "/") {
			return dbTarget{}, reauth.Usage("give an absolute path: sqlite:/abs/path/file.db", "--db sqlite: needs an absolute file path")
		}
		return dbTarget{Engine: reauth.SQLite, Name: p}, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return dbTarget{}, reauth.Usage(dbHint, "--db: not a URL (%s)", redactURL(raw))
	}
	t := dbTarget{Host: u.Hostname(), Name: strings.TrimPrefix(u.Path, "/"), User: u.User.Username()}
	t.Password, _ = u.User.Password()
	switch u.Scheme {
	case "postgres", "postgresql":
		t.Engine, t.Port = reauth.Postgres, 5432
	case "mysql", "mariadb":
		t.Engine, t.Port = reauth.MariaDB, 3306
	default:
		return dbTarget{}, reauth.Usage(dbHint, "--db: unsupported scheme %q", u.Scheme)
	}
	if p := u.Port(); p != "" {
		if t.Port, err = strconv.Atoi(p); err != nil {
			return dbTarget{}, reauth.Usage(dbHint, "--db: bad port %q", p)
		}
	}
	if t.Host == "" || t.Name == "" || t.User == "" {
		return dbTarget{}, reauth.Usage(dbHint, "--db %s: needs a user, a host and a database name", redactURL(raw))
	}
	return t, nil
}

const dbHint = "use postgres://USER:PW@127.0.0.1:PORT/DB?sslmode=disable or mysql://USER:PW@127.0.0.1:PORT/DB (an EMPTY database), or leave --db out for an embedded SQLite file"

// redactURL hides the password of a database URL for messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		if i := strings.LastIndex(raw, "@"); i >= 0 {
			return "***" + raw[i:]
		}
		return raw
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxx")
		return strings.Replace(u.String(), ":xxx@", ":***@", 1)
	}
	return u.String()
}

// JDBCURL is the URL the product's own config file gets.
func (t dbTarget) JDBCURL() string {
	switch t.Engine {
	case reauth.Postgres:
		return fmt.Sprintf("jdbc:postgresql://%s:%d/%s", t.Host, t.Port, t.Name)
	case reauth.MariaDB:
		return fmt.Sprintf("jdbc:mariadb://%s:%d/%s", t.Host, t.Port, t.Name)
	}
	return "jdbc:sqlite:" + t.Name
}

// open connects with the engine's driver and checks the connection.
func (t dbTarget) open(ctx context.Context) (*sql.DB, error) {
	var driver, dsn string
	switch t.Engine {
	case reauth.Postgres:
		u := url.URL{Scheme: "postgres", User: url.UserPassword(t.User, t.Password),
			Host: fmt.Sprintf("%s:%d", t.Host, t.Port), Path: "/" + t.Name, RawQuery: "sslmode=disable"}
		driver, dsn = "pgx", u.String()
	case reauth.MariaDB:
		c := mysql.NewConfig()
		c.User, c.Passwd, c.Net, c.Addr, c.DBName = t.User, t.Password, "tcp", fmt.Sprintf("%s:%d", t.Host, t.Port), t.Name
		c.ParseTime, c.Loc = true, time.UTC
		driver, dsn = "mysql", c.FormatDSN()
	default:
		// WAL lets several node processes read while one writes; busy_timeout makes writers queue
		// instead of failing with SQLITE_BUSY.
		driver, dsn = "sqlite", "file:"+t.Name+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", t.Engine, err)
	}
	if t.Engine == reauth.SQLite {
		db.SetMaxOpenConns(1) // one writer per process: SQLite serialises writers anyway
	} else {
		// A product's pool keeps its connections (Jira's dbconfig.xml: pool-max-idle = pool-max-size):
		// with database/sql's default of 2 idle, every burst above 2 queries opened and closed
		// connections, and the database spent its CPU starting backends, not serving the calls.
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(8)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s database %s at %s: %w", t.Engine, t.Name, t.addr(), err)
	}
	return db, nil
}

func (t dbTarget) addr() string {
	if t.Engine == reauth.SQLite {
		return t.Name
	}
	return fmt.Sprintf("%s:%d", t.Host, t.Port)
}

// rebind turns the ? placeholders of q into $n for PostgreSQL.
func rebind(e reauth.Engine, q string) string {
	if e != reauth.Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// insertWithNextID inserts one row whose first column is id = max(id)+1, retrying when another
// node process took the same id first (unique violation, or a deadlock on MariaDB). Ids stay
// monotonic, as the products' own id generators make them, which the purge cut-off relies on.
func insertWithNextID(ctx context.Context, db *sql.DB, e reauth.Engine, table string, cols []string, args ...any) (int64, error) {
	return insertRetrying(ctx, db, e, table, cols, args, func() (int64, error) {
		var id int64
		if err := db.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) + 1 FROM "+table).Scan(&id); err != nil {
			return 0, fmt.Errorf("next id of %s: %w", table, err)
		}
		return id, nil
	})
}

// insertRetrying inserts one row with the id nextID gives, asking again (after a short back-off)
// when the insert collides with another node's: the one retry loop of both id schemes.
func insertRetrying(ctx context.Context, db *sql.DB, e reauth.Engine, table string, cols []string, args []any,
	nextID func() (int64, error)) (int64, error) {
	q := rebind(e, fmt.Sprintf("INSERT INTO %s (id, %s) VALUES (?%s)", table, strings.Join(cols, ", "),
		strings.Repeat(", ?", len(cols))))
	var lastErr error
	for attempt := 0; attempt < 50; attempt++ {
		id, err := nextID()
		if err != nil {
			return 0, err
		}
		if _, err = db.ExecContext(ctx, q, append([]any{id}, args...)...); err == nil {
			return id, nil
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		lastErr = err
		if !retryable(err) {
			return 0, fmt.Errorf("insert into %s: %w", table, err)
		}
		time.Sleep(time.Duration(attempt+1) * time.Millisecond) // back off: another request is inserting
	}
	return 0, fmt.Errorf("insert into %s: gave up after 50 id collisions: %w", table, lastErr)
}

func retryable(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1062 || me.Number == 1213 || me.Number == 1205 // duplicate, deadlock, lock wait
	}
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "unique") || strings.Contains(s, "duplicate") || strings.Contains(s, "23505") ||
		strings.Contains(s, "locked") || strings.Contains(s, "busy")
}
