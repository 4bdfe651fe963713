package affinity

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVersionsCostNothingAtZero: a History whose orders all have version
// 0 — loaded with Add, or changed by puts and deletes of version 0 — has
// no version column and no tombstones, whichever way Build treats its
// base; the first versioned refresh of a History appended to in place
// writes versions for its new orders only, and later ones extend that
// column.
func TestVersionsCostNothingAtZero(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	line := func(c, o string, h int) Purchase {
		return Purchase{Customer: c, Product: "p", Order: o, Time: t0.Add(time.Duration(h) * time.Hour), Quantity: 1, Price: 100}
	}
	var b Builder
	for i := range 400 {
		require.NoError(t, b.Add(line(fmt.Sprintf("c%d", i%50), fmt.Sprintf("o%d", i), i)))
	}
	base, err := b.Build(ctx)
	require.NoError(t, err)
	require.Nil(t, base.versions)
	require.Nil(t, base.tomb)

	for _, mode := range []struct {
		name         string
		base, layout int32
	}{{"over-append", baseOver, layoutAppend}, {"over-compact", baseOver, layoutCompact}, {"copy", baseCopy, layoutAuto}} {
		t.Run(mode.name, func(t *testing.T) {
			wb, wl := baseMode.Swap(mode.base), layoutMode.Swap(mode.layout)
			defer func() { baseMode.Store(wb); layoutMode.Store(wl) }()
			h := base
			for round := range 3 {
				nb := NewBuilder(h)
				require.NoError(t, nb.Add(line("c1", fmt.Sprintf("n%d", round), 500+round)))
				require.NoError(t, nb.PutOrder(fmt.Sprintf("o%d", round), 0, []Purchase{line("c2", "", 600)}))
				require.NoError(t, nb.DeleteOrder(fmt.Sprintf("o%d", 100+round), 0))
				require.NoError(t, nb.DeleteOrder("never-seen", 0))
				h, err = nb.Build(ctx)
				require.NoError(t, err)
				assert.Nil(t, h.versions, "round %d: no version column", round)
				assert.Nil(t, h.tomb, "round %d: no tombstones", round)
			}
			nb := NewBuilder(h)
			require.NoError(t, nb.PutOrder("v1", 7, []Purchase{line("c3", "", 700)}))
			h2, err := nb.Build(ctx)
			require.NoError(t, err)
			o, ok := h2.LookupOrder("v1")
			require.True(t, ok)
			assert.Equal(t, int64(7), h2.OrderVersion(o))
			if mode.name == "over-append" {
				assert.Equal(t, uint32(h.NumOrderIDs()), h2.verLo, "the first versioned refresh writes versions for its new orders only")
				assert.Len(t, h2.versions, h2.NumOrderIDs()-h.NumOrderIDs())
				m := h2.MemoryUsage()
				saved := h2.versions
				h2.versions = nil
				assert.Equal(t, 8*cap(saved), m.Columns-h2.MemoryUsage().Columns, "MemoryUsage counts them, room included")
				h2.versions = saved
				nb = NewBuilder(h2)
				require.NoError(t, nb.Add(line("c4", "x", 800)))
				h3, err := nb.Build(ctx)
				require.NoError(t, err)
				assert.Equal(t, h2.verLo, h3.verLo)
				assert.Len(t, h3.versions, h3.NumOrderIDs()-int(h3.verLo), "later refreshes extend the column")
				o, _ = h3.LookupOrder("v1")
				assert.Equal(t, int64(7), h3.OrderVersion(o))
				o, _ = h3.LookupOrder("x")
				assert.Equal(t, int64(0), h3.OrderVersion(o))
			} else {
				assert.Zero(t, h2.verLo)
				assert.Len(t, h2.versions, h2.NumOrderIDs())
			}
			for o := range OrderID(h2.NumOrderIDs()) {
				if h2.OrderKey(o) != "v1" && h2.live(uint32(o)) {
					require.Zero(t, h2.OrderVersion(o))
				}
			}
		})
	}
}

// TestTombstonesShareShards: a History built on one with tombstones
// shares the shards its change does not touch, and a table too dense for
// its shards is built anew with more.
func TestTombstonesShareShards(t *testing.T) {
	var tb *tombstones
	set := map[string]int64{}
	for i := range 3 * keyShard {
		set[fmt.Sprintf("k%d", i)] = int64(i + 1)
	}
	tb = tb.with(set, nil)
	require.Equal(t, 3*keyShard, tb.len())
	require.Len(t, tb.shards, 4)
	for k, v := range set {
		got, ok := tb.lookup(k)
		require.True(t, ok)
		require.Equal(t, v, got)
	}
	u := tb.with(map[string]int64{"k1": 99}, []string{"k2", "absent"})
	assert.Equal(t, tb.len()-1, u.len())
	v, _ := u.lookup("k1")
	assert.Equal(t, int64(99), v)
	_, ok := u.lookup("k2")
	assert.False(t, ok)
	v, _ = tb.lookup("k1")
	assert.Equal(t, int64(2), v, "the table it was made from is unchanged")
	_, ok = tb.lookup("k2")
	assert.True(t, ok)
	shared := 0
	for s := range u.shards {
		if len(u.shards[s]) > 0 && len(tb.shards[s]) > 0 && &u.shards[s][0] == &tb.shards[s][0] {
			shared++
		}
	}
	assert.GreaterOrEqual(t, shared, len(u.shards)-2, "untouched shards are shared")

	more := map[string]int64{}
	for i := range 8 * keyShard {
		more[fmt.Sprintf("m%d", i)] = 1
	}
	w := u.with(more, nil)
	assert.Greater(t, len(w.shards), len(u.shards), "a dense table is built anew with more shards")
	assert.Equal(t, u.len()+8*keyShard, w.len())
	v, _ = w.lookup("k1")
	assert.Equal(t, int64(99), v)
	var keys []string
	for k := range set {
		if k != "k2" {
			keys = append(keys, k)
		}
	}
	for k := range more {
		keys = append(keys, k)
	}
	assert.Nil(t, w.with(nil, keys), "no tombstone left: nil")
}
