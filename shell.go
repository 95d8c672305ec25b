package reauth

import "strings"

// ShellQuote returns w as one POSIX shell word, for the commands hints print: words of safe
// characters as they are, anything else single-quoted.
func ShellQuote(w string) string {
	if w == "" {
		return "''"
	}
	for _, r := range w {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./_-", r)) {
			return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
		}
	}
	return w
}
