// Package cli is reauth's command-line layer: one file per verb, each an options struct, a cobra
// command and a run function. It is the only importer of the CLI library. Everything is written
// against IO, so that tests run commands without a terminal and capture what they print.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/internal/termsafe"
)

// Version is set at build time (-ldflags "-X github.com/reauth/reauth/internal/cli.Version=…").
var Version = "0.1.0-dev"

// IO is where a command reads and writes. Results go to Out, progress and messages to Err.
type IO struct {
	In     io.Reader
	Out    io.Writer
	Err    io.Writer
	InTTY  bool   // In is a terminal: a confirmation or password may be asked for
	TTY    string // the terminal's name (/dev/pts/3) when InTTY and known: who confirmed, in the report
	ErrTTY bool   // Err is a terminal: progress may redraw lines
	Getenv func(string) string
	Now    func() time.Time
	// ReadPassword reads a secret from the terminal without echo (nil when InTTY is false).
	ReadPassword func(prompt string) (string, error)
	// Stop is the first stage of Ctrl-C (main registers the signals; see reauth.Interrupts). Run's
	// context is the second. With the zero Stop, cancelling Run's context is the first stage and
	// there is no second.
	Stop reauth.Stop

	abort context.Context // Run's own context, when Stop is set: what the second Ctrl-C cancels
}

// StdIO is the process's own streams.
func StdIO() IO {
	inTTY := term.IsTerminal(int(os.Stdin.Fd()))
	io := IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, InTTY: inTTY,
		ErrTTY: term.IsTerminal(int(os.Stderr.Fd())), Getenv: os.Getenv, Now: time.Now}
	if inTTY {
		io.TTY = stdinTTY()
	}
	if inTTY {
		io.ReadPassword = func(prompt string) (string, error) {
			fmt.Fprint(os.Stderr, prompt)
			b, err := term.ReadPassword(int(os.Stdin.Fd()))
			fmt.Fprintln(os.Stderr)
			return string(b), err
		}
	}
	return io
}

// stages is Ctrl-C's two stages for a command that stops at safe points, given the command's
// context: the context the second Ctrl-C cancels, and the Stop the first fires. onFirst, if not
// nil, tells the operator what the first did; call release when the command ends.
func (o IO) stages(ctx context.Context, onFirst func()) (abort context.Context, stop reauth.Stop, release func()) {
	abort, stop = context.WithoutCancel(ctx), reauth.StopWhen(ctx)
	if o.abort != nil {
		abort = o.abort
	}
	release = func() {}
	if onFirst != nil {
		cancelNote := context.AfterFunc(ctx, func() {
			if abort.Err() == nil {
				onFirst()
			}
		})
		release = func() { cancelNote() }
	}
	return abort, stop, release
}

func (o IO) getenv(k string) string {
	if o.Getenv == nil {
		return ""
	}
	return o.Getenv(k)
}

func (o IO) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

// Run runs the reauth command line args and returns the process exit code.
//
// Commands that stop at safe points (run, purge, restart) see both stages of Ctrl-C through
// stages; every other command simply stops at the first.
func Run(ctx context.Context, args []string, streams IO) int {
	if streams.Stop.Done() != nil {
		streams.abort = ctx
		graceful, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			select {
			case <-streams.Stop.Done():
				cancel()
			case <-graceful.Done():
			}
		}()
		ctx = graceful
	}
	out := &countingWriter{w: streams.Out}
	if streams.Out != nil {
		streams.Out = out
	}
	code, err := run(ctx, args, streams)
	// --json promises exactly one JSON object on stdout: a command that failed before printing
	// its own (or printed nothing) gets one that says why, as stderr does.
	if err != nil && out.n == 0 && streams.Out != nil && wantsJSON(args) {
		_ = writeJSON(streams.Out, jsonFailure{Error: err.Error(), Hint: reauth.HintOf(err), ExitCode: int(code)})
	}
	return int(code)
}

// jsonFailure is the one JSON object of a --json run that failed before printing its result.
type jsonFailure struct {
	Error    string `json:"error"`
	Hint     string `json:"hint,omitempty"`
	ExitCode int    `json:"exit_code"`
}

// countingWriter counts what a command wrote to stdout.
type countingWriter struct {
	w io.Writer
	n int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += n
	return n, err
}

// wantsJSON reports whether args ask for --json (before any "--", as the flag parser reads them):
// --json, or --json=VALUE with any value the flag parser takes for true (1, t, T, TRUE, true, True).
// The last occurrence wins, as it does for the flag.
func wantsJSON(args []string) bool {
	want := false
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "--json" {
			want = true
		} else if v, ok := strings.CutPrefix(a, "--json="); ok {
			want, _ = strconv.ParseBool(v)
		}
	}
	return want
}

