package parallel_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/parallel"
)

// TestNilContextIsNilArgument: For with a nil context returns an error
// matching affinity.ErrNilArgument, as the entry points' own checks do,
// with one worker or many, and runs no item.
func TestNilContextIsNilArgument(t *testing.T) {
	var nilCtx context.Context
	for _, workers := range []int{1, 4} {
		ran := false
		err := parallel.For(nilCtx, workers, 10, func(int, int) error { ran = true; return nil })
		require.ErrorIs(t, err, affinity.ErrNilArgument, "workers=%d", workers)
		require.False(t, ran, "workers=%d", workers)
	}
}
