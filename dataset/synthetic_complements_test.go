package dataset_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/shopaffinity/affinity/dataset"
)

// TestGenerateComplementsBeyondTheCatalog: asking for more pairs than a
// catalog holds (an anchor has at most two partners) costs time linear
// in the catalog, not in Complements; the Options reported back hold the
// bound and give the same storefront.
func TestGenerateComplementsBeyondTheCatalog(t *testing.T) {
	start := time.Now()
	s := dataset.Generate(dataset.SyntheticOptions{Customers: 1, Products: 10, Categories: 2, Complements: 1_000_000})
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.Equal(t, 20, s.Options.Complements, "at most two partners per product")
	assert.NotEmpty(t, s.Truth.Complements)
	assert.LessOrEqual(t, len(s.Truth.Complements), s.Options.Complements)
	assert.Equal(t, s, dataset.Generate(s.Options))
}
