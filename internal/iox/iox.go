// Package iox holds the small I/O helpers the codecs of the affinity
// packages share: a writer that counts what its writer accepted, for
// io.WriterTo's count, and the size of what a reader still holds, where
// it can tell, for reading a file in one allocation.
package iox

import (
	"io"
	"os"
)

// CountingWriter passes writes to W and counts in N the bytes W accepted,
// so that a WriteTo behind a bufio.Writer reports what reached W, not
// what it buffered, when W fails.
type CountingWriter struct {
	W io.Writer
	N int64
}

// Write writes p to W and adds what W accepted to N.
func (c *CountingWriter) Write(p []byte) (int, error) {
	n, err := c.W.Write(p)
	c.N += int64(n)
	return n, err
}

// Remaining returns how many bytes r still holds, when r can tell: a
// reader with a Len method (bytes.Reader, strings.Reader, bytes.Buffer)
// or a regular file, from its offset. A Len method is the reader's word
// and may overstate; callers bound what they allocate on it.
func Remaining(r io.Reader) (int64, bool) {
	switch v := r.(type) {
	case interface{ Len() int }:
		return int64(v.Len()), true
	case *os.File:
		st, err := v.Stat()
		if err != nil || !st.Mode().IsRegular() {
			return 0, false
		}
		pos, err := v.Seek(0, io.SeekCurrent)
		if err != nil || pos > st.Size() {
			return 0, false
		}
		return st.Size() - pos, true
	}
	return 0, false
}
