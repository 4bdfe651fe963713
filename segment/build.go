package segment

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/shopaffinity/affinity/internal/bsi"
	"github.com/shopaffinity/affinity/internal/roaringio"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/parallel"
)

const (
	shareScale    = 10_000 // shares are stored in 1/10000
	secondsPerDay = 86_400
	chunkBits     = 16 // customers are processed in runs of 2^16, one roaring container each
)

// Build computes the features of every customer of h as of asOf and
// indexes them. Only orders and events at or before asOf count; nothing
// reads the clock. Customers are processed in runs of 65,536 on
// opts.Workers goroutines and the partial results are merged in order, so
// the index does not depend on the number of workers. Build takes time
// linear in the lines and events of h plus the size of the index; it
// returns ctx.Err() when ctx is done first, an error wrapping [ErrInvalid]
// for bad options or a zero asOf (which also matches
// [affinity.ErrNoAsOf]) and one wrapping [ErrNoData] when h has no order or event
// at or before asOf. A History whose orders by asOf are all anonymous
// (baskets without customers, a shop of guest checkouts) gives an index
// of no customers: every query selects nobody.
func Build(ctx context.Context, h *affinity.History, asOf time.Time, opts Options) (*Index, error) {
	if err := affinity.CheckContext("segment", ctx, ErrInvalid); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, affinity.NilArgument("segment", "History", ErrInvalid)
	}
	b, err := prepare(h.Catalog(), h.NumCustomers(), asOf, opts)
	if err != nil {
		return nil, err
	}
	b.h = h
	b.key = func(c int) string { return h.CustomerKey(affinity.CustomerID(c)) }
	if err := b.scan(ctx); err != nil {
		return nil, err
	}
	if err := b.checkDays(); err != nil {
		return nil, err
	}
	if b.nKnown == 0 {
		// nobody has an order or event by asOf: an index of no customers
		// when the History has anonymous orders by then, else no data
		s := h.Summary()
		switch {
		case s.Orders > 0 && s.First.After(asOf):
			return nil, fmt.Errorf("%w: asOf %s is before the first order (%s)", ErrNoData, asOf.UTC().Format(time.DateTime), s.First.Format(time.DateTime))
		case s.Orders == 0:
			return nil, fmt.Errorf("%w: asOf %s, history has no orders and %d events", ErrNoData, asOf.UTC().Format(time.DateTime), s.Events)
		}
	}
	return b.finish(ctx)
}

// prepare checks asOf and opts and returns the builder of nc customers
// over cat (its History unset).
func prepare(cat *affinity.Catalog, nc int, asOf time.Time, opts Options) (*builder, error) {
	return prepareWith(cat, nc, asOf, opts, nil, false)
}

// prepareWith is prepare with the category weights w of cat, when not
// nil, computed before; with noArrays set the builder's per-customer
// arrays are left for the caller to set.
func prepareWith(cat *affinity.Catalog, nc int, asOf time.Time, opts Options, w *weights, noArrays bool) (*builder, error) {
	if err := affinity.CheckAsOf("segment", asOf, ErrInvalid); err != nil {
		return nil, err
	}
	lookDays, start := lookWindow(opts.Lookback, asOf.Unix())
	o, err := opts.withDefaults(lookDays)
	if err != nil {
		return nil, err
	}
	if o.Lookback.All {
		lookDays = maxDays - 1
	}
	if n := cat.NumCategories(); n >= 1<<28 {
		return nil, fmt.Errorf("%w: %d categories are more than the index supports", ErrInvalid, n)
	}
	b := newBuilder(cat, nc, asOf.Unix(), o, lookDays, start, w, noArrays)
	b.given = opts
	b.given.Workers = 0                       // not an option of the index
	b.given.NonMerchandise = o.NonMerchandise // the copy, never changed
	return b, nil
}

// checkDays reports an error when an order or event of the look-back
// lies more days back than the index supports.
func (b *builder) checkDays() error {
	if b.maxDay >= int64(b.lookDays) {
		return fmt.Errorf("%w: Lookback %v reaches %d days back, at most %d are supported", ErrInvalid, b.opts.Lookback, b.maxDay, b.lookDays-1)
	}
	return nil
}

// builder carries the state of one Build.
type builder struct {
	h        *affinity.History // nil in a Join
	key      func(c int) string
	cat      *affinity.Catalog
	asOf     int64
	opts     Options
	lookDays int
	given    Options // opts as given, before defaults (Workers aside)
	start    int64   // Unix time: the look-back is (start, asOf]
	halfLife float64 // seconds; 0 = no decay
	maxDay   int64   // most days back of an order or event in the look-back
	nonMerch []bool  // per product: in Options.NonMerchandise (nil: none)

	weights
	nc, ncat int
	depth    []uint8 // per category

	// per customer, written by the chunk that owns the customer
	custArrays
	nKnown int64

	chunks []chunkResult

	// only, when set, lists the customers to scan (ascending): a delta
	// of Update scans the changed customers alone. shared is then the
	// index whose catalog-level parts (category and product names) the
	// delta shares; its population-wide parts are Update's.
	only    []uint32
	shared  *Index
	scratch *scratch // where a scan of only returns its arrays
}

// weights are the integer category weights of exact shares.
type weights struct {
	// exact is set when the shares are kept as exact integer ratios
	// (no half-life, see exactWeights); shareW holds, per entry of
	// Catalog.Shares, the weight times den, an integer.
	exact  bool
	den    int64
	shareW []int64
	wOff   []uint32 // per product, into shareW
}

// custArrays are a build's per-customer values, indexed by customer id.
type custArrays struct {
	known                      []bool
	recency, tenure, abandoned []int32 // -1 = none
	freq                       []int32
	monetary                   []int64
	lastBuy                    []int64 // Unix time of the last bought order, any time up to asOf
	totSpend, totItems         []int64 // exact share denominators (times den), when exact
}

// newArrays returns the arrays of nc customers (totSpend and totItems
// only when exact).
func newArrays(nc int, exact bool) custArrays {
	a := custArrays{
		known:     make([]bool, nc),
		recency:   make([]int32, nc),
		tenure:    make([]int32, nc),
		abandoned: make([]int32, nc),
		freq:      make([]int32, nc),
		monetary:  make([]int64, nc),
		lastBuy:   make([]int64, nc),
	}
	if exact {
		a.totSpend, a.totItems = make([]int64, nc), make([]int64, nc)
	}
	return a
}

// newBuilder returns the builder of nc customers. w, when not nil, are
// the category weights of cat, computed before; with noArrays set the
// per-customer arrays are left for the caller to set.
func newBuilder(cat *affinity.Catalog, nc int, asOf int64, o Options, lookDays int, start int64, w *weights, noArrays bool) *builder {
	b := &builder{
		cat: cat, asOf: asOf, opts: o,
		lookDays: lookDays,
		start:    start,
		halfLife: o.HalfLife.Seconds(),
		nc:       nc,
		ncat:     cat.NumCategories(),
		chunks:   make([]chunkResult, (nc+1<<chunkBits-1)>>chunkBits),
	}
	if w != nil {
		b.weights = *w
	} else {
		b.exactWeights()
	}
	if !noArrays {
		b.custArrays = newArrays(nc, b.exact)
	}
	if o.NonMerchandise != nil {
		b.nonMerch = make([]bool, cat.NumProducts())
		for it := o.NonMerchandise.Iterator(); it.HasNext(); {
			if p := it.Next(); int(p) < len(b.nonMerch) {
				b.nonMerch[p] = true
			}
		}
	}
	b.depth = make([]uint8, b.ncat)
	for c := range b.ncat {
		b.depth[c] = uint8(min(b.cat.Depth(affinity.CategoryID(c)), math.MaxUint8))
	}
	return b
}

