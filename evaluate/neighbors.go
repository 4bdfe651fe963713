package evaluate

import (
	"cmp"
	"context"
	"math"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/similarity"
)

// DefaultNeighbors is the default number of neighbours per product kept
// by [ItemNeighbors]; [EASE] keeps 500 weights per product by default,
// since truncating its rows costs accuracy.
const DefaultNeighbors = 200

const defaultEASENeighbors = 500

// ItemNeighbors is an item-neighbour recommender in the manner of SAR:
// a customer's score for product i is
//
//	score(i) = Σ_j a(j) · sim(j, i)
//
// over the products j the customer bought or rated in training (at or
// before the split's AsOf), where sim(j, i) is i's score among j's top
// neighbours by Measure ([similarity.NewIndex]) and a(j) the customer's
// affinity to j: 1 per order with a bought line of j (however many lines
// or units), plus the value of each rating of j, each term times
// 2^(−age/HalfLife) when HalfLife is positive (age measured from the
// split's AsOf). Other event kinds do not count. Products with a positive
// score are ranked by score, ties (equal computed scores) by id; sim is a
// float32, so scores equal only in exact arithmetic (3·⅓ and 5·⅕) may
// differ in their last bits. Nothing is added when the neighbours run
// out. Co-occurrences are counted over bought lines within
// customers (SAR's user-item co-occurrence), or within orders with
// BasketScope; rating data (a History with ratings and no orders) is
// counted within customers over its ratings.
type ItemNeighbors struct {
	// Measure ranks and weighs the neighbours; the zero value is Jaccard
	// (SAR's default).
	Measure similarity.Measure
	// BasketScope counts co-occurrences within orders instead of within
	// customers. It is ignored for rating data (ratings and no orders).
	BasketScope bool
	// K is the number of neighbours per product; default
	// [DefaultNeighbors].
	K int
	// MinSupport is the minimum co-count of a neighbour; default 1 (every
	// pair seen together, as SAR). Raise it for lift and PMI-like
	// measures on sparse data.
	MinSupport int
	// Shrinkage shrinks scores resting on few co-occurrences
	// ([similarity.Shrink]); 0 means none.
	Shrinkage float64
	// HalfLife, when positive, decays each interaction's weight with its
	// age: 2^(−age/HalfLife).
	HalfLife time.Duration

	scorer scorer
}

// Name returns "knn-" followed by the measure's name (and "-basket" with
// BasketScope), e.g. "knn-jaccard".
func (r *ItemNeighbors) Name() string {
	n := "knn-" + r.Measure.String()
	if r.BasketScope {
		n += "-basket"
	}
	return n
}

// Fit counts co-occurrences in train and builds the neighbour index.
func (r *ItemNeighbors) Fit(ctx context.Context, train *affinity.History, asOf time.Time) error {
	r.scorer = scorer{}
	if err := checkInput(ctx, train); err != nil {
		return err
	}
	counts, err := similarity.Count(ctx, train, asOf, countOptions(train, r.BasketScope))
	if err != nil {
		return err
	}
	idx, err := similarity.NewIndex(ctx, counts, similarity.IndexOptions{
		Measure:    r.Measure,
		K:          cmp.Or(r.K, DefaultNeighbors),
		MinSupport: cmp.Or(r.MinSupport, 1),
		Shrinkage:  r.Shrinkage,
	})
	if err != nil {
		return err
	}
	r.scorer.reset(train, idx, asOf, r.HalfLife, false)
	return nil
}

// Recommend appends c's top k products by neighbour score.
func (r *ItemNeighbors) Recommend(dst []affinity.ProductID, c affinity.CustomerID, k int, exclude func(affinity.ProductID) bool) []affinity.ProductID {
	return r.scorer.recommend(dst, c, k, exclude)
}

// EASE recommends with the learned item-item model of Steck (2019)
// ([similarity.FitEASE]): score(i) = Σ_j x(j)·W[j][i] over the customer's
// training products j up to the split's AsOf (x binary, as in the
// paper), W truncated to the K weights of largest magnitude per row,
// negative ones included (as [similarity.FitEASE] keeps them). The model
// is fitted on the customer × product matrix of bought lines (of ratings
// for rating data), or on the order × product matrix with BasketScope.
type EASE struct {
	// Lambda is the L2 regularisation; default [similarity.DefaultEASELambda].
	Lambda float64
	// K is the number of weights kept per product; default 500.
	K int
	// BasketScope fits on orders instead of customers (ignored for rating
	// data).
	BasketScope bool
	// MaxProducts caps the size of the dense fit (the most purchased
	// products; the others get co-occurrence neighbours); default
	// [similarity.DefaultEASEMaxProducts]. The fit takes O(n³) time.
	MaxProducts int

	scorer scorer
}

// Name returns "ease".
func (*EASE) Name() string { return "ease" }

// Fit solves the EASE model on train: O(n³) in the number of products n
// (capped by similarity.EASEOptions.MaxProducts).
func (r *EASE) Fit(ctx context.Context, train *affinity.History, asOf time.Time) error {
	r.scorer = scorer{}
	if err := checkInput(ctx, train); err != nil {
		return err
	}
	idx, err := similarity.FitEASE(ctx, train, asOf, similarity.EASEOptions{
		Count:       countOptions(train, r.BasketScope),
		Lambda:      r.Lambda,
		K:           cmp.Or(r.K, defaultEASENeighbors),
		MaxProducts: r.MaxProducts,
	})

	if err != nil {
		return err
	}
	r.scorer.reset(train, idx, asOf, 0, true)
	return nil
}

// Recommend appends c's top k products by EASE score.
func (r *EASE) Recommend(dst []affinity.ProductID, c affinity.CustomerID, k int, exclude func(affinity.ProductID) bool) []affinity.ProductID {
	return r.scorer.recommend(dst, c, k, exclude)
}

