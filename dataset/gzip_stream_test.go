package dataset_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// TestGzipStreamEnds: a gzip input is read as gzip(1) reads it: its
// members one after the other, and zero bytes after the last (padding)
// ignored; a stream cut short is an error that says the gzip stream is
// truncated, and other bytes after a member are an error too.
func TestGzipStreamEnds(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("customer,product,order,time\n")
	for i := range 2000 {
		sb.WriteString("c1,p1,o1,2024-01-0" + string(rune('1'+i%9)) + "\n")
	}
	text := sb.String()
	whole := opnGzip(t, []byte(text))
	load := func(data []byte) (dataset.Report, error) {
		var b affinity.Builder
		return dataset.Load(context.Background(), bytes.NewReader(data), &b, dataset.Options{})
	}
	want, err := load([]byte(text))
	require.NoError(t, err)
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	zeros := make([]byte, 70_000) // more than a buffer of the reader

	for name, data := range map[string][]byte{
		"one member":           whole,
		"padded":               cat(whole, zeros[:3]),
		"padded past a buffer": cat(whole, zeros),
		"two members, padded":  cat(opnGzip(t, []byte(text[:1000])), opnGzip(t, []byte(text[1000:])), zeros[:512]),
		"two members":          cat(opnGzip(t, []byte(text[:1000])), opnGzip(t, []byte(text[1000:]))),
	} {
		rep, err := load(data)
		require.NoError(t, err, name)
		assert.Equal(t, want.Rows, rep.Rows, name)
	}

	for _, cut := range []int{len(whole) - 4, len(whole) / 2, 12} {
		_, err := load(whole[:cut])
		require.ErrorIs(t, err, io.ErrUnexpectedEOF, "cut at %d", cut)
		assert.ErrorContains(t, err, "gzip: stream truncated", "cut at %d", cut)
	}
	for name, data := range map[string][]byte{
		"junk":             cat(whole, []byte("junk")),
		"zeros, then junk": cat(whole, zeros[:10], []byte{1}),
		"a lone byte":      cat(whole, []byte{0x1f}),
		"zeros, a member":  cat(whole, zeros, whole),
	} {
		_, err := load(data)
		require.ErrorIs(t, err, gzip.ErrHeader, name)
		assert.ErrorContains(t, err, "neither a gzip member nor zero padding", name)
	}
}
