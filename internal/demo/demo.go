// Package demo shows the whole job on a sandbox: a simulated 3-node Jira cluster with an embedded
// database, a few dozen logged-in browsers (some with remember-me), and exactly the code path of
// `reauth run` on it, explaining each step, then proving every browser is logged out and that a
// fresh login works. It is the README's first command.
package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/cookiefile"
	"github.com/reauth/reauth/internal/sandbox"
	"github.com/reauth/reauth/inventory"
	"github.com/reauth/reauth/report"
	"github.com/reauth/reauth/runbook"
)

// Options for a demo.
type Options struct {
	Out, Err io.Writer // the story goes to Out (unless Quiet), progress to Err
	Quiet    bool      // --json: no story
	Exe      string    // the reauth binary that runs sandbox nodes ("" = this process's)
	Dir      string    // where to build the sandbox ("" = a temporary directory, removed after)
	Users    int       // browsers to log in (default 36)
	Nodes    int       // default 3
	// Report is where the run's evidence report goes (.html or .md); "" = report.html in Dir, or
	// reauth-demo-RUNID.html in the temporary directory when Dir is "".
	Report string
}

// Result is the demo's outcome. Its JSON names are part of the CLI contract.
type Result struct {
	SessionsBefore     int     `json:"sessions_before"`
	SessionsValidAfter int     `json:"sessions_valid_after"`
	RememberMe         int     `json:"remember_me_browsers"`
	Deleted            int64   `json:"deleted"`
	NodesRestarted     int     `json:"nodes_restarted"`
	Verified           bool    `json:"verified"`
	ProofLevel         string  `json:"proof_level"`
	CookiesReplayed    int     `json:"cookies_replayed"`
	FreshLoginWorks    bool    `json:"fresh_login_works"`
	Seconds            float64 `json:"seconds"`
	Dir                string  `json:"dir,omitempty"`
	Report             string  `json:"report,omitempty"` // the evidence report's path
}

// Run runs the demo. The sandbox is always torn down, also on failure.
func Run(ctx context.Context, o Options) (res Result, err error) {
	start := time.Now()
	if o.Users <= 0 {
		o.Users = 36
	}
	if o.Nodes <= 0 {
		o.Nodes = 3
	}
	say := func(format string, args ...any) {
		if !o.Quiet {
			fmt.Fprintf(o.Out, format+"\n", args...)
		}
	}
	dir := o.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "reauth-demo-"); err != nil {
			return res, err
		}
		defer os.RemoveAll(dir)
	} else {
		res.Dir = dir
	}

	say("== 1. A simulated Jira Data Center cluster")
	say("   %d nodes, each its own OS process on 127.0.0.1, sharing one embedded database with Jira's", o.Nodes)
	say("   real remembermetoken table. %d users log in through the real login form; half tick \"remember me\".", o.Users)
	cl, err := sandbox.Up(ctx, sandbox.Options{Dir: dir, Product: atlassian.Jira, Nodes: o.Nodes, Users: o.Users,
		RememberFraction: 0.5, StartupDelay: 400 * time.Millisecond, Exe: o.Exe}, o.Err)
	if err != nil {
		return res, fmt.Errorf("start the sandbox: %w", err)
	}
	defer func() {
		downCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if derr := cl.Down(downCtx); derr != nil && err == nil {
			err = fmt.Errorf("stop the sandbox: %w", derr)
		}
	}()
	browsers, err := loadBrowsers(cl.BrowsersDir())
	if err != nil {
		return res, err
	}
	nodes := cl.Nodes()
	res.SessionsBefore = countLoggedIn(ctx, browsers, nodes)
	if res.RememberMe, err = countRememberMe(cl.BrowsersDir()); err != nil {
		return res, err
	}
	say("   %d of %d browsers are logged in; %d hold a remember-me cookie.", res.SessionsBefore, len(browsers), res.RememberMe)
	say("")
	say("== 2. Why a restart alone is not enough")
	say("   Each node keeps HTTP sessions in memory: a restart drops them. But a browser with a")
	say("   remember-me cookie is silently logged back in from the token row in the database.")
	say("   And deleting the rows alone is not enough either: nodes cache tokens until they restart.")
	say("")
	say("== 3. reauth run (the same code path as `reauth run --config %s --yes`)", cl.InventoryPath())
	inv, err := inventory.Load(cl.InventoryPath())
	if err != nil {
		return res, err
	}
	say("   No canary and no exported cookies are needed for the proof: reauth mints its own proof token")
	say("   (one row for the admin, with a negative id no product allocates) and keeps a sample of the")
	say("   tokens it purges, in memory only. Every node must accept them before and reject them after.")
	// mode restart: the classic job, what every product and version can do (API mode is shown by
	// `reauth run --mode api` on Jira 9.11+ and Bamboo 9.4+).
	// The run's state (its backup of live tokens, journals, audit log) stays in the sandbox's
	// directory: a demo must leave nothing in the operator's state directory or audit log.
	rep, err := runbook.Run(ctx, runbook.Options{Inventory: inv, Yes: true, Mode: "restart",
		StateDir: StateDir(dir), Out: storyOut(o), Err: o.Err, Getenv: os.Getenv})
	if rep != nil {
		res.Deleted, res.NodesRestarted, res.Verified = rep.Deleted, rep.NodesRestarted, rep.Verified
		res.ProofLevel, res.CookiesReplayed = rep.Proof.Level, rep.Proof.CookiesReplayed
	}
	if rep != nil && rep.AuditLog != "" {
		if res.Report, err = writeReport(o, rep, err); err != nil {
			return res, err
		}
	}
	if err != nil {
		return res, fmt.Errorf("reauth run: %w", err)
	}
	say("")
	say("== The proof, node by node")
	for _, p := range rep.Products {
		pr := p.Verify.Proof
		if m := pr.Minted; m != nil && m.RowID != 0 {
			say("   minted proof token for %s: accepted before by %d node(s), rejected after by %d", m.User, len(m.AcceptedBefore), len(m.RejectedAfter))
		}
		say("   sampled %d purged token(s) of %d user(s), replayed with it (%d cookie(s) in all)", pr.Sampled.Taken, pr.Sampled.Users, pr.CookiesReplayed)
		for _, n := range pr.Nodes {
			say("   %-6s accepted before %d, rejected after %d, still accepted %d; %d session(s) it started before are gone",
				n.Node, n.AcceptedBefore, n.RejectedAfter, n.AcceptedAfter, n.Restart.SessionsRejected)
		}
	}
	say("   proof level: %s; verified: %v", rep.Proof.Level, rep.Verified)
	say("")
	say("== 4. Every browser, on every node, after the run")
	res.SessionsValidAfter = countLoggedIn(ctx, browsers, nodes)
	say("   %d of %d browsers are still logged in (%d before).", res.SessionsValidAfter, len(browsers), res.SessionsBefore)
	fresh := sandbox.NewBrowser()
	user := "user001"
	if err := fresh.Login(ctx, nodes[0].URL, user, sandbox.UserPassword, true); err == nil {
		if who, ok, _ := fresh.WhoAmI(ctx, nodes[0].URL); ok && who == user {
			res.FreshLoginWorks = true
		}
	}
	say("   A fresh login as %s works: %v.", user, res.FreshLoginWorks)
	res.Seconds = time.Since(start).Seconds()
	say("")
	say("== 5. The evidence report, for the incident ticket")
	say("   %s", res.Report)
	say("   One self-contained page (open it in a browser, print it, attach it): the outcome, a timeline")
	say("   of every node's restart with its downtime, token counts, the proof per node and the backup.")
	say("   `reauth report --audit-log FILE -o FILE.html` rebuilds it from the audit log alone.")
	if o.Dir != "" && rep.AuditLog != "" {
		say("   This run's audit log (and backup, journals) stayed in the sandbox: %s", rep.AuditLog)
	}
	say("")
	say("Done in %.1f s. On a real cluster: write a reauth.yaml (see README.md), then", res.Seconds)
	say("  reauth run --config reauth.yaml --dry-run     # the plan, nothing changed")
	say("  reauth run --config reauth.yaml --report incident.html   # the job, with backup, restart, proof and report")
	if res.SessionsValidAfter != 0 || !res.FreshLoginWorks || !res.Verified {
		return res, fmt.Errorf("the demo did not end as it should: %d browser(s) still logged in, fresh login works: %v, verified: %v",
			res.SessionsValidAfter, res.FreshLoginWorks, res.Verified)
	}
	return res, nil
}

