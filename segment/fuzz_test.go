package segment_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/segment"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const goldenPath = "testdata/tiny.idx"

// tinyIndex builds the index of a hand-made history (tinyHistory).
func tinyIndex(t testing.TB) *segment.Index {
	t.Helper()
	x, err := segment.Build(context.Background(), tinyHistory(t), testAsOf, segment.Options{})
	require.NoError(t, err)
	e, err := segment.Parse(`affinity("Apparel") >= 0.5 and recency <= 30d`)
	require.NoError(t, err)
	x, err = x.Define("apparel fans", e)
	require.NoError(t, err)
	return x
}

// tinyHistory is a hand-made history: three customers, four products in
// two departments, a month of orders, views and a cart.
func tinyHistory(t testing.TB) *affinity.History {
	t.Helper()
	var b affinity.Builder
	for _, p := range []affinity.Product{
		{Key: "tee", Categories: []string{"Apparel/Tops"}},
		{Key: "socks", Categories: []string{"Apparel/Socks"}},
		{Key: "mug", Categories: []string{"Home/Kitchen"}},
		{Key: "gift", Categories: []string{"Apparel/Tops", "Home/Kitchen"}},
	} {
		require.NoError(t, b.AddProduct(p))
	}
	at := func(d int) time.Time { return testAsOf.Add(-time.Duration(d) * segment.Day) }
	for _, p := range []affinity.Purchase{
		{Customer: "ann", Product: "tee", Order: "1", Time: at(20), Quantity: 2, Price: 150_000},
		{Customer: "ann", Product: "socks", Order: "1", Time: at(20), Quantity: 1, Price: 40_000},
		{Customer: "ann", Product: "gift", Order: "4", Time: at(3), Quantity: 1, Price: 90_000},
		{Customer: "bob", Product: "mug", Order: "2", Time: at(15), Quantity: 1, Price: 80_000},
		{Customer: "bob", Product: "mug", Order: "5", Time: at(2), Quantity: -1, Price: 80_000},
		{Customer: "cy", Product: "socks", Order: "3", Time: at(28), Quantity: 3, Price: 40_000},
	} {
		require.NoError(t, b.Add(p))
	}
	for _, e := range []affinity.Event{
		{Customer: "bob", Product: "tee", Time: at(1), Kind: affinity.View, Weight: 1},
		{Customer: "cy", Product: "mug", Time: at(4), Kind: affinity.Cart, Weight: 1},
	} {
		require.NoError(t, b.AddEvent(e))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// TestGoldenEncoding pins the file format: a change to the encoding must
// come with a new version number, or a header flag that earlier files do
// not set (and -update).
func TestGoldenEncoding(t *testing.T) {
	got := encode(t, tinyIndex(t))
	if *update {
		require.NoError(t, os.WriteFile(goldenPath, got, 0o644))
	}
	want, err := os.ReadFile(goldenPath)
	require.NoError(t, err)
	assert.Equal(t, want, got, "encoding changed; bump the version and run go test -update")
	_, err = decode(want)
	require.NoError(t, err)
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`affinity("Apparel/Sportswear") >= 0.3 and recency between 14d and 28d and not bought("Apparel/Socks")`,
		`carted("p1", 7d) and not bought(product("p1") within 1m) or abandoned(2w)`,
		`monetary >= $500 and aov < -€1.5 or itemshare("A") > 30%`,
		`active between "2024-01-01" and "2024-01-31" # comment`,
		`not (rfm("Can't lose them") or lifecycle("new")) and top("A", 2) and segment("x")`,
		`((((all))))`, `recency("A") != 3w and rank("B") = 1 and lift("C") >= 2`, `"unterminated`, "\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := segment.Parse(src)
		if err != nil {
			var se *segment.SyntaxError
			require.ErrorAs(t, err, &se)
			require.True(t, se.Offset >= 0 && se.Offset <= len(src), "offset %d", se.Offset)
			require.GreaterOrEqual(t, se.Line, 1)
			require.GreaterOrEqual(t, se.Column, 1)
			return
		}
		s := e.String()
		require.True(t, utf8.ValidString(s))
		again, err := segment.Parse(s)
		require.NoError(t, err, "%q printed as %q", src, s)
		require.Equal(t, s, again.String())
	})
}

func FuzzDecode(f *testing.F) {
	golden, err := os.ReadFile(filepath.FromSlash(goldenPath))
	require.NoError(f, err)
	f.Add(golden)
	f.Add(golden[16 : len(golden)-16]) // a body, sealed by the fuzz function
	f.Add([]byte("AFSEGIDX"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, in := range [][]byte{data, reseal(data)} {
			x, err := decode(in)
			if err != nil {
				require.ErrorIs(t, err, segment.ErrCorrupt)
				continue
			}
			require.Equal(t, in, encode(t, x), "decode then encode must give the input back")
			all, err := x.Query("all")
			require.NoError(t, err)
			require.Equal(t, x.Len(), int(all.GetCardinality()))
			x.RFMTable()
		}
	})
}
