// Command reauth forces every user of an Atlassian Server/Data Center product to log in again,
// safely, and proves it. See README.md and `reauth --help`.
package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/internal/cli"
)

func main() {
	// The only place signals are registered: the first Ctrl-C (or SIGTERM) asks every step to stop
	// at its next safe point, the second abandons every wait.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	abort, stop, release := reauth.Interrupts(sigs, nil)
	streams := cli.StdIO()
	streams.Stop = stop
	code := cli.Run(abort, os.Args[1:], streams)
	release()
	signal.Stop(sigs)
	os.Exit(code)
}
