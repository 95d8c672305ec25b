//go:build unix

package boundedfile

import (
	"os"
	"syscall"
)

// openNoBlock opens with O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer,
// forever and deaf to Ctrl-C. On a regular file the flag changes nothing.
func openNoBlock(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
