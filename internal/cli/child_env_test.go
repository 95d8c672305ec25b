package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reauth/reauth/internal/testenv"
)

// Drain hooks and exec restart commands are real child processes of the real binary: each dumps
// its environment. None may see a variable reauth read a secret from (REAUTH_DB_PASSWORD, the
// images' ATL_JDBC_PASSWORD, the inventory's *_env), while the rest of the environment and the
// documented REAUTH_NODE / REAUTH_NODE_URL are there.
func TestChildrenDoNotInheritSecrets(t *testing.T) {
	c, cfg := restartSandbox(t, 1)
	dumps := t.TempDir()
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
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
	for _, name := range []string{"before.env", "restart.env", "after.env"} {
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
		for _, want := range []string{"KEEP_ME_FOR_TEST=visible", "REAUTH_NODE=node1", "REAUTH_NODE_URL=" + c.Nodes()[0].URL, "PATH="} {
			if !strings.Contains(env, want) {
				t.Errorf("%s: the child does not see %s", name, want)
			}
		}
	}
}
