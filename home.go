package reauth

import (
	"os"
	"path/filepath"
	"strings"
)

// ExpandHome expands a leading "~" or "~/" in p to the home directory ($HOME through getenv,
// else the user's home); other paths are returned unchanged.
func ExpandHome(p string, getenv func(string) string) string {
	if !(p == "~" || strings.HasPrefix(p, "~/")) {
		return p
	}
	home := ""
	if getenv != nil {
		home = getenv("HOME")
	}
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	return filepath.Join(home, strings.TrimPrefix(p, "~"))
}
