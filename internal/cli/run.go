package cli

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/inventory"
	"github.com/reauth/reauth/runbook"
)

type runOptions struct {
	configs  []string
	parallel int
	products []string
	dryRun   bool
	yes      bool
	resume   bool
	cookies  string
	clearSer bool
	mode     string
	strategy string
	// maxUnavailable is --max-unavailable as given ("2", "34%").
	maxUnavailable string
	stateDir       string
	sample         int
	json           bool
	report         string
	connect        time.Duration
	gates          gateFlags
	skip           skipFlags
	unknown        bool
	incident       incidentFlags
	evidence       string
}

func newRunCmd(streams IO) *cobra.Command {
	o := &runOptions{}
	c := &cobra.Command{
		Use:   "run --config FILE [--config FILE]... [--parallel N] [--dry-run] [--yes] [--resume] [--json] [--report FILE.html|FILE.md]",
		Short: "The whole job: preflight, plan, purge with backup, rolling restart, verify, report",
		Long: `run forces every user of every product in the inventory to log in again, and proves it.

For each product (the products at the same time, see "Several products" below):
  1. discover   the database (from the home directory or the inventory), token table, nodes
  2. preflight  DB reachable, delete rights, table shape, lock free, every node RUNNING, every
                restart method reachable (SSH host keys, kube access), Tomcat session persistence.
                Anything wrong: exit 4 before any change, with every problem listed.
  3. plan       tokens to delete per user, excluded accounts, nodes in order, methods
  4. confirm    type the product name (or --yes in scripts)
  5. lock       one run at a time per database (exit 5 if another holds it)
  6. canary     if the inventory names a canary account: log it in on every node (remember-me on)
  7. purge      delete the tokens issued before this run, in small batches, every batch written
                and fsynced to a backup file before its delete commits; newer tokens are kept
  8. restart    one node at a time: see it go down, wait for RUNNING, then the next; or, where
                the product can (Jira 9.11+, Bamboo 9.4+, admin credentials in the inventory) and
                --mode allows, end every user's sessions through its REST API with no restart
  9. verify     no token issued before the run left (by its creation time where the table has
                one, else by id); every proof cookie rejected by every node; nodes RUNNING
 10. report     summary, --json, and a line per step in the audit log (JSON Lines, 0600);
                with --report, an evidence report for people (HTML page or Markdown), built
                from the audit log ('reauth report' rebuilds the same file later)

Proof (no setup needed): before the purge reauth mints one proof token (a row with a negative id
for proof_user, default the admin: user; Jira, Confluence, Bamboo; its id and token digest are
recorded before the insert, and only a row matching both is ever deleted as reauth's own, never
another row in that id range) and keeps --proof-sample real
tokens of those it deletes (in memory only); every node must accept them before and reject them
after, with the canary's and --cookies' cookies. "verified": true needs that cookie-level proof
on every node (--json proof.level "cookies"), no old token left, every node RUNNING after a
restart seen (or every API call succeeded). A run that could replay no cookie ends "verified":
false with proof.level "tokens-only" and a warning (exit 0); a cookie that still logs in fails the
run (exit 1), naming the node and user.

A failure stops that product and says what was done and what was not; --resume continues from
the journal: it never purges twice and restarts only nodes not yet restarted.

Waves: --max-unavailable K (or a percentage, 34%; restart: {max_unavailable, min_serving} per
product) restarts K nodes together, like Ansible's serial or Kubernetes' maxUnavailable, so that
old in-memory sessions die everywhere after ceil(nodes/K) start-ups instead of one per node. The
next wave waits until every node of this one is RUNNING for its stable window; never fewer than
min_serving nodes (default 1) RUNNING, checked against every node's status before each wave. The
plan estimates, and the report and --json (products[].exposure) measure, when the old sessions
were dead everywhere after the purge committed.

Several products: they work at the same time, each restarting its own nodes one at a time.
--parallel N bounds how many at once (default: defaults.parallel in the inventory, else all;
--parallel 1 does one product after another). Products whose databases are on one server
(same host:port) purge one at a time. Progress is one line per product, redrawn in place on a
terminal, plain lines prefixed with the product otherwise; the report groups per product and
every audit line names its product. A product that fails does not stop the others mid-way: those
working finish (on Ctrl-C, each stops at its own next safe point), those not yet started stay
untouched; the report says how each ended and the exit code is the most severe (1 failed, then
3 partial, 130 interrupted, 5 locked, 4 refused). --resume continues only the products that did
not finish.

Several inventories: repeat --config (estates split by team or region), or list other files in
an inventory's include: (paths relative to the including file). Each product keeps its own
file's relative paths, timeouts, backup directory and journal; the run's audit log and
defaults.parallel come from the first file (another file naming a different audit_log is
refused; the smallest parallel wins). A file read twice (an include cycle, a file given and
included) and a product home or database listed twice are refused before anything changes,
naming the files. A product id in several files is named id@file (e.g. jira@emea) in the
output, the report, the audit log and --product.

Where files go: journals in reauth's state directory ($XDG_STATE_HOME/reauth, else
~/.local/state/reauth, created 0700; --state-dir moves it), never beside the inventory (which may
be read-only). Backups go to the inventory's defaults.backup_dir, else the state directory's
backups/; the audit log to defaults.audit_log, else audit.jsonl in the state directory. Preflight
checks that all three can be written (exit 4), in a dry run too; a backup_dir or audit_log
directory the inventory names must already exist (reauth creates only its state directory). 'reauth restart' resumes the
restart step a run left, and the other way round: both use one journal.`,
		Example: `  # See everything that would happen, change nothing:
  reauth run --config reauth.yaml --dry-run

  # Do it, confirming each product by typing its name:
  reauth run --config reauth.yaml

  # In a script, with proof that a browser's exported cookies no longer work:
  reauth run --config reauth.yaml --yes --cookies ~/cookies.txt --json

  # With an evidence report for the incident ticket (.html, or .md for Markdown):
  reauth run --config reauth.yaml --ticket INC-4711 --reason "session cookies leaked" --report incident-4711.html

  # After a failure was fixed (a node that did not come back, a lost DB connection):
  reauth run --config reauth.yaml --resume

  # Two teams' inventories in one run, two products at a time:
  reauth run --config emea.yaml --config apac.yaml --parallel 2`,
		Args: needArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, args []string) error {
			return runRun(c.Context(), streams, o)
		},
	}
	f := c.Flags()
	f.StringArrayVar(&o.configs, "config", nil, "the inventory file (reauth.yaml); repeat it for several inventories")
	f.IntVar(&o.parallel, "parallel", 0, "how many products work at once (default: defaults.parallel in the inventory, else all; 1: one after another)")
	f.StringSliceVar(&o.products, "product", nil, "only these products of the inventory (an id, or id@file where the id is in several files)")
	f.BoolVar(&o.dryRun, "dry-run", false, "do every read and print the plan; delete and restart nothing")
	f.BoolVar(&o.yes, "yes", false, "do not ask for confirmation (scripts)")
	f.BoolVar(&o.resume, "resume", false, "continue a run that stopped, from its journal")
	f.StringVar(&o.cookies, "cookies", "", "a browser's exported cookies (Netscape cookies.txt) that must be rejected afterwards")
	f.BoolVar(&o.clearSer, "clear-persisted-sessions", false, "remove Tomcat's SESSIONS.ser while each node is down, where session persistence is on")
	f.StringVar(&o.strategy, "restart-strategy", "", "rolling (one node at a time; default) or full (stop every node, confirm all are down, then start each: the product is down meanwhile; needed when Bitbucket keeps sessions in Hazelcast); overrides the inventory's restart.strategy")
	f.StringVar(&o.maxUnavailable, "max-unavailable", "", "how many nodes a rolling restart takes down together, as a wave: a count (2) or a percentage of the nodes (34%, rounded down), like Ansible's serial or Kubernetes' maxUnavailable; the next wave starts when every node of this one is RUNNING again, and never while fewer than restart.min_serving nodes (default 1) would serve; default 1; overrides the inventory's restart.max_unavailable")
	f.StringVar(&o.mode, "mode", "", "how to end in-memory sessions: auto (the product's session API where it has one, else a rolling restart), restart or api; overrides the inventory's mode")
	f.StringVar(&o.stateDir, "state-dir", "", "reauth's private directory for journals and default backups (default $XDG_STATE_HOME/reauth, else ~/.local/state/reauth)")
	f.IntVar(&o.sample, "proof-sample", runbook.DefaultProofSample, fmt.Sprintf("how many of the purged tokens to keep in memory and replay on every node before and after the run (0: none; at most %d, one request at a time per node)", runbook.MaxProofSample))
	f.BoolVar(&o.json, "json", false, "print one JSON object with the report on stdout")
	f.StringVar(&o.report, "report", "", "write an evidence report for people: FILE.html (one self-contained page) or FILE.md (Markdown)")
	o.incident.add(f)
	f.StringVar(&o.evidence, "evidence", "", "after the run, write an evidence bundle into this new directory (see reauth report --help)")
	addConnectTimeout(f, &o.connect)
	o.gates.add(f)
	o.skip.add(f)
	f.BoolVar(&o.unknown, "allow-unknown-user", false, "go on when exclude_users names a user the product does not know (by default refused, with the nearest name: a typo would log out the account meant to be kept)")
	_ = c.MarkFlagRequired("config")
	return c
}

