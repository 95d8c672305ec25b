package sqlstore

import (
	"net"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/reauth/reauth"
)

// appName is what reauth's sessions call themselves (PostgreSQL application_name, SQL Server
// app name, Oracle program), so an admin or the lock holder message can tell them apart.
const appName = "reauth"

// DSN builds the driver name and data source name for db. The DSN holds the password: pass it to
// sql.Open only, never print it (errors from here never contain it).
func DSN(db reauth.Database) (driver, dsn string, err error) {
	return dsnWithTimeout(db, DefaultConnectTimeout)
}

// dsnWithTimeout is DSN with the drivers' own connect timeouts set to timeout (whole seconds,
// at least one), the same bound boundedConnector puts around each connect.
func dsnWithTimeout(db reauth.Database, timeout time.Duration) (driver, dsn string, err error) {
	secs := strconv.Itoa(max(1, int((timeout+time.Second-1)/time.Second)))
	d, err := DialectFor(db.Engine)
	if err != nil {
		return "", "", err
	}
	dsn, err = d.dsn(db, secs)
	return d.Driver(), dsn, err
}

func (Postgres) dsn(db reauth.Database, secs string) (string, error)  { return postgresDSN(db, secs) }
func (MySQL) dsn(db reauth.Database, secs string) (string, error)     { return mysqlDSN(db, secs) }
func (SQLServer) dsn(db reauth.Database, secs string) (string, error) { return sqlServerDSN(db, secs) }
func (Oracle) dsn(db reauth.Database, secs string) (string, error)    { return oracleDSN(db, secs) }
func (SQLite) dsn(db reauth.Database, _ string) (string, error)       { return sqliteDSN(db) }

func need(db reauth.Database, what, v string) error {
	if v == "" {
		return reauth.Usage("give the full JDBC URL (--jdbc-url) or fix the product's database config",
			"%s database target has no %s", db.Engine, what)
	}
	return nil
}

