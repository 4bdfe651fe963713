package segment

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/bsi"
	"github.com/shopaffinity/affinity/internal/reliability"
)

// threeBuyers is the index of three customers who each spent 1.00 in one
// order.
func threeBuyers(t *testing.T) *Index {
	t.Helper()
	var b affinity.Builder
	t0 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	for i, c := range []string{"ann", "bob", "cat"} {
		require.NoError(t, b.Add(affinity.Purchase{Customer: c, Product: "mug", Time: t0.Add(time.Duration(i) * time.Hour), Quantity: 1, Price: 10000}))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	x, err := Build(context.Background(), h, t0.Add(24*time.Hour), Options{})
	require.NoError(t, err)
	return x
}

// TestReadIndexChecksMoneyTotals: a file (checksum valid, as a crafted or
// resealed one is) whose monetary or aov values leave Money's range, whose
// monetary values sum beyond it, or whose stored revenue or orders are not
// the sums of the customers' values is ErrCorrupt: decoded, Stats would
// wrap or disagree with the customers.
func TestReadIndexChecksMoneyTotals(t *testing.T) {
	one := func(c uint32) []*roaring.Bitmap { return []*roaring.Bitmap{roaring.BitmapOf(c)} }
	cases := []struct {
		name   string
		tamper func(x *Index)
	}{
		{"monetary values summing beyond Money", func(x *Index) {
			x.scalars[scMonetary].v.Base = int64(affinity.MaxMoney) - 10
			m := int64(affinity.MaxMoney) - 10
			x.revenue = affinity.Money(3 * m) // wrapped, as a crafted file may hold it
		}},
		{"a monetary value wrapping past MaxMoney", func(x *Index) {
			m := &x.scalars[scMonetary]
			m.v = bsi.BSI{Base: int64(affinity.MaxMoney), Slices: one(0)}
			m.exist = roaring.BitmapOf(0)
			x.revenue = affinity.MinMoney - 1 // MaxMoney + 1, wrapped
		}},
		{"a monetary value in the 64th slice", func(x *Index) {
			m := &x.scalars[scMonetary]
			m.v = bsi.BSI{Base: 0, Slices: append(make([]*roaring.Bitmap, 63), roaring.BitmapOf(1))}
			for j := range 63 {
				m.v.Slices[j] = roaring.New()
			}
			m.exist = roaring.BitmapOf(1)
			x.revenue = affinity.MinMoney - 1 // 2^63, wrapped
		}},
		{"a monetary value below MinMoney", func(x *Index) {
			m := &x.scalars[scMonetary]
			m.v = bsi.BSI{Base: math.MinInt64, Slices: nil}
			m.exist = roaring.BitmapOf(2)
			x.revenue = math.MinInt64
		}},
		{"revenue not the sum of monetary", func(x *Index) { x.revenue++ }},
		{"an aov value below MinMoney", func(x *Index) { x.scalars[scAOV].v.Base = math.MinInt64 }},
		{"orders not the sum of frequency", func(x *Index) { x.orders++ }},
		{"a frequency below 0", func(x *Index) {
			x.scalars[scFrequency].v = bsi.BSI{Base: -1, Slices: one(0)} // -1, 0, -1: the sum still agrees if orders is -2
			x.orders = -2
		}},
	}
	var good bytes.Buffer
	_, err := threeBuyers(t).WriteTo(&good)
	require.NoError(t, err)
	_, err = ReadIndex(bytes.NewReader(good.Bytes()))
	require.NoError(t, err, "the untampered file")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x := threeBuyers(t)
			tc.tamper(x)
			var buf bytes.Buffer
			_, err := x.WriteTo(&buf)
			require.NoError(t, err)
			y, err := ReadIndex(&buf)
			if err == nil {
				st := y.Stats("all", y.All())
				t.Logf("decoded: revenue %v, %d orders, AOV %v", st.Revenue, st.Orders, st.AOV)
			}
			require.ErrorIs(t, err, ErrCorrupt)
		})
	}
	reliability.Add(t, reliability.Record{Kind: "hostile", Subject: "segment index with money values beyond Money's range or totals that disagree with them (valid checksum)",
		Cases: len(cases), Outcome: "each rejected with ErrCorrupt"})
}

// TestStatsSumsDoNotWrap: an index whose monetary values sum beyond
// Money's range (which ReadIndex refuses and Build cannot make) gives
// Stats and CrossTab revenue clamped at MaxMoney, by slices and by
// columns, where the int64 sums wrapped to a negative revenue.
func TestStatsSumsDoNotWrap(t *testing.T) {
	x := threeBuyers(t)
	x.scalars[scMonetary].v.Base = int64(affinity.MaxMoney) - 10
	all := x.All()
	rs, _ := x.sumsBySlice(all)
	rc, _ := x.sumsByColumn(all)
	assert.Equal(t, int64(affinity.MaxMoney), rs.clamp(), "by slices")
	assert.Equal(t, int64(affinity.MaxMoney), rc.clamp(), "by columns")
	assert.Equal(t, affinity.MaxMoney, x.Stats("all", all).Revenue)
	cells := x.CrossTab([]*roaring.Bitmap{all}, []*roaring.Bitmap{all})
	assert.Equal(t, affinity.MaxMoney, cells[0][0].Revenue, "CrossTab")
}

// TestWideSumMatchesBig checks wideSum's terms and clamp against math/big
// over random terms of every size, enough of them to leave the int64
// range both ways.
func TestWideSumMatchesBig(t *testing.T) {
	r := rand.New(rand.NewPCG(38, 3))
	lo, hi := big.NewInt(-math.MaxInt64), big.NewInt(math.MaxInt64)
	for run := range 300 {
		var s wideSum
		want := new(big.Int)
		for range 1 + r.IntN(8) {
			v := r.Int64() >> r.IntN(64)
			if r.IntN(2) == 0 {
				v = -v - r.Int64N(2) // math.MinInt64 too
			}
			n := r.Uint64() >> r.IntN(64)
			j := r.IntN(64)
			switch r.IntN(3) {
			case 0:
				s.addInt(v)
				want.Add(want, big.NewInt(v))
			case 1:
				s.addMul(v, n)
				want.Add(want, new(big.Int).Mul(big.NewInt(v), new(big.Int).SetUint64(n)))
			default:
				s.addShift(n, j)
				want.Add(want, new(big.Int).Lsh(new(big.Int).SetUint64(n), uint(j)))
			}
		}
		if want.Cmp(lo) < 0 {
			want.Set(lo)
		} else if want.Cmp(hi) > 0 {
			want.Set(hi)
		}
		require.Equal(t, want.Int64(), s.clamp(), fmt.Sprintf("run %d", run))
	}
}
