package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// newVerifyCmd is a placeholder until the verb lands.
func newVerifyCmd(streams IO) *cobra.Command {
	return &cobra.Command{
		Use:   "verify --config FILE",
		Short: "Check that no old token remains and old cookies are rejected",
		RunE: func(c *cobra.Command, args []string) error {
			return errors.New("verify: not implemented yet")
		},
	}
}
