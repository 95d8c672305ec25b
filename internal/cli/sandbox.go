package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// newSandboxCmd is a placeholder until the verb lands.
func newSandboxCmd(streams IO) *cobra.Command {
	return &cobra.Command{
		Use:   "sandbox",
		Short: "Simulated Atlassian nodes to try reauth on (up, down, status)",
		RunE: func(c *cobra.Command, args []string) error {
			return errors.New("sandbox: not implemented yet")
		},
	}
}
