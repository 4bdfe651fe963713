package evaluate

import (
	"cmp"
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/shopaffinity/affinity"
)

// The reserved names of the baselines. Rows with these names in a
// [Report] are always the baselines of this file.
const (
	PopularName        = "popular"
	SegmentPopularName = "segment-popular"
	RepeatName         = "repeat"
	RandomName         = "random"
)

// interactionKinds are the event kinds the recommenders of this package
// learn from besides bought lines: ratings, the default of
// [Options.Events]. [Repeat] learns from the kinds of Options.Events when
// Evaluate fits it.
const interactionKinds = kindMask(1 << affinity.Rating)

// fitCheck rejects the nil inputs and the zero as-of time of the
// baselines' Fit methods, and returns asOf in Unix seconds: the last
// second whose interactions count.
func fitCheck(ctx context.Context, train *affinity.History, asOf time.Time) (int64, error) {
	if err := checkInput(ctx, train); err != nil {
		return 0, err
	}
	if err := affinity.CheckAsOf("evaluate", asOf); err != nil {
		return 0, err
	}
	return asOf.Unix(), nil
}

// Baselines returns the four baselines in report order: [Popular],
// [SegmentPopular], [Repeat] and [Random] (seeded with seed).
func Baselines(seed uint64) []Recommender {
	return []Recommender{&Popular{}, &SegmentPopular{}, &Repeat{}, &Random{Seed: seed}}
}

// popularity counts, per product, the distinct training customers who
// bought or rated it, plus each anonymous order containing it, over
// interactions in [since, until] (Unix seconds). It returns the products
// with a positive count, most popular first, ties by id, and the counts.
func popularity(ctx context.Context, h *affinity.History, since, until int64) ([]affinity.ProductID, []int32, error) {
	np := h.Catalog().NumProducts()
	count := make([]int32, np)
	stamp := make([]uint32, np)
	for c := range affinity.CustomerID(h.NumCustomers()) {
		if c%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
		}
		forInteractions(h, c, interactionKinds, 0, func(p affinity.ProductID, unix int64, _ float32) {
			if unix >= since && unix <= until && stamp[p] != uint32(c)+1 {
				stamp[p] = uint32(c) + 1
				count[p]++
			}
		})
	}
	lo, hi := h.AnonymousOrders()
	var prods []affinity.ProductID
	for o := lo; o < hi; o++ {
		if t := h.OrderUnix(o); t < since || t > until {
			continue
		}
		prods = basketProducts(prods[:0], h, o)
		for _, p := range prods {
			count[p]++
		}
	}
	return rankByCount(count), count, nil
}

// rankByCount returns the products with a positive count, highest first,
// ties by id.
func rankByCount(count []int32) []affinity.ProductID {
	var ranked []affinity.ProductID
	for p, n := range count {
		if n > 0 {
			ranked = append(ranked, affinity.ProductID(p))
		}
	}
	slices.SortFunc(ranked, func(a, b affinity.ProductID) int {
		return cmp.Or(cmp.Compare(count[b], count[a]), cmp.Compare(a, b))
	})
	return ranked
}

// appendRanked appends to dst, until it holds k products, the products of
// ranked that are neither excluded nor already in dst[from:].
func appendRanked(dst []affinity.ProductID, from int, ranked []affinity.ProductID, k int, exclude func(affinity.ProductID) bool) []affinity.ProductID {
	for _, p := range ranked {
		if len(dst)-from >= k {
			break
		}
		if exclude != nil && exclude(p) {
			continue
		}
		if slices.Contains(dst[from:], p) {
			continue
		}
		dst = append(dst, p)
	}
	return dst
}

// Popular is the "popular" baseline: the same list for everybody, the
// products bought or rated by the most distinct training customers (each
// anonymous order counts as one more buyer), ties by product id. The zero
// value counts the whole training period, up to the as-of time of Fit;
// later interactions never count.
type Popular struct {
	// Window, when positive, counts only interactions in (asOf-Window,
	// asOf]: "popular lately".
	Window time.Duration

	ranked []affinity.ProductID
}

