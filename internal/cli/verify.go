package cli

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/runbook"
)

type verifyOptions struct {
	configs  []string
	products []string
	cookies  string
	json     bool
	connect  time.Duration
	stateDir string
}

func newVerifyCmd(streams IO) *cobra.Command {
	o := &verifyOptions{}
	c := &cobra.Command{
		Use:   "verify --config FILE [--cookies FILE] [--json]",
		Short: "Check that no old token remains and old cookies are rejected",
		Long: `verify repeats the last step of 'reauth run' on its own, e.g. the morning after, and changes
nothing:
  (a) no remember-me token issued before the last run remains (its cut-off, start time and rule,
      by creation time or by id, are read from the run's journal in the state directory),
  (b) every cookie in --cookies (a browser's exported cookies.txt), and the run's minted proof
      token and sampled tokens (rebuilt from the run's backups; verify never mints), is rejected
      by every node,
  (c) every node is RUNNING.
"verified" is true only when all three hold with at least one cookie rejected on every node
(proof level "cookies"). It exits 1 when a cookie or an old token survives or a node is down,
naming each problem; with no cookie to replay it exits 0 with "verified": false and a warning.`,
		Example: `  reauth verify --config reauth.yaml
  reauth verify --config reauth.yaml --cookies ~/Downloads/cookies.txt --json`,
		Args: needArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, args []string) error {
			return runVerify(c.Context(), streams, o)
		},
	}
	f := c.Flags()
	f.StringArrayVar(&o.configs, "config", nil, "the inventory file (reauth.yaml); repeat it for several inventories")
	f.StringSliceVar(&o.products, "product", nil, "only these products of the inventory")
	f.StringVar(&o.cookies, "cookies", "", "a browser's exported cookies (Netscape cookies.txt) that must be rejected")
	f.BoolVar(&o.json, "json", false, "print one JSON object with the result on stdout")
	f.StringVar(&o.stateDir, "state-dir", "", "reauth's private directory where the run left its journal (default $XDG_STATE_HOME/reauth, else ~/.local/state/reauth)")
	addConnectTimeout(f, &o.connect)
	_ = c.MarkFlagRequired("config")
	return c
}

func runVerify(ctx context.Context, streams IO, o *verifyOptions) error {
	inv, err := loadInventory(o.configs)
	if err != nil {
		return err
	}
	if err := checkConnectTimeout("verify", o.connect); err != nil {
		return err
	}
	ro := runbookOptions(streams, inv, o.json)
	ro.ConnectTimeout = o.connect
	ro.CookiesFile, ro.Products = o.cookies, o.products
	if ro.StateDir, err = reauth.ResolveStateDir(o.stateDir, streams.getenv); err != nil {
		return err
	}
	rep, err := runbook.Verify(ctx, ro)
	if o.json {
		if jerr := writeJSON(streams.Out, rep); jerr != nil {
			return jerr
		}
	}
	return err
}
