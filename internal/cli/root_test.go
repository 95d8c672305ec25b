package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reauth/reauth/atlassian"
)

// TestJSONOnFailure: --json prints exactly one JSON object on stdout, also when the command fails
// before it has a result (usage, refusal, an unreachable or unconfigured database), with the
// same exit code the process returns; without --json stdout stays empty.
func TestJSONOnFailure(t *testing.T) {
	home := writeHomeFile(t, "dbconfig.xml", `<jira-database-config><database-type>postgres72</database-type>
<jdbc-datasource><url>jdbc:postgresql://127.0.0.1:1/jira</url><username>jira</username></jdbc-datasource></jira-database-config>`)
	garbage := writeHomeFile(t, "x.jsonl.gz", "not gzip")
	for _, c := range []struct {
		args []string
		code int
		want string // in "error"
	}{
		{[]string{"purge", "--product", "jira", "--json", "--bogus"}, 2, "unknown flag: --bogus"},
		{[]string{"inspect", "--product", "jira", "--home", home, "--json"}, 4, "no usable database password"},
		// Without --yes and without a terminal, purge refuses before connecting anywhere.
		{[]string{"purge", "--product", "jira", "--jdbc-url", "jdbc:postgresql://127.0.0.1:1/x", "--db-user", "u", "--json"}, 4, "no terminal to ask on"},
		{[]string{"discover", "--product", "jira", "--home", t.TempDir(), "--json"}, 4, "dbconfig.xml not found"},
		{[]string{"restore", "--product", "jira", "--home", home, "--json", "/nonexistent/backup.jsonl.gz"}, 4, "no such file"},
		{[]string{"restore", "--product", "jira", "--home", home, "--json", filepath.Join(garbage, "x.jsonl.gz")}, 4, "not a gzip file"},
	} {
		code, out, errs := runCLI(t, nil, c.args...)
		if code != c.code {
			t.Errorf("%v: exit %d, want %d (stderr %s)", c.args, code, c.code, errs)
			continue
		}
		var m struct {
			Error    string `json:"error"`
			Hint     string `json:"hint"`
			ExitCode int    `json:"exit_code"`
		}
		dec := json.NewDecoder(strings.NewReader(out))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil || dec.More() {
			t.Errorf("%v: stdout is not exactly one JSON error object (%v): %q", c.args, err, out)
			continue
		}
		if m.ExitCode != c.code || m.Error == "" || !strings.Contains(m.Error, c.want) || m.Hint == "" {
			t.Errorf("%v: %+v", c.args, m)
		}
		if !strings.Contains(errs, m.Error) {
			t.Errorf("%v: stderr does not say it too: %s", c.args, errs)
		}
		// The same without --json: nothing on stdout.
		var plain []string
		for _, a := range c.args {
			if a != "--json" {
				plain = append(plain, a)
			}
		}
		if code, out, _ := runCLI(t, nil, plain...); code != c.code || out != "" {
			t.Errorf("%v: exit %d, stdout %q", plain, code, out)
		}
	}
}

// TestRootHelpNamesEveryProduct: `reauth --help` names every product of the catalog (Crowd was
// missing), so a newcomer reading it knows which products reauth works on.
func TestRootHelpNamesEveryProduct(t *testing.T) {
	code, out, _ := runCLI(t, nil, "--help")
	if code != 0 {
		t.Fatalf("--help: exit %d", code)
	}
	long := strings.Join(strings.Fields(out), " ") // the text is wrapped: match across line breaks
	for _, p := range atlassian.All() {
		if !strings.Contains(long, p.Name) {
			t.Errorf("reauth --help does not name %s", p.Name)
		}
	}
}
