package sandbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
)

// Crowd in the sandbox. A Crowd node keeps users' SSO sessions in cwd_token (the crowd.token_key
// cookie holds a row's random_hash) beside the applications' own tokens (directory_id -1, which
// never log a browser in), and Crowd's remember-me rows in cwd_remember_me_token. Like the other
// products' remember-me tokens, a node reads cwd_token through a cache that keeps what it has
// seen until it restarts (the pessimistic reading: a deleted row may stay valid on a node that
// cached it). The remember-me rows are stored, purged and counted, but do not log a browser in
// here (Crowd's console login is not simulated beyond the SSO token).
//
// An application sandbox started with Options.CrowdSSO trusts Crowd's SSO as Jira's
// SSOSeraphAuthenticator does: its login creates a Crowd session and sets crowd.token_key, and a
// browser holding a valid crowd.token_key is logged straight back in even with no session and no
// remember-me token there. It asks Crowd (GET …/rest/usermanagement/1/session/{token}) and, as
// Jira caches Crowd authentication (up to 15 minutes, Jira DC KB "Invalidating user sessions"),
// keeps every answer until it restarts: the pessimistic reading again.

// crowdDirectory is the directory id of the sandbox's Crowd users (any id but -1).
const crowdDirectory = 32769

// crowdAppTokenDirectory marks an application's token in cwd_token (Crowd's
// APPLICATION_TOKEN_DIRECTORY_ID).
const crowdAppTokenDirectory = -1

// CrowdApplications are the applications whose tokens a sandbox Crowd holds in cwd_token.
var CrowdApplications = []string{"crowd", "jira", "confluence"}

// CrowdWhoAmIPath is the sandbox Crowd's "who am I" (Crowd documents none a browser's SSO cookie
// can be checked against: reauth's inventory names it with whoami_path).
const CrowdWhoAmIPath = "/rest/sandbox/1/whoami"

// whoAmIPath is the node's "who am I" path (the catalog's, or the sandbox Crowd's).
func whoAmIPath(p atlassian.Product) string {
	if p.Login.WhoAmIPath == "" && p.ID == atlassian.Crowd {
		return CrowdWhoAmIPath
	}
	return p.Login.WhoAmIPath
}

// tokenCookie is the cookie a node checks against its token table: the remember-me cookie, or
// Crowd's SSO cookie.
func (m model) tokenCookie(p atlassian.Product) string {
	if m.crowd {
		return p.SSOCookie
	}
	return p.RememberMeCookie
}

func crowdDDL(ts, tail string) []string {
	return []string{
		"CREATE TABLE cwd_token (id bigint NOT NULL, directory_id bigint NOT NULL, entity_name varchar(255) NOT NULL, random_number bigint NOT NULL, " +
			"identifier_hash varchar(255) NOT NULL, random_hash varchar(255) NOT NULL, created_date " + ts + " NOT NULL, last_accessed_date " + ts +
			" NOT NULL, last_accessed_time bigint DEFAULT 0 NOT NULL, duration bigint, PRIMARY KEY (id))" + tail,
		"CREATE UNIQUE INDEX idx_token_key ON cwd_token (random_hash)",
		"CREATE TABLE cwd_remember_me_token (id bigint NOT NULL, username varchar(255) NOT NULL, remote_address varchar(255), token varchar(64) NOT NULL, " +
			"series varchar(64) NOT NULL, created_date " + ts + " NOT NULL, used_date " + ts + ", directory_id bigint NOT NULL, PRIMARY KEY (id))" + tail,
	}
}

// crowdSelect reads user sessions only: an application's token never logs a browser in.
const crowdSelect = "SELECT random_hash, random_hash, entity_name FROM cwd_token WHERE directory_id <> -1"

func (m model) crowdLookup(ctx context.Context, db *sql.DB, e reauth.Engine, key string) (token, bool, error) {
	var k, secret, ref sql.NullString
	err := db.QueryRowContext(ctx, rebind(e, crowdSelect+" AND random_hash = ?"), key).Scan(&k, &secret, &ref)
	if errors.Is(err, sql.ErrNoRows) {
		return token{}, false, nil
	}
	if err != nil {
		return token{}, false, fmt.Errorf("read crowd token: %w", err)
	}
	return token{Key: k.String, Secret: secret.String, Ref: ref.String}, true, nil
}

