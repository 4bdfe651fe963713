package recommend

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/blas/blas32"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/topk"
	"github.com/shopaffinity/affinity/similarity"
)

// per-product flags of a scratch
const (
	fExcl   uint16 = 1 << iota // never return: bought, in the basket, excluded
	fPicked                    // already in the results
	fDue                       // consumable due again
	fBlend                     // already a candidate through the popularity blend
	fTouch                     // scored (signed models, where a score may be 0 or negative)
	fBan                       // excluded by the request's rules: never returned
	fRepeat                    // a repeat candidate of next-basket mode
	fTaste                     // personalisation gave it more of its score than its co-purchases
	fOnly                      // listed in the request's Rules.Only
)

type cand struct {
	p affinity.ProductID
	s float32
}

// better orders candidates by score descending, then product id ascending.
func better(a, b cand) int { return cmp.Or(cmp.Compare(b.s, a.s), cmp.Compare(a.p, b.p)) }

type histItem struct {
	p      affinity.ProductID
	w      float32 // anchor weight
	last   int64   // last purchase, Unix seconds
	first  int64   // first purchase, Unix seconds
	rep    float32 // next-basket repeat weight: Σ 2^(−age/NextBasket.HalfLife)
	n      uint32  // purchases: orders holding it, and ratings
	ord    uint32  // the order + 1 last counted (0: none), so that an order's lines of it are one purchase
	lo     uint32  // first edge, set when scored
	ne     uint32  // edges scored
	dim    int16   // see prodHot.dim, set when scored
	anchor bool
	basket bool
}

type capCount struct {
	cat affinity.CategoryID
	n   int
}

// scratch is the per-call memory: dense arrays over products that are
// reset through the touched and dirty lists, so a call costs what it
// touches, not the catalog size.
type scratch struct {
	// seg, when set, is the favourites of the request's Segment,
	// computed once for every customer of a RecommendAll
	seg     *segPop
	acc     []float32
	flag    []uint16
	hpos    posMap // 1 + index into items
	rpos    posMap // 1 + index of a result
	touched []affinity.ProductID
	dirty   []affinity.ProductID
	items   []histItem
	cand    []cand
	due     []cand
	catMark []bool
	cats    []affinity.CategoryID
	u       []float32
	taste   blas32.Vector // the request's taste vector (on u); N = 0 without
	caps    []capCount
	boosts  []int
	simMax  []float32
	best    []bestEdge
	top     topk.Keys
	// the request's filters: Rules.Only (products marked fOnly, listed
	// once each in onlyIDs) and Rules.Category (in at depth inDepth)
	only    bool
	onlyIDs []affinity.ProductID
	keys    []uint64 // popularOnly's sort keys
	inCat   affinity.CategoryID
	inDepth int // 0: no category filter
}

// sortCand sorts s.cand like better (score descending, then id) through
// the packed keys of internal/topk.
func (s *scratch) sortCand() {
	if len(s.cand) < 2 {
		return
	}
	s.top.Reset(len(s.cand))
	for _, c := range s.cand {
		s.top.PushKey(topk.Pack(c.s, uint32(c.p)))
	}
	s.takeTop()
}

// takeTop replaces s.cand by the keys kept in s.top, best first.
func (s *scratch) takeTop() {
	s.cand = s.cand[:0]
	for _, k := range s.top.Sorted() {
		v, p := topk.Unpack(k)
		s.cand = append(s.cand, cand{p: affinity.ProductID(p), s: v})
	}
}

func (e *Engine) newScratch() *scratch {
	return &scratch{
		acc:     make([]float32, e.np),
		flag:    make([]uint16, e.np),
		catMark: make([]bool, e.cat.NumCategories()),
		u:       make([]float32, e.dims),
	}
}

// touch adds p to the touched list unless it has a score already: scores
// are positive once touched (weights are floored above zero), so acc
// doubles as the membership flag and the hot loop reads one array.
func (s *scratch) touch(p affinity.ProductID) {
	if s.acc[p] == 0 {
		s.touched = append(s.touched, p)
	}
}

func (s *scratch) mark(p affinity.ProductID, f uint16) {
	s.dirty = append(s.dirty, p)
	s.flag[p] |= f
}

func (s *scratch) resetScores() {
	for _, p := range s.touched {
		s.acc[p] = 0
	}
	s.touched = s.touched[:0]
}

func (s *scratch) reset() {
	s.resetScores()
	for _, p := range s.dirty {
		s.acc[p], s.flag[p] = 0, 0
	}
	s.hpos.reset()
	s.rpos.reset()
	for _, c := range s.cats {
		s.catMark[c] = false
	}
	s.dirty, s.items, s.cand, s.due, s.cats, s.caps, s.boosts = s.dirty[:0], s.items[:0], s.cand[:0], s.due[:0], s.cats[:0], s.caps[:0], s.boosts[:0]
	s.onlyIDs = s.onlyIDs[:0]
	s.only, s.inDepth = false, 0
}

