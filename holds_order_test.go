package affinity_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHoldsOrder: HoldsOrder is true exactly where a put of the lines (or
// a delete, for none) would leave the order as the base History holds
// it, whatever the version: so a loader that leaves such a change out
// builds the base itself, and every case it refuses is one a put would
// change.
func TestHoldsOrder(t *testing.T) {
	ctx := context.Background()
	line := func(c, p string, q int32, at time.Duration) affinity.Purchase {
		return affinity.Purchase{Customer: c, Product: p, Time: verT0.Add(at), Quantity: q, Price: 500}
	}
	held := []affinity.Purchase{line("c1", "p1", 2, time.Hour), line("c1", "p2", 1, 2*time.Hour)}
	anon := []affinity.Purchase{line("", "p2", 1, 0)}
	b := affinity.NewBuilder(nil)
	require.False(t, b.HoldsOrder("o1", held), "no base")
	require.NoError(t, b.PutOrder("o1", 7, held))
	require.NoError(t, b.PutOrder("anon", 3, anon))
	require.NoError(t, b.PutOrder("gone", 4, held[:1]))
	require.NoError(t, b.DeleteOrder("gone", 5))
	require.NoError(t, b.Add(affinity.Purchase{Customer: "c2", Product: "p1", Order: "o2", Time: verT0, Quantity: 1, Price: 500}))
	require.NoError(t, b.Add(affinity.Purchase{Customer: "c2", Product: "p1", Order: "twice", Time: verT0, Quantity: 1, Price: 500}))
	require.NoError(t, b.Add(affinity.Purchase{Customer: "c3", Product: "p1", Order: "twice", Time: verT0, Quantity: 1, Price: 500}))
	h, err := b.Build(ctx)
	require.NoError(t, err)
	lines := func(h *affinity.History) (s []string) {
		for p := range h.Purchases() {
			s = append(s, fmt.Sprintf("%s|%s|%s|%d|%d|%v", p.Customer, p.Order, p.Product, p.Time.Unix(), p.Quantity, p.Price))
		}
		return s
	}

	changed := append([]affinity.Purchase(nil), held...)
	changed[1].Quantity = 3
	moved := append([]affinity.Purchase(nil), held...)
	moved[0].Time = moved[0].Time.Add(-time.Hour)
	named := append([]affinity.Purchase(nil), held...)
	named[0].Order = "o1"
	wrong := append([]affinity.Purchase(nil), held...)
	wrong[0].Order = "o2"
	cases := []struct {
		name  string
		key   string
		lines []affinity.Purchase
		stage func(b *affinity.Builder)
		holds bool
	}{
		{name: "held", key: "o1", lines: held, holds: true},
		{name: "order fields set", key: "o1", lines: named, holds: true},
		{name: "anonymous", key: "anon", lines: anon, holds: true},
		{name: "added with Add", key: "o2", lines: []affinity.Purchase{line("c2", "p1", 1, 0)}, holds: true},
		{name: "deleted", key: "gone", holds: true},
		{name: "another line", key: "o1", lines: changed},
		{name: "another time", key: "o1", lines: moved},
		{name: "lines reordered", key: "o1", lines: []affinity.Purchase{held[1], held[0]}},
		{name: "another customer", key: "anon", lines: []affinity.Purchase{line("c9", "p2", 1, 0)}},
		{name: "a line of another order", key: "o1", lines: wrong},
		{name: "unknown key", key: "o9", lines: held},
		{name: "two orders of the key", key: "twice", lines: []affinity.Purchase{line("c2", "p1", 1, 0)}},
		{name: "delete of a held order", key: "o1"},
		{name: "delete of an unknown key", key: "o9"},
		{name: "staged change", key: "o1", lines: held, stage: func(b *affinity.Builder) { require.NoError(t, b.PutOrder("o1", 1, changed)) }},
		{name: "staged delete", key: "gone", stage: func(b *affinity.Builder) { require.NoError(t, b.PutOrder("gone", 9, held)) }},
		{name: "erased customer", key: "o1", lines: held, stage: func(b *affinity.Builder) { b.EraseCustomer("c1") }},
		{name: "line added", key: "o1", lines: held, stage: func(b *affinity.Builder) {
			require.NoError(t, b.Add(affinity.Purchase{Customer: "c1", Product: "p3", Order: "o1", Time: verT0, Quantity: 1, Price: 1}))
		}},
		{name: "line added after a call", key: "o1", lines: held, stage: func(b *affinity.Builder) {
			require.True(t, b.HoldsOrder("o1", held))
			require.NoError(t, b.Add(affinity.Purchase{Customer: "c1", Product: "p3", Order: "o1", Time: verT0, Quantity: 1, Price: 1}))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := affinity.NewBuilder(h)
			if c.stage != nil {
				c.stage(b)
			}
			require.Equal(t, c.holds, b.HoldsOrder(c.key, c.lines))
			if c.stage != nil {
				return
			}
			// The put (or delete), at a version above the base's, is a
			// change exactly when HoldsOrder says no.
			if len(c.lines) == 0 {
				require.NoError(t, b.DeleteOrder(c.key, 100))
			} else if err := b.PutOrder(c.key, 100, c.lines); err != nil {
				assert.False(t, c.holds)
				return
			}
			h2, err := b.Build(ctx)
			require.NoError(t, err)
			same := slices.Equal(lines(h), lines(h2))
			if c.key == "o9" && len(c.lines) == 0 {
				// the delete changes no line, but keeps a tombstone
				assert.True(t, same && h2 != h)
				return
			}
			assert.Equal(t, c.holds, same, "the change changed nothing")
		})
	}
}
