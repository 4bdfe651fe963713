package benchmarks

import (
	"testing"
	"time"

	"github.com/shopaffinity/affinity/dataset"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAsOfAfterTrading checks AsOf's doc: the generated trading period
// (730 days from 2024-01-01, the generator's defaults) ends a day before
// AsOf, and no generated line falls in that last day.
func TestAsOfAfterTrading(t *testing.T) {
	o := Options(10_000)
	require.Zero(t, o.Days, "the generator's default period")
	require.True(t, o.Start.IsZero(), "the generator's default start")
	end := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 730)
	assert.Equal(t, AsOf.AddDate(0, 0, -1), end)
	s := dataset.Generate(o)
	require.NotEmpty(t, s.Purchases)
	for _, p := range s.Purchases {
		if !assert.True(t, p.Time.Before(end), "line of %s at %s", p.Customer, p.Time) {
			break
		}
	}
}
