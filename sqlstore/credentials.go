package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/backup"
)

// CredentialReader reads a product's credential tables (personal access tokens, HTTP access
// tokens, OAuth 2.0 tokens, SSH keys) and its SSO configuration. It only reads, and never reads a
// column the catalog lists as secret (hashes, key material, client secrets).
type CredentialReader struct {
	sql    *sql.DB
	d      Dialect
	db     reauth.Database
	schema string
	tables []string // the schema's tables, real spelling
	log    *slog.Logger
	// patTable overrides the catalog's PAT table (SetPATTable).
	patTable string
}

// SetPATTable names the personal access token table where the catalog's is UNCONFIRMED (Bamboo:
// the inventory's pat_table); a name the schema lacks is refused by the read.
func (r *CredentialReader) SetPATTable(name string) { r.patTable = name }

// OpenCredentials connects to db and lists its schema's tables. Unlike Open it needs no
// remember-me table: a credential table the database lacks is reported as absent.
func OpenCredentials(ctx context.Context, db reauth.Database, opts Options) (*CredentialReader, error) {
	d, err := DialectFor(db.Engine)
	if err != nil {
		return nil, err
	}
	timeout := opts.ConnectTimeout
	if timeout <= 0 {
		timeout = DefaultConnectTimeout
	}
	h, err := openDB(db, timeout)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %s", db.String(), redact(err.Error(), db))
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := h.PingContext(cctx); err != nil {
		h.Close()
		return nil, connectError(ctx, cctx, db, timeout, err)
	}
	if refine := d.caps().refine; refine != nil {
		d = refine(cctx, h)
	}
	r := &CredentialReader{sql: h, d: d, db: db, log: opts.Logger}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	// A throwaway store resolves the schema as Open does (config spelling, search paths).
	probe := &Store{sql: h, db: db, dialect: d, log: r.log}
	schema := db.Schema
	if schema == "" {
		var cur sql.NullString
		if err := h.QueryRowContext(ctx, d.CurrentSchemaSQL()).Scan(&cur); err != nil {
			h.Close()
			return nil, fmt.Errorf("read the current schema of %s: %w", db.String(), err)
		}
		schema = cur.String
	}
	if i := strings.IndexByte(schema, ','); i >= 0 {
		schema = strings.TrimSpace(schema[:i])
	}
	if r.tables, r.schema, err = probe.listTables(ctx, schema); err != nil {
		h.Close()
		return nil, err
	}
	return r, nil
}

// Close closes the connection.
func (r *CredentialReader) Close() error { return r.sql.Close() }

// realTable is the schema's spelling of name ("" when absent): Active Objects creates upper-case
// names, which PostgreSQL keeps only quoted, so the match is case-insensitive and the dialect
// quotes the real spelling.
func (r *CredentialReader) realTable(name string) string {
	for _, t := range r.tables {
		if t == name {
			return t
		}
	}
	for _, t := range r.tables {
		if strings.EqualFold(t, name) {
			return t
		}
	}
	return ""
}

// columns lists a table's columns, real spelling.
func (r *CredentialReader) columns(ctx context.Context, table string) ([]backup.Column, error) {
	s := &Store{sql: r.sql, dialect: r.d}
	return s.listColumns(ctx, r.schema, table)
}

// findByColumns is the one table having every one of cols (Bamboo's PAT table, UNCONFIRMED);
// "" with a note when none or several do.
func (r *CredentialReader) findByColumns(ctx context.Context, cols []string) (string, string, error) {
	var found []string
	for _, t := range r.tables {
		have, err := r.columns(ctx, t)
		if err != nil {
			return "", "", err
		}
		ok := true
		for _, c := range cols {
			ok = ok && colOf(have, c) != ""
		}
		if ok {
			found = append(found, t)
		}
	}
	switch len(found) {
	case 1:
		return found[0], "found by its columns " + strings.Join(cols, ", "), nil
	case 0:
		return "", "no table has the columns " + strings.Join(cols, ", "), nil
	}
	return "", "several tables have the columns " + strings.Join(cols, ", ") + ": " + strings.Join(found, ", "), nil
}

func colOf(cols []backup.Column, want string) string {
	if want == "" {
		return ""
	}
	for _, c := range cols {
		if strings.EqualFold(c.Name, want) {
			return c.Name
		}
	}
	return ""
}

func kindOfCol(cols []backup.Column, name string) backup.Kind {
	for _, c := range cols {
		if c.Name == name {
			return c.Kind
		}
	}
	return ""
}

// credentialSelect is the read of one credential table: the named columns only (never a secret),
// quoted by the dialect, in id order.
func credentialSelect(d Dialect, schema, table string, cols []string, id string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = d.Quote(c)
	}
	return "SELECT " + strings.Join(q, ", ") + " FROM " + d.Qualify(schema, table) + " ORDER BY " + d.Quote(id)
}