// maxShareDen bounds the common denominator of the category weights for
// which shares are kept exactly.
const maxShareDen = 1 << 20

// exactWeights decides whether the shares can be kept as exact ratios of
// integers and prepares the integer weights. A product in n category
// paths counts toward a category node with weight m/n (m of its paths lie
// below the node, at most n); with den the least common multiple of every
// product's n, each weight times den is the integer m·den/n, so spend and
// items per category are integers times den. Decayed shares (a positive
// HalfLife) are real numbers and stay at the stored resolution.
func (b *builder) exactWeights() {
	if b.opts.HalfLife > 0 {
		return
	}
	cat := b.cat
	np := cat.NumProducts()
	den := int64(1)
	for p := range np {
		n := int64(len(cat.Categories(affinity.ProductID(p))))
		if n > 1 {
			den = den / gcd(den, n) * n
			if den > maxShareDen {
				return
			}
		}
	}
	b.wOff = make([]uint32, np+1)
	for p := range np {
		id := affinity.ProductID(p)
		n := int64(len(cat.Categories(id)))
		for _, sh := range cat.Shares(id) {
			m := int64(math.Round(float64(sh.Weight) * float64(n)))
			b.shareW = append(b.shareW, min(m, n)*(den/max(n, 1)))
		}
		b.wOff[p+1] = uint32(len(b.shareW))
	}
	b.exact, b.den = true, den
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// satMulAdd returns acc + v·w and false, or a value saturated at the
// int64 range and true when v·w or the sum leaves that range (w > 0).
func satMulAdd(acc, v, w int64) (int64, bool) {
	p := v
	if w != 1 { // w is 1 for one category path and den 1: the usual case
		hi, lo := bits.Mul64(uint64(max(v, -v)), uint64(w))
		if hi != 0 || lo > math.MaxInt64 || v == math.MinInt64 {
			return saturated(v), true
		}
		if p = int64(lo); v < 0 {
			p = -p
		}
	}
	s := acc + p
	if (p > 0 && s < acc) || (p < 0 && s > acc) {
		return saturated(p), true
	}
	return s, false
}

// saturated returns the end of the int64 range on the side of v's sign.
func saturated(v int64) int64 {
	if v < 0 {
		return math.MinInt64
	}
	return math.MaxInt64
}

// catPair is one customer's values in one category.
type catPair struct {
	cat                        uint32
	low                        uint16 // customer id & 0xffff
	spend, items, orders, days uint16
	rank                       uint8
	// the exact numerators of the shares (spend and items times den,
	// orders) less the ones the stored shares imply (predictNum), when the
	// builder keeps shares exactly: computed while the customer's totals
	// are at hand, which saves the category step a cache miss per pair.
	// Differences of items or orders beyond 32 bits turn exact shares off
	// (see scanner.sat).
	resSpend            int64
	resItems, resOrders int32
}

// evPair is the days since a customer's last view or cart in a category.
type evPair struct {
	cat  uint32
	low  uint16
	days uint16
}

// prodPair is the days since a customer's last interaction with a product.
type prodPair struct {
	prod uint32
	low  uint16
	days uint16
}

type dayPair struct {
	day int32 // Unix day
	low uint16
}

// chunkResult is the partial result of one run of 2^16 customers. Pairs
// are sorted by category (customer order kept within a category) with
// offsets per category.
type chunkResult struct {
	pairs    []catPair
	pairOff  []uint32
	ev       [2][]evPair // views, carts
	evOff    [2][]uint32
	prods    [numActs][]prodPair
	days     []dayPair
	popSpend []float64
	popTotal float64
	// popNum is, per category, the sum of the exact spend numerators,
	// when exact
	popNum []sum128
}

// scan computes the per-customer features, chunk by chunk.
func (b *builder) scan(ctx context.Context) error {
	workers := make([]*scanner, max(1, min(b.opts.Workers, len(b.chunks))))
	var known atomic.Int64
	err := parallel.For(ctx, len(workers), len(b.chunks), func(w, k int) error {
		if workers[w] == nil {
			workers[w] = newScanner(b)
		}
		n, err := workers[w].chunk(ctx, k, &b.chunks[k])
		known.Add(n)
		return err
	})
	b.nKnown = known.Load()
	for _, s := range workers {
		if s != nil {
			b.maxDay = max(b.maxDay, s.maxDay)
			if s.sat {
				// a customer's spend times den left the int64 range:
				// shares fall back to the stored resolution
				b.exact = false
			}
		}
	}
	return err
}

// scanner holds one worker's scratch space, indexed by category or
// product and reset lazily by stamping with the customer id + 1. What one
// category needs sits in one struct, so that a line touches one cache line
// per category.
type scanner struct {
	b *builder

	cats     []catScratch
	touched  []uint32
	bought   []uint32
	prods    []prodScratch
	ptouched []uint32
	levels   []levelTop
	pairs    []catPair
	ev       [2][]evPair
	maxDay   int64
	sat      bool
}

// prodScratch is one customer's interactions with one product.
type prodScratch struct {
	lastBuy int64 // Unix time of the last bought line, any time up to asOf
	stamp   uint32
	days    [numActs]int32 // days since the last interaction in the look-back; -1 none
}

// catScratch is one customer's running totals in one category.
type catScratch struct {
	spend, items, ordw float64
	exSpend, exItems   int64 // exact spend and items times den
	exOrders           int64
	stamp              uint32 // customer id + 1 of these totals
	ostamp             uint32 // order id + 1 that last counted toward ordw
	days               int32  // days since the last purchase; -1 none
	evdays             [2]int32
	spendQ, itemQ      uint16
	rank               uint16
}

func newScanner(b *builder) *scanner {
	np := b.cat.NumProducts()
	s := &scanner{
		b:     b,
		cats:  make([]catScratch, b.ncat),
		prods: make([]prodScratch, np),
	}
	return s
}

func (s *scanner) touchCat(cat affinity.CategoryID, stamp uint32) *catScratch {
	cs := &s.cats[cat]
	if cs.stamp != stamp {
		ostamp := cs.ostamp
		*cs = catScratch{stamp: stamp, ostamp: ostamp, days: -1, evdays: [2]int32{-1, -1}}
		s.touched = append(s.touched, uint32(cat))
	}
	return cs
}

func (s *scanner) touchProduct(p affinity.ProductID, stamp uint32) *prodScratch {
	ps := &s.prods[p]
	if ps.stamp != stamp {
		*ps = prodScratch{lastBuy: math.MinInt64, stamp: stamp, days: [numActs]int32{-1, -1, -1}}
		s.ptouched = append(s.ptouched, uint32(p))
	}
	return ps
}

// quantShare converts a share in [0, 1] to 1/shareScale, rounding half away
// from zero.
func quantShare(num, den float64) uint16 {
	if den <= 0 {
		return 0
	}
	return uint16(min(math.Round(num/den*shareScale), shareScale))
}

// chunk scans the customers of run k into out and returns how many of
// them the index knows.
func (s *scanner) chunk(ctx context.Context, k int, out *chunkResult) (int64, error) {
	b := s.b
	out.popSpend = make([]float64, b.ncat)
	out.popNum = make([]sum128, b.ncat)
	lo, hi := k<<chunkBits, min((k+1)<<chunkBits, b.nc)
	if b.only != nil {
		return s.subset(ctx, lo, hi, out)
	}
	if hi > lo {
		// per customer: a History built on a base need not keep the
		// customers' orders next to each other
		lines, orders := 0, 0
		for c := affinity.CustomerID(lo); c < affinity.CustomerID(hi); c++ {
			l0, l1 := b.h.CustomerLines(c)
			o0, o1 := b.h.CustomerOrders(c)
			lines, orders = lines+l1-l0, orders+int(o1-o0)
		}
		s.presize(out, lines, orders)
	}
	pairs := s.pairs[:0]
	ev := [2][]evPair{s.ev[0][:0], s.ev[1][:0]}
	var n int64
	for c := lo; c < hi; c++ {
		if (c-lo)%4096 == 4095 {
			if err := ctx.Err(); err != nil {
				return n, err
			}
		}
		if s.customer(c, out, &pairs, &ev) {
			n++
		}
	}
	s.group(out, pairs, ev)
	return n, nil
}

// presize makes room for the pairs, days and bought products of a chunk
// of lines lines in orders orders: about two category pairs per line is
// typical, and growing is slow.
func (s *scanner) presize(out *chunkResult, lines, orders int) {
	if need := 2 * lines; cap(s.pairs) < need {
		s.pairs = make([]catPair, 0, need)
	}
	out.days = make([]dayPair, 0, orders)
	out.prods[actBought] = make([]prodPair, 0, lines)
}

// group sorts the pairs of a chunk by category into out and keeps their
// buffers for the next chunk.
func (s *scanner) group(out *chunkResult, pairs []catPair, ev [2][]evPair) {
	out.pairs, out.pairOff = byCategory(pairs, s.b.ncat, func(p *catPair) uint32 { return p.cat })
	for i := range ev {
		out.ev[i], out.evOff[i] = byCategory(ev[i], s.b.ncat, func(p *evPair) uint32 { return p.cat })
	}
	s.pairs, s.ev = pairs, ev
}

// subset scans the customers of b.only in [lo, hi) into out, as chunk
// does for all of them.
func (s *scanner) subset(ctx context.Context, lo, hi int, out *chunkResult) (int64, error) {
	only := s.b.only
	i, _ := slices.BinarySearch(only, uint32(lo))
	j, _ := slices.BinarySearch(only, uint32(hi))
	var lines, orders int
	for _, c := range only[i:j] {
		l0, l1 := s.b.h.CustomerLines(affinity.CustomerID(c))
		o0, o1 := s.b.h.CustomerOrders(affinity.CustomerID(c))
		lines, orders = lines+l1-l0, orders+int(o1-o0)
	}
	s.presize(out, lines, orders)
	pairs := s.pairs[:0]
	ev := [2][]evPair{s.ev[0][:0], s.ev[1][:0]}
	var n int64
	for k, c := range only[i:j] {
		if k%4096 == 4095 {
			if err := ctx.Err(); err != nil {
				return n, err
			}
		}
		if s.customer(int(c), out, &pairs, &ev) {
			n++
		}
	}
	s.group(out, pairs, ev)
	return n, nil
}

// customer computes the features of customer c; it reports whether c has
// any order or event at or before asOf.
func (s *scanner) customer(c int, out *chunkResult, pairs *[]catPair, ev *[2][]evPair) bool {
	b := s.b
	h, cat := b.h, b.cat
	id := affinity.CustomerID(c)
	stamp := uint32(c) + 1
	low := uint16(c)
	s.touched, s.ptouched = s.touched[:0], s.ptouched[:0]
	known := false
	recency, tenure := int32(-1), int32(-1)
	var freq int32
	var monetary int64
	var totSpend, totItems, totOrders float64
	var exSpend, exItems int64
	lastDay := int64(math.MinInt64)
	lastBuy := int64(math.MinInt64)

	olo, ohi := h.CustomerOrders(id)
	for o := olo; o < ohi; o++ {
		t := h.OrderUnix(o)
		if t > b.asOf {
			break // a customer's orders are in time order
		}
		known = true
		d := (b.asOf - t) / secondsPerDay
		inWin := t > b.start
		if inWin {
			s.maxDay = max(s.maxDay, d)
		}
		wt := 1.0
		if inWin && b.halfLife > 0 {
			wt = math.Exp2(-float64(b.asOf-t) / b.halfLife)
		}
		bought := false
		llo, lhi := h.OrderLines(o)
		for i := llo; i < lhi; i++ {
			ln := h.Line(i)
			if inWin {
				monetary += int64(ln.Value())
			}
			if ln.Quantity <= 0 {
				continue
			}
			bought = true
			p := ln.Product
			ps := s.touchProduct(p, stamp)
			ps.lastBuy = t
			if !inWin {
				continue
			}
			ps.days[actBought] = int32(d)
			v := float64(ln.Value()) * wt
			q := float64(ln.Quantity) * wt
			totSpend += v
			totItems += q
			var ws []int64
			if b.exact {
				ws = b.shareW[b.wOff[p]:b.wOff[p+1]]
				var s1, s2 bool
				exSpend, s1 = satMulAdd(exSpend, int64(ln.Value()), b.den)
				exItems, s2 = satMulAdd(exItems, int64(ln.Quantity), b.den)
				s.sat = s.sat || s1 || s2
			}
			shares := cat.Shares(p)
			if b.nonMerch != nil && b.nonMerch[p] {
				shares = nil // spend, not a taste: in the totals only
			}
			for j, sh := range shares {
				cs := s.touchCat(sh.Category, stamp)
				sw := float64(sh.Weight)
				cs.spend += v * sw
				cs.items += q * sw
				if cs.ostamp != uint32(o)+1 {
					cs.ostamp = uint32(o) + 1
					cs.ordw += wt
					cs.exOrders++
				}
				cs.days = int32(d)
				if ws != nil {
					var s1, s2 bool
					cs.exSpend, s1 = satMulAdd(cs.exSpend, int64(ln.Value()), ws[j])
					cs.exItems, s2 = satMulAdd(cs.exItems, int64(ln.Quantity), ws[j])
					s.sat = s.sat || s1 || s2
				}
			}
		}
		if !bought {
			continue
		}
		if tenure < 0 {
			tenure = clampDays(d)
		}
		recency = clampDays(d)
		lastBuy = t
		if day := floorDiv(t, secondsPerDay); day != lastDay {
			out.days = append(out.days, dayPair{day: int32(day), low: low})
			lastDay = day
		}
		if inWin {
			freq++
			totOrders += wt
		}
	}

	abandoned := int32(-1)
	elo, ehi := h.CustomerEvents(id)
	for i := elo; i < ehi; i++ {
		e := h.Event(i)
		if e.Unix > b.asOf {
			break // events are in time order
		}
		known = true
		d := (b.asOf - e.Unix) / secondsPerDay
		if e.Unix <= b.start {
			continue
		}
		s.maxDay = max(s.maxDay, d)
		var kind int
		switch e.Kind {
		case affinity.View:
			kind = actViewed
		case affinity.Cart:
			kind = actCarted
		default:
			continue
		}
		ps := s.touchProduct(e.Product, stamp)
		ps.days[kind] = int32(d)
		shares := cat.Shares(e.Product)
		if b.nonMerch != nil && b.nonMerch[e.Product] {
			shares = nil // as if it had no category
		}
		for _, sh := range shares {
			s.touchCat(sh.Category, stamp).evdays[kind-actViewed] = int32(d)
		}
		if kind == actCarted && ps.lastBuy < e.Unix {
			abandoned = int32(d)
		}
	}
	if !known {
		return false
	}
	b.known[c] = true
	b.recency[c], b.tenure[c], b.abandoned[c] = recency, tenure, abandoned
	b.freq[c], b.monetary[c], b.lastBuy[c] = freq, monetary, lastBuy
	if b.exact {
		b.totSpend[c], b.totItems[c] = exSpend, exItems
	}

	// categories: shares, ranks among the top N per level, events
	s.bought = s.bought[:0]
	for _, cc := range s.touched {
		cs := &s.cats[cc]
		if cs.days >= 0 {
			s.bought = append(s.bought, cc)
			cs.spendQ = quantShare(cs.spend, totSpend)
			cs.itemQ = quantShare(cs.items, totItems)
			cs.rank = 0
			out.popSpend[cc] += cs.spend
		}
		for k := range 2 {
			if d := cs.evdays[k]; d >= 0 {
				ev[k] = append(ev[k], evPair{cat: cc, low: low, days: uint16(d)})
			}
		}
	}
	out.popTotal += totSpend
	s.rankTop()
	for _, cc := range s.bought {
		cs := &s.cats[cc]
		p := catPair{
			cat: cc, low: low,
			spend: cs.spendQ, items: cs.itemQ,
			orders: quantShare(cs.ordw, totOrders),
			days:   uint16(cs.days),
			rank:   uint8(cs.rank),
		}
		if b.exact {
			out.popNum[cc].addInt(cs.exSpend)
			p.resSpend = cs.exSpend - predictNum(int64(p.spend), exSpend) // wraps, as exactPlan adds it back
			ri := cs.exItems - predictNum(int64(p.items), exItems)
			ro := cs.exOrders - predictNum(int64(p.orders), int64(freq))
			p.resItems, p.resOrders = int32(ri), int32(ro)
			if ri != int64(p.resItems) || ro != int64(p.resOrders) {
				s.sat = true
			}
		}
		*pairs = append(*pairs, p)
	}
	for _, p := range s.ptouched {
		for k := range numActs {
			if d := s.prods[p].days[k]; d >= 0 {
				out.prods[k] = append(out.prods[k], prodPair{prod: p, low: low, days: uint16(d)})
			}
		}
	}
	return true
}

// rankTop ranks the bought categories of the current customer within each
// level by spend, then items (exactly, see ahead), then category id, and
// keeps the ranks up to TopN: each level keeps only its TopN first
// categories, in order.
func (s *scanner) rankTop() {
	depth := s.b.depth
	topN := s.b.opts.TopN
	s.levels = s.levels[:0]
	for _, cc := range s.bought {
		d := depth[cc]
		var lt *levelTop
		for i := range s.levels {
			if s.levels[i].depth == d {
				lt = &s.levels[i]
				break
			}
		}
		if lt == nil {
			if len(s.levels) == cap(s.levels) {
				s.levels = append(s.levels, levelTop{cats: make([]uint32, topN)})
			} else {
				s.levels = s.levels[:len(s.levels)+1]
			}
			lt = &s.levels[len(s.levels)-1]
			lt.depth, lt.n = d, 0
		}
		if lt.n == topN && !s.ahead(cc, lt.cats[topN-1]) {
			continue
		}
		i := min(lt.n, topN-1)
		lt.n = min(lt.n+1, topN)
		for ; i > 0 && s.ahead(cc, lt.cats[i-1]); i-- {
			lt.cats[i] = lt.cats[i-1]
		}
		lt.cats[i] = cc
	}
	for i := range s.levels {
		lt := &s.levels[i]
		for r, cc := range lt.cats[:lt.n] {
			s.cats[cc].rank = uint16(r + 1)
		}
	}
}

// ahead reports whether the current customer's category a ranks before
// b: more spend, then more items, then the smaller id. Spend and items are
// the exact sums (times den) when shares are exact, else the (decayed)
// sums in floating point; never the shares rounded to 1/shareScale, which
// tie for spends a cent apart.
func (s *scanner) ahead(a, b uint32) bool {
	ca, cb := &s.cats[a], &s.cats[b]
	if s.b.exact {
		if ca.exSpend != cb.exSpend {
			return ca.exSpend > cb.exSpend
		}
		if ca.exItems != cb.exItems {
			return ca.exItems > cb.exItems
		}
	} else {
		if ca.spend != cb.spend {
			return ca.spend > cb.spend
		}
		if ca.items != cb.items {
			return ca.items > cb.items
		}
	}
	return a < b
}

// levelTop holds the first categories of one level of the category tree;
// cats has room for TopN.
type levelTop struct {
	depth uint8
	n     int
	cats  []uint32
}

func clampDays(d int64) int32 { return int32(min(d, math.MaxInt32)) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// byCategory sorts pairs by category with a stable counting sort and
// returns them with offsets per category.
func byCategory[T any](pairs []T, ncat int, cat func(*T) uint32) ([]T, []uint32) {
	off := make([]uint32, ncat+1)
	for i := range pairs {
		off[cat(&pairs[i])+1]++
	}
	for i := 1; i <= ncat; i++ {
		off[i] += off[i-1]
	}
	out := make([]T, len(pairs))
	pos := slices.Clone(off[:ncat])
	for i := range pairs {
		c := cat(&pairs[i])
		out[pos[c]] = pairs[i]
		pos[c]++
	}
	return out, off
}

// finish merges the chunk results into an Index.
func (b *builder) finish(ctx context.Context) (*Index, error) {
	x := &Index{
		asOf:     b.asOf,
		opts:     b.opts,
		given:    b.given,
		lookDays: b.lookDays,
		exact:    b.exact,
		catData:  make([]catData, b.ncat),
	}
	if b.shared != nil {
		b.shareCatalog(x)
	} else {
		b.catalog(x)
	}
	if b.exact {
		x.exDen = [3]packedInts{packInts(b.totSpend), packInts(b.totItems), packInts(b.freq)}
		x.share = new(shareBudget)
	}
	np := b.cat.NumProducts()

	// population sums, in chunk order
	var popNum []sum128
	var popDen sum128
	if b.exact {
		popNum, popDen = b.sums()
	}
	if b.shared == nil {
		x.popShare = make([]float64, b.ncat)
		if b.exact {
			exactShares(x.popShare, popNum, popDen)
		} else {
			popTotal := 0.0
			for k := range b.chunks {
				popTotal += b.chunks[k].popTotal
				for c, v := range b.chunks[k].popSpend {
					x.popShare[c] += v
				}
			}
			for c := range x.popShare {
				if popTotal > 0 {
					x.popShare[c] /= popTotal
				} else {
					x.popShare[c] = 0
				}
			}
		}
	}

	// the customer-level attributes, product postings and daily activity
	// first, then one task per category
	scalars := b.scalarTasks(x)
	for k := range numActs {
		scalars = append(scalars, func(*bsi.Builder) { x.acts[k] = b.postings(k, np) })
	}
	scalars = append(scalars, func(*bsi.Builder) { b.daily(x) })
	workers := max(1, b.opts.Workers)
	cbs := make([]*catBuilder, workers)
	bbs := make([]*bsi.Builder, workers)
	// categories largest first, so that no big one is left for the end
	order := make([]uint32, b.ncat)
	size := make([]int, b.ncat)
	for c := range order {
		order[c] = uint32(c)
		for k := range b.chunks {
			size[c] += int(b.chunks[k].pairOff[c+1] - b.chunks[k].pairOff[c])
		}
	}
	slices.SortStableFunc(order, func(a, c uint32) int { return cmp.Compare(size[c], size[a]) })
	err := parallel.For(ctx, workers, len(scalars)+b.ncat, func(w, i int) error {
		if i < len(scalars) {
			if bbs[w] == nil {
				bbs[w] = new(bsi.Builder)
			}
			scalars[i](bbs[w])
			return nil
		}
		if cbs[w] == nil {
			cbs[w] = new(catBuilder)
		}
		c := order[i-len(scalars)]
		b.category(cbs[w], x, c)
		if x.exact {
			x.catData[c].popNum = popNum[c].big()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	b.chunks = nil
	if x.exact {
		x.popDen = popDen.big()
		if b.h != nil && b.shared == nil {
			x.cols = &custCols{
				cat: b.cat, w: b.weights,
				recency: b.recency, freq: b.freq,
				monetary: b.monetary, lastBuy: b.lastBuy,
				popNum: popNum, popDen: popDen,
				scratch: new(scratch),
			}
		}
	}
	return x, nil
}

// catalog fills in the keys and the category and product names of x.
func (b *builder) catalog(x *Index) {
	x.keys = make([]string, b.nc)
	for c := range b.nc {
		x.keys[c] = b.key(c)
	}
	catalogNames(x, b.cat)
}

// catalogNames fills in the category and product names of x from cat.
func catalogNames(x *Index, cat *affinity.Catalog) {
	ncat := cat.NumCategories()
	x.cats = make([]string, ncat)
	x.catDepth = make([]uint8, ncat)
	x.catParent = make([]uint32, ncat)
	for c := range ncat {
		id := affinity.CategoryID(c)
		x.cats[c] = cat.CategoryPath(id)
		x.catDepth[c] = uint8(min(cat.Depth(id), math.MaxUint8))
		x.catParent[c] = noParent
		if p := cat.Parent(id); p != affinity.NoCategory {
			x.catParent[c] = uint32(p)
		}
	}
	np := cat.NumProducts()
	x.products = make([]string, np)
	for p := range np {
		x.products[p] = cat.ProductKey(affinity.ProductID(p))
	}
	x.indexNames()
}

// shareCatalog gives x the category and product names of b.shared, whose
// catalog is b's.
func (b *builder) shareCatalog(x *Index) {
	y := b.shared
	x.cats, x.catDepth, x.catParent, x.catIndex = y.cats, y.catDepth, y.catParent, y.catIndex
	x.products, x.prodIndex = y.products, y.prodIndex
}

// exactShares sets share[c] to num[c]/den, rounded to the nearest float64
// (0 when den is not positive).
func exactShares(share []float64, num []sum128, den sum128) {
	d := den.big()
	if d.Sign() <= 0 {
		clear(share)
		return
	}
	var r big.Rat
	for c := range share {
		share[c], _ = r.SetFrac(num[c].big(), d).Float64()
	}
}

// sum128 is a two's complement 128-bit sum, hi·2^64 + lo: sums of int64
// numerators that cannot overflow.
type sum128 struct{ hi, lo uint64 }

// addInt adds v.
func (s *sum128) addInt(v int64) { s.add(sum128{uint64(v >> 63), uint64(v)}) }

// add adds t.
func (s *sum128) add(t sum128) {
	var carry uint64
	s.lo, carry = bits.Add64(s.lo, t.lo, 0)
	s.hi += t.hi + carry
}

// sub subtracts t.
func (s *sum128) sub(t sum128) {
	var borrow uint64
	s.lo, borrow = bits.Sub64(s.lo, t.lo, 0)
	s.hi -= t.hi + borrow
}

// big returns s as a big.Int.
func (s sum128) big() *big.Int {
	v := new(big.Int).SetUint64(s.hi)
	v.Lsh(v, 64)
	v.Or(v, new(big.Int).SetUint64(s.lo))
	if s.hi>>63 == 1 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), 128))
	}
	return v
}

// catBuilder holds the writers that build one category's bitmaps and
// bsis in a single pass over its pairs. Shares and days have base 0.
type catBuilder struct {
	bought, ranked, evExist roaringio.Writer
	spend, items, orders    [14]roaringio.Writer // shares ≤ 10000 < 2^14
	days, evDays            [16]roaringio.Writer // days < maxDays = 2^16
	rank                    [7]roaringio.Writer  // ranks ≤ maxTopN = 64 < 2^7
	res                     [3][]int64           // exact numerators less their predictions
}

// reserve sets the header room of every writer for n containers.
func (cb *catBuilder) reserve(n int) {
	for _, w := range []*roaringio.Writer{&cb.bought, &cb.ranked, &cb.evExist} {
		w.Reserve(n)
	}
	for _, g := range [][]roaringio.Writer{cb.spend[:], cb.items[:], cb.orders[:], cb.days[:], cb.evDays[:], cb.rank[:]} {
		for j := range g {
			g[j].Reserve(n)
		}
	}
}

func pushBits(ws []roaringio.Writer, v uint16, low uint16) {
	for u := uint32(v); u != 0; u &= u - 1 {
		ws[bits.TrailingZeros32(u)].Push(low)
	}
}

// category builds the bitmaps and bsis of category c from the pairs of
// every chunk, splitting each value into its set bits as it goes.
func (b *builder) category(cb *catBuilder, x *Index, c uint32) {
	d := &x.catData[c]
	cb.reserve(len(b.chunks))
	groups := [][]roaringio.Writer{cb.spend[:], cb.items[:], cb.orders[:], cb.days[:], cb.rank[:]}
	for k := range b.chunks {
		ch := &b.chunks[k]
		pairs := ch.pairs[ch.pairOff[c]:ch.pairOff[c+1]]
		if len(pairs) == 0 {
			continue
		}
		key := uint16(k)
		cb.bought.Open(key, len(pairs) > roaringio.ArrayMax)
		cb.ranked.Open(key, false)
		for _, g := range groups {
			openAll(g, key)
		}
		for _, p := range pairs {
			cb.bought.Add(p.low)
			pushBits(cb.spend[:], p.spend, p.low)
			pushBits(cb.items[:], p.items, p.low)
			pushBits(cb.orders[:], p.orders, p.low)
			pushBits(cb.days[:], p.days, p.low)
			if p.rank > 0 {
				cb.ranked.Push(p.low)
				pushBits(cb.rank[:], uint16(p.rank), p.low)
			}
		}
		cb.bought.Close()
		cb.ranked.Close()
		for _, g := range groups {
			closeAll(g)
		}
	}
	d.bought = cb.bought.Finish()
	d.spend = bsi.BSI{Slices: bsi.FinishSlices(cb.spend[:])}
	d.items = bsi.BSI{Slices: bsi.FinishSlices(cb.items[:])}
	d.orders = bsi.BSI{Slices: bsi.FinishSlices(cb.orders[:])}
	d.days = bsi.BSI{Slices: bsi.FinishSlices(cb.days[:])}
	d.rank = attr{exist: cb.ranked.Finish(), v: bsi.BSI{Slices: bsi.FinishSlices(cb.rank[:])}}
	if x.exact {
		for s := range cb.res {
			cb.res[s] = cb.res[s][:0]
		}
		for k := range b.chunks {
			ch := &b.chunks[k]
			for _, p := range ch.pairs[ch.pairOff[c]:ch.pairOff[c+1]] {
				cb.res[0] = append(cb.res[0], p.resSpend)
				cb.res[1] = append(cb.res[1], int64(p.resItems))
				cb.res[2] = append(cb.res[2], int64(p.resOrders))
			}
		}
		d.cols = new([3]shareColumn)
		for s := range cb.res {
			d.exNum[s] = packInts(cb.res[s])
		}
	}

	for e := range 2 {
		for k := range b.chunks {
			ch := &b.chunks[k]
			pairs := ch.ev[e][ch.evOff[e][c]:ch.evOff[e][c+1]]
			if len(pairs) == 0 {
				continue
			}
			cb.evExist.Open(uint16(k), len(pairs) > roaringio.ArrayMax)
			openAll(cb.evDays[:], uint16(k))
			for _, p := range pairs {
				cb.evExist.Add(p.low)
				pushBits(cb.evDays[:], p.days, p.low)
			}
			cb.evExist.Close()
			closeAll(cb.evDays[:])
		}
		a := attr{exist: cb.evExist.Finish(), v: bsi.BSI{Slices: bsi.FinishSlices(cb.evDays[:])}}
		if e == 0 {
			d.viewed = a
		} else {
			d.carted = a
		}
	}
}

// openAll opens the writers' containers as arrays: collecting into bitsets
// is slower for the fifty-odd writers of a category, whose bitsets do not
// stay in cache, than converting the big arrays when they close.
func openAll(ws []roaringio.Writer, key uint16) {
	for j := range ws {
		ws[j].Open(key, false)
	}
}

func closeAll(ws []roaringio.Writer) {
	for j := range ws {
		ws[j].Close()
	}
}

// postings merges the product postings of one activity kind.
func (b *builder) postings(kind, np int) postings {
	p := postings{off: make([]uint32, np+1)}
	n := 0
	for k := range b.chunks {
		for _, pp := range b.chunks[k].prods[kind] {
			p.off[pp.prod+1]++
		}
		n += len(b.chunks[k].prods[kind])
	}
	for i := 1; i <= np; i++ {
		p.off[i] += p.off[i-1]
	}
	cust := make([]uint32, n)
	days := make([]uint16, n)
	pos := slices.Clone(p.off[:np])
	for k := range b.chunks {
		for _, pp := range b.chunks[k].prods[kind] {
			i := pos[pp.prod]
			pos[pp.prod]++
			cust[i] = uint32(k)<<chunkBits | uint32(pp.low)
			days[i] = pp.days
		}
	}
	// cust becomes the gaps, in place, back to front
	p.first = make([]uint32, np)
	for prod := np - 1; prod >= 0; prod-- {
		lo, hi := p.off[prod], p.off[prod+1]
		if lo == hi {
			continue
		}
		for i := hi - 1; i > lo; i-- {
			cust[i] -= cust[i-1] + 1
		}
		p.first[prod], cust[lo] = cust[lo], 0
	}
	p.gap, p.days = packInts(cust), packInts(days)
	return p
}

// daily builds the per-day activity bitmaps.
func (b *builder) daily(x *Index) {
	first, last := int64(math.MaxInt64), int64(math.MinInt64)
	for k := range b.chunks {
		for _, d := range b.chunks[k].days {
			first, last = min(first, int64(d.day)), max(last, int64(d.day))
		}
	}
	if first > last {
		return
	}
	nd := int(last - first + 1)
	off := make([]uint32, nd+1)
	for k := range b.chunks {
		for _, d := range b.chunks[k].days {
			off[int64(d.day)-first+1]++
		}
	}
	for i := 1; i <= nd; i++ {
		off[i] += off[i-1]
	}
	ids := make([]uint32, off[nd])
	pos := slices.Clone(off[:nd])
	for k := range b.chunks {
		for _, d := range b.chunks[k].days {
			i := int64(d.day) - first
			ids[pos[i]] = uint32(k)<<chunkBits | uint32(d.low)
			pos[i]++
		}
	}
	var w roaringio.Writer
	x.day0 = first
	x.daily = make([]*roaring.Bitmap, nd)
	for i := range nd {
		x.daily[i] = roaringio.FromSorted(&w, ids[off[i]:off[i+1]])
	}
}

// scalarTasks returns the tasks that build the customer-level attributes,
// the RFM segments and the lifecycle stages; they run in parallel with the
// categories.
func (b *builder) scalarTasks(x *Index) []func(bb *bsi.Builder) {
	known := make([]uint32, 0, b.nKnown)
	var bought []uint32
	for c, k := range b.known {
		if k {
			known = append(known, uint32(c))
			if b.freq[c] > 0 {
				bought = append(bought, uint32(c))
			}
		}
	}
	var tasks []func(*bsi.Builder)
	if b.shared == nil { // a delta's scores are Update's
		// one task for everything RFM, first, so that no worker waits
		// for the scores while another computes them
		tasks = append(tasks, func(bb *bsi.Builder) { b.population(bb, x, known, bought) })
	}
	return append(tasks,
		func(bb *bsi.Builder) {
			var w roaringio.Writer
			x.universe = roaringio.FromSorted(&w, known)
			a := column(bb, known, func(c uint32) bool { return b.recency[c] >= 0 }, func(c uint32) int64 { return int64(b.recency[c]) }, true)
			a.leveled()
			x.scalars[scRecency] = a
		},
		func(bb *bsi.Builder) {
			a := column(bb, known, func(c uint32) bool { return b.tenure[c] >= 0 }, func(c uint32) int64 { return int64(b.tenure[c]) }, true)
			a.leveled()
			x.scalars[scTenure] = a
		},
		func(bb *bsi.Builder) {
			x.scalars[scFrequency] = column(bb, bought, nil, func(c uint32) int64 { return int64(b.freq[c]) }, false)
		},
		func(bb *bsi.Builder) {
			x.scalars[scMonetary] = column(bb, known, func(c uint32) bool { return b.monetary[c] != 0 }, func(c uint32) int64 { return b.monetary[c] }, false)
		},
		func(bb *bsi.Builder) {
			x.scalars[scAOV] = column(bb, bought, nil, func(c uint32) int64 { return divRound(b.monetary[c], int64(b.freq[c])) }, false)
		},
		func(bb *bsi.Builder) {
			x.scalars[scAbandoned] = column(bb, known, func(c uint32) bool { return b.abandoned[c] >= 0 }, func(c uint32) int64 { return int64(b.abandoned[c]) }, true)
		},
	)
}

// population builds the parts of x that depend on every customer: the
// RFM scores and segments, the lifecycle stages and the totals. known
// lists the customers x knows, bought those with an order in the
// look-back.
func (b *builder) population(bb *bsi.Builder, x *Index, known, bought []uint32) {
	r, f, m := b.rfmScores(bought)
	b.populate(bb, x, known, bought, r, f, m)
}

// populate builds population's parts of x from the scores r, f and m of
// every customer.
func (b *builder) populate(bb *bsi.Builder, x *Index, known, bought []uint32, r, f, m []uint8) {
	x.scalars[scR] = column(bb, bought, nil, func(c uint32) int64 { return int64(r[c]) }, false)
	x.scalars[scF] = column(bb, bought, nil, func(c uint32) int64 { return int64(f[c]) }, false)
	x.scalars[scM] = column(bb, bought, nil, func(c uint32) int64 { return int64(m[c]) }, false)
	b.segments(x, known, r, f, m)
	x.setScores(r, f, m)
}

// column builds the attribute of the customers of ids (ascending) that
// keep (nil: all) selects; with bins set it also adds bins and, for
// recency and tenure, levels.
func column(bb *bsi.Builder, ids []uint32, keep func(c uint32) bool, val func(c uint32) int64, bins bool) attr {
	if keep != nil {
		sel := make([]uint32, 0, len(ids))
		for _, c := range ids {
			if keep(c) {
				sel = append(sel, c)
			}
		}
		ids = sel
	}
	vals := make([]int64, len(ids))
	for i, c := range ids {
		vals[i] = val(c)
	}
	var w roaringio.Writer
	a := attr{exist: roaringio.FromSorted(&w, ids), v: bb.Build(ids, vals)}
	if bins {
		a.binned(ids, vals)
	}
	return a
}

// segments builds the RFM segments and lifecycle stages and sums revenue
// and orders.
func (b *builder) segments(x *Index, known []uint32, r, f, m []uint8) {
	rules := b.opts.RFMRules
	k := newClassifier(b.opts)
	// each known customer's rule (len(rules): none) and stage
	// (len(stages): none), counted, then the ids of each in one exactly
	// sized pass
	seg := make([]uint16, len(known))
	st := make([]uint8, len(known))
	segN := make([]int, len(rules)+1)
	var stN [len(stages) + 1]int
	for i, c := range known {
		var ok bool
		if x.revenue, ok = x.revenue.Add(affinity.Money(b.monetary[c])); !ok {
			// a History bounds its gross value, and Join and ReadIndex
			// check that the monetary values of theirs sum within range
			panic("segment: revenue beyond the range of Money")
		}
		x.orders += int64(b.freq[c])
		seg[i], st[i] = k.classify([3]uint8{r[c], f[c], m[c]}, b.recency[c], b.freq[c])
		segN[seg[i]]++
		stN[st[i]]++
	}
	segIDs := make([][]uint32, len(rules)+1)
	for i := range segIDs {
		segIDs[i] = make([]uint32, 0, segN[i])
	}
	var stageIDs [len(stages) + 1][]uint32
	for i := range stageIDs {
		stageIDs[i] = make([]uint32, 0, stN[i])
	}
	for i, c := range known {
		segIDs[seg[i]] = append(segIDs[seg[i]], c)
		stageIDs[st[i]] = append(stageIDs[st[i]], c)
	}
	var w roaringio.Writer
	x.rfm = make([]*roaring.Bitmap, len(rules))
	for i := range rules {
		x.rfm[i] = roaringio.FromSorted(&w, segIDs[i])
	}
	for i := range stages {
		x.stages[i] = roaringio.FromSorted(&w, stageIDs[i])
	}
}

// addGross returns gross plus the absolute values of vals and whether the
// sum stays within MaxMoney; it cannot overflow, as gross starts at most
// MaxMoney and each term is at most 2⁶³.
func addGross(gross uint64, vals []int64) (uint64, bool) {
	for _, v := range vals {
		if v < 0 {
			gross += -uint64(v)
		} else {
			gross += uint64(v)
		}
		if gross > uint64(affinity.MaxMoney) {
			return gross, false
		}
	}
	return gross, gross <= uint64(affinity.MaxMoney)
}

// lifecycleStage returns the index in stages of a buyer's stage.
func lifecycleStage(recency, freq, lapse, churn, loyal int32) int {
	switch {
	case recency > churn:
		return 4
	case recency > lapse || freq == 0: // none in the look-back: see StageLapsing
		return 3
	case freq >= loyal:
		return 2
	case freq >= 2:
		return 1
	}
	return 0
}

// divRound returns a/b rounded half away from zero; b > 0.
func divRound(a, b int64) int64 {
	q, r := a/b, a%b
	if r < 0 {
		r = -r
	}
	if 2*r >= b {
		if a < 0 {
			q--
		} else {
			q++
		}
	}
	return q
}

// rfmScores returns the quintile scores of the customers with an order in
// the look-back (0 for the others): score = 1 + ⌊5·L/N⌋ where N counts the
// scored customers and L those with a strictly worse value, so equal
// values always get equal scores, with the ends of the scale anchored
// (see [rankScore]). Recency and frequency take small values and are
// counted; monetary values are selected.
func (b *builder) rfmScores(scored []uint32) (r, f, m []uint8) {
	r, f, m = make([]uint8, b.nc), make([]uint8, b.nc), make([]uint8, b.nc)
	n := int64(len(scored))
	if n == 0 {
		return
	}
	// counted scores: worse(v) = customers with a value that ranks below v
	counted := func(out []uint8, val func(c uint32) int, largerIsBetter bool) {
		hi := 0
		for _, c := range scored {
			hi = max(hi, val(c))
		}
		if hi >= 1<<20 && hi > 4*len(scored) {
			// values too sparse to count (a joined part's, see Join):
			// sort them instead
			sorted := make([]int, len(scored))
			for i, c := range scored {
				sorted[i] = val(c)
			}
			slices.Sort(sorted)
			for _, c := range scored {
				v := val(c)
				below, _ := slices.BinarySearch(sorted, v)
				above, _ := slices.BinarySearch(sorted, v+1)
				worse, better := int64(below), n-int64(above)
				if !largerIsBetter {
					worse, better = better, worse
				}
				out[c] = rankScore(worse, better, n)
			}
			return
		}
		cnt := make([]int64, hi+1)
		for _, c := range scored {
			cnt[val(c)]++
		}
		tab := countedScores(cnt, n, largerIsBetter)
		for _, c := range scored {
			out[c] = tab[val(c)]
		}
	}
	if b.opts.RFMScoring == RFMNTile {
		rank := keyRanks(scored, func(c uint32) string { return b.key(int(c)) })
		ntile(r, scored, func(c uint32) int64 { return b.lastBuy[c] }, rank)
		ntile(f, scored, func(c uint32) int64 { return int64(b.freq[c]) }, rank)
		ntile(m, scored, func(c uint32) int64 { return b.monetary[c] }, rank)
		return
	}
	counted(r, func(c uint32) int { return int(b.recency[c]) }, false)
	counted(f, func(c uint32) int { return int(b.freq[c]) }, true)
	vals := make([]int64, len(scored))
	for i, c := range scored {
		vals[i] = b.monetary[c]
	}
	sc := newMoneyScale(vals)
	for _, c := range scored {
		m[c] = sc.score(b.monetary[c])
	}
	return
}

// rankScore returns the RFM score of a value of which worse of the n
// scored customers have a strictly worse value and better a strictly
// better one: 1 + ⌊5·worse/n⌋, the competition rank (SQL RANK())
// cut into quintiles, with the ends of the scale anchored. A value that
// no one beats while some have worse is the best there is and scores 5,
// however many share it (all the customers who bought on the as-of day
// are the most recent possible: 1 + ⌊5·worse/n⌋ would give them 1 when
// more than four fifths did); a value that no one beats and that beats
// no one (a single customer, a shop where all spent the same) says
// nothing of who is better and scores 3, the middle. The worst value
// scores 1 as the formula gives it.
func rankScore(worse, better, n int64) uint8 {
	switch {
	case better > 0:
		return uint8(1 + 5*worse/n)
	case worse > 0:
		return 5
	}
	return 3
}

// countedScores returns the score ([rankScore]) of every value v that
// cnt[v] of the n scored customers have; a larger value is better when
// largerIsBetter (orders), else worse (days since the last purchase).
func countedScores(cnt []int64, n int64, largerIsBetter bool) []uint8 {
	tab := make([]uint8, len(cnt))
	var worse int64
	for i := range cnt {
		v := i // from the worst value to the best
		if !largerIsBetter {
			v = len(cnt) - 1 - i
		}
		tab[v] = rankScore(worse, n-worse-cnt[v], n)
		worse += cnt[v]
	}
	return tab
}

// moneyScale gives the monetary scores of a distribution of spend: the
// quintile cuts of [quintileCuts], and the least and the greatest spend
// for the ends of the scale ([rankScore]).
type moneyScale struct {
	cuts   [4]int64
	lo, hi int64
}

// newMoneyScale returns the scale of the spend vals (not empty; reordered).
func newMoneyScale(vals []int64) moneyScale {
	s := moneyScale{lo: slices.Min(vals), hi: slices.Max(vals)}
	s.cuts = quintileCuts(vals)
	return s
}

// sortedMoneyScale returns the scale of the spend sorted (ascending, not
// empty): newMoneyScale without the selection.
func sortedMoneyScale(sorted []int64) moneyScale {
	s := moneyScale{lo: sorted[0], hi: sorted[len(sorted)-1]}
	for k := 1; k <= 4; k++ {
		s.cuts[k-1] = sorted[quintileRank(k, len(sorted))-1]
	}
	return s
}

// score returns the monetary score of spend v, one of the distribution's.
func (s *moneyScale) score(v int64) uint8 {
	if v < s.hi {
		k := uint8(1) // 1 + ⌊5·worse/n⌋, see quintileCuts
		for _, t := range s.cuts {
			if v > t {
				k++
			}
		}
		return k
	}
	// the greatest spend: the best value scores 5 when some spend is
	// less, 3 when all are equal (rankScore's anchored ends)
	if v > s.lo {
		return 5
	}
	return 3
}

// quintileCuts returns the values that decide the quintile scores of
// vals (reordered): with w the number of values below v, the score
// 1 + ⌊5w/n⌋ is 1 plus the number of cuts below v, because ⌊5w/n⌋ ≥ k
// exactly when w ≥ t = ⌈kn/5⌉, that is when the t-th smallest value is
// below v. Four order statistics cost linear time, where ranking every
// value costs a sort and a search per value.
func quintileCuts(vals []int64) (cuts [4]int64) {
	n := len(vals)
	from := 0
	for k := 1; k <= 4; k++ {
		t := quintileRank(k, n)
		nthElement(vals[from:], t-1-from)
		cuts[k-1] = vals[t-1]
		from = t
	}
	return cuts
}

// quintileRank returns t = ⌈kn/5⌉ ≥ 1, the 1-based rank of the value
// that decides quintile cut k of n values (see quintileCuts).
func quintileRank(k, n int) int { return (k*n + 4) / 5 }

// nthElement reorders a so that a[k] is the value a sorted a would hold
// there, no value before it larger and none after it smaller
// (quickselect with a median-of-three pivot and Hoare's partition, which
// splits runs of equal values evenly; after 64 rounds the rest is sorted,
// so that no input takes quadratic time). internal/topk.SelectSmallest
// partitions distinct keys only; spend values repeat.
func nthElement(a []int64, k int) {
	lo, hi := 0, len(a)-1
	for round := 0; lo < hi; round++ {
		if round == 64 {
			slices.Sort(a[lo : hi+1])
			return
		}
		mid := lo + (hi-lo)/2
		if a[mid] < a[lo] {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if a[hi] < a[lo] {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if a[hi] < a[mid] {
			a[hi], a[mid] = a[mid], a[hi]
		}
		p := a[mid]
		i, j := lo, hi
		for i <= j {
			for a[i] < p {
				i++
			}
			for a[j] > p {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return // a[j+1 : i] all equal p
		}
	}
}

// keyRanks returns, for the customers of scored in their order, their
// ranks by key (compared as bytes; equal keys, which a History does not
// have, by dense id). The keys are sorted once, so that the three NTILE
// orders compare integers.
func keyRanks(scored []uint32, key func(c uint32) string) []uint32 {
	pos := make([]uint32, len(scored))
	for i := range pos {
		pos[i] = uint32(i)
	}
	slices.SortFunc(pos, func(a, b uint32) int {
		ca, cb := scored[a], scored[b]
		return cmp.Or(strings.Compare(key(ca), key(cb)), cmp.Compare(ca, cb))
	})
	rank := make([]uint32, len(scored))
	for r, i := range pos {
		rank[i] = uint32(r)
	}
	return rank
}

// ntile sets out[c] for the customers of scored to SQL's NTILE(5) OVER
// (ORDER BY val(c), key(c)): in that order, the first n mod 5 tiles get
// ⌊n/5⌋+1 customers and the others ⌊n/5⌋. rank holds the key order of
// scored (see keyRanks).
func ntile(out []uint8, scored []uint32, val func(c uint32) int64, rank []uint32) {
	type row struct {
		v    int64
		rank uint32
		c    uint32
	}
	rows := make([]row, len(scored))
	for i, c := range scored {
		rows[i] = row{val(c), rank[i], c}
	}
	slices.SortFunc(rows, func(a, b row) int {
		return cmp.Or(cmp.Compare(a.v, b.v), cmp.Compare(a.rank, b.rank))
	})
	n := len(rows)
	size, rem := n/5, n%5
	large := rem * (size + 1) // rows in the larger tiles
	for i, r := range rows {
		if i < large {
			out[r.c] = uint8(1 + i/(size+1))
		} else {
			out[r.c] = uint8(1 + rem + (i-large)/size)
		}
	}
}

// indexNames builds the lookup maps of categories and products.
func (x *Index) indexNames() {
	x.catIndex = make(map[string]uint32, len(x.cats))
	for i, p := range x.cats {
		x.catIndex[p] = uint32(i)
	}
	x.prodIndex = make(map[string]uint32, len(x.products))
	for i, p := range x.products {
		x.prodIndex[p] = uint32(i)
	}
}
