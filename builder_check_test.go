package affinity_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
)

// TestCheckIsAddWithoutAdding checks Builder.Check against adding in
// turn: over random runs of lines whose values approach Money's range (a
// fresh Builder and one on a base History), Check(ps...) is nil exactly
// when Add takes every line of ps, fails with Add's error at the first it
// refuses otherwise, and adds nothing either way.
func TestCheckIsAddWithoutAdding(t *testing.T) {
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	r := rand.New(rand.NewPCG(5, 6))
	big := affinity.MaxMoney / 4
	line := func() affinity.Purchase {
		p := affinity.Purchase{Customer: "c", Product: "p", Order: "o", Time: at, Quantity: int32(r.IntN(3) - 1), Price: affinity.Money(r.Int64N(int64(big)))}
		switch r.IntN(12) {
		case 0:
			p.Product = ""
		case 1:
			p.Price = -1
		case 2:
			p.Quantity = 1 << 30
		}
		if p.Quantity == 0 {
			p.Quantity = 2
		}
		return p
	}
	var b affinity.Builder
	require.NoError(t, b.Add(affinity.Purchase{Customer: "c", Product: "p", Time: at, Quantity: 1, Price: big}))
	base, err := b.Build(t.Context())
	require.NoError(t, err)
	refused := 0
	for trial := range 400 {
		ps := make([]affinity.Purchase, 1+r.IntN(5))
		for i := range ps {
			ps[i] = line()
		}
		mk := func() *affinity.Builder {
			if trial%2 == 0 {
				return affinity.NewBuilder(base)
			}
			return &affinity.Builder{}
		}
		b, ref := mk(), mk()
		before := b.Len()
		err := b.Check(ps...)
		var want error
		for _, p := range ps {
			if want = ref.Add(p); want != nil {
				break
			}
		}
		if want == nil {
			assert.NoError(t, err, "trial %d", trial)
		} else {
			refused++
			assert.EqualError(t, err, want.Error(), "trial %d", trial)
		}
		assert.Equal(t, before, b.Len(), "trial %d: Check added nothing", trial)
		for _, p := range ps { // and the Builder then takes what Check passed
			if err == nil {
				require.NoError(t, b.Add(p), "trial %d", trial)
			}
		}
	}
	assert.True(t, refused > 100 && refused < 300, "%d of 400 runs refused: both outcomes tried", refused)
	var c affinity.Builder
	for _, p := range []affinity.Product{{Key: ""}, {Key: "k", Price: -1}, {Key: "k", Categories: []string{"a/b/c/d/e/f/g/h/i"}}, {Key: "k", Categories: []string{"a/b"}}} {
		want := (&affinity.Builder{}).AddProduct(p)
		if want == nil {
			assert.NoError(t, c.CheckProduct(p))
		} else {
			assert.EqualError(t, c.CheckProduct(p), want.Error())
		}
		assert.False(t, c.HasProduct(p.Key), "CheckProduct adds nothing")
	}
}
