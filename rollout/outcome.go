package rollout

import (
	"context"
	"fmt"
	"strings"

	"github.com/reauth/reauth"
)

// summary says which nodes were restarted, failed and untouched.
func summary(res Result) string {
	var parts []string
	for _, st := range []string{StatusRestarted, StatusSkipped, StatusStopped, StatusFailed, StatusUntouched} {
		var names []string
		for _, n := range res.Nodes {
			if n.Status == st {
				names = append(names, n.Name)
			}
		}
		if len(names) > 0 {
			label := map[string]string{StatusRestarted: "restarted", StatusSkipped: "restarted earlier",
				StatusFailed: "failed", StatusUntouched: "not touched", StatusStopped: "stopped, not started again"}[st]
			parts = append(parts, label+": "+strings.Join(names, ", "))
		}
	}
	return strings.Join(parts, "; ")
}

// recordNode puts node i's result in res and the journal, then checks its outcome: nil when the
// node ended restarted (go on with the next), else the error that ends the run: interrupted when
// ctx is done, else failed(res, i), which words the failure as the strategy sees it.
func recordNode(ctx context.Context, j *journal, res Result, i int, nr NodeResult, journalPath string, failed func(Result, int) error) error {
	res.Nodes[i] = nr
	if err := j.finish(nr); err != nil {
		return journalError(res, i, journalPath, err)
	}
	if nr.Status != StatusRestarted {
		if ctx.Err() != nil {
			return interrupted(res, i+1)
		}
		return failed(res, i)
	}
	return nil
}

// failure is the error of a rolling restart whose wave ended with the nodes failed (indices in
// res) not restarted: it names each, and says how to continue.
func failure(res Result, failed []int, journal string) error {
	var who, msgs []string
	drained := ""
	for _, i := range failed {
		n := res.Nodes[i]
		who = append(who, n.Name)
		msgs = append(msgs, fmt.Sprintf("node %s failed: %s", n.Name, n.Error))
		if n.Drained {
			drained += "; " + reenableHint(n)
		}
		if n.Log != "" {
			subject := n.Name
			if len(failed) == 1 {
				subject = "it"
			}
			drained += fmt.Sprintf("; why %s did not come back: %s", subject, n.Log)
		}
	}
	hint := fmt.Sprintf("fix %s, then run again with --resume to continue with %s", strings.Join(who, ", "), map[bool]string{true: "it", false: "them"}[len(who) == 1])
	if journal != "" {
		hint += " (the journal " + journal + " remembers the nodes already restarted)"
	}
	err := fmt.Errorf("%s (%s)", strings.Join(msgs, "; "), summary(res))
	return reauth.WithHint(reauth.WithCode(err, partialOr(res, reauth.ExitFailed)), hint+drained)
}

// partialOr is ExitPartial when some node was restarted (now or by an earlier run), else code.
func partialOr(res Result, code reauth.ExitCode) reauth.ExitCode {
	if res.Restarted() > 0 {
		return reauth.ExitPartial
	}
	return code
}

// journalError: the journal could not be written before (i < 0) or after node i was handled.
// The run stops: going on would restart nodes that --resume could not tell apart.
func journalError(res Result, i int, path string, err error) error {
	what := "before the next node: nothing was done to it"
	if i >= 0 {
		n := res.Nodes[i]
		what = fmt.Sprintf("after node %s (%s); the journal still says it was being restarted, so --resume will say it "+
			"cannot know and restart it again", n.Name, n.Status)
	}
	return reauth.WithHint(reauth.WithCode(fmt.Errorf("write restart journal %s %s: %w (%s)", path, what, err, summary(res)),
		partialOr(res, reauth.ExitFailed)),
		"make the journal's directory writable (or free space), then run again with --resume")
}

func interrupted(res Result, next int) error {
	err := fmt.Errorf("%w before node %d of %d (%s)", reauth.ErrInterrupted, next+1, len(res.Nodes), summary(res))
	hint := "run again with --resume to continue"
	for _, n := range res.Nodes {
		if n.Drained {
			hint += "; " + reenableHint(n)
		}
	}
	return reauth.WithHint(reauth.WithCode(err, reauth.ExitInterrupted), hint)
}
