package segment_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/segment"
)

// boundaryShop is a shop whose customers sit exactly on and next to the
// thresholds a marketer writes: spend shares of exactly 30 %, 29.997 %,
// 30.001 % and 1/3 in category X, and order shares of 1/3.
func boundaryShop(t *testing.T) (*affinity.History, map[string]uint32) {
	t.Helper()
	var b affinity.Builder
	require.NoError(t, b.AddProduct(affinity.Product{Key: "x", Categories: []string{"X"}}))
	require.NoError(t, b.AddProduct(affinity.Product{Key: "y", Categories: []string{"Y"}}))
	at := testAsOf.Add(-10 * segment.Day)
	order := 0
	buy := func(cust, prod string, qty int32, price affinity.Money, sameOrder bool) {
		if !sameOrder {
			order++
		}
		require.NoError(t, b.Add(affinity.Purchase{Customer: cust, Product: prod, Order: fmt.Sprint(order),
			Time: at.Add(time.Duration(order) * time.Minute), Quantity: qty, Price: price}))
	}
	// spend in units of 1/10000 currency: X : Y
	for _, c := range []struct {
		key  string
		x, y affinity.Money
	}{
		{"at30", 300, 700},
		{"at29.997", 29997, 70003},
		{"at30.001", 30001, 69999},
		{"third", 1, 2},
		{"all-x", 5, 0},
	} {
		buy(c.key, "x", 1, c.x, false)
		if c.y > 0 {
			buy(c.key, "y", 1, c.y, true)
		}
	}
	// one order in three contains X; items 3 of 10
	buy("orders", "x", 3, 1, false)
	buy("orders", "y", 7, 1, true)
	buy("orders", "y", 1, 1, false)
	buy("orders", "y", 1, 1, false)
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	ids := map[string]uint32{}
	for c := range h.NumCustomers() {
		ids[h.CustomerKey(affinity.CustomerID(c))] = uint32(c)
	}
	return h, ids
}

func TestSharesAreExactAtTheBoundary(t *testing.T) {
	h, ids := boundaryShop(t)
	x, err := segment.Build(context.Background(), h, testAsOf, segment.Options{})
	require.NoError(t, err)
	set := func(keys ...string) *roaring.Bitmap {
		b := roaring.New()
		for _, k := range keys {
			b.Add(ids[k])
		}
		return b
	}
	for _, tc := range []struct {
		q    string
		want *roaring.Bitmap
	}{
		{`affinity("X") >= 0.3`, set("at30", "at30.001", "third", "all-x")},
		{`affinity("X") >= 30%`, set("at30", "at30.001", "third", "all-x")},
		{`affinity("X") > 0.3`, set("at30.001", "third", "all-x")},
		{`affinity("X") = 0.3`, set("at30")},
		{`affinity("X") != 0.3`, set("at29.997", "at30.001", "third", "all-x", "orders")},
		{`affinity("X") < 0.3`, set("at29.997", "orders")},
		{`affinity("X") >= 29.997%`, set("at29.997", "at30", "at30.001", "third", "all-x")},
		{`affinity("X") between 0.29997 and 0.30001`, set("at29.997", "at30", "at30.001")},
		{`affinity("X") >= 0.3333`, set("third", "all-x")},
		{`affinity("X") >= 0.33333334`, set("all-x")},
		{`affinity("X") <= 0.33333333`, set("at29.997", "at30", "at30.001", "orders")},
		{`affinity("X") = 0.25`, set("orders")},
		{`itemshare("X") >= 0.25`, set("at30", "at29.997", "at30.001", "all-x", "third", "orders")},
		{`itemshare("X") > 0.25`, set("at30", "at29.997", "at30.001", "all-x", "third")},
		{`ordershare("X") >= 0.3333`, set("orders", "at30", "at29.997", "at30.001", "all-x", "third")},
		{`ordershare("X") > 0.33333334`, set("at30", "at29.997", "at30.001", "all-x", "third")},
		{`affinity("Y") <= 0.7`, set("at30", "at30.001", "third", "all-x")},
	} {
		got, err := x.Query(tc.q)
		require.NoError(t, err, tc.q)
		assert.Equal(t, tc.want.ToArray(), got.ToArray(), tc.q)
	}
	// the Go API means the decimal a float prints as
	got, err := x.Eval(segment.Affinity("X").GE(0.3))
	require.NoError(t, err)
	assert.Equal(t, set("at30", "at30.001", "third", "all-x").ToArray(), got.ToArray())

	// lift: the population's share of spend in X is exactly
	// (300+29997+30001+1+5+3)/(1000+100000+100000+3+5+12) = 60307/201020,
	// a hair above 0.3
	pop := float64(60307) / 201020
	assert.InDelta(t, pop, must(x.PopulationShare("X")), 1e-12)
	// at30 has lift 0.3/pop = 0.99993…; "lift >= 1" must leave it out
	// however the threshold rounds
	got, err = x.Query(`lift("X") >= 1`)
	require.NoError(t, err)
	assert.Equal(t, set("at30.001", "third", "all-x").ToArray(), got.ToArray())
}

