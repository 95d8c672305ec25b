package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/cookiefile"
)

// Browser is a simulated browser: a cookie jar that can be saved in the Netscape format, used
// through the product's real login form and "who am I" endpoint. Redirects are not followed, so
// that every answer is seen as the node gave it.
type Browser struct {
	// Product says which login form and endpoints to use; when empty, the browser asks the node
	// (GET /sandbox/info) once per base URL.
	Product atlassian.ProductID

	jar    *cookiefile.Jar
	client *http.Client
	mu     sync.Mutex
	seen   map[string]atlassian.ProductID
}

// NewBrowser returns a browser with an empty cookie jar.
func NewBrowser() *Browser { return newBrowser(nil) }

func newBrowser(cookies []cookiefile.Cookie) *Browser {
	b := &Browser{jar: cookiefile.NewJar(cookies), seen: map[string]atlassian.ProductID{}}
	b.client = &http.Client{Jar: b.jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return b
}

// LoadBrowser reads a browser saved by Save (or any Netscape cookie file).
func LoadBrowser(path string) (*Browser, error) {
	cs, err := cookiefile.Load(path)
	if err != nil {
		return nil, err
	}
	return newBrowser(cs), nil
}

// Save writes the browser's cookies to path (0600: they are live credentials).
func (b *Browser) Save(path string) error { return cookiefile.Save(path, b.jar.All()) }

// Cookies returns the browser's unexpired cookies.
func (b *Browser) Cookies() []cookiefile.Cookie { return b.jar.All() }

// HTTPClient is the browser's client (its jar and no redirect following), for other requests.
func (b *Browser) HTTPClient() *http.Client { return b.client }

func (b *Browser) product(ctx context.Context, baseURL string) (atlassian.Product, error) {
	id := b.Product
	if id == "" {
		b.mu.Lock()
		id = b.seen[baseURL]
		b.mu.Unlock()
	}
	if id == "" {
		var info Info
		if err := getJSON(ctx, &http.Client{Timeout: 5 * time.Second}, strings.TrimRight(baseURL, "/")+"/sandbox/info", &info); err != nil {
			return atlassian.Product{}, fmt.Errorf("which product is %s? set Browser.Product: %w", baseURL, err)
		}
		id = atlassian.ProductID(info.Product)
		b.mu.Lock()
		b.seen[baseURL] = id
		b.mu.Unlock()
	}
	return atlassian.Lookup(string(id))
}

// Login posts the product's login form as a browser would, ticking remember-me when asked.
func (b *Browser) Login(ctx context.Context, baseURL, user, password string, remember bool) error {
	p, err := b.product(ctx, baseURL)
	if err != nil {
		return err
	}
	form := url.Values{p.Login.UserField: {user}, p.Login.PasswordField: {password}}
	if remember {
		form.Set(p.Login.RememberField, p.Login.RememberValue)
	}
	u := strings.TrimRight(baseURL, "/") + p.ContextPath + p.Login.Path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.client.Do(req)
	if err != nil {
		return fmt.Errorf("log in as %s at %s: %w", user, u, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 400 || resp.Header.Get("X-Seraph-LoginReason") == "AUTHENTICATED_FAILED" {
		return fmt.Errorf("log in as %s at %s: rejected (HTTP %d)", user, u, resp.StatusCode)
	}
	return nil
}

// WhoAmI asks the product's "who am I" endpoint who this browser is: (name, true) when logged in
// (by session or, silently, by remember-me cookie), ("", false) on 401 or a login redirect.
func (b *Browser) WhoAmI(ctx context.Context, baseURL string) (string, bool, error) {
	p, err := b.product(ctx, baseURL)
	if err != nil {
		return "", false, err
	}
	u := strings.TrimRight(baseURL, "/") + p.ContextPath + whoAmIPath(p)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", false, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		return "", false, fmt.Errorf("who am I at %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusFound:
		return "", false, nil
	case resp.StatusCode != http.StatusOK:
		return "", false, fmt.Errorf("who am I at %s: HTTP %d", u, resp.StatusCode)
	}
	if !strings.Contains(resp.Header.Get("Content-Type"), "json") {
		name := strings.TrimSpace(string(body))
		return name, name != "", nil
	}
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		return "", false, fmt.Errorf("who am I at %s: %w", u, err)
	}
	for _, k := range []string{"name", "username", "userName"} {
		if s, ok := v[k].(string); ok && s != "" {
			return s, true, nil
		}
	}
	return "", false, nil
}
