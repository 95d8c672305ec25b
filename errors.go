// Package reauth holds the domain of the tool: products, database targets, tokens and cut-offs,
// nodes, plans and reports, the small interfaces the rest of the tool implements, and the errors
// (with exit codes and hints) that a user sees. It imports only the standard library.
package reauth

import (
	"errors"
	"fmt"
)

// ExitCode is the process exit status of the CLI. The values are part of the CLI contract.
type ExitCode int

const (
	ExitOK          ExitCode = 0   // done
	ExitFailed      ExitCode = 1   // failed
	ExitUsage       ExitCode = 2   // bad flags, bad config or inventory
	ExitPartial     ExitCode = 3   // some nodes restarted, then a failure
	ExitRefused     ExitCode = 4   // refused by a safety check: nothing changed
	ExitLocked      ExitCode = 5   // another run holds the lock
	ExitInterrupted ExitCode = 130 // interrupted (Ctrl-C)
)

// severity ranks exit codes for MostSevere: a failure (a cookie that still logs in, a purge that
// stopped) says more than a partial restart, which says more than an interruption, a lock held
// elsewhere or a refusal (nothing changed), or a usage error.
var severity = map[ExitCode]int{ExitOK: 0, ExitUsage: 1, ExitRefused: 2, ExitLocked: 3, ExitInterrupted: 4, ExitPartial: 5, ExitFailed: 6}

// MostSevere is the exit code of a job made of parts that ended with codes: the most severe one
// (an unknown code counts as a failure).
func MostSevere(codes ...ExitCode) ExitCode {
	worst := ExitOK
	for _, c := range codes {
		r, ok := severity[c]
		if !ok {
			r = severity[ExitFailed]
		}
		if r > severity[worst] {
			worst = c
		}
	}
	return worst
}

// Error is an error a user sees: what failed (Op), why (Err), what to do next (Hint), and the
// exit code it maps to. Wrap it with fmt.Errorf("...: %w", err) freely; CodeOf and HintOf find it.
type Error struct {
	Code ExitCode
	Op   string
	Err  error
	Hint string
}

func (e *Error) Error() string {
	switch {
	case e.Op != "" && e.Err != nil:
		return e.Op + ": " + e.Err.Error()
	case e.Err != nil:
		return e.Err.Error()
	default:
		return e.Op
	}
}

func (e *Error) Unwrap() error { return e.Err }

// Refused is a safety refusal (exit 4): nothing was changed.
func Refused(hint, format string, args ...any) error {
	return &Error{Code: ExitRefused, Err: fmt.Errorf(format, args...), Hint: hint}
}

// Usage is a usage or configuration error (exit 2).
func Usage(hint, format string, args ...any) error {
	return &Error{Code: ExitUsage, Err: fmt.Errorf(format, args...), Hint: hint}
}

// Failed is a plain failure (exit 1) with a hint.
func Failed(hint, format string, args ...any) error {
	return &Error{Code: ExitFailed, Err: fmt.Errorf(format, args...), Hint: hint}
}

// WithHint wraps err with a hint (keeping err's code if it has one, else exit 1).
func WithHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &Error{Code: CodeOf(err), Err: err, Hint: hint}
}

// WithCode wraps err so that it maps to code.
func WithCode(err error, code ExitCode) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err}
}

// ErrInterrupted is returned when the operator pressed Ctrl-C (or the context was cancelled) and
// the work stopped at a safe point.
var ErrInterrupted = &Error{Code: ExitInterrupted, Err: errors.New("interrupted")}

// CodeOf returns the exit code for err: the outermost *Error's code, ExitOK for nil, else ExitFailed.
func CodeOf(err error) ExitCode {
	if err == nil {
		return ExitOK
	}
	var e *Error
	for cur := err; errors.As(cur, &e); cur = e.Err {
		if e.Code != 0 {
			return e.Code
		}
	}
	return ExitFailed
}

// HintOf returns the first (outermost) hint carried by err, or "".
func HintOf(err error) string {
	var e *Error
	for cur := err; errors.As(cur, &e); cur = e.Err {
		if e.Hint != "" {
			return e.Hint
		}
	}
	return ""
}
