package runbook

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/audit"
	"github.com/reauth/reauth/backup"
	"github.com/reauth/reauth/internal/liveview"
	"github.com/reauth/reauth/inventory"
	"github.com/reauth/reauth/rollout"
	"github.com/reauth/reauth/rollout/methods"
	"github.com/reauth/reauth/sqlstore"
)

// Product statuses in a report.
const (
	StatusPlanned    = "planned"
	StatusDone       = "done"
	StatusFailed     = "failed"
	StatusNotStarted = "not started"
	StatusSkipped    = "skipped (done in an earlier run)"
)

// ProductReport is what happened to one product.
type ProductReport struct {
	Product        string               `json:"product"`
	Status         string               `json:"status"`
	Database       string               `json:"database"`
	Table          string               `json:"table"`
	CutoffID       int64                `json:"cutoff_id"`
	ToDelete       int64                `json:"to_delete"`
	Deleted        int64                `json:"deleted"`
	Kept           int64                `json:"kept"`
	Excluded       []string             `json:"excluded_users"`
	Backups        []string             `json:"backups"`
	SHA256         []string             `json:"sha256"`       // one per backup, in order
	BackupFiles    []backup.Part        `json:"backup_files"` // each backup's rows, digest, complete or cut short
	NodesRestarted int                  `json:"nodes_restarted"`
	Nodes          []rollout.NodeResult `json:"nodes"`
	Mode           ModeReport           `json:"mode"`
	Verify         VerifyReport         `json:"verify"`
	Backup         BackupReport         `json:"backup"`
	Warnings       []string             `json:"warnings,omitempty"`
	Error          string               `json:"error,omitempty"`
	// ExitCode is how this product's part of the run ended (the run exits with the most severe).
	ExitCode int `json:"exit_code"`
	// Companion is the product's second token table (Crowd's cwd_remember_me_token), if any.
	Companion *CompanionReport `json:"companion,omitempty"`
	// SSO: this application signs its users in through Crowd SSO, and whether the run covers it.
	SSO *SSOReport `json:"sso,omitempty"`
	// IdP: SSO for Atlassian Data Center is on (or could not be read): the identity provider, the
	// call that ends its sessions, and the inventory idp hook's outcome.
	IdP *IdPReport `json:"idp,omitempty"`
	// Credentials counts, by kind, the personal access tokens, HTTP access tokens, OAuth 2.0
	// tokens and SSH keys the product holds: they outlive the run (`reauth credentials` lists them).
	Credentials []sqlstore.KindCount `json:"credentials,omitempty"`
	// RestartStrategy is "rolling" or "full" (restart mode only).
	RestartStrategy string `json:"restart_strategy,omitempty"`
	// Exposure is the restart's exposure window: planned (waves, estimate) and measured.
	Exposure *ExposureReport `json:"exposure,omitempty"`
	// Sessions says where the product keeps HTTP sessions beyond each node's memory, where reauth
	// checked (Bitbucket's hazelcast.http.sessions), and where that was read.
	Sessions string `json:"sessions,omitempty"`
	// SessionFiles lists, per node, the persisted-session files (SESSIONS.ser) the run removes
	// while the node is down (--clear-persisted-sessions).
	SessionFiles map[string][]string `json:"session_files,omitempty"`
	// SkippedNodes are the nodes left out with --skip-node, and why.
	SkippedNodes []rollout.SkippedNode `json:"skipped_nodes,omitempty"`
	// Routes says, per node, how reauth reaches it when that is more than its URL (ssh: the
	// resolved user@host:port and jump hosts, "ops@10.0.2.12:22 via bastion").
	Routes map[string]string `json:"routes,omitempty"`
}

// unit is one product's run. Its state is kept by step, each beside the step's code: the token
// table and its lock (tables, purge.go), the nodes and their restart (nodes, restart.go), how its
// sessions end (sessionEnding, ender.go) and the proof's cookies (proofState, proof.go).
type unit struct {
	o       *Options
	name    string // the product as the run names it: its id, or id@inventory when one id is there twice
	sched   *scheduler
	view    *liveview.View
	err     error // how its run ended
	inv     *inventory.Product
	prod    atlassian.Product
	ssoApps []string // Crowd: the applications of this run that trust its SSO (it goes first)
	journal *Journal
	resumed bool
	audit   *audit.Log
	report  ProductReport

	tables
	nodes
	sessionEnding
	proofState
}

func (u *unit) close() {
	if u.unlock != nil {
		if err := u.unlock(); err != nil {
			fmt.Fprintf(u.o.Err, "warning: %s: release the run lock: %v\n", u.name, err)
		}
	}
	if u.store != nil {
		u.store.Close()
	}
	if u.closePlan != nil {
		u.closePlan()
	}
}

