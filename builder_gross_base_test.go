package affinity_test

import (
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
)

// TestBuilderGrossOnBaseMatchesBuild stages random puts and deletes of a
// few keys, some of values near MaxMoney and some the base's own orders
// put again, on a Builder over a History that holds orders of the same
// keys, and compares Gross with the exact gross value Build holds: a
// change counts in place of the base's orders of its key (Gross once
// counted the base's order and its put again both, so that a feed
// re-reading its orders near MaxMoney was refused), CheckApply refuses a
// change exactly when staging it leaves that value beyond MaxMoney (a
// change that a staged one beats stages nothing and is not refused), and
// Build fails exactly when the staged value does not fit.
func TestBuilderGrossOnBaseMatchesBuild(t *testing.T) {
	at := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	maxMoney := big.NewInt(int64(affinity.MaxMoney))
	refused, failed, reput := 0, 0, 0
	for seed := range uint64(testdata.Scale(2000, 100)) {
		r := rand.New(rand.NewPCG(seed, 11))
		price := func() affinity.Money {
			if r.IntN(3) == 0 {
				return affinity.MaxMoney / affinity.Money(2+r.IntN(4))
			}
			return affinity.Money(r.IntN(1000))
		}
		order := func(key string) []affinity.Purchase {
			lines := make([]affinity.Purchase, 1+r.IntN(2))
			for j := range lines {
				lines[j] = affinity.Purchase{Customer: "c" + key, Product: "q", Time: at, Quantity: 1, Price: price()}
			}
			return lines
		}
		sum := func(lines []affinity.Purchase) *big.Int {
			g := new(big.Int)
			for _, p := range lines {
				g.Add(g, big.NewInt(int64(p.Price)))
			}
			return g
		}
		// the base: one order per key, at versions below the Builder's
		// changes, within MaxMoney
		var bb affinity.Builder
		baseLines := map[string][]affinity.Purchase{}
		baseVersion := map[string]int64{}
		total := new(big.Int)
		for k := range 4 {
			key := fmt.Sprintf("k%d", k)
			lines := order(key)
			if new(big.Int).Add(total, sum(lines)).Cmp(maxMoney) > 0 || r.IntN(4) == 0 {
				continue
			}
			v := int64(r.IntN(3))
			require.NoError(t, bb.PutOrder(key, v, lines))
			baseLines[key], baseVersion[key] = lines, v
			total.Add(total, sum(lines))
		}
		base, err := bb.Build(context.Background())
		require.NoError(t, err, "seed %d", seed)

		b := affinity.NewBuilder(base)
		type change struct {
			version int64
			gross   *big.Int // nil: a delete
		}
		staged := map[string]change{}
		model := func() *big.Int { // the gross value Build holds
			s := new(big.Int)
			for key, lines := range baseLines {
				if _, ok := staged[key]; !ok {
					s.Add(s, sum(lines))
				}
			}
			for _, c := range staged {
				if c.gross != nil {
					s.Add(s, c.gross)
				}
			}
			return s
		}
		for i := range 12 {
			key := fmt.Sprintf("k%d", r.IntN(4))
			c := affinity.OrderChange{Key: key, Version: 3 + int64(r.IntN(6))}
			switch n := r.IntN(4); {
			case n == 0 && baseLines[key] != nil:
				// the base's order read again: its version and lines
				c.Version, c.Lines = baseVersion[key], baseLines[key]
				reput++
			case n < 3:
				c.Lines = order(key)
			default:
				c.Delete = true
			}
			next := change{version: c.Version}
			if !c.Delete {
				next.gross = sum(c.Lines)
			}
			old, had := staged[key]
			wins := !had || c.Version > old.version || c.Version == old.version && (old.gross != nil || c.Delete)
			if wins {
				staged[key] = next
			}
			after := model()
			if had {
				staged[key] = old
			} else {
				delete(staged, key)
			}
			err := b.CheckApply(c)
			if wins && after.Cmp(maxMoney) > 0 {
				require.ErrorIs(t, err, affinity.ErrMoneyRange, "seed %d step %d", seed, i)
				refused++
				if r.IntN(2) == 0 {
					continue // a loader skips the change; else Build fails
				}
			} else {
				require.NoError(t, err, "seed %d step %d", seed, i)
			}
			require.NoError(t, b.Apply(c))
			if wins {
				staged[key] = next
			}
			want := model()
			if want.Cmp(maxMoney) > 0 {
				want = maxMoney
			}
			require.Equal(t, want.Int64(), int64(b.Gross()), "seed %d step %d", seed, i)
		}
		h, err := b.Build(context.Background())
		if m := model(); m.Cmp(maxMoney) <= 0 {
			require.NoError(t, err, "seed %d", seed)
			assert.Equal(t, m.Int64(), int64(h.Summary().Revenue), "seed %d: every line has quantity 1", seed)
		} else {
			require.ErrorIs(t, err, affinity.ErrMoneyRange, "seed %d", seed)
			failed++
		}
	}
	assert.Positive(t, refused, "changes refused")
	assert.Positive(t, failed, "builds failed")
	assert.Positive(t, reput, "base orders put again")
}
