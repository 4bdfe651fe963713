package recommend

import (
	"context"
	"math"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
)

// DefaultNextBasketHalfLife is the default [NextBasket.HalfLife].
const DefaultNextBasketHalfLife = 90 * 24 * time.Hour

// NextBasket configures next-basket mode: "what will this customer buy
// next", the customer's own repeat items and complementary explore items
// in one ranked list. The zero value leaves it off: customer requests then
// exclude what the customer bought (apart from due consumables).
//
// In next-basket mode a known customer's products, bought before, are
// scored by a time-decayed frequency (as TIFU-KNN's repeat vector, Hu et
// al. 2020):
//
//	rep(i) = Σ_{purchases of i} 2^(−age/HalfLife) · ((1−γ) + γ·due(i)) · q(i)^η · t(i)^τ · d(i)^δ,
//	due(i) = min(ρ, 1/ρ),  ρ = (time since the last purchase) / (mean interval between purchases)
//
// where a purchase of i is an order holding it (however many of the
// order's lines do, as TIFU-KNN counts baskets) or a rating of it,
// γ = IntervalWeight and due(i) = 1 for products bought once (an
// item bought every four weeks peaks four weeks after its last purchase),
// q(i) is the product's repeat propensity over all customers (see
// Propensity): paper towels come back, a wedding present does not; and
// t(i) and d(i) are the product's trend and current demand over all
// customers (see Trend): what the shop sells more of now than over the
// year, such as a season's goods, and what it sells now.
// The final score blends the repeat score with the engine's usual
// (explore) score, each scaled to [0, 1]:
//
//	final(i) = α·rep(i)/max rep + (1−α)·explore(i),   α = RepeatWeight
//
// where explore(i) of one of the customer's own items is the score it
// would have as an explore candidate (on the scale of the best eligible
// one, personalised and boosted alike), and 0 when there is no explore
// candidate; the boosts that apply (Options.Boosts) multiply the repeat
// side too, so that they multiply final(i).
// Results from the repeat side have [Source] Repeat and one reason of
// kind Again, which carries the product's trend t(i); the explanation
// states it from [TrendStated] on ("bought 17 times before, last 372
// days ago; 4.6× its usual buyers in the last 14 days"). The others keep
// their sources. Products in the basket,
// excluded by the rules or out of stock are not repeated.
type NextBasket struct {
	// RepeatWeight α in [0, 1] turns next-basket mode on (> 0) and weighs
	// repeat against explore scores; 1 ranks the customer's own items
	// first and fills with explore items in their explore order (1 is
	// taken as 1 − 2⁻²⁰, so that their scores, about a millionth of
	// their explore scores, keep that order).
	RepeatWeight float64
	// HalfLife is the half-life of a past purchase in the repeat score;
	// default 90 days.
	HalfLife time.Duration
	// IntervalWeight γ in [0, 1] weighs the per-item inter-purchase
	// interval (consumables); default 0 (frequency and recency only).
	IntervalWeight float64
	// Propensity is the exponent η of the product's repeat propensity
	// q(i) in the repeat score, rep(i)·q(i)^η: q(i) is the share of the
	// customers who bought i and ordered again who bought i again
	// (Laplace-smoothed), measured as of the engine's snapshot. Default 1;
	// negative disables.
	Propensity float64
	// Trend is the exponent τ of the product's trend t(i), and Demand the
	// exponent δ of its current demand d(i), in the repeat score,
	// rep(i)·t(i)^τ·d(i)^δ. Both count the distinct customers who bought
	// the product over all customers: recent(i) in the last TrendWindow
	// before the snapshot, usual(i) the number the product's rate over the
	// year before (or the whole history, when shorter) predicts for such
	// a window, each plus a prior of 5 customers:
	//
	//	t(i) = (recent(i) + 5) / (usual(i) + 5),   d(i) = (recent(i) + 5) / 5
	//
	// so that a customer's Christmas decorations from last winter rank
	// above their everyday items in November, and not in June, and that
	// of two products the customer bought as often, the one the shop sells
	// now ranks first. A history shorter than two windows has neither (t =
	// d = 1). Defaults 0.5 and 0.25; negative disables. The factor
	// q(i)^η·t(i)^τ·d(i)^δ is kept within [e⁻⁸⁰, e⁶⁰], so that large
	// exponents cannot overflow the scores.
	//
	// Measured with examples/evaluate on Online Retail 2010-2011 (all
	// items, NDCG@10, next-basket mode; examples/evaluate/RESULTS.md) at
	// five temporal cut-offs from April to October 2011, the defaults
	// over a 14-day window gained between 0.1 % (September) and 5.0 %
	// (October, before the Christmas season) and lost at none; the trend
	// alone lost 0.3 % in April and gained 4.6 % in October, the demand
	// alone gained 0.2 % to 2.6 %. On the synthetic demo shop the defaults
	// gained 2.6 %. [Tune] tries the shop without both.
	Trend, Demand float64
	// TrendWindow is the recent window of Trend and Demand; default 14
	// days.
	TrendWindow time.Duration
}

