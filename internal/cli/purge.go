package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// newPurgeCmd is a placeholder until the verb lands.
func newPurgeCmd(streams IO) *cobra.Command {
	return &cobra.Command{
		Use:   "purge TARGET",
		Short: "Back up, then delete remember-me tokens in small batches",
		RunE: func(c *cobra.Command, args []string) error {
			return errors.New("purge: not implemented yet")
		},
	}
}
