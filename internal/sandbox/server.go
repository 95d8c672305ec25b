package sandbox

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/reauth/reauth/atlassian"
)

// pages are the product's login page (GET) and an authenticated HTML page.
func pages(p atlassian.Product) (loginPage, homePage string) {
	switch p.ID {
	case atlassian.Jira:
		return "/login.jsp", "/secure/Dashboard.jspa"
	case atlassian.Confluence:
		return "/login.action", "/dashboard.action"
	case atlassian.Bitbucket:
		return "/login", "/dashboard"
	case atlassian.Bamboo:
		return "/userlogin.action", "/allPlans.action"
	}
	return "/login", "/dashboard"
}

func (n *node) routes() http.Handler {
	mux := http.NewServeMux()
	loginPage, home := pages(n.p)
	cp := n.p.ContextPath // Crowd serves under /crowd
	mux.HandleFunc("GET "+cp+n.p.Ready.Path, n.handleStatus)
	mux.HandleFunc("GET /sandbox/info", n.handleInfo)
	mux.HandleFunc("GET "+cp+loginPage, n.handleLoginPage)
	mux.HandleFunc("POST "+cp+n.p.Login.Path, n.handleLogin)
	mux.HandleFunc("GET "+cp+whoAmIPath(n.p), n.handleWhoAmI)
	mux.HandleFunc("GET "+cp+home, n.handleHome)
	mux.HandleFunc(cp+"/logout", n.handleLogout)
	if n.m.crowd {
		n.crowdRoutes(mux, cp)
	}
	switch n.p.ID {
	case atlassian.Jira:
		mux.HandleFunc("GET /rest/api/2/serverInfo", n.handleServerInfo)
	case atlassian.Bamboo:
		mux.HandleFunc("GET /rest/api/latest/info", n.handleServerInfo)
	}
	if c, ok := atlassian.CredentialsOf(n.p.ID); ok && c.AuthPath != "" && n.p.ID != atlassian.Bamboo {
		mux.HandleFunc("GET "+cp+c.AuthPath, n.handleTokens)
	}
	if n.sessionAPI {
		path, _, _ := strings.Cut(n.p.SessionAPI, "?") // Crowd names the user in the query
		mux.HandleFunc("DELETE "+cp+path, n.handleKillSessions)
	}
	return n.middleware(mux)
}

// recorder remembers the status and the user a handler served, for the request log.
type recorder struct {
	http.ResponseWriter
	code int
	user string
}

func (r *recorder) WriteHeader(c int) { r.code = c; r.ResponseWriter.WriteHeader(c) }

// middleware logs every request (never a cookie, a password or a query string) and answers 503
// for everything but readiness while the node is not RUNNING, as a starting Tomcat does.
func (n *node) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w, code: 200}
		ctrl := r.URL.Path == n.p.ContextPath+n.p.Ready.Path || r.URL.Path == "/sandbox/info"
		if ph := n.getPhase(); !ctrl && ph != stateRunning {
			http.Error(rec, n.p.Name+" is "+strings.ToLower(ph), http.StatusServiceUnavailable)
		} else {
			next.ServeHTTP(rec, r.WithContext(withRecorder(r.Context(), rec)))
		}
		if !ctrl {
			n.log.Printf("%s %s %d user=%q %s", r.Method, r.URL.Path, rec.code, rec.user, time.Since(start).Round(time.Microsecond))
		}
	})
}

