// Command reauth forces every user of an Atlassian Server/Data Center product to log in again,
// safely, and proves it. See README.md and `reauth --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/reauth/reauth/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.StdIO())
	stop()
	os.Exit(code)
}
