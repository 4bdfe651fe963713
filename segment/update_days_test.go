package segment_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/segment"
)

// TestUpdateAcrossDays moves shops day by day as a storefront does: each
// refresh brings the orders and events of the next one to three days
// (some changing older orders), and Update moves the index to the new
// day. Every answer must equal the full Build as of that day, and most
// moves must be laid over the index rather than built: only the
// customers whose orders or events crossed an edge of the look-back join
// the changed ones.
func TestUpdateAcrossDays(t *testing.T) {
	ctx := context.Background()
	seeds := uint64(testdata.Scale(24, 4)) // a multiple of 4: every options case
	if raceEnabled {
		seeds = uint64(testdata.Scale(8, 4))
	}
	var steps, layered int
	patched0 := segment.Patched()
	defer segment.SetPatchShare(1)() // patch whenever the scores keep their range
	for seed := range seeds {
		r := rand.New(rand.NewPCG(seed, 91))
		opts := segment.Options{}
		switch seed % 4 {
		case 1:
			opts.Lookback = affinity.Months(3)
		case 2:
			opts.RFMScoring = segment.RFMNTile
		case 3:
			opts.Lookback = affinity.Days(45)
		}
		asOf := time.Date(2024, 2, 26, 23, 59, 59, 0, time.UTC) // the end of a day, as package shop keeps it
		nCust, nProd := 150+r.IntN(150), 6+r.IntN(10)
		prods := make([]string, nProd)
		var b affinity.Builder
		paths := []string{"Sports", "Sports/Shoes", "Home", "Home/Kitchen", "Books"}
		for p := range prods {
			prods[p] = "p" + strconv.Itoa(p)
			cats := []string{paths[r.IntN(len(paths))]}
			if r.IntN(4) == 0 {
				cats = append(cats, paths[r.IntN(len(paths))])
			}
			require.NoError(t, b.AddProduct(affinity.Product{Key: prods[p], Categories: cats, InStock: true}))
		}
		order := 0
		line := func(cust string, at time.Time) affinity.Purchase {
			q := int32(1 + r.IntN(3))
			if r.IntN(10) == 0 {
				q = -q
			}
			return affinity.Purchase{Customer: cust, Product: prods[r.IntN(nProd)], Order: "o" + strconv.Itoa(order),
				Time: at, Quantity: q, Price: affinity.Money(1+r.IntN(40)) * affinity.MoneyScale / 4}
		}
		buy := func(nb *affinity.Builder, cust string, at time.Time) {
			order++
			for range 1 + r.IntN(3) {
				noErr(t, nb.Add(line(cust, at)))
			}
		}
		for c := range nCust {
			cust := "c" + strconv.Itoa(c)
			for range r.IntN(6) { // two years of orders, spread evenly
				buy(&b, cust, asOf.Add(-time.Duration(r.Int64N(int64(800*segment.Day)))))
			}
			if r.IntN(3) == 0 {
				noErr(t, b.AddEvent(affinity.Event{Customer: cust, Product: prods[r.IntN(nProd)], Kind: affinity.Cart,
					Time: asOf.Add(-time.Duration(r.Int64N(int64(60 * segment.Day)))), Weight: 1}))
			}
		}
		h, err := b.Build(ctx)
		require.NoError(t, err)
		x, err := segment.Build(ctx, h, asOf, opts)
		require.NoError(t, err)
		for step := range 5 {
			days := 1 + r.IntN(3)
			if step == 0 {
				days = 0 // a refresh within the day first
			}
			next := asOf.Add(time.Duration(days) * segment.Day)
			nb := affinity.NewBuilder(h)
			for range 1 + r.IntN(6) { // the new days' orders, some by new customers
				cust := "c" + strconv.Itoa(r.IntN(nCust+5))
				buy(nb, cust, next.Add(-time.Duration(r.Int64N(int64(max(days, 1))*int64(segment.Day)))))
			}
			if r.IntN(3) == 0 {
				require.NoError(t, nb.DeleteOrder("o"+strconv.Itoa(r.IntN(order)), int64(step+1)))
			}
			if r.IntN(4) == 0 {
				require.NoError(t, nb.AddEvent(affinity.Event{Customer: "c" + strconv.Itoa(r.IntN(nCust)), Product: prods[0],
					Kind: affinity.View, Time: next.Add(-time.Hour), Weight: 1}))
			}
			h2, err := nb.Build(ctx)
			require.NoError(t, err)
			msg := fmt.Sprintf("seed %d step %d (%d days on, options %+v)", seed, step, days, opts)
			got, err := segment.Update(ctx, x, h, h2, next, segment.UpdateOptions{})
			require.NoError(t, err, msg)
			want, err := segment.Build(ctx, h2, next, opts)
			require.NoError(t, err, msg)
			steps++
			if segment.Layered(got) {
				layered++
			}
			queries, bad := updateQueries(r, want, h2.Catalog(), 3, 3)
			requireSameIndex(t, msg, r, got, want, x, h2, updateCheck{queries: queries, bad: bad, random: 10})
			x, h, asOf = got, h2, next
		}
	}
	patchedN := segment.Patched() - patched0
	t.Logf("%d steps, %d layered, %d with patched RFM parts", steps, layered, patchedN)
	require.Positive(t, patchedN, "no move patched the RFM parts")
	require.GreaterOrEqual(t, layered*100, 70*steps, "too few layered moves: %d of %d", layered, steps)
}

