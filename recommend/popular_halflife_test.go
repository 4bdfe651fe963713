package recommend_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/recommend"
)

// TestShortPopularHalfLife: the popular fallback keeps its order and its
// relative scores at short PopularHalfLife values too, wherever asOf
// falls in the popularity's 32-day blocks since 1970 (a day into one, and
// a day before its end). 20 customers bought "hit" an hour before asOf,
// one bought "rare" two hours before it: rare scores 2^(−1h/half-life)/20
// of hit.
func TestShortPopularHalfLife(t *testing.T) {
	ctx := context.Background()
	const block = 32 * 24 * time.Hour
	start := time.Unix(0, 0).UTC().Add(20000 / 32 * block)
	for _, asOf := range []time.Time{start.Add(24 * time.Hour), start.Add(block - 24*time.Hour)} {
		prods := []affinity.Product{{Key: "rare", InStock: true, Price: 100}, {Key: "hit", InStock: true, Price: 100}, {Key: "unsold", InStock: true, Price: 100}}
		lines := []line{{"a", "rare", "1", asOf.Add(-2 * time.Hour)}}
		for i := range 20 {
			lines = append(lines, line{fmt.Sprintf("b%d", i), "hit", "1", asOf.Add(-time.Hour)})
		}
		h := lineHistory(t, prods, lines)
		nb := mustIndex(t, h)
		for _, phl := range []time.Duration{time.Hour, 12 * time.Hour, 48 * time.Hour, 90 * 24 * time.Hour} {
			e, err := recommend.New(ctx, h, nb, asOf, recommend.Options{PopularHalfLife: phl})
			require.NoError(t, err)
			recs, err := e.Recommend(nil, recommend.Request{Customer: "new-visitor", K: 3})
			require.NoError(t, err)
			require.Equal(t, []string{"hit", "rare", "unsold"}, keys(recs), "as of %v, PopularHalfLife %v", asOf, phl)
			want := math.Exp2(-time.Hour.Hours()/phl.Hours()) / 20
			assert.InDelta(t, 1, recs[0].Score, 1e-6)
			assert.InDelta(t, want, recs[1].Score, 1e-5*want, "as of %v, PopularHalfLife %v: rare against hit", asOf, phl)
			assert.Zero(t, recs[2].Score)
		}
	}
}