// Recommend appends up to req.K recommendations to dst and returns the
// extended slice (pass dst[:0] to reuse a buffer; with enough capacity a
// call does not allocate, except for an ad-hoc Request.Segment, whose
// favourites it counts). Results come in rank order, the order to show
// (see [Rec.Score]): the co-purchase part (Rebuy, Neighbors, Repeat in
// next-basket mode, and Popular where a candidate had no co-purchase
// evidence above chance) by score, re-ordered by MMR when
// Rules.Diversity is set, then the SegmentPopular and Popular fallbacks by
// popularity; ties by product id. Fewer than K results come back only
// when the catalog has fewer eligible products, or Rules.MaxPerCategory
// leaves fewer: then every eligible product left out is in a category
// that is full. Errors (dst returned
// unchanged): K outside [1, MaxK] or a rule out of range
// (ErrInvalidRequest), an unknown product id in Basket, Items,
// Rules.Exclude or Rules.Only (ErrUnknownProduct), an unknown
// Rules.Category (ErrUnknownCategory). It is safe for concurrent use.
func (e *Engine) Recommend(dst []Rec, req Request) ([]Rec, error) {
	c, known := affinity.NoCustomer, false
	switch {
	case req.ByID:
		c, known = req.CustomerID, int(req.CustomerID) < e.h.NumCustomers()
	case req.Customer != "":
		c, known = e.h.LookupCustomer(req.Customer)
	}
	return e.recommend(dst, &req, c, known)
}

func (e *Engine) recommend(dst []Rec, req *Request, c affinity.CustomerID, known bool) ([]Rec, error) {
	if err := checkRequest(req); err != nil {
		return dst, err
	}
	s := e.pool.Get().(*scratch)
	// a panic in run skips the Put: the pool never gets back a scratch
	// holding half a request's marks and scores
	out, err := e.run(s, dst, req, c, known)
	s.reset()
	e.pool.Put(s)
	if err != nil {
		return dst, err
	}
	return out, nil
}

func checkRequest(req *Request) error {
	if req.K <= 0 || req.K > MaxK {
		return fmt.Errorf("%w: k = %d, want 1 ≤ k ≤ %d", ErrInvalidRequest, req.K, MaxK)
	}
	return req.Rules.Check()
}

// Check reports a rule out of its range, wrapping ErrInvalidRequest: a
// negative price bound or MinPrice above a non-zero MaxPrice, Diversity
// outside [0, 1] (NaN included), a negative MaxPerCategory or
// CategoryDepth. Names unknown to an engine are not checked here.
func (r *Rules) Check() error {
	switch {
	case r.MinPrice < 0 || r.MaxPrice < 0:
		return fmt.Errorf("%w: %s: a negative bound", ErrInvalidRequest, priceBand(r.MinPrice, r.MaxPrice))
	case r.MaxPrice > 0 && r.MinPrice > r.MaxPrice:
		return fmt.Errorf("%w: %s: MinPrice above MaxPrice", ErrInvalidRequest, priceBand(r.MinPrice, r.MaxPrice))
	case !(r.Diversity >= 0 && r.Diversity <= 1):
		return fmt.Errorf("%w: diversity %v outside [0, 1]", ErrInvalidRequest, r.Diversity)
	case r.MaxPerCategory < 0:
		return fmt.Errorf("%w: negative MaxPerCategory %d", ErrInvalidRequest, r.MaxPerCategory)
	case r.CategoryDepth < 0:
		return fmt.Errorf("%w: negative CategoryDepth %d", ErrInvalidRequest, r.CategoryDepth)
	}
	return nil
}

// priceBand describes the band of MinPrice lo and MaxPrice hi for a
// message, a zero bound as none.
func priceBand(lo, hi affinity.Money) string {
	switch {
	case hi == 0:
		return fmt.Sprintf("price band from %v with no maximum", lo)
	case lo == 0:
		return fmt.Sprintf("price band up to %v with no minimum", hi)
	}
	return fmt.Sprintf("price band from %v to %v", lo, hi)
}

// job is the state of one request as it passes the stages of run.
type job struct {
	req      *Request
	r        *Rules
	c        affinity.CustomerID
	known    bool
	asOf     int64
	st       *stockSet
	hsum     float32 // the customer's history weight (relative, see history)
	hscale   float64 // the factor that makes hsum absolute
	nb       int     // distinct basket products
	personal bool
	rerank   bool
	m        int // candidates kept for the re-ranking stages
	lambda   float32
	prior    []float32
	// how rescore scaled the explore candidates, for the explore part of
	// the customer's own items in next-basket mode (see Engine.usual)
	blendA float32 // (1−λ)/max s when blended with popularity, else 0
	smax   float32 // the best candidate's score before scaling
}

// requestAsOf returns the as-of time of req in Unix seconds: its AsOf,
// else the engine's.
func (e *Engine) requestAsOf(req *Request) int64 {
	if !req.AsOf.IsZero() {
		return req.AsOf.Unix()
	}
	return e.asOf
}

