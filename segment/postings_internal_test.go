package segment

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
)

// TestDecodeBoundsPostingCounts: the product postings' entry counts are
// offsets from the file, and a column of zeros takes one byte whatever
// its length. A product's entries are distinct customers, so a file
// claiming more than the customers, or entries past the last customer,
// is rejected from the offsets, before the columns are read (a file of
// 2,196 bytes claiming 2^29 entries took 7 s to reject, entry by entry);
// a product whose entries are every customer, in columns of zeros,
// reads back as written.
func TestDecodeBoundsPostingCounts(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	var b affinity.Builder
	require.NoError(t, b.AddProduct(affinity.Product{Key: "p", Categories: []string{"A"}}))
	for i, c := range []string{"a", "b", "c"} {
		require.NoError(t, b.Add(affinity.Purchase{Customer: c, Product: "p", Order: c, Time: t0.Add(-time.Duration(i+1) * time.Hour), Quantity: 1, Price: 10000}))
	}
	h, err := b.Build(ctx)
	require.NoError(t, err)
	x, err := Build(ctx, h, t0, Options{})
	require.NoError(t, err)
	require.Equal(t, 3, x.Len())

	for _, tc := range []struct {
		name     string
		n, first uint32 // the product's entries, from customer first
		corrupt  string // the error's text, "" when the file is valid
	}{
		{name: "more entries than customers", n: 1 << 29, corrupt: "entries"},
		{name: "one more than the customers", n: 4, corrupt: "entries"},
		{name: "past the last customer", n: 3, first: 1, corrupt: "entries"},
		{name: "none from a customer", n: 0, first: 1, corrupt: "entries"},
		{name: "every customer", n: 3},
		{name: "the last customers", n: 2, first: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y := x.shallowCopy()
			for k := range y.acts {
				y.acts[k] = postings{off: []uint32{0, tc.n}, first: []uint32{tc.first}, gap: packedInts{n: int(tc.n)}, days: packedInts{n: int(tc.n)}}
			}
			var buf bytes.Buffer
			_, err := y.WriteTo(&buf)
			require.NoError(t, err)
			z, err := ReadIndex(bytes.NewReader(buf.Bytes()))
			if tc.corrupt != "" {
				require.ErrorIs(t, err, ErrCorrupt)
				require.ErrorContains(t, err, tc.corrupt, "rejected by the offsets")
				return
			}
			require.NoError(t, err)
			var again bytes.Buffer
			_, err = z.WriteTo(&again)
			require.NoError(t, err)
			require.Equal(t, buf.Bytes(), again.Bytes())
			var got []uint32
			z.acts[0].each(0, func(c uint32, days int64) {
				require.Zero(t, days)
				got = append(got, c)
			})
			want := []uint32{}
			for c := tc.first; c < tc.first+tc.n; c++ {
				want = append(want, c)
			}
			require.ElementsMatch(t, want, got)
		})
	}
}
