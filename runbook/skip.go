package runbook

import (
	"fmt"
	"io"
	"slices"

	"github.com/reauth/reauth/internal/termsafe"
	"github.com/reauth/reauth/rollout"
)

// skipNodes leaves out of the unit's plan the nodes the operator named with --skip-node, and
// records them in the report (plan, report, --json).
func (u *unit) skipNodes() error {
	skipped, err := rollout.Skip(&u.rplan, u.o.SkipNodes)
	if err != nil {
		return err
	}
	u.report.SkippedNodes = skipped
	return nil
}

// checkSkips refuses --skip-node names that no selected product has: a typo would otherwise
// restart the dead node's neighbours and leave the operator believing it was left out.
func checkSkips(o Options, units []*unit) error {
	var unknown, all []string
	for name := range o.SkipNodes {
		found := false
		for _, u := range units {
			for _, s := range u.report.SkippedNodes {
				found = found || s.Name == name
			}
		}
		if !found {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	for _, u := range units {
		for _, n := range u.rplan.Nodes {
			all = append(all, n.Name)
		}
	}
	slices.Sort(unknown)
	return rollout.UnknownSkips(unknown, all)
}

// printSkipped is the plan's and the report's line for each node left out.
func printSkipped(w io.Writer, skipped []rollout.SkippedNode) {
	for _, s := range skipped {
		fmt.Fprintf(w, "              skipped %s (--skip-node: %s): %s\n", termsafe.Field(s.Name), termsafe.Field(s.Reason), rollout.SkipNote)
	}
}
