package segment_test

import (
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/segment"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAttrNilReadsEmpty: the read methods of a nil *Attributes answer as
// the zero value's do, and its Set methods return an error matching
// affinity.ErrNilArgument; all of them panicked.
func TestAttrNilReadsEmpty(t *testing.T) {
	var a *segment.Attributes
	var zero segment.Attributes
	require.NotPanics(t, func() {
		assert.Equal(t, zero.Flag("optin"), a.Flag("optin"))
		d, ok := a.Date("birthday", 0)
		zd, zok := zero.Date("birthday", 0)
		assert.Equal(t, zok, ok)
		assert.Equal(t, zd, d)
		v, ok := a.Text("email", 0)
		zv, zok := zero.Text("email", 0)
		assert.Equal(t, zok, ok)
		assert.Equal(t, zv, v)
		f, ds, ts := a.Names()
		zf, zds, zts := zero.Names()
		assert.Equal(t, [3]int{len(zf), len(zds), len(zts)}, [3]int{len(f), len(ds), len(ts)})
	})
	sets := map[string]func() error{
		"SetFlag": func() error { return a.SetFlag("optin", 0, true) },
		"SetDate": func() error { return a.SetDate("birthday", 0, time.Date(2000, 1, 2, 0, 0, 0, 0, time.UTC)) },
		"SetText": func() error { return a.SetText("email", 0, "ann@example.com") },
	}
	for name, set := range sets {
		t.Run(name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { err = set() })
			require.ErrorIs(t, err, affinity.ErrNilArgument)
			require.ErrorIs(t, err, segment.ErrInvalid)
		})
	}
}

// TestAttrDateMissingIsZero: a customer without a date gets the zero
// time with false, not a made-up day.
func TestAttrDateMissingIsZero(t *testing.T) {
	var a segment.Attributes
	require.NoError(t, a.SetDate("birthday", 1, time.Date(1990, 6, 2, 15, 0, 0, 0, time.UTC)))
	d, ok := a.Date("birthday", 0)
	assert.False(t, ok)
	assert.True(t, d.IsZero(), d)
	d, ok = a.Date("birthday", 1)
	assert.True(t, ok)
	assert.Equal(t, time.Date(1990, 6, 2, 0, 0, 0, 0, time.UTC), d)
}
