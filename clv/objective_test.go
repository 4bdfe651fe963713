package clv

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestObjectiveStopsBetweenBlocks: one evaluation of a likelihood is
// linear in the rows; a context done in the middle stops it at the next
// block of rows, not at the next evaluation.
func TestObjectiveStopsBetweenBlocks(t *testing.T) {
	const blocks = 6
	data := make([]RFT, blocks*blockRows)
	for i := range data {
		data[i] = RFT{Frequency: float64(i % 5), Recency: 3, T: 10}
	}
	for _, workers := range []int{1, 2} {
		ctx, cancel := context.WithCancel(context.Background())
		o, _ := newBGObjective(ctx, data, workers, false)
		block := o.block
		var ran atomic.Int32
		o.block = func(lo, hi int, out []float64) {
			if ran.Add(1) == 1 {
				cancel()
			} else {
				// a block another worker took before the cancellation:
				// run it once the cancellation is done, which a thread
				// descheduled between the count and cancel() would
				// otherwise delay while the other worker runs every
				// block left (a busy machine did)
				<-ctx.Done()
			}
			block(lo, hi, out)
		}
		err := o.sums([]float64{0.25, 4, 0.8, 2.4})
		require.ErrorIs(t, err, context.Canceled, "workers %d", workers)
		// the first block, and one each other worker took before it
		assert.LessOrEqual(t, int(ran.Load()), workers, "workers %d: blocks run after the cancellation", workers)
	}
}
