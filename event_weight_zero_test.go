package affinity_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/stretchr/testify/require"
)

// TestEventZeroWeightSign: History.CustomerEvents orders the events of
// one second by product key, kind and weight "whatever order they were
// added in, so that the same events give the same History in any order".
// Weights 0 and -0 compare equal, so the History kept them in the order
// they came, and the same events added in another order, or split across
// Builds otherwise, gave another History (a -0 where the other had 0).
// A zero weight is stored as 0.
func TestEventZeroWeightSign(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	ev := func(w float32) affinity.Event {
		return affinity.Event{Customer: "c", Product: "p", Time: at, Kind: affinity.View, Weight: w}
	}
	negZero := float32(math.Copysign(0, -1))
	signs := func(evs ...affinity.Event) []bool {
		var b affinity.Builder
		for _, e := range evs {
			require.NoError(t, b.AddEvent(e))
		}
		h, err := b.Build(ctx)
		require.NoError(t, err)
		var out []bool
		for e := range h.Events() {
			out = append(out, math.Signbit(float64(e.Weight)))
		}
		return out
	}
	a := signs(ev(0), ev(negZero), ev(1))
	b := signs(ev(negZero), ev(1), ev(0))
	require.Equal(t, a, b, "the same events in another order")
	require.Equal(t, []bool{false, false, false}, a)

	// on a base: the History holds what one Builder holds
	var b0 affinity.Builder
	require.NoError(t, b0.AddEvent(ev(negZero)))
	base, err := b0.Build(ctx)
	require.NoError(t, err)
	b1 := affinity.NewBuilder(base)
	require.NoError(t, b1.AddEvent(ev(0)))
	h, err := b1.Build(ctx)
	require.NoError(t, err)
	for e := range h.Events() {
		require.False(t, math.Signbit(float64(e.Weight)), "weight %v", e.Weight)
	}
}
