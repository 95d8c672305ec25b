package cli

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/apimode"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/inventory"
	"github.com/reauth/reauth/runbook"
	"github.com/reauth/reauth/sqlstore"
)

type revokeOptions struct {
	config      string
	product     string
	users       []string
	dryRun      bool
	yes         bool
	json        bool
	concurrency int
	rate        float64
	stateDir    string
	connect     time.Duration
}

// newRevokeCmd is `reauth revoke`: named users only (a compromised account), through the
// product's session API, without a restart.
func newRevokeCmd(streams IO) *cobra.Command {
	o := &revokeOptions{}
	c := &cobra.Command{
		Use:   "revoke --config FILE [--product P] --user U... [--dry-run] [--yes] [--json]",
		Short: "End the sessions of named users through the product's REST API, without a restart",
		Long: `revoke logs named users out everywhere, at once and without downtime: for a compromised account.

  1. check    the product's version through REST with the inventory's admin credentials
              (admin: {user, token_env|token_file|password_env|password_file}); the product must
              have a cluster-wide session endpoint: Jira 9.11+ or Bamboo 9.4+. Wrong credentials
              or an unsupported product: exit 4, nothing changed.
  2. lock     take the database's run lock (no other reauth run in between), then show the plan
  3. confirm  type the product name, or pass --yes (scripts, after a --dry-run)
  4. purge    delete the users' remember-me tokens, every row first written to a backup file
  5. end      DELETE the users' sessions through the product's API; it ends them on every node

Every step is a line in the audit log (defaults.audit_log, else the state directory's audit.jsonl).
A user the product does not know is reported and makes the exit code 1. Products without the
endpoint (Confluence, Bitbucket, Jira before 9.11): use 'reauth purge --user U' and a restart.`,
		Example: `  reauth revoke --config reauth.yaml --product jira --user jsmith
  reauth revoke --config reauth.yaml --user jsmith --user jdoe --dry-run
  reauth revoke --config reauth.yaml --user jsmith --yes --json`,
		Args: needArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, args []string) error {
			return runRevoke(c.Context(), streams, o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.config, "config", "", "the inventory file (reauth.yaml)")
	f.StringVar(&o.stateDir, "state-dir", "", "reauth's private directory for the backup and audit log the inventory does not place (default $XDG_STATE_HOME/reauth, else ~/.local/state/reauth)")
	f.StringVar(&o.product, "product", "", "the product of the inventory (needed when it has several)")
	f.StringArrayVar(&o.users, "user", nil, "a user whose sessions to end (repeat for several)")
	f.BoolVar(&o.dryRun, "dry-run", false, "check credentials and show the plan; change nothing")
	f.BoolVar(&o.yes, "yes", false, "do not ask for confirmation (scripts; check the plan with --dry-run first)")
	f.BoolVar(&o.json, "json", false, "print one JSON object with the result on stdout")
	f.IntVar(&o.concurrency, "concurrency", 8, "API calls in flight at once")
	addConnectTimeout(f, &o.connect)
	f.Float64Var(&o.rate, "rate", 0, "at most this many API calls per second (0: no limit)")
	_ = c.MarkFlagRequired("config")
	return c
}

func runRevoke(ctx context.Context, streams IO, o *revokeOptions) error {
	rep, err := revoke(ctx, streams, o)
	if o.json {
		if jerr := writeJSON(streams.Out, rep); jerr != nil {
			return jerr
		}
	}
	return err
}

func revoke(ctx context.Context, streams IO, o *revokeOptions) (*runbook.RevokeReport, error) {
	failed := func(err error) (*runbook.RevokeReport, error) {
		return &runbook.RevokeReport{DryRun: o.dryRun, Users: o.users, NotFound: []string{}, Failed: []apimode.UserFailure{},
			NotDone: []string{}, Error: err.Error()}, err
	}
	inv, err := loadInventory([]string{o.config})
	if err != nil {
		return failed(err)
	}
	if err := checkConnectTimeout("revoke", o.connect); err != nil {
		return failed(err)
	}
	ro := runbook.RevokeOptions{Options: runbookOptions(streams, inv, o.json), Product: o.product, Users: o.users,
		Concurrency: o.concurrency, RatePerSec: o.rate, Version: Version}
	ro.DryRun, ro.Yes, ro.ConnectTimeout = o.dryRun, o.yes, o.connect
	if ro.StateDir, err = reauth.ResolveStateDir(o.stateDir, streams.getenv); err != nil {
		return failed(err)
	}
	return runbook.Revoke(ctx, ro)
}

// openInventoryStore opens the product's token table from the inventory, as reauth run does.
func openInventoryStore(ctx context.Context, streams IO, inv *inventory.Inventory, ip *inventory.Product, prod atlassian.Product,
	connectTimeout time.Duration) (*sqlstore.Store, error) {
	st, _, err := runbook.OpenStoreTimeout(ctx, inv, ip, prod, streams.getenv, streams.ReadPassword, connectTimeout)
	return st, err
}
