// Package apimode ends users' sessions through the product's own REST API instead of restarting
// its nodes: Jira 9.11+ (DELETE /rest/api/2/user/session/{username}) and Bamboo 9.4+
// (DELETE /rest/admin/latest/session/{username}) end one user's sessions on every node of the
// cluster, so a forced re-login needs no downtime there; so does Crowd's
// DELETE /rest/usermanagement/1/session?username={username} for its users' SSO sessions
// (authenticated as an application).
//
// Detect reads the product's version through REST with the admin credentials and checks, before
// anything changes, that those credentials may call the session endpoint. Decide turns an
// inventory mode (auto|restart|api) and what Detect found into "API or rolling restart, and why".
// Invalidate calls the endpoint for every user with bounded concurrency, a rate limit, retries
// with backoff on 429/5xx (honouring Retry-After), and a circuit breaker that stops the run when
// the product starts failing.
//
// The API ends sessions; it is not documented to delete remember-me tokens. Callers purge the
// tokens (with a backup) FIRST, then end the sessions, so that no browser can log itself back
// in from a token between the two steps.
package apimode

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/inventory"
)

// Auth is how reauth authenticates to the product's REST API: a personal access token (sent as
// "Authorization: Bearer", Jira 8.14+ and Bamboo 7.1+) or basic auth. The token wins when both
// are given, because it is the credential Atlassian recommends for scripts.
type Auth struct {
	User     string
	Password reauth.Secret
	Token    reauth.Secret
}

// IsZero reports whether no credential was given.
func (a Auth) IsZero() bool { return a.Token.IsZero() && (a.User == "" || a.Password.IsZero()) }

// String says which credential is used, never its value.
func (a Auth) String() string {
	switch {
	case !a.Token.IsZero() && a.User != "":
		return "personal access token of " + a.User
	case !a.Token.IsZero():
		return "personal access token"
	case a.User != "":
		return "basic auth as " + a.User
	}
	return "no credentials"
}

func (a Auth) apply(r *http.Request) {
	switch {
	case !a.Token.IsZero():
		r.Header.Set("Authorization", "Bearer "+a.Token.Reveal())
	case a.User != "":
		r.SetBasicAuth(a.User, a.Password.Reveal())
	}
}

// AuthFrom reads the inventory's admin block (secrets from env or files, through getenv). A nil
// block gives a zero Auth: Detect then says the API cannot be used.
func AuthFrom(a *inventory.Admin, getenv func(string) string) (Auth, error) {
	if a == nil {
		return Auth{}, nil
	}
	out := Auth{User: a.User}
	var err error
	if out.Token, err = a.Token.Resolve(getenv); err != nil {
		return Auth{}, fmt.Errorf("admin token: %w", err)
	}
	if out.Password, err = a.Password.Resolve(getenv); err != nil {
		return Auth{}, fmt.Errorf("admin password: %w", err)
	}
	if out.Token.IsZero() && out.Password.IsZero() {
		return Auth{}, reauth.Usage("give the admin block a token_env/token_file (a personal access token) or a password_env/password_file",
			"admin %q has neither a token nor a password reference", a.User)
	}
	if out.Token.IsZero() && a.User == "" {
		return Auth{}, reauth.Usage("add user: NAME to the admin block", "admin: a password needs a user name")
	}
	return out, nil
}

// Support is what Detect found out about one product. Its JSON is shown in plans.
type Support struct {
	Product   atlassian.ProductID `json:"product"`
	Version   string              `json:"version,omitempty"`
	Supported bool                `json:"supported"`
	Why       string              `json:"why"`
	Endpoint  string              `json:"endpoint,omitempty"` // the DELETE path template
	Auth      string              `json:"auth,omitempty"`     // which credential was checked
}

// VersionPath is the REST resource that reports the product's version: Jira's serverInfo and
// Bamboo's info resource (both documented in their REST references). "" where reauth knows none.
func VersionPath(p atlassian.ProductID) string {
	switch p {
	case atlassian.Jira:
		return "/rest/api/2/serverInfo"
	case atlassian.Bamboo:
		return "/rest/api/latest/info"
	}
	return ""
}

