package segment

import (
	"cmp"
	"context"
	"math"
	"math/big"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/bsi"
	"github.com/shopaffinity/affinity/internal/parallel"
)

// custCols are what an index built by [Build] or [Update] keeps so that
// [Update] can recompute its population-wide parts without a full build:
// per customer the values the RFM scores and lifecycle stages come from,
// and the exact population sums of the category shares.
type custCols struct {
	cat               *affinity.Catalog
	w                 weights // the catalog's category weights
	recency, freq     []int32
	monetary, lastBuy []int64
	popNum            []sum128 // per category: the sum of the exact spend numerators
	popDen            sum128   // the sum of the exact spend denominators
	scratch           *scratch // shared along a chain of updates

	distOnce  sync.Once
	scoreDist atomic.Pointer[scoreDist] // the scored customers' values (see rescore), on first need

	digestOnce sync.Once
	digest     uint64 // catalogDigest of cat, computed on first use
}

// catDigest returns catalogDigest(c.cat), computed once (or handed on
// by the update that made c, which hashed the same catalog).
func (c *custCols) catDigest() uint64 {
	c.digestOnce.Do(func() { c.digest = catalogDigest(c.cat) })
	return c.digest
}

// sameCatalog reports whether cat describes the products and categories
// of c.cat, and cat's digest when it had to be hashed.
func (c *custCols) sameCatalog(cat *affinity.Catalog) (same bool, digest uint64, hashed bool) {
	if cat == c.cat {
		return true, 0, false
	}
	d := catalogDigest(cat)
	return d == c.catDigest(), d, true
}

// scratch keeps the per-customer arrays of the last two scans of few
// customers (an update's two), cleared, for the next update of the same
// chain: at a million customers they are 50 MB each, which would
// otherwise be allocated and cleared twice per update. (A sync.Pool would
// lose them to the collections that a refresh's other allocations start;
// a package-level cache would keep them after the shop is gone.)
type scratch struct {
	mu   sync.Mutex
	kept []custArrays
}

// arrays returns cleared arrays of nc customers.
func (s *scratch) arrays(nc int, exact bool) custArrays {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, a := range s.kept {
		if len(a.known) == nc && (a.totSpend != nil) == exact {
			s.kept = slices.Delete(s.kept, i, i+1)
			return a
		}
	}
	return newArrays(nc, exact)
}

// keep takes back arrays that are clear again.
func (s *scratch) keep(a custArrays) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.kept) == 2 {
		s.kept = s.kept[1:]
	}
	s.kept = append(s.kept, a)
}

// overlay is what an index made by [Update] answers from: a full index
// (the base), less the touched customers, plus up to maxLayers delta
// indexes of the touched customers, each less those a later one scanned
// again. All are read through views that share their data and carry the
// population-wide parts of the whole (RFM scores and segments, lifecycle
// stages, totals, population shares), so that a query evaluated on each
// and united gives what one full index gives.
type overlay struct {
	base    *Index          // the full index under the deltas
	bv      *Index          // a view of the base, less the touched customers
	deltas  []*Index        // the delta indexes, oldest first: each of the customers one update scanned
	dvs     []*Index        // views of deltas, each less the customers a later delta scanned again
	touched *roaring.Bitmap // customers whose features the deltas hold
	full    *compaction     // the full index, built on first need

	// With UpdateOptions.Compact: the full index of a History of the
	// chain, built in the background, and the customers touched since that
	// History (nil when none is built).
	next  *background
	since *roaring.Bitmap
}

// background is the full index of one History of a chain of updates,
// built on a goroutine of its own, that a later update of the chain lays
// its delta over once it is done (see [UpdateOptions.Compact]).
type background struct {
	done chan struct{} // closed when x and err are final
	x    *Index
	err  error
}