// countOptions counts bought lines within customers, or within orders
// with basket; rating data (ratings and no orders) is counted within
// customers over its ratings. Other events never count.
func countOptions(train *affinity.History, basket bool) similarity.CountOptions {
	if train.NumOrders() == 0 && hasRatings(train) {
		return similarity.CountOptions{Scope: similarity.Customer, Events: true, EventKinds: []affinity.EventKind{affinity.Rating}}
	}
	if basket {
		return similarity.CountOptions{Scope: similarity.Basket}
	}
	return similarity.CountOptions{Scope: similarity.Customer}
}

// hasRatings reports whether h holds rating events.
func hasRatings(h *affinity.History) bool {
	for c := range affinity.CustomerID(h.NumCustomers()) {
		lo, hi := h.CustomerEvents(c)
		for i := lo; i < hi; i++ {
			if h.Event(i).Kind == affinity.Rating {
				return true
			}
		}
	}
	return false
}

// scorer ranks products by Σ anchors weight × neighbour score, with dense
// scratch arrays reset through a touched list.
type scorer struct {
	train    *affinity.History
	index    *similarity.Index
	asOf     int64
	halfLife float64 // seconds; 0 for no decay
	binary   bool

	weight    []float64 // per product: the customer's affinity
	anchored  []uint32  // per product: anchorGen when an anchor of the current call
	anchorGen uint32
	anchors   []affinity.ProductID
	inOrder   []uint32 // per product: orderGen when bought in the current order
	orderGen  uint32
	score     []float64
	mark      []uint32 // per product: gen when touched by the current call
	gen       uint32
	touched   []affinity.ProductID
}

func (s *scorer) reset(train *affinity.History, idx *similarity.Index, asOf time.Time, halfLife time.Duration, binary bool) {
	np := train.Catalog().NumProducts()
	*s = scorer{train: train, index: idx, asOf: asOf.Unix(), halfLife: halfLife.Seconds(), binary: binary,
		weight: make([]float64, np), anchored: make([]uint32, np), score: make([]float64, np),
		mark: make([]uint32, np), inOrder: make([]uint32, np)}
}

// nextGen returns a new generation of a per-product stamp array, clearing
// the array when the counter wraps around.
func nextGen(gen *uint32, stamps []uint32) uint32 {
	if *gen++; *gen == 0 {
		clear(stamps)
		*gen = 1
	}
	return *gen
}

// anchor adds an interaction with p at unix of weight w to p's affinity.
func (s *scorer) anchor(p affinity.ProductID, unix int64, w float32) {
	if s.anchored[p] != s.anchorGen {
		s.anchored[p] = s.anchorGen
		s.anchors = append(s.anchors, p)
	}
	switch {
	case s.binary:
		s.weight[p] = 1
	case s.halfLife > 0:
		s.weight[p] += float64(w) * math.Exp2(-float64(s.asOf-unix)/s.halfLife)
	default:
		s.weight[p] += float64(w)
	}
}

// recommend appends c's top k products by Σ a(j)·score(j, i); k ≤ 0
// appends nothing. The affinities a(j) count each order with a bought
// line of j once, and each rating of j with its value, up to asOf.
func (s *scorer) recommend(dst []affinity.ProductID, c affinity.CustomerID, k int, exclude func(affinity.ProductID) bool) []affinity.ProductID {
	if s.train == nil || k <= 0 || int(c) >= s.train.NumCustomers() {
		return dst
	}
	nextGen(&s.anchorGen, s.anchored)
	s.anchors = s.anchors[:0]
	olo, ohi := s.train.CustomerOrders(c)
	for o := olo; o < ohi; o++ {
		unix := s.train.OrderUnix(o)
		if unix > s.asOf {
			continue
		}
		og := nextGen(&s.orderGen, s.inOrder)
		lo, hi := s.train.OrderLines(o)
		for i := lo; i < hi; i++ {
			if p := s.train.LineProduct(i); s.train.LineQuantity(i) > 0 && s.inOrder[p] != og {
				s.inOrder[p] = og
				s.anchor(p, unix, 1)
			}
		}
	}
	lo, hi := s.train.CustomerEvents(c)
	for i := lo; i < hi; i++ {
		if e := s.train.Event(i); interactionKinds.has(e.Kind) && e.Unix <= s.asOf {
			s.anchor(e.Product, e.Unix, e.Weight)
		}
	}
	s.touched = s.touched[:0]
	nextGen(&s.gen, s.mark)
	for _, a := range s.anchors {
		w := s.weight[a]
		s.weight[a] = 0
		for _, nb := range s.index.Neighbors(a) {
			p := nb.Product
			if s.mark[p] != s.gen {
				s.mark[p] = s.gen
				s.touched = append(s.touched, p)
			}
			s.score[p] += w * float64(nb.Score)
		}
	}
	// bounded insertion into the k best, score descending, ties by id
	from := len(dst)
	better := func(x, y affinity.ProductID) bool {
		return s.score[x] > s.score[y] || (s.score[x] == s.score[y] && x < y)
	}
	for _, p := range s.touched {
		if s.score[p] <= 0 || (len(dst)-from == k && !better(p, dst[len(dst)-1])) {
			continue
		}
		if exclude != nil && exclude(p) {
			continue
		}
		if len(dst)-from < k {
			dst = append(dst, p)
		} else {
			dst[len(dst)-1] = p
		}
		for i := len(dst) - 1; i > from && better(dst[i], dst[i-1]); i-- {
			dst[i], dst[i-1] = dst[i-1], dst[i]
		}
	}
	for _, p := range s.touched {
		s.score[p] = 0
	}
	return dst
}
