package similarity_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"flag"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/similarity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// smallIndex is a deterministic index over a random storefront.
func smallIndex(t testing.TB, m similarity.Measure, scope similarity.Scope) *similarity.Index {
	t.Helper()
	d := randomData(rand.New(rand.NewPCG(6, 6)), randomOptions{customers: 20, products: 12, orders: 120, maxLines: 4})
	h := d.history(t, nil)
	c, err := similarity.Count(context.Background(), h, h.Latest(), similarity.CountOptions{Scope: scope})
	require.NoError(t, err)
	x, err := similarity.NewIndex(context.Background(), c, similarity.IndexOptions{Measure: m, K: 4, MinSupport: 1, Shrinkage: 2})
	require.NoError(t, err)
	return x
}

func encode(t testing.TB, x *similarity.Index) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := x.WriteTo(&buf)
	require.NoError(t, err)
	require.Equal(t, int64(buf.Len()), n)
	return buf.Bytes()
}

func requireSameIndex(t *testing.T, want, got *similarity.Index) {
	t.Helper()
	require.Equal(t, want.NumProducts(), got.NumProducts())
	require.Equal(t, want.Measure(), got.Measure())
	require.Equal(t, want.Scope(), got.Scope())
	require.Equal(t, want.Directed(), got.Directed())
	require.Equal(t, want.Total(), got.Total())
	require.Equal(t, want.K(), got.K())
	require.Equal(t, want.MinSupport(), got.MinSupport())
	require.Equal(t, want.Shrinkage(), got.Shrinkage())
	require.Equal(t, want.NumNeighbors(), got.NumNeighbors())
	for p := range want.NumProducts() {
		id := affinity.ProductID(p)
		require.Equal(t, want.Support(id), got.Support(id))
		require.Equal(t, want.Neighbors(id), got.Neighbors(id))
	}
}

func TestIndexRoundTrip(t *testing.T) {
	for _, scope := range []similarity.Scope{similarity.Basket, similarity.Customer, similarity.Sequential} {
		for _, m := range []similarity.Measure{similarity.Lift, similarity.Conviction, similarity.NPMI, similarity.BM25} {
			t.Run(scope.String()+"/"+m.String(), func(t *testing.T) {
				x := smallIndex(t, m, scope)
				data := encode(t, x)
				// followed by other data: ReadIndex stops at its end
				r := bytes.NewReader(append(data, "tail"...))
				got, err := similarity.ReadIndex(r)
				require.NoError(t, err)
				requireSameIndex(t, x, got)
				rest, _ := io.ReadAll(r)
				assert.Equal(t, "tail", string(rest))
				assert.Equal(t, data, encode(t, got), "re-encoding is identical")
			})
		}
	}
}

func TestIndexGolden(t *testing.T) {
	x := smallIndex(t, similarity.Lift, similarity.Basket)
	data := encode(t, x)
	path := filepath.Join("testdata", "index_v1.golden")
	if *update {
		require.NoError(t, os.WriteFile(path, data, 0o644))
	}
	golden, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -run TestIndexGolden -update to create it")
	assert.Equal(t, golden, data, "the encoding changed: bump the version")
	got, err := similarity.ReadIndex(bytes.NewReader(golden))
	require.NoError(t, err)
	requireSameIndex(t, x, got)
}

func TestReadIndexRejectsCorruption(t *testing.T) {
	data := encode(t, smallIndex(t, similarity.Jaccard, similarity.Customer))
	t.Run("every byte flipped", func(t *testing.T) {
		for i := range data {
			bad := bytes.Clone(data)
			bad[i] ^= 0x40
			x, err := similarity.ReadIndex(bytes.NewReader(bad))
			require.Error(t, err, "byte %d", i)
			require.Nil(t, x)
		}
	})
	t.Run("every truncation", func(t *testing.T) {
		for n := range len(data) {
			_, err := similarity.ReadIndex(bytes.NewReader(data[:n]))
			require.ErrorIs(t, err, similarity.ErrCorrupt, "length %d", n)
		}
	})
	t.Run("version", func(t *testing.T) {
		bad := bytes.Clone(data)
		binary.LittleEndian.PutUint32(bad[8:], 2)
		_, err := similarity.ReadIndex(bytes.NewReader(bad))
		require.ErrorIs(t, err, similarity.ErrVersion)
	})
	t.Run("huge sizes", func(t *testing.T) {
		// a plausible header claiming 2³¹ products and neighbours, then
		// nothing: the decoder must fail without allocating gigabytes
		bad := bytes.Clone(data[:56])
		binary.LittleEndian.PutUint32(bad[44:], 1<<31) // products
		binary.LittleEndian.PutUint64(bad[48:], 1<<31) // neighbours
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := similarity.ReadIndex(bytes.NewReader(bad))
		runtime.ReadMemStats(&after)
		require.ErrorIs(t, err, similarity.ErrCorrupt)
		assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(8<<20))
	})
	t.Run("reader error", func(t *testing.T) {
		_, err := similarity.ReadIndex(io.MultiReader(bytes.NewReader(data[:20]), errReader{}))
		require.ErrorIs(t, err, errBoom)
	})
}

type errReader struct{}

var errBoom = io.ErrClosedPipe

func (errReader) Read([]byte) (int, error) { return 0, errBoom }

func TestWriteToError(t *testing.T) {
	x := smallIndex(t, similarity.Lift, similarity.Basket)
	_, err := x.WriteTo(failWriter{})
	require.ErrorIs(t, err, errBoom)
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errBoom }
