package recommend

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/similarity"
)

// The defaults of [Options]; doc.go explains how they were chosen.
const (
	DefaultHalfLife           = 30 * 24 * time.Hour
	DefaultPopularHalfLife    = 90 * 24 * time.Hour
	DefaultSequentialWeight   = 0.5
	DefaultSubstitutePenalty  = 1.0
	DefaultLiftExponent       = 0.0
	DefaultPopularityExponent = 0.25
	DefaultPersonalization    = 0.4
	DefaultProfileDepth       = 2
	DefaultMaxHistory         = 100
	DefaultMaxEdges           = 500
	DefaultPopularityBlend    = 0.0
	// DefaultBasketPopularityExponent and DefaultBasketPopularityBlend
	// are the defaults of requests without a customer history.
	DefaultBasketPopularityExponent = 0.75
	DefaultBasketPopularityBlend    = 0.2
	// MinEdges is the number of edges every anchor may use while the
	// MaxEdges budget lasts.
	MinEdges              = 8
	DefaultViewWeight     = 0.1
	DefaultCartWeight     = 0.3
	DefaultWishlistWeight = 0.3
	DefaultRatingWeight   = 1.0
	// MaxK is the largest K a request may ask for.
	MaxK = 1000
	// MaxWorkers is the largest Options.Workers.
	MaxWorkers = 1024
	// MaxProfileDims caps the dimension of the category-affinity vectors:
	// when the profile depth has more category nodes, the ones with the
	// most buyers up to the engine's as-of time (History.CategoryBuyerCount
	// counted at that time) are kept, ties to the lower category id.
	MaxProfileDims = 32
)

// Sentinel errors; test with errors.Is.
var (
	// ErrInvalidRequest is returned (wrapped) for a request that cannot be
	// served: K ≤ 0 or K > MaxK, a negative price bound or MinPrice above
	// a non-zero MaxPrice, Diversity outside [0, 1] (NaN included), a
	// negative MaxPerCategory or CategoryDepth; and by
	// [Engine.RecommendAll] for a request naming a customer or a basket.
	ErrInvalidRequest = errors.New("recommend: invalid request")
	// ErrUnknownProduct is returned (wrapped, naming the id) when a
	// basket, exclude or only list names a product the engine's catalog
	// does not know.
	ErrUnknownProduct = errors.New("recommend: unknown product")
	// ErrUnknownCategory is returned (wrapped, naming the path) for a
	// Rules.Category the engine's catalog does not know.
	ErrUnknownCategory = errors.New("recommend: unknown category")
	// ErrInvalidOptions is returned (wrapped, naming the field) by [New]
	// for options that have no meaning: NaN or infinite weights and
	// exponents, exponents above MaxPopularityExponent, negative
	// half-lives, NextBasket values outside their ranges, Consumables on
	// unknown categories or with bad intervals, Boost factors that are not
	// positive and finite, a nil segment, more than MaxWorkers workers;
	// and by [Tune] and [Choose] for an invalid Grid (K outside [0, MaxK],
	// a negative Validation, an unknown Holdout). Weights above 1
	// (PopularityBlend, BasketPopularityBlend, Personalization,
	// SubstitutePenalty) are taken as 1, and a negative SequentialWeight or
	// SubstituteDepth as 0, rather than refused.
	ErrInvalidOptions = errors.New("recommend: invalid options")
)