// run serves one request: a pipeline of stages, each of a screen, that
// share the scratch s. dst is returned extended by at most K results.
func (e *Engine) run(s *scratch, dst []Rec, req *Request, c affinity.CustomerID, known bool) ([]Rec, error) {
	j := &job{req: req, r: &req.Rules, c: c, known: known, asOf: e.requestAsOf(req), st: e.stock.Load(), hscale: 1}
	if err := e.anchors(s, j); err != nil {
		return dst, err
	}
	e.budget(s, j)
	e.score(s, j)
	e.plan(s, j)
	e.selectTop(s, j)
	e.rescore(s, j)
	e.addOwn(s, j)
	if j.r.Diversity > 0 {
		e.mmr(s, req.K, float32(j.r.Diversity))
	}
	base := len(dst)
	dst = e.emit(s, j, dst)
	e.explain(s, dst[base:], j.asOf)
	if len(dst)-base < req.K {
		dst = e.fallback(s, dst, base, req, c, known, j.st, j.asOf)
	}
	return dst, nil
}

// resolveRules looks up the products and the category r names,
// reporting the first the catalog does not know, and, with a scratch,
// marks them there for the request: excluded, in Only, the category
// filter. Without one it only checks the names (RecommendAll with no
// customer to run).
func (e *Engine) resolveRules(s *scratch, r *Rules) error {
	for _, key := range r.Exclude {
		p, ok := e.cat.LookupProduct(key)
		if !ok {
			return fmt.Errorf("%w: excluded product %q", ErrUnknownProduct, key)
		}
		if s != nil {
			s.mark(p, fExcl|fBan)
		}
	}
	for _, key := range r.Only {
		p, ok := e.cat.LookupProduct(key)
		if !ok {
			return fmt.Errorf("%w: product %q in Only", ErrUnknownProduct, key)
		}
		if s != nil {
			if s.flag[p]&fOnly == 0 {
				s.onlyIDs = append(s.onlyIDs, p)
			}
			s.mark(p, fOnly)
		}
	}
	if r.Category == "" {
		return nil
	}
	c, ok := e.cat.LookupCategory(r.Category)
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownCategory, r.Category)
	}
	if s != nil {
		s.inCat, s.inDepth = c, e.cat.Depth(c)
	}
	return nil
}

// anchors collects the request's anchors: rule exclusions, the
// customer's history (as of the request), the basket with its weight.
func (e *Engine) anchors(s *scratch, j *job) error {
	r := j.r
	if err := e.resolveRules(s, r); err != nil {
		return err
	}
	s.only = len(r.Only) > 0
	if j.known {
		j.hsum, j.hscale = e.history(s, j.c, j.asOf, r.AllowRepeats)
	}
	j.personal = j.hsum > 0 && e.dims > 0 && e.o.Personalization > 0
	for _, key := range j.req.Basket {
		p, ok := e.cat.LookupProduct(key)
		if !ok {
			return fmt.Errorf("%w: basket product %q", ErrUnknownProduct, key)
		}
		j.nb += e.addBasket(s, p, !r.AllowSubstitutes)
	}
	for _, p := range j.req.Items {
		if int(p) >= e.np {
			return fmt.Errorf("%w: basket product id %d", ErrUnknownProduct, p)
		}
		j.nb += e.addBasket(s, p, !r.AllowSubstitutes)
	}
	if j.nb > 0 {
		// max(1, H/n) in absolute weights, where H = hsum·hscale; in the
		// history's relative weights, max(1/hscale, hsum/n), bounded so
		// that the sums stay finite (a basket that outweighs the history
		// a trillion times over outweighs it)
		bw := float32(min(max(1/j.hscale, float64(j.hsum)/float64(j.nb)), 1e12*float64(j.hsum+1)))
		for i := range s.items {
			if s.items[i].basket {
				s.items[i].w += bw
			}
		}
	}
	normalizeAnchors(s.items)
	return nil
}

// maxAnchorWeight and leastWeight bound the anchors' weights of a
// request, so that its sums of anchor weight × edge weight stay positive
// and finite (see maxWeight).
const (
	maxAnchorWeight = 1 << 20
	leastWeight     = 1e-30
)

// normalizeAnchors scales the anchors' weights to at most 1 when the
// largest is beyond maxAnchorWeight (a cart against a history faded for
// years weighs up to 10¹² times the history), and raises positive ones
// to at least leastWeight, the weight of a purchase older than 99
// half-lives (see decay). Scores do not depend on the weights' scale:
// they are divided by the best candidate's, and the edge budget is
// shared out in proportion.
func normalizeAnchors(items []histItem) {
	wmax, wmin := float32(0), float32(math.MaxFloat32)
	for i := range items {
		if w := items[i].w; w > 0 {
			wmax, wmin = max(wmax, w), min(wmin, w)
		}
	}
	if wmax <= maxAnchorWeight && wmin >= leastWeight {
		return // the usual case
	}
	for i := range items {
		it := &items[i]
		if it.w <= 0 {
			continue
		}
		if wmax > maxAnchorWeight {
			it.w /= wmax
		}
		it.w = max(it.w, leastWeight)
	}
}

