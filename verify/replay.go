// Package verify proves that old browser sessions are gone: it replays captured cookies, one at a
// time, against a product node's authenticated "who am I" endpoint and reports which are still
// accepted. A cookie is accepted when the node answers 200 as a user; a 401, a 403 or a redirect to
// the login page is a rejection.
package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/reauth/reauth/atlassian"
)

// Outcome is what one node said about one cookie.
type Outcome struct {
	Node     string `json:"node"`
	Cookie   string `json:"cookie"` // cookie name and a short fingerprint, never the value
	Label    string `json:"label,omitempty"`
	Accepted bool   `json:"accepted"`
	User     string `json:"user,omitempty"`
	HTTP     int    `json:"http,omitempty"`
	Error    string `json:"error,omitempty"`
	// Set are the cookies the node set in its answer (an auto-login's new session cookie): kept
	// in memory to replay later, never printed.
	Set []*http.Cookie `json:"-"`
}

// Replayer sends cookies to nodes.
type Replayer struct {
	Product atlassian.Product
	// Client must not follow redirects (a redirect to the login page is the rejection); NewClient
	// makes one.
	Client *http.Client
}

// NewClient is an HTTP client for replays: no cookie jar, no redirects, a timeout.
func NewClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Replay sends cookie (alone) to node's who-am-I endpoint.
func (r Replayer) Replay(ctx context.Context, node, baseURL string, c *http.Cookie) Outcome {
	out := Outcome{Node: node, Cookie: Describe(c)}
	url := r.Product.URL(baseURL, r.Product.Login.WhoAmIPath)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	req.Header.Set("Accept", "application/json")
	req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	resp, err := r.Client.Do(req)
	if err != nil {
		out.Error = fmt.Sprintf("GET %s: %v", url, err)
		return out
	}
	defer resp.Body.Close()
	out.HTTP = resp.StatusCode
	for _, sc := range resp.Cookies() {
		if sc.Value != "" && sc.MaxAge >= 0 {
			out.Set = append(out.Set, &http.Cookie{Name: sc.Name, Value: sc.Value})
		}
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return out
	}
	out.User = userOf(body)
	// A 200 with no user in it is an anonymous answer (e.g. applinks whoami with an empty body).
	out.Accepted = out.User != ""
	return out
}

// userOf finds the user name in a who-am-I answer: JSON {"name": …} / {"username": …} /
// {"userName": …}, or a plain-text user name (applinks whoami).
func userOf(body []byte) string {
	var m map[string]any
	if json.Unmarshal(body, &m) == nil {
		for _, k := range []string{"name", "username", "userName", "user", "displayName"} {
			if s, ok := m[k].(string); ok && s != "" {
				return s
			}
		}
		return ""
	}
	s := strings.TrimSpace(string(body))
	if s == "" || len(s) > 255 || strings.ContainsAny(s, "<>\n") {
		return ""
	}
	return s
}

// Describe names a cookie for reports without revealing its value: name plus a short, stable
// fingerprint of the value.
func Describe(c *http.Cookie) string {
	return c.Name + "#" + fingerprint(c.Value)
}

func fingerprint(v string) string {
	// FNV-1a: short, stable, not reversible to a usable cookie for any realistic value length.
	var h uint32 = 2166136261
	for i := 0; i < len(v); i++ {
		h ^= uint32(v[i])
		h *= 16777619
	}
	return fmt.Sprintf("%08x", h)
}