// selected reports whether the operator asked for the product, by its name or its id (all when
// none named).
func selected(o Options, ip *inventory.Product) bool {
	if len(o.Products) == 0 {
		return true
	}
	for _, p := range o.Products {
		if strings.EqualFold(p, ip.Label()) || strings.EqualFold(p, string(ip.ID)) {
			return true
		}
	}
	return false
}

// file is the inventory file the product is written in: its relative paths and defaults.
func (u *unit) file() *inventory.Inventory { return u.o.Inventory.FileOf(u.inv) }

// prepareAll discovers every product: database, token table, nodes and restart methods. It only
// reads. The first product that cannot be discovered stops everything (nothing has changed).
func prepareAll(ctx context.Context, o Options) ([]*unit, error) {
	var units []*unit
	for i := range o.Inventory.Products {
		ip := &o.Inventory.Products[i]
		if !selected(o, ip) {
			continue
		}
		u := &unit{o: &o, inv: ip, name: ip.Label()}
		units = append(units, u)
		if err := u.prepare(ctx); err != nil {
			return units, fmt.Errorf("%s: %w", ip.Label(), err)
		}
	}
	if len(units) == 0 {
		return nil, reauth.Usage("name products that are in the inventory", "no product of the inventory was selected")
	}
	if err := checkSkips(o, units); err != nil {
		return units, err
	}
	linkSSO(ctx, units)
	units = orderUnits(units)
	if o.Resume && !o.verifyOnly {
		if err := resumeRunID(&o, units); err != nil {
			return units, err
		}
	}
	return units, nil
}

func (u *unit) prepare(ctx context.Context) error {
	o, ip := u.o, u.inv
	prod, err := methods.Product(ip)
	if err != nil {
		return err
	}
	u.prod = prod
	u.report = ProductReport{Product: u.name, Status: StatusPlanned, Excluded: ip.ExcludeUsers}
	// Ctrl-C has no safe point to wait for while connecting: the first one stops the connect.
	cctx, cancel := o.Stop.Context(ctx)
	st, db, err := o.seams.open(cctx, u.file(), ip, prod, o)
	cancel()
	if err != nil {
		return err
	}
	u.db, u.store = db, st
	if err := u.backupRecipients(); err != nil {
		return err
	}
	u.report.Database = db.String()
	u.report.Table = st.Table().Name
	if err := u.openFurtherTables(ctx); err != nil {
		return err
	}
	if ip.Canary != nil && !o.verifyOnly { // verify replays cookies; it logs nobody in
		if u.canary, err = ip.Canary.Password.Resolve(o.Getenv); err != nil {
			return reauth.Usage("set the canary's password_env or password_file", "canary %s: %v", ip.Canary.User, err)
		}
	}
	if o.CookiesFile != "" {
		if u.jar, err = loadJar(o.CookiesFile, prod); err != nil {
			return err
		}
	}
	u.rplan, u.closePlan, err = methods.Plan(ctx, u.file(), ip, o.Getenv)
	if err != nil {
		return err
	}
	u.report.Warnings = append(u.report.Warnings, u.rplan.Warnings...)
	if err := u.skipNodes(); err != nil {
		return err
	}
	u.noteRoutes()
	u.ropts = rolloutOptions(o, ip, u)
	jp := journalPath(o, ip)
	j, ok, err := loadJournal(jp)
	if err != nil {
		return reauth.Refused("pass --state-dir DIR naming a private directory you can write to (it holds the journals)", "%v", err)
	}
	switch {
	case ok && o.verifyOnly:
		u.journal = j
	case ok && j.Phase != PhaseDone && !o.Resume:
		return reauth.Refused(fmt.Sprintf("continue it with --resume (it will not purge twice), or move %s aside after checking its backups", jp),
			"a previous run (%s) stopped in phase %q", j.RunID, j.Phase)
	case ok && o.Resume:
		u.journal, u.resumed = j, true
	default:
		u.journal = &Journal{path: jp, Product: string(ip.ID)}
	}
	u.readIdP(ctx)
	return nil
}

// preflightHeader heads the list of preflight problems: said once, whoever found them.
const preflightHeader = "preflight failed, nothing was changed:"

