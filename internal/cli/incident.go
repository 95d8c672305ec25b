package cli

import (
	"os"
	"runtime/debug"
	"strings"
	"unicode"

	"github.com/spf13/pflag"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/runbook"
)

// incidentFlags are --ticket and --reason: the incident a run is for.
type incidentFlags struct{ ticket, reason string }

func (i *incidentFlags) add(f *pflag.FlagSet) {
	f.StringVar(&i.ticket, "ticket", "", "the incident's ticket (e.g. INC-4711): in the plan, the audit log, the report and --json")
	f.StringVar(&i.reason, "reason", "", "why the run is done, in a sentence: in the plan, the audit log, the report and --json")
}

// Limits of --ticket and --reason: a ticket id and a sentence, not a document.
const (
	maxTicket = 100
	maxReason = 1000
)

// incident checks the flags: printable text of a sane length (they reach terminals, the HTML
// report and a SOC's tooling).
func (i incidentFlags) incident() (runbook.Incident, error) {
	in := runbook.Incident{Ticket: strings.TrimSpace(i.ticket), Reason: strings.TrimSpace(i.reason)}
	for _, c := range []struct {
		flag, v string
		max     int
	}{{"--ticket", in.Ticket, maxTicket}, {"--reason", in.Reason, maxReason}} {
		if len(c.v) > c.max {
			return in, reauth.Usage("shorten it: put the details in the ticket", "%s is %d bytes long; at most %d", c.flag, len(c.v), c.max)
		}
		if strings.IndexFunc(c.v, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }) >= 0 {
			return in, reauth.Usage("write it on one line, without control characters", "%s holds a control character or a line break", c.flag)
		}
	}
	if strings.ContainsAny(in.Ticket, " \t") {
		return in, reauth.Usage("give the ticket's id alone, e.g. --ticket INC-4711, and the rest in --reason", "--ticket %q holds spaces", in.Ticket)
	}
	return in, nil
}

// runningVersion is the reauth version and commit that runs, for the audit log and the report.
func runningVersion() string {
	v := versionOf(stamp{version: Version, commit: Commit, date: BuildDate}, debug.ReadBuildInfo)
	s := v.Version
	if v.Commit != "" {
		s += " (commit " + v.Commit
		if v.Modified {
			s += ", modified"
		}
		s += ")"
	}
	return s
}

// stdinTTY names the terminal on standard input ("" when it is none or unknown): where a
// confirmation is typed, for the report's "confirmed by".
func stdinTTY() string {
	if name, err := os.Readlink("/proc/self/fd/0"); err == nil && strings.HasPrefix(name, "/dev/") {
		return name
	}
	return ""
}
