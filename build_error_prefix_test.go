package affinity_test

import (
	"context"
	"strings"
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBuildMoneyRangeErrorNamesPackageOnce: puts staged without
// CheckApply whose lines take the gross value beyond MaxMoney fail Build
// with an error wrapping ErrMoneyRange that names the staged order and
// the package once (it read "affinity: staged order "k2": affinity:
// invalid record: …").
func TestBuildMoneyRangeErrorNamesPackageOnce(t *testing.T) {
	var b affinity.Builder
	l := []affinity.Purchase{{Customer: "a", Product: "p", Time: advT0, Quantity: 1, Price: affinity.MaxMoney / 10 * 6}}
	require.NoError(t, b.PutOrder("k1", 1, l))
	require.NoError(t, b.PutOrder("k2", 1, l))
	_, err := b.Build(context.Background())
	require.Error(t, err)
	assert.ErrorIs(t, err, affinity.ErrMoneyRange)
	assert.ErrorIs(t, err, affinity.ErrInvalid)
	assert.True(t, strings.HasPrefix(err.Error(), `affinity: staged order "k2": `), err.Error())
	assert.Equal(t, 1, strings.Count(err.Error(), "affinity:"), err.Error())
}

// TestApplyLineErrorNamesPackageOnce: Apply's error for a line Add
// refuses names the order and the line, and the package once, first (it
// read "order "k" line 2: affinity: invalid record: …").
func TestApplyLineErrorNamesPackageOnce(t *testing.T) {
	var b affinity.Builder
	ok := affinity.Purchase{Customer: "a", Product: "p", Time: advT0, Quantity: 1, Price: 100}
	bad := ok
	bad.Quantity = 0
	for _, check := range []func(affinity.OrderChange) error{b.Apply, b.CheckApply} {
		err := check(affinity.OrderChange{Key: "k", Version: 1, Lines: []affinity.Purchase{ok, bad}})
		require.Error(t, err)
		assert.ErrorIs(t, err, affinity.ErrInvalid)
		assert.True(t, strings.HasPrefix(err.Error(), `affinity: order "k" line 2: `), err.Error())
		assert.Equal(t, 1, strings.Count(err.Error(), "affinity:"), err.Error())
	}
	_, staged := b.Staged("k")
	assert.False(t, staged)
}
