package affinity

import (
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/testdata"
)

// modelOrderGross is the gross value of order o of h, in big integers.
func modelOrderGross(h *History, o uint32) *big.Int {
	g := new(big.Int)
	for i := h.orderOff[o]; i < h.orderOff[o+1]; i++ {
		v := int64(h.lineQty[i]) * int64(h.linePrice[i])
		if v < 0 {
			v = -v
		}
		g.Add(g, big.NewInt(v))
	}
	return g
}

// TestGrossModel checks Builder.Gross and CheckApply against a model of
// what Build holds, over chains of refreshes with Add, Apply and
// EraseCustomer, keys shared across customers, versions and prices near
// MaxMoney: Gross is exact but for lines added with Add that Build
// drops, CheckApply refuses exactly the changes that would take it
// beyond MaxMoney, and Build takes whatever CheckApply let through.
func TestGrossModel(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	maxM := big.NewInt(int64(MaxMoney))
	keys := []string{"1", "2", "3", "4", "5"}
	modes := []struct{ base, layout int32 }{{baseAuto, layoutAuto}, {baseOver, layoutAppend}, {baseOver, layoutCompact}, {baseCopy, layoutAuto}}
	stats := map[string]int{}
	for seed := range uint64(testdata.Scale(4000, 150)) {
		r := rand.New(rand.NewPCG(seed, 7))
		mode := modes[seed%uint64(len(modes))]
		wb, wl := SetBaseMode(mode.base), SetLayoutMode(mode.layout)
		price := func() Money {
			if r.IntN(4) == 0 {
				return MaxMoney / Money(3+r.IntN(6))
			}
			return Money(1 + r.IntN(1000))
		}
		var h *History
		for gen := range 5 {
			line := func(c, o string) Purchase {
				at := t0.Add(time.Duration(gen*1000+r.IntN(1500)) * time.Hour)
				return Purchase{Customer: c, Product: fmt.Sprint("p", r.IntN(3)), Order: o, Time: at, Quantity: int32(1 + r.IntN(2)), Price: price()}
			}
			b := NewBuilder(h)
			// model of the builder
			type st struct {
				version int64
				del     bool
				cust    string
				gross   *big.Int
			}
			type add struct {
				cust, key string
				gross     *big.Int
			}
			staged := map[string]*st{}
			var adds []add
			erased := map[string]bool{}
			absV := func(p Purchase) *big.Int {
				v := int64(p.Quantity) * int64(p.Price)
				return big.NewInt(max(v, -v))
			}
			baseKeyVersion := func(k string) (int64, bool) {
				if h == nil || !h.versioned() {
					return 0, false
				}
				return h.keyVersion(k)
			}
			wins := func(k string, v int64) bool {
				bv, ok := baseKeyVersion(k)
				return !ok || v >= bv
			}
			// gross is the gross value Build holds with the changes
			// staged; with allAdds, the lines added with Add that Build
			// drops count too, as they do in Gross.
			gross := func(staged map[string]*st, allAdds bool) *big.Int {
				g := new(big.Int)
				changed := func(k string) bool {
					s, ok := staged[k]
					return ok && k != "" && wins(k, s.version)
				}
				if h != nil {
					for o := range h.Orders() {
						c := ""
						if cc := h.OrderCustomer(o); cc != NoCustomer {
							c = h.CustomerKey(cc)
						}
						if changed(h.OrderKey(o)) || c != "" && erased[c] {
							continue
						}
						g.Add(g, modelOrderGross(h, uint32(o)))
					}
				}
				for _, a := range adds {
					if !allAdds && (changed(a.key) || a.cust != "" && erased[a.cust]) {
						continue
					}
					g.Add(g, a.gross)
				}
				for k, s := range staged {
					if s.gross != nil && wins(k, s.version) && !(s.cust != "" && erased[s.cust]) {
						g.Add(g, s.gross)
					}
				}
				return g
			}
			capped := func(g *big.Int) int64 {
				if g.Cmp(maxM) > 0 {
					return int64(MaxMoney)
				}
				return g.Int64()
			}
			for step := range 3 + r.IntN(12) {
				c := fmt.Sprint("c", r.IntN(4))
				if r.IntN(5) == 0 {
					c = ""
				}
				k := keys[r.IntN(len(keys))]
				what := fmt.Sprintf("seed %d gen %d step %d", seed, gen, step)
				switch n := r.IntN(10); {
				case n < 2:
					p := line(c, k)
					g := absV(p)
					if err := b.Add(p); err != nil {
						require.ErrorIs(t, err, ErrMoneyRange, what)
						stats["add refused"]++
						continue
					}
					adds = append(adds, add{c, k, g})
				case n == 2:
					if c != "" {
						b.EraseCustomer(c)
						erased[c] = true
					}
				default:
					ch := OrderChange{Key: k, Version: int64(r.IntN(5))}
					var next st
					next.version = ch.Version
					if n == 3 {
						ch.Delete = true
						next.del = true
					} else if n == 4 && h != nil {
						// an order of the base read again
						if o, ok := h.LookupOrder(k); ok {
							cc := ""
							if x := h.OrderCustomer(o); x != NoCustomer {
								cc = h.CustomerKey(x)
							}
							for i := h.orderOff[o]; i < h.orderOff[o+1]; i++ {
								ch.Lines = append(ch.Lines, Purchase{Customer: cc, Product: h.catalog.ProductKey(h.lineProduct[i]), Time: time.Unix(h.OrderUnix(o), 0), Quantity: h.lineQty[i], Price: h.linePrice[i]})
							}
							ch.Version = h.OrderVersion(o)
							next.version = ch.Version
							stats["reput"]++
						}
					}
					if !ch.Delete && len(ch.Lines) == 0 {
						for range 1 + r.IntN(2) {
							ch.Lines = append(ch.Lines, line(c, k))
						}
					}
					if len(ch.Lines) > 0 {
						next.cust = ch.Lines[0].Customer
						next.gross = new(big.Int)
						for _, p := range ch.Lines {
							next.gross.Add(next.gross, absV(p))
						}
					}
					old, had := staged[k]
					stagedWins := !had || ch.Version > old.version || ch.Version == old.version && (!old.del || next.del)
					after := map[string]*st{}
					for kk, s := range staged {
						after[kk] = s
					}
					if stagedWins {
						after[k] = &next
					}
					err := b.CheckApply(ch)
					wantRefuse := stagedWins && gross(after, true).Cmp(maxM) > 0
					if wantRefuse {
						require.ErrorIs(t, err, ErrMoneyRange, what)
						stats["refused"]++
						continue
					}
					require.NoError(t, err, what)
					require.NoError(t, b.Apply(ch), what)
					if stagedWins {
						staged[k] = &next
					}
				}
				require.Equal(t, capped(gross(staged, true)), int64(b.Gross()), "%s: Gross against the doc model", what)
			}
			held := b.Gross()
			want := gross(staged, false)
			loose := want.Cmp(gross(staged, true)) != 0 // lines added with Add that Build drops
			next, err := b.Build(ctx)
			what := fmt.Sprintf("seed %d gen %d mode %v", seed, gen, mode)
			require.NoError(t, err, "%s: Build after CheckApply-checked changes", what)
			require.Equal(t, capped(want), int64(next.gross), "%s: built gross against the exact model", what)
			require.GreaterOrEqual(t, int64(held), int64(next.gross), "%s: Gross below what Build holds", what)
			if !loose {
				require.Equal(t, int64(held), int64(next.gross), "%s: Gross not exact", what)
				stats["exact"]++
			}
			h = next
			if r.IntN(2) == 0 {
				checkKeyIndex(t, h, append(keys, "zz"), what)
			}
		}
		SetBaseMode(wb)
		SetLayoutMode(wl)
	}
	t.Log(stats)
}