// Options configures [New]. The zero value of every field means its
// documented default; doc.go explains the defaults.
type Options struct {
	// Workers is the number of goroutines of [Engine.RecommendAll]
	// (≤ 0: GOMAXPROCS; at most MaxWorkers). Results never depend on it.
	Workers int
	// Exclude holds products that are never recommended and never given
	// as reasons, nor used as anchors: non-merchandise such as postage,
	// fees, manual adjustments and gift vouchers. Nor are they evidence:
	// they have no popularity (the fallbacks and the popularity blend
	// scale by the most popular merchandise), count in no buyer-category
	// profile nor in the choice of its dimensions, in no segment's
	// favourites and not in the next-basket model. Ids outside the
	// catalog are ignored. Read during New only. (Keeping them out of the
	// co-occurrence counts is the caller's choice: see similarity.)
	Exclude *roaring.Bitmap
	// HalfLife is the half-life of a past purchase or event in a customer's
	// history: its weight is 2^(−age/HalfLife), the age measured from
	// the as-of time. Rankings depend only on the weights' ratios, so the
	// engine measures them from the customer's newest purchase or
	// weighted event, and a customer away for years keeps their
	// history's order; a purchase more than 99 half-lives older than the
	// newest weighs the least weight, 1e-30 of it, whatever its age (a
	// float32 weight has little room below), so such purchases tie.
	// Where the weights' sum matters, against a request's basket (see
	// Request.Basket), it is taken from the as-of time. Default 30 days for
	// purchase data; for rating data (rating events and no orders) the
	// default is no decay, since a rating's time is when it was entered,
	// not when the item was bought or used: on a MovieLens-shaped rating
	// file, decaying ratings by 30 days cost the engine on EASE 29 % of
	// its NDCG@10 (see examples/evaluate/RESULTS.md). Zero means the
	// default; a negative HalfLife is an error.
	HalfLife time.Duration
	// PopularHalfLife is the half-life of a purchase in the popularity
	// rankings used as fallbacks. Default (zero) 90 days; negative is an
	// error. The rankings sum weights in fixed point: a purchase more than
	// about 28 to 32 half-lives old (eight years at the default) counts 0,
	// and products bought only that long ago rank by product id; recent
	// purchases keep their relative weights at any half-life.
	PopularHalfLife time.Duration
	// Sequential is an optional directed index (similarity.Sequential
	// scope, "B within a window after A"). Its edges A→B are added to the
	// co-purchase edges with weight SequentialWeight. It should use the same
	// measure as the main index.
	Sequential *similarity.Index
	// SequentialWeight scales the Sequential index's scores; default 0.5.
	SequentialWeight float64
	// Evidence, when set, gives the co-purchase counts a Together reason
	// states — its Count and Lift — and by which the engine keeps or drops
	// an edge as a reason (a lift below 1 is none). Nil means the main
	// index's own counts. Set it when the index is a learned model fitted
	// on other counts — another scope, or an earlier history while a new
	// fit runs — so that reasons state, and are chosen by, the evidence of
	// the history served. It must count products of the same catalog.
	Evidence *similarity.Counts
	// SubstituteDepth is the category level at which two products count as
	// substitutes: 0 (default) means their assigned (deepest) categories, 1
	// the top level, 2 the level below, and so on.
	SubstituteDepth int
	// SubstitutePenalty multiplies the weight of an edge between two
	// substitutes; zero means DefaultSubstitutePenalty (1, no penalty). A
	// value below 1 weakens such edges; a negative value drops them.
	// Basket and product requests additionally exclude substitutes of the
	// basket's products unless Rules.AllowSubstitutes — of the products
	// that anchor, not of those in Exclude (postage in a cart bans no
	// other product).
	SubstitutePenalty float64
	// LiftExponent tilts edges toward high lift: an edge weight is
	// multiplied by lift^LiftExponent (lift clamped to [1/16, 16]).
	// Default 0 (off); 0.25 to 0.5 favours niche complements.
	LiftExponent float64
	// PopularityExponent ρ multiplies a candidate's co-purchase score by
	// (1 + support)^ρ, support being its number of transactions in the
	// main index: a popularity prior that turns symmetric measures such as
	// cosine toward P(candidate | anchors). It applies to requests of a
	// customer with a history; default 0.25; negative disables; at most
	// [MaxPopularityExponent]. Learned models (EASE) have no prior.
	PopularityExponent float64
	// PopularityBlend λ interpolates the co-purchase score with the
	// recency-weighted popularity: (1−λ)·s/max s + λ·pop/max pop, the most
	// popular products joining the candidates (Jelinek–Mercer smoothing
	// toward the popular ranking). It applies to requests of a customer
	// with a history; default 0 (off).
	PopularityBlend float64
	// BasketPopularityExponent and BasketPopularityBlend are
	// PopularityExponent and PopularityBlend for requests without a
	// customer history (a cart, a product page, an anonymous visitor),
	// whose few anchors leave the evidence thin; defaults 0.75 and 0.2;
	// negative disables; the exponent at most [MaxPopularityExponent].
	BasketPopularityExponent, BasketPopularityBlend float64
	// Personalization is the weight β of the cosine between the customer's
	// category-affinity vector and a candidate's buyer-category profile in
	// the final score (1−β)·ŝ + β·cos, where ŝ is the co-purchase score
	// scaled to [0, 1]. Zero means DefaultPersonalization (0.4); negative
	// disables.
	Personalization float64
	// ProfileDepth is the category level of the affinity vectors and
	// profiles; default 2. At most MaxProfileDims nodes are used.
	ProfileDepth int
	// MaxEdges bounds the anchor→candidate edges one request scores, which
	// bounds its latency: each anchor contributes its strongest edges, in
	// proportion to its weight (at least MinEdges each while the budget
	// lasts). Default 500 on co-occurrence neighbours; on a learned model
	// (EASE), whose score is the sum of the anchors' whole rows, the
	// default is no bound (MaxHistory anchors of K weights each): on
	// MovieLens-shaped rating data with about 100 ratings per customer,
	// the bound of 500 cost the engine on EASE 15 % of its NDCG@10.
	// Negative means no bound.
	MaxEdges int
	// MaxHistory is the number of most recent distinct products of a
	// customer's history used as anchors; default 100, except on a
	// learned model (EASE) whose anchors do not decay (ratings, see
	// HalfLife), where the score is the sum of the rows of the whole
	// history and there is no bound: on MovieLens-shaped rating data the
	// bound of 100 cost the engine on EASE up to 7 % of its NDCG@10
	// against EASE alone. On purchases, which decay, the bound stays: on
	// Online Retail the whole history scored 0.9 % lower. Older purchases
	// are still excluded as already bought. Among a purchase and events
	// in one second the purchase is the more recent, and among events in
	// one second the one later in [affinity.History.CustomerEvents] order
	// (the greater product key), so the anchors do not depend on the
	// order the events were loaded in.
	MaxHistory int
	// ViewWeight, CartWeight, WishlistWeight and RatingWeight weigh a
	// customer's events as anchors relative to a purchase (1). Defaults
	// 0.1, 0.3, 0.3 and 1; negative means 0; at most [MaxEventWeight].
	// Rated products also count as already bought (MovieLens-style data).
	ViewWeight, CartWeight, WishlistWeight, RatingWeight float64
	// Consumables are categories whose products are bought again: a bought
	// product in one becomes eligible again once Interval has passed since
	// its last purchase, and is then offered as a re-buy.
	Consumables []Consumable
	// Segments are customer segments (bitmaps of customer ids, e.g. from
	// package segment) whose popular products are precomputed for the
	// cold-start fallback, in priority order: a customer falls back to the
	// first segment that contains them. Each keeps its 1,024 most popular
	// products; past those (a request whose rules leave none of them), the
	// shop's popular products follow, as Popular. Read during New only.
	Segments []*roaring.Bitmap
	// Boosts multiply the scores of chosen products for chosen customers.
	Boosts []Boost
	// NextBasket turns on next-basket mode (the customer's own repeat
	// items ranked with explore items); off by default. See [NextBasket].
	NextBasket NextBasket
}

