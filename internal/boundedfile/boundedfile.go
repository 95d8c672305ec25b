// Package boundedfile reads the small files an operator points reauth at (inventory, product
// configs, secret files, AES key files, cookie jars) without trusting them: only regular files are
// read, and never more than a limit. A named pipe or a device (/dev/zero, /dev/stdin, a shell's
// <(…)) would otherwise block the open or be read forever, past SIGINT, into gigabytes of memory.
// The limit is enforced on the bytes read, not on Stat().Size(): a file can grow while it is read,
// and a device's size says nothing.
package boundedfile

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Errors callers can test with errors.Is.
var (
	ErrNotRegular = errors.New("not a regular file")
	ErrDirectory  = errors.New("is a directory")
	ErrTooLarge   = errors.New("too large")
)

// Open opens path for reading and returns it only if it is a regular file. The open itself does
// not block on a FIFO that has no writer (see openNoBlock).
func Open(path string) (*os.File, error) {
	f, err := openNoBlock(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	switch {
	case fi.IsDir():
		f.Close()
		return nil, fmt.Errorf("%s %w: give the path of a file", path, ErrDirectory)
	case !fi.Mode().IsRegular():
		f.Close()
		return nil, fmt.Errorf("%s is %s, %w: give the path of a regular file (reauth does not read pipes or devices, which may never end)",
			path, kind(fi.Mode()), ErrNotRegular)
	}
	return f, nil
}

// Read reads the whole regular file at path, refusing it if it holds more than limit bytes.
func Read(path string, limit int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAll(f, path, limit)
}

// ReadAll reads r to the end, refusing more than limit bytes; name is used in the error.
func ReadAll(r io.Reader, name string, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if int64(len(b)) > limit {
		clear(b)
		return nil, fmt.Errorf("%s is %w: more than %s; check the path", name, ErrTooLarge, human(limit))
	}
	return b, nil
}

func kind(m os.FileMode) string {
	switch {
	case m&os.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a block device"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return "a special file (" + m.Type().String() + ")"
}

func human(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
