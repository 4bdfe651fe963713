package shop_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/shop"
)

// TestAsOfServedInUTC: a shop opened with Options.AsOf in another zone
// served that zone in Snapshot.AsOf, Result.AsOf and the result's JSON,
// where every other time it gives is in UTC. All three give the same
// instant in UTC.
func TestAsOfServedInUTC(t *testing.T) {
	ctx := context.Background()
	prods, merch, _ := postageSource(4, 80)
	at := time.Date(2025, 5, 1, 20, 30, 0, 0, time.FixedZone("IST", 5*3600+1800))
	snap := openLines(t, prods, merch, shop.Options{Model: "neighbours", AsOf: at}).Snapshot()
	assert.True(t, at.Equal(snap.AsOf()))
	assert.Equal(t, time.UTC, snap.AsOf().Location(), "Snapshot.AsOf")

	res, err := snap.Recommend(ctx, shop.Request{Customer: "c01", K: 2})
	require.NoError(t, err)
	assert.True(t, at.Equal(res.AsOf))
	assert.Equal(t, time.UTC, res.AsOf.Location(), "Result.AsOf")

	// A Result with a time in another zone (one built by the caller) is
	// written in UTC too.
	res.AsOf = at
	b, err := json.Marshal(res)
	require.NoError(t, err)
	var j struct {
		AsOf string `json:"as_of"`
	}
	require.NoError(t, json.Unmarshal(b, &j))
	assert.Equal(t, at.UTC().Format(time.RFC3339Nano), j.AsOf)
}