// Consumable marks a category (any level, given as path) as re-bought
// every Interval. [New] refuses a category the catalog does not hold and
// an Interval that is not positive, with an error wrapping
// [ErrInvalidOptions] that names the field.
type Consumable struct {
	Category string
	Interval time.Duration
}

// Boost multiplies the co-purchase score of products in Category (a path,
// any level) or in Products by Factor, for customers in Customers (nil
// means every request, anonymous ones included). Factor is in
// [1/MaxBoost, MaxBoost]; a product several boosts apply to gets the
// product of their factors, its score bounded at 10³⁰. Bitmaps are read
// during New only.
type Boost struct {
	Customers *roaring.Bitmap
	Category  string
	Products  *roaring.Bitmap
	Factor    float64
}

// Engine ranks complementary products. It is immutable after [New] except
// for the stock set ([Engine.SetStock], [Engine.UpdateStock]) and safe
// for concurrent use.
type Engine struct {
	h        *affinity.History
	cat      *affinity.Catalog
	np       int
	o        Options
	asOf     int64
	asOfTime time.Time
	excl     bitset  // Options.Exclude
	nbAlpha  float32 // NextBasket.RepeatWeight
	nbHL     float64 // NextBasket.HalfLife in seconds
	hl       float64 // seconds
	ew       [affinity.Wishlist + 1]float32

	// the parts, built once by their constructors
	*edgeTable
	*profiles
	*popularity
	sub  *substitutes
	rep  repeatModel
	hot  []prodHot // per anchor, what a request reads in one cache line
	segs []segPop

	rebuy  []int64 // seconds; nil when no consumables
	boosts []boost

	stock atomic.Pointer[stockSet]
	pool  sync.Pool

	// scanPopular makes the popular fallback walk the whole popularity
	// order under a short Rules.Only list too: set by tests only, the
	// reference of popularOnly
	scanPopular bool
}

// prodHot is the per-product data a request reads for every anchor.
type prodHot struct {
	lo  uint32 // first edge
	n   uint32 // number of edges
	dim int16  // the product's only profile dimension (weight 1); -1 none, -2 several (see pdim)
}

