package sandbox

import (
	"context"
	"net/http"
	"strings"
	"time"
)

type recorderKey struct{}

func withRecorder(ctx context.Context, r *recorder) context.Context {
	return context.WithValue(ctx, recorderKey{}, r)
}

// noteUser records, for the request log, who the request turned out to be.
func noteUser(r *http.Request, user string) {
	if rec, ok := r.Context().Value(recorderKey{}).(*recorder); ok {
		rec.user = user
	}
}

// authenticate finds the request's user: first its session, then (Seraph's and Bitbucket's
// auto-login) its remember-me cookie checked against the node's token CACHE, which starts a new
// session silently. This second path is why a restart alone does not log anyone out, and why a
// database delete alone does not either until the cache is re-read at the next start.
//
// The cache is read-through: a token the node has not seen is read from the shared table (so a
// cookie issued on one node works on every node, as on a real cluster sharing one table), while
// a token it has cached stays valid there until the node restarts, even once its row is gone.
func (n *node) authenticate(w http.ResponseWriter, r *http.Request) string {
	if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		// A personal access token: checked against its row on every request, no session made
		// (atlassian.pats.invalidate.session.enabled defaults to true).
		user := n.bearerUser(r)
		noteUser(r, user)
		return user
	}
	if c, err := r.Cookie(n.p.SessionCookie); err == nil {
		if s, ok := n.sessions.get(c.Value); ok {
			noteUser(r, s.User)
			return s.User
		}
	}
	c, err := r.Cookie(n.m.tokenCookie(n.p))
	if err != nil {
		return n.crowdSSO(w, r)
	}
	key, secret, ok := n.m.parseCookie(c.Value)
	if !ok {
		return n.crowdSSO(w, r)
	}
	t, found := n.cachedToken(r.Context(), key)
	n.mu.Lock()
	user := n.byRef[t.Ref]
	n.mu.Unlock()
	if !found || !t.matches(secret) || user == "" {
		return n.crowdSSO(w, r)
	}
	n.setSessionCookie(w, n.sessions.create(user, time.Now()))
	n.log.Printf("auto-login %s from remember-me cookie", user)
	noteUser(r, user)
	return user
}

func (n *node) setSessionCookie(w http.ResponseWriter, id string) {
	http.SetCookie(w, &http.Cookie{Name: n.p.SessionCookie, Value: id, Path: "/", HttpOnly: true})
}

// handleLogin is the product's login form POST: check the password, start a session, and when
// remember-me is ticked, store a token row in the product's table (and this node's cache).
func (n *node) handleLogin(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	name := r.PostForm.Get(n.p.Login.UserField)
	pw := r.PostForm.Get(n.p.Login.PasswordField)
	n.mu.Lock()
	acct, ok := n.accounts[name]
	n.mu.Unlock()
	seraph := n.p.ID != "bitbucket"
	if !ok || !checkPassword(acct.Hash, pw) {
		n.log.Printf("login failed for %q", name)
		if seraph {
			w.Header().Set("X-Seraph-LoginReason", "AUTHENTICATED_FAILED")
		}
		w.Header().Set("Content-Type", "text/html;charset=UTF-8")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte("<html><body>Sorry, your username and password are incorrect - please try again.</body></html>\n"))
		return
	}
	noteUser(r, name)
	// A fresh session id at login (no session fixation), as Tomcat's authenticators do.
	if c, err := r.Cookie(n.p.SessionCookie); err == nil {
		n.sessions.remove(c.Value)
	}
	n.setSessionCookie(w, n.sessions.create(name, time.Now()))
	remember := r.PostForm.Get(n.p.Login.RememberField)
	ticked := remember != "" && (strings.EqualFold(remember, n.p.Login.RememberValue) || remember == "on" || remember == "true")
	if len(n.st.CrowdSSO) > 0 { // the SSO authenticator: a Crowd session, and its cookie
		if err := n.crowdLogin(r.Context(), w, name, pw); err != nil {
			n.log.Printf("crowd sso login of %s: %v", name, err)
			http.Error(w, "could not start the Crowd SSO session", http.StatusInternalServerError)
			return
		}
	}
	if n.m.crowd || ticked { // Crowd: every login is an SSO session (and remember-me a row besides)
		var t token
		var err error
		if n.m.crowd {
			t, err = n.m.crowdInsert(r.Context(), n.db, n.eng, acct.Ref, time.Now(), ticked)
		} else {
			t, err = n.m.insertToken(r.Context(), n.db, n.eng, acct.Ref, time.Now(), n.st.bankOf(n.name))
		}
		if err != nil {
			n.log.Printf("store remember-me token for %s: %v", name, err)
			http.Error(w, "could not store the remember-me token", http.StatusInternalServerError)
			return
		}
		n.mu.Lock()
		n.tokens[t.Key] = t
		n.mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: n.m.tokenCookie(n.p), Value: n.m.cookieValue(t), Path: "/",
			MaxAge: int(n.m.rememberAge().Seconds()), HttpOnly: true})
	}
	n.log.Printf("login %s remember-me=%t", name, remember != "")
	if seraph {
		w.Header().Set("X-Seraph-LoginReason", "OK")
	}
	dest := r.PostForm.Get("os_destination")
	if dest == "" || !strings.HasPrefix(dest, "/") || strings.HasPrefix(dest, "//") {
		_, dest = pages(n.p) // only local redirects: no open redirect
	}
	http.Redirect(w, r, dest, http.StatusFound)
}

// handleLogout ends the session and, as Seraph does, deletes the browser's remember-me token.
func (n *node) handleLogout(w http.ResponseWriter, r *http.Request) {
	user := n.authenticate(w, r)
	if c, err := r.Cookie(n.p.SessionCookie); err == nil {
		n.sessions.remove(c.Value)
	}
	if c, err := r.Cookie(n.m.tokenCookie(n.p)); err == nil {
		if key, _, ok := n.m.parseCookie(c.Value); ok {
			n.mu.Lock()
			delete(n.tokens, key)
			n.mu.Unlock()
			if err := n.m.deleteToken(r.Context(), n.db, n.eng, key); err != nil {
				n.log.Printf("logout: delete token: %v", err)
			}
		}
	}
	for _, name := range []string{n.p.SessionCookie, n.m.tokenCookie(n.p)} {
		http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1})
	}
	n.log.Printf("logout %s", user)
	loginPage, _ := pages(n.p)
	http.Redirect(w, r, loginPage, http.StatusFound)
}