func must(v float64, ok bool) float64 {
	if !ok {
		panic("unknown category")
	}
	return v
}

// TestHalfLifeSharesAreRounded documents the other mode: decayed shares
// are real numbers and compare at the stored resolution of 1/10000.
func TestHalfLifeSharesAreRounded(t *testing.T) {
	h, ids := boundaryShop(t)
	x, err := segment.Build(context.Background(), h, testAsOf, segment.Options{HalfLife: 10_000 * segment.Day})
	require.NoError(t, err)
	got, err := x.Query(`affinity("X") >= 0.3`)
	require.NoError(t, err)
	assert.True(t, got.Contains(ids["at29.997"]), "29.997%% rounds to 0.3000")
}

func TestLookbackInCalendarMonths(t *testing.T) {
	// 24 months before 2012-03-01 is 2010-03-01: 731 days, with 2012-02-29
	asOf := time.Date(2012, 3, 1, 0, 0, 0, 0, time.UTC)
	var b affinity.Builder
	require.NoError(t, b.AddProduct(affinity.Product{Key: "p", Categories: []string{"X"}}))
	for i, at := range []time.Time{
		time.Date(2010, 3, 1, 12, 0, 0, 0, time.UTC), // 730.5 days back: inside 24 months
		time.Date(2010, 3, 1, 0, 0, 0, 0, time.UTC),  // the start itself: outside
		time.Date(2012, 2, 29, 0, 0, 0, 0, time.UTC),
	} {
		require.NoError(t, b.Add(affinity.Purchase{Customer: fmt.Sprint("c", i), Product: "p", Order: fmt.Sprint(i), Time: at, Quantity: 1, Price: 10}))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		look affinity.Lookback
		want []uint32
	}{
		{"default 24 months", affinity.Lookback{}, []uint32{0, 2}},
		{"months", affinity.Months(24), []uint32{0, 2}},
		{"730 days", affinity.Days(730), []uint32{2}},
		{"all time", affinity.AllTime, []uint32{0, 1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, err := segment.Build(context.Background(), h, asOf, segment.Options{Lookback: tc.look})
			require.NoError(t, err)
			got, err := x.Query(`frequency >= 1`)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got.ToArray())
			got, err = x.Query(`bought("X")`)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got.ToArray())
			if tc.look == (affinity.Lookback{}) {
				assert.Equal(t, affinity.Months(24), x.Options().Lookback)
				// the window of the 24 months is 731 days, rounded up
				_, err = x.Query(`bought("X" within 731d)`)
				require.NoError(t, err)
				_, err = x.Query(`bought("X" within 732d)`)
				require.ErrorIs(t, err, segment.ErrInvalid)
			}
		})
	}
}

func TestNTileScoresMatchSQL(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 3))
	h := randomHistory(t, rng, 900)
	opts := segment.Options{RFMScoring: segment.RFMNTile}
	x, err := segment.Build(context.Background(), h, testAsOf, opts)
	require.NoError(t, err)
	n := newNaive(h, testAsOf, opts)
	// every score of every customer, and the tiles' sizes differ by at most one
	for _, attr := range []string{"rscore", "fscore", "mscore"} {
		var sizes []uint64
		for s := 1; s <= 5; s++ {
			got, err := x.Query(fmt.Sprintf("%s = %d", attr, s))
			require.NoError(t, err)
			want := roaring.New()
			for c := range n.cust {
				cu := &n.cust[c]
				if cu.known && cu.freq > 0 && map[string]int{"rscore": cu.r, "fscore": cu.f, "mscore": cu.m}[attr] == s {
					want.Add(uint32(c))
				}
			}
			require.Equal(t, want.ToArray(), got.ToArray(), "%s = %d", attr, s)
			sizes = append(sizes, got.GetCardinality())
		}
		for i := 1; i < 5; i++ {
			assert.LessOrEqual(t, sizes[i], sizes[i-1], "%s: larger tiles first", attr)
			assert.LessOrEqual(t, sizes[0]-sizes[4], uint64(1), attr)
		}
	}
	checkQueries(t, x, n, rng, 150)
}

