package segment_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/segment"
	"github.com/shopaffinity/affinity/segment/query"
)

// members evaluates segment("name") on x.
func members(t *testing.T, x *segment.Index, name string) []uint32 {
	t.Helper()
	r, err := x.Query(fmt.Sprintf("segment(%q)", name))
	require.NoError(t, err)
	return r.ToArray()
}

// TestDefineKeepsSavedIndexLoadable: Define takes only expressions whose
// text reads back as the same expression, so that an index with named
// segments always loads again with the same members. A definition whose
// text the file could not read back made ReadIndex refuse the whole
// index.
func TestDefineKeepsSavedIndexLoadable(t *testing.T) {
	x := tinyIndex(t)
	zone := time.FixedZone("+14", 14*3600)
	order := testAsOf.Add(-20 * segment.Day).UTC() // ann's order 1
	// 00:30 the next day at +14 is 10:30 UTC on the order's day
	local := time.Date(order.Year(), order.Month(), order.Day()+1, 0, 30, 0, 0, zone)
	deep := segment.All()
	for range segment.MaxExprDepth + 5 {
		deep = &query.Bool{Xs: []segment.Expr{segment.Bought(segment.Category("Apparel")), deep}}
	}
	utc := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

	refused := map[string]segment.Expr{
		"money in days":  segment.Attr{Name: "monetary", Unit: query.Days}.GT(5),
		"year 10000":     &query.Active{From: utc, To: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"year -1":        &query.Active{From: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), To: utc},
		"or in or, deep": deep,
	}
	for name, e := range refused {
		_, err := x.Define(name, e)
		require.ErrorIs(t, err, segment.ErrInvalid, name)
		assert.Contains(t, err.Error(), fmt.Sprintf("segment %q", name))
	}
	_, err := x.Eval(segment.Active(utc, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)))
	require.ErrorIs(t, err, segment.ErrInvalid, "a year beyond 9999 is an error of compiling too")
	assert.Contains(t, err.Error(), "0000 to 9999")

	accepted := []struct {
		name string
		e    segment.Expr
		text string
	}{
		{"empty and", &query.Bool{And: true}, "all"},
		{"empty or", &query.Bool{}, "none"},
		{"nested empty", segment.And(segment.Bought(segment.Category("Apparel")), &query.Bool{}), `bought(category("Apparel")) and none`},
		{"active at +14", &query.Active{From: local, To: local}, `active between "` + order.Format(time.DateOnly) + `" and "` + order.Format(time.DateOnly) + `"`},
	}
	y := x
	for _, c := range accepted {
		assert.Equal(t, c.text, c.e.String(), c.name)
		y, err = y.Define(c.name, c.e)
		require.NoError(t, err, c.name)
	}
	z, err := segment.ReadIndex(bytes.NewReader(encode(t, y)))
	require.NoError(t, err)
	for _, c := range accepted {
		want, err := y.Eval(c.e)
		require.NoError(t, err)
		assert.Equal(t, want.ToArray(), members(t, y, c.name), c.name)
		assert.Equal(t, want.ToArray(), members(t, z, c.name), "%s after save and load", c.name)
	}
	assert.Equal(t, []uint32{0}, members(t, z, "active at +14"), "ann ordered on that UTC day")
}

// TestDefineSharesItsLog: indexes derived from one another by Define see
// their own definitions only, whichever is defined on first.
func TestDefineSharesItsLog(t *testing.T) {
	x := tinyIndex(t)
	a, err := x.Define("a", segment.All())
	require.NoError(t, err)
	b, err := x.Define("b", query.None()) // x is not the newest: a copy
	require.NoError(t, err)
	a2, err := a.Define("b", segment.All()) // b is free in a
	require.NoError(t, err)
	b2, err := b.Define("a", query.None())
	require.NoError(t, err)
	assert.Equal(t, []string{"apparel fans"}, x.Segments())
	assert.Equal(t, []string{"apparel fans", "a"}, a.Segments())
	assert.Equal(t, []string{"apparel fans", "b"}, b.Segments())
	assert.Equal(t, []string{"apparel fans", "a", "b"}, a2.Segments())
	assert.Equal(t, []string{"apparel fans", "b", "a"}, b2.Segments())
	_, ok := a.Definition("b")
	assert.False(t, ok)
	_, err = a.Query(`segment("b")`)
	require.ErrorIs(t, err, segment.ErrUnknown)
	e, ok := b2.Definition("a")
	require.True(t, ok)
	assert.Equal(t, "none", e.String())
	assert.Len(t, members(t, a2, "b"), 3)
	assert.Empty(t, members(t, b2, "a"))
}

// TestManyDefinitionsAllocateLinearly: defining 20,000 segments, the
// first 1,000 a chain each referring to the one before, then saving and
// loading the index allocates memory in proportion to their number. Every
// Define copied all the definitions, and loading checked each against all
// of them, recompiling the chain in full for every link: 7 GB for 20,000.
// The quick suite defines 5,000, a chain of 250: a quarter of each, so
// that the bounds, per definition, hold Define to the same allowance; the
// quadratic copies came to some 90 KiB a definition at 5,000 already.
func TestManyDefinitionsAllocateLinearly(t *testing.T) {
	n, chain := testdata.Scale(20_000, 5_000), testdata.Scale(1_000, 250)
	x := tinyIndex(t)
	var err error
	define := func(i int) {
		e := segment.All()
		if i > 0 && i < chain {
			e = segment.Segment(fmt.Sprintf("d%d", i-1))
		}
		x, err = x.Define(fmt.Sprintf("d%d", i), e)
		require.NoError(t, err)
	}
	for i := range chain {
		define(i) // each link checks the chain before it
	}
	defined := testdata.TotalAlloc(func() {
		for i := chain; i < n; i++ {
			define(i)
		}
	})
	require.NoError(t, err)
	file := encode(t, x)
	var y *segment.Index
	loaded := testdata.TotalAlloc(func() { y, err = segment.ReadIndex(bytes.NewReader(file)) })
	require.NoError(t, err)
	require.Len(t, y.Segments(), n+1)
	t.Logf("%d definitions: Define allocates %d KiB, ReadIndex %d KiB (file %d KiB)", n, defined>>10, loaded>>10, len(file)>>10)
	assert.Less(t, defined, uint64(n*8192), "Define (an Index is copied each time)")
	assert.Less(t, loaded, uint64(n*2048), "ReadIndex")
	assert.Len(t, members(t, y, fmt.Sprintf("d%d", chain-1)), 3)
}
