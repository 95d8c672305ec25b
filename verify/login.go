package verify

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
)

// Login logs user in through the product's real login form on one node, with remember-me ticked,
// and returns the cookies the node set (session and remember-me). It is how a canary account's
// cookies are captured before a run, to prove afterwards that they no longer work.
func Login(ctx context.Context, client *http.Client, p atlassian.Product, baseURL, user string, password reauth.Secret) ([]*http.Cookie, error) {
	form := url.Values{}
	form.Set(p.Login.UserField, user)
	form.Set(p.Login.PasswordField, password.Reveal())
	form.Set(p.Login.RememberField, p.Login.RememberValue)
	u := p.URL(baseURL, p.Login.Path)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// Seraph and Bitbucket reject cross-site form posts without this header.
	req.Header.Set("X-Atlassian-Token", "no-check")
	// The cookies come with the login response itself (usually a redirect): do not follow it.
	noRedirect := *client
	noRedirect.Jar = nil
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noRedirect.Do(req)
	if err != nil {
		return nil, fmt.Errorf("log in as %s at %s: %w", user, u, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	var got []*http.Cookie
	remember := false
	for _, c := range resp.Cookies() {
		if c.Value == "" || c.MaxAge < 0 {
			continue
		}
		got = append(got, c)
		if c.Name == p.RememberMeCookie {
			remember = true
		}
	}
	if resp.StatusCode >= 400 {
		return nil, fmt.Errorf("log in as %s at %s: HTTP %d (check the canary account's password)", user, u, resp.StatusCode)
	}
	if !remember {
		return nil, fmt.Errorf("log in as %s at %s: no %s cookie was set (wrong password, or remember-me disabled?)", user, u, p.RememberMeCookie)
	}
	return got, nil
}