type boost struct {
	customers *roaring.Bitmap
	products  []uint64
	factor    float32
}

type segPop struct {
	members *roaring.Bitmap
	order   []affinity.ProductID
	score   []float32
}

type stockSet struct {
	bits []uint64
}

func (s *stockSet) has(p affinity.ProductID) bool { return s.bits[p>>6]&(1<<(p&63)) != 0 }

// New builds an Engine from h and the co-purchase index nb (built from h,
// typically with similarity.Basket or similarity.Customer scope) as of
// asOf: popularity and buyer profiles are computed from lines and events
// at or before it, and requests without an AsOf are served as of it. It
// takes time linear in the lines of h plus the index's edges. It returns
// an error when ctx, h or nb is nil, asOf is zero (wrapping
// [affinity.ErrNoAsOf]; pass h.Latest() for the end of the data), an
// option is invalid (NaN or infinite weights, too many workers: wrapping
// [ErrInvalidOptions] and naming the field), an index does not match h's
// catalog, or ctx is done.
func New(ctx context.Context, h *affinity.History, nb *similarity.Index, asOf time.Time, opts Options) (*Engine, error) {
	return newEngine(ctx, nil, h, nb, asOf, opts)
}

// Renew returns the Engine that New(ctx, h, nb, asOf, opts) returns,
// computed from prev where that is cheaper: prev is an engine of the
// History that h was built on ([affinity.NewBuilder], see
// [affinity.History.ChangedSince]), as a shop's refresh has it. The
// buyer-category profiles are then updated for the changed customers only
// (when the catalog's categories at ProfileDepth and the products'
// categories are unchanged, and both engines see every line of the
// earlier History), and so is the recency-weighted popularity (when
// prev saw every line of the earlier History, asOf is not before prev's
// and within the same block of time, 32 days or four PopularHalfLife
// when that is shorter, its weights decayed to the block's end and
// summed in fixed point, so that the result equals a
// full pass bit for bit). The rows of the item graph are copied from
// prev's where the anchor's neighbour list in nb equals the one in the
// index prev was built from and none of those neighbours' supports moved
// (with the same options, LiftExponent 0, the default, and no Sequential
// index), their lifts computed from nb's totals; after a small refresh
// that is most rows. An engine of h itself as of the same asOf, as the
// candidates of [Choose] and [Tune] are, gives its popularity (with the
// same PopularHalfLife and weights) and profiles (at the same
// ProfileDepth) as they are. The rest is built as New builds it. With a nil prev,
// or any other History, it is New. prev is not modified and stays valid;
// an Engine keeps the index it was built from for this.
func Renew(ctx context.Context, prev *Engine, h *affinity.History, nb *similarity.Index, asOf time.Time, opts Options) (*Engine, error) {
	return newEngine(ctx, prev, h, nb, asOf, opts)
}