func hostPort(host string, port, def int) string {
	if port == 0 {
		port = def
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

func param(db reauth.Database, keys ...string) string {
	for _, k := range keys {
		for pk, v := range db.Params {
			if strings.EqualFold(pk, k) {
				return v
			}
		}
	}
	return ""
}

func postgresDSN(db reauth.Database, timeout string) (string, error) {
	if err := need(db, "database name", db.Name); err != nil {
		return "", err
	}
	u := url.URL{Scheme: "postgres", Path: "/" + db.Name}
	q := url.Values{}
	if db.Socket != "" {
		q.Set("host", db.Socket)
		if db.Port != 0 {
			q.Set("port", strconv.Itoa(db.Port))
		}
	} else {
		if err := need(db, "host", db.Host); err != nil {
			return "", err
		}
		u.Host = hostPort(db.Host, db.Port, 5432)
	}
	u.User = url.UserPassword(db.User, db.Password.Reveal())
	if db.Password.IsZero() {
		u.User = url.User(db.User)
	}
	if v := param(db, "sslmode"); v != "" {
		q.Set("sslmode", v)
	} else if v := param(db, "ssl"); v == "true" {
		q.Set("sslmode", "require")
	}
	q.Set("application_name", appName)
	q.Set("connect_timeout", timeout)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func mysqlDSN(db reauth.Database, timeout string) (string, error) {
	if err := need(db, "database name", db.Name); err != nil {
		return "", err
	}
	c := mysql.NewConfig()
	c.User, c.Passwd, c.DBName = db.User, db.Password.Reveal(), db.Name
	if db.Socket != "" {
		c.Net, c.Addr = "unix", db.Socket
	} else {
		if err := need(db, "host", db.Host); err != nil {
			return "", err
		}
		c.Net, c.Addr = "tcp", hostPort(db.Host, db.Port, 3306)
	}
	// Typed values for the backup: DATETIME as time.Time, read and written in UTC, so a restored
	// row is byte-identical to the deleted one.
	c.ParseTime, c.Loc = true, time.UTC
	// DATETIME has no zone: the product's JDBC driver wrote it in serverTimezone (or the JVM's
	// zone, which reauth cannot know: UTC is assumed). It only matters for --before and the
	// oldest/newest shown; a restore writes back exactly what was read either way.
	if tz := param(db, "serverTimezone"); tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			return "", reauth.Usage("fix serverTimezone in the JDBC URL (an IANA zone such as Europe/Berlin, or UTC)",
				"serverTimezone %q: %v", tz, err)
		}
		c.Loc = loc
	}
	// Client-side interpolation: one round trip per statement instead of prepare + execute +
	// close (a batch's DELETE carries up to 2000 ids). The driver escapes every value itself,
	// and refuses interpolation for the multibyte charsets where that would be unsafe.
	c.InterpolateParams = true
	c.Timeout, _ = time.ParseDuration(timeout + "s")
	switch strings.ToLower(param(db, "sslMode", "useSSL", "requireSSL")) {
	case "true", "required", "verify_ca", "verify_identity":
		c.TLSConfig = "true"
	case "preferred":
		c.TLSConfig = "preferred"
	}
	return c.FormatDSN(), nil
}

func sqlServerDSN(db reauth.Database, timeout string) (string, error) {
	if err := need(db, "host", db.Host); err != nil {
		return "", err
	}
	u := url.URL{Scheme: "sqlserver", User: url.UserPassword(db.User, db.Password.Reveal())}
	if db.Instance != "" {
		// A named instance is found through the SQL Browser service unless a port is given.
		u.Host = db.Host
		if db.Port != 0 {
			u.Host = hostPort(db.Host, db.Port, 1433)
		}
		u.Path = "/" + db.Instance
	} else {
		u.Host = hostPort(db.Host, db.Port, 1433)
	}
	q := url.Values{}
	if db.Name != "" {
		q.Set("database", db.Name)
	}
	q.Set("app name", appName)
	if v := param(db, "encrypt"); v != "" {
		q.Set("encrypt", strings.ToLower(v))
	}
	if v := param(db, "trustServerCertificate"); v != "" {
		q.Set("TrustServerCertificate", strings.ToLower(v))
	}
	if strings.EqualFold(param(db, "integratedSecurity"), "true") {
		return "", reauth.Usage("give a SQL Server login with --db-user and REAUTH_DB_PASSWORD",
			"the JDBC URL uses integratedSecurity (Windows authentication), which reauth cannot use")
	}
	q.Set("dial timeout", timeout)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// oracleDSN builds go-ora's URL. go-ora's own BuildUrl iterates a map (random option order), so
// the URL is built here, with sorted options, in the same shape.
func oracleDSN(db reauth.Database, timeout string) (string, error) {
	q := url.Values{}
	host, service := db.Host, db.Name
	port := db.Port
	switch {
	case db.OracleDescriptor != "":
		q.Set("connStr", db.OracleDescriptor)
		host, port, service = "", 0, ""
	case db.OracleSID:
		if err := need(db, "host", db.Host); err != nil {
			return "", err
		}
		q.Set("SID", db.Name)
		service = ""
	default:
		if err := need(db, "host", db.Host); err != nil {
			return "", err
		}
		if err := need(db, "service name", db.Name); err != nil {
			return "", err
		}
	}
	if port == 0 && host != "" {
		port = 1521
	}
	q.Set("PROGRAM", appName)
	q.Set("TIMEOUT", timeout)
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var opts []string
	for _, k := range keys {
		opts = append(opts, k+"="+url.QueryEscape(q.Get(k)))
	}
	return "oracle://" + url.PathEscape(db.User) + ":" + url.PathEscape(db.Password.Reveal()) + "@" +
		net.JoinHostPort(host, strconv.Itoa(port)) + "/" + url.PathEscape(service) + "?" + strings.Join(opts, "&"), nil
}

func sqliteDSN(db reauth.Database) (string, error) {
	if err := need(db, "file path", db.Name); err != nil {
		return "", err
	}
	// SQLite would create a missing file: a typo must not leave an empty database behind.
	if _, err := os.Stat(db.Name); err != nil {
		return "", reauth.Usage("give the path of the sandbox's existing database file", "sqlite database %s: %v", db.Name, err)
	}
	// busy_timeout: the sandbox's nodes write to the same file; wait for them instead of failing.
	return "file:" + db.Name + "?_pragma=busy_timeout(10000)", nil
}

// redact removes the password from a driver error message, in case a driver echoes its DSN.
func redact(msg string, db reauth.Database) string {
	if p := db.Password.Reveal(); len(p) >= 3 {
		msg = strings.ReplaceAll(msg, p, "***")
		msg = strings.ReplaceAll(msg, url.PathEscape(p), "***")
		msg = strings.ReplaceAll(msg, url.QueryEscape(p), "***")
	}
	return msg
}
