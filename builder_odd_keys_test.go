package affinity_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/stretchr/testify/require"
)

// oddGen draws Builder calls over small pools of keys that hold NUL
// bytes, invalid UTF-8 and prefixes of one another, and of versions at
// the ends of the range, so that they collide across Builds.
type oddGen struct {
	*advGen
	keys, custs, prods []string
	vers               []int64
}

func newOddGen(r *rand.Rand) *oddGen {
	return &oddGen{advGen: newAdvGen(r),
		keys:  []string{"k", "k\x00", "\x00", "\xff\xfe", "k\x00a", "ka"},
		custs: []string{"", "c", "c\x00", "\x00", "\xff", "c\x00x"},
		prods: []string{"p", "p\x00", "\x00", "\xc3", "p\x00q"},
		vers:  []int64{0, 1, 2, math.MaxInt64 - 1, math.MaxInt64},
	}
}

func (g *oddGen) line(c, order string) affinity.Purchase {
	p := g.advGen.line(c, order)
	p.Product = g.prods[g.r.IntN(len(g.prods))]
	return p
}

func (g *oddGen) op() advOp {
	r := g.r
	cust := func() string { return g.custs[r.IntN(len(g.custs))] }
	key := func() string { return g.keys[r.IntN(len(g.keys))] }
	ver := func() int64 { return g.vers[r.IntN(len(g.vers))] }
	switch k := r.IntN(20); {
	case k < 6:
		order := key()
		if r.IntN(4) == 0 {
			order = ""
		}
		p := g.line(cust(), order)
		return advOp{purchase: &p}
	case k < 8:
		c := cust()
		if c == "" {
			c = "c"
		}
		e := affinity.Event{Customer: c, Product: g.prods[r.IntN(len(g.prods))], Time: g.when(),
			Kind: affinity.EventKind(1 + r.IntN(4)), Weight: float32(r.IntN(3))}
		return advOp{event: &e}
	case k < 16:
		c := cust()
		lines := make([]affinity.Purchase, 1+r.IntN(3))
		for i := range lines {
			lines[i] = g.line(c, "")
		}
		return advOp{change: &affinity.OrderChange{Key: key(), Version: ver(), Lines: lines}}
	case k < 18:
		return advOp{change: &affinity.OrderChange{Key: key(), Version: ver(), Delete: true}}
	default:
		c := cust()
		if c == "" {
			c = "c" // the model would take "" for the anonymous orders; EraseCustomer("") does nothing
		}
		return advOp{erase: c}
	}
}

// TestBuilderOddKeysMatchModel runs chains of Builders over keys with
// NUL bytes and invalid UTF-8 and versions near MaxInt64, and checks
// each History against the naive model of adv_builder_test.go, and the
// answers of a Builder on it: BaseVersion is the version of the latest
// change of the key the model holds, Gross the gross value of its lines,
// and HoldsOrder of an order's own lines is true and a put of them at
// the base's version no change.
func TestBuilderOddKeysMatchModel(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(testdata.Scale(3000, 40)) {
		r := rand.New(rand.NewPCG(seed, 0x0dd))
		g := newOddGen(r)
		gens := make([][]advOp, 1+r.IntN(4))
		for i := range gens {
			gens[i] = make([]advOp, r.IntN(20))
			for j := range gens[i] {
				gens[i][j] = g.op()
			}
		}
		for _, mode := range advModes {
			advWithMode(mode.base, mode.layout, func() {
				m := newAdvModel()
				var h *affinity.History
				for i, ops := range gens {
					what := fmt.Sprintf("seed %d mode %s generation %d ops %q", seed, mode.name, i, ops)
					m.build(ops)
					h = advBuild(t, h, ops)
					m.check(t, h, what)
					b := affinity.NewBuilder(h)
					var gross affinity.Money
					for p := range h.Purchases() {
						v := affinity.Money(p.Quantity) * p.Price
						gross += max(v, -v)
					}
					require.Equal(t, gross, b.Gross(), "%s: Gross", what)
					for _, k := range g.keys {
						wv, _, wok := m.keyVersion(k)
						v, ok := b.BaseVersion(k)
						require.Equal(t, wok, ok, "%s: BaseVersion(%q) ok", what, k)
						require.Equal(t, wv, v, "%s: BaseVersion(%q)", what, k)
					}
					_, ok := b.BaseVersion("")
					require.False(t, ok, "%s: BaseVersion(\"\")", what)
					for o := range h.Orders() {
						k := h.OrderKey(o)
						if k == "" {
							continue
						}
						lines := verHeldPut(h, o).Lines
						n := 0
						for x := range h.Orders() {
							if h.OrderKey(x) == k {
								n++
							}
						}
						_, dead := affinity.HistoryTombstone(h, k)
						want := n == 1 && !dead
						require.Equal(t, want, b.HoldsOrder(k, lines), "%s: HoldsOrder(%q)", what, k)
						if want {
							b2 := affinity.NewBuilder(h)
							require.NoError(t, b2.PutOrder(k, h.OrderVersion(o), lines))
							h2, err := b2.Build(ctx)
							require.NoError(t, err)
							require.Same(t, h, h2, "%s: put of %q as held", what, k)
						}
					}
				}
			})
			if t.Failed() {
				return
			}
		}
	}
}
