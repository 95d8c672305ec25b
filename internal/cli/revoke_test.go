package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
	"github.com/reauth/reauth/runbook"
	"github.com/reauth/reauth/sqlstore"
)

// withAdmin writes a copy of the sandbox's inventory whose admin block is the line given (none
// when it is empty): the sandbox's own block is dropped.
func withAdmin(t *testing.T, c *sandbox.Cluster, admin string) string {
	t.Helper()
	b, err := os.ReadFile(c.InventoryPath())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	skipIndent := -1
	for _, line := range strings.Split(string(b), "\n") {
		k := strings.TrimLeft(line, " ")
		indent := len(line) - len(k)
		if skipIndent >= 0 && indent > skipIndent && k != "" {
			continue
		}
		skipIndent = -1
		if strings.HasPrefix(k, "admin:") {
			skipIndent = indent
			continue
		}
		out = append(out, line)
		if strings.HasPrefix(k, "home:") && admin != "" {
			out = append(out, line[:indent]+admin)
		}
	}
	path := filepath.Join(t.TempDir(), "reauth.yaml")
	if err := os.WriteFile(path, []byte(strings.Join(out, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func revokeCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	state := testStateHome(t)
	code := Run(context.Background(), args, IO{In: strings.NewReader(""), Out: &out, Err: &errb, Now: time.Now,
		Getenv: func(k string) string {
			if v, ok := env[k]; ok || k != "XDG_STATE_HOME" {
				return v
			}
			return state
		}})
	return code, out.String(), errb.String()
}

func TestRevoke(t *testing.T) {
	c := sandboxtest.Up(t, sandbox.Options{Product: atlassian.Jira, Version: "9.12.0", Nodes: 2, Users: 4})
	p, _ := atlassian.Lookup("jira")
	st, err := sqlstore.Open(context.Background(), reauth.Database{Engine: reauth.SQLite, Name: strings.TrimPrefix(c.DBURL(), "sqlite:")}, p, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tokens := func() int64 {
		in, err := st.Inspect(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		return in.Total
	}
	loggedIn := func(i int) bool {
		b, err := sandbox.LoadBrowser(c.BrowserFile(i))
		if err != nil {
			t.Fatal(err)
		}
		b.Product = c.Product()
		_, ok, err := b.WhoAmI(context.Background(), c.Nodes()[(i-1)%2].URL)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	good := withAdmin(t, c, "admin: {user: admin, token_file: "+filepath.Join(c.Dir(), "admin-token")+"}")
	bad := withAdmin(t, c, "admin: {user: admin, token_env: JIRA_PAT}")
	before := tokens()

	t.Run("wrong credentials: exit 4, nothing changed", func(t *testing.T) {
		code, out, errs := revokeCLI(t, map[string]string{"JIRA_PAT": "not-the-token"}, "revoke", "--config", bad, "--user", "user001", "--json")
		if code != int(reauth.ExitRefused) || !strings.Contains(errs, "HTTP 401") {
			t.Fatalf("exit %d, stderr %s", code, errs)
		}
		if strings.Contains(out+errs, "not-the-token") {
			t.Fatal("the token was printed")
		}
		if tokens() != before || !loggedIn(1) {
			t.Fatal("something changed")
		}
	})
	t.Run("dry run changes nothing", func(t *testing.T) {
		code, _, errs := revokeCLI(t, nil, "revoke", "--config", good, "--user", "user001", "--dry-run")
		if code != 0 || !strings.Contains(errs, "delete 1 remember-me token(s)") {
			t.Fatalf("exit %d: %s", code, errs)
		}
		if tokens() != before || !loggedIn(1) {
			t.Fatal("dry run changed something")
		}
	})
	t.Run("without --yes and no terminal: refused, nothing changed", func(t *testing.T) {
		code, _, errs := revokeCLI(t, nil, "revoke", "--config", good, "--user", "user001")
		if code != int(reauth.ExitRefused) || !strings.Contains(errs, "--yes") {
			t.Fatalf("exit %d: %s", code, errs)
		}
		if tokens() != before || !loggedIn(1) {
			t.Fatal("an unconfirmed revoke changed something")
		}
	})
	t.Run("another run holds the lock: refused before the plan", func(t *testing.T) {
		release, err := st.Lock(context.Background(), "test")
		if err != nil {
			t.Fatal(err)
		}
		code, _, errs := revokeCLI(t, nil, "revoke", "--config", good, "--user", "user001", "--yes")
		release()
		if code == 0 || strings.Contains(errs, "Plan:") {
			t.Fatalf("exit %d while the lock was held: %s", code, errs)
		}
		if tokens() != before || !loggedIn(1) {
			t.Fatal("a revoke changed something while another run held the lock")
		}
	})
	t.Run("revokes one user everywhere", func(t *testing.T) {
		code, out, errs := revokeCLI(t, nil, "revoke", "--config", good, "--user", "USER001", "--yes", "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var rep runbook.RevokeReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if rep.Ended != 1 || rep.Deleted != 1 || rep.Version != "9.12.0" || rep.Backup == "" {
			t.Fatalf("report %+v", rep)
		}
		if _, err := os.Stat(rep.Backup); err != nil {
			t.Fatalf("backup: %v", err)
		}
		if want := filepath.Join(testStateHome(t), "reauth", "backups"); filepath.Dir(rep.Backup) != want {
			t.Fatalf("backup %s, want it in the state directory %s", rep.Backup, want)
		}
		if tokens() != before-1 {
			t.Fatalf("tokens %d, want %d", tokens(), before-1)
		}
		if loggedIn(1) {
			t.Fatal("user001 is still logged in")
		}
		for i := 2; i <= 4; i++ {
			if !loggedIn(i) {
				t.Fatalf("user%03d was logged out too", i)
			}
		}
	})
	t.Run("an unknown user is an error", func(t *testing.T) {
		code, _, errs := revokeCLI(t, nil, "revoke", "--config", good, "--user", "nosuchuser", "--yes")
		if code != int(reauth.ExitFailed) || !strings.Contains(errs, "nosuchuser") {
			t.Fatalf("exit %d: %s", code, errs)
		}
	})
	t.Run("usage errors", func(t *testing.T) {
		if code, _, _ := revokeCLI(t, nil, "revoke", "--config", good); code != int(reauth.ExitUsage) {
			t.Fatalf("no --user: exit %d", code)
		}
		noAdmin := withAdmin(t, c, "")
		if code, _, errs := revokeCLI(t, nil, "revoke", "--config", noAdmin, "--user", "user002"); code != int(reauth.ExitUsage) || !strings.Contains(errs, "admin") {
			t.Fatalf("no admin block: exit %d %s", code, errs)
		}
	})
}
