package affinity_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/stretchr/testify/require"
)

// TestHoldsOrderMeansNoChange checks Builder.HoldsOrder against what it
// promises, on random Builders over random bases with Add, puts,
// deletes, erasures and puts taken back (Staged, Unstage): when it
// reports a put of lines held, staging that put at the base's version
// (Builder.BaseVersion) changes nothing Build holds, and a base that
// nothing else changed is built as itself; and it answers the same
// before and after a put of the key staged and taken back.
func TestHoldsOrderMeansNoChange(t *testing.T) {
	ctx := context.Background()
	helds := 0
	for seed := range uint64(testdata.Scale(400, 60)) {
		r := rand.New(rand.NewPCG(seed, 0x401d))
		g := newAdvGen(r)
		var base *affinity.History
		for range 1 + r.IntN(3) {
			ops := make([]advOp, r.IntN(20))
			for i := range ops {
				ops[i] = g.op()
			}
			base = advBuild(t, base, ops)
		}
		ops := make([]advOp, r.IntN(6))
		for i := range ops {
			ops[i] = g.op()
		}
		b := affinity.NewBuilder(base)
		for _, op := range ops {
			require.NoError(t, op.apply(b))
		}
		// candidate puts: every keyed order of the base as it is, and
		// some with a line changed or dropped
		var cands []affinity.OrderChange
		for o := range base.Orders() {
			if base.OrderKey(o) == "" {
				continue
			}
			c := verHeldPut(base, o)
			cands = append(cands, c)
			if len(c.Lines) > 1 {
				d := c
				d.Lines = c.Lines[1:]
				cands = append(cands, d)
			}
			d := c
			d.Lines = append([]affinity.Purchase(nil), c.Lines...)
			d.Lines[0].Quantity++
			cands = append(cands, d)
		}
		for i := range 8 {
			cands = append(cands, affinity.OrderChange{Key: fmt.Sprintf("k%d", i)}) // deletes
		}
		for _, c := range cands {
			what := fmt.Sprintf("seed %d ops %v put %v", seed, ops, advOp{change: &c})
			held := b.HoldsOrder(c.Key, c.Lines)
			// a put of the key staged and taken back leaves the answer
			prev, staged := b.Staged(c.Key)
			require.NoError(t, b.PutOrder(c.Key, 1<<40, []affinity.Purchase{{Customer: "z", Product: "p0", Time: advT0, Quantity: 1, Price: 1}}))
			b.Unstage(c.Key)
			if staged {
				require.NoError(t, b.Apply(prev))
			}
			require.Equal(t, held, b.HoldsOrder(c.Key, c.Lines), "%s: HoldsOrder after a put taken back", what)
			if !held {
				continue
			}
			helds++
			v, ok := b.BaseVersion(c.Key)
			require.True(t, ok, "%s: BaseVersion of a held key", what)
			with := func(extra bool) *affinity.History {
				x := affinity.NewBuilder(base)
				for _, op := range ops {
					require.NoError(t, op.apply(x))
				}
				if extra {
					c.Version = v
					require.NoError(t, x.Apply(c))
				}
				h, err := x.Build(ctx)
				require.NoError(t, err)
				return h
			}
			h0, h1 := with(false), with(true)
			require.Equal(t, advKeys(h0), advKeys(h1), "%s: the held put changed the History", what)
			keys := []string{c.Key}
			require.Equal(t, verKeyed(h0, keys), verKeyed(h1, keys), "%s: the held put changed the versions", what)
			if h0 == base {
				require.Same(t, base, h1, "%s: the held put on an unchanged base", what)
			}
		}
	}
	require.Positive(t, helds, "no held put drawn")
}