// buildBackground starts building the full index of h as of asOf with
// opts on a new goroutine.
func buildBackground(ctx context.Context, h *affinity.History, asOf int64, opts Options) *background {
	if ctx == nil {
		ctx = context.Background()
	}
	bg := &background{done: make(chan struct{})}
	go func() {
		defer close(bg.done)
		bg.err = parallel.Guard(func() (err error) {
			bg.x, err = Build(ctx, h, time.Unix(asOf, 0), opts)
			return err
		})
	}()
	return bg
}

// ready reports whether the build is done.
func (bg *background) ready() bool {
	select {
	case <-bg.done:
		return true
	default:
		return false
	}
}

// baseFor reports whether the built index can be the base of an update
// of x to asOf: built exactly, as of x's time or whole days before it.
func (bg *background) baseFor(x *Index, asOf int64) bool {
	f := bg.x
	return bg.err == nil && f != nil && f.exact && f.over == nil && f.asOf <= asOf &&
		(asOf-f.asOf)%secondsPerDay == 0 && len(f.keys) <= len(x.keys)
}

// compaction builds, once, the full index of the History an overlay
// describes, for the methods that read every part of an index at once
// (WriteTo, Save), and then lets the History go. [Index.Compacted] reads
// the History or that index (see state) while a build may be under way.
type compaction struct {
	once sync.Once // the build
	mu   sync.Mutex
	h    *affinity.History // the History, until its index is built (under mu)
	x    *Index            // its full index, once built (under mu)
	err  error             // why the build failed (set in once)
}

// state returns the History of c and its full index: the index, when it
// is built (and h then nil), else the History.
func (c *compaction) state() (h *affinity.History, x *Index) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.h, c.x
}

// maxLayers bounds the deltas of an updated index: an update adds a delta
// of the customers its change touched, over the deltas of the updates
// before it, until there would be more than maxLayers; then it scans the
// customers of the two smallest deltas again with its change, into one
// delta in their place. Queries evaluate on every layer; an update scans
// its own change and at most two other deltas.
const maxLayers = 4 // at least 2 (see mergeSmallest)

// maxDeltaShare bounds the deltas of an updated index: when more than one
// customer in maxDeltaShare is touched since the full index under it was
// built, Update builds a full index instead.
const maxDeltaShare = 8

// compactShare is when an update with UpdateOptions.Compact starts the
// full build that its successors lay their deltas over: once more than
// one customer in compactShare is touched since the full index under it.
var compactShare uint64 = 32

// UpdateOptions tune [Update].
type UpdateOptions struct {
	// Workers is the number of goroutines of the update (and of a full
	// build in its place), and the result's Options().Workers; ≤ 0 means
	// x's Options().Workers. The result does not otherwise depend on it.
	Workers int

	// Compact folds the delta into a new full index in the background, as
	// a log-structured store compacts: once more than one customer in 32
	// is touched since the full index under the result, the update starts
	// building the full index of h as of asOf on one goroutine of its own
	// (holding h until it is done), and a later Update of a result
	// descended from this one lays its changes over that index instead,
	// once it is done: its one delta then holds only the customers touched
	// since h. Where the delta would otherwise outgrow an eighth of the
	// customers (and a full build replace it), the update waits for the
	// background build. Without Compact the delta grows along the chain
	// until that full build. The answers are the same either way.
	Compact bool

	// Background is the context of the background build Compact starts
	// (the update's own context ends with the update): once it is done,
	// the build stops, and later updates go on as if none had been
	// started, with a full build where the delta would outgrow its bound.
	// Nil lets the build run to its end. A server that shuts down passes
	// the context that ends then.
	Background context.Context
}