// StateDir is the demo's own state directory in the sandbox directory dir: the backup, journals
// and audit log of its run, never the operator's ($XDG_STATE_HOME/reauth).
func StateDir(dir string) reauth.StateDir {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs // journals are named from absolute paths
	}
	return reauth.StateDir{Path: filepath.Join(dir, "state")}
}

// writeReport writes the run's evidence report from its audit log and returns its path. runErr
// is the run's own error: the report is written for a failed run too.
func writeReport(o Options, rep *runbook.Report, runErr error) (string, error) {
	path := o.Report
	switch {
	case path != "":
	case o.Dir != "":
		path = filepath.Join(o.Dir, "report.html")
	default:
		path = filepath.Join(os.TempDir(), "reauth-demo-"+rep.RunID+".html")
	}
	r, err := report.Load(rep.AuditLog, rep.RunID)
	if err == nil {
		err = report.Write(path, r)
	}
	if err != nil {
		if runErr != nil {
			return "", fmt.Errorf("reauth run: %w (and its report: %v)", runErr, err)
		}
		return "", fmt.Errorf("evidence report: %w", err)
	}
	return path, nil
}

func storyOut(o Options) io.Writer {
	if o.Quiet {
		return io.Discard
	}
	return o.Out
}

func loadBrowsers(dir string) ([]*sandbox.Browser, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.cookies"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no browser cookie jars in %s", dir)
	}
	var out []*sandbox.Browser
	for _, f := range files {
		b, err := sandbox.LoadBrowser(f)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// countLoggedIn counts the browsers that some node still accepts.
func countLoggedIn(ctx context.Context, browsers []*sandbox.Browser, nodes []sandbox.NodeInfo) int {
	n := 0
	for _, b := range browsers {
		for _, node := range nodes {
			if _, ok, _ := b.WhoAmI(ctx, node.URL); ok {
				n++
				break
			}
		}
	}
	return n
}

// countRememberMe counts the browsers that hold a remember-me cookie.
func countRememberMe(dir string) (int, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.cookies"))
	remember := 0
	p, _ := atlassian.Lookup(string(atlassian.Jira))
	for _, f := range files {
		cs, err := cookiefile.Load(f)
		if err != nil {
			return 0, err
		}
		for _, c := range cs {
			if c.Name == p.RememberMeCookie {
				remember++
			}
		}
	}
	return remember, nil
}
