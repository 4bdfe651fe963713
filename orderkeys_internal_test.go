package affinity

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/testdata"
)

// checkKeyIndex checks the invariants that make a lookup cost no more
// than its own key's orders: every shard sorted by hash, then rank, and
// the index listing exactly h's orders with a key, each once; and that
// LookupOrder and keyVersion answer as a walk over every order does.
func checkKeyIndex(t *testing.T, h *History, keys []string, what string) {
	t.Helper()
	x := h.keyIndex()
	rank := func(o uint32) uint64 { return uint64(h.orderCust[o])<<32 | uint64(o) }
	listed := map[uint32]bool{}
	for s, shard := range x.shards {
		for i, e := range shard {
			require.Equal(t, uint32(s), e.hash&x.mask, "%s: shard %d entry %d in its shard", what, s, i)
			assert.True(t, h.live(e.id), "%s: shard %d lists unused id %d", what, s, e.id)
			assert.False(t, listed[e.id], "%s: id %d listed twice", what, e.id)
			listed[e.id] = true
			if i > 0 {
				p := shard[i-1]
				assert.Negative(t, cmp.Or(cmp.Compare(p.hash, e.hash), cmp.Compare(rank(p.id), rank(e.id))),
					"%s: shard %d not sorted by hash and rank at %d", what, s, i)
			}
		}
	}
	assert.Equal(t, len(listed), x.entries, "%s: entries", what)
	first := map[string]OrderID{}
	version := map[string]int64{}
	n := 0
	for o := range h.Orders() {
		k := h.OrderKey(o)
		if k == "" {
			continue
		}
		n++
		assert.True(t, listed[uint32(o)], "%s: order %d (%q) not listed", what, o, k)
		if _, ok := first[k]; !ok {
			first[k] = o
			version[k] = h.OrderVersion(o)
		}
		version[k] = max(version[k], h.OrderVersion(o))
	}
	assert.Equal(t, n, len(listed), "%s: orders with a key", what)
	for _, k := range keys {
		o, ok := h.LookupOrder(k)
		want, wantOK := first[k]
		assert.Equal(t, wantOK, ok, "%s: LookupOrder(%q) found", what, k)
		assert.Equal(t, want, o, "%s: LookupOrder(%q)", what, k)
		v, ok := h.keyVersion(k)
		tv, dead := h.tomb.lookup(k)
		if wantOK && dead {
			assert.Equal(t, max(tv, version[k]), v, "%s: keyVersion(%q)", what, k)
		} else if wantOK {
			assert.Equal(t, version[k], v, "%s: keyVersion(%q)", what, k)
		}
		assert.Equal(t, wantOK || dead, ok, "%s: keyVersion(%q) found", what, k)
	}
}

// TestKeyIndexSortedAndExact: order keys shared by many customers (order
// numbers that restart per customer), changed by Add, PutOrder,
// DeleteOrder and EraseCustomer over chains of refreshes, in every way
// Build treats a base. The index of each History, built or derived from
// its base's, keeps every shard sorted by hash and rank and lists
// exactly the History's orders, so a lookup walks only its key's
// orders, first-ranking first.
func TestKeyIndexSortedAndExact(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	keys := []string{"1", "2", "3", "4", "5", "6", "7", "8", "x"}
	modes := []struct {
		base, layout int32
	}{{baseAuto, layoutAuto}, {baseOver, layoutAppend}, {baseOver, layoutCompact}, {baseCopy, layoutAuto}}
	for seed := range uint64(testdata.Scale(60, 12)) {
		r := rand.New(rand.NewPCG(seed, 91))
		mode := modes[seed%uint64(len(modes))]
		wb, wl := SetBaseMode(mode.base), SetLayoutMode(mode.layout)
		var h *History
		for gen := range 5 {
			// later generations' orders come later: a refresh may append
			line := func(c string, o string) Purchase {
				at := t0.Add(time.Duration(gen*1000+r.IntN(500)) * time.Hour)
				return Purchase{Customer: c, Product: fmt.Sprint("p", r.IntN(5)), Order: o, Time: at, Quantity: 1, Price: 100}
			}
			b := NewBuilder(h)
			for range 5 + r.IntN(60) {
				c := fmt.Sprint("c", r.IntN(40))
				k := keys[r.IntN(len(keys))]
				switch r.IntN(8) {
				case 0:
					require.NoError(t, b.PutOrder(k, int64(r.IntN(4)), []Purchase{line(c, k)}))
				case 1:
					require.NoError(t, b.DeleteOrder(k, int64(r.IntN(4))))
				case 2:
					b.EraseCustomer(c)
				case 3:
					require.NoError(t, b.Add(line("", k)))
				default:
					require.NoError(t, b.Add(line(c, k)))
				}
			}
			next, err := b.Build(ctx)
			require.NoError(t, err)
			h = next
			checkKeyIndex(t, h, keys, fmt.Sprintf("seed %d generation %d", seed, gen))
		}
		SetBaseMode(wb)
		SetLayoutMode(wl)
		if t.Failed() {
			return
		}
	}
}
