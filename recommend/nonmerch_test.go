package recommend_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/similarity"
)

// postageShop is a small random shop whose catalog holds a postage
// product ("ship", in a category of its own), and its orders, without
// and with a postage line on each order: lines[0] are the orders of
// merchandise, lines[1] the same orders with postage, and for some
// customers a later order of postage alone.
func postageShop(seed uint64, customers int) (prods []affinity.Product, lines [2][]line) {
	rng := rand.New(rand.NewPCG(seed, 53))
	cats := []string{"A/x", "A/y", "B/x", "B/z", "C/food", "C/drink", "D"}
	const np = 40
	for i := range np {
		p := affinity.Product{Key: fmt.Sprintf("p%02d", i), InStock: true, Categories: []string{cats[rng.IntN(len(cats))]}}
		if rng.IntN(6) == 0 {
			p.Categories = append(p.Categories, cats[rng.IntN(len(cats))])
		}
		prods = append(prods, p)
	}
	prods = append(prods, affinity.Product{Key: "ship", InStock: true, Categories: []string{"Fees/postage"}})
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for c := range customers {
		for o := range 1 + rng.IntN(5) {
			order := fmt.Sprintf("o%02d-%d", c, o)
			at := start.Add(time.Duration(rng.IntN(200*24)) * time.Hour)
			for range 1 + rng.IntN(4) {
				x := int(float64(np) * rng.Float64() * rng.Float64())
				l := line{cust: fmt.Sprintf("c%02d", c), prod: fmt.Sprintf("p%02d", x), order: order, at: at}
				lines[0] = append(lines[0], l)
				lines[1] = append(lines[1], l)
			}
			lines[1] = append(lines[1], line{cust: fmt.Sprintf("c%02d", c), prod: "ship", order: order, at: at})
		}
		if rng.IntN(4) == 0 { // postage charged on its own, after the orders
			lines[1] = append(lines[1], line{cust: fmt.Sprintf("c%02d", c), prod: "ship", order: fmt.Sprintf("o%02d-ship", c), at: start.Add(201 * 24 * time.Hour)})
		}
	}
	return prods, lines
}

// basketIndex is h's basket-scope cosine index (K 20) without the
// products of excl (nil: none).
func basketIndex(t testing.TB, h *affinity.History, excl *roaring.Bitmap) *similarity.Index {
	t.Helper()
	nb, err := index(context.Background(), h, similarity.CountOptions{Scope: similarity.Basket, Exclude: excl}, similarity.IndexOptions{Measure: similarity.Cosine, K: 20})
	require.NoError(t, err)
	return nb
}

// TestNonMerchandiseIsNoEvidence: the same orders with and without a
// postage line on each, the postage excluded, are served the same
// results with the same scores and reasons, whatever the options, from
// New and from Renew: non-merchandise shapes neither popularity, nor the
// buyer profiles and their dimensions, nor segment favourites, nor the
// next-basket model.
func TestNonMerchandiseIsNoEvidence(t *testing.T) {
	ctx := context.Background()
	prods, lines := postageShop(1, testdata.Scale(200, 60))
	var hs [2]*affinity.History
	for i := range hs {
		hs[i] = lineHistory(t, prods, lines[i])
	}
	ship, ok := hs[1].Catalog().LookupProduct("ship")
	require.True(t, ok)
	excl := roaring.BitmapOf(uint32(ship))
	// the first half of the customers, for Renew
	var firsts [2]*affinity.History
	for i := range firsts {
		var early []line
		for _, l := range lines[i] {
			if l.cust < "c30" {
				early = append(early, l)
			}
		}
		firsts[i] = lineHistory(t, prods, early)
	}
	seg := roaring.New()
	for c := range uint32(hs[0].NumCustomers()) {
		if c%3 == 0 {
			seg.Add(c)
		}
	}
	opts := map[string]recommend.Options{
		"defaults": {},
		"blend":    {PopularityBlend: 0.5, BasketPopularityBlend: 0.5, Segments: []*roaring.Bitmap{seg}},
		"narrow":   {ProfileDepth: 1, Personalization: 0.9, Consumables: []recommend.Consumable{{Category: "C", Interval: 20 * 24 * time.Hour}}},
		"repeats":  {NextBasket: recommend.NextBasket{RepeatWeight: 0.5, IntervalWeight: 0.3}},
	}
	build := func(t *testing.T, h, first *affinity.History, o recommend.Options) (fresh, renewed *recommend.Engine) {
		t.Helper()
		o.Exclude = excl
		nb := basketIndex(t, h, excl)
		asOf := time.Date(2025, 7, 22, 0, 0, 0, 0, time.UTC) // after every line
		fresh, err := recommend.New(ctx, h, nb, asOf, o)
		require.NoError(t, err)
		prev, err := recommend.New(ctx, first, basketIndex(t, first, excl), asOf, o)
		require.NoError(t, err)
		renewed, err = recommend.Renew(ctx, prev, h, nb, asOf, o)
		require.NoError(t, err)
		return fresh, renewed
	}
	same := sameRecs
	for name, o := range opts {
		t.Run(name, func(t *testing.T) {
			plain, plainRenewed := build(t, hs[0], firsts[0], o)
			post, postRenewed := build(t, hs[1], firsts[1], o)
			reqs := []recommend.Request{{K: 10}, {K: 10, Segment: seg}}
			for i := range 10 {
				reqs = append(reqs, recommend.Request{K: 10, Basket: []string{fmt.Sprintf("p%02d", i)}})
			}
			for _, req := range reqs {
				want, err := plain.Recommend(nil, req)
				require.NoError(t, err)
				for _, e := range []*recommend.Engine{post, postRenewed, plainRenewed} {
					got, err := e.Recommend(nil, req)
					require.NoError(t, err)
					same(t, fmt.Sprintf("basket %v", req.Basket), want, got)
				}
			}
			want, err := plain.RecommendAll(ctx, recommend.Request{K: 10})
			require.NoError(t, err)
			for _, e := range []*recommend.Engine{post, postRenewed} {
				got, err := e.RecommendAll(ctx, recommend.Request{K: 10})
				require.NoError(t, err)
				require.Len(t, got, len(want))
				for c := range want {
					same(t, fmt.Sprintf("customer %d", c), want[c], got[c])
				}
			}
		})
	}
}

