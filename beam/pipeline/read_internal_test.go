package pipeline

import (
	"bytes"
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/segment"
)

// iter returns a Beam iterator over vs.
func iter[T any](vs []T) func(*T) bool {
	return func(v *T) bool {
		if len(vs) == 0 {
			return false
		}
		*v, vs = vs[0], vs[1:]
		return true
	}
}

// iter2 returns a Beam iterator over the pairs of m, in key order.
func iter2[V any](m map[string]V) func(*string, *V) bool {
	keys := slices.Sorted(maps.Keys(m))
	return func(k *string, v *V) bool {
		if len(keys) == 0 {
			return false
		}
		*k, *v, keys = keys[0], m[keys[0]], keys[1:]
		return true
	}
}

// firstDescriptions runs the first pass of the read, describeFn, over the
// files of in and returns, per product, the first file that describes
// it: the side input of readFn.
func firstDescriptions(t *testing.T, in Input) map[string]int64 {
	t.Helper()
	firsts := map[string]int64{}
	for i, f := range in.Files {
		err := (&describeFn{In: wired(in)}).ProcessElement(context.Background(), fileSpec{Index: i, Path: f}, func(k string, file int64) {
			if old, ok := firsts[k]; !ok || file < old {
				firsts[k] = file
			}
		})
		require.NoError(t, err)
	}
	return firsts
}

// TestMergeFileOrder: the grouping step delivers a key's Parts in no
// particular order, and mergeFn appended their orders as they came, so
// that the lines of an order split across files reached chunkHistory's
// Builder in another order than a single machine's, and decayed sums
// over them (segment.Options.HalfLife) differed in the last bits: here
// enough to swap the ranks of two categories in the saved index.
func TestMergeFileOrder(t *testing.T) {
	dir := t.TempDir()
	header := "customer,product,order,time,quantity,price,category\n"
	write := func(name, rows string) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(header+rows), 0o644))
		return path
	}
	// c1's order o1 lies in three files. Its lines in X are worth as much
	// as its line in Y (38.47 + 30.83 + 39.23 = 108.53): decayed and added
	// one after the other in the single machine's order they tie with Y,
	// and X ranks first on items; in another order they fall short of Y.
	files := []string{
		write("a.csv", "c1,A,o1,2024-01-10T10:00:00Z,1,38.47,X\nc1,B,o1,2024-01-10T10:00:00Z,1,108.53,Y\n"),
		write("b.csv", "c2,A,o2,2024-01-11T00:00:00Z,1,1.30,X\nc1,C,o1,2024-01-10T10:00:00Z,1,30.83,X\n"),
		write("c.csv", "c1,E,o1,2024-01-10T10:00:00Z,1,39.23,X\nc3,A,o3,2024-01-12T00:00:00Z,1,0.10,X\n"),
	}
	in := Input{Files: files, Format: "csv"}
	ctx := context.Background()
	single, err := LoadHistory(ctx, in)
	require.NoError(t, err)

	// the Parts of c1, as the readers emit them
	var parts []Part
	firsts := firstDescriptions(t, in)
	for i, f := range files {
		rf := readFn{In: wired(in)}
		err := rf.ProcessElement(ctx, fileSpec{Index: i, Path: f}, iter2(firsts),
			func(k string, p Part) {
				if k == partKey("c1", "") {
					parts = append(parts, p)
				}
			},
			func(string, int64) {}, func(string, prodCalls) {}, func(fileGross) {})
		require.NoError(t, err)
	}
	require.Len(t, parts, 3)
	lines := func(h *affinity.History, c affinity.CustomerID) []string {
		var keys []string
		lo, hi := h.CustomerOrders(c)
		for o := lo; o < hi; o++ {
			llo, lhi := h.OrderLines(o)
			for i := llo; i < lhi; i++ {
				keys = append(keys, h.OrderKey(o)+":"+h.Catalog().ProductKey(h.Line(i).Product))
			}
		}
		return keys
	}
	c1, ok := single.LookupCustomer("c1")
	require.True(t, ok)
	want := lines(single, c1)
	asOf := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	index := func(h *affinity.History) []byte {
		x, err := segment.Build(ctx, h, asOf, segment.Options{HalfLife: 9 * 24 * time.Hour})
		require.NoError(t, err)
		var b bytes.Buffer
		_, err = x.WriteTo(&b)
		require.NoError(t, err)
		return b.Bytes()
	}
	// c1's index over the single machine's catalog, from c1's lines in
	// the single machine's order
	sb := affinity.NewCatalogBuilder(single.Catalog())
	for p := range single.Purchases() {
		if p.Customer == "c1" {
			require.NoError(t, sb.Add(p))
		}
	}
	hs, err := sb.Build(ctx)
	require.NoError(t, err)
	wantIndex := index(hs)
	for _, delivered := range [][]int{{0, 1, 2}, {2, 1, 0}, {1, 2, 0}} {
		var got []Part
		(&mergeFn{Shards: 1}).ProcessElement(partKey("c1", ""), iter([]Part{parts[delivered[0]], parts[delivered[1]], parts[delivered[2]]}), 0,
			func(_ int, p Part) { got = append(got, p) })
		require.Len(t, got, 1)
		m := got[0]
		assert.Equal(t, parts[0].Pos, m.Pos)
		m.Pos = 0
		h, err := chunkHistory(ctx, 0, iter([]Part{m}), new(affinity.Builder))
		require.NoError(t, err)
		assert.Equal(t, want, lines(h, 0), "delivered in file order %v", delivered)

		// the same over the lines mergeFn passes on
		hj, err := chunkHistory(ctx, 0, iter([]Part{m}), affinity.NewCatalogBuilder(single.Catalog()))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(wantIndex, index(hj)), "the index of c1 differs, delivered in file order %v", delivered)
	}
}
