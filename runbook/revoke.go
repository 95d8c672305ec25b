package runbook

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/apimode"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/audit"
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

// revokeTarget is what revoke checked before it changes anything: the product, its nodes, the
// admin credentials and the session API's answer.
type revokeTarget struct {
	ip     *inventory.Product
	pf     *inventory.Inventory // the file the product is written in: its paths and backup settings
	prod   atlassian.Product
	auth   apimode.Auth
	urls   []string
	client *http.Client
	sup    apimode.Support
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
	rt, err := revokeCheck(ctx, o, rep)
	if err != nil {
		return err
	}
	tables, err := openTables(ctx, &o.Options, rt.pf, rt.ip, rt.prod)
	if err != nil {
		return err
	}
	defer tables[0].store.Close()
	// The lock before the plan: what the plan counts is what is deleted, no other run in between.
	release, err := tables[0].store.Lock(ctx, "revoke")
	if err != nil {
		return err
	}
	defer release()
	plan, err := tables[0].store.Plan(ctx, sqlstore.PurgeOptions{Users: users})
	if err != nil {
		return err
	}
	rep.TokensToPurge = plan.ToDelete
	say := o.Err
	fmt.Fprintf(say, "%s %s at %s (%s): %s\n", rt.prod.Name, termsafe.Field(rt.sup.Version), termsafe.Field(rt.urls[0]), rt.auth, termsafe.Field(rt.sup.Why))
	fmt.Fprintf(say, "Plan: delete %d remember-me token(s) of %s (with a backup), then end their sessions on every node. No restart.\n",
		plan.ToDelete, termsafe.Field(strings.Join(users, ", ")))
	if o.DryRun {
		fmt.Fprintln(say, "Dry run: nothing was deleted, no session was ended.")
		return nil
	}
	return revokeExecute(ctx, o, rep, rt, tables, plan)
}

// revokeCheck finds the product and checks, before anything changes, that its session API is
// there and the inventory's admin credentials may use it.
func revokeCheck(ctx context.Context, o *RevokeOptions, rep *RevokeReport) (*revokeTarget, error) {
	inv := o.Inventory
	ip, err := inv.Pick(o.Product, "revoke")
	if err != nil {
		return nil, err
	}
	rep.Product = string(ip.ID)
	rt := &revokeTarget{ip: ip, pf: inv.FileOf(ip), client: &http.Client{Timeout: 30 * time.Second}}
	if rt.prod, err = atlassian.Lookup(string(ip.ID)); err != nil {
		return nil, reauth.Usage("", "%v", err)
	}
	if rt.prod.SessionAPI == "" {
		return nil, reauth.Refused(fmt.Sprintf("use 'reauth purge --product %s --user U' and then 'reauth restart --config %s'", ip.ID, rt.pf.Path),
			"%s has no REST endpoint that ends a user's sessions: revoke cannot do it without a restart", rt.prod.Name)
	}
	if rt.auth, err = apimode.AuthFrom(ip.Admin, o.Getenv); err != nil {
		return nil, err
	}
	if rt.auth.IsZero() {
		return nil, reauth.Usage("add to the product in the inventory: admin: {user: NAME, token_env: VAR} (a personal access token) or password_env",
			"revoke needs %s administrator credentials, and the inventory has none", rt.prod.Name)
	}
	for _, n := range ip.Nodes {
		rt.urls = append(rt.urls, n.URL)
	}
	if len(rt.urls) == 0 {
		return nil, reauth.Usage("list the product's nodes (with url) in the inventory", "%s has no node url to call", rt.prod.Name)
	}
	rt.sup, err = o.seams.sessions.Detect(ctx, rt.client, rt.prod, rt.urls[0], rt.auth)
	rep.Version = rt.sup.Version
	if err != nil {
		return nil, err
	}
	if !rt.sup.Supported {
		return nil, reauth.Refused("use 'reauth purge --user' and a rolling restart ('reauth restart') instead", "%s", rt.sup.Why)
	}
	return rt, nil
}

