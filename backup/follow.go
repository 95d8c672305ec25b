package backup

import (
	"fmt"
	"io"
	"os"
	"sync"
)

// countingWriter counts the bytes the gzip stream has written to the file.
type countingWriter struct {
	f *os.File
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.f.Write(p)
	c.n += int64(n)
	return n, err
}

// published is how many bytes of the file are complete (flushed and fsynced), for a Follower.
type published struct {
	mu    sync.Mutex
	cond  *sync.Cond
	size  int64
	final bool // the writer closed (or gave up): size will not grow
}

func (p *published) publish(size int64, final bool) {
	p.mu.Lock()
	if p.cond == nil {
		p.cond = sync.NewCond(&p.mu)
	}
	p.size, p.final = size, p.final || final
	p.mu.Unlock()
	p.cond.Broadcast()
}

// wait blocks until more than off bytes are published or the file is final; it returns the
// published size and whether the file is final.
func (p *published) wait(off int64) (int64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cond == nil {
		p.cond = sync.NewCond(&p.mu)
	}
	for p.size <= off && !p.final {
		p.cond.Wait()
	}
	return p.size, p.final
}

// Follower verifies a backup file WHILE it is written: it reads the file from disk as each
// sync publishes more of it, so that at the end only the last batches are left to check. It
// checks exactly what Verify checks after the fact (every line, the trailer's row count and
// sha256, the gzip stream's end), reading the same bytes back from the file; a purge that
// waited for Verify re-read the whole file after its last batch.
type Follower struct {
	done chan struct{}
	sum  Summary
	err  error
}

// Follow starts verifying w's file as it grows. Call Wait after w.Close (or after a failed
// write: Wait then returns promptly, with an error for an unfinished file).
func (w *Writer) Follow() (*Follower, error) {
	f, err := os.Open(w.f.Name())
	if err != nil {
		return nil, fmt.Errorf("open backup file to verify it: %w", err)
	}
	fl := &Follower{done: make(chan struct{})}
	go func() {
		defer close(fl.done)
		defer f.Close()
		fl.sum, fl.err = verifyFrom(&tailReader{f: f, pub: &w.pub}, w.f.Name(), w.verifyIDs)
	}()
	return fl, nil
}

// Wait returns what Verify would: the file's rows and sha256, or why it does not verify.
func (fl *Follower) Wait() (Summary, error) {
	<-fl.done
	return fl.sum, fl.err
}

// tailReader reads a growing file up to its published size, waiting for more until the
// writer has finished it.
type tailReader struct {
	f   *os.File
	pub *published
	off int64
}

func (t *tailReader) Read(p []byte) (int, error) {
	size, final := t.pub.wait(t.off)
	if t.off >= size && final {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), size-t.off)]
	n, err := t.f.ReadAt(p, t.off)
	t.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}
