package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
)

// urlPassword is the password an operator put in a URL: no output of the real binary may carry it.
const urlPassword = "Pw9-url-s3cret"

// A sandbox inventory whose node URL carries ops:PASSWORD@ is refused by every verb that reads it
// (exit 2, pointing at the *_env forms), and the password appears in no output: not in the plan,
// errors, --json, stderr, the audit log, or any file reauth leaves beside the inventory.
func TestURLCredentialsRefusedAndNeverShown(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sb")
	c := sandboxtest.Up(t, sandbox.Options{Dir: dir, Nodes: 1, Users: 1})
	b, err := os.ReadFile(c.InventoryPath())
	if err != nil {
		t.Fatal(err)
	}
	nodeURL := c.Nodes()[0].URL
	withCreds := strings.Replace(nodeURL, "http://", "http://ops:"+urlPassword+"@", 1)
	// A URL that does not even parse must not be echoed either.
	broken := strings.Replace(nodeURL, "http://", "http://ops:"+urlPassword+"/x@", 1)
	for _, tc := range []struct{ name, from, to string }{
		{"node url", nodeURL, withCreds},
		{"malformed node url", nodeURL, broken},
		{"jdbc_url", "home: ", "database: {jdbc_url: 'jdbc:mysql://ops:" + urlPassword + "@127.0.0.1:1/jira', user: ops, password_env: X}\n    home: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(string(b), tc.from) {
				t.Fatalf("sandbox inventory has no %q:\n%s", tc.from, b)
			}
			cfg := filepath.Join(dir, "hostile.yaml")
			if err := os.WriteFile(cfg, []byte(strings.Replace(string(b), tc.from, tc.to, 1)), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{
				{"run", "--config", cfg, "--dry-run"},
				{"run", "--config", cfg, "--dry-run", "--json"},
				{"run", "--config", cfg, "--yes", "--json"},
				{"restart", "--config", cfg, "--dry-run"},
				{"restart", "--config", cfg, "--yes", "--json"},
				{"verify", "--config", cfg, "--json"},
				{"revoke", "--config", cfg, "--user", "user001", "--json"},
			} {
				code, stdout, stderr := runBinary(t, args...)
				if code != 2 {
					t.Errorf("%v: exit %d, want 2 (bad config)\n%s%s", args, code, stdout, stderr)
				}
				if !strings.Contains(stdout+stderr, "_env") {
					t.Errorf("%v: no hint towards the *_env forms:\n%s%s", args, stdout, stderr)
				}
				if strings.Contains(stdout+stderr, urlPassword) {
					t.Errorf("%v: the password is printed:\n%s%s", args, stdout, stderr)
				}
			}
			assertNoFileHolds(t, dir, urlPassword, cfg)
		})
	}
	code, stdout, stderr := runBinary(t, "inspect", "--product", "jira", "--jdbc-url", "jdbc:mysql://ops:"+urlPassword+"@127.0.0.1:1/jira", "--json")
	if code != 2 || strings.Contains(stdout+stderr, urlPassword) || !strings.Contains(stderr, "REAUTH_DB_PASSWORD") {
		t.Errorf("--jdbc-url with a password: exit %d\n%s%s", code, stdout, stderr)
	}
}

// assertNoFileHolds fails if any file under dir but the one the operator wrote holds secret.
func assertNoFileHolds(t *testing.T, dir, secret, except string) {
	t.Helper()
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || !fi.Mode().IsRegular() || p == except {
			return nil
		}
		if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), secret) {
			t.Errorf("%s holds the password", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
