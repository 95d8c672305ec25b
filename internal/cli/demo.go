package cli

import (
	"context"
	"os"

	"github.com/spf13/cobra"

	"github.com/reauth/reauth/internal/demo"
	"github.com/reauth/reauth/report"
)

type demoOptions struct {
	json   bool
	keep   string
	users  int
	report string
}

func newDemoCmd(streams IO) *cobra.Command {
	o := &demoOptions{}
	c := &cobra.Command{
		Use:   "demo [--json]",
		Short: "The whole job on a simulated Jira cluster, explained step by step",
		Long: `demo starts a simulated 3-node Jira Data Center cluster on 127.0.0.1 (separate OS processes, an
embedded SQLite database with Jira's real token table), logs a few dozen simulated browsers in
through the real login form (half of them with "remember me"), shows that they are logged in, runs
exactly the code path of 'reauth run' on it, shows that every browser is now logged out and that a
fresh login works, and tears everything down. Nothing outside a temporary directory is touched.
It writes the run's evidence report (an HTML page, see 'reauth report --help') and prints its path.`,
		Example: `  reauth demo
  reauth demo --json          # sessions_before, sessions_valid_after, deleted, nodes_restarted, verified
  reauth demo --keep ./demo   # keep the sandbox's files (logs, cookie jars, state/ with the backup and audit log, report.html)
  reauth demo --report demo.html`,
		Args: needArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, args []string) error {
			return runDemo(c.Context(), streams, o)
		},
	}
	c.Flags().BoolVar(&o.json, "json", false, "print one JSON object with the outcome on stdout")
	c.Flags().StringVar(&o.keep, "keep", "", "build the sandbox in this directory and keep its files (the nodes are still stopped)")
	c.Flags().IntVar(&o.users, "users", 36, "simulated browsers to log in")
	c.Flags().StringVar(&o.report, "report", "", "write the evidence report here (FILE.html or FILE.md; default: report.html in --keep's directory, else a temporary file)")
	return c
}

func runDemo(ctx context.Context, streams IO, o *demoOptions) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if o.keep != "" {
		if err := os.MkdirAll(o.keep, 0o755); err != nil {
			return err
		}
	}
	if o.report != "" {
		if _, err := report.FormatOf(o.report); err != nil {
			return err
		}
	}
	res, err := demo.Run(ctx, demo.Options{Out: streams.Out, Err: streams.Err, Quiet: o.json, Exe: exe, Dir: o.keep, Users: o.users, Report: o.report})
	if o.json {
		if jerr := writeJSON(streams.Out, res); jerr != nil {
			return jerr
		}
	}
	return err
}