// TestUpdateOfLoadedIndexDerivesDefaults: an index read back by ReadIndex
// keeps which options were left to their defaults, so that Update of it
// to a later day derives LapseAfter and ChurnAfter from the look-back's
// length then, as Update of the index before it was saved and Build do.
// With a 5-month look-back, 2025-06-30 has 151 days back and 2025-07-01
// 150 (and 2025-08-31 153): a LapseAfter of 151 days taken as given
// failed the update (and gave other answers than Build). A file
// without the flags (written before them) reads with the stored values
// as given.
func TestUpdateOfLoadedIndexDerivesDefaults(t *testing.T) {
	ctx := context.Background()
	five := affinity.Months(5)
	for _, tc := range []struct {
		name string
		opts segment.Options
	}{
		{"defaults", segment.Options{Lookback: five}},
		{"LapseAfter given", segment.Options{Lookback: five, LapseAfter: 120 * segment.Day}},
		{"ChurnAfter given", segment.Options{Lookback: five, ChurnAfter: 400 * segment.Day}},
		{"both given", segment.Options{Lookback: five, LapseAfter: 151 * segment.Day, ChurnAfter: 400 * segment.Day}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newAdvShop(7)
			s.t0 = time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
			h := s.history(t, 200)
			x, err := segment.Build(ctx, h, s.t0, tc.opts)
			require.NoError(t, err)
			data := advEncode(t, x)
			loaded, err := segment.ReadIndex(bytes.NewReader(data))
			require.NoError(t, err)
			require.Equal(t, data, advEncode(t, loaded), "read back, written again")
			require.Equal(t, tc.opts, x.GivenOptions())
			// the file keeps which of the time-dependent defaults were
			// left to them (the others are stored filled in)
			given := loaded.GivenOptions()
			require.Equal(t, [2]time.Duration{tc.opts.LapseAfter, tc.opts.ChurnAfter}, [2]time.Duration{given.LapseAfter, given.ChurnAfter})

			h2 := s.refresh(t, h, 3)
			for _, days := range []int{1, 62} { // 150 days back, then 153
				later := s.t0.Add(time.Duration(days) * segment.Day)
				msg := fmt.Sprintf("%d days later", days)
				want, werr := segment.Build(ctx, h2, later, tc.opts)
				fromBuilt, berr := segment.Update(ctx, x, h, h2, later, segment.UpdateOptions{})
				fromLoaded, lerr := segment.Update(ctx, loaded, h, h2, later, segment.UpdateOptions{})
				if werr != nil {
					require.ErrorIs(t, werr, segment.ErrInvalid, msg)
					require.Equal(t, werr, berr, "%s: update of the built index", msg)
					require.Equal(t, werr, lerr, "%s: update of the loaded index", msg)
					continue
				}
				require.NoError(t, berr, msg)
				require.NoError(t, lerr, msg)
				require.Equal(t, want.Options(), fromLoaded.Options(), msg)
				requireAdvSame(t, msg+": update of the built index", s.r, fromBuilt, want, h2, 10)
				requireAdvSame(t, msg+": update of the loaded index", s.r, fromLoaded, want, h2, 10)
				require.Equal(t, advEncode(t, want), advEncode(t, fromLoaded), msg)
			}

			// the file as written before the flags: the stored values as given
			old := bytes.Clone(data)
			old[12] &^= 2 | 4
			loaded, err = segment.ReadIndex(bytes.NewReader(old))
			require.NoError(t, err)
			require.Equal(t, x.Options(), loaded.Options())
			_, err = segment.Update(ctx, loaded, h, h2, s.t0.Add(segment.Day), segment.UpdateOptions{})
			if tc.opts.LapseAfter == 0 || tc.opts.LapseAfter > 150*segment.Day {
				require.ErrorContains(t, err, "LapseAfter 151d exceeds Lookback 5 months (150d)")
			} else {
				require.NoError(t, err)
			}
		})
	}
}