// revokeExecute asks, then deletes the users' rows of every token table into a backup each (the
// token table's first: once they are gone no browser can log itself back in while its session
// ends), then ends their sessions on every node.
func revokeExecute(ctx context.Context, o *RevokeOptions, rep *RevokeReport, rt *revokeTarget, tables []*tableRun, plan sqlstore.PurgePlan) error {
	users, say := rep.Users, o.Err
	rcpts, err := backupRecipients(rt.pf, rt.ip)
	if err != nil {
		return err
	}
	if len(rcpts) == 0 && rt.pf.Defaults.RequireEncryptedBackups {
		return reauth.Refused("add defaults.backup_recipients to the inventory", "the inventory requires encrypted backups and names no recipient; nothing was changed")
	}
	if err := askTyped(&o.Options, fmt.Sprintf("Type %q to delete %d token(s) and end the sessions of %d user(s): ",
		rt.ip.ID, plan.ToDelete, len(users)), string(rt.ip.ID)); err != nil {
		return err
	}
	if err := ensurePlaces(&o.Options, []*inventory.Inventory{rt.pf}); err != nil {
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
	path := filepath.Join(backupDir(&o.Options, rt.pf), fmt.Sprintf("reauth-revoke-%s-%s.jsonl.gz", rt.prod.ID, now.UTC().Format("20060102T150405.000Z")))
	rep.Backup = path
	for _, t := range tables {
		p := tableBackupPath(path, t.name)
		res, err := t.store.Purge(ctx, sqlstore.PurgeOptions{Users: users, BackupPath: p, ReauthVersion: o.Version, BackupRecipients: rcpts})
		if t.name == "" {
			rep.Deleted, rep.SHA256 = res.Deleted, res.SHA256
		}
		_ = alog.Step(string(rt.prod.ID), "revoke-"+purgeStepName(t), outcome(err), map[string]any{"users": users, "deleted": res.Deleted, "backup": p,
			"sha256": res.SHA256, "encrypted": len(rcpts) > 0})
		if err != nil {
			return err
		}
		if t.name == "" {
			fmt.Fprintf(say, "Deleted %d token(s); backup %s\n", res.Deleted, p)
		} else {
			fmt.Fprintf(say, "Deleted %d row(s) of %s; backup %s\n", res.Deleted, t.name, p)
		}
	}
	return revokeSessions(ctx, o, rep, rt, alog)
}

// revokeSessions ends the users' sessions on every node through the product's API.
func revokeSessions(ctx context.Context, o *RevokeOptions, rep *RevokeReport, rt *revokeTarget, alog *audit.Log) error {
	users := rep.Users
	res, err := o.seams.sessions.Invalidate(ctx, apimode.Options{Product: rt.prod, BaseURLs: rt.urls, Auth: rt.auth, Users: users, Client: rt.client,
		Concurrency: o.Concurrency, RatePerSec: o.RatePerSec})
	rep.Ended, rep.NotFound, rep.Failed, rep.NotDone, rep.Requests, rep.P99MS = res.Ended, res.NotFound, res.Failed, res.NotDone, res.Requests, res.P99MS
	_ = alog.Step(string(rt.prod.ID), "revoke-sessions", outcome(err), map[string]any{"users": users, "ended": res.Ended,
		"not_found": res.NotFound, "failed": len(res.Failed), "requests": res.Requests})
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Err, "Ended the sessions of %d user(s) on every node (%d request(s), p99 %.1f ms).\n", res.Ended, res.Requests, res.P99MS)
	if !o.Quiet {
		fmt.Fprintf(o.Out, "revoked %s: %d token(s) deleted (backup %s), sessions ended for %d user(s)\n",
			termsafe.Field(strings.Join(users, ", ")), rep.Deleted, rep.Backup, res.Ended)
	}
	if len(res.NotFound) > 0 {
		return reauth.Failed("check the spelling: the product knows no such user (the others were revoked)",
			"%s does not know user(s) %s", rt.prod.Name, strings.Join(res.NotFound, ", "))
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
