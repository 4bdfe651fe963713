package shop

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/parallel"
	"github.com/shopaffinity/affinity/similarity"
)

// Shop is the front door a storefront holds: the current [Snapshot] of
// everything affinity knows about the shop, a way to refresh it, and live
// controls (stock) that survive every refresh. All methods are safe for
// concurrent use; requests read the snapshot current when they start and
// never wait for a refresh under way. On a snapshot a refresh has just
// served, the calls that read its segment index — [Snapshot.Segments],
// [Snapshot.SegmentIndex], [Snapshot.Segment], [Snapshot.Audience], and
// [Snapshot.Profile] in a shop that has not served profiles yet — wait
// until that index is updated or built in the background (see
// [Shop.Refresh]); recommendations never wait.
type Shop struct {
	set *settings
	cur atomic.Pointer[Snapshot]

	refreshing chan struct{} // one refresh at a time: a semaphore, so that a waiting Refresh sees its context

	// mu guards the live controls and their application to a snapshot
	// being published, so that a control set during a refresh reaches the
	// new snapshot too.
	mu    sync.Mutex
	stock map[string]bool // shop key → in stock, overriding the catalog

	refit refitState // the background fit of Options.ModelRefit

	// closed ends set.life, the context of the background work and of
	// the refresh under way (Close), under mu: what is published under mu
	// after a look at set.life is never served once Close began
	closed context.CancelFunc
}

// newShop returns a shop with settings set and no snapshot yet.
func newShop(set *settings) *Shop {
	s := &Shop{set: set, stock: map[string]bool{}, refreshing: make(chan struct{}, 1)}
	set.life, s.closed = context.WithCancel(context.Background())
	set.work = new(segWork)
	return s
}

// refitState is the state of a shop's background model fit.
type refitState struct {
	mu   sync.Mutex
	done chan struct{} // closed when the running fit stops; nil when none runs
	err  error         // why the last fit failed; nil after a success
}

// ErrNilContext is returned by the functions of this package given a nil
// context. It also matches [affinity.ErrNilArgument].
var ErrNilContext = affinity.NilArgument("shop", "context")

// errNilSource is returned for a nil Source.
var errNilSource = affinity.NilArgument("shop", "source")

// ErrNothingLoaded is returned (wrapped) by [Open] for a [File] or
// [FileWith] source, given to Open itself rather than inside [Sources],
// of which no row loaded: a file with a header and no
// rows, or one whose every row was skipped (most likely a file of another
// format than the one named). A shop with no orders yet opens from an
// empty [Purchases] instead; [Shop.Refresh] takes such a file (a day
// without orders).
var ErrNothingLoaded = errors.New("shop: nothing loaded")

// ErrClosed is returned by [Shop.Refresh] and [Shop.WaitModel] after
// [Shop.Close], and by a refresh that Close stopped.
var ErrClosed = errors.New("shop: closed")

// Open loads src into a new History and builds the first snapshot: the
// segment index, the co-purchase neighbours and the recommendation engine,
// all as of one time (see [Options.AsOf]). It reports each step to
// opts.Progress and stops with ctx's error, wrapped, when ctx is done. A
// file source of which no row loads is an error wrapping
// [ErrNothingLoaded]. On any error it returns a nil Shop.
func Open(ctx context.Context, src Source, opts Options) (*Shop, error) {
	if ctx == nil {
		return nil, ErrNilContext
	}
	if src == nil {
		return nil, errNilSource
	}
	set, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	s := newShop(set)
	b := &affinity.Builder{Workers: opts.Workers}
	rep, err := s.load(ctx, src, b, opts.Workers)
	if err != nil {
		return nil, err
	}
	if f, ok := src.(fileSource); ok {
		if err := f.nothingLoaded(rep); err != nil {
			return nil, err
		}
	}
	if err := s.publish(ctx, b, rep, opts.Workers); err != nil {
		s.Close() // stops what the failed build started; no half-built Shop is returned
		return nil, err
	}
	commit(src)
	return s, nil
}