// TestDefineKeepsExactShares: an index with a named segment answers as
// exactly as the one it was defined on.
func TestDefineKeepsExactShares(t *testing.T) {
	h, ids := boundaryShop(t)
	x, err := segment.Build(context.Background(), h, testAsOf, segment.Options{})
	require.NoError(t, err)
	y, err := x.Define("fans", segment.Affinity("X").GE(0.3))
	require.NoError(t, err)
	got, err := y.Query(`segment("fans") and affinity("X") <= 0.3`)
	require.NoError(t, err)
	assert.Equal(t, []uint32{ids["at30"]}, got.ToArray())
}

// TestLargeItemCountsStayExact: with more than 5,000 items a customer's
// item share cannot be recovered from the stored share alone, so the
// index keeps the difference; answers stay exact either way.
func TestLargeItemCountsStayExact(t *testing.T) {
	var b affinity.Builder
	require.NoError(t, b.AddProduct(affinity.Product{Key: "x", Categories: []string{"X"}}))
	require.NoError(t, b.AddProduct(affinity.Product{Key: "y", Categories: []string{"Y"}}))
	at := testAsOf.Add(-segment.Day)
	for i, c := range []struct {
		key  string
		x, y int32
	}{{"at30", 1800, 4200}, {"below", 17_999, 42_001}, {"small", 3, 7}} {
		for _, l := range []struct {
			p string
			q int32
		}{{"x", c.x}, {"y", c.y}} {
			require.NoError(t, b.Add(affinity.Purchase{Customer: c.key, Product: l.p, Order: fmt.Sprint(i), Time: at, Quantity: l.q, Price: 1}))
		}
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	x, err := segment.Build(context.Background(), h, testAsOf, segment.Options{})
	require.NoError(t, err)
	for _, y := range []*segment.Index{x, must2(decodeIndex(t, x))} {
		got, err := y.Query(`itemshare("X") >= 0.3`)
		require.NoError(t, err)
		assert.Equal(t, []uint32{0, 2}, got.ToArray())
		got, err = y.Query(`itemshare("X") < 0.3 and affinity("X") < 0.3`)
		require.NoError(t, err)
		assert.Equal(t, []uint32{1}, got.ToArray())
	}
}

func decodeIndex(t *testing.T, x *segment.Index) (*segment.Index, error) {
	return decode(encode(t, x))
}

func must2(x *segment.Index, err error) *segment.Index {
	if err != nil {
		panic(err)
	}
	return x
}

// TestHugeSpendsStayExact: spends of up to 10^17 Money units leave a
// difference of dozens of bits between a numerator and the one its stored
// share implies; customers a unit either side of 30 % are still told apart,
// before and after a round trip through the file format.
func TestHugeSpendsStayExact(t *testing.T) {
	var b affinity.Builder
	require.NoError(t, b.AddProduct(affinity.Product{Key: "x", Categories: []string{"X"}}))
	require.NoError(t, b.AddProduct(affinity.Product{Key: "y", Categories: []string{"Y"}}))
	at := testAsOf.Add(-segment.Day)
	type spend struct {
		key  string
		x, y affinity.Money
	}
	var want, below []uint32
	var custs []spend
	for i, total := range []affinity.Money{1e6, 1e9, 1e12, 1e15, 1e17} {
		x := total / 10 * 3
		custs = append(custs,
			spend{fmt.Sprint("at-", i), x, total - x},
			spend{fmt.Sprint("below-", i), x - 1, total - x + 1},
			spend{fmt.Sprint("above-", i), x + 1, total - x - 1})
	}
	for i, c := range custs {
		for _, l := range []struct {
			p string
			m affinity.Money
		}{{"x", c.x}, {"y", c.y}} {
			require.NoError(t, b.Add(affinity.Purchase{Customer: c.key, Product: l.p, Order: fmt.Sprint(i), Time: at, Quantity: 1, Price: l.m}))
		}
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	for c := range h.NumCustomers() {
		if strings.HasPrefix(h.CustomerKey(affinity.CustomerID(c)), "below") {
			below = append(below, uint32(c))
		} else {
			want = append(want, uint32(c))
		}
	}
	x, err := segment.Build(context.Background(), h, testAsOf, segment.Options{})
	require.NoError(t, err)
	for _, y := range []*segment.Index{x, must2(decodeIndex(t, x))} {
		got, err := y.Query(`affinity("X") >= 0.3`)
		require.NoError(t, err)
		assert.Equal(t, want, got.ToArray())
		got, err = y.Query(`affinity("X") < 30%`)
		require.NoError(t, err)
		assert.Equal(t, below, got.ToArray())
	}
}
