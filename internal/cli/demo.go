package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// newDemoCmd is a placeholder until the verb lands.
func newDemoCmd(streams IO) *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "The whole job on a simulated Jira cluster, explained step by step",
		RunE: func(c *cobra.Command, args []string) error {
			return errors.New("demo: not implemented yet")
		},
	}
}