// crowdInsert stores a user's SSO session, and with remember-me a cwd_remember_me_token row.
func (m model) crowdInsert(ctx context.Context, db *sql.DB, e reauth.Engine, ref string, now time.Time, remember bool) (token, error) {
	rh := randomHex(20)
	if err := insertCrowdToken(ctx, db, e, crowdDirectory, ref, rh, now); err != nil {
		return token{}, err
	}
	if remember {
		if _, err := insertWithNextID(ctx, db, e, "cwd_remember_me_token",
			[]string{"username", "remote_address", "token", "series", "created_date", "directory_id"},
			ref, "127.0.0.1", randomHex(16), randomHex(16), now.UTC(), int64(crowdDirectory)); err != nil {
			return token{}, err
		}
	}
	return token{Key: rh, Secret: rh, Ref: ref}, nil
}

func insertCrowdToken(ctx context.Context, db *sql.DB, e reauth.Engine, dir int64, name, randomHash string, now time.Time) error {
	_, err := insertWithNextID(ctx, db, e, "cwd_token",
		[]string{"directory_id", "entity_name", "random_number", "identifier_hash", "random_hash", "created_date", "last_accessed_date", "last_accessed_time"},
		dir, name, int64(len(randomHash)), randomHex(20), randomHash, now.UTC(), now.UTC(), now.UnixMilli())
	return err
}

// seedCrowdApplications gives each application a token, as Crowd does when an application
// authenticates: the rows a purge must never touch.
func seedCrowdApplications(ctx context.Context, db *sql.DB, e reauth.Engine) error {
	for _, app := range CrowdApplications {
		if err := insertCrowdToken(ctx, db, e, crowdAppTokenDirectory, app, randomHex(20), time.Now()); err != nil {
			return fmt.Errorf("seed the %s application token: %w", app, err)
		}
	}
	return nil
}

// crowdRoutes are the Crowd REST resources the sandbox serves: SSO session create and validate
// for applications, and the admin's remember-me expire-all. Per-user session invalidation
// (DELETE …/session?username=) is the catalog's SessionAPI: handleKillSessions serves it, and
// every node forgets the user's cached tokens through the cluster's kill queue.
func (n *node) crowdRoutes(mux *http.ServeMux, ctxPath string) {
	mux.HandleFunc("POST "+ctxPath+"/rest/usermanagement/1/session", n.handleCrowdCreateSession)
	mux.HandleFunc("GET "+ctxPath+"/rest/usermanagement/1/session/{token}", n.handleCrowdValidate)
	mux.HandleFunc("POST "+ctxPath+"/rest/admin/1.0/remember-me/expire-all", n.handleCrowdExpireAll)
}

// handleCrowdCreateSession authenticates a user for an application (JSON {username, password})
// and answers 201 with the new SSO token.
func (n *node) handleCrowdCreateSession(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil {
		writeJSONBody(w, http.StatusBadRequest, map[string]string{"reason": "ILLEGAL_ARGUMENT"})
		return
	}
	n.mu.Lock()
	acct, ok := n.accounts[in.Username]
	n.mu.Unlock()
	if !ok || !checkPassword(acct.Hash, in.Password) {
		writeJSONBody(w, http.StatusBadRequest, map[string]string{"reason": "INVALID_USER_AUTHENTICATION"})
		return
	}
	t, err := n.m.crowdInsert(r.Context(), n.db, n.eng, acct.Ref, time.Now(), false)
	if err != nil {
		http.Error(w, "could not store the session", http.StatusInternalServerError)
		return
	}
	n.mu.Lock()
	n.tokens[t.Key] = t
	n.mu.Unlock()
	noteUser(r, acct.Name)
	writeJSONBody(w, http.StatusCreated, map[string]any{"token": t.Key, "user": map[string]string{"name": acct.Name}})
}

// handleCrowdValidate answers 200 with the token's user, or 404 (Crowd's INVALID_SSO_TOKEN).
func (n *node) handleCrowdValidate(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("token")
	t, found := n.cachedToken(r.Context(), key)
	n.mu.Lock()
	user := n.byRef[t.Ref]
	n.mu.Unlock()
	if !found || !t.matches(key) || user == "" {
		writeJSONBody(w, http.StatusNotFound, map[string]string{"reason": "INVALID_SSO_TOKEN"})
		return
	}
	noteUser(r, user)
	writeJSONBody(w, http.StatusOK, map[string]any{"token": key, "user": map[string]string{"name": user}})
}

