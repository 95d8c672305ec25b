package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/reauth/reauth"
)

// rememberAge is how long a remember-me cookie lives: Seraph's autologin.cookie.age default
// (14 days, seraph-config.xml of the official images); Bitbucket's default is 30 days.
func (m model) rememberAge() time.Duration {
	if m.bitbucket {
		return 30 * 24 * time.Hour
	}
	return 14 * 24 * time.Hour
}

// token is one remember-me row as a node caches it.
type token struct {
	Key    string // Seraph: the row id; Bitbucket: the series
	Secret string // the token column
	Ref    string // the user column's value (name, Jira user key, Bitbucket user id)
}

// cookieValue is the remember-me cookie value for t, in the product's format.
func (m model) cookieValue(t token) string {
	if m.crowd {
		return t.Key
	}
	if m.bitbucket {
		return base64.StdEncoding.EncodeToString([]byte(t.Key + ":" + t.Secret))
	}
	return t.Key + ":" + t.Secret
}

// parseCookie splits a remember-me cookie value into (key, secret).
func (m model) parseCookie(v string) (key, secret string, ok bool) {
	if m.crowd { // the cookie is the token: key and secret at once
		return v, v, v != ""
	}
	if m.bitbucket {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return "", "", false
		}
		v = string(b)
	}
	key, secret, ok = strings.Cut(v, ":")
	return key, secret, ok && key != "" && secret != ""
}

// matches compares a presented secret with a cached one in constant time.
func (t token) matches(secret string) bool {
	return subtle.ConstantTimeCompare([]byte(t.Secret), []byte(secret)) == 1
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand never fails on Linux
	return hex.EncodeToString(b)
}

// loadTokens reads every token row: the cache a node builds at start-up.
func (m model) loadTokens(ctx context.Context, db *sql.DB) (map[string]token, error) {
	q := "SELECT id, token, username FROM " + m.table
	if m.bitbucket {
		q = "SELECT series, token, user_id FROM " + m.table
	}
	if m.crowd {
		q = crowdSelect
	}
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("load remember-me tokens from %s: %w", m.table, err)
	}
	defer rows.Close()
	out := map[string]token{}
	for rows.Next() {
		var key, secret, ref sql.NullString
		if err := rows.Scan(&key, &secret, &ref); err != nil {
			return nil, fmt.Errorf("load remember-me tokens: %w", err)
		}
		k := normalizeID(key.String)
		out[k] = token{Key: k, Secret: secret.String, Ref: ref.String}
	}
	return out, rows.Err()
}

// lookupToken reads one token row by its cookie key (Seraph: the id; Bitbucket: the series):
// the read-through of a node's cache. found is false when the row is not there.
func (m model) lookupToken(ctx context.Context, db *sql.DB, e reauth.Engine, key string) (t token, found bool, err error) {
	if m.crowd {
		return m.crowdLookup(ctx, db, e, key)
	}
	q := "SELECT id, token, username FROM " + m.table + " WHERE id = ?"
	var arg any = key
	if m.bitbucket {
		q = "SELECT series, token, user_id FROM " + m.table + " WHERE series = ?"
	} else {
		n, perr := strconv.ParseInt(key, 10, 64)
		if perr != nil {
			return token{}, false, nil // not an id: no row can match
		}
		arg = n
	}
	var k, secret, ref sql.NullString
	err = db.QueryRowContext(ctx, rebind(e, q), arg).Scan(&k, &secret, &ref)
	if errors.Is(err, sql.ErrNoRows) {
		return token{}, false, nil
	}
	if err != nil {
		return token{}, false, fmt.Errorf("read remember-me token: %w", err)
	}
	id := normalizeID(k.String)
	return token{Key: id, Secret: secret.String, Ref: ref.String}, true, nil
}

// normalizeID turns a numeric(18,0) id as a driver returns it ("12", "12.0") into "12".
func normalizeID(s string) string {
	if i := strings.IndexByte(s, '.'); i > 0 && strings.Trim(s[i+1:], "0") == "" {
		return s[:i]
	}
	return s
}