// sameRecs asserts that a and b hold the same results, sources, scores
// and reasons, in the same order.
func sameRecs(t *testing.T, what string, a, b []recommend.Rec) {
	t.Helper()
	require.Equal(t, len(a), len(b), what)
	for i := range a {
		if a[i].Key == b[i].Key && a[i].Source == b[i].Source && math.Abs(a[i].Score-b[i].Score) <= 1e-6 &&
			reflect.DeepEqual(a[i].Reasons(), b[i].Reasons()) {
			continue // what the checks below would pass, without require's cost
		}
		require.Equal(t, a[i].Key, b[i].Key, "%s: result %d", what, i)
		require.Equal(t, a[i].Source, b[i].Source, "%s: %s", what, a[i].Key)
		require.InDelta(t, a[i].Score, b[i].Score, 1e-6, "%s: %s", what, a[i].Key)
		require.Equal(t, a[i].Reasons(), b[i].Reasons(), "%s: %s", what, a[i].Key)
	}
}

// TestNonMerchandiseAloneIsNoEvidence: an order of postage alone before
// every purchase (which once started the history that bounds the
// next-basket trend's span) and a cart event on postage after a
// customer's last purchase (which once became the time their purchases
// decay from: with a one-day half-life every weight fell to the floor)
// change no result, score or reason.
func TestNonMerchandiseAloneIsNoEvidence(t *testing.T) {
	ctx := context.Background()
	prods, lines := postageShop(1, 60)
	cases := map[string]struct {
		o     recommend.Options
		asOf  time.Time
		extra func(b *affinity.Builder) error
	}{
		"early order of postage alone": {
			o:    recommend.Options{NextBasket: recommend.NextBasket{RepeatWeight: 0.5}},
			asOf: time.Date(2025, 7, 22, 0, 0, 0, 0, time.UTC),
			extra: func(b *affinity.Builder) error {
				return b.Add(affinity.Purchase{Customer: "c00", Product: "ship", Order: "early", Time: time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC), Quantity: 1, Price: 100})
			},
		},
		"postage in the cart after the last purchase": {
			o:    recommend.Options{HalfLife: 24 * time.Hour},
			asOf: time.Date(2025, 12, 2, 0, 0, 0, 0, time.UTC),
			extra: func(b *affinity.Builder) error {
				for c := range 60 {
					if err := b.AddEvent(affinity.Event{Customer: fmt.Sprintf("c%02d", c), Product: "ship", Time: time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC), Kind: affinity.Cart, Weight: 1}); err != nil {
						return err
					}
				}
				return nil
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var b affinity.Builder
			for _, p := range prods {
				require.NoError(t, b.AddProduct(p))
			}
			for _, l := range lines[0] {
				require.NoError(t, b.Add(affinity.Purchase{Customer: l.cust, Product: l.prod, Order: l.order, Time: l.at, Quantity: 1, Price: 100}))
			}
			plain, err := b.Build(ctx)
			require.NoError(t, err)
			more := affinity.NewBuilder(plain)
			require.NoError(t, tc.extra(more))
			post, err := more.Build(ctx)
			require.NoError(t, err)
			ship, ok := post.Catalog().LookupProduct("ship")
			require.True(t, ok)
			o := tc.o
			o.Exclude = roaring.BitmapOf(uint32(ship))
			a, err := recommend.New(ctx, plain, basketIndex(t, plain, o.Exclude), tc.asOf, o)
			require.NoError(t, err)
			e, err := recommend.New(ctx, post, basketIndex(t, post, o.Exclude), tc.asOf, o)
			require.NoError(t, err)
			want, err := a.RecommendAll(ctx, recommend.Request{K: 10})
			require.NoError(t, err)
			got, err := e.RecommendAll(ctx, recommend.Request{K: 10})
			require.NoError(t, err)
			require.Len(t, got, len(want))
			for c := range want {
				sameRecs(t, fmt.Sprintf("customer %d", c), want[c], got[c])
			}
		})
	}
}

