package similarity

import (
	"context"
	"errors"
	"fmt"
	"github.com/RoaringBitmap/roaring/v2"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/parallel"
	"github.com/shopaffinity/affinity/internal/pkgerr"
)

// Scope says which purchases count as "together". The numeric values are
// stable: they are part of the [Index] encoding.
type Scope int

const (
	// Basket counts products bought in the same order; a transaction is an
	// order, anonymous orders included.
	Basket Scope = iota
	// Customer counts products bought by the same customer at any time
	// within the counted period; a transaction is a customer.
	Customer
	// Sequential counts, for each ordered pair (a, b), the customers who
	// bought b within [CountOptions.Window] after a: strictly later, at
	// most Window later. It is directed: Pair(a, b) ≠ Pair(b, a) in
	// general. A transaction is a customer.
	Sequential
)

// String returns "basket", "customer" or "sequential".
func (s Scope) String() string {
	switch s {
	case Basket:
		return "basket"
	case Customer:
		return "customer"
	case Sequential:
		return "sequential"
	}
	return fmt.Sprintf("Scope(%d)", int(s))
}

// ParseScope returns the scope named s (as printed by [Scope.String],
// case-insensitive).
func ParseScope(s string) (Scope, error) {
	for sc := Basket; sc <= Sequential; sc++ {
		if strings.EqualFold(s, sc.String()) {
			return sc, nil
		}
	}
	return 0, fmt.Errorf("similarity: unknown scope %q", s)
}

// DefaultWindow is the default [CountOptions.Window]: 30 days.
const DefaultWindow = 30 * 24 * time.Hour

// DefaultMaxBasket is the default [CountOptions.MaxBasket].
const DefaultMaxBasket = 100

// CountOptions configures [Count]. The zero value counts baskets over the
// whole History with the defaults below.
type CountOptions struct {
	// Scope is what "together" means; default Basket.
	Scope Scope
	// Lookback counts only orders and events in the window
	// (asOf − Lookback, asOf] of the as-of time given to [Count]. The zero
	// value means [affinity.AllTime]: everything up to asOf.
	Lookback affinity.Lookback
	// Window is how soon after a the purchase of b must follow to count
	// for Sequential; default [DefaultWindow] (30 days).
	Window time.Duration
	// MaxBasket caps the number of distinct products per transaction
	// (order for Basket, customer for Customer and Sequential); default
	// [DefaultMaxBasket], negative for no cap. A transaction with more
	// keeps a deterministic pseudo-random sample of MaxBasket of them: the
	// ones with the smallest hash of (transaction's shop ids, product).
	// Supports are counted on the sample too, so every measure stays in
	// range. Wholesale customers and bulk orders otherwise dominate the
	// work (k products make k·(k−1) pairs) and the counts.
	MaxBasket int
	// Workers is the number of goroutines; default GOMAXPROCS.
	Workers int
	// Events also counts events (views, carts, ratings, wishlists) as
	// interactions of the customer with the product, at their time, for
	// data such as MovieLens. Orders have no events: Basket with Events is
	// an error.
	Events bool
	// EventKinds limits the events Events counts to these kinds (such as
	// only [affinity.Rating] for rating data); empty counts every kind.
	// Ignored without Events; an invalid kind is an error.
	EventKinds []affinity.EventKind
	// Exclude holds products (by [affinity.ProductID]) that are never
	// counted: not in any pair, not in the supports, and not toward
	// MaxBasket. Shops list their non-merchandise here — postage, fees,
	// gift vouchers, manual adjustments — which co-occur with everything
	// and are evidence of nothing. nil excludes nothing. Read during the
	// call only.
	Exclude *roaring.Bitmap
}

