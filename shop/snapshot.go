package shop

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/segment"
	"github.com/shopaffinity/affinity/similarity"
)

// Snapshot is everything affinity knows about the shop as of one time:
// the History, the segment index, the co-purchase neighbours and the
// recommendation engine. It is immutable (except for the engine's stock
// set, which the Shop's live controls swap atomically) and safe for any
// number of goroutines. The underlying values are exposed for power users.
type Snapshot struct {
	h        *affinity.History
	asOf     time.Time
	segAsOf  time.Time // the segment index's: the end of asOf's day, unless Options.AsOf is set
	report   dataset.Report
	segs     *segIndex
	nb       *similarity.Index
	counts   *similarity.Counts // what nb was built from; the next refresh recounts from it
	eng      *recommend.Engine
	nonMerch *roaring.Bitmap
	unit     string // "orders" or "customers": what a co-count counts
	cats     []int  // per product: its first category, or -1
	lookback affinity.Lookback
	halfLife time.Duration // the segment index's category-share decay
	workers  int
	mbg      bool // the value model is MBG/NBD (Options.ValueModel)

	repeats    *recommend.RepeatTally // the repeat share of the data, when measured; the next refresh recounts from it
	nextBasket bool
	trendDays  float64           // the next-basket trend's window in days
	tuning     *recommend.Tuning // Options.Tune's result, when it ran
	model      recommend.Model   // what the engine scores with

	// seq numbers the shop's histories: the first snapshot's is 0, each
	// refresh's one more. A learned model's index is modelIdx, fitted on
	// the history of number modelSeq (below seq with RefitBackground
	// until the background fit catches up); fit holds what fitting it
	// again takes, ro the engine's options.
	seq, modelSeq uint64
	modelIdx      *similarity.Index
	fit           modelFit
	ro            recommend.Options

	scratch sync.Pool   // *[]recommend.Rec
	values  *valueState // shared by the snapshots of one history
}

// modelFit is what fitting a snapshot's learned model takes beside the
// history and the as-of time.
type modelFit struct {
	model recommend.Model
	count similarity.CountOptions // the shop's counts: the non-merchandise left out
}

// index fits the model on h as of asOf.
func (f modelFit) index(ctx context.Context, h *affinity.History, asOf time.Time) (*similarity.Index, error) {
	m := f.model
	if m.Fit == nil && m.Measure == similarity.EASE {
		eo := f.count
		if !eo.Events {
			eo.Scope = m.Scope // rating data is counted within customers
		}
		return similarity.FitEASE(ctx, h, asOf, similarity.EASEOptions{Count: eo, K: m.K, MaxProducts: m.MaxDense})
	}
	return m.Index(ctx, h, asOf)
}

// erasedSince reports whether h, built on prev, erased a customer of
// prev, or may have (the change is too large to tell): a learned model
// fitted on prev is then not served with h, since its weights carry
// what the erased customers bought.
func erasedSince(prev, h *affinity.History) bool {
	ch, ok := h.ChangedSince(prev)
	if !ok {
		return true
	}
	n := affinity.CustomerID(prev.NumCustomers())
	for _, c := range ch.Customers {
		if c < n && h.CustomerKey(c) == "" && prev.CustomerKey(c) != "" {
			return true
		}
	}
	return false
}

// sameModel reports whether a and b are the same model of one shop: a
// custom Fit is the same as another, since a shop's Fit comes from its
// Options alone.
func sameModel(a, b recommend.Model) bool {
	return a.Name == b.Name && a.Measure == b.Measure && a.Scope == b.Scope && a.K == b.K &&
		a.MaxDense == b.MaxDense && (a.Fit == nil) == (b.Fit == nil)
}

// emptyAsOf is the as-of time of a snapshot of an empty History.
var emptyAsOf = time.Unix(0, 0).UTC()