// Update returns the index of h as of asOf with x's options: the index
// [Build] gives, answer for answer, when x describes prev and h was built
// from prev by an [affinity.Builder] (see
// [affinity.History.ChangedSince]). It computes the features of the
// customers whose orders or events changed from prev to h and lays them
// over x as a delta index of their own, above the deltas x has over its
// full index, so that it takes time proportional to their lines and
// events, not a scan of every line, plus copies of the per-customer
// columns it keeps: at 1 M customers, 10 M lines and 10,000 changed
// lines, about 0.1 s of CPU against seconds. A customer in a later delta
// leaves the earlier ones. Where that would make more than four deltas,
// the update scans the customers of the two smallest again with its
// change, into one delta in their place. The customers of the deltas are
// the touched customers. Queries read every layer, at 1.2–1.6× the time
// on a full index with one delta or four.
//
// The population-wide parts (RFM scores and segments, lifecycle stages,
// totals and population shares) are x's with the customers whose score,
// segment or stage changed moved, unless more than one in 16 did. On x's
// day the scores come from the distribution of the scored customers'
// values, which the index keeps and the update changes by the touched
// customers' old and new values: only the touched customers and those
// whose value's score the change moved (found by a light pass over the
// columns, and only when one moves) are scored anew. On a later day every
// customer is scored anew. Products and categories added to the catalog
// are taken in.
//
// asOf is x's as-of time or a whole number of days after it. On a later
// day the stored day counts of the full index under x are read that many
// days older, and the customers whose orders or events crossed an edge
// of the look-back window (or came after x's as-of time and are now
// included) join the changed ones, found by a pass over the orders and
// events.
//
// Update builds a full index instead when it cannot update: when prev
// and h are not a base and its successor, when the catalog changed other
// than by additions (a product described anew, in other categories) or
// a new product changes the common denominator of the category weights
// (see "Exact comparisons"), when shares are not kept exactly (a positive
// HalfLife, or money too large), when x was read by [Load] or put
// together by [Join], when asOf is earlier than x's or not a whole number
// of days after it, when the look-back is [affinity.AllTime] and asOf
// puts a customer's earliest order or event 65,535 days back or more
// (so that Update returns Build's error then), and when more than an
// eighth of the customers are touched since the last full build. The named segments and customer
// attributes of x carry over to the result (the attributes as they were
// attached: attach them again to cover new customers); at a later as-of
// time the attributes, whose day columns are as of x's, are dropped and
// the index is built anew. [Index.WriteTo] and [Index.Save] of an updated
// index build the full index once, on first use, and write it.
func Update(ctx context.Context, x *Index, prev, h *affinity.History, asOf time.Time, opts UpdateOptions) (*Index, error) {
	if err := affinity.CheckContext("segment", ctx, ErrInvalid); err != nil {
		return nil, err
	}
	switch {
	case x == nil:
		return nil, affinity.NilArgument("segment", "Index", ErrInvalid)
	case prev == nil:
		return nil, affinity.NilArgument("segment", "History (prev)", ErrInvalid)
	case h == nil:
		return nil, affinity.NilArgument("segment", "History", ErrInvalid)
	}
	if err := affinity.CheckAsOf("segment", asOf, ErrInvalid); err != nil {
		return nil, err
	}
	if opts.Workers <= 0 {
		opts.Workers = x.opts.Workers
	}
	y, ok, err := x.update(ctx, prev, h, asOf.Unix(), opts)
	if err != nil || ok {
		return y, err
	}
	full, err := Build(ctx, h, asOf, x.buildOptions(opts.Workers))
	if err != nil {
		return nil, err
	}
	cust := x.cust
	if asOf.Unix() != x.asOf {
		cust = nil // as of the old time
	}
	return full.carry(x.defs, cust), nil
}

// buildOptions returns the options to build x's index anew with, at any
// as-of time, on workers goroutines: the options x was built with as
// given, so that the defaults that depend on the look-back's length
// (LapseAfter) follow the time.
func (x *Index) buildOptions(workers int) Options {
	o := x.given
	o.Workers = workers
	return o
}

// carry returns x with the named segments defs and the customer
// attributes cust (x itself when there are none).
func (x *Index) carry(defs defList, cust *customerCols) *Index {
	if len(defs.list) == 0 && cust == nil {
		return x
	}
	y := x.shallowCopy()
	y.defs, y.cust = defs, cust
	y.resync()
	return y
}

