package cli

import (
	"strings"
	"testing"

	"github.com/reauth/reauth"
)

// TestIncidentFlags: --ticket and --reason are kept as given (trimmed); a ticket with spaces, a
// line break or control character, or text too long is a usage error that says what to do.
func TestIncidentFlags(t *testing.T) {
	in, err := incidentFlags{ticket: " INC-4711 ", reason: "session cookies leaked on a wiki page"}.incident()
	if err != nil || in.Ticket != "INC-4711" || in.Reason != "session cookies leaked on a wiki page" {
		t.Fatalf("good flags: %+v %v", in, err)
	}
	for _, f := range []incidentFlags{
		{ticket: "INC 4711"},
		{reason: "two\nlines"},
		{reason: "bell\a"},
		{ticket: "\x1b[31mINC"},
		{reason: strings.Repeat("x", maxReason+1)},
		{ticket: strings.Repeat("x", maxTicket+1)},
	} {
		_, err := f.incident()
		if reauth.CodeOf(err) != reauth.ExitUsage || reauth.HintOf(err) == "" {
			t.Errorf("%q: %v (code %d), want a usage error with a hint", f, err, reauth.CodeOf(err))
		}
	}
}
