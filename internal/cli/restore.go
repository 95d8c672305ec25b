package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// newRestoreCmd is a placeholder until the verb lands.
func newRestoreCmd(streams IO) *cobra.Command {
	return &cobra.Command{
		Use:   "restore TARGET FILE",
		Short: "Put back the tokens of a purge from its backup file",
		RunE: func(c *cobra.Command, args []string) error {
			return errors.New("restore: not implemented yet")
		},
	}
}
