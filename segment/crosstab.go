package segment

import (
	"math/bits"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/shopaffinity/affinity"
)

// CrossTab returns the statistics of every cell of a table whose rows and
// columns are sets of customers: cells[i][j] is what [Index.Stats] gives
// for rows[i] ∩ cols[j] (customers the index does not know left out),
// with an empty Name. It is the way to an R×F grid, or any breakdown of
// segments by segments, in one pass instead of one intersection per cell:
// the sets become dense bitsets over the customer ids (one bit per id and
// set, allocated per call), each word of 64 ids of a row takes one AND per
// column when the row has members there, and each member of a cell one
// lookup of its spend and orders. Rows and columns may overlap; nil sets
// are empty.
func (x *Index) CrossTab(rows, cols []*roaring.Bitmap) [][]Stats {
	cells := make([][]Stats, len(rows))
	for i := range cells {
		cells[i] = make([]Stats, len(cols))
	}
	if len(rows) == 0 || len(cols) == 0 {
		return cells
	}
	n := len(x.keys)
	words := (n + 63) / 64
	dense := func(b *roaring.Bitmap) []uint64 {
		d := make([]uint64, words)
		if b == nil || b.IsEmpty() {
			return d
		}
		if b.Maximum() >= uint32(n) { // ids beyond the index
			b = b.Clone()
			b.RemoveRange(uint64(n), uint64(b.Maximum())+1)
		}
		b.WriteDenseTo(d)
		return d
	}
	u := dense(x.universe)
	rs := make([][]uint64, len(rows))
	for i, r := range rows {
		rs[i] = dense(r)
		for w, v := range u {
			rs[i][w] &= v
		}
	}
	cs := make([][]uint64, len(cols))
	for j, c := range cols {
		cs[j] = dense(c)
	}
	stat := x.statColumns()
	// the cells' revenue and orders, summed without wrapping
	sums := make([][2]wideSum, len(rows)*len(cols))
	for w := range words {
		for i, r := range rs {
			a := r[w]
			if a == 0 {
				continue
			}
			row := cells[i]
			for j, c := range cs {
				m := a & c[w]
				if m == 0 {
					continue
				}
				row[j].Customers += bits.OnesCount64(m)
				sum := &sums[i*len(cols)+j]
				for ; m != 0; m &= m - 1 {
					sc := &stat[w*64+bits.TrailingZeros64(m)]
					sum[0].addInt(sc.money)
					sum[1].addInt(sc.orders)
				}
			}
		}
	}
	for i := range cells {
		for j := range cells[i] {
			st, sum := &cells[i][j], &sums[i*len(cols)+j]
			st.Revenue, st.Orders = affinity.Money(sum[0].clamp()), sum[1].clamp()
			x.finishStats(st)
		}
	}
	return cells
}

// finishStats fills in the shares and AOV of s from its count, revenue
// and orders, as Stats does.
func (x *Index) finishStats(s *Stats) {
	if n := x.Len(); n > 0 {
		s.Share = float64(s.Customers) / float64(n)
	}
	if x.revenue > 0 {
		s.RevenueShare = float64(s.Revenue) / float64(x.revenue)
	}
	if s.Orders > 0 {
		s.AOV = affinity.Money(divRound(int64(s.Revenue), s.Orders))
	}
}
