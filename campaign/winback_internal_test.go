package campaign

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/clv"
	"github.com/shopaffinity/affinity/shop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// winBackShop opens a shop of n customers with random repeat purchases
// over a year before asOf, the customers added to the History in the
// order of ids (reversed with reverse): the same purchases, numbered
// otherwise.
func winBackShop(t *testing.T, n int, asOf time.Time, reverse bool) *shop.Snapshot {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	byCustomer := make([][]affinity.Purchase, n)
	o := 0
	for i := range n {
		first := asOf.Add(-time.Duration(rng.Int64N(int64(365 * 24 * time.Hour)))).Truncate(time.Second)
		for k := range 1 + rng.IntN(5) {
			at := first.Add(time.Duration(k) * time.Duration(rng.Int64N(int64(30*24*time.Hour))))
			if at.After(asOf) {
				break
			}
			o++
			byCustomer[i] = append(byCustomer[i], affinity.Purchase{Customer: fmt.Sprintf("c%04d", i), Product: "p", Order: fmt.Sprint("o", o),
				Time: at, Quantity: 1, Price: affinity.Money(1_0000 * (1 + rng.IntN(50)))})
		}
	}
	if reverse {
		slices.Reverse(byCustomer)
	}
	b := affinity.NewBuilder(nil)
	b.Workers = 1
	for _, ps := range byCustomer {
		for _, p := range ps {
			require.NoError(t, b.Add(p))
		}
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	s, err := shop.OpenHistory(context.Background(), h, shop.Options{AsOf: asOf, Model: "neighbours", Workers: 1, RefreshWorkers: 1})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s.Snapshot()
}

// The win-back's own fit, like the snapshot's, does not depend on how
// the History numbers the customers: the same purchases added in the
// opposite order of customers give the same model to the last bit.
func TestWinBackFitIndependentOfNumbering(t *testing.T) {
	const n = 400
	asOf := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	up, down := winBackShop(t, n, asOf, false), winBackShop(t, n, asOf, true)
	c0, _ := up.History().LookupCustomer("c0000")
	c1, _ := down.History().LookupCustomer("c0000")
	require.NotEqual(t, c0, c1, "numbered otherwise")
	earlier := asOf.AddDate(0, 0, -30) // not the snapshot's time: a fit of its own
	_, a, err := winBackFit(context.Background(), up, earlier)
	require.NoError(t, err)
	_, b, err := winBackFit(context.Background(), down, earlier)
	require.NoError(t, err)
	require.NotNil(t, a)
	assert.Equal(t, [4]float64{a.R, a.Alpha, a.A, a.B}, [4]float64{b.R, b.Alpha, b.A, b.B}, "the same fit however the customers are numbered")
}

// The win-back fits a model of its own only when the snapshot has none
// (shop.ErrNoValueModel); another error of the snapshot's models is the
// campaign's error, not a skip and not a fit of its own.
func TestWinBackFallsBackOnlyWithoutValueModel(t *testing.T) {
	asOf := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	snap := winBackShop(t, 200, asOf, false)
	ctx := context.Background()
	boom := errors.New("value models broke")
	_, err := winBackFrom(ctx, snap, asOf, func(context.Context) (*shop.Values, error) { return nil, boom })
	require.ErrorIs(t, err, boom)
	assert.NotErrorIs(t, err, ErrSkip)

	none := fmt.Errorf("%w: 3 customers", shop.ErrNoValueModel)
	got, err := winBackFrom(ctx, snap, asOf, func(context.Context) (*shop.Values, error) { return nil, none })
	require.NoError(t, err, "no snapshot models: a fit of its own")
	v, err := snap.Value(ctx)
	require.NoError(t, err)
	want := v.WinBack(clv.WinBackOptions{})
	require.False(t, want.IsEmpty())
	assert.True(t, want.Equals(got), "the fit of its own is the snapshot's: %d vs %d", got.GetCardinality(), want.GetCardinality())
}
