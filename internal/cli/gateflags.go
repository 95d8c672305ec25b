package cli

import (
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/reauth/reauth"
)

// gateFlags are the health gates' two limits a slow product needs raised in an incident, without
// editing the inventory: how long a node may take to come back, and how long it must then
// answer RUNNING without a break.
type gateFlags struct {
	startTimeout, stableWindow time.Duration
}

func (g *gateFlags) add(f *pflag.FlagSet) {
	f.DurationVar(&g.startTimeout, "start-timeout", 0, "per node: from its restart issued to a stable RUNNING (e.g. 30m; default: the inventory's defaults.start_timeout, else 20m)")
	f.DurationVar(&g.stableWindow, "stable-window", 0, "how long a restarted node must answer RUNNING without a break before the next (e.g. 30s; default: the inventory's defaults.stable_window, else 500ms)")
}

// check refuses limits that cannot work, before anything is touched.
func (g gateFlags) check() error {
	switch {
	case g.startTimeout < 0:
		return reauth.Usage("pass a positive --start-timeout such as 30m", "--start-timeout %v: negative", g.startTimeout)
	case g.stableWindow < 0:
		return reauth.Usage("pass a positive --stable-window such as 30s", "--stable-window %v: negative", g.stableWindow)
	case g.startTimeout > 0 && g.stableWindow >= g.startTimeout:
		return reauth.Usage("make --stable-window shorter than --start-timeout (the window is part of the node's start time)",
			"--stable-window %v is not shorter than --start-timeout %v", g.stableWindow, g.startTimeout)
	}
	return nil
}

// skipFlags leave dead or decommissioned nodes out of a run: --skip-node NAME (repeatable) and
// the --skip-reason the plan, the report and --json record for them.
type skipFlags struct {
	nodes  []string
	reason string
}

func (s *skipFlags) add(f *pflag.FlagSet) {
	f.StringArrayVar(&s.nodes, "skip-node", nil, "leave this node out (dead or decommissioned: its memory holds no session, and when it starts it reads the purged table); repeatable; needs --skip-reason")
	f.StringVar(&s.reason, "skip-reason", "", "why the --skip-node nodes are left out (recorded in the plan, the report and --json)")
}

// parse is the nodes to skip, name → reason.
func (s skipFlags) parse() (map[string]string, error) {
	if len(s.nodes) == 0 {
		if s.reason != "" {
			return nil, reauth.Usage("name the nodes to leave out with --skip-node NAME", "--skip-reason without --skip-node")
		}
		return nil, nil
	}
	if strings.TrimSpace(s.reason) == "" {
		return nil, reauth.Usage(`say why with --skip-reason "…" (e.g. "node3 decommissioned, INC-4711"): the report records it`,
			"--skip-node %s without a reason", strings.Join(s.nodes, ", "))
	}
	m := map[string]string{}
	for _, n := range s.nodes {
		if n = strings.TrimSpace(n); n == "" {
			return nil, reauth.Usage("pass a node name from the inventory", "--skip-node with an empty name")
		}
		m[n] = s.reason
	}
	return m, nil
}
