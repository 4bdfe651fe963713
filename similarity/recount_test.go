package similarity_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/similarity"
	"github.com/stretchr/testify/require"
)

// recountFeed returns random purchase lines and applies random later
// changes — new lines, order puts and deletes, erasures — to a Builder.
type recountGen struct {
	r                  *rand.Rand
	nCust, nProd, nKey int
	t0                 time.Time
}

func (g *recountGen) line(cust, order string) affinity.Purchase {
	q := int32(1 + g.r.IntN(3))
	if g.r.IntN(8) == 0 {
		q = -q
	}
	return affinity.Purchase{Customer: cust, Product: fmt.Sprintf("p%d", g.r.IntN(g.nProd)), Order: order,
		Time: g.t0.Add(time.Duration(g.r.IntN(40)) * time.Hour), Quantity: q, Price: 100}
}

func (g *recountGen) cust() string {
	if g.r.IntN(8) == 0 {
		return ""
	}
	return fmt.Sprintf("c%d", g.r.IntN(g.nCust))
}

func (g *recountGen) key() string {
	if g.r.IntN(5) == 0 {
		return ""
	}
	return fmt.Sprintf("o%d", g.r.IntN(g.nKey))
}

func (g *recountGen) change(t *testing.T, b *affinity.Builder, version int64) {
	switch k := g.r.IntN(10); {
	case k == 0:
		b.EraseCustomer(g.cust())
	case k <= 2:
		require.NoError(t, b.DeleteOrder(fmt.Sprintf("o%d", g.r.IntN(g.nKey)), version))
	case k <= 5:
		c := g.cust()
		lines := make([]affinity.Purchase, 1+g.r.IntN(4))
		for i := range lines {
			lines[i] = g.line(c, "")
		}
		require.NoError(t, b.PutOrder(fmt.Sprintf("o%d", g.r.IntN(g.nKey)), version, lines))
	default:
		require.NoError(t, b.Add(g.line(g.cust(), g.key())))
	}
}

// TestRecountMatchesCount checks Recount against a full Count, and the
// neighbours of both, over random Histories and random feeds of new
// lines, order replacements, deletions and erasures, with and without
// basket sampling and excluded products, over several refreshes.
func TestRecountMatchesCount(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(testdata.Scale(150, 20)) {
		r := rand.New(rand.NewPCG(seed, 31))
		g := &recountGen{r: r, nCust: 1 + r.IntN(12), nProd: 2 + r.IntN(15), nKey: 1 + r.IntN(25), t0: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)}
		randomOpts := func() similarity.CountOptions {
			var opts similarity.CountOptions
			if r.IntN(3) == 0 {
				opts.MaxBasket = 1 + r.IntN(3)
			}
			if r.IntN(3) == 0 {
				opts.Exclude = roaring.BitmapOf(uint32(r.IntN(g.nProd)))
			}
			return opts
		}
		opts := randomOpts()
		var b affinity.Builder
		for range r.IntN(80) {
			require.NoError(t, b.Add(g.line(g.cust(), g.key())))
		}
		h, err := b.Build(ctx)
		require.NoError(t, err)
		asOf := g.t0.Add(48 * time.Hour)
		counts, err := similarity.Count(ctx, h, asOf, opts)
		require.NoError(t, err)
		version := int64(0)
		for step := range 3 {
			nb := affinity.NewBuilder(h)
			for range r.IntN(12) {
				version++
				g.change(t, nb, version)
			}
			h2, err := nb.Build(ctx)
			require.NoError(t, err)
			if r.IntN(4) == 0 {
				asOf = asOf.Add(-time.Duration(r.IntN(30)) * time.Hour) // a different window: changed transactions
			}
			if r.IntN(4) == 0 {
				opts = randomOpts() // other transactions: a cap or exclusions added, changed or dropped
			}
			msg := fmt.Sprintf("seed %d step %d", seed, step)
			got, err := similarity.Recount(ctx, counts, h, h2, asOf, opts)
			require.NoError(t, err, msg)
			want, err := similarity.Count(ctx, h2, asOf, opts)
			require.NoError(t, err, msg)
			require.Equal(t, want.NumProducts(), got.NumProducts(), msg)
			requireSameCounts(t, want, got)
			io := similarity.IndexOptions{Measure: similarity.BM25, K: 3, MinSupport: 1}
			wi, err := similarity.NewIndex(ctx, want, io)
			require.NoError(t, err)
			gi, err := similarity.NewIndex(ctx, got, io)
			require.NoError(t, err)
			for a := range affinity.ProductID(want.NumProducts()) {
				require.Equal(t, wi.Neighbors(a), gi.Neighbors(a), "%s: neighbours of %d", msg, a)
			}
			h, counts = h2, got
		}
	}
}