// run executes args and returns the exit code with the error behind it (nil on success).
func run(ctx context.Context, args []string, streams IO) (reauth.ExitCode, error) {
	root := newRootCmd(streams)
	root.SetArgs(args)
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.Err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return reauth.ExitOK, nil
	}
	var ue usageError
	if !errors.As(err, &ue) && strings.HasPrefix(err.Error(), "unknown command") {
		return unknownCommand(root, args, streams.Err)
	}
	if !errors.As(err, &ue) && isCobraUsage(err) {
		ue = usageError{cmd: strings.Join(args[:min(1, len(args))], ""), err: err}
	}
	if ue.err != nil {
		fmt.Fprintf(streams.Err, "reauth: %s\nRun 'reauth %s --help' for usage.\n", termsafe.Text(ue.err.Error()), termsafe.Field(ue.cmd))
		return reauth.ExitUsage, reauth.WithHint(ue.err, "run '"+strings.TrimSpace("reauth "+ue.cmd)+" --help' for usage")
	}
	if ctx.Err() != nil && reauth.CodeOf(err) == reauth.ExitFailed {
		err = reauth.WithCode(err, reauth.ExitInterrupted)
	}
	printError(streams.Err, err)
	return reauth.CodeOf(err), err
}

// unknownCommand reports a mistyped verb with the verbs it may have meant (cobra's own message
// names neither helpfully, and "Run 'reauth purg --help'" would send the user to a second error).
func unknownCommand(root *cobra.Command, args []string, w io.Writer) (reauth.ExitCode, error) {
	name := ""
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			name = a
			break
		}
	}
	err := fmt.Errorf("unknown command '%s'", name)
	hint := "run 'reauth --help' for the commands"
	if s := root.SuggestionsFor(name); len(s) > 0 {
		err = fmt.Errorf("unknown command '%s', did you mean '%s'?", name, strings.Join(s, "' or '"))
		hint = "run 'reauth " + s[0] + " --help' for its usage, or 'reauth --help' for every command"
	}
	fmt.Fprintf(w, "reauth: %s\n  hint: %s\n", termsafe.Field(err.Error()), hint)
	return reauth.ExitUsage, reauth.WithHint(err, hint)
}

// isCobraUsage recognises the usage errors cobra returns without going through the flag error func.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"required flag", "unknown command", "unknown flag", "unknown shorthand", "flag needs an argument", "accepts "} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

func printError(w io.Writer, err error) {
	var silent silentError
	if errors.As(err, &silent) {
		return
	}
	// An error may quote a user name, a node's answer or a file's content: escaped for the terminal.
	fmt.Fprintf(w, "reauth: %s\n", termsafe.Text(err.Error()))
	if h := reauth.HintOf(err); h != "" {
		for _, line := range strings.Split(h, "\n") {
			fmt.Fprintf(w, "  hint: %s\n", termsafe.Field(line))
		}
	}
}

// silentError carries an exit code for an error that was already reported (e.g. in --json output
// or a report), so Run does not print it again.
type silentError struct{ err error }

func (s silentError) Error() string { return s.err.Error() }
func (s silentError) Unwrap() error { return s.err }

// Silent marks err as already reported; the exit code still comes from err.
func Silent(err error) error {
	if err == nil {
		return nil
	}
	return silentError{err}
}

type usageError struct {
	cmd string
	err error
}

func (u usageError) Error() string { return u.err.Error() }

func newRootCmd(streams IO) *cobra.Command {
	root := &cobra.Command{
		Use:   "reauth",
		Short: "Force every user of an Atlassian Server/Data Center product to log in again, and prove it",
		Long: `reauth forces every user of Jira, Confluence, Bitbucket, Bamboo, Fisheye/Crucible or Crowd (Server
and Data Center) to log in again: it backs up and deletes the "remember me" tokens in the product's
database, in small batches, then restarts the nodes one at a time (which clears the in-memory
sessions), and checks that old cookies are rejected.

Start with 'reauth demo' to see the whole job on a simulated cluster.

Exit codes: 0 done; 1 failed; 2 usage; 3 partial (some nodes restarted, then a failure);
4 refused by a safety check (nothing changed); 5 another run holds the lock; 130 interrupted.`,
		Version:       Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{cmd: strings.TrimPrefix(c.CommandPath(), "reauth "), err: err}
	})
	for _, add := range verbs {
		root.AddCommand(add(streams))
	}
	return root
}

// verbs lists the constructors of the top-level commands; each verb's file adds itself here by
// name (no init() registration: the list is explicit).
var verbs = []func(IO) *cobra.Command{
	newInitCmd,
	newDiscoverCmd,
	newInspectCmd,
	newCredentialsCmd,
	newPurgeCmd,
	newRestoreCmd,
	newBackupsCmd,
	newRestartCmd,
	newVerifyCmd,
	newRunCmd,
	newDemoCmd,
	newSandboxCmd,
	newRevokeCmd,
	newReportCmd,
	newVersionCmd,
	newManCmd,
}

// writeJSON prints v as exactly one JSON object on Out.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// needArgs is cobra.ExactArgs with a usage error that Run reports as exit 2.
func needArgs(n int, what string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{cmd: strings.TrimPrefix(c.CommandPath(), "reauth "),
				err: fmt.Errorf("%s: expected %d argument(s) (%s), got %d", c.Name(), n, what, len(args))}
		}
		return nil
	}
}
