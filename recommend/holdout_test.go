package recommend

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// TestRandomHoldout checks the training side of HoldoutRandom: exactly the
// held-out products of the validation customers are gone (their lines and
// events), every other line and event is kept, the same seed draws the
// same quarter, and another seed another.
func TestRandomHoldout(t *testing.T) {
	ctx := context.Background()
	st := dataset.Generate(dataset.SyntheticOptions{Customers: 300, Products: 120, Categories: 6, Seed: 4})
	h, err := st.History(ctx)
	require.NoError(t, err)
	asOf := h.Latest()
	g := Grid{Holdout: HoldoutRandom, Seed: 1}.withDefaults(h, asOf)
	val, train, err := randomHoldout(ctx, h, asOf, g)
	require.NoError(t, err)
	require.NotEmpty(t, val.users)

	// per customer key, the products held out
	held := map[string]map[string]bool{}
	for u, c := range val.users {
		key := train.CustomerKey(c)
		held[key] = map[string]bool{}
		rel := val.rel[val.off[u]:val.off[u+1]]
		require.NotEmpty(t, rel)
		for _, p := range rel {
			held[key][train.Catalog().ProductKey(p)] = true
		}
	}
	count := func(hh *affinity.History) (kept, dropped int) {
		for p := range hh.Purchases() {
			if held[p.Customer][p.Product] {
				dropped++
			} else {
				kept++
			}
		}
		return kept, dropped
	}
	wantKept, wantDropped := count(h)
	gotKept, gotDropped := count(train)
	require.Equal(t, wantKept, gotKept, "every line not held out is kept")
	require.Positive(t, wantDropped)
	require.Zero(t, gotDropped, "no held-out line is left")
	evKept := 0
	for e := range h.Events() {
		if !held[e.Customer][e.Product] {
			evKept++
		}
	}
	require.Equal(t, evKept, train.NumEvents())
	require.Equal(t, h.Catalog().NumProducts(), train.Catalog().NumProducts())

	again, _, err := randomHoldout(ctx, h, asOf, g)
	require.NoError(t, err)
	require.Equal(t, val.rel, again.rel, "the same seed holds out the same products")
	g.Seed = 2
	other, _, err := randomHoldout(ctx, h, asOf, g)
	require.NoError(t, err)
	require.NotEqual(t, val.rel, other.rel, "another seed, another draw")
}

// TestTuneRandomHoldout runs Tune with a random holdout: it scores every
// candidate on the same customers, as of asOf, and an unknown holdout is
// an error.
func TestTuneRandomHoldout(t *testing.T) {
	ctx := context.Background()
	st := dataset.Generate(dataset.SyntheticOptions{Customers: 400, Products: 150, Categories: 6, Seed: 9})
	h, err := st.History(ctx)
	require.NoError(t, err)
	asOf := h.Latest()
	tu, err := Tune(ctx, h, asOf, Grid{Holdout: HoldoutRandom, Seed: 3, Explore: true})
	require.NoError(t, err)
	require.Equal(t, asOf, tu.From)
	require.Equal(t, asOf, tu.To)
	require.Positive(t, tu.Customers)
	require.Len(t, tu.Trials, 3+2+1) // models, half-lives beyond the first, blends beyond the first
	for _, tr := range tu.Trials {
		require.True(t, tr.NDCG >= 0 && tr.NDCG <= 1, "%v", tr)
	}
	require.Positive(t, tu.Best.NDCG, "some candidate finds held-out products")
	again, err := Tune(ctx, h, asOf, Grid{Holdout: HoldoutRandom, Seed: 3, Explore: true})
	require.NoError(t, err)
	require.Equal(t, tu.Trials, again.Trials, "deterministic")

	_, err = Tune(ctx, h, asOf, Grid{Holdout: Holdout(7)})
	require.ErrorIs(t, err, ErrInvalidOptions)
	require.Equal(t, "random", HoldoutRandom.String())
	require.Equal(t, "time", HoldoutTime.String())
}