// budget shares out the MaxEdges edges of a request among the anchors,
// in proportion to their weights (at least MinEdges each).
func (e *Engine) budget(s *scratch, j *job) {
	nb := j.nb
	var wsum float32
	for i := range s.items {
		wsum += s.items[i].w
	}
	// First read every anchor's hot record and share out the edge budget,
	// basket products first: independent loads, so their cache misses
	// overlap instead of queueing behind the edge loops.
	budget := e.o.MaxEdges
	for pass := range 2 {
		if pass == 0 && nb == 0 {
			continue // no basket
		}
		for i := range s.items {
			it := &s.items[i]
			if it.w == 0 || it.basket != (pass == 0) {
				continue
			}
			ph := e.hot[it.p]
			it.dim, it.lo = ph.dim, ph.lo
			n := int(ph.n)
			if e.o.MaxEdges != math.MaxInt32 { // MaxEdges < 0: no bound, every edge
				n = min(n, budget, max(MinEdges, int(float32(e.o.MaxEdges)*it.w/wsum+0.5)))
			}
			if n > 0 {
				budget -= n
				it.ne = uint32(n)
			}
		}
	}
}

// score sums the anchors' edges into s.acc (the hot loop) and applies
// the popularity prior of the request's kind.
func (e *Engine) score(s *scratch, j *job) {
	for i := range s.items {
		it := &s.items[i]
		if it.ne == 0 {
			continue
		}
		lo, hi := it.lo, it.lo+it.ne
		nbr, w := e.nbr[lo:hi], e.w[lo:hi]
		if e.signed {
			// a sum of signed weights may pass through 0: membership by flag
			for j, q := range nbr {
				if s.flag[q]&fTouch == 0 {
					s.mark(q, fTouch)
					s.touched = append(s.touched, q)
				}
				s.acc[q] += it.w * w[j]
			}
			continue
		}
		for j, q := range nbr {
			v := s.acc[q]
			if v == 0 {
				s.touched = append(s.touched, q)
			}
			s.acc[q] = v + it.w*w[j]
		}
	}
	if e.signed {
		// only positive evidence ranks
		s.touched = slices.DeleteFunc(s.touched, func(p affinity.ProductID) bool {
			if s.acc[p] > 0 {
				return false
			}
			s.acc[p] = 0
			return true
		})
	}

	// the popularity prior and blend of the request's kind
	prior, lambda := e.priorB, float32(e.o.BasketPopularityBlend)
	if j.hsum > 0 {
		prior, lambda = e.prior, float32(e.o.PopularityBlend)
	}
	j.prior, j.lambda = prior, lambda
	if prior != nil {
		for _, p := range s.touched {
			// bounded: a prior below 2⁶⁴ times sums below 10²⁶ (see
			// maxWeight) may pass float32's range
			s.acc[p] = min(s.acc[p]*prior[p], maxScore)
		}
	}

}

// plan decides the boosts that apply and how many candidates the
// re-ranking stages need.
func (e *Engine) plan(s *scratch, j *job) {
	for i, b := range e.boosts {
		if b.customers == nil || (j.known && b.customers.Contains(uint32(j.c))) {
			s.boosts = append(s.boosts, i)
		}
	}
	r := j.r
	j.rerank = j.personal || len(s.boosts) > 0 || r.Diversity > 0 || r.MaxPerCategory > 0
	j.m = j.req.K
	if j.rerank {
		j.m = max(2*j.req.K, 20)
	}
	if r.MaxPerCategory > 0 || len(s.boosts) > 0 {
		// every candidate: a cap skips results in order, and a boost may
		// lift one from anywhere, so no cut may come first
		j.m = max(j.m, len(s.touched))
	}
}

// selectTop keeps the m best eligible candidates in s.cand, best first,
// blended with popularity when the request's blend is on.
func (e *Engine) selectTop(s *scratch, j *job) {
	m, r, st, lambda := j.m, j.r, j.st, j.lambda
	s.top.Reset(m)
	if lambda > 0 && len(s.touched) > 0 {
		// interpolate with popularity: (1−λ)·s/max s + λ·pop/max pop, the
		// m most popular products joining the candidates. They go first,
		// so that the selection's bar is high before the long tail is
		// scanned.
		var amax float32
		for _, p := range s.touched {
			amax = max(amax, s.acc[p])
		}
		a := (1 - lambda) / amax
		j.blendA = a
		for _, p := range e.popOrder[:min(len(e.popOrder), m)] {
			s.mark(p, fBlend)
			if s.flag[p]&(fExcl|fDue) != 0 || !e.eligible(s, st, r, p) {
				continue
			}
			s.top.Push(a*s.acc[p]+lambda*e.popNorm[p], uint32(p))
		}
		for _, p := range s.touched {
			v := a * s.acc[p]
			if v+lambda < s.top.Floor {
				continue // cannot make it even as the most popular product
			}
			key := topk.Pack(v+lambda*e.popNorm[p], uint32(p))
			if s.top.Rejects(key) {
				continue
			}
			if s.flag[p]&(fExcl|fDue|fBlend) != 0 || !e.eligible(s, st, r, p) {
				continue
			}
			s.top.PushKey(key)
		}
	} else {
		for _, p := range s.touched {
			// the score test first: acc[p] is in cache, flag[p] may not be
			key := topk.Pack(s.acc[p], uint32(p))
			if s.top.Rejects(key) {
				continue
			}
			if s.flag[p]&(fExcl|fDue) != 0 || !e.eligible(s, st, r, p) {
				continue
			}
			s.top.PushKey(key)
		}
	}
	s.takeTop()
}

