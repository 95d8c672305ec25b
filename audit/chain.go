package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// The audit log is hash-chained: every line reauth writes carries, in "prev", the sha256 of the
// line before it in the file ("" for a file's first line). A line edited, inserted or removed
// after it was written breaks the link of the line after it, and ReadChain says where. The last
// line, and lines cut from the end, have no line after them: the chain cannot tell; an evidence
// bundle's manifest (which names the file's sha256) can.

// PrevField is the name of the field that links a line to the one before it.
const PrevField = "prev"

// LineDigest is the link to a line: the sha256 (hex) of its bytes, without surrounding space.
func LineDigest(line []byte) string {
	sum := sha256.Sum256(bytes.TrimSpace(line))
	return hex.EncodeToString(sum[:])
}

// maxTail bounds how far back lastLine looks for the start of the file's last line.
const maxTail = 16 << 20

// lastLine is the file's last non-empty line (nil for an empty file), read from its end.
func lastLine(f *os.File) ([]byte, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	end := fi.Size()
	var tail []byte
	for off := end; off > 0; {
		n := int64(4096)
		if n > off {
			n = off
		}
		off -= n
		buf := make([]byte, n)
		if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		tail = append(buf, tail...)
		if t := bytes.TrimRight(tail, " \t\r\n"); bytes.LastIndexByte(t, '\n') >= 0 || off == 0 {
			if i := bytes.LastIndexByte(t, '\n'); i >= 0 {
				t = t[i+1:]
			}
			return bytes.TrimSpace(t), nil
		}
		if end-off > maxTail {
			return nil, fmt.Errorf("its last line is longer than %d MiB: is this reauth's audit log?", maxTail>>20)
		}
	}
	return nil, nil
}

// prevDigest is the link the next line appended to f carries.
func prevDigest(f *os.File) (string, error) {
	last, err := lastLine(f)
	if err != nil || len(last) == 0 {
		return "", err
	}
	return LineDigest(last), nil
}

// Chain is what ReadChain found of the log's hash chain.
type Chain struct {
	From   int     // the first line that carries a link (0: none does: a log older than the chain)
	Lines  int     // lines read
	Breaks []Break // links that do not match, in order
}

// Break is one broken link.
type Break struct {
	Line int    // the line whose link does not match the line before it
	Why  string // what it means
}

// Intact says whether every link from Chain.From on matches.
func (c Chain) Intact() bool { return len(c.Breaks) == 0 }

// BreaksUpTo are the breaks at or before line n.
func (c Chain) BreaksUpTo(n int) []Break {
	var out []Break
	for _, b := range c.Breaks {
		if b.Line <= n {
			out = append(out, b)
		}
	}
	return out
}

// chainer checks the links line by line, as Read reads them.
type chainer struct {
	Chain
	prev string // digest of the line before
}

func (c *chainer) next(n int, line []byte, fields map[string]json.RawMessage) {
	c.Lines = n
	raw, linked := fields[PrevField]
	var link string
	if linked {
		link = string(bytes.Trim(raw, `"`))
	}
	switch {
	case linked && c.From == 0:
		c.From = n
		if link != c.prev {
			c.Breaks = append(c.Breaks, Break{Line: n, Why: "its link does not match the line before it: lines were removed or changed before it"})
		}
	case linked && link != c.prev:
		c.Breaks = append(c.Breaks, Break{Line: n, Why: fmt.Sprintf("its link does not match line %d: that line was changed, or lines were removed or inserted between them", n-1)})
	case !linked && c.From != 0:
		c.Breaks = append(c.Breaks, Break{Line: n, Why: "it carries no link in a chained log: it was inserted or rewritten by something other than reauth"})
	}
	c.prev = LineDigest(line)
}