// newSnapshot builds the snapshot of h. prev, when not nil, is the
// snapshot of an earlier History of the same shop (h built on prev's
// with affinity.NewBuilder): the co-purchase counts are then recounted
// from prev's (similarity.Recount), in time proportional to the change.
// workers is the number of goroutines of each build step. With background
// set, the segment index is left to be built once the snapshot is served
// (see segIndex).
func newSnapshot(ctx context.Context, h *affinity.History, rep dataset.Report, set *settings, prev *Snapshot, workers int, background bool) (_ *Snapshot, err error) {
	o := set.o
	asOf := o.AsOf.UTC() // the instant as every other time the shop gives: in UTC
	if asOf.IsZero() {
		asOf = h.Latest()
	}
	if asOf.IsZero() {
		asOf = emptyAsOf
	}
	s := &Snapshot{h: h, asOf: asOf, segAsOf: asOf, report: rep, workers: set.refreshWorkers, mbg: set.mbg, values: new(valueState)}
	if prev != nil {
		s.seq = prev.seq + 1
	}
	if o.AsOf.IsZero() {
		s.segAsOf = endOfDay(asOf)
	}
	cat := h.Catalog()
	if prev != nil && prev.h.Catalog() == cat {
		// the same catalog (a refresh without product changes): the same
		// non-merchandise and first categories, both read-only
		s.nonMerch, s.cats = prev.nonMerch, prev.cats
	} else {
		s.productTables(cat, set)
	}
	if err := ctx.Err(); err != nil {
		return nil, wrap(err, "")
	}

	switch {
	case o.Tune != nil && !set.tuned:
		if err := tune(ctx, h, asOf, set, s.nonMerch, workers); err != nil {
			return nil, err
		}
	case o.Tune == nil && set.model == "auto" && set.chosen == nil:
		if err := choose(ctx, h, asOf, set, s.nonMerch, workers); err != nil {
			return nil, err
		}
	}
	s.tuning = set.tuning

	prog := o.Progress
	segOpts := o.Segment
	if !o.Lookback.IsZero() {
		segOpts.Lookback = o.Lookback
	}
	segOpts.Lookback = segOpts.Lookback.Or(DefaultLookback)
	s.lookback, s.halfLife = segOpts.Lookback, segOpts.HalfLife
	segOpts.Workers = workers
	// non-merchandise is spend, not a taste: in no category share, as
	// everywhere else (Build keeps its own copy)
	segOpts.NonMerchandise = s.nonMerch
	// A refresh updates the previous snapshot's index, to a later day
	// too (see segment.Update): only what holds the previous index is
	// kept, not the previous snapshot.
	var prevSegs *segIndex
	var prevH *affinity.History
	if prev != nil && !s.segAsOf.Before(prev.segAsOf) {
		prevSegs, prevH = prev.segs, prev.h
	}
	segAsOf := s.segAsOf
	if h.NumOrders() == 0 && h.NumEvents() == 0 {
		// no index to build (below), but the options are checked all the
		// same: an empty shop must not take options its first orders
		// would refuse (on an empty History BuildPart checks them only)
		if _, err := segment.BuildPart(ctx, h, segAsOf, segOpts); err != nil {
			return nil, wrap(err, "segment index")
		}
	}
	// The full build in the background that an update of the index may
	// start (segment.UpdateOptions.Compact) runs under a context of this
	// snapshot's: cancelled when the snapshot is never served (see
	// segIndex.notServed, deferred below: an error before that leaves no
	// run of buildSeg going), and let go once the build is done or when the
	// update started none. A served snapshot's build outlives its
	// replacement, as the next one's update carries it on.
	bg := &bgLife{life: set.life}
	letGo := func() {} // the hold on the previous index, until the update asks for it
	if background && prevSegs != nil {
		letGo = prevSegs.hold()
	}
	// The step's end, once its start is reported: a run begun again after
	// a stopped one (a request asks for the index, see segIndex) is the
	// same step, whose start is not reported twice. Runs come one after
	// the other (segIndex.start), so the variable needs no lock.
	var segEnd func()
	buildSeg := func(ctx context.Context) (*segment.Index, func(), error) {
		defer letGo()
		bgCtx, release := bg.run()
		keep := false
		defer func() {
			if !keep {
				release()
			}
		}()
		if h.NumOrders() == 0 && h.NumEvents() == 0 {
			// A shop without any order yet has no segment index: its
			// audiences are empty.
			return nil, nil, nil
		}
		if segEnd == nil {
			segEnd = step(prog, "segment", int64(h.NumCustomers()), "customers")
		}
		var x *segment.Index
		var err error
		if prevSegs != nil {
			// the previous index, waiting for it if its build still runs
			if px, perr := prevSegs.get(ctx); perr == nil && px != nil && sameSet(px.Options().NonMerchandise, segOpts.NonMerchandise) {
				// on one goroutine: it runs beside the refresh's steps; a
				// full index is built in the background from time to time
				// for later refreshes to lay their changes over
				x, err = segment.Update(ctx, px, prevH, h, segAsOf, compactionUpdate(bgCtx))
				if ch := x.Compacting(); err == nil && ch != nil && ch != px.Compacting() {
					// this update started the build: let its context go
					// once it is done (after Close, the shop's life has
					// ended: it is let go already)
					keep = true
					set.work.runOpen(func() {
						select {
						case <-ch:
						case <-bgCtx.Done():
						}
						release()
					})
				}
			}
		}
		if x == nil && err == nil {
			x, err = segment.Build(ctx, h, segAsOf, segOpts)
		}
		if err != nil {
			return nil, nil, wrap(err, "segment index")
		}
		return x, segEnd, nil
	}
	built := false
	defer func() {
		if !built && s.segs != nil {
			// an error, or a panic (a Progress callback's) on its way to
			// the caller: no snapshot carries the index on
			s.segs.notServed()
		}
	}()
	if background {
		s.segs = laterSeg(buildSeg, set.life, set.work) // begun once the snapshot is served
		s.segs.bg = bg
		if prevSegs != nil {
			// An update of the index costs a fraction of the refresh:
			// begin it now, beside the other steps, so that segment
			// queries see the change about when recommendations do
			// (stopped if the refresh fails).
			s.segs.begin()
		}
	} else {
		x, done, err := buildSeg(ctx)
		if err != nil {
			return nil, err
		}
		s.segs = builtSeg(x, set.life, set.work)
		s.segs.bg = bg
		if done != nil {
			done()
		}
	}

	co := similarity.CountOptions{Scope: set.scope, Workers: workers, Exclude: s.nonMerch}
	if h.NumOrders() == 0 && h.NumEvents() > 0 {
		// Rating data: no orders, the events are the interactions.
		co.Scope, co.Events = similarity.Customer, true
	}
	s.unit = "orders"
	if co.Scope != similarity.Basket {
		s.unit = "customers"
	}
	done := step(prog, "count", int64(h.NumLines()+h.NumEvents()), "lines")
	var counts *similarity.Counts
	if prev != nil && prev.counts != nil {
		counts, err = similarity.Recount(ctx, prev.counts, prev.h, h, asOf, co)
	} else {
		counts, err = similarity.Count(ctx, h, asOf, co)
	}
	if err != nil {
		return nil, wrap(err, "co-purchase counts")
	}
	done()
	s.counts = counts
	done = step(prog, "neighbours", int64(cat.NumProducts()), "products")
	io := similarity.IndexOptions{Measure: set.measure, K: set.k, Shrinkage: set.shrinkage, Workers: workers}
	if prev != nil && prev.nb != nil && prev.counts != nil {
		// only the rows the change reaches are selected again
		s.nb, err = similarity.Reindex(ctx, prev.nb, prev.counts, counts, io)
	} else {
		s.nb, err = similarity.NewIndex(ctx, counts, io)
	}
	if err != nil {
		return nil, wrap(err, "neighbours")
	}
	done()

	ro := o.Recommend
	ro.Exclude = engineExclude(s.nonMerch, o.Recommend.Exclude)
	if ro.NextBasket.RepeatWeight == 0 && o.NextBasket != Off {
		var t recommend.RepeatTally
		// non-merchandise is no repeat: postage on every order would make
		// every shop a repeat shop
		if prev != nil && prev.repeats != nil && prev.nonMerch.Equals(s.nonMerch) {
			t, err = recommend.RecountRepeats(ctx, *prev.repeats, prev.h, h, asOf, s.nonMerch)
		} else {
			t, err = recommend.CountRepeats(ctx, h, asOf, s.nonMerch)
		}
		if err != nil {
			return nil, wrap(err, "repeat share")
		}
		s.repeats = &t
		if o.NextBasket == On || t.Share() >= DefaultRepeatShare {
			ro.NextBasket.RepeatWeight = DefaultRepeatWeight
		}
	}
	if o.HalfLife > 0 {
		ro.HalfLife = o.HalfLife
	}
	engIdx := s.nb
	var model recommend.Model // the engine's, when learned
	switch {
	case set.chosen != nil: // Options.Model "auto", validated
		model, ro.HalfLife = set.chosen.Model, set.chosen.Options.HalfLife
	case set.tuning != nil:
		best := set.tuning.Best.Candidate
		ro.HalfLife, ro.PopularityBlend = best.Options.HalfLife, best.Options.PopularityBlend
		ro.NextBasket = best.Options.NextBasket // the mix and the trend, on Recommend's base
		model = best.Model
	case set.model == "auto":
		model = recommend.ModelFor(h)
	case set.model == "ease":
		model = recommend.Model{Measure: similarity.EASE, Scope: set.scope, MaxDense: recommend.DefaultEASEMaxDense}
	}
	if learned(model) {
		s.fit = modelFit{model: model, count: co}
		if o.ModelRefit == RefitBackground && prev != nil && prev.modelIdx != nil && sameModel(prev.model, model) && !erasedSince(prev.h, h) {
			// served with the last snapshot's fit, fitted again later
			s.modelIdx, s.modelSeq = prev.modelIdx, prev.modelSeq
		} else {
			done = step(prog, "model", int64(cat.NumProducts()), "products")
			if s.modelIdx, err = s.fit.index(ctx, h, asOf); err != nil {
				return nil, wrap(err, fmt.Sprintf("model %v", model))
			}
			s.modelSeq = s.seq
			done()
		}
		engIdx = s.modelIdx
		// reasons state, and are chosen by, this history's co-purchase
		// counts in the shop's scope, not those of the model's fit
		// (another scope, or the last snapshot's while a refit runs)
		ro.Evidence = s.counts
	}
	s.model = model
	if !learned(model) {
		s.model = recommend.Model{Measure: set.measure, Scope: co.Scope, K: set.k, Shrinkage: set.shrinkage}
	}
	s.nextBasket = ro.NextBasket.RepeatWeight > 0
	s.trendDays = cmp.Or(ro.NextBasket.TrendWindow, recommend.DefaultTrendWindow).Hours() / 24
	done = step(prog, "engine", int64(cat.NumProducts()), "products")
	var prevEng *recommend.Engine
	if prev != nil {
		prevEng = prev.eng // Renew updates what the change leaves cheap to update
	}
	if s.eng, err = recommend.Renew(ctx, prevEng, h, engIdx, asOf, ro); err != nil {
		return nil, wrap(err, "engine")
	}
	s.ro = ro
	done()
	built = true
	return s, nil
}

