package rollout

import (
	"fmt"
	"strings"

	"github.com/reauth/reauth"
)

// SkippedNode is a node the operator left out (--skip-node): dead or decommissioned, so its
// memory holds no session, and when it starts again it reads the purged token table. It is not
// restarted, not probed, not replayed against. The JSON names are part of the --json contract.
type SkippedNode struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// SkipNote is what the plan and the report say of a skipped node.
const SkipNote = "not restarted, probed or replayed against: its memory holds no session, and when it starts it reads the purged table"

// Skip removes the nodes named in skip (name → reason) from plan and returns them, in plan
// order. Names plan does not have are left to the caller (another product may have them).
// Skipping every node is refused: nothing would end the sessions held in memory.
func Skip(plan *Plan, skip map[string]string) ([]SkippedNode, error) {
	if len(skip) == 0 {
		return nil, nil
	}
	var kept []Node
	var out []SkippedNode
	for _, n := range plan.Nodes {
		if reason, ok := skip[n.Name]; ok {
			out = append(out, SkippedNode{Name: n.Name, Reason: reason})
			continue
		}
		kept = append(kept, n)
	}
	if len(out) > 0 && len(kept) == 0 {
		return nil, reauth.Usage("leave at least one running node in the plan: a run that restarts no node ends no session held in memory",
			"--skip-node leaves no node of %s to restart", plan.Product.Name)
	}
	plan.Nodes = kept
	return out, nil
}

// UnknownSkips is the error for --skip-node names no plan had, listing the nodes there are.
func UnknownSkips(unknown []string, nodes []string) error {
	return reauth.Usage(fmt.Sprintf("name nodes of the inventory: %s", strings.Join(nodes, ", ")),
		"--skip-node %s: no such node", strings.Join(unknown, ", "))
}
