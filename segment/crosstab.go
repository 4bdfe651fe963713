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
// segments by segments, in one pass instead of one intersection per cell.
// Up to 256 cells, the sets become dense bitsets (one bit per customer id
// and set, allocated per call) and each word of 64 ids takes one AND per
// cell, each member of a cell one lookup. Larger tables label the
// customers instead: when the rows and the columns are each disjoint, as
// score bands, lifecycle stages or RFM segments are, one pass over the
// customer ids (2 bytes of labels per id and side); when only one side is
// disjoint, one pass per set of the other; otherwise one intersection per
// cell. Nil sets are empty.
func (x *Index) CrossTab(rows, cols []*roaring.Bitmap) [][]Stats {
	cells := make([][]Stats, len(rows))
	for i := range cells {
		cells[i] = make([]Stats, len(cols))
	}
	if len(rows) == 0 || len(cols) == 0 {
		return cells
	}
	if len(rows)*len(cols) <= denseCells {
		x.crossDense(rows, cols, cells)
		return cells
	}
	known := func(sets []*roaring.Bitmap) []*roaring.Bitmap {
		out := make([]*roaring.Bitmap, len(sets))
		for i, s := range sets {
			if s == nil {
				out[i] = roaring.New()
			} else {
				out[i] = roaring.And(s, x.universe)
			}
		}
		return out
	}
	rs, cs := known(rows), known(cols)
	rl, rok := x.labels(rs)
	cl, cok := x.labels(cs)
	switch {
	case rok && cok:
		x.sweep(rl, cl, cells)
	case cok:
		x.tabulate(rs, cl, func(i, j int) *Stats { return &cells[i][j] })
	case rok:
		x.tabulate(cs, rl, func(j, i int) *Stats { return &cells[i][j] })
	default:
		for i, r := range rs {
			for j, c := range cs {
				cells[i][j] = x.Stats("", roaring.And(r, c))
			}
		}
		return cells
	}
	for i := range cells {
		for j := range cells[i] {
			x.finishStats(&cells[i][j])
		}
	}
	return cells
}

// denseCells is the largest table CrossTab sums from dense bitsets, at
// one AND per cell and 64 customers.
const denseCells = 256

// crossDense sums the cells from the sets as dense bitsets over the
// customer ids (one bit per id and set, the universe applied to the rows):
// per 64 ids, one AND per cell, then one lookup per member of a cell.
func (x *Index) crossDense(rows, cols []*roaring.Bitmap, cells [][]Stats) {
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
				st := &row[j]
				st.Customers += bits.OnesCount64(m)
				for ; m != 0; m &= m - 1 {
					sc := &stat[w*64+bits.TrailingZeros64(m)]
					st.Revenue += affinity.Money(sc.money)
					st.Orders += sc.orders
				}
			}
		}
	}
	for i := range cells {
		for j := range cells[i] {
			x.finishStats(&cells[i][j])
		}
	}
}

// labels returns, per customer id, 1 + the index of the set of sets that
// holds it (0: none), or false when two sets share a customer or there
// are too many sets to label.
func (x *Index) labels(sets []*roaring.Bitmap) ([]uint16, bool) {
	if len(sets) >= 1<<16-1 {
		return nil, false
	}
	label := make([]uint16, len(x.keys))
	var buf [256]uint32
	for i, s := range sets {
		it := s.ManyIterator()
		for k := it.NextMany(buf[:]); k > 0; k = it.NextMany(buf[:]) {
			for _, c := range buf[:k] {
				if label[c] != 0 {
					return nil, false
				}
				label[c] = uint16(i + 1)
			}
		}
	}
	return label, true
}

// sweep adds every customer with a row label and a column label to its
// cell, in one pass over the customer ids.
func (x *Index) sweep(rl, cl []uint16, cells [][]Stats) {
	cols := x.statColumns()
	for c, r := range rl {
		if r == 0 {
			continue
		}
		if k := cl[c]; k != 0 {
			st := &cells[r-1][k-1]
			st.Customers++
			st.Revenue += affinity.Money(cols[c].money)
			st.Orders += cols[c].orders
		}
	}
}

// tabulate adds every customer of sets[i] whose label is j+1 to cell(i, j):
// count, revenue and orders.
func (x *Index) tabulate(sets []*roaring.Bitmap, label []uint16, cell func(i, j int) *Stats) {
	cols := x.statColumns()
	var buf [256]uint32
	for i, s := range sets {
		it := s.ManyIterator()
		for k := it.NextMany(buf[:]); k > 0; k = it.NextMany(buf[:]) {
			for _, c := range buf[:k] {
				if l := label[c]; l != 0 {
					st := cell(i, int(l-1))
					st.Customers++
					st.Revenue += affinity.Money(cols[c].money)
					st.Orders += cols[c].orders
				}
			}
		}
	}
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