func newEngine(ctx context.Context, prev *Engine, h *affinity.History, nb *similarity.Index, asOf time.Time, opts Options) (*Engine, error) {
	if err := affinity.CheckContext("recommend", ctx); err != nil {
		return nil, err
	}
	switch {
	case h == nil:
		return nil, affinity.NilArgument("recommend", "History")
	case nb == nil:
		return nil, affinity.NilArgument("recommend", "index")
	}
	if err := affinity.CheckAsOf("recommend", asOf); err != nil {
		return nil, err
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	cat := h.Catalog()
	np := cat.NumProducts()
	if nb.NumProducts() > np {
		return nil, fmt.Errorf("recommend: index has %d products, catalog %d: built from another history", nb.NumProducts(), np)
	}
	if q := opts.Sequential; q != nil && q.NumProducts() > np {
		return nil, fmt.Errorf("recommend: sequential index has %d products, catalog %d: built from another history", q.NumProducts(), np)
	}
	if c := opts.Evidence; c != nil && c.NumProducts() > np {
		return nil, fmt.Errorf("recommend: evidence counts have %d products, catalog %d: made from another history", c.NumProducts(), np)
	}
	e := &Engine{h: h, cat: cat, np: np, o: withDefaults(opts), asOfTime: asOf.UTC()}
	e.asOf = asOf.Unix()
	e.hl = e.o.HalfLife.Seconds()
	if opts.HalfLife <= 0 && ratingData(h, e.asOf) {
		e.hl = math.Inf(1) // ratings do not decay (see Options.HalfLife)
	}
	// α = 1 in effect 1 − 2⁻²⁰: the explore items that fill the list then
	// keep their own order instead of all scoring 0 (in product id order)
	e.nbAlpha = float32(min(e.o.NextBasket.RepeatWeight, 1-0x1p-20))
	e.nbHL = e.o.NextBasket.HalfLife.Seconds()
	e.ew = [...]float32{affinity.View: float32(e.o.ViewWeight), affinity.Cart: float32(e.o.CartWeight),
		affinity.Rating: float32(e.o.RatingWeight), affinity.Wishlist: float32(e.o.WishlistWeight)}
	e.excl = bitsetOf(opts.Exclude, np)
	var err error
	e.sub = newSubstitutes(cat, np, e.o.SubstituteDepth)
	var prevEdges *edgeTable
	if prev != nil {
		prevEdges = prev.edgeTable
	}
	if e.edgeTable, err = newEdgeTable(ctx, np, nb, e.o.Sequential, &e.o, e.sub, e.excl, prevEdges); err != nil {
		return nil, err
	}
	if e.learned {
		// a learned model's score is the sum of the rows of the whole
		// history: no bound on the edges unless asked, nor on the anchors
		// when they do not decay (ratings), which makes "most recent"
		// an arbitrary cut
		if opts.MaxEdges == 0 {
			e.o.MaxEdges = math.MaxInt32
		}
		if opts.MaxHistory <= 0 && math.IsInf(e.hl, 1) {
			e.o.MaxHistory = math.MaxInt32
		}
	}
	if prev != nil && prev.profiles != nil {
		if e.profiles, err = updateProfiles(ctx, prev.profiles, prev.h, h, np, e.asOf, e.o.ProfileDepth, e.o.Personalization > 0, e.excl); err != nil {
			return nil, err
		}
	}
	if e.profiles == nil {
		if e.profiles, err = newProfiles(ctx, h, np, e.asOf, e.o.ProfileDepth, e.o.Personalization > 0, e.excl); err != nil {
			return nil, err
		}
	}
	e.hot = make([]prodHot, np)
	for p := range np {
		h := prodHot{lo: e.off[p], n: e.off[p+1] - e.off[p], dim: -1}
		if e.pdimOff != nil {
			switch lo, hi := e.pdimOff[p], e.pdimOff[p+1]; {
			case hi == lo+1 && e.pdimW[lo] == 1:
				h.dim = int16(e.pdim[lo])
			case hi > lo:
				h.dim = -2
			}
		}
		e.hot[p] = h
	}
	if prev != nil {
		e.popularity, err = renewPopularity(ctx, prev.popularity, prev.h, h, np, e.asOf, e.o.PopularHalfLife.Seconds(), e.ew, e.excl)
	} else {
		e.popularity, err = newPopularity(ctx, h, np, e.asOf, e.o.PopularHalfLife.Seconds(), e.ew, e.excl)
	}
	if err != nil {
		return nil, err
	}
	if e.nbAlpha > 0 {
		if e.rep, err = newRepeatModel(ctx, h, np, e.asOf, e.o.NextBasket, e.excl); err != nil {
			return nil, err
		}
	}
	if err := e.segments(ctx); err != nil {
		return nil, err
	}
	if err := e.rules(); err != nil {
		return nil, err
	}
	st := &stockSet{bits: make([]uint64, (np+63)/64)}
	for p := range np {
		if cat.InStock(affinity.ProductID(p)) {
			st.bits[p>>6] |= 1 << (p & 63)
		}
	}
	e.stock.Store(st)
	e.pool.New = func() any { return e.newScratch() }
	return e, nil
}

// validate rejects options no default can repair: NaN or infinite
// weights and exponents, too many workers.
func (o *Options) validate() error {
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"SequentialWeight", o.SequentialWeight}, {"SubstitutePenalty", o.SubstitutePenalty},
		{"LiftExponent", o.LiftExponent}, {"PopularityExponent", o.PopularityExponent},
		{"PopularityBlend", o.PopularityBlend}, {"Personalization", o.Personalization},
		{"BasketPopularityExponent", o.BasketPopularityExponent}, {"BasketPopularityBlend", o.BasketPopularityBlend},
		{"ViewWeight", o.ViewWeight}, {"CartWeight", o.CartWeight},
		{"WishlistWeight", o.WishlistWeight}, {"RatingWeight", o.RatingWeight},
	} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return fmt.Errorf("%w: %s is %v", ErrInvalidOptions, f.name, f.v)
		}
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"ViewWeight", o.ViewWeight}, {"CartWeight", o.CartWeight}, {"WishlistWeight", o.WishlistWeight}, {"RatingWeight", o.RatingWeight}} {
		if f.v > MaxEventWeight {
			return errorField(f.name, f.v, fmt.Sprintf("at most MaxEventWeight = %v", float64(MaxEventWeight)))
		}
	}
	if o.Workers > MaxWorkers {
		return fmt.Errorf("%w: Workers = %d, at most MaxWorkers = %d", ErrInvalidOptions, o.Workers, MaxWorkers)
	}
	if err := checkDurations("HalfLife", o.HalfLife, "PopularHalfLife", o.PopularHalfLife); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"PopularityExponent", o.PopularityExponent}, {"BasketPopularityExponent", o.BasketPopularityExponent}} {
		if f.v > MaxPopularityExponent {
			return errorField(f.name, f.v, fmt.Sprintf("at most MaxPopularityExponent = %v", MaxPopularityExponent))
		}
	}
	return o.NextBasket.validate()
}