// OpenHistory builds the first snapshot from a History built elsewhere,
// as [Open] does from a source once it is loaded: there is no "load" or
// "history" step to report and no [Options.OnLoad] call, and the
// snapshot's load report has Format "history" and no counts. Refreshes build on h, as on a History
// Open loaded ([affinity.NewBuilder]).
func OpenHistory(ctx context.Context, h *affinity.History, opts Options) (*Shop, error) {
	if ctx == nil {
		return nil, ErrNilContext
	}
	if h == nil {
		return nil, affinity.NilArgument("shop", "History")
	}
	set, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	s := newShop(set)
	snap, err := newSnapshot(ctx, h, dataset.Report{Format: "history"}, set, nil, opts.Workers, false)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.applyStock(snap)
	s.cur.Store(snap)
	return s, nil
}

// Snapshot returns the current snapshot. It never blocks; hold on to the
// returned value for a consistent view across several calls.
func (s *Shop) Snapshot() *Snapshot { return s.cur.Load() }

// Refresh loads src on top of the current History (with
// [affinity.NewBuilder]: new orders are added, order changes replace or
// delete earlier versions — those older than the versions the History
// keeps change nothing, see [affinity.Builder.Apply] —, products and
// categories are extended), builds the next snapshot and swaps it in
// atomically. Requests keep being served
// from the current snapshot while it builds. Refreshes run one at a time
// (a Refresh waits for the one under way while its context lets it: when
// the context ends first, it returns the context's error, wrapped; with
// a context already done it returns that error at once, and after Close
// [ErrClosed]); a
// failed or cancelled refresh leaves the current snapshot in place and
// returns the error, having stopped the segment work it began (the full
// build in the background its update of the index may have started
// too: no snapshot carries it on). A source that changes nothing (no new line, event,
// product or order change that wins; an order export read again, see
// [dataset.Formats]) leaves the snapshot as it is and costs only the read
// (see [affinity.NewBuilder]). The rest costs in proportion to
// the change plus linear copies where it can: the History is written with
// the untouched customers copied from the current one and only the
// changed customers' orders sorted and indexed; the co-purchase counts
// ([similarity.Recount]) read only the changed customers' baskets and
// recount only the rows of the products in changed orders; the engine
// ([recommend.Renew]) updates the buyer-category profiles of the changed
// customers' products and the popularity by their lines, and the repeat
// share of next-basket mode
// ([recommend.RecountRepeats]) counts only the changed customers again.
// The neighbour lists ([similarity.Reindex]) select again only the rows
// of the products in changed baskets and merge the rows that hold a
// product whose total moved; the rest of the engine is rebuilt in full,
// and a learned model is fitted again, after the swap (the default) or
// before it ([Options.ModelRefit]). The
// segment index is updated: the changed customers' features (on a new
// day also those of the customers whose orders left the look-back) are
// laid over the current snapshot's index ([segment.Update], see
// [Options.AsOf]) on one more goroutine, beside the other steps, from
// their start, or the index is built in full where that cannot be done
// (see segment.Update). Once the changed customers since the last full
// index exceed one in 32, that update starts a full build of its
// History on a goroutine of its own (segment.UpdateOptions.Compact),
// which later refreshes lay their changes over once it is done, so that
// the delta, and each update's cost, stays small and a busy day needs no
// full build in the refresh's path. When that build is done before the
// next refresh, the current snapshot's index is laid over it at once
// ([segment.Index.Compacted], the same answers), so that a shop no
// refresh reaches does not hold two full indexes. Refresh returns, and recommendations see the change,
// without waiting for the index, while [Snapshot.Segments], [Snapshot.Segment]
// and audiences wait for the new snapshot's index (their answers are as
// of the new snapshot, never the old one's). A shop that serves profiles
// ([Snapshot.Profile], [Snapshot.Value]) has the index built before the
// swap instead, as profiles read it in requests. A refresh that comes
// before the last one's index is done stops that build unless someone
// waits for it (an update waits for the index it updates), and once the
// last of them stops waiting. Everything
// else runs on [Options.RefreshWorkers] goroutines so that a core stays
// free for the requests served meanwhile, but for the load of a file
// source larger than 256 KiB, which reads and gunzips it on one more
// goroutine, beside the RefreshWorkers − 1 that parse it (see
// [Options.RefreshWorkers]); the segment step's progress is reported
// from the goroutine that builds the index.
func (s *Shop) Refresh(ctx context.Context, src Source) error {
	if ctx == nil {
		return ErrNilContext
	}
	if src == nil {
		return errNilSource
	}
	// a closed shop or a context already done: the same error each time,
	// whether or not another refresh is under way
	if s.set.life.Err() != nil {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return wrap(err, "refresh")
	}
	// Close stops a refresh under way as its own context would
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	defer context.AfterFunc(s.set.life, func() { stop(ErrClosed) })()
	select {
	case s.refreshing <- struct{}{}:
	default:
		// another refresh (or the adoption of a background fit) is under
		// way: wait for it while ctx lets us
		select {
		case s.refreshing <- struct{}{}:
		case <-ctx.Done():
			if context.Cause(ctx) == ErrClosed {
				return wrap(ErrClosed, "refresh stopped")
			}
			return wrap(ctx.Err(), "refresh: waiting for the refresh under way")
		}
	}
	defer func() { <-s.refreshing }()
	if s.set.life.Err() != nil {
		return ErrClosed
	}
	b := affinity.NewBuilder(s.cur.Load().h)
	b.Workers = s.set.refreshWorkers
	rep, err := s.load(ctx, src, b, s.set.refreshWorkers)
	if err == nil {
		err = s.publish(ctx, b, rep, s.set.refreshWorkers)
	}
	switch {
	case err == nil:
		commit(src) // a Committer's load is in the snapshot served
	case context.Cause(ctx) == ErrClosed:
		return wrap(ErrClosed, "refresh stopped")
	}
	return err
}