// withModel returns a snapshot of s's history whose engine scores with
// idx, a fit of s's learned model on the history of number seq.
func (s *Snapshot) withModel(ctx context.Context, idx *similarity.Index, seq uint64) (*Snapshot, error) {
	eng, err := recommend.Renew(ctx, s.eng, s.h, idx, s.asOf, s.ro)
	if err != nil {
		return nil, wrap(err, "engine")
	}
	return &Snapshot{h: s.h, asOf: s.asOf, segAsOf: s.segAsOf, report: s.report, segs: s.segs, nb: s.nb, counts: s.counts,
		eng: eng, nonMerch: s.nonMerch, unit: s.unit, cats: s.cats, lookback: s.lookback, halfLife: s.halfLife, workers: s.workers, mbg: s.mbg,
		repeats: s.repeats, nextBasket: s.nextBasket, trendDays: s.trendDays, tuning: s.tuning, model: s.model,
		seq: s.seq, modelSeq: seq, modelIdx: idx, fit: s.fit, ro: s.ro, values: s.values}, nil
}

// ModelCurrent reports whether the snapshot's learned model (see
// [Options.Model]) was fitted on the snapshot's own history: always so
// with [RefitInline] and for co-purchase neighbours; with
// [RefitBackground] not until the background fit after a refresh is done
// (then [Shop.Snapshot] returns a snapshot of the same history that is).
func (s *Snapshot) ModelCurrent() bool { return s.modelIdx == nil || s.modelSeq == s.seq }