func writeJSONBody(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// readiness is the state and HTTP code the product's readiness endpoint answers now
// (docs/atlassian.md; realcases/status).
func (n *node) readiness() (int, string) {
	ph := n.getPhase()
	if ph == stateRunning {
		switch readFault(n.dir, n.name) {
		case FaultMaintenance:
			ph = stateMaintenance
		case FaultError:
			ph = stateError
		}
	}
	bitbucket := n.p.ID == atlassian.Bitbucket
	switch ph {
	case stateStarting:
		return n.p.Ready.StartingCode, ph
	case stateStopping: // Jira documents 200 STOPPING; Bitbucket answers 503 while not serving
		return n.p.Ready.StartingCode, ph
	case stateMaintenance: // Jira: 503 (index catch-up); Bitbucket: 200
		if bitbucket {
			return http.StatusOK, ph
		}
		return http.StatusServiceUnavailable, ph
	case stateError:
		return http.StatusInternalServerError, ph
	}
	return http.StatusOK, ph
}

func (n *node) handleStatus(w http.ResponseWriter, r *http.Request) {
	code, st := n.readiness()
	key := n.p.Ready.StateKey
	if key == "" { // Fisheye: no documented state endpoint; answer the code, and say it anyway
		writeJSONBody(w, code, map[string]string{"state": st, "version": n.st.Version})
		return
	}
	writeJSONBody(w, code, map[string]string{key: st})
}

// Info is what GET /sandbox/info answers: the sandbox's own view of a node, for `sandbox status`.
type Info struct {
	Name         string `json:"name"`
	Product      string `json:"product"`
	Version      string `json:"version"`
	State        string `json:"state"`
	PID          int    `json:"pid"`
	Sessions     int    `json:"sessions"`
	CachedTokens int    `json:"cached_tokens"`
	// The cookie names this node uses (the remember-me one from its seraph-config.xml).
	SessionCookie    string `json:"session_cookie"`
	RememberMeCookie string `json:"remember_me_cookie"`
}

func (n *node) handleInfo(w http.ResponseWriter, r *http.Request) {
	_, st := n.readiness()
	n.mu.Lock()
	cached := len(n.tokens)
	n.mu.Unlock()
	writeJSONBody(w, http.StatusOK, Info{Name: n.name, Product: string(n.p.ID), Version: n.st.Version, State: st,
		PID: os.Getpid(), Sessions: n.sessions.count(), CachedTokens: cached,
		SessionCookie: n.p.SessionCookie, RememberMeCookie: n.p.RememberMeCookie})
}

func (n *node) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html;charset=UTF-8")
	dest := r.URL.Query().Get("os_destination")
	if dest == "" {
		dest = r.URL.Query().Get("next")
	}
	fmt.Fprintf(w, `<!DOCTYPE html><html><head><title>Log in - %s</title></head><body>
<form id="login-form" method="post" action="%s">
<input type="text" name="%s"> <input type="password" name="%s">
<input type="checkbox" name="%s" value="%s"> Remember my login
<input type="hidden" name="os_destination" value="%s"><input type="submit" value="Log In">
</form></body></html>
`, html.EscapeString(n.p.Name), n.p.Login.Path, n.p.Login.UserField, n.p.Login.PasswordField,
		n.p.Login.RememberField, n.p.Login.RememberValue, html.EscapeString(dest))
}

func (n *node) handleHome(w http.ResponseWriter, r *http.Request) {
	user := n.authenticate(w, r)
	if user == "" {
		loginPage, _ := pages(n.p)
		http.Redirect(w, r, loginPage+"?os_destination="+url.QueryEscape(r.URL.Path), http.StatusFound)
		return
	}
	w.Header().Set("Content-Type", "text/html;charset=UTF-8")
	fmt.Fprintf(w, "<!DOCTYPE html><html><body><h1>%s dashboard</h1><p>Logged in as %s on %s.</p></body></html>\n",
		html.EscapeString(n.p.Name), html.EscapeString(user), html.EscapeString(n.name))
}

// handleWhoAmI answers the catalog's "who am I" endpoint: 200 with the user when logged in,
// 401 when not.
func (n *node) handleWhoAmI(w http.ResponseWriter, r *http.Request) {
	user := n.authenticate(w, r)
	if user == "" {
		writeJSONBody(w, http.StatusUnauthorized, map[string]any{
			"errorMessages": []string{"You are not authenticated. Authentication required to perform this operation."},
			"errors":        map[string]string{}})
		return
	}
	switch n.p.ID {
	case atlassian.Bitbucket: // the applinks servlet answers the bare user name
		w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
		fmt.Fprint(w, user)
	case atlassian.Jira:
		writeJSONBody(w, http.StatusOK, map[string]any{"self": "/rest/api/latest/user?username=" + url.QueryEscape(user),
			"name": user, "loginInfo": map[string]any{"loginCount": 1}})
	case atlassian.Confluence:
		writeJSONBody(w, http.StatusOK, map[string]any{"type": "known", "username": user, "name": user, "displayName": user})
	default:
		writeJSONBody(w, http.StatusOK, map[string]any{"name": user, "fullName": user})
	}
}

func (n *node) handleServerInfo(w http.ResponseWriter, r *http.Request) {
	parts := atlassian.VersionParts(n.st.Version)
	if n.p.ID == atlassian.Bamboo {
		writeJSONBody(w, http.StatusOK, map[string]any{"version": n.st.Version, "edition": "",
			"buildNumber": fmt.Sprint(versionBuild(parts)), "state": "RUNNING"})
		return
	}
	writeJSONBody(w, http.StatusOK, map[string]any{"version": n.st.Version, "versionNumbers": parts,
		"deploymentType": "Server", "buildNumber": versionBuild(parts), "serverTitle": "Jira (sandbox)"})
}

// versionBuild makes a plausible build number from a version (9.12.0 -> 912000).
func versionBuild(p []int) int {
	b := 0
	for i := 0; i < 3; i++ {
		b *= 100
		if i < len(p) {
			b += p[i]
		}
	}
	return b * 10
}
