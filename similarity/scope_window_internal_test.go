package similarity

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
)

// Every way of making counts holds the window by one rule: the
// Sequential scope's window (DefaultWindow when none is given), 0 in
// the scopes that ignore it — Count, Recount, NewPartial,
// Partial.Counts, the decoder and Sum alike — so that counts differing
// only in an ignored window compare equal wherever they are compared.
func TestWindowRuleEverywhere(t *testing.T) {
	ctx := context.Background()
	b := affinity.NewBuilder(nil)
	t0 := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	for i := range 6 {
		require.NoError(t, b.Add(affinity.Purchase{Customer: fmt.Sprint("c", i%2), Order: fmt.Sprint("o", i/2), Product: fmt.Sprint("p", i%3),
			Time: t0.Add(time.Duration(i/2) * time.Hour), Quantity: 1}))
	}
	h, err := b.Build(ctx)
	require.NoError(t, err)
	asOf := h.Latest()
	for _, scope := range []Scope{Basket, Customer, Sequential} {
		for _, w := range []time.Duration{0, time.Hour} {
			want := int64(0)
			if scope == Sequential {
				want = int64(DefaultWindow / time.Second)
				if w > 0 {
					want = int64(w / time.Second)
				}
			}
			o := CountOptions{Scope: scope, Window: w}
			name := fmt.Sprintf("%v, window %v", scope, w)
			c, err := Count(ctx, h, asOf, o)
			require.NoError(t, err, name)
			assert.Equal(t, want, c.window, "Count: %s", name)
			r, err := Recount(ctx, c, h, h, asOf, o)
			require.NoError(t, err, name)
			assert.Equal(t, want, r.window, "Recount: %s", name)
			s, err := Sum(ctx, c)
			require.NoError(t, err, name)
			assert.Equal(t, want, s.window, "Sum: %s", name)
			p, err := NewPartial(asOf, o)
			require.NoError(t, err, name)
			assert.Equal(t, want, p.window, "NewPartial: %s", name)
			pc, err := p.Counts(h.Catalog().NumProducts())
			require.NoError(t, err, name)
			assert.Equal(t, want, pc.window, "Partial.Counts: %s", name)
			enc, err := p.MarshalBinary()
			require.NoError(t, err, name)
			var q Partial
			require.NoError(t, q.UnmarshalBinary(enc), name)
			assert.Equal(t, want, q.window, "UnmarshalBinary: %s", name)
		}
	}
}
