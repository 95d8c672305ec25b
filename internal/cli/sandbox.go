package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/internal/sandbox"
)

// newSandboxCmd is `reauth sandbox`: simulated product nodes to try reauth on.
func newSandboxCmd(streams IO) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Simulated Atlassian nodes to try reauth on (up, down, status)",
		Long: `A sandbox is a set of simulated product nodes on 127.0.0.1 that behave like the real ones where
reauth can see them: login form, cookies, readiness endpoint, remember-me tokens in the product's
real table, in-memory sessions and token caches. Each node is its own process.`,
		Args: needArgs(0, "a subcommand: up, down, status, restart-node, stop-node, start-node or fault"),
		RunE: func(c *cobra.Command, args []string) error { return c.Help() },
	}
	cmd.AddCommand(newSandboxUpCmd(streams), newSandboxDownCmd(streams), newSandboxStatusCmd(streams),
		newSandboxNodeVerbCmd(streams, "restart-node"), newSandboxNodeVerbCmd(streams, "stop-node"), newSandboxNodeVerbCmd(streams, "start-node"),
		newSandboxFaultCmd(streams), newSandboxNodeCmd(streams))
	return cmd
}

func newSandboxUpCmd(streams IO) *cobra.Command {
	var o sandbox.Options
	var product string
	cmd := &cobra.Command{
		Use:   "up --dir DIR [--product P] [--nodes N] [--db URL] [--users K] [--startup-delay D] [--persistence] [--version V]",
		Short: "Create a sandbox in DIR, start its nodes and log its users in",
		Example: `  # A 3-node Jira on SQLite with 100 logged-in users, then the whole job on it:
  reauth sandbox up --dir /tmp/sb --product jira --nodes 3 --users 100
  reauth run --config /tmp/sb/reauth.yaml --state-dir /tmp/sb/state --yes
  reauth sandbox down --dir /tmp/sb

  # Confluence on a real PostgreSQL, nodes that take 5 s to start:
  reauth sandbox up --dir /tmp/sb2 --product confluence --db postgres://u:pw@127.0.0.1:5432/sb --startup-delay 5s`,
		Args: needArgs(0, "no positional arguments"),
		RunE: func(c *cobra.Command, args []string) error {
			if o.Dir == "" {
				return usageError{cmd: "sandbox up", err: fmt.Errorf("--dir is required")}
			}
			if _, err := atlassian.Lookup(product); err != nil {
				return usageError{cmd: "sandbox up", err: err}
			}
			o.Product = atlassian.ProductID(product)
			c2, err := sandbox.Up(c.Context(), o, streams.Err)
			if err != nil {
				return err
			}
			printSandboxUsage(streams, c2)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Dir, "dir", "", "new directory for the sandbox (required)")
	f.StringVar(&product, "product", "jira", "product to simulate: jira, confluence, bitbucket, bamboo, fisheye or crowd")
	f.StringVar(&o.SSOIssuer, "sso-issuer", "", "seed an enabled SSO for Atlassian Data Center configuration (OIDC) with this issuer, e.g. https://sso.example.com/realms/corp")
	f.StringSliceVar(&o.CrowdSSO, "crowd-sso", nil, "the application trusts Crowd SSO: the node URLs of a running sandbox crowd (same users); its login sets crowd.token_key, which logs a browser back in on its own")
	f.IntVar(&o.Nodes, "nodes", 2, "number of nodes")
	f.StringVar(&o.DB, "db", "", "an EMPTY database: postgres://USER:PW@HOST:PORT/DB?sslmode=disable or mysql://USER:PW@HOST:PORT/DB (default: an SQLite file in DIR)")
	f.IntVar(&o.Users, "users", 10, "users to create and log in (user001..., password \""+sandbox.UserPassword+"\")")
	f.Float64Var(&o.RememberFraction, "remember", 1, "share of the users' browsers that tick remember-me (0 to 1)")
	f.DurationVar(&o.StartupDelay, "startup-delay", time.Second, "how long each node stays STARTING when it starts")
	f.BoolVar(&o.Persistence, "persistence", false, "Tomcat-like session persistence (SESSIONS.ser) on")
	f.BoolVar(&o.APIKeepsRememberMe, "api-keeps-remember-me", false, "the session API ends sessions but leaves remember-me tokens (rows and node caches) alone: the pessimistic reading of Jira 9.11's API")
	f.StringVar(&o.HazelcastSessions, "hazelcast-sessions", "", "Bitbucket only: hazelcast.http.sessions in bitbucket.properties, and the nodes behave so: local (each node's memory) or replicated (one map held by the live nodes: a session survives any node's restart while another is up)")
	f.BoolVar(&o.StopStart, "stop-start", false, "the inventory stops and starts each node with separate commands (sandbox stop-node / start-node), as restart.strategy full and --clear-persisted-sessions need")
	f.BoolVar(&o.IDBanks, "id-banks", false, "each node takes token ids from its own banks of 100 (Jira's OfBiz banks on a cluster): later tokens can have lower ids")
	f.StringVar(&o.Version, "version", "", "product version the nodes report (default: a current one)")
	f.StringVar(&o.AdminPassword, "admin-password", "admin", "password of the account \"admin\"")
	cmd.PreRun = func(c *cobra.Command, args []string) {
		if c.Flags().Changed("remember") && o.RememberFraction == 0 {
			o.RememberFraction = -1 // Options treat 0 as "default"; on the command line 0 means nobody
		}
	}
	return cmd
}

func printSandboxUsage(streams IO, c *sandbox.Cluster) {
	w := streams.Out
	q := reauth.ShellQuote
	fmt.Fprintf(w, "Sandbox %s is up: %s, %d node(s).\n", c.Dir(), c.Product(), len(c.Nodes()))
	for _, n := range c.Nodes() {
		fmt.Fprintf(w, "  %-6s %s   (install %s)\n", n.Name, n.URL, n.Dir)
	}
	fmt.Fprintf(w, `
Product home:   %s
Database:       %s
Inventory:      %s
Browsers:       %s (Netscape cookie files, one per user)
Log in as:      user001 ... with password %q, or admin

State:          %s (pass it as --state-dir: the runs' backups, journals and audit log stay in the sandbox)

Try:
  reauth discover --product %s --home %s
  reauth inspect --product %s --home %s
  reauth run --config %s --state-dir %s --dry-run
  reauth run --config %s --state-dir %s --mode restart
  reauth sandbox status --dir %s
  reauth sandbox down --dir %s
`, c.Home(), c.RedactedDBURL(), c.InventoryPath(), c.BrowsersDir(), sandbox.UserPassword, c.StateDir(),
		c.Product(), q(c.Home()), c.Product(), q(c.Home()), q(c.InventoryPath()), q(c.StateDir()),
		q(c.InventoryPath()), q(c.StateDir()), q(c.Dir()), q(c.Dir()))
}

func newSandboxDownCmd(streams IO) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:     "down --dir DIR",
		Short:   "Stop every node of the sandbox (its files stay for inspection)",
		Example: `  reauth sandbox down --dir /tmp/sb`,
		Args:    needArgs(0, "no positional arguments"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := openSandbox(dir)
			if err != nil {
				return err
			}
			if err := cl.Down(c.Context()); err != nil {
				return err
			}
			fmt.Fprintf(streams.Out, "Sandbox %s is down (%d node(s) stopped); its files are left for inspection.\n", cl.Dir(), len(cl.Nodes()))
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "the sandbox directory (required)")
	return cmd
}