// Defaults of [NextBasket.Trend], [NextBasket.Demand] and
// [NextBasket.TrendWindow].
const (
	DefaultTrend       = 0.5
	DefaultDemand      = 0.25
	DefaultTrendWindow = 14 * 24 * time.Hour
)

// trendYear is the longest span a product's usual rate is measured over,
// and trendPrior the customers added to both sides of its trend and
// demand, so that a product two customers bought in the window, and
// nobody before, is not the shop's trend.
const (
	trendYear  = 365 * 24 * time.Hour
	trendPrior = 5
)

func (nb NextBasket) validate() error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"NextBasket.RepeatWeight", nb.RepeatWeight}, {"NextBasket.IntervalWeight", nb.IntervalWeight}} {
		if !(f.v >= 0 && f.v <= 1) {
			return errorField(f.name, f.v, "want a value in [0, 1]")
		}
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"NextBasket.Propensity", nb.Propensity}, {"NextBasket.Trend", nb.Trend}, {"NextBasket.Demand", nb.Demand}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return errorField(f.name, f.v, "want a finite exponent")
		}
	}
	return checkDurations("NextBasket.HalfLife", nb.HalfLife, "NextBasket.TrendWindow", nb.TrendWindow)
}

// repeats adds the customer's repeat candidates (next-basket mode) to
// s.cand, scaling the explore candidates already there by 1−α, and
// returns how many it added.
func (e *Engine) repeats(s *scratch, j *job) int {
	st, r, asOf := j.st, j.r, j.asOf
	alpha := e.nbAlpha
	gamma := float32(e.o.NextBasket.IntervalWeight)
	var top float32
	n0 := len(s.cand)
	for i := range s.items {
		it := &s.items[i]
		if it.rep <= 0 || it.basket || s.flag[it.p]&(fBan|fDue) != 0 || !e.eligible(s, st, r, it.p) {
			continue
		}
		v := it.rep
		if e.rep.prop != nil {
			v *= e.rep.prop[it.p]
		}

		if gamma > 0 && it.n > 1 && it.last > it.first {
			mean := float64(it.last-it.first) / float64(it.n-1)
			rho := float64(asOf-it.last+1) / mean
			v *= (1 - gamma) + gamma*float32(min(rho, 1/rho))
		}
		s.cand = append(s.cand, cand{p: it.p, s: v})
		top = max(top, v)
	}
	if top <= 0 {
		s.cand = s.cand[:n0]
		return 0
	}
	for i := n0; i < len(s.cand); i++ {
		s.mark(s.cand[i].p, fRepeat)
	}
	// a product the rules let among the explore candidates too
	// (AllowRepeats) is one candidate: the repeat one, which carries its
	// explore side below
	kept := 0
	for i := range n0 {
		if s.flag[s.cand[i].p]&fRepeat == 0 {
			s.cand[kept] = s.cand[i]
			s.cand[kept].s *= 1 - alpha
			kept++
		}
	}
	s.cand = append(s.cand[:kept], s.cand[n0:]...)
	n0 = kept
	// the explore side of a repeat item: its usual score, as an explore
	// candidate would have it (none when there is no explore candidate)
	for i := n0; i < len(s.cand); i++ {
		x := &s.cand[i]
		x.s = e.boosted(s, x.p, alpha*x.s/top) // boosted as the explore side is
		if j.smax > 0 {
			v, _ := e.usual(s, j, x.p, e.exploreRaw(s, j, x.p))
			x.s += (1 - alpha) * v
		}
	}
	return len(s.cand) - n0
}

