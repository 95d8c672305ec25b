//go:build unix

package aescipher

import (
	"fmt"
	"os"
	"syscall"
)

// describeOwner says the file's mode and owner (or, when even that is hidden, which directory
// refuses the lookup), for a permission-denied message.
func describeOwner(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return "its directory cannot be searched"
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fmt.Sprintf("mode %04o, owner uid %d gid %d", fi.Mode().Perm(), st.Uid, st.Gid)
	}
	return fmt.Sprintf("mode %04o", fi.Mode().Perm())
}

func currentUser() string {
	return fmt.Sprintf("uid %d gid %d", os.Getuid(), os.Getgid())
}
