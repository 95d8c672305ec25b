package sandbox

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
)

// SeededCredential is one credential `sandbox up` created: what `reauth credentials` must list.
type SeededCredential struct {
	Kind  atlassian.CredentialKind `json:"kind"`
	Table string                   `json:"table"`
	// ID is the row's id as reauth shows it ("" where the id is a hash: OAuth 2.0).
	ID      string     `json:"id,omitempty"`
	Owner   string     `json:"owner"` // login name
	Name    string     `json:"name"`
	Created *time.Time `json:"created,omitempty"` // nil: a legacy SSH key without a date
	// Intruder: created inside the window by the simulated intruder.
	Intruder bool `json:"intruder"`
	// RawFile holds the raw token (PATs and HTTP tokens), 0600, for replaying it.
	RawFile string `json:"raw_file,omitempty"`
}

// SeededCredentials is DIR/credentials.json: no secret or hash in it.
type SeededCredentials struct {
	// WindowStart is the exposure window's start: every intruder's credential is created after
	// it, every other one before it.
	WindowStart time.Time          `json:"window_start"`
	Credentials []SeededCredential `json:"credentials"`
}

func credentialsFile(dir string) string { return filepath.Join(dir, "credentials.json") }

// SeededCredentials reads what `sandbox up` created.
func (c *Cluster) SeededCredentials() (SeededCredentials, error) {
	var s SeededCredentials
	b, err := os.ReadFile(credentialsFile(c.st.Dir))
	if err != nil {
		return s, fmt.Errorf("read the sandbox's seeded credentials: %w", err)
	}
	return s, json.Unmarshal(b, &s)
}

// credSeeder writes credential rows, remembering each for the manifest.
type credSeeder struct {
	ctx  context.Context
	tx   *sql.Tx
	e    reauth.Engine
	dir  string
	now  time.Time
	out  SeededCredentials
	next int64
}

func (s *credSeeder) insert(table string, cols []string, args ...any) error {
	q := make([]string, len(cols))
	ph := make([]string, len(cols))
	for i, c := range cols {
		q[i], ph[i] = aoQuote(s.e, c), "?"
	}
	stmt := rebind(s.e, "INSERT INTO "+aoQuote(s.e, table)+" ("+strings.Join(q, ", ")+") VALUES ("+strings.Join(ph, ", ")+")")
	if _, err := s.tx.ExecContext(s.ctx, stmt, args...); err != nil {
		return fmt.Errorf("seed %s: %w", table, err)
	}
	return nil
}

// digits is n random decimal digits (a PAT's TOKEN_ID is 12 of them).
func digits(n int) string {
	var b strings.Builder
	for b.Len() < n {
		d, _ := rand.Int(rand.Reader, big.NewInt(10))
		b.WriteString(d.String())
	}
	return b.String()
}

func alnum(n int) string {
	const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	var b strings.Builder
	for b.Len() < n {
		d, _ := rand.Int(rand.Reader, big.NewInt(int64(len(abc))))
		b.WriteByte(abc[d.Int64()])
	}
	return b.String()
}

// rawToken is a new token: base64 of "<12-digit TOKEN_ID>:<20-character secret>" (decompiled
// TokenUtils), with Bitbucket's "BBDC-" in front. The row holds the {PKCS5S2} hash of the
// secret; which string the product hashes is UNCONFIRMED, and the sandbox chooses the secret.
func rawToken(bitbucket bool) (tokenID, secret, raw string) {
	tokenID, secret = digits(12), alnum(20)
	raw = base64.StdEncoding.EncodeToString([]byte(tokenID + ":" + secret))
	if bitbucket {
		raw = "BBDC-" + raw
	}
	return tokenID, secret, raw
}

// saveRaw writes a raw token where the sandbox's browsers live, 0600.
func (s *credSeeder) saveRaw(owner, tokenID, raw string) (string, error) {
	dir := filepath.Join(s.dir, "tokens")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(dir, owner+"-"+tokenID+".token")
	return path, writeFile(path, []byte(raw+"\n"), 0o600)
}

func (s *credSeeder) record(c SeededCredential, created time.Time, intruder bool) {
	if !created.IsZero() {
		t := created.UTC()
		c.Created = &t
	}
	c.Intruder = intruder
	s.out.Credentials = append(s.out.Credentials, c)
}