// rescore scales the candidates to [0, 1] and applies personalisation
// and boosts.
func (e *Engine) rescore(s *scratch, j *job) {
	s.taste = blas32.Vector{}
	if len(s.cand) == 0 {
		return
	}
	j.smax = s.cand[0].s
	if j.personal {
		s.taste = e.customerVector(s)
	}
	if s.taste.N == 0 && len(s.boosts) == 0 { // no taste, no boost: scaling alone
		for i := range s.cand {
			s.cand[i].s /= j.smax
		}
		return
	}
	for i := range s.cand {
		x := &s.cand[i]
		var taste bool
		x.s, taste = e.usual(s, j, x.p, x.s)
		if taste {
			s.mark(x.p, fTaste)
		}
	}
}

// usual returns the engine's usual score of product p from its raw
// candidate score (the co-purchase score, blended with popularity when
// the request is): scaled by the best candidate's, personalised, boosted;
// taste reports that personalisation outweighs co-purchase.
func (e *Engine) usual(s *scratch, j *job, p affinity.ProductID, raw float32) (v float32, taste bool) {
	v = min(raw/j.smax, 1) // above 1 only for an own item, no candidate
	if s.taste.N > 0 {
		beta := float32(e.o.Personalization)
		nb, pers := (1-beta)*v, beta*e.cosine(s.taste, p)
		v, taste = nb+pers, pers > nb
	}
	return e.boosted(s, p, v), taste
}

// boosted returns v times the factors of the request's boosts that apply
// to p.
func (e *Engine) boosted(s *scratch, p affinity.ProductID, v float32) float32 {
	for _, bi := range s.boosts {
		if b := &e.boosts[bi]; b.products[p>>6]&(1<<(p&63)) != 0 {
			// bounded, so that boosts that compound stay finite
			v = min(v*b.factor, maxBoosted)
		}
	}
	return v
}

// maxBoosted bounds a boosted score (see [Boost]).
const maxBoosted = 1e30

// maxScore bounds a raw co-purchase score times its popularity prior.
const maxScore = 1e38

// exploreRaw is product p's raw candidate score as selectTop computes it:
// blended with popularity when the request is.
func (e *Engine) exploreRaw(s *scratch, j *job, p affinity.ProductID) float32 {
	if j.blendA > 0 {
		return j.blendA*s.acc[p] + j.lambda*e.popNorm[p]
	}
	return s.acc[p]
}

// addOwn adds the customer's own products: due consumables and, in
// next-basket mode, repeat candidates; then sorts when scores moved.
func (e *Engine) addOwn(s *scratch, j *job) {
	for _, d := range s.due {
		// due consumables rank with the strongest complement, boosted as
		// the complements are
		if s.flag[d.p]&fBan == 0 && e.eligible(s, j.st, j.r, d.p) {
			s.cand = append(s.cand, cand{p: d.p, s: e.boosted(s, d.p, 1)})
		}
	}
	nrep := 0
	if e.nbAlpha > 0 && j.known {
		nrep = e.repeats(s, j)
	}
	if j.rerank || len(s.due) > 0 || nrep > 0 {
		s.sortCand()
	}
}

// emit appends up to K candidates within the category caps, each with
// its source.
func (e *Engine) emit(s *scratch, j *job, dst []Rec) []Rec {
	base, req, r := len(dst), j.req, j.r
	for _, x := range s.cand {
		if len(dst)-base == req.K {
			break
		}
		if !e.capOK(s, r, x.p) {
			continue
		}
		src := Neighbors
		switch f := s.flag[x.p]; {
		case f&fDue != 0:
			src = Rebuy
		case f&fRepeat != 0:
			src = Repeat
		}
		dst = e.appendRec(s, dst, x.p, x.s, src)
	}
	return dst
}

func (e *Engine) appendRec(s *scratch, dst []Rec, p affinity.ProductID, score float32, src Source) []Rec {
	s.mark(p, fPicked)
	dst = append(dst, Rec{Product: p, Key: e.cat.ProductKey(p), Score: float64(score), Source: src})
	return dst
}

