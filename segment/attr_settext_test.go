package segment_test

import (
	"strings"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/segment"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAttrSetTextEmptyClears: SetText with "" clears the field: the
// customer has no text there and keeps no flag of it; a later value adds
// only its own flag. It kept "" as a value and the next SetText made a
// flag "tier=" (the flag of the empty value) appear. Names lists the
// boolean flags only, not the values of text fields.
func TestAttrSetTextEmptyClears(t *testing.T) {
	var a segment.Attributes
	require.NoError(t, a.SetText("tier", 0, "gold"))
	require.NoError(t, a.SetText("tier", 0, ""))
	_, ok := a.Text("tier", 0)
	assert.False(t, ok, "a cleared text has no value")
	assert.False(t, a.Flag("tier=gold").Contains(0))
	require.NoError(t, a.SetText("tier", 0, "silver"))
	flags, _, texts := a.Names()
	assert.Empty(t, flags)
	assert.Equal(t, []uint32{0}, a.Flag("tier=silver").ToArray())
	assert.True(t, a.Flag("tier=").IsEmpty())
	assert.Equal(t, []string{"tier"}, texts)
	v, ok := a.Text("tier", 0)
	assert.True(t, ok)
	assert.Equal(t, "silver", v)
	// clearing a customer that never had a value changes nothing
	var b segment.Attributes
	require.NoError(t, b.SetText("tier", 3, ""))
	_, ok = b.Text("tier", 3)
	assert.False(t, ok)
	flags, _, _ = b.Names()
	assert.Empty(t, flags)
}

// TestAttrLoadEmptyCellKeepsEarlierRow: an empty cell on a later row of a
// customer leaves the value of an earlier row, for flags, dates and texts.
func TestAttrLoadEmptyCellKeepsEarlierRow(t *testing.T) {
	x := attrIndex(t, 2, time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
	src := "customer,optin,signup,country\nc000,yes,2025-01-02,DE\nc000,,,\n"
	a, _, err := segment.LoadAttributes(strings.NewReader(src), x,
		segment.AttributeOptions{Flags: []string{"optin"}, Dates: []string{"signup"}, Texts: []string{"country"}})
	require.NoError(t, err)
	assert.True(t, a.Flag("optin").Contains(0))
	d, ok := a.Date("signup", 0)
	assert.True(t, ok)
	assert.Equal(t, time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC), d)
	v, ok := a.Text("country", 0)
	assert.True(t, ok)
	assert.Equal(t, "DE", v)
}

// TestAttrWithAttributesNil: WithAttributes with nil Attributes or on a
// nil Index is an error matching affinity.ErrNilArgument and ErrInvalid,
// as the package documentation promises for nil arguments; nil
// Attributes gave an error matching neither and a nil Index panicked.
func TestAttrWithAttributesNil(t *testing.T) {
	x := attrIndex(t, 1, time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
	_, err := x.WithAttributes(nil)
	require.ErrorIs(t, err, affinity.ErrNilArgument)
	require.ErrorIs(t, err, segment.ErrInvalid)
	require.NotPanics(t, func() { _, err = (*segment.Index)(nil).WithAttributes(&segment.Attributes{}) })
	require.ErrorIs(t, err, affinity.ErrNilArgument)
	require.ErrorIs(t, err, segment.ErrInvalid)
}
