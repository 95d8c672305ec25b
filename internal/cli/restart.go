package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// newRestartCmd is a placeholder until the verb lands.
func newRestartCmd(streams IO) *cobra.Command {
	return &cobra.Command{
		Use:   "restart --config FILE",
		Short: "Rolling restart of every node, one at a time, with health gates",
		RunE: func(c *cobra.Command, args []string) error {
			return errors.New("restart: not implemented yet")
		},
	}
}