// history adds the customer's purchases and events up to asOf as anchors
// (most recent first, at most MaxHistory distinct products), marks bought
// products as excluded and finds due consumables. It returns the sum of
// the anchor weights and the factor that makes them absolute.
//
// The weights are 2^(−age/HalfLife) measured from the customer's newest
// purchase or event, not from asOf: 1 for the newest. That multiplies
// every weight by the same factor, 2^(−(asOf−newest)/HalfLife) (the
// second result), which changes no ranking, while weights measured from
// asOf would all fall to the float floor of decay once a customer has
// been away a hundred half-lives, and rank the history without regard to
// its order. Only the weight of a request's basket, which is measured
// against the history's absolute weight, needs the factor.
func (e *Engine) history(s *scratch, c affinity.CustomerID, asOf int64, allowRepeats bool) (sum float32, scale float64) {
	h := e.h
	olo, ohi := h.CustomerOrders(c)
	o := ohi
	for o > olo && h.OrderUnix(o-1) > asOf {
		o--
	}
	elo, ehi := h.CustomerEvents(c)
	// the newest anchor at or before asOf: an order with a bought line of
	// merchandise, or an event that weighs (a return, non-merchandise or an
	// unweighted view is none)
	ref := int64(math.MinInt64)
	for r := o; r > olo && ref == math.MinInt64; r-- {
		lo, hi := h.OrderLines(r - 1)
		for i := lo; i < hi; i++ {
			if h.LineQuantity(i) > 0 && !e.excluded(h.LineProduct(i)) {
				ref = h.OrderUnix(r - 1)
				break
			}
		}
	}
	for i := ehi - 1; i >= elo; i-- { // newest first
		ev := h.Event(i)
		if ev.Unix <= ref {
			break // no older event is newer than the purchase
		}
		if ev.Unix <= asOf && ev.Kind.Valid() && (e.ew[ev.Kind] != 0 || ev.Kind == affinity.Rating) && !e.excluded(ev.Product) {
			ref = ev.Unix
			break
		}
	}
	if ref == math.MinInt64 {
		return 0, 1
	}
	scale = math.Exp2(-float64(asOf-ref) / e.hl)
	// orders and events merged, newest first (an order before an event of
	// its second), so that the MaxHistory anchors are the most recent
	i := ehi
	for o > olo || i > elo {
		if i == elo || (o > olo && h.OrderUnix(o-1) >= h.Event(i-1).Unix) {
			o--
			t := h.OrderUnix(o)
			d := decay(ref-t, e.hl)
			var rd float32
			if e.nbAlpha > 0 {
				rd = decay(ref-t, e.nbHL)
			}
			lo, hi := h.OrderLines(o)
			for i := lo; i < hi; i++ {
				if h.LineQuantity(i) > 0 {
					e.addHist(s, h.LineProduct(i), d, rd, t, uint32(o)+1, true, allowRepeats)
				}
			}
			continue
		}
		i--
		ev := h.Event(i)
		if ev.Unix > asOf || !ev.Kind.Valid() {
			continue
		}
		w := e.ew[ev.Kind]
		if w == 0 && ev.Kind != affinity.Rating {
			continue
		}
		var rd float32
		if e.nbAlpha > 0 && ev.Kind == affinity.Rating {
			rd = decay(ref-ev.Unix, e.nbHL)
		}
		e.addHist(s, ev.Product, w*decay(ref-ev.Unix, e.hl), rd, ev.Unix, 0, ev.Kind == affinity.Rating, allowRepeats)
	}
	for i := range s.items {
		it := &s.items[i]
		sum += it.w
		if e.rebuy != nil && it.n > 0 && e.rebuy[it.p] > 0 && asOf-it.last >= e.rebuy[it.p] {
			s.mark(it.p, fDue)
			if s.flag[it.p]&fBan == 0 { // a due consumable the rules exclude stays excluded
				s.flag[it.p] &^= fExcl
			}
			s.due = append(s.due, cand{p: it.p, s: 1})
		}
	}
	return sum, scale
}

// addHist adds a purchase or event of p at t as an anchor of weight w
// (and repeat weight rw). ord is the order + 1 of a bought line, 0 for an
// event: the lines of one order that hold p are one purchase, counted
// once (as TIFU-KNN counts per basket), so that a product entered on two
// lines of an order neither weighs twice nor halves its interval.
func (e *Engine) addHist(s *scratch, p affinity.ProductID, w, rw float32, t int64, ord uint32, bought, allowRepeats bool) {
	if e.excluded(p) {
		return // non-merchandise: never an anchor, never a reason
	}
	pos := s.hpos.get(p)
	if pos == 0 {
		s.items = append(s.items, histItem{p: p, anchor: len(s.items) < e.o.MaxHistory})
		pos = int32(len(s.items))
		s.hpos.set(p, pos)
	}
	it := &s.items[pos-1]
	if ord != 0 {
		if it.ord == ord {
			return // another line of the order already counted
		}
		it.ord = ord
	}
	switch {
	case !it.anchor:
	case e.learned:
		// a learned model was fitted on binary rows: a product counts
		// once, with the weight of its latest purchase or event
		it.w = max(it.w, w)
	default:
		it.w += w
	}
	if bought {
		if it.n == 0 && !allowRepeats {
			s.mark(p, fExcl)
		}
		it.n++
		it.last = max(it.last, t)
		it.rep += rw
		if it.first == 0 || t < it.first {
			it.first = t
		}
	}
}

// addBasket adds p as a basket anchor (weights are set by the caller) and
// returns 1 if p is new to the basket.
func (e *Engine) addBasket(s *scratch, p affinity.ProductID, markSubs bool) int {
	if e.excluded(p) {
		return 0 // non-merchandise in the cart says nothing
	}
	pos := s.hpos.get(p)
	if pos == 0 {
		s.items = append(s.items, histItem{p: p, anchor: true})
		pos = int32(len(s.items))
		s.hpos.set(p, pos)
	}
	it := &s.items[pos-1]
	if it.basket {
		return 0
	}
	it.basket, it.anchor = true, true
	s.mark(p, fExcl)
	if s.flag[p]&fDue != 0 {
		s.flag[p] &^= fDue
		s.due = slices.DeleteFunc(s.due, func(c cand) bool { return c.p == p })
	}
	if markSubs {
		for _, cat := range e.subs(p) {
			if !s.catMark[cat] {
				s.catMark[cat] = true
				s.cats = append(s.cats, cat)
			}
		}
	}
	return 1
}