// repeatModel is the next-basket part built once by [newRepeatModel]:
// every product's repeat propensity, trend and demand.
type repeatModel struct {
	prop  []float32 // q(i)^η · t(i)^τ · d(i)^δ; nil when all are off
	trend []float32 // t(i) itself, for the reasons; nil when not counted
}

// trendOf returns product p's trend t(p), 0 when not counted.
func (m *repeatModel) trendOf(p affinity.ProductID) float32 {
	if m.trend == nil {
		return 0
	}
	return m.trend[p]
}

// newRepeatModel computes every product's factor q(i)^η · t(i)^τ · d(i)^δ
// of the repeat score (see [NextBasket]; nb has its defaults) from the
// orders at or before asOf (Unix seconds): one pass over the customers'
// lines. The products in excl (non-merchandise) count nowhere, and an
// order of them alone is no later order. With every exponent ≤ 0 the
// model is empty.
func newRepeatModel(ctx context.Context, h *affinity.History, np int, asOf int64, nb NextBasket, excl bitset) (repeatModel, error) {
	var t repeatModel
	eta, tau, delta := nb.Propensity, nb.Trend, nb.Demand
	trend := tau > 0 || delta > 0
	if eta <= 0 && !trend {
		return t, nil
	}
	again := make([]uint32, np) // customers who bought p in two orders
	later := make([]uint32, np) // customers who bought p and ordered later
	seen := make([]uint32, np)  // customer+1 once bought in an earlier order
	cnt := make([]uint32, np)   // customer+1 once counted in again
	inOrder := make([]uint32, np)
	// trend and demand: customers who bought p in the window and in the
	// year before asOf, and the customer+1 last counted in each
	var recent, year, rmark, ymark []uint32
	window, span := int64(nb.TrendWindow/time.Second), int64(trendYear/time.Second)
	first := asOf // the earliest order at or before asOf with a line of merchandise
	if trend {
		recent, year, rmark, ymark = make([]uint32, np), make([]uint32, np), make([]uint32, np), make([]uint32, np)
	}
	var prods []affinity.ProductID // the customer's distinct products so far
	for c := range h.NumCustomers() {
		if c%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return t, err
			}
		}
		mark := uint32(c) + 1
		prods = prods[:0]
		olo, ohi := h.CustomerOrders(affinity.CustomerID(c))
		last, started := olo, false
		for o := olo; o < ohi && h.OrderUnix(o) <= asOf; o++ {
			age := asOf - h.OrderUnix(o)
			l0, l1 := h.OrderLines(o)
			for i := l0; i < l1; i++ {
				p := h.LineProduct(i)
				if excl.has(p) {
					continue // (an order of non-merchandise alone is no later order, nor the first)
				}
				if !started {
					started, first = true, min(first, h.OrderUnix(o))
				}
				last = o
				if h.LineQuantity(i) <= 0 {
					continue
				}
				if trend && age < span && ymark[p] != mark {
					ymark[p] = mark
					year[p]++
				}
				if trend && age < window && rmark[p] != mark {
					rmark[p] = mark
					recent[p]++
				}
				if inOrder[p] == uint32(o)+1 {
					continue
				}
				inOrder[p] = uint32(o) + 1
				if seen[p] == mark {
					if cnt[p] != mark {
						cnt[p] = mark
						again[p]++
					}
				} else {
					seen[p] = mark
					prods = append(prods, p)
				}
			}
		}
		// a product counts in later when an order followed its first
		// purchase: every product but those first bought in the last order
		for _, p := range prods {
			if inOrder[p] != uint32(last)+1 || cnt[p] == mark {
				later[p]++
			}
		}
	}
	span = min(span, asOf-first+1)
	if span < 2*window {
		trend = false // too short a history for a trend
	}
	if eta <= 0 && !trend {
		return t, nil
	}
	t.prop = make([]float32, np)
	if trend {
		t.trend = make([]float32, np)
	}
	for p := range np {
		// in logarithms, so that large exponents neither overflow nor
		// multiply an underflow by an overflow into NaN
		var lf float64
		if eta > 0 {
			lf = eta * math.Log((float64(again[p])+1)/(float64(later[p])+2))
		}
		if trend {
			r := float64(recent[p]) + trendPrior
			usual := float64(year[p]) * float64(window) / float64(span)
			tr := r / (usual + trendPrior)
			t.trend[p] = float32(tr)
			if tau > 0 {
				lf += tau * math.Log(tr)
			}
			if delta > 0 {
				lf += delta * math.Log(r/trendPrior)
			}
		}
		t.prop[p] = float32(math.Exp(min(max(lf, minLogProp), maxLogProp)))
	}
	return t, nil
}