// engineExclude returns the engine's Options.Exclude: the
// non-merchandise and the products of Options.Recommend.Exclude (nil:
// none), in a bitmap of its own.
func engineExclude(nonMerch, user *roaring.Bitmap) *roaring.Bitmap {
	if user == nil {
		return nonMerch.Clone()
	}
	return roaring.Or(nonMerch, user)
}

// tune runs Options.Tune on h as of asOf (see [Options.Tune]) and records
// the result in set: the best model's scope and measure replace set's when
// it is a co-occurrence model.
func tune(ctx context.Context, h *affinity.History, asOf time.Time, set *settings, nonMerch *roaring.Bitmap, workers int) error {
	set.tuned = true
	o := set.o
	g := *o.Tune
	g.Base = o.Recommend
	g.Base.Exclude = engineExclude(nonMerch, o.Recommend.Exclude)
	if g.Workers == 0 {
		g.Workers = min(workers, recommend.MaxWorkers) // the shop's huge counts mean the most
	}
	if g.Progress == nil {
		g.Progress = o.Progress
	}
	t, err := recommend.Tune(ctx, h, asOf, g)
	switch {
	case errors.Is(err, recommend.ErrNoValidation):
		return nil // the defaults stand
	case err != nil:
		return wrap(err, "tune")
	}
	set.tuning = t
	if m := t.Best.Candidate.Model; !learned(m) {
		set.scope, set.measure, set.shrinkage = m.Scope, m.Measure, m.Shrinkage
		if m.K > 0 {
			set.k = m.K
		}
	}
	return nil
}

