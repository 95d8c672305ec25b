package rollout

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/tomcat"
)

// Preflight checks, before anything is touched, that the plan can run: every node RUNNING, every
// method's own checks (reachable, auth, host key), and Tomcat session persistence where a node's
// install directory is known. It reports every problem at once; the error is a refusal (exit 4).
// Warnings (a 1-node product will be fully down; persistence unknown) go to opts.Events.
func Preflight(ctx context.Context, plan Plan, opts Options) error {
	o := opts.withDefaults()
	if len(plan.Nodes) == 0 {
		return reauth.Usage("list the product's nodes in the inventory", "%s: no nodes to restart", plan.Product.Name)
	}
	if err := CheckStrategy(o.Strategy); err != nil {
		return err
	}
	if err := CheckWaves(plan, o); err != nil {
		return err
	}
	full := o.Strategy == StrategyFull
	if len(plan.Nodes) == 1 && !full {
		o.emit(Event{Node: plan.Nodes[0].Name, Phase: PhaseWarning,
			Message: fmt.Sprintf("%s has a single node: it will be fully down during its restart", plan.Product.Name)})
	}
	var problems []string
	needStopStart := false // a problem's fix needs separate stop and start commands
	code := reauth.ExitRefused
	// On --resume the node that failed last time is expected to be down: it is the one the run
	// continues with. Every other node must be RUNNING. A full stop that stopped may have left
	// every node it reached down.
	resuming := map[string]bool{}
	if o.Resume {
		if j, err := openJournal(o.JournalPath, string(plan.Product.ID), true); err == nil {
			for name, st := range j.doc.Nodes {
				resuming[name] = st == StatusFailed || (full && st != StatusRestarted)
			}
		}
	}
	for _, n := range plan.Nodes {
		if n.Restarter == nil {
			problems = append(problems, fmt.Sprintf("%s: no restart method", n.Name))
			continue
		}
		if err := n.Restarter.Preflight(ctx); err != nil {
			problems = append(problems, fmt.Sprintf("%s (%s): %v", n.Name, n.Restarter.Method(), err))
			if h := reauth.HintOf(err); h != "" {
				problems = append(problems, "  hint: "+h)
			}
			if reauth.CodeOf(err) == reauth.ExitUsage {
				code = reauth.ExitUsage
			}
			continue
		}
		if full {
			if msg := fullProblem(n); msg != "" {
				problems = append(problems, msg)
				needStopStart = true
				continue
			}
		}
		if ready, state, why := probeWhy(ctx, plan, n, o); !ready && !resuming[n.Name] {
			if c := unreachableCause(why); c != "" {
				state += ": " + c
			}
			problems = append(problems, fmt.Sprintf("%s: not RUNNING (%s) at %s: reauth restarts only a healthy cluster, one node at a time; "+
				"bring it up first, or, if it is dead or decommissioned, leave it out with --skip-node %s --reason \"…\" "+
				"(its memory holds no session; when it starts it reads the purged table)", n.Name, state, n.URL, n.Name))
		}
		if msg := checkPersistence(ctx, n, o); msg != "" {
			problems = append(problems, msg)
			// Its fix (--clear-persisted-sessions) needs separate stop and start commands:
			// said now, with the YAML, rather than by the next preflight.
			needStopStart = needStopStart || !canStopStart(n)
		}
	}
	if ctx.Err() != nil {
		return reauth.ErrInterrupted
	}
	if len(problems) > 0 {
		err := fmt.Errorf("preflight failed, nothing was changed:\n  %s", strings.Join(problems, "\n  "))
		hint := "fix the problems above and run again"
		if fix := StopStartFix(plan); needStopStart && fix != "" {
			hint += "; the nodes need separate stop and start commands: " + fix
		}
		return &reauth.Error{Code: code, Err: err, Hint: hint}
	}
	return nil
}

// Persistence detects Tomcat session persistence on the node through its restart method. The
// Tomcat version comes from the install directory or, when catalina.jar is elsewhere (Debian's
// split layout), from the CATALINA_HOME that the node's setenv.sh, its running process or its
// systemd unit names (the last two only for nodes on this machine: the exec method).
func Persistence(ctx context.Context, n Node) (tomcat.Persistence, error) {
	fa, ok := n.Restarter.(FileAccess)
	if !ok || n.Install == "" {
		return tomcat.Persistence{State: tomcat.Unknown}, errors.New("cannot read files on this node")
	}
	read := func(p string) ([]byte, error) { return fa.ReadFile(ctx, p) }
	var homes []string
	if h, _ := tomcat.CatalinaHome(read, n.Install, n.Restarter.Method() == "exec"); h != "" {
		homes = append(homes, h)
	}
	return tomcat.Detect(read, n.Install, homes...)
}

// checkPersistence returns a problem ("" when none) and emits warnings.
func checkPersistence(ctx context.Context, n Node, o Options) string {
	if n.Install == "" {
		return ""
	}
	if _, ok := n.Restarter.(FileAccess); !ok {
		return ""
	}
	p, err := Persistence(ctx, n)
	if errors.Is(err, fs.ErrNotExist) {
		o.emit(Event{Node: n.Name, Phase: PhaseWarning, Message: fmt.Sprintf("session persistence not checked: %v", err)})
		return ""
	}
	if err != nil {
		return fmt.Sprintf("%s: cannot check Tomcat session persistence: %v (fix the install path, or remove it from the inventory to skip the check)", n.Name, err)
	}
	switch p.State {
	case tomcat.Unknown:
		o.emit(Event{Node: n.Name, Phase: PhaseWarning, Message: "Tomcat session persistence unknown: " + p.Reason + "; to settle it: " + p.Fix})
	case tomcat.On:
		why := fmt.Sprintf("%s: Tomcat persists HTTP sessions across restarts (%s), so a restart would bring every session back", n.Name, p.Reason)
		switch {
		case !o.ClearPersistedSessions:
			msg := why + "; to turn it off: " + p.Fix + "; or run with --clear-persisted-sessions to remove SESSIONS.ser while the node is down"
			if !canStopStart(n) && n.Restarter.Method() != "kubernetes" {
				msg += " (it needs separate stop and start commands on the node: see the YAML in the hint)"
			}
			return msg
		case !p.Clearable:
			return why + "; sessions are kept in a Store reauth cannot clear: " + p.Fix
		}
		if c, ok := n.Restarter.(interface{ CanStopStart() bool }); ok && !c.CanStopStart() {
			return why + "; to remove SESSIONS.ser while the node is down reauth needs separate stop and start commands (restart: {exec|ssh: {stop: ..., start: ...}})"
		} else if !ok {
			if _, ok := n.Restarter.(StopStarter); !ok {
				return why + fmt.Sprintf("; the %s method cannot stop and start separately", n.Restarter.Method())
			}
		}
		o.emit(Event{Node: n.Name, Phase: PhaseWarning, Message: "will remove " + strings.Join(p.Files, ", ") + " while the node is down"})
	}
	return ""
}
