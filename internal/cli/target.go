package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/sqlstore"
)

// targetFlags is TARGET, shared by inspect, purge and restore:
// --product P (--home DIR [--install DIR] | --jdbc-url URL [--db-user U]) [--table T].
type targetFlags struct {
	product, home, install, jdbcURL, dbUser, table string
	connectTimeout                                 time.Duration
}

// addConnectTimeout adds --connect-timeout, on every verb that connects to a database.
func addConnectTimeout(f *pflag.FlagSet, d *time.Duration) {
	f.DurationVar(d, "connect-timeout", sqlstore.DefaultConnectTimeout,
		"give up connecting to the database after this long (each connection: TCP, TLS and login)")
}

// checkConnectTimeout refuses a --connect-timeout that would never let a connection succeed.
func checkConnectTimeout(cmd string, d time.Duration) error {
	if d <= 0 {
		return usageError{cmd: cmd, err: fmt.Errorf("--connect-timeout must be positive (e.g. 20s, 1m), not %s", d)}
	}
	return nil
}

// targetHelp is the TARGET paragraph of each verb's --help.
const targetHelp = `TARGET says which product and database:
  --product P                  jira, confluence, bitbucket, bamboo, fisheye (crowd optional)
  --home DIR [--install DIR]   read the database settings from the product's home directory
                               (as 'reauth discover' does; --install for JNDI datasources)
  --jdbc-url URL [--db-user U] or give the database directly, as a JDBC URL
  --table T                    the token table, when the product's default is not right
                               (required for fisheye, whose table is found by name at run time)
  --connect-timeout D          give up connecting after D (default 20s; Ctrl-C also stops it)
The database password comes from REAUTH_DB_PASSWORD, else the product's config (decoded where
reauth can: see 'reauth discover --help'), else a prompt on a terminal.`

func (t *targetFlags) add(f *pflag.FlagSet) {
	f.StringVar(&t.product, "product", "", "product: "+strings.Join(atlassian.Names(), ", ")+" (required)")
	f.StringVar(&t.home, "home", "", "the product's home directory (database settings are read from its config)")
	f.StringVar(&t.install, "install", "", "the product's install directory (for a JNDI datasource; with --home)")
	f.StringVar(&t.jdbcURL, "jdbc-url", "", "the database as a JDBC URL, instead of --home")
	f.StringVar(&t.dbUser, "db-user", "", "database user (with --jdbc-url)")
	f.StringVar(&t.table, "table", "", "token table name (overrides the product's; required for fisheye)")
	addConnectTimeout(f, &t.connectTimeout)
}

// check reports flag mistakes as usage errors (exit 2), before anything is opened.
func (t *targetFlags) check(cmd string) error {
	bad := func(format string, args ...any) error { return usageError{cmd: cmd, err: fmt.Errorf(format, args...)} }
	switch {
	case t.product == "":
		return bad("--product is required")
	case t.home == "" && t.jdbcURL == "":
		return bad("give --home DIR (the product's home directory) or --jdbc-url URL")
	case t.home != "" && t.jdbcURL != "":
		return bad("give --home or --jdbc-url, not both")
	case t.install != "" && t.home == "":
		return bad("--install goes with --home")
	case t.dbUser != "" && t.jdbcURL == "":
		return bad("--db-user goes with --jdbc-url (with --home the product's config names the user)")
	}
	if _, err := atlassian.Lookup(t.product); err != nil {
		return bad("%v", err)
	}
	return checkConnectTimeout(cmd, t.connectTimeout)
}