// Detect reads the product's version at baseURL and checks that auth may end sessions. It only
// reads: the permission check is a DELETE for a random user name that cannot exist, which the
// product answers 404 (admin), 401 (wrong credentials) or 403 (not an admin) and which ends
// nobody's session. Wrong credentials are a refusal (exit 4): nothing has changed yet. A product
// or version without the endpoint is not an error: Support says why, and Decide picks a restart.
func Detect(ctx context.Context, client *http.Client, p atlassian.Product, baseURL string, auth Auth) (Support, error) {
	s := Support{Product: p.ID, Endpoint: p.SessionAPI, Auth: auth.String()}
	if p.SessionAPI == "" || (VersionPath(p.ID) == "" && p.ID != atlassian.Crowd) {
		s.Endpoint = ""
		s.Why = p.Name + " has no REST endpoint that ends a user's sessions"
		return s, nil
	}
	if auth.IsZero() {
		s.Why = "no admin credentials for " + p.Name + " in the inventory (admin: {user, token_env or password_env})"
		return s, nil
	}
	client = withoutRedirects(client)
	base := p.BaseURL(baseURL)
	if VersionPath(p.ID) == "" {
		// Crowd: no version resource reauth knows (UNCONFIRMED); the probe alone decides.
		if err := probe(ctx, client, p, base, auth); err != nil {
			return s, err
		}
		s.Supported = true
		s.Why = fmt.Sprintf("%s ends a user's SSO sessions through DELETE %s (authenticated as an application: the admin block's user and password)", p.Name, p.SessionAPI)
		return s, nil
	}
	v, err := readVersion(ctx, client, p, base, auth)
	if err != nil {
		return s, err
	}
	s.Version = v
	if !atlassian.VersionAtLeast(v, p.SessionAPIVersion) {
		s.Why = fmt.Sprintf("%s %s has no cluster-wide session endpoint (it came in %s)", p.Name, v, p.SessionAPIVersion)
		return s, nil
	}
	if err := probe(ctx, client, p, base, auth); err != nil {
		return s, err
	}
	s.Supported = true
	s.Why = fmt.Sprintf("%s %s ends a user's sessions on every node through DELETE %s (since %s)", p.Name, v, p.SessionAPI, p.SessionAPIVersion)
	return s, nil
}

func readVersion(ctx context.Context, client *http.Client, p atlassian.Product, base string, auth Auth) (string, error) {
	u := base + VersionPath(p.ID)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", reauth.Usage("fix the node url in the inventory", "%s: %v", p.Name, err)
	}
	req.Header.Set("Accept", "application/json") // Bamboo answers XML without it
	auth.apply(req)
	resp, err := client.Do(req)
	if err != nil {
		return "", reauth.Refused("check that the node url in the inventory is reachable from here",
			"read the %s version at %s: %v", p.Name, u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err := authError(p, resp.StatusCode, auth); err != nil {
		return "", err
	}
	if err := redirectError(p, resp, "GET "+VersionPath(p.ID)); err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", reauth.Refused("check that the node url points at "+p.Name+" and that it is RUNNING",
			"read the %s version at %s: HTTP %d", p.Name, u, resp.StatusCode)
	}
	var info struct {
		Version        string `json:"version"`
		VersionNumbers []int  `json:"versionNumbers"`
	}
	if err := json.Unmarshal(body, &info); err != nil || (info.Version == "" && len(info.VersionNumbers) == 0) {
		return "", reauth.Refused("check that the node url points at "+p.Name,
			"read the %s version at %s: the answer has no version", p.Name, u)
	}
	if info.Version == "" {
		parts := make([]string, len(info.VersionNumbers))
		for i, n := range info.VersionNumbers {
			parts[i] = strconv.Itoa(n)
		}
		info.Version = strings.Join(parts, ".")
	}
	return info.Version, nil
}