// choose makes the choice of Options.Model "auto" (recommend.Choose on
// recommend.AutoGrid, the shop's co-purchase neighbours against EASE)
// and records it in set once it validated candidates; until then (a
// shop younger than the validation window) every snapshot tries again,
// and the snapshot takes recommend.ModelFor's model.
func choose(ctx context.Context, h *affinity.History, asOf time.Time, set *settings, nonMerch *roaring.Bitmap, workers int) error {
	o := set.o
	base := o.Recommend
	base.Exclude = engineExclude(nonMerch, o.Recommend.Exclude)
	if o.HalfLife > 0 {
		base.HalfLife = o.HalfLife
	}
	g := recommend.AutoGrid(base)
	g.Models[0] = recommend.Model{Measure: set.measure, Scope: set.scope, K: set.k, Shrinkage: set.shrinkage} // the shop's neighbours
	// the shop's huge worker counts mean the most; the Grid refuses more
	g.Workers, g.Progress = min(workers, recommend.MaxWorkers), o.Progress
	c, t, err := recommend.Choose(ctx, h, asOf, g)
	if err != nil {
		return wrap(err, "model choice")
	}
	if t != nil {
		set.chosen, set.tuning = &c, t
	}
	return nil
}

// learned reports whether m is fitted from the history (EASE, SVD or its
// own Fit) rather than a measure on co-occurrence counts.
func learned(m recommend.Model) bool {
	return m.Fit != nil || m.Measure == similarity.EASE || m.Measure == similarity.SVD
}

// Model returns what the snapshot's engine scores with: a learned model
// (see [Options.Model] and [Options.Tune]) or the co-purchase neighbours'
// measure and scope.
func (s *Snapshot) Model() recommend.Model { return s.model }

// Tuning returns what [Options.Tune], or the choice of Options.Model
// "auto", tried and chose, or nil when nothing was validated (a model set
// by Options.Model, rating data, a catalogue above
// recommend.AutoMaxProducts, or a history too short to validate on).
func (s *Snapshot) Tuning() *recommend.Tuning { return s.tuning }

// RepeatShare returns the share of repeat items in customers' next orders
// as measured for [Options.NextBasket] (non-merchandise aside; 0 when not
// measured), and whether
// the engine serves customers in next-basket mode.
func (s *Snapshot) RepeatShare() (share float64, nextBasket bool) {
	if s.repeats != nil {
		share = s.repeats.Share()
	}
	return share, s.nextBasket
}

