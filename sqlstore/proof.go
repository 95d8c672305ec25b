package sqlstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/reauth/reauth/atlassian"
)

// The proof's database side (runbook proof): the database clock, reauth's own minted proof
// token, sampled tokens to replay, and the count of tokens issued before a run by time.

// clockDialect is a dialect whose current UTC time reauth reads and compares with a time
// column. Only the engines the time comparison is tested on have one (PostgreSQL, MySQL and
// MariaDB); elsewhere "issued before the run" is judged by id.
type clockDialect interface{ NowSQL() string }

func (Postgres) NowSQL() string { return "SELECT CURRENT_TIMESTAMP" }
func (MySQL) NowSQL() string    { return "SELECT UTC_TIMESTAMP(6)" }

// DBNow is the database's clock; ok is false when the engine has none reauth reads.
func (s *Store) DBNow(ctx context.Context) (now time.Time, ok bool, err error) {
	d, has := s.dialect.(clockDialect)
	if !has {
		return time.Time{}, false, nil
	}
	var v any
	if err := s.sql.QueryRowContext(ctx, d.NowSQL()).Scan(&v); err != nil {
		return time.Time{}, false, fmt.Errorf("read the database clock: %w", err)
	}
	t, ok, err := toTime(v)
	if err != nil || !ok {
		return time.Time{}, false, fmt.Errorf("read the database clock: %v %w", v, err)
	}
	return t.UTC(), true, nil
}

// CreationTime reports whether the table has a creation-time column a run can be judged by.
func (s *Store) CreationTime() bool { return s.info.Time != "" && !s.info.TimeIsExpiry }

// NewestCreated is the newest creation time among rows with id <= cutoffID (nil when none has one).
func (s *Store) NewestCreated(ctx context.Context, cutoffID int64) (*time.Time, error) {
	if !s.CreationTime() {
		return nil, nil
	}
	q := &query{d: s.dialect}
	var v any
	if err := s.sql.QueryRowContext(ctx, "SELECT MAX("+s.qTime+") FROM "+s.info.Qualified+" WHERE "+s.qID+" <= "+q.arg(cutoffID), q.args...).Scan(&v); err != nil {
		return nil, fmt.Errorf("read the newest token time of %s: %w", s.info.Qualified, err)
	}
	t, _, err := s.timeValue(v) // an infinity or a year past 9999 is no time to compare with: nil
	return t, err
}

// timeArg is t as the time column stores it.
func (s *Store) timeArg(t time.Time) any {
	if s.info.TimeKind == atlassian.TimeEpochMS {
		return t.UnixMilli()
	}
	return t.UTC()
}

// IssuedBefore counts the rows in scope (id <= cutoffID and o's user filters) created before
// start, or with no creation time: the tokens issued before a run that started at start. Rows
// with ids below the cut-off but created later (ids from per-node banks) are not counted.
func (s *Store) IssuedBefore(ctx context.Context, cutoffID int64, start time.Time, o PurgeOptions) (int64, error) {
	if !s.CreationTime() {
		return 0, errors.New("the token table has no creation-time column")
	}
	if err := s.checkFilters(o); err != nil {
		return 0, err
	}
	q := &query{d: s.dialect}
	cond := and(s.scope(q, cutoffID, o), "("+s.qTime+" IS NULL OR "+s.qTime+" < "+q.arg(s.timeArg(start))+")")
	return s.count(ctx, cond, q.args)
}

// UserRef is what the token table's user column holds for login name: Jira's user key, Bitbucket's
// numeric user id, or the name itself.
func (s *Store) UserRef(ctx context.Context, login string) (string, error) {
	a := s.userIDs
	if a == nil {
		a = s.userKeys
	}
	if a == nil {
		if s.product.Table.UserIDTable != "" {
			return "", fmt.Errorf("the table %s that maps %s's user ids to names was not found", s.product.Table.UserIDTable, s.product.Name)
		}
		return login, nil
	}
	q := &query{d: s.dialect}
	var v any
	err := s.sql.QueryRowContext(ctx, "SELECT "+a.key+" FROM "+a.qualified+" WHERE LOWER("+a.name+") = "+q.arg(strings.ToLower(login)), q.args...).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows) && s.userIDs == nil:
		return login, nil // a Jira user migrated from before user keys: the name is the key
	case errors.Is(err, sql.ErrNoRows):
		return "", fmt.Errorf("no user %q in %s", login, s.product.Table.UserIDTable)
	case err != nil:
		return "", fmt.Errorf("look up user %q: %w", login, err)
	}
	return asString(v), nil
}

// ProofToken is a token row reauth minted or sampled: what its cookie is made of. The token
// value lives only in memory: it is never written anywhere but into the row itself.
type ProofToken struct {
	ID     int64
	User   string // login name where it could be resolved, else the user column's value
	Series string
	Token  string
}