// readTable reads every row of one catalog table; status says what was found.
func (r *CredentialReader) readTable(ctx context.Context, t atlassian.CredentialTable, names ownerNames) ([]Credential, CredentialTableStatus, error) {
	st := CredentialTableStatus{Kind: t.Kind, Table: t.Name, Confirmed: t.Confirmed, Note: t.Note}
	if r.patTable != "" && t.Kind == atlassian.KindPAT {
		if r.realTable(r.patTable) == "" {
			return nil, st, reauth.Refused("check the name (pat_table in the inventory, --pat-table) against the database's tables",
				"the personal access token table %q is not in schema %q", r.patTable, r.schema)
		}
		t.Name, t.FindByColumns, st.Table, st.Note = r.patTable, nil, r.patTable, "named by pat_table"
	}
	name := r.realTable(t.Name)
	if t.Name == "" {
		var note string
		var err error
		if name, note, err = r.findByColumns(ctx, t.FindByColumns); err != nil {
			return nil, st, err
		}
		st.Note = strings.TrimPrefix(st.Note+"; "+note, "; ")
	}
	if name == "" {
		return nil, st, nil
	}
	st.Table, st.Found = name, true
	cols, err := r.columns(ctx, name)
	if err != nil {
		return nil, st, err
	}
	want := map[string]string{} // catalog name -> real name, for the columns present
	var read []string
	for _, c := range t.Columns() {
		if real := colOf(cols, c); real != "" {
			want[c], read = real, append(read, real)
		}
	}
	if want[t.ID] == "" || want[t.Owner] == "" {
		return nil, st, reauth.Refused("check that this is the product's database; report the table's columns to reauth's maintainers",
			"credential table %s lacks its id %s or owner %s column (found: %s)", name, t.ID, t.Owner, strings.Join(colNames(cols), ", "))
	}
	rows, err := r.sql.QueryContext(ctx, credentialSelect(r.d, r.schema, name, read, want[t.ID]))
	if err != nil {
		return nil, st, fmt.Errorf("read credential table %s: %w", name, err)
	}
	defer rows.Close()
	var out []Credential
	vals := make([]any, len(read))
	ptrs := make([]any, len(read))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, st, fmt.Errorf("read credential table %s: %w", name, err)
		}
		get := func(c string) any {
			for i, n := range read {
				if n == want[c] && c != "" {
					return vals[i]
				}
			}
			return nil
		}
		c, err := credentialOf(t, name, get, func(c string) backup.Kind { return kindOfCol(cols, want[c]) }, names)
		if err != nil {
			return nil, st, fmt.Errorf("read credential table %s: %w", name, err)
		}
		out = append(out, c)
	}
	st.Rows = len(out)
	return out, st, rows.Err()
}

// credentialOf turns one row into a Credential: times by the column's real type (epoch ms in an
// integer column, else a timestamp), the owner mapped to a login name.
func credentialOf(t atlassian.CredentialTable, table string, get func(string) any, kind func(string) backup.Kind, names ownerNames) (Credential, error) {
	c := Credential{Kind: t.Kind, Table: table, Name: asString(get(t.Label)), OwnerKey: asString(get(t.Owner))}
	if !t.IDIsSecret {
		c.ID = asString(get(t.ID))
	}
	if t.TokenID != "" && t.TokenID != t.ID {
		c.TokenID = asString(get(t.TokenID))
	}
	c.Owner = c.OwnerKey
	if n, ok := names[c.OwnerKey]; ok {
		c.Owner = n
	}
	if c.Owner == c.OwnerKey { // a login name, or a legacy Jira user key that is the name
		c.OwnerKey = ""
	}
	var err error
	at := func(col string) (*time.Time, error) {
		if col == "" || get(col) == nil {
			return nil, nil
		}
		return columnTime(get(col), kind(col))
	}
	if c.Created, err = at(t.Created); err != nil {
		return c, err
	}
	if c.LastUsed, err = at(t.LastUsed); err != nil {
		return c, err
	}
	if c.Expires, err = at(t.Expiry); err != nil {
		return c, err
	}
	if t.ExpiryDays != "" {
		if days, ok, err := toInt(get(t.ExpiryDays)); err != nil {
			return c, err
		} else if ok && days > 0 && c.Created != nil {
			e := c.Created.AddDate(0, 0, int(days))
			c.Expires = &e
		}
	}
	switch {
	case c.Expires != nil && t.NeverExpiresYear > 0 && c.Expires.Year() >= t.NeverExpiresYear:
		c.Expires, c.NeverExpires = nil, true
	case c.Expires == nil && (t.Expiry != "" || t.ExpiryDays != ""):
		c.NeverExpires = true
	}
	return c, nil
}