// minLogProp and maxLogProp bound the logarithm of a product's repeat
// factor q^η·t^τ·d^δ: inside float32's normal range, and small enough that
// a customer's repeat score (the factor times up to 2³² purchases) stays
// finite.
const (
	minLogProp = -80
	maxLogProp = 60
)

// RepeatShare returns the share of repeat items in customers' next
// orders: over every order at or before asOf that is not its customer's
// first, the distinct products the customer had bought in an earlier
// order, divided by the distinct products of those orders. Anonymous
// orders, returns, events and the products of exclude (non-merchandise
// such as postage, which every order may carry; nil: none) do not count,
// nor does an order of excluded products alone; a History without repeat
// orders gives 0. A shop where the share is high (groceries, wholesale:
// a half or more) is served best in next-basket mode; a shop where it is
// low (books, furniture) by explore items alone. Time is linear in the
// lines of h; it returns an error for a nil ctx or h, a zero asOf, or
// ctx.Err(). [CountRepeats] returns the counts it divides, which
// [RecountRepeats] updates after a change in time proportional to it.
func RepeatShare(ctx context.Context, h *affinity.History, asOf time.Time, exclude *roaring.Bitmap) (float64, error) {
	t, err := CountRepeats(ctx, h, asOf, exclude)
	return t.Share(), err
}

// RepeatTally holds what [RepeatShare] divides, as of AsOf: Repeat, the
// distinct products of customers' next orders that the customer had
// bought before, and Total, all distinct products of those orders.
type RepeatTally struct {
	Repeat, Total int64
	AsOf          time.Time
}

// Share returns Repeat / Total, 0 without any next order.
func (t RepeatTally) Share() float64 {
	if t.Total == 0 {
		return 0
	}
	return float64(t.Repeat) / float64(t.Total)
}

// CountRepeats returns the tally of [RepeatShare] for h as of asOf,
// without the products of exclude, with the same errors.
func CountRepeats(ctx context.Context, h *affinity.History, asOf time.Time, exclude *roaring.Bitmap) (RepeatTally, error) {
	if err := checkArgs(ctx, h, asOf); err != nil {
		return RepeatTally{}, err
	}
	t := RepeatTally{AsOf: asOf}
	rs := newRepeatScratch(h, exclude)
	for c := range h.NumCustomers() {
		if c%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return RepeatTally{}, err
			}
		}
		r, n := rs.customer(h, affinity.CustomerID(c), asOf.Unix())
		t.Repeat += r
		t.Total += n
	}
	return t, nil
}

