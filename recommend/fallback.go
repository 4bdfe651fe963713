package recommend

import (
	"slices"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/topk"
)

// fallback fills dst up to req.K results from the segment's favourites
// (the requested segment, else the first precomputed segment containing
// the customer), then from the shop's popular products: under a
// Rules.Only list shorter than the catalog, from the listed ones alone,
// in the same order.
func (e *Engine) fallback(s *scratch, dst []Rec, base int, req *Request, c affinity.CustomerID, known bool, st *stockSet, asOf int64) []Rec {
	r := &req.Rules
	full := func() bool { return len(dst)-base >= req.K }
	switch {
	case req.Segment != nil && s.seg != nil: // computed once for RecommendAll
		dst = e.takeFavourites(s, dst, base+req.K, r, st, s.seg)
	case req.Segment != nil:
		s.resetScores()
		e.segmentScores(s, req.Segment, asOf)
		slices.SortFunc(s.cand, better)
		for _, x := range s.cand {
			if full() {
				break
			}
			dst = e.take(s, dst, r, st, x.p, x.s/s.cand[0].s, SegmentPopular)
		}
	case known:
		for i := range e.segs {
			sp := &e.segs[i]
			if sp.members.Contains(uint32(c)) {
				dst = e.takeFavourites(s, dst, base+req.K, r, st, sp)
				break
			}
		}
	}
	if len(e.popOrder) == 0 {
		return dst // an empty catalog
	}
	top := e.pop[e.popOrder[0]]
	order := e.popOrder
	if s.only && len(s.onlyIDs) < len(order) && !e.scanPopular {
		order = e.popularOnly(s)
	}
	for _, p := range order {
		if full() {
			break
		}
		v := float32(0)
		if top > 0 {
			v = e.pop[p] / top
		}
		dst = e.take(s, dst, r, st, p, v, Popular)
	}
	return dst
}

// popularOnly returns the products of Rules.Only in the order of
// e.popOrder (popularity descending, ties by product id), reordering
// s.onlyIDs: the popular fallback under a short Only list walks the
// list, O(len(Only)·log), instead of the catalog, with the same results.
func (e *Engine) popularOnly(s *scratch) []affinity.ProductID {
	s.keys = s.keys[:0]
	for _, p := range s.onlyIDs {
		s.keys = append(s.keys, topk.Pack(e.pop[p], uint32(p))) // popOrder's keys (see popularity.finish)
	}
	slices.Sort(s.keys)
	for i, k := range s.keys {
		s.onlyIDs[i] = affinity.ProductID(uint32(k))
	}
	return s.onlyIDs
}

// takeFavourites appends sp's favourites the rules allow until dst holds
// end results.
func (e *Engine) takeFavourites(s *scratch, dst []Rec, end int, r *Rules, st *stockSet, sp *segPop) []Rec {
	for j, p := range sp.order {
		if len(dst) >= end {
			break
		}
		dst = e.take(s, dst, r, st, p, sp.score[j]/sp.score[0], SegmentPopular)
	}
	return dst
}

// take appends p when the rules allow it.
func (e *Engine) take(s *scratch, dst []Rec, r *Rules, st *stockSet, p affinity.ProductID, score float32, src Source) []Rec {
	if s.flag[p]&(fExcl|fPicked) != 0 || !e.eligible(s, st, r, p) || !e.capOK(s, r, p) {
		return dst
	}
	return e.appendRec(s, dst, p, score, src)
}
