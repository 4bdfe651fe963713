package similarity_test

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/similarity"
	"github.com/stretchr/testify/require"
)

// rawData is a random storefront kept as plain records, so that the
// brute-force counts below never go through a History.
type rawData struct {
	products  []string // keys, in id order
	purchases []affinity.Purchase
	events    []affinity.Event
}

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

type randomOptions struct {
	customers, products, orders int
	maxLines                    int     // lines per order: 1..maxLines
	anonymous                   float64 // share of anonymous orders
	returns                     float64 // share of return lines
	events                      int
	days                        int
}

// randomData draws a storefront with skewed product popularity (so pairs
// repeat), repeat lines within an order, returns, anonymous orders and
// events. Times are whole seconds.
func randomData(rng *rand.Rand, o randomOptions) rawData {
	if o.days == 0 {
		o.days = 120
	}
	d := rawData{}
	for p := range o.products {
		d.products = append(d.products, fmt.Sprintf("p%03d", p))
	}
	prod := func() string {
		// popularity ∝ roughly 1/rank
		x := rng.Float64()
		return d.products[int(x*x*float64(o.products))]
	}
	at := func() time.Time {
		return t0.Add(time.Duration(rng.IntN(o.days*24*3600)) * time.Second)
	}
	for i := range o.orders {
		cust := fmt.Sprintf("c%03d", rng.IntN(o.customers))
		if rng.Float64() < o.anonymous {
			cust = ""
		}
		when := at()
		n := 1 + rng.IntN(o.maxLines)
		for range n {
			q := int32(1 + rng.IntN(3))
			if rng.Float64() < o.returns {
				q = -q
			}
			// lines of an order may carry slightly different times; the
			// order's time is the earliest
			lt := when.Add(time.Duration(rng.IntN(3)) * time.Minute)
			d.purchases = append(d.purchases, affinity.Purchase{Customer: cust, Product: prod(), Order: fmt.Sprintf("o%05d", i),
				Time: lt, Quantity: q, Price: affinity.MoneyFromFloat(9.99)})
		}
	}
	kinds := []affinity.EventKind{affinity.View, affinity.Cart, affinity.Rating, affinity.Wishlist}
	for range o.events {
		d.events = append(d.events, affinity.Event{Customer: fmt.Sprintf("c%03d", rng.IntN(o.customers)), Product: prod(),
			Time: at(), Kind: kinds[rng.IntN(len(kinds))], Weight: 1})
	}
	return d
}