// database resolves TARGET to a database with its password.
func (t *targetFlags) database(streams IO) (atlassian.Product, reauth.Database, error) {
	p, err := atlassian.Lookup(t.product)
	if err != nil {
		return p, reauth.Database{}, err
	}
	var db reauth.Database
	if t.jdbcURL != "" {
		if db, err = atlassian.ParseJDBCURL(t.jdbcURL); err != nil {
			return p, db, reauth.WithCode(reauth.WithHint(err, "check --jdbc-url (e.g. jdbc:postgresql://host:5432/jira)"), reauth.ExitUsage)
		}
		if !db.Password.IsZero() {
			return p, db, reauth.Usage("remove the password from --jdbc-url (it would stay in your shell history and the process list): set REAUTH_DB_PASSWORD, or let reauth ask on a terminal",
				"--jdbc-url carries a password (not shown)")
		}
		db.User = t.dbUser
	} else {
		d, err := atlassian.Discover(atlassian.DiscoverOptions{Product: p.ID, Home: t.home, Install: t.install, Getenv: streams.getenv})
		if err != nil {
			return p, db, err
		}
		for _, w := range d.Warnings {
			fmt.Fprintf(streams.Err, "warning: %s\n", w)
		}
		db = d.Database
	}
	if db.Engine == reauth.SQLite { // a file: no password
		return p, db, nil
	}
	var prompt func(string) (string, error)
	if streams.InTTY {
		prompt = streams.ReadPassword
	}
	err = atlassian.ResolvePassword(&db, streams.getenv, prompt)
	return p, db, err
}

// open resolves TARGET and opens its token table.
func (t *targetFlags) open(ctx context.Context, streams IO) (*sqlstore.Store, atlassian.Product, reauth.Database, error) {
	p, db, err := t.database(streams)
	if err != nil {
		return nil, p, db, err
	}
	if c := p.Companion; c.Name != "" && strings.EqualFold(t.table, c.Name) {
		// --table names the product's second token table (Crowd's cwd_remember_me_token): its
		// own shape, e.g. to restore the backup a run wrote of it.
		p.Table, p.Companion = c, atlassian.TokenTable{}
	}
	s, err := sqlstore.Open(ctx, db, p, sqlstore.Options{Table: t.table, ConnectTimeout: t.connectTimeout})
	return s, p, db, err
}

// confirmTyped asks the operator to type the product name before a change, unless --yes.
// Without a terminal there is nobody to ask: refuse (exit 4), nothing changed.
// again is the TARGET flags to repeat in a follow-up command (e.g. the restore that undoes a
// purge). A --jdbc-url is not repeated: it may carry a password property.
func (t targetFlags) again() string {
	f := []string{"--product", t.product}
	switch {
	case t.home != "":
		f = append(f, "--home", reauth.ShellQuote(t.home))
		if t.install != "" {
			f = append(f, "--install", reauth.ShellQuote(t.install))
		}
	default:
		f = append(f, "--jdbc-url", "URL")
		if t.dbUser != "" {
			f = append(f, "--db-user", reauth.ShellQuote(t.dbUser))
		}
	}
	if t.table != "" {
		f = append(f, "--table", reauth.ShellQuote(t.table))
	}
	return strings.Join(f, " ")
}

// parseTime reads --before: RFC 3339, or a UTC date / date and time.
func parseTime(s string) (time.Time, error) {
	for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--before %q: use RFC 3339 (2025-01-31T18:00:00Z) or a UTC date (2025-01-31)", s)
}

// progressPrinter writes purge progress to stderr: one redrawn line on a terminal, else plain
// lines at most once a second (a CI log must not drown in them).
type progressPrinter struct {
	streams IO
	last    time.Time
	drawn   bool
}

func (p *progressPrinter) update(deleted, total int64, batches int, elapsed time.Duration) {
	now := time.Now()
	every := time.Second
	if p.streams.ErrTTY {
		every = 200 * time.Millisecond
	}
	if now.Sub(p.last) < every && (total <= 0 || deleted < total) {
		return
	}
	p.last = now
	pct := 100.0
	if total > 0 {
		pct = float64(deleted) * 100 / float64(total)
	}
	msg := fmt.Sprintf("purge: %d/%d tokens deleted (%.0f%%), %d batches, %s", deleted, total, pct, batches, elapsed.Round(time.Millisecond))
	if total <= 0 { // not counted beforehand (--yes --json)
		msg = fmt.Sprintf("purge: %d tokens deleted, %d batches, %s", deleted, batches, elapsed.Round(time.Millisecond))
	}
	if p.streams.ErrTTY {
		fmt.Fprintf(p.streams.Err, "\r\033[K%s", msg)
		p.drawn = true
		return
	}
	fmt.Fprintln(p.streams.Err, msg)
}

func (p *progressPrinter) done() {
	if p.drawn {
		fmt.Fprintln(p.streams.Err)
	}
}
