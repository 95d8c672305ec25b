package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/internal/liveview"
	"github.com/reauth/reauth/internal/syncio"
	"github.com/reauth/reauth/internal/termsafe"
	"github.com/reauth/reauth/inventory"
	"github.com/reauth/reauth/rollout"
	"github.com/reauth/reauth/rollout/methods"
)

type restartOptions struct {
	config, product                    string
	dryRun, yes, resume, clearSessions bool
	json                               bool
	journal, stateDir, strategy        string
	maxUnavailable                     string
	gates                              gateFlags
	skip                               skipFlags
}

// parseMaxUnavailable reads --max-unavailable.
func parseMaxUnavailable(s string) (reauth.Unavailable, error) {
	u, err := reauth.ParseUnavailable(s)
	if err != nil {
		return u, reauth.WithHint(reauth.WithCode(fmt.Errorf("--max-unavailable %w", err), reauth.ExitUsage), reauth.HintOf(err))
	}
	return u, nil
}

// newRestartCmd is `reauth restart`: the rolling restart of one product's nodes.
func newRestartCmd(streams IO) *cobra.Command {
	var o restartOptions
	cmd := &cobra.Command{
		Use:   "restart --config FILE [--product P]",
		Short: "Rolling restart of every node, one at a time, with health gates",
		Long: `Restart every node of a product one at a time, so that the cluster keeps serving, and never move
on until the restarted node was seen going down and is RUNNING again for a stable window.

Before anything is touched, a preflight checks that every node is RUNNING, that every restart
method works (SSH host keys and authentication, Kubernetes access) and that Tomcat does not
persist sessions to SESSIONS.ser (or, with --clear-persisted-sessions, that reauth can remove it
while the node is down). Any problem refuses the run (exit 4) and nothing is changed.

The first failure stops the run: the nodes after it are not touched (exit 3 when some nodes were
restarted, 1 when the first failed). A journal in reauth's state directory (the one 'reauth run'
keeps for its restart step) remembers the nodes already restarted: --resume continues with the
node that failed, whichever of the two commands stopped. Ctrl-C stops before the next node (the
current one is still waited for); a second Ctrl-C abandons the wait (exit 130).

Waves: --max-unavailable K (or 34%, of the nodes, rounded down; restart: {max_unavailable: K} in the
inventory) restarts K nodes together, like Ansible's serial: K or Kubernetes' maxUnavailable. The
next wave starts only when every node of this one is RUNNING for its stable window and undrained.
A guard keeps the cluster serving: before each wave every node is probed, a node already down
counts as unavailable, and no wave leaves fewer than restart.min_serving nodes RUNNING (default 1;
a K that would leave fewer is refused before anything is touched). A failure in a wave lets its
other nodes finish, the next wave never starts (exit 3), and --resume restarts what did not come
back. Ctrl-C stops after the wave in hand. The full strategy stops every node anyway.`,
		Example: `  # Preflight every node and print the order and the commands; restart nothing:
  reauth restart --config reauth.yaml --product jira --dry-run

  # Restart Jira's nodes one at a time, asked to confirm on the terminal:
  reauth restart --config reauth.yaml --product jira

  # Two nodes at a time (at least one RUNNING throughout):
  reauth restart --config reauth.yaml --product jira --max-unavailable 2

  # Node 2 did not come back; after fixing it, continue with that node:
  reauth restart --config reauth.yaml --product jira --resume --yes`,
		Args: needArgs(0, "no positional arguments"),
		RunE: func(c *cobra.Command, args []string) error {
			if o.config == "" {
				return usageError{cmd: "restart", err: fmt.Errorf("--config is required (the inventory file, reauth.yaml)")}
			}
			return runRestart(c.Context(), streams, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.config, "config", "", "inventory file (reauth.yaml)")
	f.StringVar(&o.product, "product", "", "the product to restart (needed when the inventory has several)")
	f.BoolVar(&o.dryRun, "dry-run", false, "run the preflight and print the plan; restart nothing")
	f.BoolVar(&o.yes, "yes", false, "do not ask for confirmation")
	f.BoolVar(&o.resume, "resume", false, "continue an interrupted or failed run from its journal")
	f.BoolVar(&o.clearSessions, "clear-persisted-sessions", false, "remove Tomcat's SESSIONS.ser while each node is down, where Tomcat persists sessions")
	f.StringVar(&o.strategy, "restart-strategy", "", "rolling (one node at a time; default) or full (stop every node, confirm all are down, then start each; needs stop: and start: commands); overrides the inventory's restart.strategy")
	f.StringVar(&o.maxUnavailable, "max-unavailable", "", "how many nodes a rolling restart takes down together, as a wave: a count (2) or a percentage of the nodes (34%, rounded down), like Ansible's serial or Kubernetes' maxUnavailable; the next wave starts when every node of this one is RUNNING again, and never while fewer than restart.min_serving nodes (default 1) would serve; default 1; overrides the inventory's restart.max_unavailable")
	f.BoolVar(&o.json, "json", false, "print the result as one JSON object")
	f.StringVar(&o.journal, "journal", "", "journal file (default: the product's restart journal in the state directory, the one 'reauth run' uses)")
	f.StringVar(&o.stateDir, "state-dir", "", "reauth's private directory (default $XDG_STATE_HOME/reauth, else ~/.local/state/reauth)")
	o.gates.add(f)
	o.skip.add(f)
	return cmd
}

type restartReport struct {
	Product   string               `json:"product"`
	DryRun    bool                 `json:"dry_run"`
	Journal   string               `json:"journal"`
	Restarted int                  `json:"restarted"`
	Nodes     []rollout.NodeResult `json:"nodes"`
	Error     string               `json:"error,omitempty"`
	// Skipped are the nodes left out with --skip-node, and why.
	Skipped []rollout.SkippedNode `json:"skipped_nodes,omitempty"`
}

func runRestart(ctx context.Context, streams IO, o restartOptions) error {
	if err := o.gates.check(); err != nil {
		return err
	}
	maxUnavailable, err := parseMaxUnavailable(o.maxUnavailable)
	if err != nil {
		return err
	}
	inv, err := inventory.Load(o.config)
	if err != nil {
		return err
	}
	p, err := inv.Pick(o.product, "restart")
	if err != nil {
		return err
	}
	inv = inv.FileOf(p) // the file the product is written in: its paths, timeouts and journal
	plan, closeAll, err := methods.Plan(ctx, inv, p, streams.getenv)
	if err != nil {
		return err
	}
	defer closeAll()
	skipped, err := skipFromPlan(&plan, o.skip)
	if err != nil {
		return err
	}
	opts, err := restartOpts(streams, inv, p, o)
	if err != nil {
		return err
	}
	if maxUnavailable != (reauth.Unavailable{}) {
		opts.MaxUnavailable = maxUnavailable
	}
	view := newNodeView(streams.Err, streams.ErrTTY && !o.json, plan)
	opts.Events = view.event
	var cmdLog bytes.Buffer
	if view.live {
		opts.Log = syncio.NewWriter(&cmdLog) // shown only if something fails: it would break the redraw
	} else {
		opts.Log = streams.Err
	}

	fmt.Fprintf(streams.Err, "preflight: %s, %d node(s)...\n", plan.Product.Name, len(plan.Nodes))
	if err := rollout.Preflight(ctx, plan, opts); err != nil {
		return err
	}
	printPlan(streams.Err, plan, opts, o)
	for _, s := range skipped {
		fmt.Fprintf(streams.Err, "  skipped %s (--skip-node: %s): %s\n", termsafe.Field(s.Name), termsafe.Field(s.Reason), rollout.SkipNote)
	}
	report := restartReport{Product: string(p.ID), Journal: opts.JournalPath, DryRun: o.dryRun, Skipped: skipped}
	if o.dryRun {
		for _, n := range plan.Nodes {
			report.Nodes = append(report.Nodes, rollout.NodeResult{Name: n.Name, Status: rollout.StatusUntouched})
		}
		fmt.Fprintln(streams.Err, "dry run: nothing was restarted")
		if o.json {
			return writeJSON(streams.Out, report)
		}
		return nil
	}
	if err := confirm(streams, o.yes, string(p.ID), len(plan.Nodes)); err != nil {
		return err
	}

	// First Ctrl-C: stop before the next node. Second: abandon the wait.
	abort, stop, release := streams.stages(ctx, func() {
		view.note(view.stopLine())
	})
	defer release()
	opts.Stop = stop
	view.start()
	res, runErr := rollout.Run(abort, plan, opts)
	view.stop()
	if runErr != nil && view.live && cmdLog.Len() > 0 {
		fmt.Fprintf(streams.Err, "command output:\n%s", cmdLog.String())
	}
	report.Nodes, report.Restarted = res.Nodes, res.Restarted()
	if runErr != nil {
		report.Error = runErr.Error()
	}
	if o.json {
		if err := writeJSON(streams.Out, report); err != nil {
			return err
		}
	} else {
		printResult(streams.Out, res)
	}
	return runErr
}

func printPlan(w io.Writer, plan rollout.Plan, o rollout.Options, ro restartOptions) {
	if o.Strategy == rollout.StrategyFull {
		fmt.Fprintf(w, "plan: stop EVERY node of %s in this order, confirm that all are down, then start each behind the health gates "+
			"(%s is down from the first stop until the first node is RUNNING again):\n", plan.Product.Name, plan.Product.Name)
	} else if k := o.MaxUnavailable.Of(len(plan.Nodes)); k > 1 {
		fmt.Fprintf(w, "plan: restart %s in waves of up to %d node(s) (--max-unavailable %s), the next wave once every node of this one "+
			"is RUNNING again, never leaving fewer than min_serving RUNNING; in this order:\n", plan.Product.Name, k, o.MaxUnavailable)
	} else {
		fmt.Fprintf(w, "plan: restart %s, one node at a time, in this order:\n", plan.Product.Name)
	}
	waveOf := map[int]int{}
	for w, wave := range rollout.PlanWaves(plan, o) {
		for _, i := range wave {
			waveOf[i] = w + 1
		}
	}
	for i, n := range plan.Nodes {
		line := fmt.Sprintf("  %d. %-16s %-10s %s", i+1, termsafe.Field(n.Name), n.Restarter.Method(), termsafe.Field(n.URL))
		if r, ok := n.Restarter.(rollout.Router); ok && r.Route() != "" {
			line += "  via " + termsafe.Field(r.Route())
		}
		if o.Strategy != rollout.StrategyFull && o.MaxUnavailable.Of(len(plan.Nodes)) > 1 {
			line += fmt.Sprintf("  (wave %d)", waveOf[i])
		}
		fmt.Fprintln(w, line)
	}
	if x := rollout.EstimateExposure(plan, o); o.Strategy != rollout.StrategyFull {
		how := "from the start timeout: an upper bound"
		if x.Known {
			how = "from the nodes' start-ups in the last run"
		}
		fmt.Fprintf(w, "exposure: old sessions dead on every node about %.0fs after the first restart (%d wave(s); %s)\n",
			x.Estimate.Seconds(), len(x.Waves), how)
	}
	st := o.StartTimeout
	if st == 0 {
		st = rollout.DefaultStartTimeout
	}
	sw := o.StableWindow
	if sw == 0 {
		sw = rollout.DefaultStableWindow
	}
	fmt.Fprintf(w, "each node must go down, then be RUNNING (%s) for the stable window %s; start timeout %s per node (--start-timeout, --stable-window)\n",
		plan.Product.Ready.Path, liveview.Duration(sw), liveview.Duration(st))
	if plan.Drain.Before != "" || plan.Drain.After != "" {
		fmt.Fprintf(w, "drain hooks: before %q, after %q\n", plan.Drain.Before, plan.Drain.After)
	}
	if ro.resume {
		fmt.Fprintf(w, "resuming from %s: nodes it lists as restarted are skipped\n", o.JournalPath)
	}
	for _, warn := range plan.Warnings {
		fmt.Fprintf(w, "warning: %s\n", termsafe.Field(warn))
	}
}

// restartOpts are the inventory's rollout options for p, with the journal and the flags.
func restartOpts(streams IO, inv *inventory.Inventory, p *inventory.Product, o restartOptions) (rollout.Options, error) {
	opts := methods.Options(inv, p)
	opts.JournalPath = o.journal
	if opts.JournalPath == "" {
		// The journal `reauth run` keeps for its restart step: either resumes the other's.
		sd, err := reauth.ResolveStateDir(o.stateDir, streams.getenv)
		if err != nil {
			return opts, err
		}
		opts.JournalPath = sd.RestartJournal(inv.Path, string(p.ID))
		if !o.dryRun {
			if _, err := sd.Ensure(); err != nil {
				return opts, err
			}
		}
	}
	opts.Resume, opts.ClearPersistedSessions = o.resume, o.clearSessions
	if o.gates.startTimeout > 0 {
		opts.StartTimeout = o.gates.startTimeout
	}
	if o.gates.stableWindow > 0 {
		opts.StableWindow = o.gates.stableWindow
	}
	if o.strategy != "" {
		opts.Strategy = o.strategy
	}
	return opts, nil
}

// skipFromPlan leaves the --skip-node nodes out of plan; a name the plan does not have is refused.
func skipFromPlan(plan *rollout.Plan, f skipFlags) ([]rollout.SkippedNode, error) {
	m, err := f.parse()
	if err != nil || m == nil {
		return nil, err
	}
	var all, unknown []string
	for _, n := range plan.Nodes {
		all = append(all, n.Name)
	}
	for name := range m {
		if !slices.Contains(all, name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, rollout.UnknownSkips(unknown, all)
	}
	return rollout.Skip(plan, m)
}

// confirm asks the operator to type the product name, or accepts --yes.
func confirm(streams IO, yes bool, product string, nodes int) error {
	return requireTyped(streams, yes, product, fmt.Sprintf("Type %q to restart %d node(s): ", product, nodes))
}

func printResult(w io.Writer, res rollout.Result) {
	for _, n := range res.Nodes {
		extra := ""
		if n.Status == rollout.StatusRestarted {
			down := "went down"
			if !n.WentDown {
				down = "restart proven by identity"
			}
			extra = fmt.Sprintf(" (%s, RUNNING after %.1fs)", down, float64(n.ReadyAfterMS)/1000)
		}
		if n.Error != "" {
			extra = ": " + n.Error
		}
		fmt.Fprintf(w, "%-16s %s%s\n", termsafe.Field(n.Name), n.Status, termsafe.Field(extra))
	}
}

// nodeView shows progress: one redrawn line per node on a terminal, plain lines otherwise.
type nodeView struct {
	*liveview.View
	live bool
	prog rollout.Progress
}

func newNodeView(w io.Writer, live bool, plan rollout.Plan) *nodeView {
	names := make([]string, 0, len(plan.Nodes))
	for _, n := range plan.Nodes {
		names = append(names, n.Name)
	}
	return &nodeView{View: liveview.New(w, live, names, "waiting"), live: live}
}

func (v *nodeView) event(e rollout.Event) {
	if e.Phase == rollout.PhaseWave {
		v.Note(termsafe.Field(e.Message) + "\n")
		return
	}
	if e.Phase == rollout.PhaseWarning {
		v.Note(fmt.Sprintf("warning: %s: %s\n", termsafe.Field(e.Node), termsafe.Field(e.Message)))
		return
	}
	l := v.prog.Observe(e)
	// The line is the node's own: its name is the view's item; "(2/3)" leads its text.
	lead := strings.TrimPrefix(l.Node, e.Node)
	lead = strings.TrimPrefix(lead, " ")
	if lead != "" {
		lead += " "
	}
	switch {
	case l.Final:
		v.Finish(e.Node, lead+l.Body())
	case !v.live:
		v.Update(e.Node, lead+l.Body())
	default:
		v.UpdateClock(e.Node, lead+l.Before, time.Now().Add(-l.Elapsed), l.After)
	}
}

// stopLine is the first Ctrl-C's line: what is still finished, and for how long at most.
func (v *nodeView) stopLine() string {
	if n := v.prog.InHand(); n != "" {
		return "stop requested: finishing " + n + "; Ctrl-C again abandons it"
	}
	return "stop requested: no node is restarted after this one; Ctrl-C again abandons the wait"
}

func (v *nodeView) note(msg string) { v.Note(msg + "\n") }

func (v *nodeView) start() { v.Run() }

func (v *nodeView) stop() { v.Close() }