// preflightAll checks every product before anything changes (the products at once) and reports
// every problem at once, in the products' order.
func preflightAll(ctx context.Context, o Options, units []*unit) error {
	problems := placeProblems(&o, units)
	code := reauth.ExitRefused
	errs := eachUnit(units, func(u *unit) error {
		if u.resumed && u.journal.Phase == PhaseDone {
			return nil
		}
		return u.preflight(ctx)
	})
	for i, u := range units {
		if err := errs[i]; err != nil {
			// One header for the run: a product's own "preflight failed" list goes under its name.
			msg := strings.TrimPrefix(err.Error(), preflightHeader)
			if msg != err.Error() {
				msg = strings.ReplaceAll(strings.TrimPrefix(msg, "\n  "), "\n  ", "\n    ")
			}
			problems = append(problems, fmt.Sprintf("%s: %s", u.name, msg))
			if reauth.CodeOf(err) == reauth.ExitLocked {
				code = reauth.ExitLocked
			}
			if h := reauth.HintOf(err); h != "" {
				problems = append(problems, "  hint: "+h)
			}
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return &reauth.Error{Code: code, Err: errors.New(preflightHeader + "\n  " + strings.Join(problems, "\n  "))}
}

func (u *unit) preflight(ctx context.Context) error {
	// The lock is taken here and held until the report: no other run can slip in between the
	// plan the operator confirms and the purge it describes.
	release, err := u.store.Lock(ctx, "reauth run "+u.o.runID)
	if err != nil && u.o.DryRun && reauth.CodeOf(err) == reauth.ExitLocked {
		// A dry run only reads: a colleague's run (at its prompt, say) does not stop it, and
		// the plan it prints is what this run would do once the lock is free.
		warn := fmt.Sprintf("%v; this dry run carries on read-only (a real run now would stop with exit 5)", err)
		u.report.Warnings = append(u.report.Warnings, warn)
		fmt.Fprintf(u.o.Err, "warning: %s: %s\n", u.name, warn)
		release, err = func() error { return nil }, nil
	}
	if err != nil {
		return err
	}
	u.unlock = release
	u.lockPhase(ctx, "preflight")
	if err := u.store.CheckDeleteRights(ctx); err != nil {
		return err
	}
	if err := u.checkExcluded(ctx); err != nil {
		return err
	}
	if err := u.chooseMode(ctx); err != nil {
		return err
	}
	return u.ending().preflight(ctx, u)
}

// plan counts what the purge will delete (or, on resume, what it still has to).
func (u *unit) plan(ctx context.Context) error {
	if u.resumed && u.journal.Phase == PhaseDone {
		u.report.Status = StatusSkipped
		return nil
	}
	var p sqlstore.PurgePlan // a table empty at its cut-off: nothing to plan
	if po, ok := u.cutoff(&u.journal.TableState).options(sqlstore.PurgeOptions{ExcludeUsers: u.inv.ExcludeUsers}); ok {
		var err error
		if p, err = u.store.Plan(ctx, po); err != nil {
			return fmt.Errorf("%s: plan the purge: %w", u.name, err)
		}
	}
	u.purge = p
	u.report.CutoffID, u.report.ToDelete = p.CutoffID, p.ToDelete
	if err := u.planFurther(ctx, false); err != nil {
		return err
	}
	return u.ending().count(ctx, u)
}

func confirmAll(o Options, units []*unit) error {
	for _, u := range units {
		if u.report.Status == StatusSkipped {
			continue
		}
		u.lockPhase(context.Background(), "awaiting confirmation")
		err := askTyped(&o, fmt.Sprintf("Type %q to purge %d token(s) and %s of %s: ",
			u.name, u.purge.ToDelete, u.ending().what(u), u.prod.Name), u.name)
		if err != nil {
			return err
		}
	}
	return nil
}

// askTyped is the confirmation before a change: nil with --yes, else the operator must type
// expect on the terminal; without one, or with another answer, nothing is changed.
func askTyped(o *Options, prompt, expect string) error {
	if o.Yes {
		return nil
	}
	if o.Confirm == nil {
		return reauth.Refused("run it on a terminal to confirm, or pass --yes in scripts (after a --dry-run)",
			"refusing to change anything without confirmation; nothing was changed")
	}
	ok, err := o.Confirm(prompt, expect)
	if err != nil {
		return err
	}
	if !ok {
		return reauth.Refused("", "not confirmed: nothing was changed")
	}
	return nil
}

func ms(d time.Duration) int64 { return d.Milliseconds() }

// lockNoter is a token store that can say, beside its run lock, what the holder is doing.
type lockNoter interface {
	LockNote(ctx context.Context, note string)
}

// lockPhase records, where a colleague who finds the lock held reads it, who holds it (user,
// terminal, command) and what the run is doing now ("awaiting confirmation", "purge").
func (u *unit) lockPhase(ctx context.Context, phase string) {
	if ln, ok := u.store.(lockNoter); ok {
		cmd := "run"
		if u.o.verifyOnly {
			cmd = "verify"
		}
		if u.o.DryRun {
			cmd += " --dry-run"
		}
		ln.LockNote(ctx, sqlstore.CurrentHolder(cmd).Note(phase))
	}
}
