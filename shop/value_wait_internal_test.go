package shop

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/dataset"
)

// TestValueWaitsWithinItsContext: a Value call made while another caller
// fits the value models waits for that fit only as long as its own ctx
// allows (it waited on a mutex for the whole fit, deadline or not, and
// then answered nil); when the fit under way ends without an outcome (its
// caller's ctx stopped it), a waiter fits the models itself.
func TestValueWaitsWithinItsContext(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Storefront(dataset.Generate(dataset.SyntheticOptions{Customers: 300, Products: 40, Categories: 4, Seed: 2})), Options{Model: "neighbours"})
	require.NoError(t, err)
	defer s.Close()
	snap := s.Snapshot()
	st := snap.values
	ch := make(chan struct{})
	st.mu.Lock()
	st.fitting = ch // another caller's fit, under way
	st.mu.Unlock()

	done, cancel := context.WithCancel(ctx)
	cancel()
	_, err = snap.Value(done)
	require.ErrorIs(t, err, context.Canceled, "a waiter's own ctx ends its wait")

	type answer struct {
		v   *Values
		err error
	}
	got := make(chan answer, 1)
	go func() {
		v, err := snap.Value(ctx)
		got <- answer{v, err}
	}()
	// the fit under way is stopped by its caller's ctx: no outcome kept
	st.mu.Lock()
	st.fitting = nil
	st.mu.Unlock()
	close(ch)
	a := <-got
	require.NoError(t, a.err, "the waiter fitted the models itself")
	require.NotNil(t, a.v)
	v, err := snap.Value(ctx)
	require.NoError(t, err)
	assert.Same(t, a.v, v, "the waiter's fit is kept")
}
