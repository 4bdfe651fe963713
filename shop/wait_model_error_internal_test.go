package shop

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestWaitModelErrorNamesTheWait: WaitModel whose ctx ends while the
// background fit runs returns ctx's error wrapped as the shop's other
// waits wrap it, saying what it waited for, where it was "shop: context
// canceled".
func TestWaitModelErrorNamesTheWait(t *testing.T) {
	s, release := heldFit(t)
	defer s.Close()
	done, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.WaitModel(done)
	close(release)
	require.ErrorIs(t, err, context.Canceled)
	require.EqualError(t, err, "shop: waiting for the model fit: context canceled")
	require.NoError(t, s.WaitModel(context.Background()))
}
