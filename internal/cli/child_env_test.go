package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
	"github.com/reauth/reauth/internal/testenv"
)

// Drain hooks, exec restart commands, Kubernetes exec credential plugins and the idp hook are real child
// processes of the real binary: each dumps its environment. None may see a variable reauth read a
// secret from (REAUTH_DB_PASSWORD, the images' ATL_JDBC_PASSWORD, the inventory's *_env), while
// the rest of the environment (and the hooks' REAUTH_NODE / REAUTH_NODE_URL, the plugin's
// kubeconfig env, the idp hook's REAUTH_IDP_*) are there. reauth has no other kind of child process.
func TestChildrenDoNotInheritSecrets(t *testing.T) {
	// SSO on, so that run's idp hook (a child too) runs.
	c := sandboxtest.Up(t, sandbox.Options{Nodes: 1, Users: 1, StartupDelay: 500 * time.Millisecond, SSOIssuer: "https://127.0.0.1:1/realms/corp"})
	dumps := t.TempDir()
	orig, err := os.ReadFile(c.InventoryPath())
	if err != nil {
		t.Fatal(err)
	}
	b := append([]byte("defaults: {stable_window: 200ms, poll_interval: 200ms, start_timeout: 5s}\n"), orig...)
	cfg := c.InventoryPath()
	token, err := os.ReadFile(filepath.Join(filepath.Dir(c.InventoryPath()), "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	inv := string(b)
	for from, to := range map[string]string{
		"token_file: " + filepath.Join(filepath.Dir(c.InventoryPath()), "admin-token"): "token_env: ADMIN_TOKEN_FOR_TEST",
		"    admin:": "    canary: {user: user001, password_env: CANARY_PW_FOR_TEST}\n" +
			"    drain: {before: 'env > " + dumps + "/before.env', after: 'env > " + dumps + "/after.env'}\n    admin:",
		"command: ": "command: env > " + dumps + "/restart.env; ",
	} {
		if !strings.Contains(inv, from) {
			t.Fatalf("sandbox inventory has no %q:\n%s", from, inv)
		}
		inv = strings.Replace(inv, from, to, 1)
	}
	if err := os.WriteFile(cfg, []byte(inv), 0o600); err != nil {
		t.Fatal(err)
	}
	// The same product on Kubernetes: its nodes are a StatefulSet's pods, its credential comes
	// from an exec plugin (run by a dry run too: it lists the pods).
	kubeInv := withKubernetes(t, inv, fakeAPIServer(t, dumps), c.Nodes()[0].URL)
	secrets := map[string]string{
		"REAUTH_DB_PASSWORD":   "db-pw-4f1e",
		"ATL_JDBC_PASSWORD":    "image-pw-77c2",
		"ADMIN_TOKEN_FOR_TEST": strings.TrimSpace(string(token)),
		"CANARY_PW_FOR_TEST":   "canary-pw-9d03",
	}
	cmd := exec.Command(testenv.Binary(t), "restart", "--config", cfg, "--yes")
	cmd.Env = append(os.Environ(), "KEEP_ME_FOR_TEST=visible")
	for k, v := range secrets {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("restart: %v\n%s", err, out.String())
	}
	kubeCmd := exec.Command(testenv.Binary(t), "restart", "--config", kubeInv, "--dry-run")
	kubeCmd.Env = cmd.Env
	out.Reset()
	kubeCmd.Stdout, kubeCmd.Stderr = &out, &out
	if err := kubeCmd.Run(); err != nil {
		t.Fatalf("restart --dry-run on kubernetes: %v\n%s", err, out.String())
	}
	// run: the idp hook, with the drain hooks' environment plus what it needs of the IdP.
	idpInv := strings.Replace(inv, "    admin:", "    idp: {command: 'env > "+dumps+"/idp.env'}\n    admin:", 1)
	idpCfg := filepath.Join(filepath.Dir(cfg), "idp-reauth.yaml")
	if err := os.WriteFile(idpCfg, []byte(idpInv), 0o600); err != nil {
		t.Fatal(err)
	}
	runCmd := exec.Command(testenv.Binary(t), "run", "--config", idpCfg, "--yes", "--mode", "restart", "--state-dir", t.TempDir())
	runCmd.Env = cmd.Env
	out.Reset()
	runCmd.Stdout, runCmd.Stderr = &out, &out
	_ = runCmd.Run() // its verdict is not this test's: the children's environments are
	for _, name := range []string{"before.env", "restart.env", "after.env", "plugin.env", "idp.env"} {
		b, err := os.ReadFile(filepath.Join(dumps, name))
		if err != nil {
			t.Fatalf("%s: %v (the child did not run?)\n%s", name, err, out.String())
		}
		env := string(b)
		for k, v := range secrets {
			if strings.Contains(env, k+"=") || strings.Contains(env, v) {
				t.Errorf("%s: the child sees %s", name, k)
			}
		}
		wants := []string{"KEEP_ME_FOR_TEST=visible", "REAUTH_NODE=node1", "REAUTH_NODE_URL=" + c.Nodes()[0].URL, "PATH="}
		switch name {
		case "plugin.env":
			wants = []string{"KEEP_ME_FOR_TEST=visible", "FROM_KUBECONFIG=yes", "KUBERNETES_EXEC_INFO=", "PATH="}
		case "idp.env":
			wants = []string{"KEEP_ME_FOR_TEST=visible", "REAUTH_PRODUCT=jira", "REAUTH_IDP_ISSUER=https://127.0.0.1:1/realms/corp", "PATH="}
		}
		for _, want := range wants {
			if !strings.Contains(env, want) {
				t.Errorf("%s: the child does not see %s", name, want)
			}
		}
	}
}

// fakeAPIServer is a Kubernetes API server on 127.0.0.1 (TLS) with one Ready pod "jira-0" of
// StatefulSet "jira", which answers only the token the exec plugin prints; it returns a
// kubeconfig for it whose exec plugin dumps its environment into dumps/plugin.env.
func fakeAPIServer(t *testing.T, dumps string) string {
	t.Helper()
	const token = "plugin-token-e41"
	api := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Unauthorized","message":"Unauthorized","code":401}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/apis/apps/v1/namespaces/atl/statefulsets/jira":
			fmt.Fprint(w, `{"kind":"StatefulSet","apiVersion":"apps/v1","metadata":{"name":"jira","namespace":"atl","uid":"s1"},"spec":{"replicas":1,"serviceName":"jira"}}`)
		case "/api/v1/namespaces/atl/pods/jira-0":
			fmt.Fprint(w, `{"kind":"Pod","apiVersion":"v1","metadata":{"name":"jira-0","namespace":"atl","uid":"p1"},`+
				`"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","message":"%s not found","code":404}`, r.URL.Path)
		}
	}))
	t.Cleanup(api.Close)
	dir := t.TempDir()
	plugin := filepath.Join(dir, "plugin.sh")
	script := "#!/bin/sh\nenv > " + filepath.Join(dumps, "plugin.env") + "\n" +
		`printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"` + token + `"}}'` + "\n"
	if err := os.WriteFile(plugin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: api.Certificate().Raw})
	kc := filepath.Join(dir, "kubeconfig")
	err := os.WriteFile(kc, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
current-context: sim
clusters: [{name: sim, cluster: {server: %q, certificate-authority-data: %s}}]
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: %s
      env: [{name: FROM_KUBECONFIG, value: "yes"}]
      interactiveMode: Never
contexts: [{name: sim, context: {cluster: sim, user: u, namespace: atl}}]
`, api.URL, base64.StdEncoding.EncodeToString(ca), plugin)), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	return kc
}

// withKubernetes writes a copy of the sandbox inventory inv whose product restarts the
// StatefulSet of kubeconfig kc instead of its nodes (its one pod reached at nodeURL), and
// returns the copy's path.
func withKubernetes(t *testing.T, inv, kc, nodeURL string) string {
	t.Helper()
	var out []string
	inNodes := false
	for _, line := range strings.Split(inv, "\n") {
		switch {
		case line == "    nodes:":
			inNodes = true
			out = append(out, fmt.Sprintf("    kubernetes: {statefulset: jira, kubeconfig: %s, url_template: %q}", kc, nodeURL))
			continue
		case inNodes && (strings.HasPrefix(line, "      ") || strings.HasPrefix(line, "    - ")):
			continue
		}
		inNodes = false
		out = append(out, line)
	}
	if !strings.Contains(strings.Join(out, "\n"), "kubernetes:") {
		t.Fatalf("sandbox inventory has no nodes block:\n%s", inv)
	}
	path := filepath.Join(t.TempDir(), "kube.yaml")
	if err := os.WriteFile(path, []byte(strings.Join(out, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
