package kube

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/reauth/reauth"
)

// testEnv is an environment with only the given variables, an empty home and no service account.
func testEnv(t *testing.T, vars map[string]string) env {
	return env{getenv: func(k string) string { return vars[k] }, home: t.TempDir(), saDir: filepath.Join(t.TempDir(), "none")}
}

func write(t *testing.T, path, data string, mode os.FileMode) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func (fc *fakeCluster) caPEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: fc.api.Certificate().Raw}))
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// getPod is one authenticated call through what Connect built.
func getPod(t *testing.T, c *Client) error {
	t.Helper()
	_, err := c.GetPod(context.Background(), ns, "confluence-0")
	return err
}

// An exec credential plugin (v1, interactiveMode Never, a command relative to the kubeconfig):
// it gets its args, its env and KUBERNETES_EXEC_INFO (with the cluster: provideClusterInfo), its
// token reaches the API server, and it runs once while the token has not expired.
func TestExecPluginToken(t *testing.T) {
	fc := newFakeCluster(t, 1, 0)
	dir := t.TempDir()
	runs, info, args := filepath.Join(dir, "runs"), filepath.Join(dir, "info.json"), filepath.Join(dir, "args")
	write(t, filepath.Join(dir, "bin", "plugin.sh"), `#!/bin/sh
echo run >>"$RUNS"
printf '%s' "$KUBERNETES_EXEC_INFO" >"$INFO"
echo "$@" >"$ARGS"
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}\n' "$PLUGIN_TOKEN" "$EXPIRES"
`, 0o755)
	kubeconfig := func(expires string) string {
		return write(t, filepath.Join(dir, "config"), fmt.Sprintf(`apiVersion: v1
kind: Config
current-context: sim
clusters:
- name: sim
  cluster:
    server: %q
    certificate-authority-data: %s
    extensions:
    - name: client.authentication.k8s.io/exec
      extension: {audience: reauth-test}
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: bin/plugin.sh
      args: [--cluster, sim]
      env:
      - {name: PLUGIN_TOKEN, value: %q}
      - {name: RUNS, value: %q}
      - {name: INFO, value: %q}
      - {name: ARGS, value: %q}
      - {name: EXPIRES, value: %q}
      interactiveMode: Never
      provideClusterInfo: true
contexts:
- name: sim
  context: {cluster: sim, user: u, namespace: atlassian}
`, fc.api.URL, b64(fc.caPEM()), fc.token, runs, info, args, expires), 0o600)
	}
	// The kubeconfig is found from another working directory: the command is relative to it.
	c, gotNS, err := testEnv(t, nil).connect(Config{Kubeconfig: kubeconfig(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))})
	if err != nil || gotNS != ns {
		t.Fatalf("connect: %q %v", gotNS, err)
	}
	if _, err := Nodes(context.Background(), c, ns, Config{StatefulSet: "confluence"}, confluence(t)); err != nil {
		t.Fatal(err)
	}
	if err := getPod(t, c); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(readFile(t, runs), "run"); n != 1 {
		t.Errorf("plugin ran %d times for an unexpired token, want 1", n)
	}
	if got := strings.TrimSpace(readFile(t, args)); got != "--cluster sim" {
		t.Errorf("args = %q", got)
	}
	var ec struct {
		APIVersion, Kind string
		Spec             struct {
			Interactive bool
			Cluster     struct {
				Server                   string
				CertificateAuthorityData []byte `json:"certificate-authority-data"`
				Config                   map[string]string
			}
		}
	}
	if err := json.Unmarshal([]byte(readFile(t, info)), &ec); err != nil {
		t.Fatalf("KUBERNETES_EXEC_INFO: %v", err)
	}
	if ec.APIVersion != execV1 || ec.Kind != "ExecCredential" || ec.Spec.Interactive || ec.Spec.Cluster.Server != fc.api.URL ||
		string(ec.Spec.Cluster.CertificateAuthorityData) != fc.caPEM() || ec.Spec.Cluster.Config["audience"] != "reauth-test" {
		t.Errorf("KUBERNETES_EXEC_INFO = %+v", ec)
	}

	// An expired credential makes every request run the plugin again.
	os.Remove(runs)
	c, _, err = testEnv(t, nil).connect(Config{Kubeconfig: kubeconfig(time.Now().Add(-time.Minute).UTC().Format(time.RFC3339))})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := getPod(t, c); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(readFile(t, runs), "run"); n != 2 {
		t.Errorf("plugin ran %d times for an expired token, want 2", n)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// A token the API server refuses is asked for again: the next request runs the plugin again.
func TestExecPluginRefusedTokenIsRenewed(t *testing.T) {
	fc := newFakeCluster(t, 1, 0)
	dir := t.TempDir()
	// First run: a wrong token; later runs: the right one.
	plugin := write(t, filepath.Join(dir, "plugin.sh"), fmt.Sprintf(`#!/bin/sh
tok=right
[ -e %[1]q ] || { tok=wrong; : >%[1]q; }
[ $tok = right ] && tok=%[2]q
printf '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"%%s"}}' "$tok"
`, filepath.Join(dir, "ran"), fc.token), 0o755)
	kc := write(t, filepath.Join(dir, "config"), fmt.Sprintf(`current-context: sim
clusters: [{name: sim, cluster: {server: %q, certificate-authority-data: %s}}]
users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: %q}}}]
contexts: [{name: sim, context: {cluster: sim, user: u}}]
`, fc.api.URL, b64(fc.caPEM()), plugin), 0o600)
	c, gotNS, err := testEnv(t, nil).connect(Config{Kubeconfig: kc})
	if err != nil || gotNS != "default" {
		t.Fatalf("connect: %q %v", gotNS, err)
	}
	if err := getPod(t, c); !strings.Contains(fmt.Sprint(err), "Unauthorized") {
		t.Fatalf("first (refused) token: %v", err)
	}
	if err := getPod(t, c); err != nil {
		t.Fatalf("renewed token: %v", err)
	}
}

// certAuthority makes a CA and a client certificate it signs, as PEM.
func certAuthority(t *testing.T, cn string) (caPool *x509.CertPool, certPEM, keyPEM string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-ca"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: cn}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		KeyUsage: x509.KeyUsageDigitalSignature, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	caPool = x509.NewCertPool()
	caPool.AddCert(ca)
	return caPool, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
}

// certServer is an API server on 127.0.0.1 that requires a client certificate from ca and answers
// any pod GET with a pod named after the certificate's common name; it records request headers.
func certServer(t *testing.T, ca *x509.CertPool) (*httptest.Server, *[]http.Header) {
	var mu sync.Mutex
	var seen []http.Header
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		mu.Unlock()
		cn := r.TLS.PeerCertificates[0].Subject.CommonName
		writeObject(w, map[string]any{"kind": "Pod", "apiVersion": "v1", "metadata": map[string]string{"name": cn, "uid": "u1"}})
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, &seen
}

// Client certificates, from kubeconfig files (relative paths) and from an exec plugin; the
// server requires them. Impersonation headers are sent.
func TestClientCertificates(t *testing.T) {
	ca, certPEM, keyPEM := certAuthority(t, "reauth-admin")
	srv, seen := certServer(t, ca)
	serverCA := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	dir := t.TempDir()
	write(t, filepath.Join(dir, "pki", "client.crt"), certPEM, 0o600)
	write(t, filepath.Join(dir, "pki", "client.key"), keyPEM, 0o600)
	write(t, filepath.Join(dir, "pki", "ca.crt"), serverCA, 0o600)
	cred, _ := json.Marshal(map[string]any{"apiVersion": execV1, "kind": "ExecCredential",
		"status": map[string]string{"clientCertificateData": certPEM, "clientKeyData": keyPEM}})
	write(t, filepath.Join(dir, "cred.json"), string(cred), 0o600)
	write(t, filepath.Join(dir, "plugin.sh"), "#!/bin/sh\ncat \"$(dirname \"$0\")/cred.json\"\n", 0o755)
	kc := write(t, filepath.Join(dir, "config"), fmt.Sprintf(`current-context: files
clusters:
- {name: c, cluster: {server: %q, certificate-authority: pki/ca.crt}}
users:
- name: files
  user: {client-certificate: pki/client.crt, client-key: pki/client.key, as: jira-restarter, as-groups: [ops, oncall]}
- name: data
  user: {client-certificate-data: %s, client-key-data: %s}
- name: plugin
  user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: ./plugin.sh, interactiveMode: Never}}
contexts:
- {name: files, context: {cluster: c, user: files}}
- {name: data, context: {cluster: c, user: data}}
- {name: plugin, context: {cluster: c, user: plugin}}
`, srv.URL, b64(certPEM), b64(keyPEM)), 0o600)
	for _, ctxName := range []string{"files", "data", "plugin"} {
		c, _, err := testEnv(t, nil).connect(Config{Kubeconfig: kc, Context: ctxName})
		if err != nil {
			t.Fatalf("%s: %v", ctxName, err)
		}
		pod, err := c.GetPod(context.Background(), "ns", "p")
		if err != nil || pod.Metadata.Name != "reauth-admin" {
			t.Fatalf("%s: %+v %v", ctxName, pod, err)
		}
	}
	h := (*seen)[0]
	if h.Get("Impersonate-User") != "jira-restarter" || strings.Join(h.Values("Impersonate-Group"), ",") != "ops,oncall" || h.Get("User-Agent") != "reauth" {
		t.Errorf("headers = %v", h)
	}
	if (*seen)[1].Get("Impersonate-User") != "" {
		t.Errorf("impersonation leaked into another user's requests")
	}
}

// Several KUBECONFIG files merge as kubectl merges them: the first file to name a cluster, user or
// context wins it, and the first current-context wins; missing files are skipped; relative paths
// are relative to the file that has them.
func TestKubeconfigMerge(t *testing.T) {
	fc := newFakeCluster(t, 1, 0)
	d1, d2 := t.TempDir(), t.TempDir()
	write(t, filepath.Join(d2, "certs", "ca.pem"), fc.caPEM(), 0o600)
	f1 := write(t, filepath.Join(d1, "first"), fmt.Sprintf(`current-context: a
clusters: [{name: c, cluster: {server: %q, certificate-authority-data: %s}}]
users: [{name: u, user: {token: %q}}]
contexts: [{name: a, context: {cluster: c, user: u, namespace: from-first}}]
`, fc.api.URL, b64(fc.caPEM()), fc.token), 0o600)
	f2 := write(t, filepath.Join(d2, "second"), fmt.Sprintf(`current-context: b
clusters:
- {name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}
- {name: c2, cluster: {server: %q, certificate-authority: certs/ca.pem}}
users: [{name: u, user: {token: second-file-token}}]
contexts:
- {name: a, context: {cluster: c2, user: u, namespace: from-second}}
- {name: b, context: {cluster: c2, user: u, namespace: ns-b}}
`, fc.api.URL), 0o600)
	list := strings.Join([]string{filepath.Join(d1, "missing"), f1, f2, f1}, string(filepath.ListSeparator))
	e := testEnv(t, map[string]string{"KUBECONFIG": list})
	c, gotNS, err := e.connect(Config{})
	if err != nil || gotNS != "from-first" {
		t.Fatalf("merged: %q %v", gotNS, err)
	}
	if c.base.String() != fc.api.URL || getPod(t, c) != nil {
		t.Errorf("context a: the first file's cluster and user, got %s, %v", c.base, getPod(t, c))
	}
	// Context b exists in the second file only; its user u is the first file's (right token), its
	// CA file is relative to the second file.
	c, gotNS, err = e.connect(Config{Context: "b"})
	if err != nil || gotNS != "ns-b" {
		t.Fatalf("context b: %q %v", gotNS, err)
	}
	if err := getPod(t, c); err != nil {
		t.Errorf("context b: %v", err)
	}
	// Reversed order: the second file wins everything it names.
	e = testEnv(t, map[string]string{"KUBECONFIG": f2 + string(filepath.ListSeparator) + f1})
	if _, gotNS, err := e.connect(Config{}); err != nil || gotNS != "ns-b" {
		t.Errorf("reversed: %q %v", gotNS, err)
	}
	// Without KUBECONFIG: ~/.kube/config.
	e = testEnv(t, nil)
	write(t, filepath.Join(e.home, ".kube", "config"), readFile(t, f1), 0o600)
	if _, gotNS, err := e.connect(Config{Namespace: "explicit"}); err != nil || gotNS != "explicit" {
		t.Errorf("home: %q %v", gotNS, err)
	}
}

// Inside a pod with no kubeconfig: the service account's token, CA and namespace.
func TestInClusterServiceAccount(t *testing.T) {
	fc := newFakeCluster(t, 1, 0)
	u, _ := url.Parse(fc.api.URL)
	sa := t.TempDir()
	write(t, filepath.Join(sa, "token"), fc.token+"\n", 0o600)
	write(t, filepath.Join(sa, "ca.crt"), fc.caPEM(), 0o600)
	write(t, filepath.Join(sa, "namespace"), ns, 0o600)
	e := testEnv(t, map[string]string{"KUBERNETES_SERVICE_HOST": u.Hostname(), "KUBERNETES_SERVICE_PORT": u.Port()})
	e.saDir = sa
	c, gotNS, err := e.connect(Config{})
	if err != nil || gotNS != ns {
		t.Fatalf("in-cluster: %q %v", gotNS, err)
	}
	if err := getPod(t, c); err != nil {
		t.Fatal(err)
	}
	// A kubeconfig context without a namespace takes the pod's.
	kc := fc.kubeconfig(t, fc.token)
	write(t, kc, strings.Replace(readFile(t, kc), "namespace: "+ns, "namespace: \"\"", 1), 0o600)
	if _, gotNS, err := e.connect(Config{Kubeconfig: kc}); err != nil || gotNS != ns {
		t.Errorf("kubeconfig without namespace in a pod: %q %v", gotNS, err)
	}
}

// A rotated token file is read again.
func TestTokenFileReread(t *testing.T) {
	p := write(t, filepath.Join(t.TempDir(), "token"), "one\n", 0o600)
	f := &cachedFile{path: p, maxAge: 0}
	if v, err := f.read(); v != "one" || err != nil {
		t.Fatalf("%q %v", v, err)
	}
	write(t, p, "two", 0o600)
	if v, _ := f.read(); v != "two" {
		t.Errorf("rotated: %q", v)
	}
	os.Remove(p)
	if v, err := f.read(); v != "two" || err != nil {
		t.Errorf("removed: keeps the last token, got %q %v", v, err)
	}
}

// Credentials go to https servers only, as with kubectl.
func TestNoCredentialsOverPlainHTTP(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("Authorization"))
		writeObject(w, map[string]any{"kind": "Pod"})
	}))
	defer srv.Close()
	kc := write(t, filepath.Join(t.TempDir(), "config"), fmt.Sprintf(`current-context: x
clusters: [{name: c, cluster: {server: %q}}]
users: [{name: u, user: {token: s3cr3t-token}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
`, srv.URL), 0o600)
	c, _, err := testEnv(t, nil).connect(Config{Kubeconfig: kc})
	if err != nil {
		t.Fatal(err)
	}
	if err := getPod(t, c); err != nil || len(got) != 1 || got[0] != "" {
		t.Errorf("plain http: %v, Authorization %q", err, got)
	}
}

