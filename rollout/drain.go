package rollout

import (
	"context"
	"fmt"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/rollout/execmethod"
)

// drainTimeout bounds each drain hook.
func drainTimeout(plan Plan) time.Duration {
	if plan.Drain.Timeout <= 0 {
		return DefaultDrainTimeout
	}
	return plan.Drain.Timeout
}

// runAfter runs the drain after-hook for n.
func runAfter(ctx context.Context, plan Plan, n Node, o Options) error {
	return execmethod.RunShell(ctx, plan.Drain.After, plan.hookEnv(n), drainTimeout(plan), nodeLog(o, n))
}

// afterFailure handles a node whose restart failed after its before-hook ran: it is out of the
// load balancer. With drain.after_on_failure the after-hook runs anyway (not after Ctrl-C: the
// operator asked to stop); otherwise, or when that hook fails, the node is reported as still
// drained, in its error, the report and the journal.
func afterFailure(ctx context.Context, plan Plan, n Node, o Options, nr NodeResult, ev func(Phase, string, string)) NodeResult {
	nr.Reenable = reenableCommand(plan, n)
	if nr.Drained { // the after-hook itself failed
		return nr
	}
	nr.Drained = true
	switch {
	case plan.Drain.After == "":
		nr.Error += "; the node is still drained (its before-hook ran; there is no after-hook)"
	case plan.Drain.AfterOnFailure && ctx.Err() == nil:
		ev(PhaseUndrain, "", plan.Drain.After)
		if err := runAfter(ctx, plan, n, o); err != nil {
			nr.Error += fmt.Sprintf("; the node is still drained: its after-hook failed too: %v", err)
		} else {
			nr.Drained, nr.Reenable = false, ""
			nr.Error += "; its after-hook ran anyway (drain.after_on_failure): it is back in the load balancer"
		}
	default:
		nr.Error += "; the node is still drained: its before-hook ran and its after-hook did not (drain.after_on_failure is off)"
	}
	return nr
}

// reenableCommand is the shell command that puts n back into the load balancer: the after-hook
// with the node's variables ("" when there is no after-hook).
func reenableCommand(plan Plan, n Node) string {
	if plan.Drain.After == "" {
		return ""
	}
	return fmt.Sprintf("REAUTH_NODE=%s REAUTH_NODE_URL=%s sh -c %s", reauth.ShellQuote(n.Name), reauth.ShellQuote(n.URL),
		reauth.ShellQuote(plan.Drain.After))
}

// reenableHint says how to put a drained node back into the load balancer.
func reenableHint(n NodeResult) string {
	if n.Reenable == "" {
		return fmt.Sprintf("%s is still drained: put it back into the load balancer by hand once it runs", n.Name)
	}
	return fmt.Sprintf("%s is still drained: --resume restarts it and then runs the after-hook; to put it back into the load "+
		"balancer without a restart, once it runs: %s", n.Name, n.Reenable)
}

// identity is n's identity (a pod UID) when its method has one, else "".
func identity(ctx context.Context, n Node) string {
	if idf, ok := n.Restarter.(Identifier); ok {
		id, _ := idf.Identity(ctx)
		return id
	}
	return ""
}

// restartedSince: a node the last run was restarting, recorded with identity before, now has
// another identity (now) and answers RUNNING: that restart happened.
func restartedSince(ctx context.Context, plan Plan, n Node, o Options, before, now string) bool {
	if before == "" || now == "" || before == now {
		return false
	}
	ready, _ := probe(ctx, plan, n, o)
	return ready
}
