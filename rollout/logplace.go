package rollout

import (
	"strings"

	"github.com/reauth/reauth/rollout/execmethod"
)

// LogPlacer says where a node's product log can be read, in the method's own terms
// ("journalctl -u jira on 10.0.2.12", "kubectl -n prod logs jira-1 --previous"), for the hint of
// a node that did not come back.
type LogPlacer interface {
	LogPlace() string
}

// logPlace is where to look when node n failed: its method's place for the log, Tomcat's
// catalina.out when its install directory is known, and the product's own log.
func logPlace(n Node) string {
	var places []string
	if lp, ok := n.Restarter.(LogPlacer); ok {
		if p := lp.LogPlace(); p != "" {
			places = append(places, p)
		}
	} else if r, ok := n.Restarter.(*execmethod.Restarter); ok {
		if p := execLogPlace(r); p != "" {
			places = append(places, p)
		}
	}
	if n.Install != "" {
		places = append(places, strings.TrimRight(n.Install, "/")+"/logs/catalina.out")
	}
	places = append(places, "the product's atlassian-*.log in its home directory's log/ (logs/ for Confluence)")
	return strings.Join(places, "; ")
}

// execLogPlace is where local commands' node logs: the systemd unit's journal, when the
// command is a systemctl restart or start.
func execLogPlace(r *execmethod.Restarter) string {
	for _, c := range []string{r.Command, r.StartCmd} {
		if u := execmethod.SystemdUnit(c); u != "" {
			return "journalctl -u " + u
		}
	}
	return ""
}
