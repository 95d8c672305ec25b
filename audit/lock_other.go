//go:build !unix

package audit

import "os"

// lockFile is a no-op where flock is missing: one process per log keeps the chain whole.
func lockFile(*os.File) (unlock func(), err error) { return func() {}, nil }