// update lays the changes from prev to h over x; ok is false when it
// cannot (see Update).
func (x *Index) update(ctx context.Context, prev, h *affinity.History, asOf int64, uo UpdateOptions) (y *Index, ok bool, err error) {
	workers := uo.Workers
	cols := x.cols
	if cols == nil || !x.exact {
		return nil, false, nil
	}
	if same, _, _ := cols.sameCatalog(prev.Catalog()); !same {
		return nil, false, nil
	}
	later := asOf - x.asOf // seconds, a whole number of days
	if later < 0 || later%secondsPerDay != 0 || (later > 0 && x.cust != nil) {
		return nil, false, nil
	}
	// names is the index whose category and product names the result
	// takes: x's, or new ones when h's catalog extends x's
	names, w := x, cols.w
	same, digest, hashed := cols.sameCatalog(h.Catalog())
	if !same {
		var ok bool
		if names, w, ok = extendedCatalog(cols, h.Catalog(), x.opts); !ok {
			return nil, false, nil
		}
	}
	ch, ok := h.ChangedSince(prev)
	nc := h.NumCustomers()
	if !ok || nc < len(x.keys) || prev.NumCustomers() != len(x.keys) {
		return nil, false, nil
	}
	// the customers whose features change: those whose orders or events
	// did, and on a later day those whose orders crossed an edge of the
	// look-back
	changed := roaring.New()
	for _, c := range ch.Customers {
		changed.Add(uint32(c))
	}
	if later > 0 {
		edge, first := windowEdge(h, x.asOf, asOf, x.opts.Lookback)
		if x.opts.Lookback.All && daysBack(first, asOf) >= int64(x.lookDays) {
			// the unchanged customers' days, read that much older, would
			// reach beyond what an index holds: Build refuses it
			return nil, false, nil
		}
		changed.Or(edge)
	}
	base, touched := x, changed
	var next *background
	var since *roaring.Bitmap
	var layers, views []*Index // the deltas to keep under the new one, and their views
	if o := x.over; o != nil {
		base, touched = o.base, roaring.Or(o.touched, changed)
		next, since = o.next, o.since
		layers, views = o.deltas, o.dvs
	}
	if next != nil {
		since = roaring.Or(since, changed)
		if touched.GetCardinality()*maxDeltaShare > uint64(nc) && since.GetCardinality()*maxDeltaShare <= uint64(nc) {
			// rather than a full build: wait for the one under way
			select {
			case <-next.done:
			case <-ctx.Done():
				return nil, false, ctx.Err()
			}
		}
		if next.ready() {
			if next.baseFor(x, asOf) {
				base, touched = next.x, since
				layers, views = nil, nil
			}
			next, since = nil, nil
		}
	}
	if touched.GetCardinality()*maxDeltaShare > uint64(nc) {
		return nil, false, nil
	}
	// the customers to scan: the change's, in a delta over those before
	// (with those of the two smallest deltas, which go, when there are
	// maxLayers), or every touched one over a new base
	scan := changed
	switch {
	case layers == nil && !roaring.AndNot(touched, changed).IsEmpty():
		scan = touched
	case len(layers) >= maxLayers:
		scan, layers, views = mergeSmallest(changed, layers, views)
	}
	only := scan.ToArray()

	// the touched customers as of now, and as x holds them (from prev)
	d, err := x.scanOnly(ctx, h, nc, only, &w, names, asOf, workers)
	if d != nil {
		defer d.release()
	}
	if err != nil || !d.exact {
		return nil, false, err
	}
	i, _ := slices.BinarySearch(only, uint32(prev.NumCustomers()))
	old, err := x.scanOnly(ctx, prev, prev.NumCustomers(), only[:i], &cols.w, x, x.asOf, workers)
	if old != nil {
		defer old.release()
	}
	if err != nil || !old.exact {
		return nil, false, err
	}
	popNum := grown(cols.popNum, len(names.cats))
	popDen := cols.popDen
	oldNum, oldDen := old.sums()
	newNum, newDen := d.sums()
	for c := range oldNum {
		popNum[c].sub(oldNum[c])
	}
	for c := range newNum {
		popNum[c].add(newNum[c])
	}
	popDen.sub(oldDen)
	popDen.add(newDen)
	delta, err := d.finish(ctx)
	if err != nil {
		return nil, false, err
	}

	// the per-customer columns of the whole, and what depends on all of it
	mc := &custCols{
		cat: h.Catalog(), w: w,
		recency:  grown(cols.recency, nc),
		freq:     grown(cols.freq, nc),
		monetary: grown(cols.monetary, nc),
		lastBuy:  grown(cols.lastBuy, nc),
		popNum:   popNum, popDen: popDen, scratch: cols.scratch,
	}
	if hashed && same { // the next update compares with h's catalog
		mc.digestOnce.Do(func() { mc.digest = digest })
	}
	if later > 0 { // the others' last purchases lie that many days further back
		for c, r := range mc.recency {
			if r >= 0 {
				mc.recency[c] = r + int32(later/secondsPerDay)
			}
		}
	}
	keys, copied := x.keys, false // shared unless a customer is new or erased
	for _, c := range only {
		mc.recency[c], mc.freq[c] = d.recency[c], d.freq[c]
		mc.monetary[c], mc.lastBuy[c] = d.monetary[c], d.lastBuy[c]
		if k := h.CustomerKey(affinity.CustomerID(c)); int(c) >= len(keys) || keys[c] != k {
			if !copied {
				keys, copied = grown(x.keys, nc), true
			}
			keys[c] = k
		}
	}
	// the customers of each layer: the base's less every touched one, an
	// earlier delta's less those scanned again (layers left empty go)
	bu := roaring.AndNot(base.universe, touched)
	var kept []*Index
	layerU := []*roaring.Bitmap{bu}
	for i, v := range views {
		if u := roaring.AndNot(v.universe, scan); !u.IsEmpty() {
			kept = append(kept, layers[i])
			layerU = append(layerU, u)
		}
	}
	layers = append(kept, delta)
	layerU = append(layerU, delta.universe)
	m := &Index{
		asOf: asOf, opts: d.opts, given: x.given, lookDays: d.lookDays,
		keys: keys, universe: roaring.FastOr(layerU...),
		cats: names.cats, catParent: names.catParent, catDepth: names.catDepth, catIndex: names.catIndex,
		products: names.products, prodIndex: names.prodIndex,
		popShare: make([]float64, len(popNum)),
		exact:    true, popDen: popDen.big(),
		defs: x.defs, cust: x.cust, cols: mc,
	}
	if m.universe.IsEmpty() {
		return nil, false, nil // Build reports why
	}
	exactShares(m.popShare, popNum, popDen)
	g := &builder{
		nc: nc, opts: d.opts,
		custArrays: custArrays{recency: mc.recency, freq: mc.freq, monetary: mc.monetary, lastBuy: mc.lastBuy},
		key:        func(c int) string { return keys[c] },
	}
	// on x's day, the scores that move given anew (see rescore); else
	// the scores of everyone, and what depends on them patched over x's
	// when few customers moved
	if later > 0 || !g.rescore(m, x, cols, mc, only) {
		known, bought := knownAndBought(m, mc.freq)
		r, f, sm := g.rfmScores(bought)
		if !g.patchPopulation(m, x, cols.recency, cols.freq, r, f, sm) {
			g.populate(new(bsi.Builder), m, known, bought, r, f, sm)
		}
	}

	pn := make([]*big.Int, len(popNum))
	for c := range pn {
		pn[c] = popNum[c].big()
	}
	if uo.Compact && next == nil && touched.GetCardinality()*compactShare > uint64(nc) {
		next, since = buildBackground(uo.Background, h, asOf, x.buildOptions(1)), roaring.New()
	}
	dvs := make([]*Index, len(layers))
	for i, l := range layers {
		dvs[i] = m.view(l, layerU[i+1], pn)
	}
	m.over = &overlay{
		base:    base,
		bv:      m.view(base, bu, pn),
		deltas:  layers,
		dvs:     dvs,
		touched: touched,
		full:    &compaction{h: h},
		next:    next, since: since,
	}
	return m, true, nil
}