// insertToken stores a new remember-me token for the user whose row reference is ref.
// bank is the node's id bank (k of n) when the sandbox simulates per-node id banks; n is 0 otherwise.
func (m model) insertToken(ctx context.Context, db *sql.DB, e reauth.Engine, ref string, now time.Time, bank idBank) (token, error) {
	secret := randomHex(20)
	if m.crowd {
		return m.crowdInsert(ctx, db, e, ref, now, true)
	}
	if m.bitbucket {
		uid, err := strconv.Atoi(ref)
		if err != nil {
			return token{}, fmt.Errorf("bitbucket user id %q: %w", ref, err)
		}
		series := randomHex(20)
		_, err = insertWithNextID(ctx, db, e, m.table,
			[]string{"series", "token", "user_id", "expiry_timestamp", "claimed", "claimed_address"},
			series, secret, uid, now.Add(m.rememberAge()).UTC(), false, nil)
		return token{Key: series, Secret: secret, Ref: ref}, err
	}
	var created any = now.UTC()
	if m.epochMS {
		created = now.UnixMilli()
	}
	cols := []string{"created", "token", "username"}
	args := []any{created, secret, ref}
	if m.product.ID == "fisheye" {
		cols, args = []string{"username", "token", "created"}, []any{ref, secret, created}
	}
	var id int64
	var err error
	if bank.n > 0 {
		id, err = insertWithBankID(ctx, db, e, m.table, bank, cols, args...)
	} else {
		id, err = insertWithNextID(ctx, db, e, m.table, cols, args...)
	}
	return token{Key: strconv.FormatInt(id, 10), Secret: secret, Ref: ref}, err
}

// deleteUserTokens deletes every token row of the user whose row reference is ref.
func (m model) deleteUserTokens(ctx context.Context, db *sql.DB, e reauth.Engine, ref string) error {
	col, arg := "username", any(ref)
	if m.crowd { // the user's sessions (never an application's token) and remember-me rows
		if _, err := db.ExecContext(ctx, rebind(e, "DELETE FROM cwd_remember_me_token WHERE username = ?"), ref); err != nil {
			return fmt.Errorf("delete remember-me tokens: %w", err)
		}
		_, err := db.ExecContext(ctx, rebind(e, "DELETE FROM cwd_token WHERE entity_name = ? AND directory_id <> -1"), ref)
		return err
	}
	if m.bitbucket {
		n, err := strconv.Atoi(ref)
		if err != nil {
			return fmt.Errorf("bitbucket user id %q: %w", ref, err)
		}
		col, arg = "user_id", n
	}
	if _, err := db.ExecContext(ctx, rebind(e, "DELETE FROM "+m.table+" WHERE "+col+" = ?"), arg); err != nil {
		return fmt.Errorf("delete remember-me tokens: %w", err)
	}
	return nil
}

// deleteToken deletes one token row (a logout).
func (m model) deleteToken(ctx context.Context, db *sql.DB, e reauth.Engine, key string) error {
	col, arg := "id", any(key)
	if m.crowd {
		col = "random_hash"
	} else if m.bitbucket {
		col = "series"
	} else if n, err := strconv.ParseInt(key, 10, 64); err == nil {
		arg = n
	}
	_, err := db.ExecContext(ctx, rebind(e, "DELETE FROM "+m.table+" WHERE "+col+" = ?"), arg)
	return err
}

// hashPassword makes a salted SHA-256 hash: the sandbox's directory never stores a password.
func hashPassword(pw string) string {
	salt := randomHex(8)
	sum := sha256.Sum256([]byte(salt + ":" + pw))
	return "sha256$" + salt + "$" + hex.EncodeToString(sum[:])
}

func checkPassword(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 3 || parts[0] != "sha256" {
		return false
	}
	sum := sha256.Sum256([]byte(parts[1] + ":" + pw))
	return subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(parts[2])) == 1
}

// account is a user as a node knows it.
type account struct {
	Name  string
	Hash  string
	Admin bool
	Ref   string
}

// loadAccounts reads the directory and each user's token-row reference.
func (m model) loadAccounts(ctx context.Context, db *sql.DB) (map[string]account, error) {
	rows, err := db.QueryContext(ctx, "SELECT id, name, pwhash, is_admin FROM sandbox_user")
	if err != nil {
		return nil, fmt.Errorf("load users: %w", err)
	}
	defer rows.Close()
	out := map[string]account{}
	for rows.Next() {
		var id, admin int
		var a account
		if err := rows.Scan(&id, &a.Name, &a.Hash, &admin); err != nil {
			return nil, fmt.Errorf("load users: %w", err)
		}
		a.Admin, a.Ref = admin == 1, m.userRefFor(id, a.Name)
		out[a.Name] = a
	}
	return out, rows.Err()
}
