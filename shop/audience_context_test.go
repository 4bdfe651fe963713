package shop_test

import (
	"context"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAudienceContextEndsWait: Audience waits for a refresh's segment
// index without a bound, as Segment does; AudienceContext, like
// SegmentContext, only until its context is done, and once the build is
// through it answers as Audience does.
func TestAudienceContextEndsWait(t *testing.T) {
	snap, gate := heldRefresh(t)
	set := roaring.BitmapOf(0, 1, 2, 3, 5, 8, 13, 1<<30) // the last is no customer

	waitEnds(t, "AudienceContext", func(ctx context.Context) error {
		_, err := snap.AudienceContext(ctx, "some", set)
		return err
	})

	gate.Open()
	aud, err := snap.AudienceContext(context.Background(), "some", set)
	require.NoError(t, err)
	want := snap.Audience("some", set)
	assert.Equal(t, want.Stats(), aud.Stats())
	assert.Equal(t, want.Bitmap().ToArray(), aud.Bitmap().ToArray())
	assert.Positive(t, aud.Len())
	assert.Less(t, aud.Len(), int(set.GetCardinality()), "the id beyond the customers left out")
}