// mergeSmallest returns the customers of changed and of the two deltas
// of layers with the fewest customers (their views' in views), and the
// other deltas and views, in their order. A delta's customers changed
// after it are in a later one and not in its view: the view's are as it
// holds them, so that scanning them again (into the newest delta) keeps
// what every layer answers.
func mergeSmallest(changed *roaring.Bitmap, layers, views []*Index) (scan *roaring.Bitmap, keptLayers, keptViews []*Index) {
	idx := make([]int, len(layers))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		return cmp.Compare(views[a].universe.GetCardinality(), views[b].universe.GetCardinality())
	})
	a, b := idx[0], idx[1]
	scan = roaring.FastOr(changed, views[a].universe, views[b].universe)
	for i := range layers {
		if i != a && i != b {
			keptLayers = append(keptLayers, layers[i])
			keptViews = append(keptViews, views[i])
		}
	}
	return scan, keptLayers, keptViews
}

// windowEdge returns the customers of h with an order or event that the
// look-back as of from and the one as of to disagree on: in the days
// between the starts of the two windows, or after from and at or before
// to. It also returns the time of the earliest order or event of h
// (math.MaxInt64 when there is none), for [daysBack]: a customer's orders
// and events are in time order, so that reads their first ones only, in
// the same pass.
func windowEdge(h *affinity.History, from, to int64, l affinity.Lookback) (*roaring.Bitmap, int64) {
	_, s0 := lookWindow(l, from)
	_, s1 := lookWindow(l, to)
	in := func(t int64) bool {
		return (t > min(s0, s1) && t <= max(s0, s1)) || (t > from && t <= to)
	}
	first := int64(math.MaxInt64)
	crossed := func(c affinity.CustomerID) bool {
		lo, hi := h.CustomerOrders(c)
		elo, ehi := h.CustomerEvents(c)
		if lo < hi {
			first = min(first, h.OrderUnix(lo))
		}
		if elo < ehi {
			first = min(first, h.Event(elo).Unix)
		}
		for o := lo; o < hi; o++ {
			if in(h.OrderUnix(o)) {
				return true
			}
		}
		for i := elo; i < ehi; i++ {
			if in(h.Event(i).Unix) {
				return true
			}
		}
		return false
	}
	out := roaring.New()
	for c := range affinity.CustomerID(h.NumCustomers()) {
		if crossed(c) {
			out.Add(uint32(c))
		}
	}
	return out, first
}