func (o CountOptions) config(asOf time.Time) (*config, error) {
	if err := affinity.CheckAsOf("similarity", asOf); err != nil {
		return nil, err
	}
	if o.Scope < Basket || o.Scope > Sequential {
		return nil, fmt.Errorf("similarity: unknown scope %d", int(o.Scope))
	}
	if o.Events && o.Scope == Basket {
		return nil, errors.New("similarity: events have no order: count them with the Customer or Sequential scope")
	}
	if err := o.Lookback.Validate(); err != nil {
		return nil, pkgerr.Wrap("similarity", "Lookback", err)
	}
	if o.Window < 0 {
		return nil, fmt.Errorf("similarity: negative window %v", o.Window)
	}
	c := &config{scope: o.Scope, from: math.MinInt64, to: asOf.Unix(), events: o.Events, workers: parallel.Workers(o.Workers)}
	if o.Events {
		for _, k := range o.EventKinds {
			if !k.Valid() {
				return nil, fmt.Errorf("similarity: unknown event kind %d", uint8(k))
			}
			c.kinds |= 1 << k
		}
	}
	if o.Exclude != nil {
		// Counts keep their config for Recount and the transactions BM25
		// reads later, and the caller may change the bitmap after the
		// call: keep a copy
		c.exclude = o.Exclude.Clone()
	}
	if lb := o.Lookback.Or(affinity.AllTime); !lb.All {
		c.from = lb.Start(asOf).Unix()
	}
	w := DefaultWindow
	if o.Window > 0 {
		w = o.Window
	}
	c.window = scopeWindow(o.Scope, int64(w/time.Second))
	switch {
	case o.MaxBasket == 0:
		c.maxBasket = DefaultMaxBasket
	case o.MaxBasket > 0:
		c.maxBasket = o.MaxBasket
	}
	return c, nil
}

// scopeWindow returns the window, in seconds, that counts in scope:
// window in the Sequential scope, 0 in the others, which ignore
// CountOptions.Window. It is the one place of that rule: Counts and
// Partials hold their window through it (config, the decoder), so that
// those differing only in an ignored window compare equal where [Sum],
// [Partial.Merge] and [Partial.MarshalBinary] compare them.
func scopeWindow(scope Scope, window int64) int64 {
	if scope != Sequential {
		return 0
	}
	return window
}

const (
	blockShift = 6
	blockRows  = 1 << blockShift
)

// rowBlock holds the rows [i·blockRows, (i+1)·blockRows) of a [Counts] in
// CSR form: a partial count that Count and Sum add up.
type rowBlock struct {
	off  [blockRows + 1]uint32
	cols []affinity.ProductID
	vals []uint32
}

// Counts is a sparse product × product co-occurrence matrix in compressed
// rows (CSR, columns ascending) with the product marginals and the number
// of transactions N: the input of [NewIndex] and of the count measures.
// Build it with [Count] or add partial counts with [Sum]. It is immutable
// and safe for concurrent use; slices it returns are owned by it.
//
// For Basket and Customer the matrix is symmetric. For Sequential, row a
// holds the products bought after a: Pair(a, b) counts a then b.
//
// Besides 8 bytes per stored pair, Counts keep the counted transactions
// (8 to 16 bytes per product occurrence), which the BM25 measure
// recounts with weights and Sum merges.
type Counts struct {
	scope   Scope
	window  int64 // seconds
	np, n   int
	items   int // product occurrences in the transactions
	support []uint32
	blocks  []rowBlock
	pairs   int
	// the transactions, kept for weighted passes (BM25), and their
	// postings. Recount leaves both to be built on first use: the
	// transactions are collected again from h, under cfg (a refresh that
	// never asks for them does not pay for them)
	tx       *txTable
	h        *affinity.History // what tx is collected from when nil
	txOnce   sync.Once
	txUsed   atomic.Bool // transactions was called: a consumer needs them
	post     *postings
	postOnce sync.Once
	noTx     bool    // made by Partial.Counts: tx is empty
	cfg      *config // what tx was collected with (Count, Recount); nil: unknown

	// lineage, for Reindex: the number of these counts (0 until asked
	// for, see ident) and, for a Recount, the number of the counts it
	// started from and, a bit per product, the rows that differ from
	// those counts' in a co-count or the support, or are new
	id      atomic.Uint64
	from    uint64
	changed []uint64
}

// countsSeq numbers Counts (ident).
var countsSeq atomic.Uint64

// ident returns the number of c, unique among the Counts of the process.
func (c *Counts) ident() uint64 {
	if id := c.id.Load(); id != 0 {
		return id
	}
	c.id.CompareAndSwap(0, countsSeq.Add(1))
	return c.id.Load()
}