// Name returns "popular".
func (*Popular) Name() string { return PopularName }

// Fit counts the training interactions at or before asOf (in the Window
// before it, when set); linear in the size of train. A zero asOf is an
// error wrapping [affinity.ErrNoAsOf].
func (b *Popular) Fit(ctx context.Context, train *affinity.History, asOf time.Time) error {
	b.ranked = nil
	until, err := fitCheck(ctx, train, asOf)
	if err != nil {
		return err
	}
	var since int64 = -1 << 63
	if b.Window > 0 {
		// records are whole seconds: t > asOf−Window iff t ≥ ⌊asOf−Window⌋+1
		since = asOf.Add(-b.Window).Unix() + 1
	}
	ranked, _, err := popularity(ctx, train, since, until)
	if err != nil {
		return err
	}
	b.ranked = ranked
	return nil
}

// Recommend appends the k most popular products not excluded.
func (b *Popular) Recommend(dst []affinity.ProductID, _ affinity.CustomerID, k int, exclude func(affinity.ProductID) bool) []affinity.ProductID {
	return appendRanked(dst, len(dst), b.ranked, k, exclude)
}

// SegmentPopular is the "segment-popular" baseline: the most popular
// products among the customers of the customer's own segment, topped up
// from the global popular list. When the catalog has categories, a
// customer's segment is their dominant category at Depth: the node with
// the largest sum of category-share weights ([affinity.Catalog.Shares])
// over the distinct products they bought or rated (ties by category id).
// Without categories, segments are frequency bands of the number of
// distinct interaction times (1, 2–3, 4–7, 8 or more orders), so that
// one-off buyers, returning and loyal customers each get their own list.
// Customers without interactions get the global list. Only interactions
// at or before the as-of time of Fit count.
type SegmentPopular struct {
	// Depth is the category level that defines segments; default 1 (top
	// level).
	Depth int

	global  []affinity.ProductID
	segment []int32                // per customer; -1 for none
	lists   [][]affinity.ProductID // per segment
}

// Name returns "segment-popular".
func (*SegmentPopular) Name() string { return SegmentPopularName }

// Fit assigns segments and counts popularity per segment, from the
// interactions at or before asOf; linear in the size of train plus a sort
// per segment. A zero asOf is an error wrapping [affinity.ErrNoAsOf].
func (b *SegmentPopular) Fit(ctx context.Context, train *affinity.History, asOf time.Time) error {
	b.global, b.segment, b.lists = nil, nil, nil
	until, err := fitCheck(ctx, train, asOf)
	if err != nil {
		return err
	}
	global, _, err := popularity(ctx, train, -1<<63, until)
	if err != nil {
		return err
	}
	cat := train.Catalog()
	nc := train.NumCustomers()
	depth := max(b.Depth, 1)
	segment := make([]int32, nc)
	segOf := map[int64]int32{}
	var counts []map[affinity.ProductID]int32
	weights := map[affinity.CategoryID]float32{}
	var prods []affinity.ProductID
	var times []int64
	for c := range affinity.CustomerID(nc) {
		if c%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		prods, times = prods[:0], times[:0]
		forInteractions(train, c, interactionKinds, 0, func(p affinity.ProductID, unix int64, _ float32) {
			if unix <= until {
				prods = append(prods, p)
				times = append(times, unix)
			}
		})
		segment[c] = -1
		if len(prods) == 0 {
			continue
		}
		slices.Sort(prods)
		prods = slices.Compact(prods)
		var key int64 = -1
		if cat.NumCategories() > 0 {
			clear(weights)
			for _, p := range prods {
				for _, sh := range cat.Shares(p) {
					if cat.Depth(sh.Category) == depth {
						weights[sh.Category] += sh.Weight
					}
				}
			}
			best, bestW := affinity.NoCategory, float32(0)
			for cid, w := range weights {
				if w > bestW || (w == bestW && cid < best) {
					best, bestW = cid, w
				}
			}
			if best != affinity.NoCategory {
				key = int64(best)
			}
		} else {
			slices.Sort(times)
			key = int64(frequencyBand(len(slices.Compact(times))))
		}
		if key < 0 {
			continue
		}
		s, ok := segOf[key]
		if !ok {
			s = int32(len(counts))
			segOf[key] = s
			counts = append(counts, map[affinity.ProductID]int32{})
		}
		segment[c] = s
		for _, p := range prods {
			counts[s][p]++
		}
	}
	lists := make([][]affinity.ProductID, len(counts))
	for s, m := range counts {
		l := make([]affinity.ProductID, 0, len(m))
		for p := range m {
			l = append(l, p)
		}
		slices.SortFunc(l, func(x, y affinity.ProductID) int {
			return cmp.Or(cmp.Compare(m[y], m[x]), cmp.Compare(x, y))
		})
		lists[s] = l
	}
	b.global, b.segment, b.lists = global, segment, lists
	return nil
}