// proofIDFloor and proofIDSpan place minted ids in [-(2^31-1), -2^30]: negative, which no product
// allocates (Jira's OfBiz sequence banks count up from 10000; Confluence's and Bamboo's Hibernate
// generators and Bitbucket's id sequence count up from 1; an AUTO_INCREMENT counter only moves for
// ids above it), and within a 32-bit id column. Below every real id, the row is inside the purge's
// range (id <= cut-off) without moving the cut-off, so tokens issued after the cut-off stay kept.
const (
	proofIDFloor = -(1 << 30)
	proofIDSpan  = 1<<30 - 1
)

// Mint inserts one token row for the user whose user-column value is ref, created at created,
// with a random negative id, and returns it (with its token value, in memory only). Before each
// insert it calls record (when not nil) with the row's id and its token's digest (TokenDigest),
// so that the caller can write down what it is about to insert before the row exists: a process
// killed right after the insert leaves a record that names the row, and the only row cleanup may
// delete without a backup is one whose id and token both match a record (DeleteMinted). An error
// from record stops Mint before the insert.
func (s *Store) Mint(ctx context.Context, pc atlassian.ProofCookie, ref, login string, created time.Time,
	record func(id int64, digest string) error) (ProofToken, error) {
	col := s.column
	tok := ProofToken{User: login, Token: randomHex(20)}
	var userArg any = ref
	if s.userIDs != nil {
		n, err := strconv.ParseInt(ref, 10, 64)
		if err != nil {
			return tok, fmt.Errorf("user id %q is not a number", ref)
		}
		userArg = n
	}
	cols, args := []string{s.info.User}, []any{userArg}
	if c := col(pc.TokenColumn); c != "" {
		cols, args = append(cols, c), append(args, tok.Token)
	} else {
		return tok, fmt.Errorf("the token table has no column %q", pc.TokenColumn)
	}
	if pc.SeriesColumn != "" {
		c := col(pc.SeriesColumn)
		if c == "" {
			return tok, fmt.Errorf("the token table has no column %q", pc.SeriesColumn)
		}
		tok.Series = randomHex(20)
		cols, args = append(cols, c), append(args, tok.Series)
	}
	if s.info.Time != "" {
		t := created
		if s.info.TimeIsExpiry {
			t = created.Add(14 * 24 * time.Hour)
		}
		cols, args = append(cols, s.info.Time), append(args, s.timeArg(t))
	}
	for _, name := range pc.AlsoTime {
		if c := col(name); c != "" {
			cols, args = append(cols, c), append(args, s.timeArg(created))
		}
	}
	for name, v := range pc.Fixed {
		if c := col(name); c != "" {
			cols, args = append(cols, c), append(args, v)
		}
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		tok.ID = proofIDFloor - randomInt63()%proofIDSpan
		if record != nil {
			if err := record(tok.ID, TokenDigest(tok.Token)); err != nil {
				return ProofToken{}, fmt.Errorf("record the proof token before inserting it: %w", err)
			}
		}
		q := &query{d: s.dialect}
		names := []string{s.qID}
		vals := []string{q.arg(tok.ID)}
		for i, c := range cols {
			names, vals = append(names, s.dialect.Quote(c)), append(vals, q.arg(args[i]))
		}
		text := "INSERT INTO " + s.info.Qualified + " (" + strings.Join(names, ", ") + ") VALUES (" + strings.Join(vals, ", ") + ")"
		if _, err := s.sql.ExecContext(ctx, text, q.args...); err != nil {
			lastErr = err // most likely the one-in-a-billion id collision: try another id
			continue
		}
		return tok, nil
	}
	return ProofToken{}, fmt.Errorf("insert the proof token into %s: %w", s.info.Qualified, lastErr)
}

// TokenDigest is the hex SHA-256 of a minted token's value: what a journal may hold to recognise
// the row later. The token is 160 random bits, so the digest gives nothing away.
func TokenDigest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ErrNotMinted: the row with a minted token's id holds another token. It is not reauth's, and
// cleanup leaves it alone (the purge backs it up like every other row in its range).
var ErrNotMinted = errors.New("the row holds another token than the one reauth minted")

