package segment_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/segment"
)

var testAsOf = time.Date(2024, 6, 30, 12, 0, 0, 0, time.UTC)

// noErr is require.NoError for the hot loops that make fixtures: it
// costs a comparison unless err is an error (require.NoError marks its
// caller a helper on every call, which the loops of a 70,000-customer
// history notice).
func noErr(t testing.TB, err error, msgAndArgs ...any) {
	if err != nil {
		t.Helper()
		require.NoError(t, err, msgAndArgs...)
	}
}

// randomHistory builds a random storefront around testAsOf: a small
// category tree, products with zero, one or two category paths, orders
// with returns and free items before and after asOf (some exactly on day
// and window boundaries), views, carts and ratings, customers with events
// only and customers who appear after asOf.
func randomHistory(t testing.TB, rng *rand.Rand, customers int) *affinity.History {
	t.Helper()
	return randomHistoryActive(t, rng, customers, nil)
}

// addRandomCatalog adds 40 to 79 in-stock products p000, p001, … to b:
// most in one leaf of a tree of 3 departments (dept, a format of the
// department's number), each of 1 to 3 groups of 1 to 3 leaves (leaf, a
// format of the three numbers), some in two leaves, some in a department
// and some in none. It returns the number of products.
func addRandomCatalog(t testing.TB, rng *rand.Rand, b *affinity.Builder, dept, leaf string) int {
	t.Helper()
	var leaves []string
	for d := range 3 {
		for g := range 1 + rng.IntN(3) {
			for l := range 1 + rng.IntN(3) {
				leaves = append(leaves, fmt.Sprintf(leaf, d, g, l))
			}
		}
	}
	nProd := 40 + rng.IntN(40)
	for p := range nProd {
		var cats []string
		switch rng.IntN(8) {
		case 0: // uncategorized
		case 1, 2:
			cats = []string{leaves[rng.IntN(len(leaves))], leaves[rng.IntN(len(leaves))]}
		case 3:
			cats = []string{fmt.Sprintf(dept, rng.IntN(3))} // a product on an inner node
		default:
			cats = []string{leaves[rng.IntN(len(leaves))]}
		}
		require.NoError(t, b.AddProduct(affinity.Product{Key: fmt.Sprintf("p%03d", p), Categories: cats, InStock: true}))
	}
	return nProd
}

// randomHistoryActive is randomHistory where only the customers c with
// active(c) (every one when active is nil) get random orders and events;
// the others have a single line three years before testAsOf, outside the
// default look-back, so that they hold customer ids but cost little.
func randomHistoryActive(t testing.TB, rng *rand.Rand, customers int, active func(c int) bool) *affinity.History {
	t.Helper()
	var b affinity.Builder
	nProd := addRandomCatalog(t, rng, &b, "Dept%d", "Dept%d/Group%d/Leaf%d")
	asOf := testAsOf.Unix()
	when := func() time.Time {
		switch rng.IntN(20) {
		case 0:
			return testAsOf
		case 1:
			return testAsOf.Add(-730 * segment.Day) // just outside the default look-back
		case 2:
			return testAsOf.Add(-730*segment.Day + time.Second) // just inside
		case 3:
			return testAsOf.Add(-time.Duration(rng.IntN(40)) * segment.Day)
		case 4:
			return testAsOf.Add(time.Duration(1+rng.IntN(30*day)) * time.Second) // after asOf
		}
		return time.Unix(asOf-int64(rng.IntN(1000*day)), 0)
	}
	order := 0
	for c := range customers {
		key := fmt.Sprintf("c%05d", c)
		if active != nil && !active(c) {
			order++
			noErr(t, b.Add(affinity.Purchase{Customer: key, Product: fmt.Sprintf("p%03d", c%nProd),
				Order: fmt.Sprintf("o%d", order), Time: testAsOf.Add(-3 * 365 * segment.Day), Quantity: 1, Price: 100}))
			continue
		}
		shift := time.Duration(0)
		if rng.IntN(30) == 0 {
			shift = 400 * segment.Day // everything after asOf
		}
		addRandomCustomer(t, rng, &b, key, nProd, &order, func() time.Time { return when().Add(shift) }, false, false)
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// addRandomCustomer adds to b, for customer key, 0 to 6 orders (none for
// a tenth of the customers) of 1 to 4 lines of products of
// addRandomCatalog (a tenth of the lines returns, every one when
// returnsOnly; prices in whole currency units, with cents when cents is
// set, a fifteenth free) and 0 to 5 events, at times when gives; *order
// numbers the orders.
func addRandomCustomer(t testing.TB, rng *rand.Rand, b *affinity.Builder, key string, nProd int, order *int, when func() time.Time, returnsOnly, cents bool) {
	nOrders := rng.IntN(7)
	if rng.IntN(10) == 0 {
		nOrders = 0
	}
	for range nOrders {
		*order++
		at := when()
		for range 1 + rng.IntN(4) {
			q := int32(1 + rng.IntN(3))
			if returnsOnly || rng.IntN(10) == 0 {
				q = -q
			}
			price := affinity.Money(rng.IntN(5000)) * 100
			if cents {
				price += affinity.Money(rng.IntN(100))
			}
			if rng.IntN(15) == 0 {
				price = 0
			}
			noErr(t, b.Add(affinity.Purchase{Customer: key, Product: fmt.Sprintf("p%03d", rng.IntN(nProd)),
				Order: fmt.Sprintf("o%d", *order), Time: at.Add(time.Duration(rng.IntN(3)) * time.Hour), Quantity: q, Price: price}))
		}
	}
	for range rng.IntN(6) {
		kind := []affinity.EventKind{affinity.View, affinity.View, affinity.Cart, affinity.Rating}[rng.IntN(4)]
		noErr(t, b.AddEvent(affinity.Event{Customer: key, Product: fmt.Sprintf("p%03d", rng.IntN(nProd)),
			Time: when(), Kind: kind, Weight: 1}))
	}
}

func TestQueriesMatchNaiveScan(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		opts segment.Options
	}{
		{"defaults", segment.Options{}},
		{"half-life", segment.Options{HalfLife: 90 * segment.Day, TopN: 2}},
		{"short look-back", segment.Options{Lookback: affinity.Days(120), LapseAfter: 60 * segment.Day, ChurnAfter: 100 * segment.Day, LoyalOrders: 3}},
		{"custom rules", segment.Options{RFMRules: []segment.RFMRule{
			{Name: "Big spenders", M: segment.ScoreRange{Min: 4, Max: 5}},
			{Name: "Recent", R: segment.ScoreRange{Min: 5, Max: 5}},
		}, Workers: 1}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i)+1, 7))
			h := randomHistory(t, rng, 600)
			x, err := segment.Build(context.Background(), h, testAsOf, tc.opts)
			require.NoError(t, err)
			n := newNaive(h, testAsOf, tc.opts)
			known := 0
			for _, c := range n.cust {
				if c.known {
					known++
				}
			}
			require.Equal(t, known, x.Len())
			checkQueries(t, x, n, rng, testdata.Scale(400, 50))
		})
	}
}

