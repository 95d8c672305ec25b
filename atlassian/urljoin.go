package atlassian

import (
	"net/url"
	"strings"
)

// BaseURL is the product's root under baseURL, a node's URL as the inventory or the restart
// method gives it: without trailing slashes, with the product's context path (Crowd's /crowd)
// added unless baseURL's path already ends with it. Both forms reach the same place, so a
// url_template or node URL ending in /crowd is not doubled. The check is on the URL's path, so
// that a host named like the context path (http://crowd) does not count.
func (p Product) BaseURL(baseURL string) string {
	base := strings.TrimRight(baseURL, "/")
	if p.ContextPath == "" {
		return base
	}
	cp := "/" + strings.Trim(p.ContextPath, "/")
	if u, err := url.Parse(base); err == nil && u.Host != "" && strings.HasSuffix(strings.TrimRight(u.Path, "/"), cp) {
		return base
	}
	return base + cp
}

// URL is path (e.g. "/status", "/rest/api/2/myself") under the product's root at baseURL: the
// one way reauth joins a node's URL and a path, for the health probe, the proof's login and
// cookie replay, and API mode alike.
func (p Product) URL(baseURL, path string) string {
	if path != "" && !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return p.BaseURL(baseURL) + path
}