// What is not supported, or kubectl refuses too, is refused with a clear error and no secret.
func TestKubeconfigRefusals(t *testing.T) {
	dir := t.TempDir()
	const secret = "s3cr3t-token"
	base := `current-context: x
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"%s}}]
users: [{name: u, user: {%s}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
`
	cases := []struct {
		name, cluster, user, want string
		cfg                       Config
	}{
		{"auth-provider", "", "auth-provider: {name: gcp, config: {access-token: " + secret + "}}", "use an exec credential plugin", Config{}},
		{"oidc", "", "auth-provider: {name: oidc}", `"oidc" auth-provider`, Config{}},
		{"insecure with CA", ", insecure-skip-tls-verify: true, certificate-authority-data: " + b64("x"), "token: " + secret, "insecure-skip-tls-verify together with a certificate authority", Config{}},
		{"two CAs", ", certificate-authority: ca.pem, certificate-authority-data: " + b64("x"), "token: " + secret, "both certificate-authority and certificate-authority-data", Config{}},
		{"missing CA file", ", certificate-authority: nowhere.pem", "token: " + secret, "nowhere.pem", Config{}},
		{"cert without key", "", "client-certificate-data: " + b64("x"), "without its key", Config{}},
		{"token and password", "", "token: " + secret + ", password: " + secret, "both a token and a username/password", Config{}},
		{"exec v1alpha1", "", "exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: x}", "v1alpha1", Config{}},
		{"exec v1 no mode", "", "exec: {apiVersion: client.authentication.k8s.io/v1, command: x}", "interactiveMode", Config{}},
		{"exec bad mode", "", "exec: {apiVersion: client.authentication.k8s.io/v1, command: x, interactiveMode: Sometimes}", "Sometimes", Config{}},
		{"bad data", ", certificate-authority-data: '!!!'", "token: " + secret, "not base64", Config{}},
		{"unknown context", "", "token: " + secret, `context "nope" not found`, Config{Context: "nope"}},
	}
	for _, tc := range cases {
		kc := write(t, filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")), fmt.Sprintf(base, tc.cluster, tc.user), 0o600)
		tc.cfg.Kubeconfig = kc
		_, _, err := testEnv(t, nil).connect(tc.cfg)
		if reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want refused with %q", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the secret leaked: %v", tc.name, err)
		}
	}
	other := []struct {
		name, data, want string
		e                env
		cfg              Config
	}{
		{"no current-context", "clusters: [{name: c, cluster: {server: x}}]", "no current-context", testEnv(t, nil), Config{}},
		{"missing cluster", "current-context: x\ncontexts: [{name: x, context: {cluster: gone}}]", `cluster "gone"`, testEnv(t, nil), Config{}},
		{"missing user", "current-context: x\nclusters: [{name: c, cluster: {server: x}}]\ncontexts: [{name: x, context: {cluster: c, user: gone}}]", `user "gone"`, testEnv(t, nil), Config{}},
		{"not yaml", "token: " + secret + "\n\t- [", "not valid YAML", testEnv(t, nil), Config{}},
		{"empty explicit", "", "defines no cluster", testEnv(t, nil), Config{}},
		{"missing explicit", "-", "no such file", testEnv(t, nil), Config{Kubeconfig: filepath.Join(dir, "absent")}},
		{"nothing at all", "-", "no kubeconfig found", testEnv(t, map[string]string{"KUBECONFIG": filepath.Join(dir, "absent")}), Config{Kubeconfig: "-"}},
	}
	for _, tc := range other {
		cfg := tc.cfg
		switch {
		case cfg.Kubeconfig == "-":
			cfg.Kubeconfig = ""
		case cfg.Kubeconfig == "":
			cfg.Kubeconfig = write(t, filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")), tc.data, 0o600)
		}
		_, _, err := tc.e.connect(cfg)
		if reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want refused with %q", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the secret leaked: %v", tc.name, err)
		}
	}
}