// handleCrowdExpireAll deletes every remember-me row (Crowd DC admin REST, POST
// /rest/admin/1.0/remember-me/expire-all; the sandbox answers 204).
func (n *node) handleCrowdExpireAll(w http.ResponseWriter, r *http.Request) {
	if _, admin, ok := n.apiCaller(r); !ok || !admin {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if _, err := n.db.ExecContext(r.Context(), "DELETE FROM cwd_remember_me_token"); err != nil {
		http.Error(w, "could not expire the tokens", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// crowdSSO logs a browser in from its crowd.token_key when this application trusts Crowd SSO:
// from the node's cache of Crowd's answers, else by asking a Crowd node. "" when it cannot.
func (n *node) crowdSSO(w http.ResponseWriter, r *http.Request) string {
	if len(n.st.CrowdSSO) == 0 {
		return ""
	}
	c, err := r.Cookie(crowdCookie)
	if err != nil || c.Value == "" {
		return ""
	}
	n.mu.Lock()
	user, cached := n.crowdCache[c.Value]
	n.mu.Unlock()
	if !cached {
		user = n.askCrowd(r.Context(), c.Value)
		if user == "" {
			return ""
		}
		n.mu.Lock()
		n.crowdCache[c.Value] = user // kept until this node restarts (Jira's cache, pessimistically)
		n.mu.Unlock()
	}
	n.mu.Lock()
	_, known := n.accounts[user]
	n.mu.Unlock()
	if !known {
		return ""
	}
	n.setSessionCookie(w, n.sessions.create(user, time.Now()))
	n.log.Printf("auto-login %s from Crowd SSO", user)
	noteUser(r, user)
	return user
}

// crowdCookie is Crowd's SSO cookie name (catalog: Crowd's SSOCookie).
var crowdCookie = func() string { p, _ := atlassian.Lookup(string(atlassian.Crowd)); return p.SSOCookie }()

// askCrowd validates an SSO token with the first Crowd node that answers: its user, or "".
func (n *node) askCrowd(ctx context.Context, tok string) string {
	crowd, _ := atlassian.Lookup(string(atlassian.Crowd))
	client := &http.Client{Timeout: 5 * time.Second}
	for _, base := range n.st.CrowdSSO {
		var out struct {
			User struct {
				Name string `json:"name"`
			} `json:"user"`
		}
		u := strings.TrimRight(base, "/") + crowd.ContextPath + "/rest/usermanagement/1/session/" + tok
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return ""
		}
		req.Header.Set("Accept", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			continue // that Crowd node is down: ask the next
		}
		code := resp.StatusCode
		if code == http.StatusOK {
			_ = json.NewDecoder(resp.Body).Decode(&out)
		}
		resp.Body.Close()
		if code == http.StatusServiceUnavailable {
			continue
		}
		return out.User.Name
	}
	return ""
}

// crowdLogin creates the user's Crowd SSO session at login, as the SSO authenticator does, and
// sets crowd.token_key.
func (n *node) crowdLogin(ctx context.Context, w http.ResponseWriter, user, password string) error {
	crowd, _ := atlassian.Lookup(string(atlassian.Crowd))
	body, _ := json.Marshal(map[string]string{"username": user, "password": password})
	client := &http.Client{Timeout: 5 * time.Second}
	var lastErr error
	for _, base := range n.st.CrowdSSO {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(base, "/")+crowd.ContextPath+"/rest/usermanagement/1/session",
			strings.NewReader(string(body)))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			lastErr = err
			continue
		}
		var out struct {
			Token string `json:"token"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated || out.Token == "" {
			return fmt.Errorf("crowd refused the login of %s: HTTP %d", user, resp.StatusCode)
		}
		http.SetCookie(w, &http.Cookie{Name: crowdCookie, Value: out.Token, Path: "/", HttpOnly: true})
		return nil
	}
	return fmt.Errorf("no crowd node answered: %v", lastErr)
}