func openSandbox(dir string) (*sandbox.Cluster, error) {
	if dir == "" {
		return nil, reauth.Usage("give --dir DIR", "--dir is required")
	}
	return sandbox.Open(dir)
}

func newSandboxStatusCmd(streams IO) *cobra.Command {
	var dir string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status --dir DIR [--json]",
		Short: "Each node's state and session count",
		Args:  needArgs(0, "no positional arguments"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := openSandbox(dir)
			if err != nil {
				return err
			}
			st, err := cl.Status(c.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(streams.Out, map[string]any{"dir": cl.Dir(), "product": cl.Product(), "nodes": st})
			}
			fmt.Fprintf(streams.Out, "%-8s %-24s %-8s %-12s %8s %8s  %s\n", "NODE", "URL", "PID", "STATE", "SESSIONS", "TOKENS", "FAULT")
			for _, n := range st {
				pid := "-"
				if n.PID != 0 {
					pid = fmt.Sprint(n.PID)
				}
				fmt.Fprintf(streams.Out, "%-8s %-24s %-8s %-12s %8d %8d  %s\n", n.Name, n.URL, pid, n.State, n.Sessions, n.CachedTokens, n.Fault)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "the sandbox directory (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}

// newSandboxNodeVerbCmd is `sandbox restart-node`, `stop-node` or `start-node`: one node's
// restart, or the separate stop and start of an inventory written with --stop-start.
func newSandboxNodeVerbCmd(streams IO, verb string) *cobra.Command {
	var dir, node string
	text := map[string]struct{ short, done string }{
		"restart-node": {"Restart one node (stop gracefully, start again); returns once the process runs", "restarted"},
		"stop-node":    {"Stop one node gracefully (stopping a stopped node is not an error)", "stopped"},
		"start-node":   {"Start one stopped node; returns once its process runs", "started"},
	}[verb]
	cmd := &cobra.Command{
		Use:   verb + " --dir DIR --node NAME",
		Short: text.short,
		Args:  needArgs(0, "no positional arguments"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := openSandbox(dir)
			if err != nil {
				return err
			}
			if node == "" {
				return reauth.Usage("give --node NAME", "--node is required")
			}
			switch verb {
			case "restart-node":
				if f, ferr := cl.Fault(node); ferr == nil && f == sandbox.FaultIgnoreRestart {
					break // the simulated fault: a restart command that says it worked and did nothing
				}
				err = cl.RestartNode(c.Context(), node)
			case "stop-node":
				err = cl.StopNode(c.Context(), node)
			default:
				err = cl.StartNode(c.Context(), node)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(streams.Out, "%s %s\n", text.done, node)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "the sandbox directory (required)")
	cmd.Flags().StringVar(&node, "node", "", "the node (required)")
	return cmd
}

func newSandboxFaultCmd(streams IO) *cobra.Command {
	var dir, node string
	cmd := &cobra.Command{
		Use:   "fault --dir DIR --node NAME FAULT",
		Short: "Make a node misbehave: fail-next-start, hang-starting, ignore-restart, maintenance, error, keep-token-cache, pat-cache, or none",
		Long: `Make a node misbehave, to see how reauth copes:
  fail-next-start  the next start exits with an error while STARTING (once)
  hang-starting    every start stays STARTING (until the fault is cleared and the node restarted)
  ignore-restart   'sandbox restart-node' says it restarted the node but does nothing
  maintenance      the readiness endpoint says MAINTENANCE (at once)
  error            the readiness endpoint says ERROR (at once)
  keep-token-cache the node's remember-me cache survives its restarts: tokens deleted from the
                   table stay valid on that node (a cache kept outside the node's memory)
  pat-cache        the node keeps accepting a personal access token (Bitbucket: HTTP token) it
                   once accepted, after its row is deleted and across restarts
  none             clear the fault`,
		Args: needArgs(1, "the fault"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := openSandbox(dir)
			if err != nil {
				return err
			}
			f := sandbox.Fault(args[0])
			if args[0] == "none" {
				f = sandbox.FaultNone
			}
			if err := cl.SetFault(node, f); err != nil {
				return err
			}
			fmt.Fprintf(streams.Out, "%s: fault %s\n", node, args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "the sandbox directory (required)")
	cmd.Flags().StringVar(&node, "node", "", "the node (required)")
	return cmd
}

// newSandboxNodeCmd is the hidden `sandbox node`: one node in the foreground. Sandbox processes
// run it; people do not.
func newSandboxNodeCmd(streams IO) *cobra.Command {
	return &cobra.Command{
		Use:                "node --dir DIR --name NAME",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(c *cobra.Command, args []string) error {
			if code := sandbox.NodeMain(c.Context(), args, streams.Out, streams.Err); code != 0 {
				return Silent(reauth.WithCode(fmt.Errorf("sandbox node exited with %d", code), reauth.ExitCode(code)))
			}
			return nil
		},
	}
}