// runbookOptions turns the common flags into runbook options wired to the streams.
func runbookOptions(streams IO, inv *inventory.Inventory, quiet bool) runbook.Options {
	o := runbook.Options{Inventory: inv, Out: streams.Out, Err: streams.Err, Getenv: streams.Getenv,
		Now: streams.Now, Quiet: quiet, Live: streams.ErrTTY && !quiet}
	if streams.ReadPassword != nil {
		o.Prompt = streams.ReadPassword
	}
	o.Confirm = typedConfirm(streams)
	return o
}

// loadInventory reads the --config files (and the files they include) as one inventory.
func loadInventory(paths []string) (*inventory.Inventory, error) {
	if len(paths) == 0 || slices.Contains(paths, "") {
		return nil, reauth.Usage("pass --config reauth.yaml (see docs in README.md)", "--config is required")
	}
	return inventory.LoadAll(paths)
}

func runRun(ctx context.Context, streams IO, o *runOptions) error {
	if err := checkReportFlag(o.report, o.dryRun); err != nil {
		return err
	}
	if err := checkEvidenceDir(o.evidence); err != nil {
		return err
	}
	if o.evidence != "" && o.dryRun {
		return reauth.Usage("drop --evidence, or run without --dry-run", "--evidence documents what a run did: a dry run does nothing")
	}
	inv, err := loadInventory(o.configs)
	if err != nil {
		return err
	}
	if err := checkConnectTimeout("run", o.connect); err != nil {
		return err
	}
	if err := o.gates.check(); err != nil {
		return err
	}
	if o.parallel < 0 {
		return reauth.Usage("use --parallel N with N >= 1 (1: one product after another)", "--parallel %d", o.parallel)
	}
	ro := runbookOptions(streams, inv, o.json)
	ro.ConnectTimeout, ro.Parallel = o.connect, o.parallel
	ro.StartTimeout, ro.StableWindow = o.gates.startTimeout, o.gates.stableWindow
	ro.AllowUnknownUsers = o.unknown
	if ro.SkipNodes, err = o.skip.parse(); err != nil {
		return err
	}
	switch o.mode {
	case "", "auto", "restart", "api":
	default:
		return reauth.Usage("use --mode auto, restart or api", "unknown --mode %q", o.mode)
	}
	ro.DryRun, ro.Yes, ro.Resume, ro.CookiesFile, ro.ClearPersistedSessions, ro.Products, ro.Mode, ro.RestartStrategy =
		o.dryRun, o.yes, o.resume, o.cookies, o.clearSer, o.products, o.mode, o.strategy
	if ro.MaxUnavailable, err = parseMaxUnavailable(o.maxUnavailable); err != nil {
		return err
	}
	if ro.StateDir, err = reauth.ResolveStateDir(o.stateDir, streams.getenv); err != nil {
		return err
	}
	if ro.Incident, err = o.incident.incident(); err != nil {
		return err
	}
	ro.Version, ro.TTY = runningVersion(), streams.TTY
	switch {
	case o.sample < 0 || o.sample > runbook.MaxProofSample:
		return reauth.Usage(fmt.Sprintf("use --proof-sample 0 to replay no sampled token, or a count up to %d (each one is replayed on every node, twice)", runbook.MaxProofSample),
			"--proof-sample %d: out of range", o.sample)
	case o.sample == 0:
		ro.ProofSample = -1
	default:
		ro.ProofSample = o.sample
	}
	// The first Ctrl-C's line is runbook's: it knows the node in hand, and prints through the
	// progress view so that the line stays on screen.
	abort, stop, release := streams.stages(ctx, nil)
	defer release()
	ro.Stop = stop
	rep, err := runbook.Run(abort, ro)
	if o.json {
		if jerr := writeJSON(streams.Out, rep); jerr != nil {
			return jerr
		}
	}
	msgs := streams.Out
	if o.json {
		msgs = streams.Err
	}
	return writeRunEvidence(msgs, o.evidence, rep, writeRunReport(msgs, o.report, rep, err))
}