// ValueModel returns the purchase model of the snapshot's value models
// and of tactics that judge P(alive): "bgnbd" or "mbgnbd" (see
// [Options.ValueModel]).
func (s *Snapshot) ValueModel() string {
	if s.mbg {
		return "mbgnbd"
	}
	return "bgnbd"
}

// History returns the purchase history of the snapshot.
func (s *Snapshot) History() *affinity.History { return s.h }

// AsOf returns the time the snapshot is as of, in UTC: every index was
// built from the data at or before it. [Options.AsOf] given in another
// zone is the same instant here in UTC, as in every [Result] and in the
// History's times. For a shop without Options.AsOf the
// segment index is as of the end of that day (UTC); with it, as of that
// time exactly. A shop without any order or event (and without
// Options.AsOf) is as of the Unix epoch, 1970-01-01 UTC, not the zero
// time.
func (s *Snapshot) AsOf() time.Time { return s.asOf }

// endOfDay returns the last second of t's day (UTC).
func endOfDay(t time.Time) time.Time {
	return t.UTC().Truncate(24 * time.Hour).Add(24*time.Hour - time.Second)
}

// Report returns what the load (or the refresh) that made this snapshot
// read: rows, lines, skipped rows by reason.
func (s *Snapshot) Report() dataset.Report { return s.report }

// Segments returns the segment index; nil for a shop without any order
// or event yet, and nil when its build failed ([Snapshot.SegmentIndex]
// returns the error). After [Shop.Refresh] the index of the new snapshot
// is built in the background (Refresh returns once recommendations see
// the change); Segments waits for it without a bound
// ([Snapshot.SegmentIndex] waits within a context). While the snapshot is
// the shop's current one, a later call may return another index with the
// same answers: the index laid over the full index that a background
// build made (see [Shop.Refresh]).
func (s *Snapshot) Segments() *segment.Index {
	x, _ := s.segs.get(context.Background())
	return x
}

// SegmentIndex returns the segment index like [Snapshot.Segments],
// waiting for its build until ctx is done, and the build's error if it
// failed.
func (s *Snapshot) SegmentIndex(ctx context.Context) (*segment.Index, error) {
	if ctx == nil {
		return nil, ErrNilContext
	}
	return s.segs.get(ctx)
}

// Neighbors returns the co-purchase neighbour index.
func (s *Snapshot) Neighbors() *similarity.Index { return s.nb }

// Engine returns the recommendation engine.
func (s *Snapshot) Engine() *recommend.Engine { return s.eng }

// IsNonMerchandise reports whether the product with shop key key is
// non-merchandise in this snapshot (false for an unknown key).
func (s *Snapshot) IsNonMerchandise(key string) bool {
	p, ok := s.h.Catalog().LookupProduct(key)
	return ok && s.nonMerch.Contains(uint32(p))
}

// NonMerchandise returns the non-merchandise products by dense id. The
// bitmap is the snapshot's own: do not modify it.
func (s *Snapshot) NonMerchandise() *roaring.Bitmap { return s.nonMerch }

// productTables fills s's non-merchandise products and each product's
// first category from cat.
func (s *Snapshot) productTables(cat *affinity.Catalog, set *settings) {
	s.nonMerch, s.cats = roaring.New(), make([]int, cat.NumProducts())
	for p := range cat.NumProducts() {
		id := affinity.ProductID(p)
		if set.nonKeys[cat.ProductKey(id)] || set.isNon(cat.Product(id)) {
			s.nonMerch.Add(uint32(p))
		}
		s.cats[p] = -1
		if cs := cat.Categories(id); len(cs) > 0 {
			s.cats[p] = int(cs[0])
		}
	}
}

// sameSet reports whether a and b hold the same ids, nil being empty.
func sameSet(a, b *roaring.Bitmap) bool {
	if a == nil || b == nil {
		return (a == nil || a.IsEmpty()) && (b == nil || b.IsEmpty())
	}
	return a.Equals(b)
}