// RecountRepeats returns CountRepeats(ctx, h, asOf, exclude) from prev,
// the tally of prevH counted with the same exclude (the caller's to
// keep: a tally does not record it), when h was built on prevH by an
// [affinity.Builder] and
// neither prev's as-of time nor asOf is before prevH's latest order or
// event: the customers that did not change ([affinity.History.ChangedSince])
// then count the same, and only the changed ones are counted again, in
// prevH and in h. Otherwise (a nil prevH included) it counts everything.
func RecountRepeats(ctx context.Context, prev RepeatTally, prevH, h *affinity.History, asOf time.Time, exclude *roaring.Bitmap) (RepeatTally, error) {
	if err := checkArgs(ctx, h, asOf); err != nil {
		return RepeatTally{}, err
	}
	ch, ok := h.ChangedSince(prevH) // false for a nil prevH
	if !ok || prev.AsOf.IsZero() || prev.AsOf.Before(prevH.Latest()) || asOf.Before(prevH.Latest()) {
		return CountRepeats(ctx, h, asOf, exclude)
	}
	t := RepeatTally{Repeat: prev.Repeat, Total: prev.Total, AsOf: asOf}
	old, cur := newRepeatScratch(prevH, exclude), newRepeatScratch(h, exclude)
	pnc := affinity.CustomerID(prevH.NumCustomers())
	for i, c := range ch.Customers {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return RepeatTally{}, err
			}
		}
		if c < pnc {
			r, n := old.customer(prevH, c, prev.AsOf.Unix())
			t.Repeat -= r
			t.Total -= n
		}
		r, n := cur.customer(h, c, asOf.Unix())
		t.Repeat += r
		t.Total += n
	}
	return t, nil
}

// checkArgs checks the arguments of CountRepeats, RecountRepeats, Tune
// and Choose: a context, a History and an as-of time.
func checkArgs(ctx context.Context, h *affinity.History, asOf time.Time) error {
	if err := affinity.CheckContext("recommend", ctx); err != nil {
		return err
	}
	if h == nil {
		return affinity.NilArgument("recommend", "History")
	}
	return affinity.CheckAsOf("recommend", asOf)
}

// repeatScratch marks products per customer and per order while counting
// repeats in one History.
type repeatScratch struct {
	seen    []uint32 // customer+1 who bought the product in an earlier order
	inOrder []uint32 // order+1 that has the product already
	excl    bitset   // products that do not count (non-merchandise)
}

// newRepeatScratch returns the scratch of h's products, those of exclude
// (nil: none) left out.
func newRepeatScratch(h *affinity.History, exclude *roaring.Bitmap) *repeatScratch {
	np := h.Catalog().NumProducts()
	return &repeatScratch{seen: make([]uint32, np), inOrder: make([]uint32, np), excl: bitsetOf(exclude, np)}
}

// customer returns customer c's repeat and total distinct products of
// its orders at or before end after its first, the excluded products
// aside (an order of them alone is no order).
func (rs *repeatScratch) customer(h *affinity.History, c affinity.CustomerID, end int64) (repeat, total int64) {
	mark := uint32(c) + 1
	olo, ohi := h.CustomerOrders(c)
	started := false // an order before o counted
	for o := olo; o < ohi && h.OrderUnix(o) <= end; o++ {
		l0, l1 := h.OrderLines(o)
		first := !started
		for i := l0; i < l1; i++ {
			p := h.LineProduct(i)
			if rs.excl.has(p) {
				continue
			}
			started = true
			if h.LineQuantity(i) <= 0 || rs.inOrder[p] == uint32(o)+1 {
				continue
			}
			rs.inOrder[p] = uint32(o) + 1
			if !first {
				total++
				if rs.seen[p] == mark {
					repeat++
				}
			}
		}
		for i := l0; i < l1; i++ {
			if h.LineQuantity(i) > 0 && !rs.excl.has(h.LineProduct(i)) {
				rs.seen[h.LineProduct(i)] = mark
			}
		}
	}
	return repeat, total
}