// transactions returns the transactions of c, collected from c.h on
// first use when Recount made c without them. Recount checked that they
// fit (Count of the same History would have failed otherwise), so the
// collection cannot fail.
func (c *Counts) transactions() *txTable {
	c.txUsed.Store(true)
	c.txOnce.Do(func() {
		if c.tx != nil {
			return
		}
		tx, err := buildTx(context.Background(), c.h, c.cfg, false)
		if err != nil {
			panic("similarity: internal error: transactions of a recount: " + err.Error())
		}
		if tx.len() != c.n {
			panic("similarity: internal error: a recount's transactions do not add up")
		}
		c.tx = tx
	})
	return c.tx
}

// knowsTx reports whether c holds, or can collect, every transaction it
// counted (not so for Partial.Counts and their sums).
func (c *Counts) knowsTx() bool {
	return c.h != nil || c.tx != nil && c.tx.len() == c.n
}

// Count counts the co-occurrences of products in h within opts.Scope,
// among the orders and events at or before asOf (and after the start of
// opts.Lookback). A zero asOf is an error wrapping [affinity.ErrNoAsOf].
// Only bought lines (and, with Events, events) are interactions: returns
// (negative quantities) never count, and do not cancel the purchase they
// return.
//
// It builds the transactions and the product → transactions postings once,
// then counts one anchor row at a time with a dense per-worker counter,
// rows handed out in blocks to opts.Workers goroutines; the blocks are
// partial counts whose sum is the result. The work is Σ over transactions
// of (products per transaction)², so [CountOptions.MaxBasket] bounds it.
// It returns ctx.Err() if ctx is done first.
func Count(ctx context.Context, h *affinity.History, asOf time.Time, opts CountOptions) (*Counts, error) {
	if err := affinity.CheckContext("similarity", ctx); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, affinity.NilArgument("similarity", "History")
	}
	cfg, err := opts.config(asOf)
	if err != nil {
		return nil, err
	}
	tx, err := buildTx(ctx, h, cfg, false)
	if err != nil {
		return nil, err
	}
	return countTx(ctx, tx, h.Catalog().NumProducts(), cfg)
}

