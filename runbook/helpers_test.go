package runbook_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
	"github.com/reauth/reauth/internal/testenv"
)

// product is one sandbox cluster in a test inventory.
type product struct {
	c       *sandbox.Cluster
	exclude []string
	ssh     bool   // restart its nodes over the loopback sshd instead of exec
	table   string // token-table confirmation (Fisheye)
	canary  string // canary user (its password comes from env CANARY_PW)
	admin   bool   // admin credential for the session API (the sandbox's admin token file)
	// proofUser is the account of the minted proof token (with admin, the admin's by default).
	proofUser string
	mode      string // the product's mode: (auto|restart|api; "" leaves it out)
	// stopStart restarts nodes with separate stop and start commands (sandbox stop-node and
	// start-node) instead of one restart command.
	stopStart bool
}

// up starts a sandbox cluster that is torn down when the test ends.
func up(t *testing.T, o sandbox.Options) *sandbox.Cluster {
	t.Helper()
	if o.StartupDelay == 0 {
		o.StartupDelay = 600 * time.Millisecond // longer than the probe interval: the down phase is seen
	}
	return sandboxtest.Up(t, o)
}

// writeInventory writes a reauth.yaml for the products into dir and returns its path.
func writeInventory(t *testing.T, dir string, ps ...product) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "defaults:\n  start_timeout: 60s\n  poll_interval: 200ms\n  stable_window: 300ms\n  backup_dir: %s\n  audit_log: %s\n",
		dir, filepath.Join(dir, "audit.jsonl"))
	b.WriteString("products:\n")
	for _, p := range ps {
		fmt.Fprintf(&b, "  - product: %s\n    home: %s\n", p.c.Product(), p.c.Home())
		if len(p.exclude) > 0 {
			fmt.Fprintf(&b, "    exclude_users: [%s]\n", strings.Join(p.exclude, ", "))
		}
		if p.table != "" {
			fmt.Fprintf(&b, "    table: %s\n", p.table)
		}
		if p.admin {
			fmt.Fprintf(&b, "    admin: {user: admin, token_file: %s}\n", filepath.Join(p.c.Dir(), "admin-token"))
		}
		if p.mode != "" {
			fmt.Fprintf(&b, "    mode: %s\n", p.mode)
		}
		if p.proofUser != "" {
			fmt.Fprintf(&b, "    proof_user: %s\n", p.proofUser)
		}
		if prod, err := atlassian.Lookup(string(p.c.Product())); err == nil && !prod.Proof.Confirmed {
			fmt.Fprintf(&b, "    proof_cookie: %q\n", prod.Proof.Format) // the sandbox confirms its own format
		}
		if p.c.Product() == atlassian.Crowd {
			fmt.Fprintf(&b, "    whoami_path: %s\n", sandbox.CrowdWhoAmIPath) // Crowd documents none
		}
		if p.canary != "" {
			fmt.Fprintf(&b, "    canary: {user: %s, password_env: CANARY_PW}\n", p.canary)
		}
		b.WriteString("    nodes:\n")
		for _, n := range p.c.Nodes() {
			cmd := fmt.Sprintf("%s sandbox restart-node --dir %s --node %s", testenv.Binary(t), p.c.Dir(), n.Name)
			fmt.Fprintf(&b, "      - name: %s\n        url: %s\n        install: %s\n        restart:\n", n.Name, n.URL, n.Dir)
			if p.ssh {
				s := testenv.SSHServer(t)
				host, port, _ := strings.Cut(s.Addr, ":")
				fmt.Fprintf(&b, "          ssh: {host: %s, port: %s, user: %s, key_file: %s, known_hosts: %s, agent: false, command: %q}\n",
					host, port, s.User, s.KeyFile, s.KnownHosts, cmd)
			} else if p.stopStart {
				stop := fmt.Sprintf("%s sandbox stop-node --dir %s --node %s", testenv.Binary(t), p.c.Dir(), n.Name)
				start := fmt.Sprintf("%s sandbox start-node --dir %s --node %s", testenv.Binary(t), p.c.Dir(), n.Name)
				fmt.Fprintf(&b, "          exec: {stop: %q, start: %q}\n", stop, start)
			} else {
				fmt.Fprintf(&b, "          exec: {command: %q}\n", cmd)
			}
		}
	}
	path := filepath.Join(dir, "reauth.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// browsers loads the cookie jars the sandbox saved for its seeded users, by user name.
func browsers(t *testing.T, c *sandbox.Cluster) map[string]*sandbox.Browser {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(c.BrowsersDir(), "*.cookies"))
	if len(files) == 0 {
		t.Fatalf("no browsers in %s", c.BrowsersDir())
	}
	out := map[string]*sandbox.Browser{}
	for _, f := range files {
		b, err := sandbox.LoadBrowser(f)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".cookies")] = b
	}
	return out
}

// loggedIn lists the users whose browser some node still accepts.
func loggedIn(t *testing.T, c *sandbox.Cluster, bs map[string]*sandbox.Browser) []string {
	t.Helper()
	var out []string
	for name, b := range bs {
		for _, n := range c.Nodes() {
			if _, ok, _ := b.WhoAmI(context.Background(), n.URL); ok {
				out = append(out, name)
				break
			}
		}
	}
	return out
}

// stateDir is the state directory of a test's runs: beside its inventory, so that a run and its
// --resume (in or out of process) share it, and no test writes to the real ~/.local/state.
func stateDir(cfg string) reauth.StateDir {
	return reauth.StateDir{Path: filepath.Join(filepath.Dir(cfg), "state", "reauth")}
}

// stateEnv points the binary at the state directory of the --config in args.
func stateEnv(args []string) []string {
	for i, a := range args {
		if a == "--config" && i+1 < len(args) {
			return []string{"XDG_STATE_HOME=" + filepath.Dir(stateDir(args[i+1]).Path)}
		}
	}
	return nil
}

// reauthCmd runs the real binary; it returns stdout, stderr and the exit code.
func reauthCmd(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testenv.Binary(t), args...)
	cmd.Env = append(append(os.Environ(), stateEnv(args)...), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run reauth: %v", err)
	}
	return out.String(), errb.String(), code
}