// eligible applies the per-product rules: stock, price band, substitutes
// of basket products.
func (e *Engine) eligible(s *scratch, st *stockSet, r *Rules, p affinity.ProductID) bool {
	if e.excluded(p) || (s.only && s.flag[p]&fOnly == 0) {
		return false
	}
	if s.inDepth > 0 && !e.inCategory(p, s.inCat, s.inDepth) {
		return false
	}
	if !r.IncludeOutOfStock && !st.has(p) {
		return false
	}
	if r.MinPrice > 0 || r.MaxPrice > 0 {
		// a product without a price (0) is outside any band
		pr := e.cat.ProductPrice(p)
		if pr == 0 || pr < r.MinPrice || (r.MaxPrice > 0 && pr > r.MaxPrice) {
			return false
		}
	}
	if len(s.cats) > 0 {
		for _, cat := range e.subs(p) {
			if s.catMark[cat] {
				return false
			}
		}
	}
	return true
}

// inCategory reports whether one of p's categories is c (at depth d) or
// below it.
func (e *Engine) inCategory(p affinity.ProductID, c affinity.CategoryID, d int) bool {
	for _, pc := range e.cat.Categories(p) {
		if e.cat.Depth(pc) >= d && e.cat.Ancestor(pc, d) == c {
			return true
		}
	}
	return false
}

// capCategory is the category that leaf counts toward under r's cap.
func (e *Engine) capCategory(r *Rules, leaf affinity.CategoryID) affinity.CategoryID {
	if r.CategoryDepth > 0 {
		return e.cat.Ancestor(leaf, r.CategoryDepth)
	}
	return leaf
}

// capOK counts p toward its category cap and reports whether it fits.
func (e *Engine) capOK(s *scratch, r *Rules, p affinity.ProductID) bool {
	if r.MaxPerCategory <= 0 {
		return true
	}
	leaves := e.cat.Categories(p)
	if len(leaves) == 0 {
		return true
	}
	// p counts toward each of its categories (at CategoryDepth), and
	// fits when every one of them has room
	for _, leaf := range leaves {
		cat := e.capCategory(r, leaf)
		for i := range s.caps {
			if s.caps[i].cat == cat && s.caps[i].n >= r.MaxPerCategory {
				return false
			}
		}
	}
next:
	for j, leaf := range leaves {
		cat := e.capCategory(r, leaf)
		for _, l := range leaves[:j] {
			if e.capCategory(r, l) == cat {
				continue next // two of p's categories with one ancestor count once
			}
		}
		for i := range s.caps {
			if s.caps[i].cat == cat {
				s.caps[i].n++
				continue next
			}
		}
		s.caps = append(s.caps, capCount{cat: cat, n: 1})
	}
	return true
}

// customerVector builds the L2-normalised category-affinity vector of the
// anchors in s.u; N is 0 when the anchors have no profiled category.
func (e *Engine) customerVector(s *scratch) blas32.Vector {
	u := s.u[:e.dims]
	clear(u)
	for _, it := range s.items {
		switch {
		case it.w == 0 || it.dim == -1:
		case it.dim >= 0:
			u[it.dim] += it.w
		default:
			for j := e.pdimOff[it.p]; j < e.pdimOff[it.p+1]; j++ {
				u[e.pdim[j]] += it.w * e.pdimW[j]
			}
		}
	}
	v := blas32.Vector{N: e.dims, Inc: 1, Data: u}
	n := blas32.Nrm2(v)
	if !(n > 0) {
		return blas32.Vector{}
	}
	blas32.Scal(1/n, v)
	return v
}

// similar returns the similarity of two products for MMR: 1 for
// substitutes, else the cosine of their buyer-category profiles.
func (e *Engine) similar(a, b affinity.ProductID) float32 {
	if e.same(a, b) {
		return 1
	}
	if e.dims == 0 {
		return 0
	}
	return blas32.Dot(e.row(a), e.row(b))
}

// mmr reorders the first k places of s.cand by maximal marginal relevance.
func (e *Engine) mmr(s *scratch, k int, lambda float32) {
	c := s.cand
	if len(c) < 2 {
		return
	}
	smax := c[0].s
	if !(smax > 0) {
		return
	}
	s.simMax = slices.Grow(s.simMax[:0], len(c))[:len(c)]
	clear(s.simMax)
	for i := range min(k, len(c)) {
		best, bv := i, float32(math.Inf(-1))
		for j := i; j < len(c); j++ {
			// ties by relevance, then id: at Diversity 1, where
			// relevance has no weight, the first place goes to the most
			// relevant candidate and not to the lowest id
			v := (1-lambda)*c[j].s/smax - lambda*s.simMax[j]
			if v > bv || (v == bv && better(c[j], c[best]) < 0) {
				best, bv = j, v
			}
		}
		c[i], c[best] = c[best], c[i]
		s.simMax[i], s.simMax[best] = s.simMax[best], s.simMax[i]
		for j := i + 1; j < len(c); j++ {
			s.simMax[j] = max(s.simMax[j], e.similar(c[i].p, c[j].p))
		}
	}
	// the swaps left the rest out of order: the results a category cap
	// takes in place of skipped ones come by score
	if k < len(c) {
		slices.SortFunc(c[k:], better)
	}
}

