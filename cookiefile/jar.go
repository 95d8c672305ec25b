package cookiefile

import (
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// Jar is an http.CookieJar whose whole content can be listed, saved and loaded (the standard
// library's cookiejar cannot list its cookies). It follows RFC 6265's domain and path matching,
// which, as in browsers, ignores ports: every node of a sandbox on 127.0.0.1 sees the same cookies,
// as nodes behind one load-balanced hostname do. It keeps no public-suffix list: it is meant for
// the handful of hosts reauth talks to, not for general browsing.
type Jar struct {
	mu      sync.Mutex
	cookies []Cookie
	now     func() time.Time
}

// NewJar returns an empty jar holding cookies (copied).
func NewJar(cookies []Cookie) *Jar {
	return &Jar{cookies: append([]Cookie(nil), cookies...), now: time.Now}
}

// All returns the jar's unexpired cookies.
func (j *Jar) All() []Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := j.now()
	var out []Cookie
	for _, c := range j.cookies {
		if !c.Expired(now) {
			out = append(out, c)
		}
	}
	return out
}

// SetCookies implements http.CookieJar.
func (j *Jar) SetCookies(u *url.URL, cookies []*http.Cookie) {
	host := canonicalHost(u)
	j.mu.Lock()
	defer j.mu.Unlock()
	now := j.now()
	for _, hc := range cookies {
		c := Cookie{Name: hc.Name, Value: hc.Value, Path: hc.Path, Secure: hc.Secure, HTTPOnly: hc.HttpOnly}
		if hc.Domain == "" {
			c.Domain = host
		} else {
			d := strings.ToLower(strings.TrimPrefix(hc.Domain, "."))
			if !domainMatch(host, d) || net.ParseIP(host) != nil && d != host {
				continue // a node may not set cookies for another site
			}
			c.Domain, c.IncludeSubdomains = d, d != host || net.ParseIP(host) == nil
		}
		if c.Path == "" || !strings.HasPrefix(c.Path, "/") {
			c.Path = defaultPath(u.Path)
		}
		switch {
		case hc.MaxAge < 0:
			c.Expires = now.Add(-time.Second)
		case hc.MaxAge > 0:
			c.Expires = now.Add(time.Duration(hc.MaxAge) * time.Second)
		case !hc.Expires.IsZero():
			c.Expires = hc.Expires
		}
		j.replace(c, now)
	}
}

// replace stores c in place of the cookie with the same domain, path and name (deleting it when c
// has expired), and drops other expired cookies while it is there.
func (j *Jar) replace(c Cookie, now time.Time) {
	kept := j.cookies[:0]
	for _, o := range j.cookies {
		if o.Expired(now) || o.Domain == c.Domain && o.Path == c.Path && o.Name == c.Name {
			continue
		}
		kept = append(kept, o)
	}
	j.cookies = kept
	if !c.Expired(now) {
		j.cookies = append(j.cookies, c)
	}
}

// Cookies implements http.CookieJar: the cookies to send to u, longest path first.
func (j *Jar) Cookies(u *url.URL) []*http.Cookie {
	host := canonicalHost(u)
	path := u.Path
	if path == "" {
		path = "/"
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	now := j.now()
	var match []Cookie
	for _, c := range j.cookies {
		if c.Expired(now) || c.Secure && u.Scheme != "https" || !pathMatch(path, c.Path) {
			continue
		}
		if c.Domain == host || c.IncludeSubdomains && domainMatch(host, c.Domain) {
			match = append(match, c)
		}
	}
	sort.SliceStable(match, func(a, b int) bool { return len(match[a].Path) > len(match[b].Path) })
	out := make([]*http.Cookie, len(match))
	for i, c := range match {
		out[i] = &http.Cookie{Name: c.Name, Value: c.Value}
	}
	return out
}

func canonicalHost(u *url.URL) string { return strings.ToLower(u.Hostname()) }

func domainMatch(host, domain string) bool {
	return host == domain || strings.HasSuffix(host, "."+domain) && net.ParseIP(host) == nil
}

func pathMatch(reqPath, cookiePath string) bool {
	if reqPath == cookiePath {
		return true
	}
	if !strings.HasPrefix(reqPath, cookiePath) {
		return false
	}
	return strings.HasSuffix(cookiePath, "/") || reqPath[len(cookiePath)] == '/'
}

// defaultPath is RFC 6265 section 5.1.4's default cookie path.
func defaultPath(p string) string {
	i := strings.LastIndex(p, "/")
	if i <= 0 {
		return "/"
	}
	return p[:i]
}
