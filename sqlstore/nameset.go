package sqlstore

import (
	"encoding/json"
	"strings"
)

// inlineNames is the longest name list written as one bind parameter per name. A longer one (an
// exclude list of thousands of accounts) is passed as ONE parameter where the dialect can unpack
// it (nameSetter): PostgreSQL and MySQL refuse statements with more than 65,535 parameters,
// SQL Server 2,100, and Oracle lists of more than 1,000; the list is also sent, parsed and
// planned once per batch, so one array parameter beats thousands.
const inlineNames = 100

// nameSetter is a dialect that can bind a whole list of names as one parameter.
type nameSetter interface {
	// inNameSet is "expr is one of the names held by the parameter ph".
	inNameSet(expr, ph string) string
	// nameSetArg is that parameter's value.
	nameSetArg(names []string) any
}

// in is "expr IN (vals…)": one parameter per name for a short list, one for them all for a long
// one where the dialect can. MySQL/MariaDB keep the list: reauth's DSN interpolates parameters
// on the client, so the server's parameter limit does not apply.
func (q *query) in(expr string, vals []string) string {
	if ns, ok := q.d.(nameSetter); ok && len(vals) > inlineNames {
		return ns.inNameSet(expr, q.arg(ns.nameSetArg(vals)))
	}
	return expr + " IN (" + q.list(vals) + ")"
}

// inNameSet: IN over unnest(), which PostgreSQL hashes once per statement (measured with 69,000
// names and 200 rows: 0.3 s, against 15 s for "= ANY(array)", which compares each row with every
// name).
func (Postgres) inNameSet(expr, ph string) string {
	return expr + " IN (SELECT unnest(CAST(" + ph + " AS text[])))"
}

// nameSetArg is a PostgreSQL array literal: it passes through the text-format fast path
// (textParams) as it is, and pgx's database/sql driver sends a string as text.
func (Postgres) nameSetArg(names []string) any {
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		for _, r := range n {
			if r == '"' || r == '\\' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

func (SQLite) inNameSet(expr, ph string) string {
	return expr + " IN (SELECT value FROM json_each(" + ph + "))"
}
func (SQLite) nameSetArg(names []string) any { return jsonArray(names) }

func (SQLServer) inNameSet(expr, ph string) string {
	return expr + " IN (SELECT value FROM OPENJSON(" + ph + "))"
}
func (SQLServer) nameSetArg(names []string) any { return jsonArray(names) }

func (Oracle) inNameSet(expr, ph string) string {
	return expr + " IN (SELECT name FROM JSON_TABLE(" + ph + ", '$[*]' COLUMNS (name VARCHAR2(4000) PATH '$')))"
}
func (Oracle) nameSetArg(names []string) any { return jsonArray(names) }

// Every dialect but MySQL's binds a long name list as one parameter.
var _ = []nameSetter{Postgres{}, SQLite{}, SQLServer{}, Oracle{}}

func jsonArray(names []string) string {
	b, _ := json.Marshal(names)
	return string(b)
}
