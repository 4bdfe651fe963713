package segment

import (
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/shopaffinity/affinity"
)

// ScoreGrid returns the statistics of the customers of set (every
// customer when set is nil) by two of their RFM scores: cells[i][j] is
// what [Index.Stats] gives for the customers with score i+1 on row and
// j+1 on col, with an empty Name. row and col are each [RScore], [FScore]
// or [MScore] (the same one twice fills the diagonal). Customers without
// scores (no order in the look-back) and ids the index does not know are
// left out.
//
// It is [Index.CrossTab] of the ten score bands without evaluating them
// (an R×F grid in one pass, as SQL's GROUP BY r, f over a table that holds
// the scores): the first call decodes one byte per customer and score
// from the bit-sliced indexes, and each call then looks every customer of
// set up once.
func (x *Index) ScoreGrid(row, col Attr, set *roaring.Bitmap) (cells [5][5]Stats, err error) {
	ri, err := scoreColumn(row)
	if err != nil {
		return cells, err
	}
	ci, err := scoreColumn(col)
	if err != nil {
		return cells, err
	}
	sc := x.scoreColumns()
	r, c := sc[ri], sc[ci]
	stat := x.statColumns()
	var n [25]int
	var rev, orders [25]int64
	add := func(id uint32) {
		a, b := r[id], c[id]
		if a == 0 || b == 0 {
			return
		}
		k := int(a-1)*5 + int(b-1)
		n[k]++
		rev[k] += stat[id].money
		orders[k] += stat[id].orders
	}
	if set == nil {
		for id := range uint32(len(r)) {
			add(id)
		}
	} else {
		it := set.ManyIterator()
		buf := make([]uint32, 1024)
	scan:
		for {
			m := it.NextMany(buf)
			if m == 0 {
				break
			}
			for _, id := range buf[:m] {
				if int(id) >= len(r) {
					break scan // ascending: the rest are beyond the index
				}
				add(id)
			}
		}
	}
	for k := range 25 {
		st := &cells[k/5][k%5]
		st.Customers, st.Revenue, st.Orders = n[k], affinity.Money(rev[k]), orders[k]
		x.finishStats(st)
	}
	return cells, nil
}

// scoreColumn returns the position of a in the index's score columns: 0
// for RScore, 1 for FScore, 2 for MScore.
func scoreColumn(a Attr) (int, error) {
	if !a.HasArg {
		switch a.Name {
		case "rscore":
			return 0, nil
		case "fscore":
			return 1, nil
		case "mscore":
			return 2, nil
		}
	}
	return 0, fmt.Errorf("%w: ScoreGrid takes rscore, fscore or mscore, not %s", ErrInvalid, a)
}

// scoreColumns returns the per-customer R, F and M scores (0: none),
// decoded from the bit slices on first use.
func (x *Index) scoreColumns() [3][]uint8 {
	x.scoresOnce.Do(func() {
		var buf []int64
		for k, sc := range [3]int{scR, scF, scM} {
			col := make([]uint8, len(x.keys))
			buf = x.scalars[sc].scatter(buf, func(c uint32, v int64) { col[c] = uint8(v) })
			x.scoreCols[k] = col
		}
	})
	return x.scoreCols
}
