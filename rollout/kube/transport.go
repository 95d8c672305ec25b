package kube

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/reauth/reauth/internal/boundedfile"
)

// newHTTPClient is the HTTP client and API server base URL for rc: TLS as the cluster says, and
// the user's credentials on every request (https only, as kubectl).
func newHTTPClient(rc *restConfig, plugin pluginOptions) (*http.Client, *url.URL, error) {
	base, err := serverURL(rc.Server)
	if err != nil {
		return nil, nil, err
	}
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:   true,
		TLSHandshakeTimeout: 10 * time.Second,
		IdleConnTimeout:     90 * time.Second,
		MaxIdleConnsPerHost: 25,
	}
	if rc.ProxyURL != "" {
		pu, err := url.Parse(rc.ProxyURL)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https" && pu.Scheme != "socks5") || pu.Host == "" {
			return nil, nil, fmt.Errorf("proxy-url %q: give http://, https:// or socks5://host:port", redactURL(rc.ProxyURL))
		}
		tr.Proxy = http.ProxyURL(pu)
	}
	var exec *execProvider
	if rc.Exec != nil && base.Scheme == "https" {
		exec = newExecProvider(rc.Exec, rc.ExecCluster, plugin)
	}
	if base.Scheme == "https" {
		tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: rc.TLSServerName, InsecureSkipVerify: rc.Insecure}
		if len(rc.CAData) > 0 {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(rc.CAData) {
				return nil, nil, errors.New("the certificate authority is not a PEM certificate")
			}
			tc.RootCAs = pool
		}
		if len(rc.CertData) > 0 {
			cert, err := tls.X509KeyPair(rc.CertData, rc.KeyData)
			if err != nil {
				return nil, nil, fmt.Errorf("client certificate and key: %v", err)
			}
			tc.Certificates = []tls.Certificate{cert}
		} else if exec != nil {
			// An exec plugin may return a client certificate instead of a token.
			tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				cred, err := exec.get(nil)
				if err != nil {
					return nil, err
				}
				if cred.cert == nil {
					return &tls.Certificate{}, nil
				}
				return cred.cert, nil
			}
		}
		tr.TLSClientConfig = tc
	}
	var rt http.RoundTripper = tr
	if base.Scheme == "https" {
		a := &authTransport{next: tr, rc: rc, exec: exec}
		if rc.TokenFile != "" {
			a.tokenFile = &cachedFile{path: rc.TokenFile, maxAge: time.Minute}
		}
		rt = a
	}
	return &http.Client{Transport: &userAgent{next: rt}}, base, nil
}

// serverURL is the API server's URL. A server without a scheme is refused: client-go would take
// plain http for it unless TLS is configured (and then send no credentials), and reauth does not
// guess the scheme of a server it deletes pods on.
func serverURL(server string) (*url.URL, error) {
	u, err := url.Parse(server)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return u, nil
	}
	if !strings.Contains(server, "://") {
		return nil, fmt.Errorf("server %q has no scheme: write https://%s (or http:// for a plain-HTTP endpoint such as kubectl proxy, to which no credentials are sent); kubectl would take plain http here and send no credentials, and reauth does not guess",
			redactURL(server), redactURL(server))
	}
	return nil, fmt.Errorf("API server address %q: give https://host:port", redactURL(server))
}

// redactURL hides a password in a URL given in the kubeconfig (also in one without a scheme,
// "user:pass@host:port", which url.Parse does not take as a URL).
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.Scheme != "" && u.Host != "" {
		return u.Redacted()
	}
	if strings.Contains(s, "://") {
		return "(not shown)"
	}
	if i := strings.LastIndex(s, "@"); i >= 0 {
		return "(not shown)@" + s[i+1:]
	}
	return s
}

type userAgent struct{ next http.RoundTripper }

func (t *userAgent) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("User-Agent") == "" {
		r = r.Clone(r.Context())
		r.Header.Set("User-Agent", "reauth")
	}
	return t.next.RoundTrip(r)
}

// authTransport adds the user's credentials and impersonation headers.
type authTransport struct {
	next      http.RoundTripper
	rc        *restConfig
	exec      *execProvider
	tokenFile *cachedFile
}

func (t *authTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	rc := t.rc
	if r.Header.Get("Authorization") == "" {
		switch {
		case t.exec != nil:
			cred, err := t.exec.get(r.Context())
			if err != nil {
				return nil, err
			}
			if cred.token != "" {
				r.Header.Set("Authorization", "Bearer "+cred.token)
			}
		case t.tokenFile != nil:
			tok, err := t.tokenFile.read()
			if err != nil && rc.Token == "" {
				return nil, fmt.Errorf("token file: %w", err)
			}
			if tok == "" {
				tok = rc.Token
			}
			r.Header.Set("Authorization", "Bearer "+tok)
		case rc.Token != "":
			r.Header.Set("Authorization", "Bearer "+rc.Token)
		case rc.Username != "" || rc.Password != "":
			r.SetBasicAuth(rc.Username, rc.Password)
		}
	}
	if rc.As != "" {
		r.Header.Set("Impersonate-User", rc.As)
	}
	if rc.AsUID != "" {
		r.Header.Set("Impersonate-Uid", rc.AsUID)
	}
	for _, g := range rc.AsGroups {
		r.Header.Add("Impersonate-Group", g)
	}
	for k, vs := range rc.AsUserExtra {
		for _, v := range vs {
			r.Header.Add("Impersonate-Extra-"+url.PathEscape(k), v)
		}
	}
	resp, err := t.next.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusUnauthorized && t.exec != nil {
		// The next request runs the plugin again (client-go does the same); a certificate it
		// returned is presented on new connections only.
		t.exec.forget()
		if tr, ok := t.next.(interface{ CloseIdleConnections() }); ok {
			tr.CloseIdleConnections()
		}
	}
	return resp, err
}

// cachedFile is a token file read at most once per maxAge: service account tokens are rotated
// on disk while a long rollout runs.
type cachedFile struct {
	path   string
	maxAge time.Duration

	mu     sync.Mutex
	val    string
	readAt time.Time
}

func (f *cachedFile) readNow() (string, error) {
	data, err := boundedfile.Read(f.path, maxSmallFile)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(data)), nil
}

func (f *cachedFile) read() (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.val != "" && time.Since(f.readAt) < f.maxAge {
		return f.val, nil
	}
	v, err := f.readNow()
	if err != nil || v == "" {
		if f.val != "" {
			return f.val, nil // keep the last good token, as client-go does
		}
		if err == nil {
			err = fmt.Errorf("%s is empty", f.path)
		}
		return "", err
	}
	f.val, f.readAt = v, time.Now()
	return v, nil
}
