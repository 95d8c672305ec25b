package runbook

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reauth/reauth/inventory"
)

// TestFakeClearBackupWarningOncePerRun: a plan of two products whose backups are both in clear
// says the warning (with its advice) once, naming both, not once per product.
func TestFakeClearBackupWarningOncePerRun(t *testing.T) {
	f := newFakeJob(t)
	yaml := fmt.Sprintf(`defaults:
  backup_dir: %[1]s/backups
  audit_log: %[1]s/audit.jsonl
products:
  - product: jira
    mode: restart
    proof_user: alice
    database: {jdbc_url: "jdbc:postgresql://127.0.0.1:9/jira", user: jira}
    nodes:
      - {name: n1, url: "http://127.0.0.1:9/n1", restart: {exec: {command: "never run"}}}
  - product: bamboo
    mode: restart
    proof_user: alice
    database: {jdbc_url: "jdbc:postgresql://127.0.0.1:9/bamboo", user: bamboo}
    nodes:
      - {name: b1, url: "http://127.0.0.1:9/b1", restart: {exec: {command: "never run"}}}
`, f.dir)
	path := filepath.Join(f.dir, "two.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	f.inv = inv
	o := f.options()
	o.DryRun = true
	rep, err := f.run(o)
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, f.out.String())
	}
	out := f.out.String()
	if n := strings.Count(out, "anyone who reads them can log in"); n != 1 {
		t.Errorf("the clear-backup warning is said %d times, want once:\n%s", n, out)
	}
	if !strings.Contains(out, "jira, bamboo") {
		t.Errorf("the warning does not name both products:\n%s", out)
	}
	for _, p := range rep.Products { // --json keeps each product's own warning
		if p.Backup.Warning == "" {
			t.Errorf("%s: no backup warning in --json", p.Product)
		}
	}
}