// daysBack returns the days back from asOf of first, the earliest order or
// event of a History (-1 when it is after asOf, or there is none): the
// most days back an all-time index of it as of asOf holds (see
// builder.checkDays).
func daysBack(first, asOf int64) int64 {
	if first > asOf {
		return -1
	}
	return (asOf - first) / secondsPerDay
}

// extendedCatalog checks that cat extends the catalog of cols — the same
// categories and products first, each product in the same categories,
// then new ones — with the same common denominator of the exact weights,
// so that no stored feature changes. It returns an index holding cat's
// names and cat's weights.
func extendedCatalog(cols *custCols, cat *affinity.Catalog, opts Options) (*Index, weights, bool) {
	old := cols.cat
	if old == nil || cat.NumProducts() < old.NumProducts() || cat.NumCategories() < old.NumCategories() {
		return nil, weights{}, false
	}
	for c := range affinity.CategoryID(old.NumCategories()) {
		if old.CategoryPath(c) != cat.CategoryPath(c) {
			return nil, weights{}, false
		}
	}
	for p := range affinity.ProductID(old.NumProducts()) {
		if old.ProductKey(p) != cat.ProductKey(p) || !slices.Equal(old.Shares(p), cat.Shares(p)) {
			return nil, weights{}, false
		}
	}
	b := &builder{cat: cat, opts: opts}
	b.exactWeights()
	if !b.exact || b.den != cols.w.den {
		return nil, weights{}, false
	}
	names := &Index{}
	catalogNames(names, cat)
	return names, b.weights, true
}

