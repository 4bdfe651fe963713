package recommend

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/similarity"
)

// ratings returns rating data: a few customers' rating events, no orders.
func ratings(t *testing.T) *affinity.History {
	t.Helper()
	var b affinity.Builder
	t0 := time.Date(2020, 3, 1, 0, 0, 0, 0, time.UTC)
	for c := range 12 {
		for j := range 5 {
			require.NoError(t, b.AddEvent(affinity.Event{Customer: fmt.Sprint("u", c), Product: fmt.Sprint("m", (c+j*3)%11),
				Time: t0.AddDate(0, c, j), Kind: affinity.Rating, Weight: 4}))
		}
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// TestRatingDefaults checks the defaults that depend on the data: rating
// data gets EASE within customers from ModelFor and ratings that do not
// decay; purchases get DefaultModel and the 30-day half-life; an engine
// on a learned model sums its anchors' rows whole unless MaxEdges says
// otherwise, over the whole history when the anchors do not decay unless
// MaxHistory says otherwise.
func TestRatingDefaults(t *testing.T) {
	ctx := context.Background()
	rh, ph := ratings(t), demoHistory(t)
	require.Equal(t, Model{Measure: similarity.EASE, Scope: similarity.Customer, MaxDense: DefaultEASEMaxDense}, ModelFor(rh))
	require.Equal(t, DefaultModel(), ModelFor(ph))
	require.Equal(t, DefaultModel(), ModelFor(nil))

	engine := func(h *affinity.History, m Model, o Options) *Engine {
		idx, err := m.Index(ctx, h, h.Latest())
		require.NoError(t, err)
		e, err := New(ctx, h, idx, h.Latest(), o)
		require.NoError(t, err)
		return e
	}
	e := engine(rh, ModelFor(rh), Options{})
	require.True(t, math.IsInf(e.hl, 1), "ratings do not decay")
	require.Equal(t, math.MaxInt32, e.o.MaxEdges, "a learned model's rows are summed whole")
	require.Equal(t, math.MaxInt32, e.o.MaxHistory, "over every rating")
	e = engine(rh, ModelFor(rh), Options{HalfLife: 48 * time.Hour, MaxEdges: 40})
	require.Equal(t, (48 * time.Hour).Seconds(), e.hl)
	require.Equal(t, 40, e.o.MaxEdges)
	require.Equal(t, DefaultMaxHistory, e.o.MaxHistory, "decaying anchors keep the most recent")
	e = engine(rh, ModelFor(rh), Options{MaxHistory: 7})
	require.Equal(t, 7, e.o.MaxHistory)
	e = engine(rh, DefaultModel(), Options{})
	require.True(t, math.IsInf(e.hl, 1))
	require.Equal(t, DefaultMaxEdges, e.o.MaxEdges, "co-occurrence neighbours keep the budget")
	require.Equal(t, DefaultMaxHistory, e.o.MaxHistory)
	e = engine(ph, DefaultModel(), Options{})
	require.Equal(t, DefaultHalfLife.Seconds(), e.hl)
	require.Equal(t, DefaultMaxEdges, e.o.MaxEdges)
	require.Equal(t, DefaultMaxHistory, e.o.MaxHistory)
	require.Equal(t, float32(1), decay(1<<40, e.hl*math.Inf(1)), "decay with no half-life")

	// Tune compares the models at the data's default half-life
	require.Equal(t, time.Duration(0), Grid{}.withDefaults(rh, rh.Latest()).HalfLives[0])
	require.Equal(t, DefaultHalfLife, Grid{}.withDefaults(ph, ph.Latest()).HalfLives[0])
}