// explain fills the reasons of the co-purchase and re-buy results in recs.
// A first pass over the anchors' edges keeps, per result, the MaxReasons
// strongest (anchor, edge) pairs using only the hot edge arrays; only
// those are then turned into Reasons.
func (e *Engine) explain(s *scratch, recs []Rec, asOf int64) {
	if len(recs) == 0 {
		return
	}
	n := 0
	var bloom [16]uint64 // results by product id mod 1024: skips most edges in L1
	for i := range recs {
		if p := recs[i].Product; recs[i].Source == Neighbors {
			s.rpos.set(p, int32(i)+1)
			bloom[p>>6&15] |= 1 << (p & 63)
			n++
		}
	}
	if n > 0 {
		s.best = slices.Grow(s.best[:0], len(recs)*MaxReasons)[:len(recs)*MaxReasons]
		clear(s.best)
		for _, it := range s.items {
			if it.w == 0 {
				continue
			}
			lo := it.lo
			for j, q := range e.nbr[lo : lo+it.ne] {
				if bloom[q>>6&15]&(1<<(q&63)) == 0 {
					continue
				}
				ri := int(s.rpos.get(q)) - 1
				if ri < 0 || !(e.w[int(lo)+j] > 0) {
					continue // not a result
				}
				l, cnt := e.edgeEvidence(it.p, q, lo+uint32(j))
				if !(l >= 1) {
					continue // bought together less than chance: no reason
				}
				insertBest(s.best[ri*MaxReasons:(ri+1)*MaxReasons], bestEdge{w: it.w * e.w[int(lo)+j], lift: l, cnt: cnt, a: it.p, j: lo + uint32(j)})
			}
		}
	}
	for i := range recs {
		r := &recs[i]
		switch r.Source {
		case Neighbors:
			// the taste that placed it first, when personalisation gave it
			// more of its score than its co-purchases, then those; without
			// co-purchase evidence above chance it is a popularity result
			// (a fallback to a campaign that wants complements)
			first := uint8(0)
			if s.flag[r.Product]&fTaste != 0 {
				if node, share, ok := e.taste(s.u, r.Product); ok {
					r.because[0] = Reason{Kind: Taste, Product: r.Product, Category: node, Measure: share}
					first = 1
				}
			}
			r.nbecause = first
			for _, b := range s.best[i*MaxReasons : (i+1)*MaxReasons] {
				if b.w == 0 || r.nbecause == MaxReasons {
					break
				}
				inf := &e.info[b.j]
				rs := Reason{Kind: Together, Product: b.a, Count: b.cnt, Measure: inf.meas, Lift: b.lift, weight: b.w}
				if inf.kind&edgeTogether == 0 {
					rs.Kind = After
				}
				r.because[r.nbecause] = rs
				r.nbecause++
			}
			if r.nbecause == first {
				// placed by the popularity blend: no evidence above
				// chance; scored as the Popular fallbacks are
				r.Source = Popular
				r.nbecause, r.because[0] = 0, Reason{}
				r.Score = 0
				if top := e.pop[e.popOrder[0]]; top > 0 {
					r.Score = float64(e.pop[r.Product] / top)
				}
			}
		case Rebuy, Repeat:
			it := s.items[s.hpos.get(r.Product)-1]
			r.because[0] = Reason{Kind: Again, Product: r.Product, Count: it.n, Measure: float32(asOf-it.last) / 86400, Trend: e.rep.trendOf(r.Product)}
			r.nbecause = 1
		}
	}
}

type bestEdge struct {
	w    float32
	lift float32 // the edge's lift and count, computed once (Engine.edgeEvidence)
	cnt  uint32
	a    affinity.ProductID
	j    uint32
}

// edgeEvidence returns the lift and count a reason on the edge i, a→b,
// states: from Options.Evidence for a co-purchase edge when set, else
// from the index's counts.
func (e *Engine) edgeEvidence(a, b affinity.ProductID, i uint32) (float32, uint32) {
	if c := e.o.Evidence; c != nil && e.info[i].kind&edgeTogether != 0 {
		if int(a) >= c.NumProducts() || int(b) >= c.NumProducts() {
			return 0, 0 // not counted: no evidence
		}
		pc := c.PairCount(a, b)
		return float32(similarity.Lift.Score(pc)), uint32(pc.AB)
	}
	return e.edgeLift(a, i), e.info[i].cnt
}

// insertBest keeps b sorted by weight descending, then anchor ascending;
// empty slots have weight 0.
func insertBest(b []bestEdge, x bestEdge) {
	i := len(b)
	for i > 0 && (b[i-1].w == 0 || x.w > b[i-1].w || (x.w == b[i-1].w && x.a < b[i-1].a)) {
		i--
	}
	if i == len(b) {
		return
	}
	copy(b[i+1:], b[i:len(b)-1])
	b[i] = x
}