// history builds the History of the records for which keep(customer) is
// true, with every product registered first so that product ids agree
// between shards.
func (d rawData) history(t testing.TB, keep func(customer string) bool) *affinity.History {
	t.Helper()
	var b affinity.Builder
	for _, p := range d.products {
		require.NoError(t, b.AddProduct(affinity.Product{Key: p, Name: "Product " + p, InStock: true}))
	}
	for _, p := range d.purchases {
		if keep == nil || keep(p.Customer) {
			require.NoError(t, b.Add(p))
		}
	}
	for _, e := range d.events {
		if keep == nil || keep(e.Customer) {
			require.NoError(t, b.AddEvent(e))
		}
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// bruteCounts are co-occurrence counts by product key.
type bruteCounts struct {
	n       int
	support map[string]int
	pair    map[[2]string]int
}

type bruteOptions struct {
	scope      similarity.Scope
	asOf, from time.Time // the window (from, asOf]; zero asOf: no end, zero from: no start
	window     time.Duration
	events     bool
	exclude    map[string]bool // products never counted
}

// bruteCount counts co-occurrences from the raw records with maps and
// nested loops: the reference for Count.
func bruteCount(d rawData, o bruteOptions) bruteCounts {
	type okey struct{ cust, order string }
	orderTime := map[okey]time.Time{}
	for _, p := range d.purchases {
		k := okey{p.Customer, p.Order}
		if t, ok := orderTime[k]; !ok || p.Time.Before(t) {
			orderTime[k] = p.Time
		}
	}
	in := func(t time.Time) bool {
		if !o.asOf.IsZero() && t.After(o.asOf) {
			return false
		}
		if !o.from.IsZero() && !t.After(o.from) {
			return false
		}
		return true
	}
	type entry struct {
		t time.Time
		p string
	}
	// transactions as sets, and per customer timelines
	tx := map[okey]map[string]bool{}
	timeline := map[string][]entry{}
	for _, p := range d.purchases {
		k := okey{p.Customer, p.Order}
		ot := orderTime[k]
		if p.Quantity <= 0 || !in(ot) || o.exclude[p.Product] {
			continue
		}
		switch o.scope {
		case similarity.Basket:
		case similarity.Customer:
			if p.Customer == "" {
				continue
			}
			k = okey{cust: p.Customer}
		case similarity.Sequential:
			if p.Customer != "" {
				timeline[p.Customer] = append(timeline[p.Customer], entry{ot, p.Product})
			}
			continue
		}
		if tx[k] == nil {
			tx[k] = map[string]bool{}
		}
		tx[k][p.Product] = true
	}
	if o.events {
		for _, e := range d.events {
			if !in(e.Time) || o.exclude[e.Product] {
				continue
			}
			if o.scope == similarity.Sequential {
				timeline[e.Customer] = append(timeline[e.Customer], entry{e.Time, e.Product})
				continue
			}
			k := okey{cust: e.Customer}
			if tx[k] == nil {
				tx[k] = map[string]bool{}
			}
			tx[k][e.Product] = true
		}
	}
	bc := bruteCounts{support: map[string]int{}, pair: map[[2]string]int{}}
	if o.scope == similarity.Sequential {
		w := o.window
		if w == 0 {
			w = similarity.DefaultWindow
		}
		for _, tl := range timeline {
			bc.n++
			seen := map[string]bool{}
			pairs := map[[2]string]bool{}
			for _, x := range tl {
				seen[x.p] = true
				for _, y := range tl {
					if x.p != y.p && y.t.After(x.t) && !y.t.After(x.t.Add(w)) {
						pairs[[2]string{x.p, y.p}] = true
					}
				}
			}
			for p := range seen {
				bc.support[p]++
			}
			for pr := range pairs {
				bc.pair[pr]++
			}
		}
		return bc
	}
	for _, set := range tx {
		bc.n++
		for a := range set {
			bc.support[a]++
			for b := range set {
				if a != b {
					bc.pair[[2]string{a, b}]++
				}
			}
		}
	}
	return bc
}

// requireCountsEqual checks every support and pair of c against want.
func requireCountsEqual(t *testing.T, want bruteCounts, c *similarity.Counts, cat *affinity.Catalog) {
	t.Helper()
	require.Equal(t, want.n, c.Total(), "N")
	np := cat.NumProducts()
	pairs := 0
	// each check a plain comparison first, require only when it fails:
	// require's bookkeeping cost more than the counts on every pair
	for a := range np {
		ka := cat.ProductKey(affinity.ProductID(a))
		if s := c.Support(affinity.ProductID(a)); want.support[ka] != s {
			require.Equal(t, want.support[ka], s, "support of %s", ka)
		}
		cols, vals := c.Row(affinity.ProductID(a))
		require.True(t, slices.IsSorted(cols), "row %s sorted", ka)
		for i, b := range cols {
			if affinity.ProductID(a) == b || vals[i] == 0 {
				require.NotEqual(t, affinity.ProductID(a), b, "no self pair")
				require.NotZero(t, vals[i], "no stored zeros")
			}
		}
		pairs += len(cols)
		for b := range np {
			kb := cat.ProductKey(affinity.ProductID(b))
			if w, g := want.pair[[2]string{ka, kb}], c.Pair(affinity.ProductID(a), affinity.ProductID(b)); w != g {
				require.Equal(t, w, g, "pair %s %s", ka, kb)
			}
		}
	}
	require.Equal(t, len(want.pair), pairs, "stored pairs")
	require.Equal(t, pairs, c.NumPairs())
}

// sameSlice reports whether require.Equal would find a and b equal, for
// slices of comparable elements without NaNs: the same elements, and nil
// only with nil (a NaN makes it false, and require then decides). The
// loops over every row call it first and require only on a difference:
// require's bookkeeping (t.Helper walks the stack) cost more than the
// comparison.
func sameSlice[E comparable](a, b []E) bool {
	return (a == nil) == (b == nil) && slices.Equal(a, b)
}

// naiveIndex ranks every pair with Measure.Score: the reference for
// NewIndex on the count measures.
func naiveIndex(c *similarity.Counts, o similarity.IndexOptions) [][]similarity.Neighbor {
	k := cmp.Or(o.K, similarity.DefaultK)
	minSup := cmp.Or(o.MinSupport, similarity.DefaultMinSupport)
	rows := make([][]similarity.Neighbor, c.NumProducts())
	for a := range c.NumProducts() {
		var row []similarity.Neighbor
		for b := range c.NumProducts() {
			pc := c.PairCount(affinity.ProductID(a), affinity.ProductID(b))
			if a == b || pc.AB < minSup {
				continue
			}
			v := similarity.Shrink(o.Measure.Score(pc), pc.AB, o.Shrinkage)
			row = append(row, similarity.Neighbor{Product: affinity.ProductID(b), Score: toF32(v), Count: uint32(pc.AB)})
		}
		slices.SortFunc(row, func(x, y similarity.Neighbor) int {
			return cmp.Or(cmp.Compare(y.Score, x.Score), cmp.Compare(x.Product, y.Product))
		})
		rows[a] = row[:min(k, len(row))]
	}
	return rows
}

func toF32(v float64) float32 {
	const m = 3.4028234663852886e38
	return float32(max(-m, min(m, v)))
}
