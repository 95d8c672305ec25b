package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// newDiscoverCmd is a placeholder until the verb lands.
func newDiscoverCmd(streams IO) *cobra.Command {
	return &cobra.Command{
		Use:   "discover --product P --home DIR",
		Short: "Find a product's database, token table and cookies from its home directory",
		RunE: func(c *cobra.Command, args []string) error {
			return errors.New("discover: not implemented yet")
		},
	}
}
