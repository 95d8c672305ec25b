package rollout

import (
	"fmt"
	"strings"

	"github.com/reauth/reauth/rollout/execmethod"
)

// RestartCommander is a method that restarts with one command (its restart command, "" when it
// has separate stop and start commands): for the YAML of a fix that needs the two.
type RestartCommander interface {
	RestartCommand() string
}

// canStopStart reports whether n's method can stop and start the node separately.
func canStopStart(n Node) bool {
	_, ok := n.Restarter.(StopStarter)
	c, has := n.Restarter.(interface{ CanStopStart() bool })
	return ok && (!has || c.CanStopStart())
}

// StopStartFix is the inventory change that gives the nodes of plan without separate stop and
// start commands the two, as YAML to write ("" when every node has them, or none of those
// nodes could take them: Kubernetes). A fix that suggests --restart-strategy full or
// --clear-persisted-sessions includes it, so that the next preflight does not refuse the
// suggestion in turn.
func StopStartFix(plan Plan) string {
	var b strings.Builder
	for _, n := range plan.Nodes {
		if canStopStart(n) || n.Restarter.Method() == "kubernetes" {
			continue
		}
		stop, start := `"<command that stops the node>"`, `"<command that starts it>"`
		var cmd string
		if rc, ok := n.Restarter.(RestartCommander); ok {
			cmd = rc.RestartCommand()
		}
		if u := execmethod.SystemdUnit(cmd); u != "" {
			prefix := cmd[:strings.Index(cmd, "systemctl")]
			stop, start = fmt.Sprintf("%q", prefix+"systemctl stop "+u), fmt.Sprintf("%q", prefix+"systemctl start "+u)
		}
		m := n.Restarter.Method()
		fmt.Fprintf(&b, "    - name: %s\n      restart:\n        %s:\n", n.Name, m)
		if cmd != "" {
			fmt.Fprintf(&b, "          # instead of command: %q\n", cmd)
		}
		fmt.Fprintf(&b, "          stop: %s\n          start: %s\n", stop, start)
	}
	if b.Len() == 0 {
		return ""
	}
	return "write in the inventory (the other keys of each restart: block stay):\n  nodes:\n" + b.String()
}
