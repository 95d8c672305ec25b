package runbook

import (
	"fmt"
	"io"
	"strings"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/internal/termsafe"
	"github.com/reauth/reauth/rollout"
)

// printPlan shows what will happen to one product, before anything does.
func (u *unit) printPlan(w io.Writer) {
	fmt.Fprintf(w, "\n== %s (%s)\n", u.prod.Name, termsafe.Field(u.name))
	if u.report.Status == StatusSkipped {
		fmt.Fprintf(w, "   already done in run %s: skipped\n", u.journal.RunID)
		return
	}
	if u.resumed {
		fmt.Fprintf(w, "   resuming run %s from phase %q\n", u.journal.RunID, u.journal.Phase)
	}
	fmt.Fprintf(w, "   database   %s\n", u.report.Database)
	fmt.Fprintf(w, "   table      %s (cut-off: id <= %d, tokens issued before this run)\n", u.report.Table, u.purge.CutoffID)
	fmt.Fprintf(w, "   purge      %d token(s) to delete, %d kept", u.purge.ToDelete, u.purge.ToKeep)
	if len(u.inv.ExcludeUsers) > 0 {
		fmt.Fprintf(w, " (excluded: %s)", fields(u.inv.ExcludeUsers))
	}
	fmt.Fprintln(w)
	for i, pu := range u.purge.PerUser {
		if i == 10 {
			fmt.Fprintf(w, "              … and %d more user(s)\n", max(u.purge.Users, int64(len(u.purge.PerUser)))-10)
			break
		}
		fmt.Fprintf(w, "              %-24s %d\n", termsafe.Field(pu.User), pu.Count)
	}
	if r := u.file().Defaults.PurgeRest; r > 0 {
		fmt.Fprintf(w, "              one batch at a time, resting %g× its time after it, at most %s (defaults.purge_rest): ~%.3g× as long or more\n",
			r, reauth.MaxPurgeRestTime, 1+r)
	}
	if c := u.report.Companion; c != nil {
		fmt.Fprintf(w, "   also       %d row(s) of %s (id <= %d), into their own backup: %s's remember-me\n", c.ToDelete, c.Table, c.CutoffID, u.prod.Name)
	}
	if u.prod.Table.Keep.IsZero() == false {
		fmt.Fprintf(w, "   kept       rows where %s: %s's application tokens, never deleted (app_token_rule overrides)\n", u.store.Table().Keep, u.prod.Name)
	}
	u.printSSO(w)
	u.printIdP(w)
	fmt.Fprintf(w, "   mode       %s\n", u.report.Mode.Why)
	u.ending().printPlan(w, u)
	u.printChecks(w)
}

// printChecks lists the proofs the run will collect, and the warnings.
func (u *unit) printChecks(w io.Writer) {
	if u.inv.Canary != nil {
		fmt.Fprintf(w, "   canary     %s logs in on every node before; its cookies must be rejected after\n", termsafe.Field(u.inv.Canary.User))
	}
	if len(u.jar) > 0 {
		fmt.Fprintf(w, "   cookies    %d cookie(s) from --cookies must be rejected after\n", len(u.jar))
	}
	u.printProofPlan(w)
	u.printFrontDoor(w)
	for _, warn := range u.report.Warnings {
		if warn == clearBackupWarning {
			continue // said once for every product after the plans: printClearBackupWarning
		}
		fmt.Fprintf(w, "   warning    %s\n", warn)
	}
}

