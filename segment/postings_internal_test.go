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
	x, err := Build(ctx, oneProductHistory(t, t0, "a", "b", "c"), t0, Options{})
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

// oneProductHistory is a History of product "p" in category "A", bought
// once by each of customers in their own order, an hour apart before t0.
func oneProductHistory(t *testing.T, t0 time.Time, customers ...string) *affinity.History {
	t.Helper()
	var b affinity.Builder
	require.NoError(t, b.AddProduct(affinity.Product{Key: "p", Categories: []string{"A"}}))
	for i, c := range customers {
		require.NoError(t, b.Add(affinity.Purchase{Customer: c, Product: "p", Order: c, Time: t0.Add(-time.Duration(i+1) * time.Hour), Quantity: 1, Price: 10000}))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// TestDecodeLookDaysOfAnEarlierCalendar: an index saved as of a month end
// by a version whose calendar months rolled the day over (Months(1)
// before 2024-03-31 started on 03-02, two days later than the clamped
// 02-29) stores a look-back two days shorter than its options now span.
// ReadIndex refuses it with an error that says so, not "invalid options:
// <nil>".
func TestDecodeLookDaysOfAnEarlierCalendar(t *testing.T) {
	ctx := context.Background()
	asOf := time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC)
	x, err := Build(ctx, oneProductHistory(t, asOf, "a"), asOf, Options{Lookback: affinity.Months(1)})
	require.NoError(t, err)
	require.Equal(t, 31, x.lookDays, "2024-02-29 to 03-31")

	var buf bytes.Buffer
	_, err = x.WriteTo(&buf)
	require.NoError(t, err)
	_, err = ReadIndex(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err, "the index as written now")

	y := x.shallowCopy()
	y.lookDays = 29 // from 03-02, as AddDate had it
	buf.Reset()
	_, err = y.WriteTo(&buf)
	require.NoError(t, err)
	_, err = ReadIndex(bytes.NewReader(buf.Bytes()))
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, "a look-back of 29 days where 1 month before 2024-03-31 spans 31")
	require.ErrorContains(t, err, "build it again")
}
