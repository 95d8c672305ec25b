package cli

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/reauth/reauth"
)

// typedConfirm is the one way reauth asks before a change: it shows prompt on stderr and reports
// whether the operator typed expect. It is nil when there is no terminal to ask on. runbook's
// Options.Confirm and every single-step verb (restart, purge, restore, backups shred) use it.
func typedConfirm(streams IO) func(prompt, expect string) (bool, error) {
	if !canConfirm(streams) {
		return nil
	}
	in := bufio.NewReader(streams.In)
	return func(prompt, expect string) (bool, error) {
		fmt.Fprint(streams.Err, prompt)
		line, err := in.ReadString('\n')
		if err != nil && line == "" {
			return false, err
		}
		return strings.TrimSpace(line) == expect, nil
	}
}

// canConfirm reports whether a confirmation can be asked for: stdin is a terminal.
func canConfirm(streams IO) bool { return streams.InTTY && streams.In != nil }

// requireTyped asks with typedConfirm unless --yes was given, and refuses (nothing changed)
// when there is no terminal or the answer is not expect.
func requireTyped(streams IO, yes bool, expect, prompt string) error {
	if yes {
		return nil
	}
	ask := typedConfirm(streams)
	if ask == nil {
		return reauth.Refused("add --yes to confirm without a terminal (after checking the plan with --dry-run)",
			"not confirmed: there is no terminal to ask on; nothing was changed")
	}
	ok, err := ask(prompt, expect)
	if err != nil || !ok {
		return reauth.Refused(fmt.Sprintf("type %q exactly, or use --yes", expect), "not confirmed; nothing was changed")
	}
	return nil
}

// confirmTyped asks before a change described by what ("delete 12 token(s) of Jira").
func confirmTyped(streams IO, yes bool, product, what string) error {
	return requireTyped(streams, yes, product, fmt.Sprintf("This will %s.\nType the product name (%s) to go on: ", what, product))
}