// load reads src into b on workers goroutines (≤ 0: GOMAXPROCS): a file
// source parses on workers − 1 beside the loading one, and reads the file
// on one more (see dataset.Options.Workers).
func (s *Shop) load(ctx context.Context, src Source, b *affinity.Builder, workers int) (dataset.Report, error) {
	p := s.set.o.Progress
	_, bytes := src.(fileSource) // a file reports its own step, in bytes
	if !bytes {
		p.Report(affinity.Progress{Step: "load", Unit: "rows"})
	}
	if workers > 0 {
		pw := workers - 1
		if pw == 0 {
			pw = -1 // dataset.Options.Workers: none
		}
		ctx = context.WithValue(ctx, parseWorkersKey{}, pw)
	}
	if bytes {
		ctx = withProgress(ctx, p)
	}
	rep, err := src.Load(ctx, b)
	if err != nil {
		return rep, wrap(err, "load")
	}
	if !bytes {
		p.Report(affinity.Progress{Step: "load", Done: int64(rep.Rows), Total: int64(rep.Rows), Unit: "rows"})
	}
	if f := s.set.o.OnLoad; f != nil {
		f(rep)
	}
	return rep, nil
}

func (s *Shop) publish(ctx context.Context, b *affinity.Builder, rep dataset.Report, workers int) error {
	done := step(s.set.o.Progress, "history", int64(b.Len()), "lines")
	h, err := b.Build(ctx)
	if err != nil {
		return wrap(err, "build history")
	}
	done()
	cur := s.cur.Load()
	if cur != nil && cur.h == h {
		return nil // the source changed nothing: keep the snapshot
	}
	// A refresh serves the new snapshot before its segment index is built,
	// unless the shop serves profiles, which read the index in requests.
	background := cur != nil && !cur.valuesAsked()
	snap, err := newSnapshot(ctx, h, rep, s.set, cur, workers, background)
	if err != nil {
		return err
	}
	served := false
	defer func() {
		if !served {
			snap.segs.notServed() // stops the index's build begun beside the refresh
		}
	}()
	if cur != nil && cur.valuesAsked() {
		// the shop serves profiles: fit before the swap, not in a request
		if _, err := snap.Value(ctx); err != nil && ctx.Err() != nil {
			return wrap(err, "value models")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.set.life.Err() != nil {
		// Close was called after the refresh's last look at its context
		// (its AfterFunc may not have run yet): not served
		return ErrClosed
	}
	served = true
	s.applyStock(snap)
	// the snapshot and its background fit start together, under
	// refit.mu: WaitModel never sees a snapshot whose model is not
	// current without a fit under way (or failed)
	s.refit.mu.Lock()
	s.cur.Store(snap)
	if !snap.ModelCurrent() {
		s.startRefit()
	}
	s.refit.mu.Unlock()
	if cur != nil {
		cur.segs.replaced()
	}
	snap.segs.begin()
	return nil
}

// startRefit starts the background fit of the current snapshot's model
// unless it runs (it then fits again for the newest snapshot).
// s.refit.mu is held.
func (s *Shop) startRefit() {
	if s.refit.done == nil {
		s.refit.done = make(chan struct{})
		go s.refitLoop(s.refit.done)
	}
}

// refitLoop fits the current snapshot's learned model on its history
// and serves a snapshot of that history with it, until the current
// snapshot's model is current or the fit of the current snapshot's
// history fails (a failed fit of an older one fits the newer). It reports the fit as step
// "model" of Options.Progress, from its goroutine.
func (s *Shop) refitLoop(done chan struct{}) {
	if refitStarts != nil {
		refitStarts()
	}
	ctx := s.set.life // Close stops the fit
	stop := func(err error) {
		if ctx.Err() != nil {
			err = ErrClosed
		}
		s.refit.err = err
		s.refit.done = nil
		close(done)
	}
	// the step's end, while its start is reported: a fit begun again for
	// a newer history after one that failed is the same step, whose
	// start is not reported twice
	var end func()
	for {
		s.refit.mu.Lock()
		snap := s.cur.Load()
		if snap.ModelCurrent() {
			stop(nil)
			s.refit.mu.Unlock()
			return
		}
		s.refit.mu.Unlock()
		// Only what the fit reads is kept, and snap is not read again:
		// the snapshot itself (its segment index, counts and engine) can
		// be collected while the fit runs, once refreshes have replaced
		// it (BenchmarkRecommendDuringRefresh: a peak live heap of 3.9
		// snapshots instead of 4.3 while the fit held it, medians of 10
		// and 7 runs).
		h, asOf, fit, seq := snap.h, snap.asOf, snap.fit, snap.seq
		// a panic here (a Progress callback's, say) is the fit's error:
		// this goroutine is the shop's, where no recover of the caller's
		// reaches
		err := parallel.Guard(func() error {
			if end == nil {
				end = step(s.set.o.Progress, "model", int64(h.Catalog().NumProducts()), "products")
			}
			idx, err := fit.index(ctx, h, asOf)
			if err == nil {
				err = s.adoptModel(ctx, idx, seq)
			}
			if err == nil {
				ended := end
				end = nil
				ended() // once the fit is served, as the segment step's end
			}
			return err
		})
		if err != nil {
			s.refit.mu.Lock()
			if ctx.Err() == nil && s.cur.Load().seq != seq {
				// a newer history was served while this one's fit ran
				// (its refresh started none, as this one ran): fit that
				// one, as the refresh would have; the error was this
				// history's
				s.refit.mu.Unlock()
				continue
			}
			stop(wrap(err, "background model fit"))
			s.refit.mu.Unlock()
			return
		}
	}
}

// refitStarts, when set (by tests), is called as a background fit
// starts; modelAdopts as adoptModel has made the snapshot of a fit,
// before it is served.
var refitStarts, modelAdopts func()

// adoptModel serves a snapshot of the current history with idx, the
// model fitted on the history of number seq, unless the current snapshot's
// model is as new.
func (s *Shop) adoptModel(ctx context.Context, idx *similarity.Index, seq uint64) error {
	select {
	case s.refreshing <- struct{}{}:
		defer func() { <-s.refreshing }()
	case <-ctx.Done():
	}
	if err := ctx.Err(); err != nil {
		// Close was called while the fit ended: it leaves the snapshot
		return err
	}
	cur := s.cur.Load()
	if cur.modelIdx == nil || cur.modelSeq >= seq {
		return nil
	}
	snap, err := cur.withModel(ctx, idx, seq)
	if err != nil {
		return err
	}
	if modelAdopts != nil {
		modelAdopts()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		// Close was called while the engine was renewed: not served
		return err
	}
	s.applyStock(snap)
	s.cur.Store(snap) // the segment index is cur's: not replaced
	return nil
}

// Close stops the shop's background work and waits for it: the refresh
// under way, if any, returns an error wrapping [ErrClosed] and leaves the
// snapshot as it was; a background model fit ([RefitBackground]) stops,
// and the current snapshot's segment index, if still being built and
// waited for by nobody, stops being built, as does the full segment build
// a refresh's update started in the background (see Refresh), and the
// current snapshot's index is no longer laid over it. Close returns once
// all of it has stopped: no Progress report or CPU of it follows. A
// segment build that a request waits for at that time runs on, and Close
// waits for it too. Nothing any of them made is served once Close is
// called, however far it got (a fit or a refresh that ends as Close
// begins is dropped). Later calls of Refresh and WaitModel return
// ErrClosed. Close stops all of it through contexts, so code of the
// caller's that the shop waits for and that does not return when its
// context is done — a custom model fit (recommend.Model.Fit of a
// [Options.Tune] candidate) that ignores its context, a [Source] whose
// Load does, a Progress or OnLoad callback that blocks — holds Close up
// until it returns. Snapshots stay usable: requests, audiences and live controls
// keep working on the last one, and a segment index whose build was
// stopped is built when asked for, on the asker's time (Close does not
// wait for what starts after it). Close is safe to call more than once,
// and concurrently with the rest.
func (s *Shop) Close() {
	s.mu.Lock()
	s.closed() // under mu: publish and adoptModel look at the life under it
	s.mu.Unlock()
	// the refresh under way sees its context done and returns
	s.refreshing <- struct{}{}
	<-s.refreshing
	s.refit.mu.Lock()
	done := s.refit.done
	s.refit.mu.Unlock()
	if done != nil {
		<-done
	}
	if snap := s.cur.Load(); snap != nil {
		snap.segs.replaced()
	}
	s.set.work.wait()
}

// WaitModel waits until the current snapshot's learned model is fitted on
// its own history ([Snapshot.ModelCurrent]): at once without
// [RefitBackground] or a refresh since the last fit. It returns the error
// of the background fit of the current snapshot's history that failed
// (the shop then keeps serving the model it had, and the next refresh
// tries again; a fit of an earlier history that fails is followed by
// that of the current one) while the current snapshot's model is not
// current, or, when ctx is done first, ctx's error, wrapped as the
// shop's other waits wrap it ("shop: waiting for the model fit: context
// canceled").
func (s *Shop) WaitModel(ctx context.Context) error {
	if ctx == nil {
		return ErrNilContext
	}
	for {
		// the snapshot with the fit's state: publish starts a fit with
		// the snapshot that needs it, under refit.mu
		s.refit.mu.Lock()
		done, err, cur := s.refit.done, s.refit.err, s.cur.Load()
		s.refit.mu.Unlock()
		if done == nil {
			if s.set.life.Err() != nil {
				return ErrClosed
			}
			if cur.ModelCurrent() {
				return nil // a later snapshot's fit ran inline
			}
			return err // the fit of cur failed
		}
		select {
		case <-done:
		case <-ctx.Done():
			return wrap(ctx.Err(), "waiting for the model fit")
		}
	}
}

// SetInStock marks the product with shop key key in or out of stock, in
// the current snapshot at once and in every later one: the setting
// overrides the catalog's stock flag until changed again. A key the
// current snapshot does not know changes nothing and is not remembered,
// unless the last [Shop.SetStock] named it (see [Shop.UpdateStock], which
// reports such keys). Out-of-stock products are
// not recommended (unless a request's rules include them).
// Non-merchandise stays out whatever the setting. It takes time in
// proportion to the catalog's products / 64 (the engine's stock set is
// copied), whatever the settings made before.
func (s *Shop) SetInStock(key string, inStock bool) {
	if inStock {
		s.UpdateStock([]string{key}, nil)
	} else {
		s.UpdateStock(nil, []string{key})
	}
}

// StockReport says what [Shop.UpdateStock] did with its keys.
type StockReport struct {
	// InStock and OutOfStock count the distinct keys of products the
	// current snapshot knows that the call set in and out of stock (a key
	// in both lists counts as out of stock, a key given twice once).
	InStock, OutOfStock int
	// Unknown holds the distinct keys the current snapshot does not know,
	// sorted; nil when there are none. Their settings are not kept, so
	// that a feed of discontinued or misspelt keys costs no memory: a
	// product the catalog lists later takes its catalog flag, unless
	// [Shop.SetStock] remembered its key (then the call changes that
	// setting).
	Unknown []string
}

// UpdateStock is [Shop.SetInStock] for many keys at once: keys in inStock
// are in stock, keys in outOfStock are not (a key in both ends out of
// stock), and the settings of other keys stay as they were. It returns
// what it set and the keys it did not know. It takes time in proportion
// to the keys plus the catalog's products / 64, where a SetInStock per
// key would take the latter for every key.
//
// Settings are kept for the products the shop knows, and for the keys
// the last [Shop.SetStock] named: a stock feed that lists products
// before the catalog does (and may name products it no longer holds) is
// sent whole with SetStock, whose settings replace the earlier ones.
func (s *Shop) UpdateStock(inStock, outOfStock []string) StockReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := s.cur.Load()
	cat := snap.h.Catalog()
	final := make(map[affinity.ProductID]bool, len(inStock)+len(outOfStock))
	var unknown []string
	mark := func(keys []string, in bool) {
		for _, k := range keys {
			p, ok := cat.LookupProduct(k)
			if !ok {
				unknown = append(unknown, k)
				if _, kept := s.stock[k]; !kept {
					continue // not remembered: the memory of settings stays bounded
				}
			}
			s.stock[k] = in
			if ok {
				final[p] = in
			}
		}
	}
	mark(inStock, true)
	mark(outOfStock, false)
	var rep StockReport
	var in, out []affinity.ProductID
	for p, set := range final { // any order: the engine sets bits
		switch {
		case !set:
			rep.OutOfStock++
			out = append(out, p)
		case snap.nonMerch.Contains(uint32(p)):
			rep.InStock++ // set, but non-merchandise stays out
		default:
			rep.InStock++
			in = append(in, p)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		rep.Unknown = slices.Compact(unknown)
	}
	snap.eng.UpdateStock(in, out)
	return rep
}

// SetStock replaces every stock setting at once: keys in inStock are in
// stock, keys in outOfStock are not (a key in both ends out of stock),
// and all earlier settings are forgotten (products not named follow the
// catalog again). Unlike [Shop.UpdateStock] it remembers the keys the
// current snapshot does not know, until the next SetStock: their
// settings apply once their products appear, and cost memory in
// proportion to the last feed and a lookup at every refresh. It takes
// time linear in the catalog and the keys.
func (s *Shop) SetStock(inStock, outOfStock []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.stock)
	for _, k := range inStock {
		s.stock[k] = true
	}
	for _, k := range outOfStock {
		s.stock[k] = false
	}
	s.applyStock(s.cur.Load())
}

// applyStock gives snap's engine the stock set: the catalog's flags with
// the live settings applied, non-merchandise removed. s.mu is held.
func (s *Shop) applyStock(snap *Snapshot) {
	cat := snap.h.Catalog()
	st := roaring.New()
	for p := range cat.NumProducts() {
		if cat.InStock(affinity.ProductID(p)) {
			st.Add(uint32(p))
		}
	}
	for k, in := range s.stock {
		p, ok := cat.LookupProduct(k)
		if !ok {
			continue
		}
		if in {
			st.Add(uint32(p))
		} else {
			st.Remove(uint32(p))
		}
	}
	st.AndNot(snap.nonMerch)
	snap.eng.SetStock(st)
}

// step reports the start of a build step and returns the function that
// reports its end.
func step(p affinity.ProgressFunc, name string, total int64, unit string) func() {
	p.Report(affinity.Progress{Step: name, Total: total, Unit: unit})
	return func() { p.Report(affinity.Progress{Step: name, Done: total, Total: total, Unit: unit}) }
}

type progressKey struct{}

// parseWorkersKey holds the dataset.Options.Workers of file sources that
// leave it unset: none beside the loading goroutine during a refresh on
// one worker, so that a core stays free for requests.
type parseWorkersKey struct{}

// parseWorkers returns what parseWorkersKey holds (0 without it: the
// loader's default).
func parseWorkers(ctx context.Context) int {
	w, _ := ctx.Value(parseWorkersKey{}).(int)
	return w
}

// withProgress hands the progress callback to a file source, which
// reports its own "load" step in bytes read.
func withProgress(ctx context.Context, p affinity.ProgressFunc) context.Context {
	if p == nil {
		return ctx
	}
	return context.WithValue(ctx, progressKey{}, p)
}

func progressOf(ctx context.Context) affinity.ProgressFunc {
	p, _ := ctx.Value(progressKey{}).(affinity.ProgressFunc)
	return p
}
