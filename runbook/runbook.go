// Package runbook is the whole job of `reauth run`, for every product of an inventory:
// discover → preflight → plan → confirm → lock → canary capture → purge with backup → rolling
// restart → verify → report. Each product is its own unit (own lock, backup, journal, restart
// order). Everything that can be checked is checked for every product before anything changes;
// then the products work at the same time (Options.Parallel at most), under the ordering rules of
// schedule.go. A product that fails does not stop the others mid-way: those working finish (or stop
// at their next safe point on Ctrl-C), those not yet started stay untouched, and --resume
// continues exactly the products that did not finish.
package runbook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/audit"
	"github.com/reauth/reauth/internal/syncio"
	"github.com/reauth/reauth/inventory"
	"github.com/reauth/reauth/rollout"
)

// MaxProofSample bounds --proof-sample: each sampled token is replayed on every node before the
// purge and after the restart, one request (under the HTTP client's timeout) at a time, so the
// count is what bounds the proof's time.
const MaxProofSample = 100

// Options say what to run and how to talk to the operator.
type Options struct {
	Inventory   *inventory.Inventory
	DryRun      bool   // every read, the plan, no write and no restart
	Yes         bool   // no confirmation
	Resume      bool   // continue a run that stopped, from its journals
	CookiesFile string // a Netscape cookie jar whose cookies must be rejected afterwards
	// ClearPersistedSessions removes Tomcat's SESSIONS.ser while nodes are down, where persistence is on.
	ClearPersistedSessions bool
	// RestartStrategy overrides every product's restart.strategy: rolling (one node at a time) or
	// full (every node stopped, then started). "" = the inventory's, else rolling.
	RestartStrategy string
	// MaxUnavailable overrides every product's restart.max_unavailable (--max-unavailable): how
	// many nodes a rolling restart takes down together. Zero: the inventory's, else one.
	MaxUnavailable reauth.Unavailable
	Products       []string // only these products of the inventory ("" = all)
	// StateDir holds the journals, and the backups and audit log when the inventory names no
	// place for them (zero: resolved from XDG_STATE_HOME or HOME through Getenv).
	StateDir reauth.StateDir
	// Mode overrides the inventory's mode for every product: auto (the product's session API where
	// it has one, else a rolling restart), restart or api.
	Mode           string
	APIConcurrency int // API mode: requests in flight at once (default 8)
	// ProofSample is how many of the purged tokens are kept in memory and replayed after the run
	// (0: DefaultProofSample; negative: none); the CLI refuses more than MaxProofSample.
	ProofSample int
	// ConnectTimeout bounds each database connection (0: sqlstore.DefaultConnectTimeout).
	ConnectTimeout time.Duration
	// SkipNodes are nodes left out of every product's plan (--skip-node), name → reason: dead
	// or decommissioned, so their memory holds no session.
	SkipNodes map[string]string
	// AllowUnknownUsers lets exclude_users name users the product does not know (a warning
	// instead of a refusal: --allow-unknown-user).
	AllowUnknownUsers bool
	// StartTimeout and StableWindow override every product's start_timeout and stable_window
	// (--start-timeout, --stable-window; 0: the inventory's, else rollout's defaults).
	StartTimeout, StableWindow time.Duration
	// Parallel is how many products work at once (0: the inventory's defaults.parallel, else all).
	Parallel int
	// Live: Err is a terminal, so the progress lines (one per product) are redrawn in place.
	Live bool
	// Stop asks the run to stop at the next safe point (the first Ctrl-C): after the current purge
	// batch, or before the next node (the node being restarted is still waited for). Cancelling
	// ctx instead abandons every wait at once (the second Ctrl-C).
	Stop reauth.Stop

	Out, Err io.Writer // the plan and the report go to Out; progress to Err
	// Confirm asks the operator to type expect; nil when there is no terminal.
	Confirm func(prompt, expect string) (bool, error)
	// Prompt asks for a secret on the terminal; nil when there is none.
	Prompt func(prompt string) (string, error)
	Getenv func(string) string
	Now    func() time.Time
	HTTP   *http.Client
	Quiet  bool // no human plan/report on Out (--json)

	// Incident is the run's --ticket and --reason; Version the reauth version (and commit) that
	// runs; TTY the terminal a confirmation is typed on. All three go to the audit log and report.
	Incident Incident
	Version  string
	TTY      string

	runID      string
	verifyOnly bool
	stopNote   *stopNotice // the first Ctrl-C's line
	seams      seams       // the real store, rollout and prober unless a test gave fakes
}

// Report is what a run did. Its JSON names are part of the CLI contract.
type Report struct {
	RunID              string          `json:"run_id"`
	DryRun             bool            `json:"dry_run"`
	Deleted            int64           `json:"deleted"`
	NodesRestarted     int             `json:"nodes_restarted"`
	SessionsBefore     int             `json:"sessions_before"`
	SessionsValidAfter int             `json:"sessions_valid_after"`
	Verified           bool            `json:"verified"`
	Proof              RunProof        `json:"proof"`
	Products           []ProductReport `json:"products"`
	NotCovered         []string        `json:"not_covered"`
	// SSONotCovered names the applications that sign in through Crowd SSO while Crowd is not in
	// the run: "verified" says nothing about their SSO sessions.
	SSONotCovered []string `json:"sso_not_covered,omitempty"`
	AuditLog      string   `json:"audit_log,omitempty"`
	Error         string   `json:"error,omitempty"`
	// Incident is --ticket and --reason; Inventories the inventory files read, with their sha256.
	Incident      *Incident         `json:"incident,omitempty"`
	ReauthVersion string            `json:"reauth_version,omitempty"`
	Inventories   []InventoryDigest `json:"inventories,omitempty"`
}