// A kubeconfig that is a pipe is refused, not read forever.
func TestKubeconfigPipeRefused(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "kubeconfig")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	_, _, err := testEnv(t, map[string]string{"KUBECONFIG": fifo}).connect(Config{})
	if reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(err.Error(), "regular file") {
		t.Fatalf("FIFO kubeconfig: %v", err)
	}
}

// A missing exec plugin says how to install it (the kubeconfig's installHint).
func TestExecPluginMissing(t *testing.T) {
	fc := newFakeCluster(t, 1, 0)
	kc := write(t, filepath.Join(t.TempDir(), "config"), fmt.Sprintf(`current-context: sim
clusters: [{name: sim, cluster: {server: %q, certificate-authority-data: %s}}]
users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: reauth-no-such-plugin, interactiveMode: Never, installHint: "install it with: brew install the-plugin"}}}]
contexts: [{name: sim, context: {cluster: sim, user: u}}]
`, fc.api.URL, b64(fc.caPEM())), 0o600)
	c, _, err := testEnv(t, nil).connect(Config{Kubeconfig: kc})
	if err != nil {
		t.Fatal(err)
	}
	if err := getPod(t, c); err == nil || !strings.Contains(err.Error(), "brew install the-plugin") {
		t.Fatalf("missing plugin: %v", err)
	}
}
