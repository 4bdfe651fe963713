package benchmarks

import (
	"context"
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/segment"
)

// LoadAffinity reads the shop's CSV file through the dataset CSV loader
// into a new Builder, strictly.
func LoadAffinity(ctx context.Context, shop *Shop) (*affinity.Builder, error) {
	var b affinity.Builder
	_, err := dataset.LoadFile(ctx, shop.Path, &b, dataset.Options{
		Format:      "csv",
		TimeLayouts: []string{TimeLayout},
		Columns:     dataset.Columns{Order: "order"},
	})
	if err != nil {
		return nil, err
	}
	return &b, nil
}

// SegmentOptions are the options of the segment index the questions run
// on: the default look-back of 24 calendar months, and RFM scores by
// NTILE(5) in the order of the value, then the customer key, as SQL
// computes them.
func SegmentOptions() segment.Options { return segment.Options{RFMScoring: segment.RFMNTile} }

// BuildIndex builds the segment index of h as of AsOf.
func BuildIndex(ctx context.Context, h *affinity.History) (*segment.Index, error) {
	return segment.Build(ctx, h, AsOf, SegmentOptions())
}

// Exprs returns the segment expressions of QShare, QRecent and QCoupon
// for the shop.
func Exprs(shop *Shop) map[Question]segment.Expr {
	share := segment.Affinity(shop.Category).GE(0.3)
	recent := segment.Recency().Between(14, 28)
	coupon := segment.And(share, recent,
		segment.Not(segment.Bought(segment.Category(shop.Sub)).Within(90*segment.Day)))
	return map[Question]segment.Expr{QShare: share, QRecent: recent, QCoupon: coupon, QCouponStats: coupon}
}

// Affinity answers the questions with a segment index.
type Affinity struct {
	X     *segment.Index
	exprs map[Question]segment.Expr
	keys  []string // the last answer of Timed, whose slice the next reuses
}

// NewAffinity prepares the questions for the shop on x.
func NewAffinity(shop *Shop, x *segment.Index) *Affinity {
	return &Affinity{X: x, exprs: Exprs(shop), keys: []string{}}
}

// Set evaluates the expression of q (QShare, QRecent or QCoupon) and
// returns its customers' keys, sorted, with their count and net spend:
// the list of customers a coupon goes to. [Affinity.Timed] is its timed
// form.
func (a *Affinity) Set(q Question) (Set, error) { return a.answer(q, []string{}) }

// Timed is Set as a server answers question after question: the keys go
// into the slice of the last answer (segment.Index.AppendSortedKeys), so a
// large answer allocates nothing. The returned keys are valid until the
// next call. This is the timed form of QShare, QRecent and QCoupon.
func (a *Affinity) Timed(q Question) (Set, error) {
	s, err := a.answer(q, a.keys[:0])
	a.keys = s.Keys
	return s, err
}

// answer is Set with the keys appended to keys (not nil, so that an
// empty answer lists no keys rather than none at all).
func (a *Affinity) answer(q Question, keys []string) (Set, error) {
	bm, err := a.X.Eval(a.exprs[q])
	if err != nil {
		return Set{Keys: keys}, err
	}
	st := a.X.Stats(string(q), bm)
	return Set{Keys: a.X.AppendSortedKeys(keys, bm), Customers: st.Customers, Spend: st.Revenue}, nil
}

// Stats returns the count and net spend of the customers of q, without
// their keys: the timed form of QCouponStats.
func (a *Affinity) Stats(q Question) (Set, error) {
	bm, err := a.X.Eval(a.exprs[q])
	if err != nil {
		return Set{}, err
	}
	st := a.X.Stats(string(q), bm)
	return Set{Customers: st.Customers, Spend: st.Revenue}, nil
}

// Cells returns the count and net spend of each R×F cell; with keys it
// also lists the cells' customers. Without keys it is the timed form of
// QRFM: Index.ScoreGrid sums the 25 cells in one pass over the stored R
// and F scores, as SQL's GROUP BY r, f does over a table that holds them.
// With keys, the five R and five F bands are evaluated and each cell's
// customers are their intersection.
func (a *Affinity) Cells(keys bool) ([5][5]Set, error) {
	var out [5][5]Set
	cells, err := a.X.ScoreGrid(segment.RScore(), segment.FScore(), nil)
	if err != nil {
		return out, err
	}
	for r := range 5 {
		for f := range 5 {
			out[r][f] = Set{Customers: cells[r][f].Customers, Spend: cells[r][f].Revenue}
		}
	}
	if !keys {
		return out, nil
	}
	var rs, fs [5]*roaring.Bitmap
	for i := range 5 {
		if rs[i], err = a.X.Eval(segment.RScore().EQ(float64(i + 1))); err != nil {
			return out, err
		}
		if fs[i], err = a.X.Eval(segment.FScore().EQ(float64(i + 1))); err != nil {
			return out, err
		}
	}
	for r := range 5 {
		for f := range 5 {
			out[r][f].Keys = a.X.SortedKeys(roaring.And(rs[r], fs[f]))
		}
	}
	return out, nil
}

// Answers answers every question.
func (a *Affinity) Answers() (*Answers, error) {
	ans := &Answers{Sets: map[Question]Set{}}
	for _, q := range []Question{QShare, QRecent, QCoupon} {
		s, err := a.Set(q)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", q, err)
		}
		ans.Sets[q] = s
	}
	s, err := a.Stats(QCouponStats)
	if err != nil {
		return nil, err
	}
	ans.Sets[QCouponStats] = s
	if ans.RFM, err = a.Cells(true); err != nil {
		return nil, err
	}
	return ans, nil
}
