package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/rollout"
	"github.com/reauth/reauth/rollout/execmethod"
)

// evil is a name that, printed raw, retitles the window, clears the screen and reorders text.
const evil = "mallory\x1b]0;pwned\x07\x1b[2J\r\u202e"

// rawControl reports the first raw control character (ESC, BEL, CR, bidi override) in s.
func rawControl(s string) string {
	for _, c := range []string{"\x1b", "\x07", "\r", "\u202e"} {
		if strings.Contains(s, c) {
			return fmt.Sprintf("%q", c)
		}
	}
	return ""
}

// User names come from the token table, where anyone who can pick a user name can put control
// characters: inspect and the purge plan print them escaped, never raw.
func TestUserNamesAreEscapedOnTheTerminal(t *testing.T) {
	x := jiraDB(t, 6)
	if _, err := x.SQL.Exec("UPDATE remembermetoken SET username = $1 WHERE id <= 3", evil); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"REAUTH_DB_PASSWORD": x.Pass}
	target := []string{"--product", "jira", "--jdbc-url", x.JDBC, "--db-user", x.User}
	for _, args := range [][]string{
		append([]string{"inspect"}, target...),
		append(append([]string{"purge"}, target...), "--dry-run"),
		append(append([]string{"purge"}, target...), "--dry-run", "--exclude-user", evil),
	} {
		code, out, errs := storeCLI(t, env, false, "", args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s", args[0], code, errs)
		}
		if c := rawControl(out + errs); c != "" {
			t.Errorf("%v prints a raw %s:\n%q", args[0], c, out+errs)
		}
		if !strings.Contains(out, `mallory\x1b]0;pwned\x07`) {
			t.Errorf("%v does not show the name escaped:\n%s", args[0], out)
		}
	}
}

// Node names, node answers and error texts are escaped too.
func TestNodeNamesAndErrorsAreEscaped(t *testing.T) {
	plan := rollout.Plan{Nodes: []rollout.Node{{Name: evil, URL: "http://127.0.0.1:1", Restarter: &execmethod.Restarter{Command: "true"}}},
		Warnings: []string{"kubeconfig /tmp/" + evil}}
	var b bytes.Buffer
	printPlan(&b, plan, rollout.Options{}, restartOptions{})
	if !strings.Contains(b.String(), "warning: kubeconfig /tmp/") {
		t.Errorf("the plan does not say the restart method's warning:\n%s", b.String())
	}
	printResult(&b, rollout.Result{Nodes: []rollout.NodeResult{{Name: evil, Status: rollout.StatusFailed, Error: "state " + evil}}})
	for _, live := range []bool{false, true} {
		v := newNodeView(&b, live, plan)
		v.event(rollout.Event{Node: evil, Phase: rollout.PhaseStarting, State: evil, Elapsed: time.Second})
		v.event(rollout.Event{Node: evil, Phase: rollout.PhaseWarning, Message: evil})
	}
	printError(&b, reauth.WithHint(errors.New("user "+evil+" failed"), "retry "+evil))
	// The live view draws with its own escape sequences: only the names' must be gone.
	got := strings.NewReplacer("\x1b[2K", "", "\x1b[1A", "", "\x1b[J", "").Replace(b.String())
	if c := rawControl(got); c != "" {
		t.Fatalf("a raw %s reaches the terminal:\n%q", c, got)
	}
}

// --json with any value the flag parser reads as true still prints the one JSON object on a
// failure; --json=false prints none.
func TestJSONFlagValuesOnFailure(t *testing.T) {
	for _, v := range []string{"--json", "--json=1", "--json=t", "--json=T", "--json=true", "--json=TRUE", "--json=True"} {
		code, out, _ := runCLI(t, nil, "discover", "--product", "jira", "--home", t.TempDir(), v)
		var m map[string]any
		if code != 4 || json.Unmarshal([]byte(out), &m) != nil || m["exit_code"] != 4.0 {
			t.Errorf("%s: exit %d, stdout %q: want the JSON failure object", v, code, out)
		}
	}
	for _, v := range []string{"--json=false", "--json=F", "--json=0"} {
		if code, out, _ := runCLI(t, nil, "discover", "--product", "jira", "--home", t.TempDir(), v); code != 4 || out != "" {
			t.Errorf("%s: exit %d, stdout %q: want nothing on stdout", v, code, out)
		}
	}
}

// A mistyped verb gets the verb it meant, not "Run 'reauth purg --help'" (a second error).
func TestUnknownCommandHint(t *testing.T) {
	code, out, errs := runCLI(t, nil, "purg", "--product", "jira", "--json")
	if code != 2 || !strings.Contains(errs, "unknown command 'purg', did you mean 'purge'?") || strings.Contains(errs, "reauth purg --help") ||
		!strings.Contains(errs, "reauth purge --help") {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	var m map[string]any
	if json.Unmarshal([]byte(out), &m) != nil || !strings.Contains(fmt.Sprint(m["error"]), "did you mean 'purge'") {
		t.Fatalf("--json: %q", out)
	}
	if code, _, errs := runCLI(t, nil, "zzzz"); code != 2 || !strings.Contains(errs, "unknown command 'zzzz'") || !strings.Contains(errs, "reauth --help") {
		t.Fatalf("no suggestion: exit %d, stderr:\n%s", code, errs)
	}
	if _, _, errs := runCLI(t, nil, "x\x1b[2Jy"); rawControl(errs) != "" {
		t.Fatalf("the mistyped verb is echoed raw: %q", errs)
	}
}