// MaxEventWeight is the largest ViewWeight, CartWeight, WishlistWeight
// and RatingWeight: an event weighing a million purchases already
// outweighs them all, and the bound keeps a request's sums of weights
// finite.
const MaxEventWeight = 1e6

// MaxBoost bounds a [Boost]'s Factor: at most MaxBoost, at least
// 1/MaxBoost, inside the range of the scores' float32.
const MaxBoost = 1e6

// MaxPopularityExponent is the largest PopularityExponent and
// BasketPopularityExponent: (1 + support)^ρ then stays far inside the
// range of the scores' float32 whatever the supports (2⁶⁴ at 2³² of
// them), where a larger ρ overflowed and gave NaN scores; it already
// ranks by support almost alone.
const MaxPopularityExponent = 2

// checkDurations returns the error of the first negative duration of
// the (name, value) pairs: durations whose zero means the default.
func checkDurations(name1 string, v1 time.Duration, name2 string, v2 time.Duration) error {
	for _, f := range [...]struct {
		name string
		v    time.Duration
	}{{name1, v1}, {name2, v2}} {
		if f.v < 0 {
			return errorField(f.name, f.v, "want a positive duration or 0 for the default")
		}
	}
	return nil
}

// errorField is the error of an invalid option.
func errorField(name string, v any, why string) error {
	return fmt.Errorf("%w: %s = %v: %s", ErrInvalidOptions, name, v, why)
}

func withDefaults(o Options) Options {
	if o.HalfLife <= 0 {
		o.HalfLife = DefaultHalfLife
	}
	if o.PopularHalfLife <= 0 {
		o.PopularHalfLife = DefaultPopularHalfLife
	}
	def := func(v *float64, d float64) {
		switch {
		case *v == 0:
			*v = d
		case *v < 0:
			*v = 0
		}
	}
	def(&o.SequentialWeight, DefaultSequentialWeight)
	def(&o.Personalization, DefaultPersonalization)
	def(&o.PopularityExponent, DefaultPopularityExponent)
	def(&o.PopularityBlend, DefaultPopularityBlend)
	o.PopularityBlend = min(o.PopularityBlend, 1)
	def(&o.BasketPopularityExponent, DefaultBasketPopularityExponent)
	def(&o.BasketPopularityBlend, DefaultBasketPopularityBlend)
	o.BasketPopularityBlend = min(o.BasketPopularityBlend, 1)
	o.Personalization = min(o.Personalization, 1)
	def(&o.ViewWeight, DefaultViewWeight)
	def(&o.CartWeight, DefaultCartWeight)
	def(&o.WishlistWeight, DefaultWishlistWeight)
	def(&o.RatingWeight, DefaultRatingWeight)
	def(&o.SubstitutePenalty, DefaultSubstitutePenalty)
	o.SubstitutePenalty = min(o.SubstitutePenalty, 1)
	if o.LiftExponent == 0 {
		o.LiftExponent = DefaultLiftExponent
	}
	if o.ProfileDepth <= 0 {
		o.ProfileDepth = DefaultProfileDepth
	}
	switch {
	case o.MaxEdges == 0:
		o.MaxEdges = DefaultMaxEdges
	case o.MaxEdges < 0:
		o.MaxEdges = math.MaxInt32
	}
	if o.MaxHistory <= 0 {
		o.MaxHistory = DefaultMaxHistory
	}
	if o.NextBasket.HalfLife == 0 {
		o.NextBasket.HalfLife = DefaultNextBasketHalfLife
	}
	if o.NextBasket.Propensity == 0 {
		o.NextBasket.Propensity = 1
	}
	if o.NextBasket.Trend == 0 {
		o.NextBasket.Trend = DefaultTrend
	}
	if o.NextBasket.Demand == 0 {
		o.NextBasket.Demand = DefaultDemand
	}
	if o.NextBasket.TrendWindow == 0 {
		o.NextBasket.TrendWindow = DefaultTrendWindow
	}
	o.SubstituteDepth = max(o.SubstituteDepth, 0)
	return o
}

