package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// newRevokeCmd is a placeholder until the verb lands.
func newRevokeCmd(streams IO) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke --config FILE --user U...",
		Short: "End the sessions of named users through the product's REST API, without a restart",
		RunE: func(c *cobra.Command, args []string) error {
			return errors.New("revoke: not implemented yet")
		},
	}
}
