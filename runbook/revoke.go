package runbook

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/apimode"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/audit"
	"github.com/reauth/reauth/backup"
	"github.com/reauth/reauth/internal/termsafe"
	"github.com/reauth/reauth/inventory"
	"github.com/reauth/reauth/sqlstore"
)

// RevokeOptions say whose sessions to end: named users of one product, through its session API,
// without a restart (a compromised account).
type RevokeOptions struct {
	Options            // the inventory, DryRun, Yes, Confirm, StateDir, Getenv, Prompt, Now, Out/Err, ConnectTimeout
	Product     string // the inventory's product ("" when it has one)
	Users       []string
	Concurrency int     // API calls in flight (0: apimode's default)
	RatePerSec  float64 // at most this many API calls per second (0: no limit)
	Version     string  // reauth's version, written into the backup's manifest
}

// RevokeReport is what `revoke --json` prints. Its JSON names are part of the CLI contract.
type RevokeReport struct {
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

// Revoke ends the named users' sessions: it checks the product's session API and the admin
// credentials, takes the database's run lock, shows the plan, asks (or takes --yes), deletes the
// users' remember-me tokens into a backup, then ends their sessions on every node. The lock is
// held from before the plan to the end, as in Run. The report is filled in as far as it got.
func Revoke(ctx context.Context, o RevokeOptions) (*RevokeReport, error) {
	o.defaults()
	rep := &RevokeReport{DryRun: o.DryRun, NotFound: []string{}, Failed: []apimode.UserFailure{}, NotDone: []string{}}
	err := revoke(ctx, &o, rep)
	if err != nil {
		rep.Error = err.Error()
	}
	return rep, err
}

func revoke(ctx context.Context, o *RevokeOptions, rep *RevokeReport) error {
	users, err := RevokeUsers(o.Users)
	if err != nil {
		return err
	}
	rep.Users = users
	if err := o.resolveStateDir(); err != nil {
		return err
	}
	inv := o.Inventory
	ip, err := inv.Pick(o.Product, "revoke")
	if err != nil {
		return err
	}
	rep.Product = string(ip.ID)
	pf := inv.FileOf(ip) // the file the product is written in: its paths and backup settings
	prod, err := atlassian.Lookup(string(ip.ID))
	if err != nil {
		return reauth.Usage("", "%v", err)
	}
	if prod.SessionAPI == "" {
		return reauth.Refused(fmt.Sprintf("use 'reauth purge --product %s --user U' and then 'reauth restart --config %s'", ip.ID, pf.Path),
			"%s has no REST endpoint that ends a user's sessions: revoke cannot do it without a restart", prod.Name)
	}
	auth, err := apimode.AuthFrom(ip.Admin, o.Getenv)
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

	st, _, err := OpenStoreTimeout(ctx, pf, ip, prod, o.Getenv, o.Prompt, o.ConnectTimeout)
	if err != nil {
		return err
	}
	defer st.Close()
	// The lock before the plan: what the plan counts is what is deleted, no other run in between.
	release, err := st.Lock(ctx, "revoke")
	if err != nil {
		return err
	}
	defer release()
	plan, err := st.Plan(ctx, sqlstore.PurgeOptions{Users: users})
	if err != nil {
		return err
	}
	rep.TokensToPurge = plan.ToDelete
	say := o.Err
	fmt.Fprintf(say, "%s %s at %s (%s): %s\n", prod.Name, termsafe.Field(sup.Version), termsafe.Field(urls[0]), auth, termsafe.Field(sup.Why))
	fmt.Fprintf(say, "Plan: delete %d remember-me token(s) of %s (with a backup), then end their sessions on every node. No restart.\n",
		plan.ToDelete, termsafe.Field(strings.Join(users, ", ")))
	if o.DryRun {
		fmt.Fprintln(say, "Dry run: nothing was deleted, no session was ended.")
		return nil
	}

	rcpts, err := backup.ParseRecipientValues(append(append([]string(nil), pf.Defaults.BackupRecipients...), ip.BackupRecipients...), pf.Resolve)
	if err != nil {
		return reauth.Usage("backup_recipients lists age or SSH public keys, or recipients files", "backup_recipients: %v", err)
	}
	if len(rcpts) == 0 && pf.Defaults.RequireEncryptedBackups {
		return reauth.Refused("add defaults.backup_recipients to the inventory", "the inventory requires encrypted backups and names no recipient; nothing was changed")
	}
	if err := askTyped(&o.Options, fmt.Sprintf("Type %q to delete %d token(s) and end the sessions of %d user(s): ",
		ip.ID, plan.ToDelete, len(users)), string(ip.ID)); err != nil {
		return err
	}
	if err := ensurePlaces(&o.Options, []*inventory.Inventory{pf}); err != nil {
		return err
	}
	now := o.Now()
	logPath := auditLogPath(&o.Options)
	alog, err := audit.Open(logPath, "revoke-"+now.UTC().Format("20060102T150405.000Z"), o.Now)
	if err != nil {
		return reauth.Refused("check that the audit log's directory is writable, or set defaults.audit_log in the inventory", "%v", err)
	}
	defer alog.Close()
	rep.AuditLog = logPath
	path := filepath.Join(backupDir(&o.Options, pf), fmt.Sprintf("reauth-revoke-%s-%s.jsonl.gz", prod.ID, now.UTC().Format("20060102T150405.000Z")))
	// Tokens first: once they are gone no browser can log itself back in while its session ends.
	pres, err := st.Purge(ctx, sqlstore.PurgeOptions{Users: users, BackupPath: path, ReauthVersion: o.Version, BackupRecipients: rcpts})
	rep.Deleted, rep.Backup, rep.SHA256 = pres.Deleted, path, pres.SHA256
	_ = alog.Step(string(prod.ID), "revoke-purge", outcome(err), map[string]any{"users": users, "deleted": pres.Deleted, "backup": path, "sha256": pres.SHA256,
		"encrypted": len(rcpts) > 0})
	if err != nil {
		return err
	}
	fmt.Fprintf(say, "Deleted %d token(s); backup %s\n", pres.Deleted, path)
	if err := revokeCompanion(ctx, st, string(prod.ID), users, path, o.Version, rcpts, alog, say); err != nil {
		return err
	}

	res, err := apimode.Invalidate(ctx, apimode.Options{Product: prod, BaseURLs: urls, Auth: auth, Users: users, Client: client,
		Concurrency: o.Concurrency, RatePerSec: o.RatePerSec})
	rep.Ended, rep.NotFound, rep.Failed, rep.NotDone, rep.Requests, rep.P99MS = res.Ended, res.NotFound, res.Failed, res.NotDone, res.Requests, res.P99MS
	_ = alog.Step(string(prod.ID), "revoke-sessions", outcome(err), map[string]any{"users": users, "ended": res.Ended,
		"not_found": res.NotFound, "failed": len(res.Failed), "requests": res.Requests})
	if err != nil {
		return err
	}
	fmt.Fprintf(say, "Ended the sessions of %d user(s) on every node (%d request(s), p99 %.1f ms).\n", res.Ended, res.Requests, res.P99MS)
	if !o.Quiet {
		fmt.Fprintf(o.Out, "revoked %s: %d token(s) deleted (backup %s), sessions ended for %d user(s)\n",
			termsafe.Field(strings.Join(users, ", ")), pres.Deleted, path, res.Ended)
	}
	if len(res.NotFound) > 0 {
		return reauth.Failed("check the spelling: the product knows no such user (the others were revoked)",
			"%s does not know user(s) %s", prod.Name, strings.Join(res.NotFound, ", "))
	}
	return nil
}

// RevokeUsers checks and de-duplicates the named users (case-insensitively, as the products do).
func RevokeUsers(in []string) ([]string, error) {
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

// revokeCompanion deletes the users' rows of the product's second token table (Crowd's
// cwd_remember_me_token: a remember-me cookie would start a new SSO session), into their own backup.
func revokeCompanion(ctx context.Context, st *sqlstore.Store, product string, users []string, path, version string, rcpts []backup.Recipient,
	alog *audit.Log, say io.Writer) error {
	c, ok, err := st.Companion(ctx)
	if err != nil || !ok {
		return err
	}
	table := c.Table().Name
	cpath := strings.TrimSuffix(path, ".jsonl.gz") + "-" + table + ".jsonl.gz"
	res, err := c.Purge(ctx, sqlstore.PurgeOptions{Users: users, BackupPath: cpath, ReauthVersion: version, BackupRecipients: rcpts})
	_ = alog.Step(product, "revoke-purge-"+table, outcome(err), map[string]any{"users": users, "deleted": res.Deleted, "backup": cpath, "sha256": res.SHA256,
		"encrypted": len(rcpts) > 0})
	if err != nil {
		return err
	}
	fmt.Fprintf(say, "Deleted %d row(s) of %s; backup %s\n", res.Deleted, table, cpath)
	return nil
}
