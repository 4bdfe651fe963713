package recommend_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/similarity"
)

// TestEvidenceStatesTheGivenCounts serves EASE fitted within customers
// and gives the engine the counts within orders as Options.Evidence:
// every co-purchase reason states those counts' co-count and lift (at
// least 1), and each result has at least as many such reasons as when
// the engine chooses them by the model's own counts and a caller then
// drops those below chance in the order counts (what a shop did before
// Evidence), and on the demo more results have reasons.
func TestEvidenceStatesTheGivenCounts(t *testing.T) {
	ctx := context.Background()
	h := demoHistory(t)
	asOf := h.Latest()
	idx, err := recommend.Model{Measure: similarity.EASE, Scope: similarity.Customer, MaxDense: recommend.DefaultEASEMaxDense}.Index(ctx, h, asOf)
	require.NoError(t, err)
	orders, err := similarity.Count(ctx, h, asOf, similarity.CountOptions{Scope: similarity.Basket})
	require.NoError(t, err)
	own, err := recommend.New(ctx, h, idx, asOf, recommend.Options{})
	require.NoError(t, err)
	withEvidence, err := recommend.New(ctx, h, idx, asOf, recommend.Options{Evidence: orders})
	require.NoError(t, err)

	together := func(r *recommend.Rec) []recommend.Reason {
		var out []recommend.Reason
		for _, x := range r.Reasons() {
			if x.Kind == recommend.Together {
				out = append(out, x)
			}
		}
		return out
	}
	var reasons, kept, more, results int
	for c := affinity.CustomerID(0); int(c) < h.NumCustomers(); c += 7 {
		req := recommend.Request{CustomerID: c, ByID: true, K: 10}
		a, err := own.Recommend(nil, req)
		require.NoError(t, err)
		b, err := withEvidence.Recommend(nil, req)
		require.NoError(t, err)
		require.Equal(t, len(a), len(b), "customer %d: the same results", c)
		for i := range b {
			require.Equal(t, a[i].Product, b[i].Product, "customer %d: Evidence changes reasons, not results", c)
			results++
			got := together(&b[i])
			for _, x := range got {
				pc := orders.PairCount(x.Product, b[i].Product)
				if x.Count != uint32(pc.AB) || x.Lift != float32(similarity.Lift.Score(pc)) || !(x.Lift >= 1) {
					require.Failf(t, "reason not stated from the evidence", "customer %d, %d because of %d: count %d lift %g, the order counts %d and %g",
						c, b[i].Product, x.Product, x.Count, x.Lift, pc.AB, similarity.Lift.Score(pc))
				}
			}
			survive := 0 // the model's choice, then those at or above chance in the order counts
			for _, x := range together(&a[i]) {
				if similarity.Lift.Score(orders.PairCount(x.Product, a[i].Product)) >= 1 {
					survive++
				}
			}
			if len(got) < survive {
				require.Failf(t, "fewer reasons with the evidence", "customer %d, %d: %d reasons, %d survive the model's choice", c, b[i].Product, len(got), survive)
			}
			reasons += len(got)
			kept += survive
			if len(got) > 0 && survive == 0 {
				more++
			}
		}
	}
	t.Logf("%d results: %d co-purchase reasons from the evidence, %d surviving the model's choice; %d results gained their first", results, reasons, kept, more)
	assert.Greater(t, reasons, kept, "the evidence finds reasons the model's choice missed")

	// counts of another, larger catalog are refused
	var b affinity.Builder
	for i, p := range []string{"a", "b", "a", "c"} {
		require.NoError(t, b.Add(affinity.Purchase{Customer: "x", Product: p, Order: string(rune('1' + i/2)), Time: asOf, Quantity: 1, Price: 100}))
	}
	small, err := b.Build(ctx)
	require.NoError(t, err)
	sidx, err := recommend.DefaultModel().Index(ctx, small, asOf)
	require.NoError(t, err)
	_, err = recommend.New(ctx, small, sidx, asOf, recommend.Options{Evidence: orders})
	require.ErrorContains(t, err, "evidence counts have 1000 products, catalog 3")
}