// grown returns a copy of s with room for n values (zero beyond s).
func grown[T any](s []T, n int) []T {
	out := make([]T, n)
	copy(out, s)
	return out
}

// scanOnly scans the customers of only (ascending, below nc) of h as of
// asOf with x's options on workers goroutines and the category weights w
// of h's catalog,
// for a delta taking its category and product names from names.
func (x *Index) scanOnly(ctx context.Context, h *affinity.History, nc int, only []uint32, w *weights, names *Index, asOf int64, workers int) (*builder, error) {
	b, err := prepareWith(h.Catalog(), nc, time.Unix(asOf, 0), x.buildOptions(workers), w, true)
	if err != nil {
		return nil, err
	}
	b.scratch = x.cols.scratch
	b.custArrays = b.scratch.arrays(nc, b.exact)
	b.h = h
	b.key = func(c int) string { return h.CustomerKey(affinity.CustomerID(c)) }
	b.only, b.shared = only, names
	if err := b.scan(ctx); err != nil {
		return b, err
	}
	if err := b.checkDays(); err != nil {
		return b, err
	}
	return b, nil
}

// release clears what a scan of b.only wrote to its arrays and gives
// them back to its scratch.
func (b *builder) release() {
	a := b.custArrays
	for _, c := range b.only {
		a.known[c] = false
		a.recency[c], a.tenure[c], a.abandoned[c], a.freq[c] = 0, 0, 0, 0
		a.monetary[c], a.lastBuy[c] = 0, 0
		if a.totSpend != nil {
			a.totSpend[c], a.totItems[c] = 0, 0
		}
	}
	b.custArrays = custArrays{}
	b.scratch.keep(a)
}

// sums returns the exact spend numerators per category and the spend
// denominator summed over the scanned customers.
func (b *builder) sums() (num []sum128, den sum128) {
	num = make([]sum128, b.ncat)
	for k := range b.chunks {
		for c, v := range b.chunks[k].popNum {
			num[c].add(v)
		}
	}
	if b.only != nil {
		for _, c := range b.only {
			den.addInt(b.totSpend[c])
		}
		return num, den
	}
	for _, v := range b.totSpend {
		den.addInt(v)
	}
	return num, den
}

// view returns an index that shares v's data, with the customers of
// universe and m's population-wide parts (pn: the population spend
// numerators per category).
func (m *Index) view(v *Index, universe *roaring.Bitmap, pn []*big.Int) *Index {
	y := v.shallowCopy()
	y.keys, y.universe = m.keys, universe
	y.shift = (m.asOf - v.asOf) / secondsPerDay // days the layer's stored counts lag
	y.asOf, y.lookDays = m.asOf, m.lookDays
	for _, sc := range [...]int{scR, scF, scM} {
		y.scalars[sc] = m.scalars[sc]
	}
	y.rfm, y.stages, y.revenue, y.orders = m.rfm, m.stages, m.revenue, m.orders
	y.popShare, y.popDen = m.popShare, m.popDen
	y.cats, y.catParent, y.catDepth, y.catIndex = m.cats, m.catParent, m.catDepth, m.catIndex
	y.products, y.prodIndex = m.products, m.prodIndex
	y.catData = grown(v.catData, len(m.cats))
	for c := len(v.catData); c < len(y.catData); c++ {
		y.catData[c] = emptyCatData(m.exact) // a category added since v was built
	}
	for c := range y.catData {
		y.catData[c].popNum = pn[c]
	}
	for k := range y.acts {
		y.acts[k] = y.acts[k].grown(len(m.products))
	}
	y.defs, y.cust = m.defs, m.cust
	y.cols, y.over = nil, nil
	return y
}

// emptyCatData returns the data of a category without customers.
func emptyCatData(exact bool) catData {
	x := &Index{exact: exact, catData: make([]catData, 1)}
	new(builder).category(new(catBuilder), x, 0)
	return x.catData[0]
}