func countTx(ctx context.Context, tx *txTable, np int, cfg *config) (*Counts, error) {
	post := buildPostings(tx, np)
	c := &Counts{scope: cfg.scope, window: cfg.window, np: np, n: tx.len(), items: len(tx.items), tx: tx, post: post, cfg: cfg}
	c.support = make([]uint32, np)
	for a := range np {
		c.support[a] = post.off[a+1] - post.off[a]
	}
	err := c.fillRows(ctx, cfg.workers, func(s *scratch, a affinity.ProductID) {
		s.count(tx, post, a, c.window, nil)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// fillRows builds the rows of c in blocks of blockRows on workers
// goroutines: count(s, a) accumulates row a in the worker's scratch, which
// is then emitted, sorted, into the block.
func (c *Counts) fillRows(ctx context.Context, workers int, count func(s *scratch, a affinity.ProductID)) error {
	np := c.np
	c.blocks = make([]rowBlock, (np+blockRows-1)/blockRows)
	scr := make([]*scratch, workers)
	err := parallel.For(ctx, workers, len(c.blocks), func(w, bi int) error {
		s := scr[w]
		if s == nil {
			s = newScratch(np, false)
			scr[w] = s
		}
		lo, hi := bi*blockRows, min((bi+1)*blockRows, np)
		for a := lo; a < hi; a++ {
			count(s, affinity.ProductID(a))
			s.emit(affinity.ProductID(a))
			c.blocks[bi].off[a-lo+1] = s.used()
		}
		s.flush(&c.blocks[bi], hi-lo)
		return nil
	})
	if err != nil {
		return err
	}
	for i := range c.blocks {
		c.pairs += len(c.blocks[i].cols)
	}
	return nil
}

// emit appends the counted row (without a) to the output and clears the
// counters.
func (s *scratch) emit(a affinity.ProductID) {
	if s.dense {
		need := len(s.cnt)
		if cap(s.cols)-len(s.cols) < need {
			// count first rather than waste the rest of the chunk
			need = 0
			for _, v := range s.cnt {
				if v != 0 {
					need++
				}
			}
		}
		s.reserve(need)
		n := len(s.cols)
		cols, vals := s.cols[:cap(s.cols)], s.vals[:cap(s.vals)]
		for i, v := range s.cnt {
			if v != 0 && i != int(a) {
				cols[n], vals[n] = affinity.ProductID(i), v
				n++
			}
		}
		clear(s.cnt)
		s.cols, s.vals = cols[:n], vals[:n]
		s.dense = false
		return
	}
	s.sortTouched()
	s.reserve(len(s.touched))
	for _, b := range s.touched {
		v := s.cnt[b]
		s.cnt[b] = 0
		if b != a {
			s.cols = append(s.cols, b)
			s.vals = append(s.vals, v)
		}
	}
	s.touched = s.touched[:0]
}

// firstChunk and arenaChunk are the number of entries of a worker's
// first output chunk and of its largest: each chunk is twice the one
// before, so that a small count does not allocate and zero 2 MiB per
// worker (the chunk of a large one), and a large one soon allocates few.
const (
	firstChunk = 1 << 12
	arenaChunk = 1 << 18
)

// reserve makes room for n more entries in the current chunk, starting a
// new chunk if needed and moving the current block's entries there:
// blocks never straddle chunks, and finished ones are never copied.
func (s *scratch) reserve(n int) {
	if cap(s.cols)-len(s.cols) >= n {
		return
	}
	part := len(s.cols) - s.start
	s.chunk = min(arenaChunk, max(firstChunk, 2*s.chunk))
	n = max(s.chunk, 2*(part+n))
	cols, vals := make([]affinity.ProductID, part, n), make([]uint32, part, n)
	copy(cols, s.cols[s.start:])
	copy(vals, s.vals[s.start:])
	s.cols, s.vals, s.start = cols, vals, 0
}

// used returns the number of entries of the current block.
func (s *scratch) used() uint32 { return uint32(len(s.cols) - s.start) }

// flush hands the current block's entries to blk.
func (s *scratch) flush(blk *rowBlock, rows int) {
	for i := rows + 1; i <= blockRows; i++ {
		blk.off[i] = blk.off[rows]
	}
	end := len(s.cols)
	blk.cols, blk.vals = s.cols[s.start:end:end], s.vals[s.start:end:end]
	s.start = end
}

// NumProducts returns the number of products (rows).
func (c *Counts) NumProducts() int { return c.np }

// Total returns N, the number of transactions counted: non-empty orders
// for Basket, customers with an interaction for Customer and Sequential.
func (c *Counts) Total() int { return c.n }

// Scope returns the scope the counts were made with.
func (c *Counts) Scope() Scope { return c.scope }

// Directed reports whether Pair(a, b) and Pair(b, a) may differ (true for
// Sequential).
func (c *Counts) Directed() bool { return c.scope == Sequential }

// NumPairs returns the number of non-zero entries of the matrix (ordered
// pairs).
func (c *Counts) NumPairs() int { return c.pairs }

// Support returns the number of transactions that contain p (0 for an
// unknown p).
func (c *Counts) Support(p affinity.ProductID) int {
	if int(p) >= c.np {
		return 0
	}
	return int(c.support[p])
}

// Row returns the products that co-occur with a (for Sequential: follow
// a), ascending, and their co-counts. Both slices are owned by c; they are
// nil for an empty row or an unknown a. O(1).
func (c *Counts) Row(a affinity.ProductID) ([]affinity.ProductID, []uint32) {
	if int(a) >= c.np {
		return nil, nil
	}
	blk := &c.blocks[a>>blockShift]
	i := a & (blockRows - 1)
	lo, hi := blk.off[i], blk.off[i+1]
	if lo == hi {
		return nil, nil // whether the block's memory exists depends on the workers
	}
	return blk.cols[lo:hi:hi], blk.vals[lo:hi:hi]
}

// Pair returns the number of transactions with both a and b (for
// Sequential: customers who bought b within the window after a); 0 when
// a = b or either is unknown. O(log row length).
func (c *Counts) Pair(a, b affinity.ProductID) int {
	cols, vals := c.Row(a)
	if i, ok := slices.BinarySearch(cols, b); ok {
		return int(vals[i])
	}
	return 0
}

// PairCount returns the counts of (a, b) for the count measures.
func (c *Counts) PairCount(a, b affinity.ProductID) PairCount {
	return PairCount{N: c.n, A: c.Support(a), B: c.Support(b), AB: c.Pair(a, b)}
}

// maxTotal is the largest N of counts, however made — [Count], [Sum],
// [Partial.Add], [Partial.Merge], [Partial.Counts] — and of an [Index]:
// 2^32 − 1, the number of uint32 order or customer ids of a History and
// the N an encoded Index holds (less on a 32-bit platform, where N is an
// int).
const maxTotal = min(math.MaxUint32, math.MaxInt)

// errTooManyTransactions is the error of an N that would pass maxTotal.
var errTooManyTransactions = fmt.Errorf("similarity: more than %d transactions", int64(maxTotal))

// Sum adds partial counts made over disjoint sets of transactions — for
// example Count on the shards of a customer base, where every shard's
// History lists the same products in the same order — into the counts of
// their union: N, supports and co-counts add up. The parts must share
// scope, and Sequential ones their window (the other scopes ignore it);
// the result has as many products as the largest part.
// Count every shard with the same as-of time and options. The parts are
// not modified. It returns an error when a sum would overflow: N above
// 2^32 − 1 (the most an [Index] holds) or a support above 2^32 − 1 —
// a co-count is at most the smaller of its supports, so then none does.
func Sum(ctx context.Context, parts ...*Counts) (*Counts, error) {
	if err := affinity.CheckContext("similarity", ctx); err != nil {
		return nil, err
	}
	if slices.Contains(parts, nil) {
		return nil, affinity.NilArgument("similarity", "Counts")
	}
	if len(parts) == 0 {
		return nil, errors.New("similarity: Sum of no counts")
	}
	first := parts[0]
	np := 0
	var n int64
	for _, p := range parts {
		if p.scope != first.scope || p.window != first.window { // 0 outside Sequential (scopeWindow)
			return nil, fmt.Errorf("similarity: Sum of %v counts (window %ds) and %v counts (window %ds)", first.scope, first.window, p.scope, p.window)
		}
		np = max(np, p.np)
		if n += int64(p.n); n > maxTotal {
			return nil, fmt.Errorf("similarity: Sum of %d transactions or more: %w", n, errTooManyTransactions)
		}
	}
	support := make([]uint32, np)
	for _, p := range parts {
		for a, s := range p.support {
			if uint64(support[a])+uint64(s) > math.MaxUint32 {
				return nil, fmt.Errorf("similarity: Sum of more than %d transactions with product %d", uint32(math.MaxUint32), a)
			}
			support[a] += s
		}
	}
	tx := &txTable{off: []uint32{0}}
	for _, p := range parts {
		base := uint32(len(tx.items))
		pt := p.transactions()
		if uint64(base)+uint64(len(pt.items)) > math.MaxUint32 {
			return nil, fmt.Errorf("similarity: more than %d product occurrences", uint32(math.MaxUint32))
		}
		tx.items = append(tx.items, pt.items...)
		tx.unix = append(tx.unix, pt.unix...)
		tx.id = append(tx.id, pt.id...)
		for _, o := range pt.off[1:] {
			tx.off = append(tx.off, base+o)
		}
	}
	c := &Counts{scope: first.scope, window: first.window, np: np, tx: tx, post: buildPostings(tx, np)}
	c.n, c.support = int(n), support
	for _, p := range parts {
		c.noTx = c.noTx || p.noTx
		c.items += p.items
	}
	err := c.fillRows(ctx, parallel.Workers(0), func(s *scratch, a affinity.ProductID) {
		for _, p := range parts {
			cols, vals := p.Row(a)
			for i, b := range cols {
				if s.cnt[b] == 0 {
					s.touched = append(s.touched, b)
				}
				s.cnt[b] += vals[i]
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}
