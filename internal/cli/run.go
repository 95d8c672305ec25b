package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// newRunCmd is a placeholder until the verb lands.
func newRunCmd(streams IO) *cobra.Command {
	return &cobra.Command{
		Use:   "run --config FILE",
		Short: "The whole job: preflight, plan, purge with backup, rolling restart, verify, report",
		RunE: func(c *cobra.Command, args []string) error {
			return errors.New("run: not implemented yet")
		},
	}
}