// NotCovered is what a forced re-login does not touch; every report says so.
var NotCovered = []string{
	"personal access tokens, HTTP access tokens and SSH keys (not browser sessions: list and flag them with `reauth credentials --since T`, revoke leaked ones in the product)",
	"OAuth tokens and application links (`reauth credentials` lists the OAuth 2.0 provider's tokens)",
	idpGeneric,
	"Crowd SSO sessions (crowd.token_key) unless Crowd is in the inventory",
}

// idpGeneric is NotCovered's entry for the identity provider's sessions when reauth could not read
// whether SSO is on; notCovered says it exactly when it could.
const idpGeneric = "sessions at the SSO identity provider (users with a live IdP session log straight back in: end them at the IdP)"

func newRunID(now time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

func (o *Options) defaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Getenv == nil {
		o.Getenv = func(string) string { return "" }
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Err == nil {
		o.Err = io.Discard
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	o.seams.defaults()
}

// resolveStateDir fills StateDir from XDG_STATE_HOME or HOME when the caller gave none.
func (o *Options) resolveStateDir() error {
	if o.StateDir.Path != "" {
		return nil
	}
	sd, err := reauth.ResolveStateDir("", o.Getenv)
	o.StateDir = sd
	return err
}

// Run does the whole job. The report is filled in as far as the run got, also on error.
func Run(ctx context.Context, o Options) (*Report, error) {
	o.defaults()
	o.Err = syncio.NewWriter(o.Err) // products write their progress at once
	rep := &Report{RunID: newRunID(o.Now()), DryRun: o.DryRun, NotCovered: NotCovered}
	o.runID = rep.RunID
	o.stopNote = &stopNotice{}
	watching, endWatch := context.WithCancel(context.Background())
	defer endWatch()
	o.watchStop(watching)
	if o.Incident != (Incident{}) {
		rep.Incident = &o.Incident
	}
	rep.ReauthVersion, rep.Inventories = o.Version, inventoryDigests(o.Inventory)
	if err := o.resolveStateDir(); err != nil {
		rep.Error = err.Error()
		return rep, err
	}
	if err := rollout.CheckStrategy(o.RestartStrategy); err != nil {
		rep.Error = err.Error()
		return rep, err
	}
	units, err := prepareAll(ctx, o)
	defer closeAll(units)
	if err != nil {
		rep.Error = err.Error()
		return rep, err
	}
	rep.RunID, o.runID = units[0].o.runID, units[0].o.runID // a resumed run's is its journal's
	rep.NotCovered, rep.SSONotCovered = notCovered(units), ssoNotCovered(units)
	for _, u := range units {
		rep.Products = append(rep.Products, u.report)
	}
	if err := preflightAll(ctx, o, units); err != nil {
		rep.Error = err.Error()
		return rep, err
	}
	if !o.Quiet {
		printIncident(o.Out, rep.Incident)
	}
	for i, err := range eachUnit(units, func(u *unit) error { return u.plan(ctx) }) {
		if err != nil {
			rep.Error = err.Error()
			return rep, err
		}
		if !o.Quiet {
			units[i].printPlan(o.Out)
		}
	}
	if !o.Quiet {
		printClearBackupWarning(o.Out, units)
	}
	syncReports(rep, units)
	if o.DryRun {
		if !o.Quiet {
			fmt.Fprintln(o.Out, "\nDry run: nothing was deleted, nothing was restarted. Run again without --dry-run to do it.")
		}
		return rep, nil
	}
	sched := newScheduler(units, o.Stop)
	order, err := sched.startOrder()
	if err != nil {
		rep.Error = err.Error()
		return rep, err
	}
	if err := confirmAll(o, units); err != nil {
		rep.Error = err.Error()
		return rep, err
	}

	if err := ensurePlaces(&o, files(units)); err != nil {
		rep.Error = err.Error()
		return rep, err
	}
	logPath := auditLogPath(&o)
	alog, err := audit.Open(logPath, rep.RunID, o.Now)
	if err != nil {
		rep.Error = err.Error()
		return rep, reauth.Refused("check that the audit log's directory is writable, or set defaults.audit_log in the inventory", "%v", err)
	}
	defer alog.Close()
	rep.AuditLog = logPath
	logRunStart(alog, o, units, logPath, rep)

	runErr := runAll(ctx, o, order, sched)
	syncReports(rep, units)
	rep.NotCovered = notCovered(units) // the idp hooks' outcomes are known now
	rep.Verified = runErr == nil && allVerified(units)
	if runErr != nil {
		rep.Error = runErr.Error()
	}
	logRunEnd(alog, o, rep, runErr)
	if !o.Quiet {
		printReport(o.Out, rep)
	}
	return rep, runErr
}

func allVerified(units []*unit) bool {
	for _, u := range units {
		if !u.report.Verify.Verified {
			return false
		}
	}
	return len(units) > 0
}

// syncReports copies each unit's report into rep and adds up the totals.
func syncReports(rep *Report, units []*unit) {
	rep.Products = rep.Products[:0]
	rep.Deleted, rep.NodesRestarted, rep.SessionsBefore, rep.SessionsValidAfter = 0, 0, 0, 0
	for _, u := range units {
		rep.Products = append(rep.Products, u.report)
		rep.Deleted += u.report.Deleted
		rep.NodesRestarted += u.report.NodesRestarted
		rep.SessionsBefore += u.report.Verify.SessionsBefore
		rep.SessionsValidAfter += u.report.Verify.SessionsValidAfter
	}
	rep.Proof = runProof(rep.Products)
}

func closeAll(units []*unit) {
	for _, u := range units {
		u.close()
	}
}
