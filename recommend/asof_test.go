package recommend_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/similarity"
)

// asOfShop is a random shop of nc categories at depth 2 (more than
// MaxProfileDims when nc > 32) cut at asOf: past holds the lines and
// ratings up to asOf, full those and later ones, which pile onto the
// last categories (so that their buyers outnumber the others') and bring
// new customers.
type asOfShop struct {
	prods      []affinity.Product
	past, full *affinity.History
	customers  []string
	asOf       time.Time
}

func newAsOfShop(t *testing.T, seed uint64, nc int, ratings, orders bool) asOfShop {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 77))
	s := asOfShop{asOf: day(90)}
	for i := range 2 * nc {
		s.prods = append(s.prods, affinity.Product{Key: fmt.Sprintf("p%03d", i), Categories: []string{fmt.Sprintf("Top/C%02d/x", i/2)}, InStock: true, Price: 100})
	}
	var bp, bf affinity.Builder
	for _, p := range s.prods {
		require.NoError(t, bp.AddProduct(p))
		require.NoError(t, bf.AddProduct(p))
	}
	add := func(future bool, cust, prod, order string, at time.Time, rating bool) {
		bs := []*affinity.Builder{&bf}
		if !future {
			bs = append(bs, &bp)
		}
		for _, b := range bs {
			if rating {
				require.NoError(t, b.AddEvent(affinity.Event{Customer: cust, Product: prod, Time: at, Kind: affinity.Rating, Weight: 4}))
			} else {
				require.NoError(t, b.Add(affinity.Purchase{Customer: cust, Product: prod, Order: order, Time: at, Quantity: 1, Price: 100}))
			}
		}
	}
	for c := range 60 {
		cust := fmt.Sprintf("c%02d", c)
		s.customers = append(s.customers, cust)
		for o := range 1 + r.IntN(4) {
			at := day(r.IntN(90)).Add(time.Duration(r.IntN(24)) * time.Hour)
			for range 1 + r.IntN(4) {
				p := s.prods[r.IntN(len(s.prods)-4)].Key // the last two categories: after asOf only
				add(false, cust, p, fmt.Sprint(o), at, ratings && !orders)
			}
		}
		if ratings && orders {
			add(false, cust, s.prods[r.IntN(len(s.prods))].Key, "", day(r.IntN(90)), true)
		}
	}
	// after asOf: many new buyers of the last categories, and orders
	// where the past has only ratings
	for f := range 30 {
		cust := fmt.Sprintf("f%02d", f)
		for k := range 4 {
			add(true, cust, s.prods[len(s.prods)-1-k].Key, "1", day(91+f%5), false)
		}
		add(true, s.customers[f], s.prods[r.IntN(len(s.prods))].Key, "later", day(95), false)
	}
	var err error
	s.past, err = bp.Build(context.Background())
	require.NoError(t, err)
	s.full, err = bf.Build(context.Background())
	require.NoError(t, err)
	return s
}

// TestEngineAsOfIgnoresLaterData: an engine as of T (New, and each
// Candidate of Tune's models) gives the same lists and scores whether its
// History holds what happened after T or not: the profile dimensions
// (more categories than MaxProfileDims, whose later buyers would reorder
// them), rating data (ratings before T, orders after), and the
// popularity's fixed point (event weights at MaxEventWeight, where the
// number of lines and events sizes it) count only what is at or before T.
func TestEngineAsOfIgnoresLaterData(t *testing.T) {
	ctx := context.Background()
	shops := map[string]struct {
		nc              int
		ratings, orders bool
	}{
		"40 categories":            {40, false, true},
		"20 categories":            {20, false, true},
		"ratings before orders":    {40, true, false},
		"orders and heavy ratings": {40, true, true},
	}
	models := []recommend.Model{recommend.DefaultModel(), {Measure: similarity.Cosine, Scope: similarity.Customer}, {Measure: similarity.EASE, Scope: similarity.Customer}}
	opts := []recommend.Options{{}, {NextBasket: recommend.NextBasket{RepeatWeight: 0.5}}, {RatingWeight: recommend.MaxEventWeight, PopularityBlend: 0.3}}
	for seed := range uint64(testdata.Scale(6, 1)) {
		for name, sh := range shops {
			s := newAsOfShop(t, seed, sh.nc, sh.ratings, sh.orders)
			for _, m := range models {
				for _, o := range opts {
					c := recommend.Candidate{Model: m, Options: o}
					ep, err := c.New(ctx, s.past, s.asOf)
					require.NoError(t, err)
					ef, err := c.New(ctx, s.full, s.asOf)
					require.NoError(t, err)
					for _, cust := range append(s.customers, "a-visitor") {
						req := recommend.Request{Customer: cust, K: 10}
						a, err := ep.Recommend(nil, req)
						require.NoError(t, err)
						b, err := ef.Recommend(nil, req)
						require.NoError(t, err)
						require.Equal(t, a, b, "seed %d, %s, %v %+v, customer %s: lists as of %v without and with later data", seed, name, m, o, cust, s.asOf)
					}
				}
			}
		}
	}
}