// TestGivenOptionsBuildAnotherTime: the index of another time is built
// with GivenOptions; Options' defaults derive from this time's look-back
// (LapseAfter is the look-back's 31 days of Months(1) as of 2025-06-01,
// more than the 28 days of Months(1) as of 2025-03-01).
func TestGivenOptionsBuildAnotherTime(t *testing.T) {
	ctx := context.Background()
	s := newAdvShop(3)
	s.t0 = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	h := s.history(t, 200)
	x, err := segment.Build(ctx, h, s.t0, segment.Options{Lookback: affinity.Months(1)})
	require.NoError(t, err)
	earlier := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	_, err = segment.Build(ctx, h, earlier, x.Options())
	require.ErrorContains(t, err, "LapseAfter 31d exceeds Lookback 1 month (28d)")
	y, err := segment.Build(ctx, h, earlier, x.GivenOptions())
	require.NoError(t, err)
	want, err := segment.Build(ctx, h, earlier, segment.Options{Lookback: affinity.Months(1)})
	require.NoError(t, err)
	require.Equal(t, advEncode(t, want), advEncode(t, y))
}

// An all-time index holds at most 65,535 days back: Build refuses an
// as-of time that puts a customer's earliest order or event further
// back, and Update to that time must refuse it too. It used to lay the
// change over the index, whose unchanged customers' days were read
// older, past the limit: an index that contradicted itself (bought("p")
// selected nobody while every customer had an order). Here the earliest
// record is a view event ten days before the first order; Update to the
// last day within the limit still agrees with Build.
func TestUpdateAllTimeStaysWithinDayLimit(t *testing.T) {
	ctx := context.Background()
	first := time.Date(1971, 1, 1, 12, 0, 0, 0, time.UTC)
	var b affinity.Builder
	noErr(t, b.AddEvent(affinity.Event{Customer: "viewer", Product: "p", Kind: affinity.View, Time: first, Weight: 1}))
	for i := range 20 {
		key := fmt.Sprintf("c%d", i)
		noErr(t, b.Add(affinity.Purchase{Customer: key, Product: "p", Order: key,
			Time: first.Add(10*segment.Day).AddDate(i, 0, 0), Quantity: 1, Price: affinity.MoneyScale}))
	}
	h, err := b.Build(ctx)
	require.NoError(t, err)
	opts := segment.Options{Lookback: affinity.AllTime}
	day := func(n int) time.Time { return first.Add(time.Duration(n) * segment.Day) }
	x, err := segment.Build(ctx, h, day(65524), opts)
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(5, 5))

	last := day(65534) // the earliest record 65,534 days back
	want, err := segment.Build(ctx, h, last, opts)
	require.NoError(t, err)
	got, err := segment.Update(ctx, x, h, h, last, segment.UpdateOptions{})
	require.NoError(t, err)
	require.True(t, segment.Layered(got), "the update within the limit was built in full")
	requireSameIndex(t, "65,534 days back", r, got, want, x, h, updateCheck{queries: []string{`bought("p")`, `viewed("p")`, `tenure > 60000d`}})

	for _, n := range []int{65535, 65535 + 36500} {
		msg := fmt.Sprintf("%d days back", n)
		_, berr := segment.Build(ctx, h, day(n), opts)
		require.ErrorIs(t, berr, segment.ErrInvalid, msg)
		for _, from := range []*segment.Index{x, got} {
			y, uerr := segment.Update(ctx, from, h, h, day(n), segment.UpdateOptions{})
			requireSameError(t, berr, uerr, msg)
			require.Nil(t, y, msg)
		}
	}
}