// grown returns p with entries for np products (none for those beyond
// its own).
func (p postings) grown(np int) postings {
	n := len(p.first)
	if n >= np {
		return p
	}
	off := grown(p.off, np+1)
	for i := n + 1; i <= np; i++ {
		off[i] = p.off[n]
	}
	return postings{off: off, first: grown(p.first, np), gap: p.gap, days: p.days}
}

// resync gives the views of an updated index x its named segments and
// customer attributes, after a copy changed them.
func (x *Index) resync() {
	o := x.over
	if o == nil {
		return
	}
	bv := o.bv.shallowCopy()
	bv.defs, bv.cust = x.defs, x.cust
	dvs := make([]*Index, len(o.dvs))
	for i, v := range o.dvs {
		dvs[i] = v.shallowCopy()
		dvs[i].defs, dvs[i].cust = x.defs, x.cust
	}
	x.over = &overlay{base: o.base, bv: bv, deltas: o.deltas, dvs: dvs, touched: o.touched, full: o.full, next: o.next, since: o.since}
}

// compacted returns the full index of an updated index x, built on first
// use and shared by its copies, with x's named segments and attributes.
func (x *Index) compacted() (*Index, error) {
	c := x.over.full
	c.once.Do(func() {
		h, _ := c.state()
		f, err := Build(context.Background(), h, time.Unix(x.asOf, 0), x.buildOptions(x.opts.Workers))
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.err = err; err == nil {
			c.x, c.h = f, nil // the index is all its readers need now
		}
	})
	if c.err != nil {
		return nil, c.err
	}
	_, f := c.state()
	return f.carry(x.defs, x.cust), nil
}

// features returns the features of the customers of set (all known to
// x), in id order, from both layers.
func (o *overlay) features(set *roaring.Bitmap) []Features {
	a := roaring.And(set, o.bv.universe)
	out, ids := o.bv.features(a), a.ToArray()
	for _, v := range o.dvs {
		d := roaring.And(set, v.universe)
		if d.IsEmpty() {
			continue
		}
		out, ids = mergeFeatures(out, ids, v.features(d), d.ToArray())
	}
	return out
}

// mergeFeatures merges the features fa of the customers ia and fb of ib
// (disjoint, each ascending) in customer order.
func mergeFeatures(fa []Features, ia []uint32, fb []Features, ib []uint32) ([]Features, []uint32) {
	out := make([]Features, 0, len(fa)+len(fb))
	ids := make([]uint32, 0, len(ia)+len(ib))
	i, j := 0, 0
	for i < len(ia) || j < len(ib) {
		if j == len(ib) || (i < len(ia) && ia[i] < ib[j]) {
			out, ids = append(out, fa[i]), append(ids, ia[i])
			i++
		} else {
			out, ids = append(out, fb[j]), append(ids, ib[j])
			j++
		}
	}
	return out, ids
}

// overlayStats returns the spend and orders of the customers of an
// updated index x, from its per-customer columns (the values the
// monetary and frequency attributes hold; 0 for the customers without).
func (x *Index) overlayStats() []statCol {
	cols := make([]statCol, len(x.keys))
	for c := range cols {
		cols[c] = statCol{money: x.cols.monetary[c], orders: int64(x.cols.freq[c])}
	}
	return cols
}

// sums returns the net spend and the orders of the customers of in (all
// known to x): the base layer's from its bit slices, the delta's, which
// are few, from x's per-customer columns.
func (x *Index) overlaySums(in *roaring.Bitmap) (revenue, orders wideSum) {
	o := x.over
	revenue, orders = o.bv.sumsBySlice(roaring.And(in, o.bv.universe))
	var buf [256]uint32
	for _, v := range o.dvs {
		it := roaring.And(in, v.universe).ManyIterator()
		for k := it.NextMany(buf[:]); k > 0; k = it.NextMany(buf[:]) {
			for _, c := range buf[:k] {
				revenue.addInt(x.cols.monetary[c])
				orders.addInt(int64(x.cols.freq[c]))
			}
		}
	}
	return revenue, orders
}