// chunkEdge is how near the edges of a run nearChunkEdges reaches: 2,500
// customer ids in the long suite, 500 in the quick one.
var chunkEdge = testdata.Scale(2500, 500)

// nearChunkEdges is true for the customer ids within chunkEdge of the
// start or end of a run of 65,536 (segment.PartSize), where one partial
// result of a build ends and the next begins.
func nearChunkEdges(c int) bool {
	off := c % segment.PartSize
	return off < chunkEdge || off >= segment.PartSize-chunkEdge
}

// chunkShop is the 70,000-customer History of TestQueriesAcrossChunks
// and TestJoinAcrossParts, built once (it costs as much as either
// test's own checks) and shared read-only, as a History may be.
var chunkShop struct {
	once sync.Once
	h    *affinity.History
	rest rand.PCG // the random source after h, for the queries
}

// chunkHistory returns chunkShop's History, randomHistoryActive of
// 70,000 customers with nearChunkEdges active, from the source
// NewPCG(99, 1), and that source as h left it.
func chunkHistory(t *testing.T) (*affinity.History, *rand.PCG) {
	t.Helper()
	chunkShop.once.Do(func() {
		src := rand.NewPCG(99, 1)
		chunkShop.h = randomHistoryActive(t, rand.New(src), 70_000, nearChunkEdges)
		chunkShop.rest = *src
	})
	if chunkShop.h == nil {
		t.Fatal("building the 70,000-customer history failed (in the test that built it first)")
	}
	rest := chunkShop.rest
	return chunkShop.h, &rest
}

// TestQueriesAcrossChunks uses more than 65,536 customers, so that the
// build merges several partial results; the customers near the edges of
// the runs have random histories.
func TestQueriesAcrossChunks(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds a 70,000-customer history")
	}
	h, src := chunkHistory(t)
	rng := rand.New(src)
	queries := testdata.Scale(40, 10)
	if raceEnabled {
		queries = 6
	}
	// exact shares, and decayed ones (whose lift divides by the population
	// shares summed over the runs)
	for _, o := range []segment.Options{{}, {HalfLife: 60 * segment.Day}} {
		x, err := segment.Build(context.Background(), h, testAsOf, segment.Options{Workers: 3, HalfLife: o.HalfLife})
		require.NoError(t, err)
		n := newNaive(h, testAsOf, o)
		for id, want := range n.popShare {
			got, ok := x.PopulationShare(h.Catalog().CategoryPath(id))
			require.True(t, ok)
			require.InDelta(t, want, got, 1e-9, "population share of %s", h.Catalog().CategoryPath(id))
		}
		checkQueries(t, x, n, rng, queries)
	}
}

func TestBuildIsIndependentOfWorkers(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	h := randomHistory(t, rng, testdata.Scale(3000, 1000))
	for _, half := range []time.Duration{0, 30 * segment.Day} { // exact shares and decayed ones
		var enc [][]byte
		for _, w := range []int{1, 2, 5} {
			x, err := segment.Build(context.Background(), h, testAsOf, segment.Options{Workers: w, HalfLife: half, RFMScoring: segment.RFMNTile})
			require.NoError(t, err)
			var buf bytes.Buffer
			_, err = x.WriteTo(&buf)
			require.NoError(t, err)
			enc = append(enc, buf.Bytes())
		}
		assert.Equal(t, enc[0], enc[1])
		assert.Equal(t, enc[0], enc[2])
	}
}