// frequencyBand returns 0 for 1 order, 1 for 2–3, 2 for 4–7, 3 for 8 or
// more.
func frequencyBand(n int) int {
	switch {
	case n <= 1:
		return 0
	case n <= 3:
		return 1
	case n <= 7:
		return 2
	}
	return 3
}

// Recommend appends the segment's most popular products, then the global
// ones, k in all, none excluded.
func (b *SegmentPopular) Recommend(dst []affinity.ProductID, c affinity.CustomerID, k int, exclude func(affinity.ProductID) bool) []affinity.ProductID {
	from := len(dst)
	if int(c) < len(b.segment) && b.segment[c] >= 0 {
		dst = appendRanked(dst, from, b.lists[b.segment[c]], k, exclude)
	}
	return appendRanked(dst, from, b.global, k, exclude)
}

// Repeat is the "repeat" baseline: the customer's own most frequent
// products in training up to the as-of time of Fit — bought (once per
// order with a bought line) or with an event of an interaction kind (once
// per event) — most frequent first, ties by the latest interaction, then
// by product id. The interaction kinds are those that make a product
// "seen" in [Evaluate]: the kinds of [Options.Events] when Evaluate fits
// it, ratings (their default) when Fit is called directly. So it
// recommends nothing new, its explore metrics are zero, and with
// [Options.ExcludeSeen] it recommends nothing at all.
type Repeat struct {
	train   *affinity.History
	until   int64    // asOf of Fit, Unix seconds
	kinds   kindMask // event kinds that count
	count   []int32
	last    []int64
	touched []affinity.ProductID
	basket  []affinity.ProductID
}

// Name returns "repeat".
func (*Repeat) Name() string { return RepeatName }

// Fit keeps train, asOf and the default interaction kinds (ratings); the
// lists are computed per call from the customer's own history. A zero
// asOf is an error wrapping [affinity.ErrNoAsOf].
func (b *Repeat) Fit(ctx context.Context, train *affinity.History, asOf time.Time) error {
	return b.fitKinds(ctx, train, asOf, interactionKinds)
}

// fitKinds is Fit with the event kinds that count as interactions;
// [Evaluate] passes those of [Options.Events], which define "seen".
func (b *Repeat) fitKinds(ctx context.Context, train *affinity.History, asOf time.Time, kinds kindMask) error {
	b.train = nil
	until, err := fitCheck(ctx, train, asOf)
	if err != nil {
		return err
	}
	np := train.Catalog().NumProducts()
	b.train, b.until, b.kinds = train, until, kinds
	b.count = make([]int32, np)
	b.last = make([]int64, np)
	return nil
}

