package dataset_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/shopaffinity/affinity/dataset"
)

// TestSkipFault: the reasons that say what happened to an order, or that
// a row was read twice, are no fault; every other reason is.
func TestSkipFault(t *testing.T) {
	for _, r := range []string{"cancelled order", "removed line", "no line", "duplicate row"} {
		assert.False(t, dataset.Skip{Reason: r, Count: 1}.Fault(), r)
	}
	for _, r := range []string{"invalid price", "invalid time", "amount out of range", "malformed csv", "adjustment"} {
		assert.True(t, dataset.Skip{Reason: r, Count: 1}.Fault(), r)
	}
}
