package kube

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reauth/reauth"
)

// kubectlCase is a kubeconfig under testdata/kubeconfig with, in its leading comments, what
// kubectl 1.33 does with it ("# kubectl:", required) and what reauth must do: "# want-ok",
// "# want-error: text" or "# want-warning: text" (each repeatable; every text must appear),
// "# secret: value" (must never appear in an error or warning), "# context: name".
type kubectlCase struct {
	kubectl, context string
	ok               bool
	errors, warnings []string
	secrets          []string
}

func readKubectlCase(t *testing.T, path string) kubectlCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var c kubectlCase
	var last *string // the text a continuation line extends
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "# ")
		if !ok {
			break
		}
		key, val, _ := strings.Cut(line, ":")
		val = strings.TrimSpace(val)
		switch key {
		case "kubectl 1.33":
			c.kubectl, last = val, &c.kubectl
		case "reauth":
			last = nil
		case "want-ok":
			c.ok = true
		case "want-error":
			c.errors = append(c.errors, val)
		case "want-warning":
			c.warnings = append(c.warnings, val)
		case "secret":
			c.secrets = append(c.secrets, val)
		case "context":
			c.context = val
		default: // a continuation line
			if last != nil {
				*last += " " + strings.TrimSpace(line)
			}
			continue
		}
		if key != "kubectl 1.33" {
			last = nil
		}
	}
	loads := c.ok || len(c.warnings) > 0
	if c.kubectl == "" || loads == (len(c.errors) > 0) {
		t.Fatalf("%s: state kubectl's behaviour (# kubectl 1.33:), and either want-error or want-ok / want-warning", path)
	}
	return c
}

// Each kubeconfig under testdata/kubeconfig is read as kubectl reads it, or refused where kubectl
// reads it differently than it looks (issue #32): the expectation is written in the file, beside
// what kubectl does with it. Nothing here reaches a network: every refusal happens at load.
func TestKubeconfigAsKubectlReadsIt(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "kubeconfig", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".yaml"), func(t *testing.T) {
			tc := readKubectlCase(t, path)
			c, _, err := testEnv(t, nil).connect(Config{Kubeconfig: path, Context: tc.context})
			var said string
			if err != nil {
				said = err.Error()
			} else {
				said = strings.Join(c.Warnings(), "\n")
			}
			for _, s := range tc.secrets {
				if strings.Contains(said, s) {
					t.Errorf("a secret leaked: %s", said)
				}
			}
			if len(tc.errors) > 0 {
				if reauth.CodeOf(err) != reauth.ExitRefused {
					t.Fatalf("kubectl: %s\nreauth loaded it (%v), want it refused", tc.kubectl, err)
				}
				for _, want := range tc.errors {
					if !strings.Contains(said, want) {
						t.Errorf("error %q\nwant it to say %q", said, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("kubectl: %s\nreauth refused it: %v", tc.kubectl, err)
			}
			for _, want := range tc.warnings {
				if !strings.Contains(said, want) {
					t.Errorf("warnings:\n%s\nwant one saying %q", said, want)
				}
			}
			if n := len(c.Warnings()); n != len(tc.warnings) {
				t.Errorf("%d warnings, want %d:\n%s", n, len(tc.warnings), said)
			}
		})
	}
}

// An https server address that reaches a port speaking plain HTTP (net/http's "server gave HTTP
// response to HTTPS client"), or something else that is not TLS (an SSH banner: a bare "first record
// does not look like a TLS handshake"), fails with the likely cause named.
func TestHTTPSToPlainHTTPPort(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a request reached the plain-HTTP handler: %s", r.URL)
	}))
	defer plain.Close()
	banner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer banner.Close()
	go func() {
		for {
			c, err := banner.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("SSH-2.0-OpenSSH_9.6\r\n"))
			c.Close()
		}
	}()
	for _, server := range []string{strings.Replace(plain.URL, "http://", "https://", 1), "https://" + banner.Addr().String()} {
		kc := write(t, filepath.Join(t.TempDir(), "config"), `current-context: x
clusters: [{name: c, cluster: {server: "`+server+`", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: s3cr3t-token}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
`, 0o600)
		c, _, err := testEnv(t, nil).connect(Config{Kubeconfig: kc})
		if err != nil {
			t.Fatal(err)
		}
		err = getPod(t, c)
		if err == nil || !strings.Contains(err.Error(), "answers without TLS: the port is probably not the API server's https port") ||
			strings.Contains(err.Error(), "s3cr3t-token") {
			t.Errorf("%s: %v", server, err)
		}
	}
}
