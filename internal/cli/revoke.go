package cli

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/apimode"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/audit"
	"github.com/reauth/reauth/backup"
	"github.com/reauth/reauth/internal/termsafe"
	"github.com/reauth/reauth/inventory"
	"github.com/reauth/reauth/runbook"
	"github.com/reauth/reauth/sqlstore"
)

type revokeOptions struct {
	config      string
	product     string
	users       []string
	dryRun      bool
	json        bool
	concurrency int
	rate        float64
	stateDir    string
	connect     time.Duration
}

// revokeReport is what `revoke --json` prints.
type revokeReport struct {
	Product       string                `json:"product"`
	Version       string                `json:"version,omitempty"`
	Users         []string              `json:"users"`
	DryRun        bool                  `json:"dry_run"`
	TokensToPurge int64                 `json:"tokens_to_delete"`
	Deleted       int64                 `json:"deleted"`
	Backup        string                `json:"backup,omitempty"`
	SHA256        string                `json:"sha256,omitempty"`
	Ended         int                   `json:"ended"`
	NotFound      []string              `json:"not_found"`
	Failed        []apimode.UserFailure `json:"failed"`
	NotDone       []string              `json:"not_done"`
	Requests      int                   `json:"requests"`
	P99MS         float64               `json:"p99_ms"`
	AuditLog      string                `json:"audit_log,omitempty"`
	Error         string                `json:"error,omitempty"`
}