// TestRepeatShareWithoutNonMerchandise: postage on every order is no
// repeat purchase, counted in full and recounted after a change.
func TestRepeatShareWithoutNonMerchandise(t *testing.T) {
	ctx := context.Background()
	prods, lines := postageShop(2, testdata.Scale(200, 60))
	plain, post := lineHistory(t, prods, lines[0]), lineHistory(t, prods, lines[1])
	ship, _ := post.Catalog().LookupProduct("ship")
	excl := roaring.BitmapOf(uint32(ship))
	asOf := time.Date(2025, 7, 22, 0, 0, 0, 0, time.UTC)
	want, err := recommend.RepeatShare(ctx, plain, asOf, nil)
	require.NoError(t, err)
	require.Positive(t, want)
	got, err := recommend.RepeatShare(ctx, post, asOf, excl)
	require.NoError(t, err)
	require.Equal(t, want, got)
	counted, err := recommend.RepeatShare(ctx, post, asOf, nil)
	require.NoError(t, err)
	require.Greater(t, counted, want, "postage counted is a repeat on every later order")
	// recounted after a change: a new customer's orders with postage
	b := affinity.NewBuilder(post)
	for o := range 3 {
		for _, p := range []string{"p01", "ship"} {
			require.NoError(t, b.Add(affinity.Purchase{Customer: "new", Product: p, Order: fmt.Sprintf("new%d", o),
				Time: time.Date(2025, 7, 1+o, 0, 0, 0, 0, time.UTC), Quantity: 1, Price: 100}))
		}
	}
	next, err := b.Build(ctx)
	require.NoError(t, err)
	tally, err := recommend.CountRepeats(ctx, post, asOf, excl)
	require.NoError(t, err)
	re, err := recommend.RecountRepeats(ctx, tally, post, next, asOf, excl)
	require.NoError(t, err)
	full, err := recommend.CountRepeats(ctx, next, asOf, excl)
	require.NoError(t, err)
	require.Equal(t, full, re)
	require.Equal(t, tally.Repeat+2, re.Repeat, "p01 again in two later orders, postage not")
}

// TestTuneWithoutNonMerchandise: Tune with the postage excluded scores
// the candidates of the orders with a postage line each as those of the
// orders without: postage is no purchase to validate on.
func TestTuneWithoutNonMerchandise(t *testing.T) {
	ctx := context.Background()
	prods, lines := postageShop(5, testdata.Scale(200, 80))
	asOf := time.Date(2025, 7, 22, 0, 0, 0, 0, time.UTC)
	for _, holdout := range []recommend.Holdout{recommend.HoldoutTime, recommend.HoldoutRandom} {
		var tunings [2]*recommend.Tuning
		for i := range lines {
			h := lineHistory(t, prods, lines[i])
			ship, _ := h.Catalog().LookupProduct("ship")
			g := recommend.Grid{Holdout: holdout, Validation: 60 * 24 * time.Hour, Workers: 1,
				Base: recommend.Options{Exclude: roaring.BitmapOf(uint32(ship))}}
			tu, err := recommend.Tune(ctx, h, asOf, g)
			require.NoError(t, err)
			tunings[i] = tu
		}
		require.Equal(t, tunings[0].Customers, tunings[1].Customers, "%v: validation customers", holdout)
		require.Len(t, tunings[1].Trials, len(tunings[0].Trials), "%v", holdout)
		for j, a := range tunings[0].Trials {
			b := tunings[1].Trials[j]
			require.Equal(t, a.Candidate.Model, b.Candidate.Model, "%v", holdout)
			require.InDelta(t, a.NDCG, b.NDCG, 1e-9, "%v: %v", holdout, a.Candidate.Model)
		}
	}
}
