package termsafe

import "testing"

func TestEscapes(t *testing.T) {
	for _, tc := range []struct{ in, field, text string }{
		{"alice", "alice", "alice"},
		{"jürgen.müller", "jürgen.müller", "jürgen.müller"},
		{"evil\x1b]0;pwned\x07", `evil\x1b]0;pwned\x07`, `evil\x1b]0;pwned\x07`},
		{"a\r\nb\tc", `a\r\nb\tc`, "a\\r\nb\tc"},
		{"x\u202eevil", `x\u202eevil`, `x\u202eevil`},
		{"c1\u009bdel\x7f", `c1\u009bdel\x7f`, `c1\u009bdel\x7f`},
		{"bad\xffutf8", `bad\xffutf8`, `bad\xffutf8`},
	} {
		if got := Field(tc.in); got != tc.field {
			t.Errorf("Field(%q) = %q, want %q", tc.in, got, tc.field)
		}
		if got := Text(tc.in); got != tc.text {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.text)
		}
	}
}
