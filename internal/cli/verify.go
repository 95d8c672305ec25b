package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/reauth/reauth/runbook"
)

type verifyOptions struct {
	config   string
	products []string
	cookies  string
	json     bool
}

func newVerifyCmd(streams IO) *cobra.Command {
	o := &verifyOptions{}
	c := &cobra.Command{
		Use:   "verify --config FILE [--cookies FILE] [--json]",
		Short: "Check that no old token remains and old cookies are rejected",
		Long: `verify repeats the last step of 'reauth run' on its own, e.g. the morning after, and changes
nothing:
  (a) no remember-me token issued before the last run's cut-off remains (the cut-off is read from
      the run's journal beside the inventory),
  (b) every cookie in --cookies (a browser's exported cookies.txt) is rejected by every node,
  (c) every node is RUNNING.
It exits 0 only when all three hold, and 1 otherwise, naming each problem.`,
		Example: `  reauth verify --config reauth.yaml
  reauth verify --config reauth.yaml --cookies ~/Downloads/cookies.txt --json`,
		Args: needArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, args []string) error {
			return runVerify(c.Context(), streams, o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.config, "config", "", "the inventory file (reauth.yaml)")
	f.StringSliceVar(&o.products, "product", nil, "only these products of the inventory")
	f.StringVar(&o.cookies, "cookies", "", "a browser's exported cookies (Netscape cookies.txt) that must be rejected")
	f.BoolVar(&o.json, "json", false, "print one JSON object with the result on stdout")
	_ = c.MarkFlagRequired("config")
	return c
}

func runVerify(ctx context.Context, streams IO, o *verifyOptions) error {
	inv, err := loadInventory(o.config)
	if err != nil {
		return err
	}
	ro := runbookOptions(streams, inv, o.json)
	ro.CookiesFile, ro.Products = o.cookies, o.products
	rep, err := runbook.Verify(ctx, ro)
	if o.json {
		if jerr := writeJSON(streams.Out, rep); jerr != nil {
			return jerr
		}
	}
	return err
}