// History returns the History the engine was built from.
func (e *Engine) History() *affinity.History { return e.h }

// AsOf returns the snapshot time given to [New], in UTC.
func (e *Engine) AsOf() time.Time { return e.asOfTime }

// SetStock replaces the set of in-stock products atomically; requests that
// start afterwards see the new set. Product ids outside the catalog are
// ignored; nil means every product is in stock. The bitmap is copied
// (O(NumProducts/64 + its cardinality)), so the caller keeps ownership.
func (e *Engine) SetStock(inStock *roaring.Bitmap) {
	st := &stockSet{bits: make([]uint64, (e.np+63)/64)}
	if inStock == nil {
		for p := range e.np {
			st.bits[p>>6] |= 1 << (p & 63)
		}
	} else {
		it := inStock.Iterator()
		for it.HasNext() {
			p := it.Next()
			if int(p) >= e.np {
				break
			}
			st.bits[p>>6] |= 1 << (p & 63)
		}
	}
	e.stock.Store(st)
}

// UpdateStock puts the products in inStock in the stock set and takes
// those in outOfStock out of it (a product in both ends out), atomically;
// the others stay as they are. Product ids outside the catalog are
// ignored. It copies the set (O(NumProducts/64 + the ids)), where
// SetStock also reads a whole bitmap, and is safe to call concurrently
// with SetStock and itself: no update is lost.
func (e *Engine) UpdateStock(inStock, outOfStock []affinity.ProductID) {
	for {
		old := e.stock.Load()
		st := &stockSet{bits: slices.Clone(old.bits)}
		for _, p := range inStock {
			if int(p) < e.np {
				st.bits[p>>6] |= 1 << (p & 63)
			}
		}
		for _, p := range outOfStock {
			if int(p) < e.np {
				st.bits[p>>6] &^= 1 << (p & 63)
			}
		}
		if e.stock.CompareAndSwap(old, st) {
			return
		}
	}
}

// InStock reports whether p is in the current stock set (false for an id
// outside the catalog).
func (e *Engine) InStock(p affinity.ProductID) bool {
	return int(p) < e.np && e.stock.Load().has(p)
}

// excluded reports whether p is in Options.Exclude.
func (e *Engine) excluded(p affinity.ProductID) bool { return e.excl.has(p) }

func (e *Engine) subs(p affinity.ProductID) []affinity.CategoryID { return e.sub.of(p) }

func (e *Engine) same(a, b affinity.ProductID) bool { return e.sub.same(a, b) }

// rules resolves consumables and boosts.
func (e *Engine) rules() error {
	c := e.cat
	if len(e.o.Consumables) > 0 {
		byCat := make(map[affinity.CategoryID]int64)
		for i, cs := range e.o.Consumables {
			id, ok := c.LookupCategory(cs.Category)
			if !ok {
				return errorField(fmt.Sprintf("Consumables[%d].Category", i), strconv.Quote(cs.Category), "not in the catalog")
			}
			if cs.Interval <= 0 {
				return errorField(fmt.Sprintf("Consumables[%d].Interval", i), cs.Interval, "want a positive interval")
			}
			byCat[id] = int64(cs.Interval / time.Second)
		}
		e.rebuy = make([]int64, e.np)
		for p := range e.np {
			for _, sh := range c.Shares(affinity.ProductID(p)) {
				if iv, ok := byCat[sh.Category]; ok && (e.rebuy[p] == 0 || iv < e.rebuy[p]) {
					e.rebuy[p] = iv
				}
			}
		}
	}
	for i, b := range e.o.Boosts {
		if !(b.Factor >= 1/MaxBoost && b.Factor <= MaxBoost) {
			return errorField(fmt.Sprintf("Boosts[%d].Factor", i), b.Factor, "want a factor in [1/MaxBoost, MaxBoost]")
		}
		x := boost{factor: float32(b.Factor), products: make([]uint64, (e.np+63)/64)}
		if b.Customers != nil {
			x.customers = b.Customers.Clone()
		}
		if b.Category != "" {
			id, ok := c.LookupCategory(b.Category)
			if !ok {
				return errorField(fmt.Sprintf("Boosts[%d].Category", i), strconv.Quote(b.Category), "not in the catalog")
			}
			for p := range e.np {
				if slices.ContainsFunc(c.Shares(affinity.ProductID(p)), func(s affinity.CategoryShare) bool { return s.Category == id }) {
					x.products[p>>6] |= 1 << (p & 63)
				}
			}
		}
		if b.Products != nil {
			it := b.Products.Iterator()
			for it.HasNext() {
				if p := it.Next(); int(p) < e.np {
					x.products[p>>6] |= 1 << (p & 63)
				}
			}
		}
		e.boosts = append(e.boosts, x)
	}
	return nil
}

