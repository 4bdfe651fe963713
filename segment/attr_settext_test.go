package segment_test

import (
	"testing"

	"github.com/shopaffinity/affinity/segment"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAttrSetTextEmptyClears: SetText with "" clears the field: the
// customer has no text there and keeps no flag of it; a later value adds
// only its own flag. It kept "" as a value and the next SetText made a
// flag "tier=" (the flag of the empty value) appear in Names.
func TestAttrSetTextEmptyClears(t *testing.T) {
	var a segment.Attributes
	require.NoError(t, a.SetText("tier", 0, "gold"))
	require.NoError(t, a.SetText("tier", 0, ""))
	_, ok := a.Text("tier", 0)
	assert.False(t, ok, "a cleared text has no value")
	assert.False(t, a.Flag("tier=gold").Contains(0))
	require.NoError(t, a.SetText("tier", 0, "silver"))
	flags, _, texts := a.Names()
	assert.Equal(t, []string{"tier=gold", "tier=silver"}, flags)
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
