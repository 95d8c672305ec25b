package kube

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// execEnvVar is one entry of a kubeconfig's exec env.
type execEnvVar = struct {
	Name  string `yaml:"name"`
	Value string `yaml:"value"`
}

// pluginConfig is an exec plugin (v1, never interactive) running script, with env from the kubeconfig.
func pluginConfig(t *testing.T, script string, env ...execEnvVar) *execConfig {
	t.Helper()
	path := write(t, filepath.Join(t.TempDir(), "plugin.sh"), "#!/bin/sh\n"+script, 0o755)
	x := &execConfig{APIVersion: execV1, Command: path, InteractiveMode: "Never", Env: env}
	if err := checkExec(x); err != nil {
		t.Fatal(err)
	}
	return x
}

const printToken = `printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t0k"}}'` + "\n"

// An exec plugin is a third-party binary: it runs without the variables reauth read secrets
// from (the drain hooks' filter), with the rest of reauth's environment and the kubeconfig's env.
func TestExecPluginWithoutSecrets(t *testing.T) {
	dump := filepath.Join(t.TempDir(), "plugin.env")
	t.Setenv("REAUTH_DB_PASSWORD", "db-pw-31c7")
	t.Setenv("ADMIN_TOKEN_FOR_TEST", "admin-tok-5a2b")
	t.Setenv("KEEP_ME_FOR_TEST", "visible")
	x := pluginConfig(t, "env >\"$DUMP\"\n"+printToken, execEnvVar{Name: "DUMP", Value: dump}, execEnvVar{Name: "FROM_KUBECONFIG", Value: "yes"})
	p := newExecProvider(x, nil, pluginOptions{secretEnv: []string{"REAUTH_DB_PASSWORD", "ADMIN_TOKEN_FOR_TEST"}})
	cred, err := p.get(context.Background())
	if err != nil || cred.token != "t0k" {
		t.Fatalf("plugin: %+v %v", cred, err)
	}
	env := readFile(t, dump)
	for _, secret := range []string{"REAUTH_DB_PASSWORD", "db-pw-31c7", "ADMIN_TOKEN_FOR_TEST", "admin-tok-5a2b"} {
		if strings.Contains(env, secret) {
			t.Errorf("the plugin sees %s", secret)
		}
	}
	for _, want := range []string{"KEEP_ME_FOR_TEST=visible", "FROM_KUBECONFIG=yes", "KUBERNETES_EXEC_INFO=", "PATH="} {
		if !strings.Contains(env, want) {
			t.Errorf("the plugin does not see %s", want)
		}
	}
}

// A plugin that never answers (its child holding stdout open too) is killed after the timeout,
// and the error names the plugin and the timeout.
func TestExecPluginTimeout(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	x := pluginConfig(t, "sleep 300 &\necho $! >\"$PIDFILE\"\nsleep 300\n", execEnvVar{Name: "PIDFILE", Value: pidFile})
	p := newExecProvider(x, nil, pluginOptions{timeout: 300 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := p.get(ctx)
	if err == nil || !strings.Contains(err.Error(), x.Command) || !strings.Contains(err.Error(), "did not answer within 300ms") {
		t.Fatalf("hung plugin: %v, want its name and the timeout", err)
	}
	if ctx.Err() != nil {
		t.Fatal("the hung plugin held reauth until the test's own deadline")
	}
	// The plugin's child went with it (its process group), polled: the kill is asynchronous.
	pid := strings.TrimSpace(readFile(t, pidFile))
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil || strings.Contains(string(b), ") Z ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the plugin's child %s outlived the timeout", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
