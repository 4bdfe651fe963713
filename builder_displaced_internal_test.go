package affinity

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/testdata"
)

// displacedNaive is what Builder.displaced returns, read from b's base by
// a scan of all its orders and its tombstones: the highest version the
// base holds of key (the tombstone's, every order's of key), and, unless
// version is below it, the gross value of the key's orders whose
// customers are not erased in b.
func displacedNaive(b *Builder, key string, version int64) (g uint64, loses bool) {
	base := b.baseHistory()
	if base == nil {
		return 0, false
	}
	held, ok := base.tomb.lookup(key)
	for o := range base.Orders() {
		if base.OrderKey(o) != key {
			continue
		}
		if v := base.OrderVersion(o); !ok || v > held {
			held, ok = v, true
		}
		if c := base.OrderCustomer(o); c == NoCustomer || !b.staged().isErased(base.CustomerKey(c)) {
			g += orderGross(base, uint32(o))
		}
	}
	if ok && version < held {
		return 0, true
	}
	return g, false
}

// randomChange returns a change of one of a few keys and customers, so
// that changes, erasures and the base's orders meet: a put of one to
// three lines, or a delete, at a version in 0..5.
func randomChange(r *rand.Rand) OrderChange {
	c := OrderChange{Key: "o" + strconv.Itoa(r.IntN(12)), Version: r.Int64N(6)}
	if r.IntN(4) == 0 {
		c.Delete = true
		return c
	}
	cust := "c" + strconv.Itoa(r.IntN(5))
	if r.IntN(6) == 0 {
		cust = "" // anonymous
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.IntN(1000)) * time.Hour)
	for range 1 + r.IntN(3) {
		q := int32(1 + r.IntN(3))
		if r.IntN(5) == 0 {
			q = -q // a return
		}
		c.Lines = append(c.Lines, Purchase{Customer: cust, Product: "p" + strconv.Itoa(r.IntN(7)), Time: at, Quantity: q, Price: Money(r.IntN(5000))})
	}
	return c
}

// TestDisplacedNaive checks that what a change displaces and whether it
// loses, found in one pass over the base's orders of its key and kept
// from CheckApply for Apply, is what a scan of the whole base finds, on
// random bases (versioned or not, with tombstones and keys of several
// orders, built on a base with unused order ids) and random sequences of
// CheckApply, Apply and EraseCustomer, before and after each erasure.
func TestDisplacedNaive(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(testdata.Scale(300, 60)) {
		r := rand.New(rand.NewPCG(seed, 89))
		var base *History
		for range r.IntN(3) { // 0 to 2 Builds: no base, a base, a base built on one
			b := NewBuilder(base)
			unversioned := r.IntN(3) == 0
			for range r.IntN(20) {
				c := randomChange(r)
				if unversioned {
					c.Version = 0
				}
				require.NoError(t, b.Apply(c))
			}
			for range r.IntN(8) { // orders of one key and several customers
				if c := randomChange(r); !c.Delete {
					p := c.Lines[0]
					p.Order = c.Key
					require.NoError(t, b.Add(p))
				}
			}
			if r.IntN(4) == 0 {
				b.EraseCustomer("c" + strconv.Itoa(r.IntN(5)))
			}
			var err error
			base, err = b.Build(ctx)
			require.NoError(t, err)
		}
		b := NewBuilder(base)
		check := func(step string, key string, version int64) {
			g, loses := b.displaced(key, version)
			wantG, wantLoses := displacedNaive(b, key, version)
			assert.Equal(t, wantG, g, "seed %d %s: order %q at version %d: gross displaced", seed, step, key, version)
			assert.Equal(t, wantLoses, loses, "seed %d %s: order %q at version %d: loses", seed, step, key, version)
		}
		for i := range 30 {
			c := randomChange(r)
			step := fmt.Sprint("step ", i)
			switch r.IntN(4) {
			case 0:
				cust := "c" + strconv.Itoa(r.IntN(5))
				check(step+" before erasing "+cust, c.Key, c.Version)
				b.EraseCustomer(cust)
				check(step+" after erasing "+cust, c.Key, c.Version)
			case 1:
				_ = b.CheckApply(c) // refusals are checked elsewhere
				check(step+" after CheckApply", c.Key, c.Version)
			default:
				_ = b.CheckApply(c)
				require.NoError(t, b.Apply(c))
				check(step+" after Apply", c.Key, c.Version)
			}
			check(step, "o"+strconv.Itoa(r.IntN(12)), r.Int64N(6))
		}
	}
}