// Recommend appends c's k most frequent products, none excluded; k ≤ 0
// appends nothing. Proportional to c's number of interactions.
func (b *Repeat) Recommend(dst []affinity.ProductID, c affinity.CustomerID, k int, exclude func(affinity.ProductID) bool) []affinity.ProductID {
	if b.train == nil || k <= 0 || int(c) >= b.train.NumCustomers() {
		return dst
	}
	b.touched = b.touched[:0]
	olo, ohi := b.train.CustomerOrders(c)
	for o := olo; o < ohi; o++ {
		if b.train.OrderUnix(o) > b.until {
			continue
		}
		b.basket = basketProducts(b.basket[:0], b.train, o)
		for _, p := range b.basket {
			if b.count[p] == 0 {
				b.touched = append(b.touched, p)
			}
			b.count[p]++
			b.last[p] = b.train.OrderUnix(o)
		}
	}
	lo, hi := b.train.CustomerEvents(c)
	for i := lo; i < hi; i++ {
		e := b.train.Event(i)
		if !b.kinds.has(e.Kind) || e.Unix > b.until {
			continue
		}
		if b.count[e.Product] == 0 {
			b.touched = append(b.touched, e.Product)
		}
		b.count[e.Product]++
		b.last[e.Product] = max(b.last[e.Product], e.Unix)
	}
	slices.SortFunc(b.touched, func(x, y affinity.ProductID) int {
		return cmp.Or(cmp.Compare(b.count[y], b.count[x]), cmp.Compare(b.last[y], b.last[x]), cmp.Compare(x, y))
	})
	dst = appendRanked(dst, len(dst), b.touched, k, exclude)
	for _, p := range b.touched {
		b.count[p], b.last[p] = 0, 0
	}
	return dst
}

// Random is the "random" baseline: k distinct products drawn uniformly
// from the training products with at least one interaction (a bought line
// or a rating) at or before the as-of time of Fit, from a PCG source
// seeded with Seed and the customer id, so that a customer's list does not
// depend on who else is evaluated.
type Random struct {
	Seed uint64

	pool   []affinity.ProductID
	chosen []bool
}

// Name returns "random".
func (*Random) Name() string { return RandomName }

// Fit collects the products with interactions at or before asOf. A zero
// asOf is an error wrapping [affinity.ErrNoAsOf].
func (b *Random) Fit(ctx context.Context, train *affinity.History, asOf time.Time) error {
	b.pool = nil
	until, err := fitCheck(ctx, train, asOf)
	if err != nil {
		return err
	}
	ranked, _, err := popularity(ctx, train, -1<<63, until)
	if err != nil {
		return err
	}
	slices.Sort(ranked)
	b.pool = ranked
	b.chosen = make([]bool, train.Catalog().NumProducts())
	return nil
}

// Recommend appends k random products, none excluded.
func (b *Random) Recommend(dst []affinity.ProductID, c affinity.CustomerID, k int, exclude func(affinity.ProductID) bool) []affinity.ProductID {
	n := len(b.pool)
	if n == 0 || k <= 0 {
		return dst
	}
	k = min(k, n) // no more to draw: the tries below stay bounded by the pool
	from := len(dst)
	rng := rand.New(rand.NewPCG(b.Seed, uint64(c)+0x9e3779b97f4a7c15))
	// rejection sampling while it is cheap, then a scan of a shuffled
	// order for what is left
	for tries := 0; len(dst)-from < k && tries < 8*k+64; tries++ {
		p := b.pool[rng.IntN(n)]
		if b.chosen[p] || (exclude != nil && exclude(p)) {
			continue
		}
		b.chosen[p] = true
		dst = append(dst, p)
	}
	if len(dst)-from < k {
		for _, i := range rng.Perm(n) {
			if len(dst)-from >= k {
				break
			}
			p := b.pool[i]
			if b.chosen[p] || (exclude != nil && exclude(p)) {
				continue
			}
			b.chosen[p] = true
			dst = append(dst, p)
		}
	}
	for _, p := range dst[from:] {
		b.chosen[p] = false
	}
	return dst
}

// reservedName reports whether name contains a baseline's word
// ("popular", "repeat" or "random").
func reservedName(name string) bool {
	return strings.Contains(name, PopularName) || strings.Contains(name, RepeatName) || strings.Contains(name, RandomName)
}

// isBaseline reports whether r is one of this package's baselines.
func isBaseline(r Recommender) bool {
	switch r.(type) {
	case *Popular, *SegmentPopular, *Repeat, *Random:
		return true
	}
	return false
}