// probe checks that auth may call the session endpoint, with a user name that cannot exist.
func probe(ctx context.Context, client *http.Client, p atlassian.Product, base string, auth Auth) error {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	user := "reauth-probe-" + hex.EncodeToString(b)
	path, err := sessionPath(p, user)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	auth.apply(req)
	resp, err := client.Do(req)
	if err != nil {
		return reauth.Refused("check that the node url in the inventory is reachable from here",
			"check the %s session endpoint: %v", p.Name, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if err := authError(p, resp.StatusCode, auth); err != nil {
		return err
	}
	if err := redirectError(p, resp, "DELETE "+p.SessionAPI); err != nil {
		return err
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil
	case resp.StatusCode/100 == 2:
		// Success for a user that cannot exist: whatever answers is not the product's endpoint
		// (a proxy, a login page served with 200), and its "success" for real users would be
		// just as meaningless.
		return reauth.Refused("point the node url at the "+p.Name+" node itself (not a proxy or an SSO gateway); use mode: restart for this product meanwhile",
			"%s answered HTTP %d to DELETE %s for a user that cannot exist (expected 404, \"no such user\"): its answers cannot be trusted", p.Name, resp.StatusCode, p.SessionAPI)
	}
	return reauth.Refused("check the product's logs; use mode: restart for this product meanwhile",
		"%s answered HTTP %d to DELETE %s for a user that does not exist (expected 404)", p.Name, resp.StatusCode, p.SessionAPI)
}

// sessionEnded is the one answer that means "this user's sessions are ended": 204 No Content, the
// success status of Jira's DELETE /rest/api/2/user/session/{username} (REST reference). Bamboo's
// is UNCONFIRMED and taken to be the same. Any other 2xx (a login page served with 200) is not
// counted: a false "ended" is the one answer reauth must never believe.
const sessionEnded = http.StatusNoContent

// withoutRedirects returns a copy of client (nil: a 30 s timeout) that never follows a redirect:
// a product or SSO gateway redirects an unauthenticated call to its login page, which answers
// 200, and a followed DELETE would then look like a success.
func withoutRedirects(client *http.Client) *http.Client {
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// redirectError turns a redirect into a refusal: the REST API answers an admin's call itself, so
// a redirect (to a login page, an SSO gateway) means reauth is not authenticated as an admin.
func redirectError(p atlassian.Product, resp *http.Response, call string) error {
	if resp.StatusCode/100 != 3 {
		return nil
	}
	to := "another page"
	if loc, err := resp.Location(); err == nil {
		to = loc.Host + loc.EscapedPath() // no query: it may carry a session or a return URL
	}
	return reauth.Refused("check the admin block's token or password (an expired one is sent to the login page), and that the node url is the "+
		p.Name+" node itself, not an SSO gateway",
		"%s redirected %s to %s (HTTP %d): reauth is not authenticated as an administrator there", p.Name, call, to, resp.StatusCode)
}

// authError turns 401/403 into a refusal that says what to fix.
func authError(p atlassian.Product, code int, auth Auth) error {
	switch code {
	case http.StatusUnauthorized:
		return reauth.Refused("check the admin block in the inventory: the token or password it references is wrong or expired",
			"%s rejected the admin credentials (%s): HTTP 401", p.Name, auth)
	case http.StatusForbidden:
		return reauth.Refused("use an account with "+p.Name+" administrator rights in the admin block",
			"%s refused the admin credentials (%s): HTTP 403, not an administrator", p.Name, auth)
	}
	return nil
}

// sessionPath is the endpoint for one user, the name escaped as one path segment. "." and ".."
// are refused: escaping leaves them as they are, and even written %2E%2E a server that decodes
// before it normalizes (Tomcat) resolves them, so DELETE …/session/.. would reach
// /rest/api/2/user, another resource. Where the name goes in the query (Crowd's
// …/session?username={username}) it is escaped as a query value.
func sessionPath(p atlassian.Product, user string) (string, error) {
	if q, i := strings.IndexByte(p.SessionAPI, '?'), strings.Index(p.SessionAPI, "{username}"); q >= 0 && q < i {
		if user == "" {
			return "", fmt.Errorf("an empty user name cannot be sent: end this user's sessions with a rolling restart")
		}
		return strings.Replace(p.SessionAPI, "{username}", url.QueryEscape(user), 1), nil
	}
	switch user {
	case "", ".", "..":
		return "", fmt.Errorf("user name %q cannot be sent as one URL path segment (it would name another resource): end this user's sessions with a rolling restart", user)
	}
	return strings.Replace(p.SessionAPI, "{username}", url.PathEscape(user), 1), nil
}

// Modes of the inventory's `mode:` key.
const (
	ModeAuto    = "auto"
	ModeRestart = "restart"
	ModeAPI     = "api"
)

// Decide says whether a product is done through its API (no restart) or a rolling restart, and
// why, for the plan. mode "" is auto. persistence is true when Tomcat session persistence is on
// for any node: sessions restored from SESSIONS.ser after a restart are not ended by the API
// (Bamboo's "Invalidating active user sessions" page), so auto then restarts. The tokens are
// purged in both cases. Use CheckMode to refuse a mode that cannot be followed.
func Decide(mode string, support Support, persistence bool) (useAPI bool, why string) {
	switch strings.ToLower(strings.TrimSpace(mode)) {
	case "", ModeAuto:
		switch {
		case !support.Supported:
			return false, "auto: rolling restart, because " + support.Why
		case persistence:
			return false, "auto: rolling restart, because Tomcat session persistence is on and sessions restored from SESSIONS.ser are not ended by the API"
		}
		return true, "auto: no restart, because " + support.Why
	case ModeRestart:
		return false, "restart: rolling restart, as the inventory says (mode: restart)"
	case ModeAPI:
		if support.Supported && !persistence {
			return true, "api: no restart, as the inventory says (mode: api); " + support.Why
		}
		if !support.Supported {
			return false, "api requested, but " + support.Why
		}
		return false, "api requested, but Tomcat session persistence is on: sessions restored from SESSIONS.ser are not ended by the API"
	}
	return false, fmt.Sprintf("unknown mode %q: rolling restart", mode)
}

// CheckMode refuses, before any change, a mode Decide cannot follow: "api" where the product or
// version has no session endpoint (or persistence is on), or an unknown mode.
func CheckMode(mode string, support Support, persistence bool) error {
	m := strings.ToLower(strings.TrimSpace(mode))
	switch m {
	case "", ModeAuto, ModeRestart:
		return nil
	case ModeAPI:
		if useAPI, why := Decide(m, support, persistence); !useAPI {
			return reauth.Refused("use mode: auto (it falls back to a rolling restart) or mode: restart for "+string(support.Product), "%s", why)
		}
		return nil
	}
	return reauth.Usage("use mode: auto, restart or api", "unknown mode %q", mode)
}
