package cli

import (
	"strings"
	"testing"
)

// A --backup whose directory exists but cannot be written (here /proc, which refuses new files
// even to root) is refused by the preflight, in a dry run too (exit 4), before any plan, lock or
// change.
func TestPurgeUnwritableBackupRefused(t *testing.T) {
	x := jiraDB(t, 3)
	for _, flags := range [][]string{{"--dry-run"}, {"--yes"}} {
		code, out, errs := storeCLI(t, map[string]string{"REAUTH_DB_PASSWORD": x.Pass}, false, "",
			append([]string{"purge", "--product", "jira", "--jdbc-url", x.JDBC, "--db-user", x.User, "--backup", "/proc/reauth-test.jsonl.gz"}, flags...)...)
		if code != 4 || !strings.Contains(errs, "cannot be written") || !strings.Contains(errs, "--backup") ||
			strings.Contains(out, "plan for") || count(t, x) != 3 {
			t.Fatalf("purge %v onto an unwritable directory: exit %d, %d rows\n%s\n%s", flags, code, count(t, x), out, errs)
		}
	}
}
