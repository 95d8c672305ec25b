package reauth

import (
	"os/exec"
	"testing"
)

// TestShellQuote: every word comes back from a real POSIX shell exactly as it went in.
func TestShellQuote(t *testing.T) {
	words := []string{"plain", "a b", "it's", "", "$HOME", "`x`", "a\"b", "-dash", "ü-ä", "x;rm -rf /", "*", "back\\slash", "new\nline", "user@example.com"}
	for _, w := range words {
		q := ShellQuote(w)
		out, err := exec.Command("sh", "-c", `printf %s `+q).Output()
		if err != nil || string(out) != w {
			t.Errorf("ShellQuote(%q) = %s: the shell read %q (%v)", w, q, out, err)
		}
	}
	if ShellQuote("user@example.com") != "user@example.com" || ShellQuote("a b") != "'a b'" {
		t.Errorf("safe words should stay as they are, others be quoted: %s %s", ShellQuote("user@example.com"), ShellQuote("a b"))
	}
}
