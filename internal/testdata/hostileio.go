package testdata

import (
	"io"
	"runtime"
)

// Readers and writers that behave as hostile or unlucky I/O does, for
// the tests of the codecs (testing/iotest has the one-byte, half, timeout
// and data-with-EOF readers).

// OnlyRead hides every method of r but Read (a Len method, say).
func OnlyRead(r io.Reader) io.Reader { return onlyRead{r} }

type onlyRead struct{ r io.Reader }

func (o onlyRead) Read(p []byte) (int, error) { return o.r.Read(p) }

// FailAfter yields the first n bytes of data, then err.
func FailAfter(data []byte, n int, err error) io.Reader {
	return &failAfter{data: data, n: n, err: err}
}

type failAfter struct {
	data []byte
	n    int
	err  error
}

func (f *failAfter) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, f.err
	}
	k := copy(p, f.data[:f.n])
	f.data, f.n = f.data[k:], f.n-k
	return k, nil
}

// Stutter returns (0, nil) before every read of r that yields data.
func Stutter(r io.Reader) io.Reader { return &stutter{r: r} }

type stutter struct {
	r    io.Reader
	idle bool
}

func (s *stutter) Read(p []byte) (int, error) {
	s.idle = !s.idle
	if s.idle {
		return 0, nil
	}
	return s.r.Read(p)
}

// FailWriter accepts n bytes, then fails with err.
func FailWriter(n int, err error) io.Writer { return &failWriter{n: n, err: err} }

type failWriter struct {
	n, written int
	err        error
}

func (w *failWriter) Write(p []byte) (int, error) {
	k := min(len(p), w.n-w.written)
	w.written += k
	if k < len(p) {
		return k, w.err
	}
	return k, nil
}

// TotalAlloc returns the bytes f allocated (runtime.MemStats.TotalAlloc
// before and after; other goroutines' allocations count too).
func TotalAlloc(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
