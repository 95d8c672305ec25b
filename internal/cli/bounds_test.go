package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/runbook"
)

// --proof-sample has an upper bound (each sampled token is replayed on every node, twice), and
// --rest a longest rest; --help says both, and a count above the bound is refused before anything
// is read (exit 2, the bound named).
func TestProofSampleAndRestBounds(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "reauth.yaml")
	inv := "products:\n  - product: jira\n    database: {jdbc_url: 'jdbc:postgresql://127.0.0.1:1/jira', user: u, password_env: PW}\n" +
		"    nodes:\n      - {name: n1, url: 'http://127.0.0.1:1', restart: {exec: {command: 'true'}}}\n"
	if err := os.WriteFile(cfg, []byte(inv), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HOME": dir, "PW": "pw"}
	code, _, errs := runCLI(t, env, "run", "--config", cfg, "--dry-run", "--proof-sample", "101")
	if code != 2 || !strings.Contains(errs, "--proof-sample 101") || !strings.Contains(errs, "up to 100") {
		t.Fatalf("--proof-sample 101: exit %d, stderr %s; want exit 2 naming the bound", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, ".local")); !os.IsNotExist(err) {
		t.Errorf("a refused flag created the state directory (%v)", err)
	}
	_, out, _ := runCLI(t, nil, "run", "--help")
	if !strings.Contains(out, "at most 100") || runbook.MaxProofSample != 100 {
		t.Errorf("run --help does not state --proof-sample's bound:\n%s", out)
	}
	_, out, _ = runCLI(t, nil, "purge", "--help")
	if !strings.Contains(out, "never longer than "+reauth.MaxPurgeRestTime.String()) {
		t.Errorf("purge --help does not state the longest rest:\n%s", out)
	}
}
