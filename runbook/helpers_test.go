package runbook_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/sandbox/sandboxtest"
	"github.com/reauth/reauth/internal/testenv"
)

// product is one sandbox cluster in a test inventory: a sandboxtest.Product (see there what each
// field means) under the short names the tests use.
type product struct {
	c                              *sandbox.Cluster
	exclude                        []string
	ssh, admin, stopStart          bool
	table, canary, proofUser, mode string
}

// writeInventory writes a reauth.yaml for the products into dir and returns its path.
func writeInventory(t *testing.T, dir string, ps ...product) string {
	t.Helper()
	out := make([]sandboxtest.Product, len(ps))
	for i, p := range ps {
		out[i] = sandboxtest.Product{Cluster: p.c, Exclude: p.exclude, SSH: p.ssh, Table: p.table, Canary: p.canary,
			Admin: p.admin, ProofUser: p.proofUser, Mode: p.mode, StopStart: p.stopStart}
	}
	return sandboxtest.WriteInventory(t, dir, "", out...)
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

// reauthCmd runs the real binary with the state directory of its --config; it returns stdout,
// stderr and the exit code.
func reauthCmd(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	return testenv.Reauth(t, append(stateEnv(args), env...), args...)
}