// printReport is the human summary at the end.
func printReport(w io.Writer, r *Report) {
	fmt.Fprintf(w, "\n== Report (run %s)\n", r.RunID)
	for _, p := range r.Products {
		if p.ExitCode != 0 {
			fmt.Fprintf(w, "%s: %s (exit %d)\n", termsafe.Field(p.Product), p.Status, p.ExitCode)
		} else {
			fmt.Fprintf(w, "%s: %s\n", termsafe.Field(p.Product), p.Status)
		}
		if p.Deleted > 0 || len(p.Backups) > 0 {
			fmt.Fprintf(w, "   deleted %d token(s) with id <= %d (issued before the run); kept %d newer\n", p.Deleted, p.CutoffID, p.Kept)
			for i, b := range p.Backups {
				printBackupLine(w, p, i, b)
			}
			printUncounted(w, p)
			printBackupNote(w, p.Backup)
		}
		if c := p.Companion; c != nil {
			fmt.Fprintf(w, "   also    deleted %d row(s) of %s with id <= %d\n", c.Deleted, c.Table, c.CutoffID)
			for i, b := range c.Backups {
				sum := ""
				if i < len(c.SHA256) {
					sum = " sha256 " + c.SHA256[i]
				}
				fmt.Fprintf(w, "   backup  %s%s (undo: reauth restore --product %s --table %s … %s)\n", b, sum, p.Product, c.Table, b)
			}
		}
		if p.SSO != nil {
			fmt.Fprintf(w, "   sso     %s\n", termsafe.Text(p.SSO.Summary()))
		}
		if s := p.IdP.summary(); s != "" {
			fmt.Fprintf(w, "   idp     %s\n", termsafe.Text(s))
		}
		if res := p.Mode.Result; res != nil {
			fmt.Fprintf(w, "   api     ended the sessions of %d of %d user(s) (%d unknown, %d failed, %d not done) in %.1fs, %d request(s), p99 %.0f ms; no node restarted\n",
				res.Ended, res.Users, len(res.NotFound), len(res.Failed), len(res.NotDone), res.ElapsedMS/1000, res.Requests, res.P99MS)
		}
		for _, n := range p.Nodes {
			line := fmt.Sprintf("   node %-12s %s", termsafe.Field(n.Name), n.Status)
			if n.Restarted {
				line += fmt.Sprintf(", back after %.1fs", float64(n.ReadyAfterMS)/1000)
			}
			if n.Error != "" {
				line += ": " + termsafe.Field(n.Error)
			}
			fmt.Fprintln(w, line)
			if len(n.SessionFiles) > 0 {
				fmt.Fprintf(w, "        removed %s while it was down\n", fields(n.SessionFiles))
			}
			if n.Drained && n.Reenable != "" {
				fmt.Fprintf(w, "   DRAINED %s is out of the load balancer; once it runs, put it back with: %s\n", termsafe.Field(n.Name), termsafe.Text(n.Reenable))
			} else if n.Drained {
				fmt.Fprintf(w, "   DRAINED %s is out of the load balancer (there is no after-hook: put it back by hand)\n", termsafe.Field(n.Name))
			}
		}
		printExposure(w, p.Exposure)
		for _, s := range p.SkippedNodes {
			fmt.Fprintf(w, "   node %-12s skipped (--skip-node: %s): %s\n", termsafe.Field(s.Name), termsafe.Field(s.Reason), rollout.SkipNote)
		}
		v := p.Verify
		if p.Status == StatusDone || p.Status == "verified" || p.Status == "not verified" {
			fmt.Fprintf(w, "   verify  tokens issued before the run left: %d (judged by %s); nodes RUNNING: %v\n",
				v.TokensRemaining, v.Proof.IssuedBefore.By, v.NodesRunning)
			printProof(w, v.Proof)
		}
		for _, pr := range v.Problems {
			fmt.Fprintf(w, "   PROBLEM %s\n", termsafe.Text(pr))
		}
		if p.Error != "" {
			fmt.Fprintf(w, "   error   %s\n", termsafe.Text(p.Error))
		}
	}
	fmt.Fprintf(w, "verified: %v (proof level: %s)\n", r.Verified, r.Proof.Level)
	if len(r.SSONotCovered) > 0 {
		fmt.Fprintf(w, "          not for Crowd SSO: %s sign(s) in through Crowd, which is not in this run\n", strings.Join(r.SSONotCovered, ", "))
	}
	fmt.Fprintln(w, "Not covered by a forced re-login:")
	for _, n := range r.NotCovered {
		fmt.Fprintf(w, " - %s\n", n)
	}
	if r.AuditLog != "" {
		fmt.Fprintf(w, "Audit log: %s\n", r.AuditLog)
	}
}

// fields joins names for one line, each escaped for the terminal.
func fields(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = termsafe.Field(n)
	}
	return strings.Join(out, ", ")
}
