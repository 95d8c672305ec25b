package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/backup"
	"github.com/reauth/reauth/report"
	"github.com/reauth/reauth/runbook"
)

type reportOptions struct {
	auditLog string
	run      string
	out      string
	json     bool
	evidence string
	identity string
}

func newReportCmd(streams IO) *cobra.Command {
	o := &reportOptions{}
	c := &cobra.Command{
		Use:   "report --audit-log FILE [--run ID] -o FILE.html|FILE.md [--evidence DIR [--identity FILE]] [--json]",
		Short: "Rebuild a run's evidence report (HTML or Markdown) from the audit log",
		Long: `report writes the evidence report of a 'reauth run' from its audit log alone: the same file that
'reauth run --report' wrote at the end of the run, byte for byte.

At the top: what was done, to which products and databases, when, by whom (OS user, host), the run
id and the outcome in one line: verified (old cookies were accepted before and every node rejects
them now), unproven (the run finished, but no old cookie was shown to be rejected) or failed, with
the reason. Then a timeline (lock, purge, each node's drain, restart, down, starting, RUNNING and
stable window with real times, API calls, verify; downtime and failed steps marked), the token
counts, the per-node proof, the backup with its sha256 and restore command, and what a forced
re-login does not cover.

The format follows the file name: .html is one self-contained page (no script, no external file:
it opens offline and prints well), .md is Markdown for a ticket (the timeline as a table). The
report holds names, counts and cookie fingerprints only: never a token, password or cookie value.
Without --run, the last run in the audit log is taken, and the command says which.

The audit log is hash-chained (each line carries the sha256 of the line before it): the report
says whether the chain up to the run's last line is intact, and report warns when it is broken.
--evidence DIR writes a bundle for a SOC: report.html, report.md, the run's audit lines,
affected-accounts.csv (every account whose tokens were deleted, read from the backups; encrypted
ones need --identity), manifest.json and SHA256SUMS (check it with sha256sum -c).`,
		Example: `  reauth report --audit-log /var/log/reauth-audit.jsonl -o incident-4711.html
  reauth report --audit-log reauth-audit.jsonl --run 20261127T010203Z-a1b2c3 -o run.md`,
		Args: needArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, args []string) error {
			return runReport(streams, o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.auditLog, "audit-log", "", "the audit log the run wrote (defaults.audit_log in the inventory)")
	f.StringVar(&o.run, "run", "", "the run id (default: the last run in the audit log)")
	f.StringVarP(&o.out, "output", "o", "", "the report file: FILE.html or FILE.md")
	f.BoolVar(&o.json, "json", false, "print one JSON object (report, run_id, outcome, reason) on stdout")
	f.StringVar(&o.evidence, "evidence", "", "also write an evidence bundle into this new directory: both reports, the run's audit lines, affected-accounts.csv, manifest.json, SHA256SUMS")
	f.StringVar(&o.identity, "identity", "", "age identity or SSH private key: list the accounts of encrypted backups in the bundle's CSV too")
	_ = c.MarkFlagRequired("audit-log")
	return c
}

// reportResult is `reauth report --json`.
type reportResult struct {
	Report  string `json:"report"`
	RunID   string `json:"run_id"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
	// Integrity is what the audit log's hash chain shows up to the run's last line;
	// ChainBroken: a line there was edited, removed or inserted after it was written.
	Integrity   string `json:"integrity"`
	ChainBroken bool   `json:"chain_broken"`
}

func runReport(streams IO, o *reportOptions) error {
	if o.out == "" && o.evidence == "" {
		return reauth.Usage("pass -o FILE.html (or FILE.md), --evidence NEWDIR, or both", "no output: -o or --evidence is required")
	}
	if o.out != "" {
		if _, err := report.FormatOf(o.out); err != nil {
			return err
		}
	}
	if err := checkEvidenceDir(o.evidence); err != nil {
		return err
	}
	var ids []backup.Identity
	if o.identity != "" {
		var err error
		if ids, err = evidenceIdentities(streams, o.identity); err != nil {
			return err
		}
	}
	r, err := report.Load(o.auditLog, o.run)
	if err != nil {
		return err
	}
	if o.run == "" {
		fmt.Fprintf(streams.Err, "report: run %s, the last run in %s (pass --run ID for another)\n", r.RunID, o.auditLog)
	}
	if o.out != "" {
		if err := report.Write(o.out, r); err != nil {
			return err
		}
	}
	warnBrokenChain(streams.Err, o.auditLog, r)
	if o.evidence != "" {
		if err := writeEvidence(streams.Err, o.evidence, o.auditLog, r, ids); err != nil {
			return err
		}
	}
	if o.json {
		return writeJSON(streams.Out, reportResult{Report: o.out, RunID: r.RunID, Outcome: r.Outcome, Reason: r.Reason,
			Integrity: r.Integrity, ChainBroken: r.ChainBroken})
	}
	fmt.Fprintf(streams.Out, "Evidence report: %s (run %s: %s)\n", o.out, r.RunID, r.Outcome)
	return nil
}

// checkReportFlag refuses a --report that cannot be written, before the run changes anything.
func checkReportFlag(path string, dryRun bool) error {
	if path == "" {
		return nil
	}
	if dryRun {
		return reauth.Usage("drop --report, or run without --dry-run", "--report documents what a run did: a dry run does nothing")
	}
	_, err := report.FormatOf(path)
	return err
}

// writeRunReport writes the report of the run that just ended, from its audit log (so that it is
// the same file `reauth report` rebuilds later). runErr is the run's own error: a report that
// cannot be written never hides it.
func writeRunReport(w io.Writer, path string, rep *runbook.Report, runErr error) error {
	if path == "" || rep == nil {
		return runErr
	}
	if rep.AuditLog == "" {
		fmt.Fprintf(w, "no report written to %s: the run stopped before changing anything and wrote no audit line\n", path)
		return runErr
	}
	rebuild := fmt.Sprintf("rebuild it with: reauth report --audit-log %s --run %s -o %s",
		reauth.ShellQuote(rep.AuditLog), rep.RunID, reauth.ShellQuote(path))
	r, err := report.Load(rep.AuditLog, rep.RunID)
	if err == nil {
		err = report.Write(path, r)
	}
	if err != nil {
		if runErr != nil {
			fmt.Fprintf(w, "warning: report not written: %v; %s\n", err, rebuild)
			return runErr
		}
		return reauth.WithHint(fmt.Errorf("the run succeeded, but its report was not written: %w", err), rebuild)
	}
	warnBrokenChain(w, rep.AuditLog, r)
	fmt.Fprintf(w, "Evidence report: %s (%s)\n", path, r.Outcome)
	return runErr
}

// warnBrokenChain says, beside the report, that the audit log was changed after it was written.
func warnBrokenChain(w io.Writer, path string, r *report.Report) {
	if r.ChainBroken {
		fmt.Fprintf(w, "warning: audit log %s: %s\n", path, r.Integrity)
	}
}
