package sandbox

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"net/http"
	"strings"
	"time"
)

// handleKillSessions is the admin-only per-user session invalidation of Jira 9.11+ and Bamboo
// 9.4+ (catalog SessionAPI): it ends the user's sessions on this node, deletes the user's
// remember-me rows and cached tokens, and queues the user in the shared database so that every
// other node does the same within ~200 ms, as the real cluster does through its cache replication.
func (n *node) handleKillSessions(w http.ResponseWriter, r *http.Request) {
	caller, admin, ok := n.apiCaller(r)
	noteUser(r, caller)
	switch {
	case !ok:
		w.Header().Set("WWW-Authenticate", `Basic realm="protected-area"`)
		writeJSONBody(w, http.StatusUnauthorized, map[string]any{"errorMessages": []string{"Client must be authenticated to access this resource."}})
		return
	case !admin:
		writeJSONBody(w, http.StatusForbidden, map[string]any{"errorMessages": []string{"You do not have permission to perform this operation."}})
		return
	}
	target := r.PathValue("username")
	if target == "" { // Crowd: DELETE …/session?username=
		target = r.URL.Query().Get("username")
	}
	n.mu.Lock()
	acct, known := n.accounts[target]
	if !known { // user names are case-insensitive in Jira and Bamboo (Crowd's lower_user_name)
		for name, a := range n.accounts {
			if strings.EqualFold(name, target) {
				target, acct, known = name, a, true
				break
			}
		}
	}
	n.mu.Unlock()
	if !known {
		writeJSONBody(w, http.StatusNotFound, map[string]any{"errorMessages": []string{"The user named '" + target + "' does not exist"}})
		return
	}
	ctx := r.Context()
	if n.st.APIKeepsRememberMe { // sessions only: rows and cached tokens stay
		if err := n.queueKill(ctx, target); err != nil {
			n.log.Printf("session API: %v", err)
			http.Error(w, "database error", http.StatusInternalServerError)
			return
		}
		k := n.sessions.removeUser(target)
		n.log.Printf("session API: %s ended %d sessions of %s (remember-me left alone)", caller, k, target)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if err := n.m.deleteUserTokens(ctx, n.db, n.eng, acct.Ref); err != nil {
		n.log.Printf("session API: %v", err)
		http.Error(w, "database error", http.StatusInternalServerError)
		return
	}
	if err := n.queueKill(ctx, target); err != nil {
		n.log.Printf("session API: %v", err)
		http.Error(w, "database error", http.StatusInternalServerError)
		return
	}
	k := n.forget(target)
	n.log.Printf("session API: %s ended %d sessions of %s", caller, k, target)
	w.WriteHeader(http.StatusNoContent)
}

// apiCaller authenticates a REST call: HTTP basic auth, the bearer token in DIR/admin-token (an
// admin's personal access token), or the browser session.
func (n *node) apiCaller(r *http.Request) (user string, admin, ok bool) {
	if u, p, has := r.BasicAuth(); has {
		n.mu.Lock()
		a, known := n.accounts[u]
		n.mu.Unlock()
		if !known || !checkPassword(a.Hash, p) {
			return u, false, false
		}
		return u, a.Admin, true
	}
	if b, has := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); has {
		n.mu.Lock()
		tok := n.admin
		n.mu.Unlock()
		if tok != "" && subtle.ConstantTimeCompare([]byte(b), []byte(tok)) == 1 {
			return "admin", true, true
		}
		return "", false, false
	}
	if u := n.authenticate(nopWriter{}, r); u != "" {
		n.mu.Lock()
		a := n.accounts[u]
		n.mu.Unlock()
		return u, a.Admin, true
	}
	return "", false, false
}

// nopWriter discards the session cookie an API call's auto-login would set.
type nopWriter struct{}

func (nopWriter) Header() http.Header         { return http.Header{} }
func (nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (nopWriter) WriteHeader(int)             {}

// forget ends user's sessions on this node and drops the user's cached tokens (only the
// sessions when the sandbox's API leaves remember-me alone).
func (n *node) forget(user string) int {
	k := n.sessions.removeUser(user)
	if n.st.APIKeepsRememberMe {
		return k
	}
	n.mu.Lock()
	ref := n.accounts[user].Ref
	for key, t := range n.tokens {
		if t.Ref == ref {
			delete(n.tokens, key)
		}
	}
	n.mu.Unlock()
	return k
}

func maxKillID(ctx context.Context, db *sql.DB) (int64, error) {
	var id int64
	err := db.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM sandbox_session_kill").Scan(&id)
	return id, err
}

// killIDSlots spaces kill ids so that every node has its own residue: ids never collide between
// nodes (a MAX(id)+1 scheme made concurrent kills retry on duplicate keys and capped the API's
// throughput far below what a real cluster's cache replication allows).
const killIDSlots = 32

// queueKill queues user's kill for the other nodes under a time-ordered id in this node's slot;
// two kills in the same microsecond on one node take the next free id.
func (n *node) queueKill(ctx context.Context, user string) error {
	slot := int64(0)
	for i, s := range n.st.Nodes {
		if s.Name == n.name {
			slot = int64(i % killIDSlots)
		}
	}
	q := rebind(n.eng, "INSERT INTO sandbox_session_kill (id, username, created) VALUES (?, ?, ?)")
	id := time.Now().UnixMicro()*killIDSlots + slot
	var err error
	for attempt := 0; attempt < 100; attempt++ {
		if _, err = n.db.ExecContext(ctx, q, id, user, time.Now().UnixMilli()); err == nil || !retryable(err) {
			return err
		}
		id += killIDSlots
	}
	return err
}

// killLookback re-reads this much of the queue on every poll: a kill whose id was taken before
// another node's larger one may commit after it, and must not be missed.
const killLookback = int64(5*time.Second/time.Microsecond) * killIDSlots

// pollKills applies the session kills other nodes queued, every 200 ms, until ctx ends. Each kill
// is applied once (seen ids are remembered for the look-back window).
func (n *node) pollKills(ctx context.Context, from int64) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	q := rebind(n.eng, "SELECT id, username FROM sandbox_session_kill WHERE id > ? ORDER BY id")
	seen := map[int64]bool{}
	top := from
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		low := max(from, top-killLookback)
		rows, err := n.db.QueryContext(ctx, q, low)
		if err != nil {
			if ctx.Err() == nil {
				n.log.Printf("poll session kills: %v", err)
			}
			continue
		}
		var users []string
		for rows.Next() {
			var id int64
			var u string
			if err := rows.Scan(&id, &u); err == nil && !seen[id] {
				seen[id] = true
				top = max(top, id)
				users = append(users, u)
			}
		}
		rows.Close()
		for id := range seen {
			if id <= top-killLookback {
				delete(seen, id)
			}
		}
		for _, u := range users {
			if k := n.forget(u); k > 0 {
				n.log.Printf("session kill from the cluster: ended %d sessions of %s", k, u)
			}
		}
	}
}
