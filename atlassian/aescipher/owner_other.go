//go:build !unix

package aescipher

import (
	"fmt"
	"os"
)

func describeOwner(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return "its directory cannot be searched"
	}
	return fmt.Sprintf("mode %04o", fi.Mode().Perm())
}

func currentUser() string { return "the current user" }
