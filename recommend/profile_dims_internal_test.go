package recommend

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
)

// TestRenewProfilesManyCategories renews engines of shops with more
// category nodes at the profile depth than MaxProfileDims, whose
// dimensions are the nodes with the most buyers as of the engine's asOf:
// across random changes, and a last one that brings a node outside the
// dimensions many new buyers, the renewed profiles (dimensions, buyer
// counts, sums) are a fresh engine's, bit for bit. The counters check
// that both paths ran: profiles updated customer by customer with the
// counts moved, and a full pass where the dimensions changed.
func TestRenewProfilesManyCategories(t *testing.T) {
	ctx := context.Background()
	updated, rechosen := 0, 0
	for seed := range uint64(testdata.Scale(16, 4)) {
		r := rand.New(rand.NewPCG(seed, 41))
		sf := dataset.Generate(dataset.SyntheticOptions{Customers: 200, Products: 300, Categories: 250, Seed: seed + 1, ViewsPerLine: -1})
		h, err := sf.History(ctx)
		require.NoError(t, err)
		e := engineOf(t, nil, h, h.Latest())
		require.Greater(t, len(depthNodes(h.Catalog(), e.np, e.o.ProfileDepth, true, e.excl)), MaxProfileDims)
		require.NotNil(t, e.buyers)
		for a := range affinity.CategoryID(h.Catalog().NumCategories()) {
			require.EqualValues(t, h.CategoryBuyerCount(a), e.buyers[a], "seed %d: buyers of %s as of the latest time", seed, h.Catalog().CategoryPath(a))
		}
		for step := range 3 {
			msg := fmt.Sprintf("seed %d step %d", seed, step)
			h2 := changeShop(t, r, h, false)
			if step == 2 {
				h2 = newBuyersOutside(t, h2, e.profiles)
			}
			np := h2.Catalog().NumProducts()
			up, err := updateProfiles(ctx, e.profiles, h, h2, np, h2.Latest().Unix(), e.o.ProfileDepth, true, newBitset(np))
			require.NoError(t, err)
			got := engineOf(t, e, h2, h2.Latest())
			want := engineOf(t, nil, h2, h2.Latest())
			require.Equal(t, want.nodes, got.nodes, msg)
			require.Equal(t, want.buyers, got.buyers, msg)
			for a := range affinity.CategoryID(h2.Catalog().NumCategories()) {
				require.EqualValues(t, h2.CategoryBuyerCount(a), got.buyers[a], "%s: buyers of %s", msg, h2.Catalog().CategoryPath(a))
			}
			require.Equal(t, want.pdim, got.pdim, msg)
			require.Equal(t, want.sum, got.sum, msg)
			require.Equal(t, want.prof, got.prof, msg)
			switch {
			case up != nil:
				updated++
			case !slices.Equal(want.nodes, e.nodes):
				rechosen++
			}
			h, e = h2, got
		}
	}
	require.Positive(t, updated, "profiles updated customer by customer")
	require.Positive(t, rechosen, "dimensions chosen again")
}

// newBuyersOutside returns h with 40 new customers who bought a product
// of the category node at p's depth with the most buyers among those
// that are not p's dimensions.
func newBuyersOutside(t *testing.T, h *affinity.History, p *profiles) *affinity.History {
	t.Helper()
	cat := h.Catalog()
	best, bp := int32(-1), affinity.ProductID(0)
	for q := range affinity.ProductID(cat.NumProducts()) {
		for _, l := range cat.Categories(q) {
			a := cat.Ancestor(l, p.depth)
			if int(a) < len(p.buyers) && !slices.Contains(p.nodes, a) && p.buyers[a] > best {
				best, bp = p.buyers[a], q
			}
		}
	}
	require.GreaterOrEqual(t, best, int32(0), "a node outside the dimensions")
	b := affinity.NewBuilder(h)
	for i := range 40 {
		require.NoError(t, b.Add(affinity.Purchase{Customer: fmt.Sprintf("fan-%d", i), Product: cat.ProductKey(bp), Order: fmt.Sprintf("fan-%d", i), Time: h.Latest(), Quantity: 1, Price: 100}))
	}
	h2, err := b.Build(context.Background())
	require.NoError(t, err)
	return h2
}
