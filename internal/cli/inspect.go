package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// newInspectCmd is a placeholder until the verb lands.
func newInspectCmd(streams IO) *cobra.Command {
	return &cobra.Command{
		Use:   "inspect TARGET",
		Short: "Count remember-me tokens: total, users, oldest/newest, top users",
		RunE: func(c *cobra.Command, args []string) error {
			return errors.New("inspect: not implemented yet")
		},
	}
}
