package sshmethod

import "github.com/reauth/reauth/rollout/execmethod"

// LogPlace implements rollout.LogPlacer: the systemd unit's journal on the node, when its
// restart or start command is a systemctl call ("" otherwise).
func (r *Restarter) LogPlace() string {
	for _, c := range []string{r.cfg.Command, r.cfg.StartCmd} {
		if u := execmethod.SystemdUnit(c); u != "" {
			return "journalctl -u " + u + " on " + r.cfg.Alias
		}
	}
	return ""
}

// RestartCommand implements rollout.RestartCommander: the one restart command ("" with stop
// and start), for the YAML of a fix.
func (r *Restarter) RestartCommand() string {
	if r.cfg.StopCmd != "" || r.cfg.StartCmd != "" {
		return ""
	}
	return r.cfg.Command
}
