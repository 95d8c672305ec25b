package sandboxtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/internal/testenv"
)

// Product is one sandbox cluster in a test inventory, and what the test sets for it.
type Product struct {
	Cluster *sandbox.Cluster
	Exclude []string
	SSH     bool   // restart its nodes over the loopback sshd instead of exec
	Table   string // token-table confirmation (Fisheye)
	Canary  string // canary user (its password comes from env CANARY_PW)
	Admin   bool   // admin credential for the session API (the sandbox's admin token file)
	// ProofUser is the account of the minted proof token (with Admin, the admin's by default).
	ProofUser string
	Mode      string // the product's mode: (auto|restart|api; "" leaves it out)
	// StopStart restarts nodes with separate stop and start commands (sandbox stop-node and
	// start-node) instead of one restart command.
	StopStart bool
}

// WriteInventory writes a reauth.yaml for the products into dir and returns its path: short
// timeouts (startTimeout, "" for 60s), the backups and the audit log in dir, and every node
// restarted by the reauth binary's own sandbox verbs.
func WriteInventory(t testing.TB, dir, startTimeout string, ps ...Product) string {
	t.Helper()
	if startTimeout == "" {
		startTimeout = "60s"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "defaults:\n  start_timeout: %s\n  poll_interval: 200ms\n  stable_window: 300ms\n  backup_dir: %s\n  audit_log: %s\n",
		startTimeout, dir, filepath.Join(dir, "audit.jsonl"))
	b.WriteString("products:\n")
	for _, p := range ps {
		c := p.Cluster
		fmt.Fprintf(&b, "  - product: %s\n    home: %s\n", c.Product(), c.Home())
		if len(p.Exclude) > 0 {
			fmt.Fprintf(&b, "    exclude_users: [%s]\n", strings.Join(p.Exclude, ", "))
		}
		if p.Table != "" {
			fmt.Fprintf(&b, "    table: %s\n", p.Table)
		}
		if p.Admin {
			fmt.Fprintf(&b, "    admin: {user: admin, token_file: %s}\n", filepath.Join(c.Dir(), "admin-token"))
		}
		if p.Mode != "" {
			fmt.Fprintf(&b, "    mode: %s\n", p.Mode)
		}
		if p.ProofUser != "" {
			fmt.Fprintf(&b, "    proof_user: %s\n", p.ProofUser)
		}
		if prod, err := atlassian.Lookup(string(c.Product())); err == nil && !prod.Proof.Confirmed {
			fmt.Fprintf(&b, "    proof_cookie: %q\n", prod.Proof.Format) // the sandbox confirms its own format
		}
		if c.Product() == atlassian.Crowd {
			fmt.Fprintf(&b, "    whoami_path: %s\n", sandbox.CrowdWhoAmIPath) // Crowd documents none
		}
		if p.Canary != "" {
			fmt.Fprintf(&b, "    canary: {user: %s, password_env: CANARY_PW}\n", p.Canary)
		}
		b.WriteString("    nodes:\n")
		for _, n := range c.Nodes() {
			verb := func(v string) string {
				return fmt.Sprintf("%s sandbox %s --dir %s --node %s", testenv.Binary(t), v, c.Dir(), n.Name)
			}
			fmt.Fprintf(&b, "      - name: %s\n        url: %s\n        install: %s\n        restart:\n", n.Name, n.URL, n.Dir)
			switch {
			case p.SSH:
				s := testenv.SSHServer(t)
				host, port, _ := strings.Cut(s.Addr, ":")
				fmt.Fprintf(&b, "          ssh: {host: %s, port: %s, user: %s, key_file: %s, known_hosts: %s, agent: false, command: %q}\n",
					host, port, s.User, s.KeyFile, s.KnownHosts, verb("restart-node"))
			case p.StopStart:
				fmt.Fprintf(&b, "          exec: {stop: %q, start: %q}\n", verb("stop-node"), verb("start-node"))
			default:
				fmt.Fprintf(&b, "          exec: {command: %q}\n", verb("restart-node"))
			}
		}
	}
	path := filepath.Join(dir, "reauth.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