// newRevokeCmd is `reauth revoke`: named users only (a compromised account), through the
// product's session API, without a restart.
func newRevokeCmd(streams IO) *cobra.Command {
	o := &revokeOptions{}
	c := &cobra.Command{
		Use:   "revoke --config FILE [--product P] --user U... [--dry-run] [--json]",
		Short: "End the sessions of named users through the product's REST API, without a restart",
		Long: `revoke logs named users out everywhere, at once and without downtime: for a compromised account.

  1. check    the product's version through REST with the inventory's admin credentials
              (admin: {user, token_env|token_file|password_env|password_file}); the product must
              have a cluster-wide session endpoint: Jira 9.11+ or Bamboo 9.4+. Wrong credentials
              or an unsupported product: exit 4, nothing changed.
  2. purge    delete the users' remember-me tokens, every row first written to a backup file
  3. end      DELETE the users' sessions through the product's API; it ends them on every node

The users' names are the scope: there is no confirmation prompt (use --dry-run to see the plan).
A user the product does not know is reported and makes the exit code 1. Products without the
endpoint (Confluence, Bitbucket, Jira before 9.11): use 'reauth purge --user U' and a restart.`,
		Example: `  reauth revoke --config reauth.yaml --product jira --user jsmith
  reauth revoke --config reauth.yaml --user jsmith --user jdoe --dry-run`,
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
	f.BoolVar(&o.json, "json", false, "print one JSON object with the result on stdout")
	f.IntVar(&o.concurrency, "concurrency", 8, "API calls in flight at once")
	addConnectTimeout(f, &o.connect)
	f.Float64Var(&o.rate, "rate", 0, "at most this many API calls per second (0: no limit)")
	_ = c.MarkFlagRequired("config")
	return c
}

func runRevoke(ctx context.Context, streams IO, o *revokeOptions) error {
	rep := &revokeReport{DryRun: o.dryRun, NotFound: []string{}, Failed: []apimode.UserFailure{}, NotDone: []string{}}
	err := revoke(ctx, streams, o, rep)
	if err != nil {
		rep.Error = err.Error()
	}
	if o.json {
		if jerr := writeJSON(streams.Out, rep); jerr != nil {
			return jerr
		}
	}
	return err
}

func revoke(ctx context.Context, streams IO, o *revokeOptions, rep *revokeReport) error {
	users, err := revokeUsers(o.users)
	if err != nil {
		return err
	}
	rep.Users = users
	if o.config == "" {
		return reauth.Usage("pass --config reauth.yaml", "--config is required")
	}
	inv, err := inventory.Load(o.config)
	if err != nil {
		return err
	}
	ip, err := inv.Pick(o.product, "revoke")
	if err != nil {
		return err
	}
	rep.Product = string(ip.ID)
	prod, err := atlassian.Lookup(string(ip.ID))
	if err != nil {
		return reauth.Usage("", "%v", err)
	}
	if prod.SessionAPI == "" {
		return reauth.Refused(fmt.Sprintf("use 'reauth purge --product %s --user U' and then 'reauth restart --config %s'", ip.ID, o.config),
			"%s has no REST endpoint that ends a user's sessions: revoke cannot do it without a restart", prod.Name)
	}
	auth, err := apimode.AuthFrom(ip.Admin, streams.getenv)
	if err != nil {
		return err
	}
	if auth.IsZero() {
		return reauth.Usage("add to the product in the inventory: admin: {user: NAME, token_env: VAR} (a personal access token) or password_env",
			"revoke needs %s administrator credentials, and the inventory has none", prod.Name)
	}
	var urls []string
	for _, n := range ip.Nodes {
		urls = append(urls, n.URL)
	}
	if len(urls) == 0 {
		return reauth.Usage("list the product's nodes (with url) in the inventory", "%s has no node url to call", prod.Name)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	sup, err := apimode.Detect(ctx, client, prod, urls[0], auth)
	rep.Version = sup.Version
	if err != nil {
		return err
	}
	if !sup.Supported {
		return reauth.Refused("use 'reauth purge --user' and a rolling restart ('reauth restart') instead", "%s", sup.Why)
	}

	if err := checkConnectTimeout("revoke", o.connect); err != nil {
		return err
	}
	st, err := openInventoryStore(ctx, streams, inv, ip, prod, o.connect)
	if err != nil {
		return err
	}
	defer st.Close()
	plan, err := st.Plan(ctx, sqlstore.PurgeOptions{Users: users})
	if err != nil {
		return err
	}
	rep.TokensToPurge = plan.ToDelete
	say := streams.Err
	fmt.Fprintf(say, "%s %s at %s (%s): %s\n", prod.Name, termsafe.Field(sup.Version), termsafe.Field(urls[0]), auth, termsafe.Field(sup.Why))
	fmt.Fprintf(say, "Plan: delete %d remember-me token(s) of %s (with a backup), then end their sessions on every node. No restart.\n",
		plan.ToDelete, termsafe.Field(strings.Join(users, ", ")))
	if o.dryRun {
		fmt.Fprintln(say, "Dry run: nothing was deleted, no session was ended.")
		return nil
	}

	release, err := st.Lock(ctx, "revoke")
	if err != nil {
		return err
	}
	defer release()
	now := streams.now()
	// Where files go when the inventory does not say: reauth's private state directory (0700).
	state := func(sub ...string) (string, error) {
		sd, err := reauth.ResolveStateDir(o.stateDir, streams.getenv)
		if err != nil {
			return "", err
		}
		return sd.Ensure(sub...)
	}
	logPath := inv.Resolve(inv.Defaults.AuditLog)
	if logPath == "" {
		dir, err := state()
		if err != nil {
			return err
		}
		logPath = filepath.Join(dir, "audit.jsonl")
	}
	alog, err := audit.Open(logPath, "revoke-"+now.UTC().Format("20060102T150405.000Z"), streams.Now)
	if err != nil {
		return reauth.Refused("check that the audit log's directory is writable, or set defaults.audit_log in the inventory", "%v", err)
	}
	defer alog.Close()
	rep.AuditLog = logPath
	dir := inv.Resolve(inv.Defaults.BackupDir)
	if dir == "" {
		if dir, err = state("backups"); err != nil {
			return err
		}
	}
	rcpts, err := backup.ParseRecipientValues(append(append([]string(nil), inv.Defaults.BackupRecipients...), ip.BackupRecipients...), inv.Resolve)
	if err != nil {
		return reauth.Usage("backup_recipients lists age or SSH public keys, or recipients files", "backup_recipients: %v", err)
	}
	if len(rcpts) == 0 && inv.Defaults.RequireEncryptedBackups {
		return reauth.Refused("add defaults.backup_recipients to the inventory", "the inventory requires encrypted backups and names no recipient; nothing was changed")
	}
	path := filepath.Join(dir, fmt.Sprintf("reauth-revoke-%s-%s.jsonl.gz", prod.ID, now.UTC().Format("20060102T150405.000Z")))
	// Tokens first: once they are gone no browser can log itself back in while its session ends.
	pres, err := st.Purge(ctx, sqlstore.PurgeOptions{Users: users, BackupPath: path, ReauthVersion: Version, BackupRecipients: rcpts})
	rep.Deleted, rep.Backup, rep.SHA256 = pres.Deleted, path, pres.SHA256
	_ = alog.Step(string(prod.ID), "revoke-purge", outcome(err), map[string]any{"users": users, "deleted": pres.Deleted, "backup": path, "sha256": pres.SHA256})
	if err != nil {
		return err
	}
	fmt.Fprintf(say, "Deleted %d token(s); backup %s\n", pres.Deleted, path)

	res, err := apimode.Invalidate(ctx, apimode.Options{Product: prod, BaseURLs: urls, Auth: auth, Users: users, Client: client,
		Concurrency: o.concurrency, RatePerSec: o.rate})
	rep.Ended, rep.NotFound, rep.Failed, rep.NotDone, rep.Requests, rep.P99MS = res.Ended, res.NotFound, res.Failed, res.NotDone, res.Requests, res.P99MS
	_ = alog.Step(string(prod.ID), "revoke-sessions", outcome(err), map[string]any{"users": users, "ended": res.Ended,
		"not_found": res.NotFound, "failed": len(res.Failed), "requests": res.Requests})
	if err != nil {
		return err
	}
	fmt.Fprintf(say, "Ended the sessions of %d user(s) on every node (%d request(s), p99 %.1f ms).\n", res.Ended, res.Requests, res.P99MS)
	if !o.json {
		fmt.Fprintf(streams.Out, "revoked %s: %d token(s) deleted (backup %s), sessions ended for %d user(s)\n",
			termsafe.Field(strings.Join(users, ", ")), pres.Deleted, path, res.Ended)
	}
	if len(res.NotFound) > 0 {
		return reauth.Failed("check the spelling: the product knows no such user (the others were revoked)",
			"%s does not know user(s) %s", prod.Name, strings.Join(res.NotFound, ", "))
	}
	return nil
}

func outcome(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}

// revokeUsers checks and de-duplicates the --user names (case-insensitively, as the products do).
func revokeUsers(in []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, u := range in {
		u = strings.TrimSpace(u)
		if u == "" {
			return nil, reauth.Usage("give each user with --user NAME", "--user: empty user name")
		}
		if k := strings.ToLower(u); !seen[k] {
			seen[k] = true
			out = append(out, u)
		}
	}
	if len(out) == 0 {
		return nil, reauth.Usage("name the user(s) with --user NAME (repeat for several)", "revoke: no user given")
	}
	return out, nil
}

// openInventoryStore opens the product's token table from the inventory, as reauth run does.
func openInventoryStore(ctx context.Context, streams IO, inv *inventory.Inventory, ip *inventory.Product, prod atlassian.Product,
	connectTimeout time.Duration) (*sqlstore.Store, error) {
	st, _, err := runbook.OpenStoreTimeout(ctx, inv, ip, prod, streams.getenv, streams.ReadPassword, connectTimeout)
	return st, err
}