// pat seeds one Jira/Confluence personal access token.
func (s *credSeeder) pat(owner, ref, name string, created, expires time.Time, used *time.Time, intruder bool) error {
	tokenID, secret, raw := rawToken(false)
	hash, err := atlassian.HashPKCS5S2(secret)
	if err != nil {
		return err
	}
	s.next++
	var last any
	if used != nil {
		last = used.UTC()
	}
	if err := s.insert("AO_81F455_PERSONAL_TOKEN", []string{"CREATED_AT", "EXPIRING_AT", "HASHED_TOKEN", "ID", "LAST_ACCESSED_AT", "NAME", "NOTIFICATION_STATE", "TOKEN_ID", "USER_KEY"},
		created.UTC(), expires.UTC(), hash, s.next, last, name, "NOT_SENT", tokenID, ref); err != nil {
		return err
	}
	file, err := s.saveRaw(owner, tokenID, raw)
	if err != nil {
		return err
	}
	s.record(SeededCredential{Kind: atlassian.KindPAT, Table: "AO_81F455_PERSONAL_TOKEN", ID: fmt.Sprint(s.next), Owner: owner, Name: name, RawFile: file}, created, intruder)
	return nil
}

// httpToken seeds one Bitbucket HTTP access token with its permission row (_PERM).
func (s *credSeeder) httpToken(owner string, userID int, name string, created time.Time, days any, intruder bool) error {
	tokenID, secret, raw := rawToken(true)
	hash, err := atlassian.HashPKCS5S2(secret)
	if err != nil {
		return err
	}
	if err := s.insert("AO_E5A814_ACCESS_TOKEN", []string{"CREATED_DATE", "EXPIRY_DAYS", "HASHED_TOKEN", "LAST_AUTHENTICATED", "NAME", "TOKEN_ID", "USER_ID"},
		created.UTC(), days, hash, nil, name, tokenID, userID); err != nil {
		return err
	}
	s.next++
	if err := s.insert("AO_E5A814_ACCESS_TOKEN_PERM", []string{"FK_ACCESS_TOKEN_ID", "ID", "PERMISSION"}, tokenID, s.next, 1); err != nil {
		return err
	}
	file, err := s.saveRaw(owner, tokenID, raw)
	if err != nil {
		return err
	}
	s.record(SeededCredential{Kind: atlassian.KindHTTPToken, Table: "AO_E5A814_ACCESS_TOKEN", ID: tokenID, Owner: owner, Name: name, RawFile: file}, created, intruder)
	return nil
}

// sshKey seeds one Bitbucket SSH key; a zero created is a key from before 8.7 (no date).
func (s *credSeeder) sshKey(owner string, userID int, label string, created time.Time, intruder bool) error {
	s.next++
	var at any
	if !created.IsZero() {
		at = created.UTC()
	}
	if err := s.insert("AO_FB71B4_SSH_PUBLIC_KEY", []string{"CREATED_DATE", "ENTITY_ID", "EXPIRY_DAYS", "KEY_MD5", "KEY_TEXT", "KEY_TYPE", "LABEL", "LABEL_LOWER", "LAST_AUTHENTICATED", "USER_ID"},
		at, s.next, nil, randomHex(16), "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"+alnum(43)+" "+label, "ED25519", label, strings.ToLower(label), nil, userID); err != nil {
		return err
	}
	s.record(SeededCredential{Kind: atlassian.KindSSHKey, Table: "AO_FB71B4_SSH_PUBLIC_KEY", ID: fmt.Sprint(s.next), Owner: owner, Name: label}, created, intruder)
	return nil
}

// oauth seeds an OAuth 2.0 access token and its refresh token, as an approved client holds them.
func (s *credSeeder) oauth(owner, ref, clientID string, created time.Time, intruder bool) error {
	ms := created.UnixMilli()
	access, refresh := randomHex(32), randomHex(32) // the product keeps a SHA-256 as the id
	if err := s.insert("AO_FE1BC5_ACCESS_TOKEN", []string{"AUTHORIZATION_CODE", "AUTHORIZATION_DATE", "CLIENT_ID", "CREATED_AT", "ID", "LAST_ACCESSED", "SCOPE", "USER_KEY"},
		nil, ms, clientID, ms, access, ms, "WRITE", ref); err != nil {
		return err
	}
	if err := s.insert("AO_FE1BC5_REFRESH_TOKEN", []string{"ACCESS_TOKEN_ID", "AUTHORIZATION_CODE", "AUTHORIZATION_DATE", "CLIENT_ID", "CREATED_AT", "ID", "REFRESH_COUNT", "SCOPE", "USER_KEY"},
		access, nil, ms, clientID, ms, refresh, 0, "WRITE", ref); err != nil {
		return err
	}
	s.record(SeededCredential{Kind: atlassian.KindOAuthAccess, Table: "AO_FE1BC5_ACCESS_TOKEN", Owner: owner, Name: clientID}, created, intruder)
	s.record(SeededCredential{Kind: atlassian.KindOAuthRefresh, Table: "AO_FE1BC5_REFRESH_TOKEN", Owner: owner, Name: clientID}, created, intruder)
	return nil
}
