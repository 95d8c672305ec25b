//go:build unix

package reauth

import (
	"os"
	"syscall"
)

// ownerOf is the uid owning fi's file, when the platform says.
func ownerOf(fi os.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