// DeleteMinted deletes the proof token Mint inserted with this id: only when the row's token
// column (pc.TokenColumn) holds the token whose digest is digest, and by id and token both, so
// that a row someone else wrote, even at the same id, is never deleted. It returns 0 when no row
// has the id (the purge took it), and ErrNotMinted when the row holds another token.
func (s *Store) DeleteMinted(ctx context.Context, pc atlassian.ProofCookie, id int64, digest string) (int64, error) {
	col := s.column(pc.TokenColumn)
	switch {
	case col == "":
		return 0, fmt.Errorf("delete the proof token (id %d): the token table %s has no column %q", id, s.info.Qualified, pc.TokenColumn)
	case digest == "":
		return 0, fmt.Errorf("delete the proof token (id %d): no digest of its token was recorded", id)
	}
	q := &query{d: s.dialect}
	var tok sql.NullString
	err := s.sql.QueryRowContext(ctx, "SELECT "+s.dialect.Quote(col)+" FROM "+s.info.Qualified+" WHERE "+s.qID+" = "+q.arg(id), q.args...).Scan(&tok)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("read the proof token (id %d) of %s: %w", id, s.info.Qualified, err)
	case !tok.Valid || TokenDigest(tok.String) != digest:
		return 0, fmt.Errorf("row %d of %s: %w", id, s.info.Qualified, ErrNotMinted)
	}
	q = &query{d: s.dialect}
	text := "DELETE FROM " + s.info.Qualified + " WHERE " + s.qID + " = " + q.arg(id) + " AND " + s.dialect.Quote(col) + " = " + q.arg(tok.String)
	res, err := s.sql.ExecContext(ctx, text, q.args...)
	if err != nil {
		return 0, fmt.Errorf("delete the proof token (id %d) from %s: %w", id, s.info.Qualified, err)
	}
	return res.RowsAffected()
}

// Sample reads up to n rows a purge with these options would delete (id <= cutoffID), spread
// over users (newest tokens first, one per user before a second), leaving out skipID.
func (s *Store) Sample(ctx context.Context, pc atlassian.ProofCookie, cutoffID, skipID int64, o PurgeOptions, n int) ([]ProofToken, error) {
	if n <= 0 {
		return nil, nil
	}
	if err := s.checkFilters(o); err != nil {
		return nil, err
	}
	q := &query{d: s.dialect}
	cond := and(s.scope(q, cutoffID, o), s.qID+" <> "+q.arg(skipID))
	if s.column(pc.TokenColumn) == "" || (pc.SeriesColumn != "" && s.column(pc.SeriesColumn) == "") {
		return nil, fmt.Errorf("the token table %s has no column %q or %q", s.info.Qualified, pc.TokenColumn, pc.SeriesColumn)
	}
	list := s.qID + ", " + s.qUser + ", " + s.dialect.Quote(s.column(pc.TokenColumn))
	if pc.SeriesColumn != "" {
		list += ", " + s.dialect.Quote(s.column(pc.SeriesColumn))
	}
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	rows, err := s.sql.QueryContext(ctx, s.dialect.SelectTop(list, s.info.Qualified, cond, "", s.qID+" DESC", min(n*25, 5000)), q.args...)
	if err != nil {
		return nil, fmt.Errorf("sample tokens of %s: %w", s.info.Qualified, err)
	}
	defer rows.Close()
	byUser := map[string][]ProofToken{}
	var order []string
	for rows.Next() {
		var id, user any
		var token, series sql.NullString
		dest := []any{&id, &user, &token}
		if pc.SeriesColumn != "" {
			dest = append(dest, &series)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("sample tokens: %w", err)
		}
		i, _, err := toInt(id)
		if err != nil || !token.Valid || token.String == "" {
			continue
		}
		u := asString(user)
		if _, seen := byUser[u]; !seen {
			order = append(order, u)
		}
		byUser[u] = append(byUser[u], ProofToken{ID: i, User: u, Token: token.String, Series: series.String})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sample tokens: %w", err)
	}
	var out []ProofToken
	for round := 0; len(out) < n; round++ {
		added := false
		for _, u := range order {
			if round < len(byUser[u]) && len(out) < n {
				out, added = append(out, byUser[u][round]), true
			}
		}
		if !added {
			break
		}
	}
	names := make([]UserCount, len(order))
	for i, u := range order {
		names[i] = UserCount{User: u}
	}
	s.nameUsers(ctx, names)
	login := map[string]string{}
	for i, u := range order {
		login[u] = names[i].User
	}
	for i := range out {
		out[i].User = login[out[i].User]
	}
	return out, nil
}

// column is the real spelling of the token table's column name ("" when it has none).
func (s *Store) column(name string) string {
	for _, c := range s.info.Columns {
		if strings.EqualFold(c.Name, name) {
			return c.Name
		}
	}
	return ""
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand does not fail on supported platforms
	return hex.EncodeToString(b)
}

func randomInt63() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return int64(binary.BigEndian.Uint64(b[:]) >> 1)
}

// IsProofID reports whether id is in the range Mint draws from.
func IsProofID(id int64) bool { return id <= proofIDFloor && id > proofIDFloor-proofIDSpan-1 }
