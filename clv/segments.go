package clv

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
)

// Quantiles splits the customers ids into n groups of (nearly) equal size
// by value and returns one bitmap per group, lowest values first: group k
// holds the customers ranked in [k·len/n, (k+1)·len/n) when sorted by
// value, ties broken by customer id. Quantiles(ids, scores.CLV, 10)[9] is
// the top CLV decile. Customers whose value is NaN rank lowest. The
// bitmaps are owned by the caller and plug into segment queries. It takes
// O(len·log len) time and panics if the lengths of ids and values differ or
// n < 1.
func Quantiles(ids []affinity.CustomerID, values []float64, n int) []*roaring.Bitmap {
	if len(ids) != len(values) {
		panic(fmt.Sprintf("clv: Quantiles: %d ids but %d values", len(ids), len(values)))
	}
	if n < 1 {
		panic(fmt.Sprintf("clv: Quantiles: n = %d < 1", n))
	}
	order := rank(ids, values)
	out := make([]*roaring.Bitmap, n)
	m := len(order)
	for k := range n {
		lo, hi := k*m/n, (k+1)*m/n
		part := make([]uint32, 0, hi-lo)
		for _, i := range order[lo:hi] {
			part = append(part, uint32(ids[i]))
		}
		slices.Sort(part)
		out[k] = bitmapOf(part)
	}
	return out
}

// rank returns the indexes of values sorted ascending, NaN first, ties by id.
func rank(ids []affinity.CustomerID, values []float64) []int {
	order := make([]int, len(ids))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int {
		return cmp.Or(cmp.Compare(values[i], values[j]), cmp.Compare(ids[i], ids[j]))
	})
	return order
}

// WinBackOptions configures [WinBack]. The zero value means the top 20 %
// by value and P(alive) < 0.5.
type WinBackOptions struct {
	// Top is the share of customers, by value, that counts as high value,
	// in (0, 1]; 0 means 0.2.
	Top float64
	// MaxPAlive is the P(alive) below which a customer is drifting away,
	// in (0, 1]; 0 means 0.5.
	MaxPAlive float64
}

// WinBack returns the customers to win back: those ranked in the top
// opts.Top share by value (ties by id, as in [Quantiles]) whose P(alive) is
// below opts.MaxPAlive. value is typically past spend ([Summary.Spend]):
// predicted CLV already shrinks with P(alive), so it would hide exactly
// these customers. The bitmap is owned by the caller. It takes
// O(len·log len) time and panics if the slice lengths differ or an option is
// out of range.
func WinBack(ids []affinity.CustomerID, value, pAlive []float64, opts WinBackOptions) *roaring.Bitmap {
	if len(ids) != len(value) || len(ids) != len(pAlive) {
		panic(fmt.Sprintf("clv: WinBack: %d ids, %d values, %d P(alive)", len(ids), len(value), len(pAlive)))
	}
	if opts.Top == 0 {
		opts.Top = 0.2
	}
	if opts.MaxPAlive == 0 {
		opts.MaxPAlive = 0.5
	}
	if !(opts.Top > 0 && opts.Top <= 1) || !(opts.MaxPAlive > 0 && opts.MaxPAlive <= 1) {
		panic(fmt.Sprintf("clv: WinBack: options %+v out of range", opts))
	}
	order := rank(ids, value)
	top := int(math.Round(opts.Top * float64(len(order))))
	var part []uint32
	for _, i := range order[len(order)-top:] {
		if pAlive[i] < opts.MaxPAlive {
			part = append(part, uint32(ids[i]))
		}
	}
	slices.Sort(part)
	return bitmapOf(part)
}