// decay returns 2^(−age/halfLife) for age in seconds (1 for age ≤ 0),
// floored at leastWeight so that a touched score is never 0 (see
// scratch.touch).
// It splits the exponent into an integer part, applied to the float's
// exponent bits, and a fraction f in [0, 1), for which 2^(−f) comes from a
// degree-8 Taylor polynomial of e^(−f·ln 2) (relative error below 1e-6):
// several times faster than math.Exp2 in the per-order loop.
func decay(age int64, halfLife float64) float32 {
	if age <= 0 {
		return 1
	}
	x := float64(age) / halfLife
	if x >= 99 {
		return leastWeight
	}
	n := math.Floor(x)
	y := (x - n) * math.Ln2
	p := 1 - y*(1-y/2*(1-y/3*(1-y/4*(1-y/5*(1-y/6*(1-y/7*(1-y/8)))))))
	return max(math.Float32frombits(math.Float32bits(float32(p))-uint32(n)<<23), leastWeight)
}

// segments precomputes the favourites of Options.Segments for the
// cold-start fallback.
func (e *Engine) segments(ctx context.Context) error {
	if len(e.o.Segments) == 0 {
		return nil
	}
	s := e.newScratch()
	for i, m := range e.o.Segments {
		if m == nil {
			return fmt.Errorf("%w: Segments[%d] is nil", ErrInvalidOptions, i)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		sp := e.favourites(s, m, e.asOf, 1024)
		sp.members = m.Clone()
		e.segs = append(e.segs, sp)
	}
	return nil
}

// favourites returns the keep favourites of seg as of asOf, best first
// (see segmentScores), without members; s is reset.
func (e *Engine) favourites(s *scratch, seg *roaring.Bitmap, asOf int64, keep int) segPop {
	e.segmentScores(s, seg, asOf)
	slices.SortFunc(s.cand, better)
	n := min(len(s.cand), keep)
	sp := segPop{order: make([]affinity.ProductID, 0, n), score: make([]float32, 0, n)}
	for _, c := range s.cand[:n] {
		sp.order = append(sp.order, c.p)
		sp.score = append(sp.score, c.s)
	}
	s.reset()
	return sp
}

// segmentScores fills s.cand with the products bought by members of seg up
// to asOf, scored by recency-weighted popularity in the segment times the
// square root of its lift over the whole shop. Non-merchandise
// (Options.Exclude) counts in neither. It uses s.acc and s.touched.
func (e *Engine) segmentScores(s *scratch, seg *roaring.Bitmap, asOf int64) {
	h := e.h
	phl := e.o.PopularHalfLife.Seconds()
	nc := uint32(h.NumCustomers())
	var segTotal float64
	it := seg.Iterator()
	for it.HasNext() {
		c := it.Next()
		if c >= nc {
			break
		}
		olo, ohi := h.CustomerOrders(affinity.CustomerID(c))
		for o := olo; o < ohi; o++ {
			t := h.OrderUnix(o)
			if t > asOf {
				break
			}
			d := decay(asOf-t, phl)
			lo, hi := h.OrderLines(o)
			for i := lo; i < hi; i++ {
				p := h.LineProduct(i)
				if h.LineQuantity(i) <= 0 || e.excluded(p) {
					continue // non-merchandise is no one's favourite
				}
				s.touch(p)
				s.acc[p] += d
				segTotal += float64(d)
			}
		}
	}
	s.cand = s.cand[:0]
	for _, p := range s.touched {
		v := float64(s.acc[p])
		l := ((v + 1) / (segTotal + 1)) / ((float64(e.pop[p]) + 1) / (e.popTotal + 1))
		s.cand = append(s.cand, cand{p: p, s: float32(v * math.Sqrt(l))})
	}
}
