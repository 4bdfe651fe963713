package similarity

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/shopaffinity/affinity"
)

// TxOrder is one order of a [Transaction]: the shop's order id, the order
// time and the products of its bought lines.
type TxOrder struct {
	// Key is the shop's order id; "" means "one order per customer and
	// second", as in [affinity.Purchase].
	Key string
	// Unix is the order time in Unix seconds: the earliest time of its
	// lines.
	Unix int64
	// Products are the products of the order's lines with a positive
	// quantity, in line order; repeats are allowed. Returns are left out,
	// but an order of returns only is still listed (with no products),
	// since its time may be the earliest of the order.
	Products []affinity.ProductID
}

// Transaction is the unit [Partial.Add] counts: every order of one
// customer, or one anonymous order. Product ids must be the dense ids of
// one product dictionary shared by every Partial that will be merged —
// the [affinity.Catalog] of the single-machine History being reproduced —
// because the MaxBasket sample ranks products by id.
//
// Orders with the same identity — the same Key, and for an empty Key the
// same Unix — are one order, as in [affinity.Builder]: Add merges them
// (earliest time, products concatenated). A customer's orders must all be
// in one Transaction, and all the lines of an anonymous order in one.
type Transaction struct {
	// Customer is the shop's customer id; "" for anonymous orders, which
	// count only in the Basket scope.
	Customer string
	// Orders are the orders, in any order.
	Orders []TxOrder
}

// Partial is a co-occurrence count over some of the transactions of a
// shop: the number of transactions N, the product supports and the pair
// co-counts, made with the rules of [Count] (as-of time, look-back,
// scope, window, MaxBasket sample). Partials over disjoint sets of
// transactions [Partial.Merge] into the Partial of their union, and the
// Partial of all of them gives, with [Partial.Counts], exactly the counts
// Count returns for the History of those transactions — whatever the
// split. It is the per-shard state of a distributed count: a worker Adds
// the transactions it owns, the partials travel as [Partial.MarshalBinary]
// bytes and are merged by key, row block by row block ([Partial.Blocks]).
//
// Memory is about 12 bytes per distinct stored pair, plus up to
// 2^20 pairs of recent Adds held in a hash map. A Partial is for one
// goroutine; the zero value is not usable: start with [NewPartial].
type Partial struct {
	scope     Scope
	window    int64                // seconds
	from, to  int64                // counted: from < t ≤ to
	maxBasket int                  // 0: no cap
	exclude   []affinity.ProductID // CountOptions.Exclude, ascending; never counted
	n         int64
	support   map[affinity.ProductID]uint32
	// pair counts by key a<<32 | b: keys ascending with vals, and the
	// counts of the latest Adds in pend, merged into them from time to time
	keys []uint64
	vals []uint32
	pend map[uint64]uint32
	// scratch of Add
	buf  []ranked
	ent  []txEntry
	keep map[affinity.ProductID]bool
	seen map[uint64]bool
}

type txEntry struct {
	unix int64
	p    affinity.ProductID
}

// NewPartial returns an empty Partial counting as [Count] would with asOf
// and opts, opts.Exclude included (a copy: its products are never
// counted, and only Partials with the same exclusions merge).
// opts.Window counts in the Sequential scope only: as [Sum] does, the
// other scopes ignore it, so Partials that differ only in it merge and
// encode alike. Events are
// not supported (Transactions hold orders only) and opts.Workers is
// ignored. A zero asOf is an error wrapping
// [affinity.ErrNoAsOf].
func NewPartial(asOf time.Time, opts CountOptions) (*Partial, error) {
	if opts.Events {
		return nil, errors.New("similarity: a Partial counts orders only, not events")
	}
	c, err := opts.config(asOf)
	if err != nil {
		return nil, err
	}
	var excl []affinity.ProductID
	if c.exclude != nil {
		excl = make([]affinity.ProductID, 0, c.exclude.GetCardinality())
		for it := c.exclude.Iterator(); it.HasNext(); {
			excl = append(excl, affinity.ProductID(it.Next()))
		}
	}
	return &Partial{scope: c.scope, window: c.window, from: c.from, to: c.to, maxBasket: c.maxBasket, exclude: excl,
		support: map[affinity.ProductID]uint32{}, pend: map[uint64]uint32{}}, nil
}

// excluded reports whether x is in CountOptions.Exclude.
func (p *Partial) excluded(x affinity.ProductID) bool {
	_, found := slices.BinarySearch(p.exclude, x)
	return found
}

// Total returns N, the number of transactions counted so far.
func (p *Partial) Total() int { return int(p.n) }

// maxPending is the number of pending pairs beyond which Add compacts.
var maxPending = 1 << 20 // a var for tests

// compact merges the pending pair counts into the sorted ones. On an
// overflow it returns the error and leaves both as they were.
func (p *Partial) compact() error {
	if len(p.pend) == 0 {
		return nil
	}
	ks := slices.Sorted(maps.Keys(p.pend))
	vs := make([]uint32, len(ks))
	for i, k := range ks {
		vs[i] = p.pend[k]
	}
	keys, vals, err := mergePairs(p.keys, p.vals, ks, vs)
	if err != nil {
		return err
	}
	p.keys, p.vals = keys, vals
	clear(p.pend)
	return nil
}

// mergePairs merges two ascending runs of pair counts, adding the counts
// of equal keys.
func mergePairs(ak []uint64, av []uint32, bk []uint64, bv []uint32) ([]uint64, []uint32, error) {
	if len(ak) == 0 {
		return bk, bv, nil
	}
	if len(bk) == 0 {
		return ak, av, nil
	}
	ks := make([]uint64, 0, len(ak)+len(bk))
	vs := make([]uint32, 0, len(ak)+len(bk))
	i, j := 0, 0
	for i < len(ak) && j < len(bk) {
		switch {
		case ak[i] < bk[j]:
			ks, vs = append(ks, ak[i]), append(vs, av[i])
			i++
		case ak[i] > bk[j]:
			ks, vs = append(ks, bk[j]), append(vs, bv[j])
			j++
		default:
			if uint64(av[i])+uint64(bv[j]) > math.MaxUint32 {
				return nil, nil, fmt.Errorf("similarity: more than %d transactions for one pair", uint32(math.MaxUint32))
			}
			ks, vs = append(ks, ak[i]), append(vs, av[i]+bv[j])
			i++
			j++
		}
	}
	ks, vs = append(ks, ak[i:]...), append(vs, av[i:]...)
	ks, vs = append(ks, bk[j:]...), append(vs, bv[j:]...)
	return ks, vs, nil
}

// mergeOrders merges the orders of t with the same identity, drops those
// outside the counted period and returns the rest sorted as a History
// sorts a customer's orders: by time, then order id.
func (p *Partial) mergeOrders(t Transaction) []TxOrder {
	type ident struct {
		key  string
		unix int64
	}
	id := func(o *TxOrder) ident {
		if o.Key == "" {
			return ident{unix: o.Unix}
		}
		return ident{key: o.Key}
	}
	orders := slices.Clone(t.Orders)
	slices.SortStableFunc(orders, func(x, y TxOrder) int {
		a, b := id(&x), id(&y)
		return cmp.Or(cmp.Compare(a.key, b.key), cmp.Compare(a.unix, b.unix))
	})
	out := orders[:0]
	for i := 0; i < len(orders); {
		o := orders[i]
		j := i + 1
		if j < len(orders) && id(&orders[j]) == id(&o) {
			o.Products = slices.Clone(o.Products)
			for ; j < len(orders) && id(&orders[j]) == id(&o); j++ {
				o.Unix = min(o.Unix, orders[j].Unix)
				o.Products = append(o.Products, orders[j].Products...)
			}
		}
		i = j
		if o.Unix > p.from && o.Unix <= p.to {
			if len(p.exclude) > 0 && slices.ContainsFunc(o.Products, p.excluded) {
				// never counted: not in a pair, a support or toward
				// MaxBasket; the order keeps its time
				o.Products = slices.DeleteFunc(slices.Clone(o.Products), p.excluded)
			}
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(x, y TxOrder) int { return cmp.Or(cmp.Compare(x.Unix, y.Unix), cmp.Compare(x.Key, y.Key)) })
	return out
}

// Add counts one transaction. It returns an error, and counts nothing,
// when a count would pass its bound: N at most 2^32 − 1 transactions, the
// bound of [Sum] and of an [Index], and 2^32 − 1 per product.
func (p *Partial) Add(t Transaction) error {
	if t.Customer == "" && p.scope != Basket {
		return nil // anonymous orders have no customer to count
	}
	if len(p.pend) >= maxPending {
		if err := p.compact(); err != nil {
			return err
		}
	}
	orders := p.mergeOrders(t)
	switch p.scope {
	case Basket:
		for _, o := range orders {
			items := distinct(nil, o.Products)
			key := func() uint64 { return keyHash(t.Customer, o.Key, strconv.FormatInt(o.Unix, 10)) }
			if err := p.addSet(items, key); err != nil {
				return err
			}
		}
		return nil
	case Customer:
		var items []affinity.ProductID
		for _, o := range orders {
			items = append(items, o.Products...)
		}
		return p.addSet(distinct(nil, items), func() uint64 { return keyHash(t.Customer) })
	}
	return p.addTimeline(t.Customer, orders)
}

// distinct appends the distinct products of items to dst, ascending.
func distinct(dst, items []affinity.ProductID) []affinity.ProductID {
	start := len(dst)
	dst = append(dst, items...)
	tail := dst[start:]
	slices.Sort(tail)
	return dst[:start+len(slices.Compact(tail))]
}

// sample cuts items down to MaxBasket with the sample of Count and
// returns them ascending.
func (p *Partial) sample(items []affinity.ProductID, key func() uint64) []affinity.ProductID {
	if m := p.maxBasket; m > 0 && len(items) > m {
		_, p.buf = sampleDistinct(items, nil, key(), m, p.buf)
		items = items[:m]
	}
	slices.Sort(items)
	return items
}

func (p *Partial) bump(k uint64) error {
	v := p.pend[k]
	if v == math.MaxUint32 {
		return fmt.Errorf("similarity: more than %d transactions for one pair", uint32(math.MaxUint32))
	}
	p.pend[k] = v + 1
	return nil
}

// count counts one transaction of items in N and the supports, or
// returns the error of a count at its bound and changes nothing.
func (p *Partial) count(items []affinity.ProductID) error {
	if p.n >= maxTotal {
		return errTooManyTransactions
	}
	for _, a := range items {
		if p.support[a] == math.MaxUint32 {
			return fmt.Errorf("similarity: more than %d transactions for one product", uint32(math.MaxUint32))
		}
	}
	p.n++
	for _, a := range items {
		p.support[a]++
	}
	return nil
}

// addSet counts one Basket or Customer transaction of distinct products.
func (p *Partial) addSet(items []affinity.ProductID, key func() uint64) error {
	if len(items) == 0 {
		return nil
	}
	items = p.sample(items, key)
	if err := p.count(items); err != nil {
		return err
	}
	for _, a := range items {
		for _, b := range items {
			if a != b {
				if err := p.bump(uint64(a)<<32 | uint64(b)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// addTimeline counts one customer for Sequential: (a, b) once when b was
// bought strictly after some purchase of a and at most window later.
func (p *Partial) addTimeline(customer string, orders []TxOrder) error {
	ent := p.ent[:0]
	var all []affinity.ProductID
	for _, o := range orders {
		start := len(all)
		all = distinct(all, o.Products)
		for _, x := range all[start:] {
			ent = append(ent, txEntry{o.Unix, x})
		}
	}
	p.ent = ent
	items := distinct(nil, all)
	if len(items) == 0 {
		return nil
	}
	sampled := p.maxBasket > 0 && len(items) > p.maxBasket
	items = p.sample(items, func() uint64 { return keyHash(customer) })
	if sampled {
		if p.keep == nil {
			p.keep = map[affinity.ProductID]bool{}
		}
		clear(p.keep)
		for _, x := range items {
			p.keep[x] = true
		}
		kept := ent[:0]
		for _, e := range ent {
			if p.keep[e.p] {
				kept = append(kept, e)
			}
		}
		ent = kept
	}
	if err := p.count(items); err != nil {
		return err
	}
	if p.seen == nil {
		p.seen = map[uint64]bool{}
	}
	seen := p.seen
	clear(seen)
	for i, e := range ent {
		for _, f := range ent[i+1:] {
			if f.unix <= e.unix {
				continue
			}
			if f.unix > e.unix+p.window {
				break
			}
			if k := uint64(e.p)<<32 | uint64(f.p); f.p != e.p && !seen[k] {
				seen[k] = true
				if err := p.bump(k); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// compatible returns an error unless q counts with the rules of p; the
// windows are 0 outside the Sequential scope (scopeWindow).
func (p *Partial) compatible(q *Partial) error {
	if p.scope != q.scope || p.window != q.window || p.from != q.from || p.to != q.to || p.maxBasket != q.maxBasket ||
		!slices.Equal(p.exclude, q.exclude) {
		return errors.New("similarity: merge of partial counts made with different options")
	}
	return nil
}

// Merge adds the counts of q, made with the same as-of time and options
// (but for the window outside the Sequential scope, as in [Sum]) over
// other transactions, to p. q keeps its counts (it may reorganise
// them internally, so it must not be in use by another goroutine). The
// pairs merge in time linear in the pairs of both. It returns an error,
// leaving p as it was, when q was made with other options or a merged
// count would pass its bound (N, a support or a pair count above
// 2^32 − 1; of several supports, the error names the product with the
// smallest id). A nil q is an error matching affinity.ErrNilArgument.
func (p *Partial) Merge(q *Partial) error {
	if q == nil {
		return affinity.NilArgument("similarity", "partial")
	}
	if err := p.compatible(q); err != nil {
		return err
	}
	if err := p.compact(); err != nil {
		return err
	}
	if err := q.compact(); err != nil {
		return err
	}
	if err := firstSupportError(q.support, func(a affinity.ProductID, s uint32) error {
		if uint64(p.support[a])+uint64(s) > math.MaxUint32 {
			return fmt.Errorf("similarity: merged support of product %d above %d", a, uint32(math.MaxUint32))
		}
		return nil
	}); err != nil {
		return err
	}
	if p.n > maxTotal-q.n {
		return fmt.Errorf("similarity: merged count of %d and %d transactions: %w", p.n, q.n, errTooManyTransactions)
	}
	ks, vs, err := mergePairs(p.keys, p.vals, q.keys, q.vals)
	if err != nil {
		return err
	}
	p.n += q.n
	for a, s := range q.support {
		p.support[a] += s
	}
	p.keys, p.vals = slices.Clip(ks), slices.Clip(vs) // q's slices may be shared: never append in place
	return nil
}

// validate checks, after a compact, that p holds counts a Partial can
// hold: validSupports; validPair for every pair, with the supports when p
// holds transactions (N > 0: a part of [Partial.Blocks] has pairs only),
// and no excluded product; in the Basket and Customer scopes, mirrored.
// It returns an error naming the first problem (supports in product id
// order, then pairs in key order), without a package prefix, in time and
// extra memory linear in the pairs.
func (p *Partial) validate() error {
	if err := p.validSupports(); err != nil {
		return err
	}
	sym := p.scope != Sequential
	var t pairRows
	if sym {
		t.idx, t.at, t.lower = map[affinity.ProductID]int32{}, []int{0}, make([]int32, 0, len(p.keys)/2)
	}
	var sa uint32
	for i, k := range p.keys {
		a, b := affinity.ProductID(k>>32), affinity.ProductID(uint32(k))
		if len(t.rows) == 0 || t.rows[len(t.rows)-1] != a {
			t.rows, t.start, t.mid = append(t.rows, a), append(t.start, i), append(t.mid, i)
			sa = p.support[a]
			if sym {
				t.idx[a] = int32(len(t.rows) - 1)
				t.at = append(t.at, 0)
			}
		}
		if err := validPair(a, b, p.vals[i], sa, p.support[b], p.n > 0); err != nil {
			return err
		}
		if len(p.exclude) > 0 && (p.excluded(a) || p.excluded(b)) {
			return fmt.Errorf("pair (%d, %d) of an excluded product", a, b)
		}
		if sym && b < a {
			t.mid[len(t.mid)-1] = i + 1
			ry, held := t.idx[b] // row b, if held, came before row a
			if held {
				t.at[ry+1]++
			} else {
				ry = -1
			}
			t.lower = append(t.lower, ry)
		}
	}
	if !sym {
		return nil
	}
	t.start = append(t.start, len(p.keys))
	return p.mirrored(&t)
}

// pairRows indexes the rows of p's pairs for mirrored.
type pairRows struct {
	rows  []affinity.ProductID         // the rows held, ascending
	idx   map[affinity.ProductID]int32 // position of a row in rows
	start []int                        // where each row starts in keys, then len(keys)
	mid   []int                        // where row r's pairs (r, x) with x > r start
	lower []int32                      // the position of row y of each pair (x, y), y < x, in order; -1 if not held
	at    []int                        // at[r+1]: how many of them are in row r's bucket
}

// validSupports checks that N ≥ 0 and that every support is in [1, N]
// and of a product not excluded.
func (p *Partial) validSupports() error {
	if p.n < 0 {
		return fmt.Errorf("%d transactions", p.n)
	}
	return firstSupportError(p.support, func(a affinity.ProductID, s uint32) error {
		switch {
		case s == 0 || int64(s) > p.n:
			return fmt.Errorf("product %d in %d of %d transactions", a, s, p.n)
		case p.excluded(a):
			return fmt.Errorf("support of excluded product %d", a)
		}
		return nil
	})
}

// firstSupportError returns the error check returns for the product of
// support with the smallest id among those it refuses, nil if it refuses
// none: the same error in every run, whatever the map's order. It walks
// the map once and sorts its keys only when a product is refused.
func firstSupportError(support map[affinity.ProductID]uint32, check func(a affinity.ProductID, s uint32) error) error {
	for a, s := range support {
		if check(a, s) == nil {
			continue
		}
		for _, a := range slices.Sorted(maps.Keys(support)) {
			if err := check(a, support[a]); err != nil {
				return err
			}
		}
	}
	return nil
}

// validPair checks the pair (a, b) counted v times: two different
// products, at least once and, when withSupport is set, at most as often
// as the less bought of a (sa) and b (sb). A product of no support, an
// excluded one say, is then in no pair.
func validPair(a, b affinity.ProductID, v, sa, sb uint32, withSupport bool) error {
	switch {
	case a == b:
		return fmt.Errorf("product %d paired with itself", a)
	case v == 0:
		return fmt.Errorf("pair (%d, %d) counted 0 times", a, b)
	case withSupport && v > min(sa, sb):
		return fmt.Errorf("pair (%d, %d) counted %d times, supports %d and %d", a, b, v, sa, sb)
	}
	return nil
}

// mirrored checks that every pair (a, b) of a symmetric scope whose row b
// is held has its mirror (b, a) with the same count. It transposes the
// pairs (x, y) with y < x of held rows y by a counting sort — row y's
// bucket lists x ascending — and matches each bucket with the pairs
// (y, x), x > y, of row y: time and extra memory linear in the pairs, and
// sequential reads but for the sort's writes (a search of each mirror
// reads the pairs out of order, several times slower).
func (p *Partial) mirrored(t *pairRows) error {
	col := func(i int) affinity.ProductID { return affinity.ProductID(uint32(p.keys[i])) }
	at := t.at
	for r := range t.rows {
		at[r+1] += at[r]
	}
	bx := make([]affinity.ProductID, at[len(t.rows)])
	bv := make([]uint32, len(bx))
	next := slices.Clone(at[:len(t.rows)])
	k := 0
	for r, x := range t.rows {
		for i := t.start[r]; i < t.mid[r]; i, k = i+1, k+1 {
			if ry := t.lower[k]; ry >= 0 {
				bx[next[ry]], bv[next[ry]] = x, p.vals[i]
				next[ry]++
			}
		}
	}
	for r, y := range t.rows {
		i, b, end := t.mid[r], at[r], t.start[r+1]
		for i < end || b < at[r+1] {
			switch {
			case b == at[r+1] || i < end && col(i) < bx[b]:
				if _, held := t.idx[col(i)]; held {
					return fmt.Errorf("pair (%d, %d) without (%d, %d)", y, col(i), col(i), y)
				}
				i++
			case i == end || bx[b] < col(i):
				return fmt.Errorf("pair (%d, %d) without (%d, %d)", bx[b], y, y, bx[b])
			case p.vals[i] != bv[b]:
				return fmt.Errorf("pair (%d, %d) counted %d times, (%d, %d) %d times", y, col(i), p.vals[i], col(i), y, bv[b])
			default:
				i, b = i+1, b+1
			}
		}
	}
	return nil
}

// Block is one row block of a [Partial], as [Partial.Blocks] returns it.
type Block struct {
	// Index is the block's number: its rows are [Index·rows,
	// (Index+1)·rows).
	Index int
	// Pairs holds the pairs of those rows, and neither N nor supports.
	Pairs *Partial
}

// Blocks splits the pairs of p by row block: block i holds the pairs
// whose first product (the row of [Counts.Row]) is in [i·rows,
// (i+1)·rows), and neither N nor supports. They are what a distributed
// count merges by key ([Block.Index]); merging every block with
// [Partial.Marginals] gives p back. The result lists the non-empty blocks
// only, by ascending Index — none for a Partial without pairs — so its
// size is bounded by the pairs, whatever the product ids (a decoded
// Partial may name ids up to 2^32 − 1). It takes one pass over the pairs,
// returns an error when a count overflows, and panics if rows < 1.
func (p *Partial) Blocks(rows int) ([]Block, error) {
	if rows < 1 {
		panic("similarity: Blocks of fewer than 1 row")
	}
	if err := p.compact(); err != nil {
		return nil, err
	}
	var out []Block
	for lo := 0; lo < len(p.keys); {
		i := int(p.keys[lo]>>32) / rows
		hi := lo + 1
		for hi < len(p.keys) && int(p.keys[hi]>>32)/rows == i {
			hi++
		}
		b := p.empty()
		b.keys, b.vals = slices.Clone(p.keys[lo:hi]), slices.Clone(p.vals[lo:hi])
		out = append(out, Block{Index: i, Pairs: b})
		lo = hi
	}
	return out, nil
}

// Marginals returns a new Partial with N and the supports of p and no
// pairs.
func (p *Partial) Marginals() *Partial {
	q := p.empty()
	q.n = p.n
	q.support = maps.Clone(p.support)
	return q
}

func (p *Partial) empty() *Partial {
	return &Partial{scope: p.scope, window: p.window, from: p.from, to: p.to, maxBasket: p.maxBasket, exclude: p.exclude,
		support: map[affinity.ProductID]uint32{}, pend: map[uint64]uint32{}}
}

// Counts returns the co-occurrence counts of p over np products: the
// *Counts that [Count] returns for the History of the transactions added
// (N, supports, rows), when np is the number of products of its catalog.
// It is an error when np < 0, p holds a product id ≥ np, N is above
// 2^32 − 1 (the bound of every N, see [Partial.Add]), or p holds counts no set of transactions gives (a pair
// counted more often than one of its products, say: merged from
// [Partial.Blocks] without all their [Partial.Marginals]; see
// [Partial.UnmarshalBinary]). The result holds no transactions, so
// [NewIndex] cannot rank it by [BM25].
func (p *Partial) Counts(np int) (*Counts, error) {
	if np < 0 {
		return nil, fmt.Errorf("similarity: partial count of %d products", np)
	}
	for a := range p.support {
		if int(a) >= np {
			return nil, fmt.Errorf("similarity: partial count of product %d, beyond the %d products", a, np)
		}
	}
	if err := p.compact(); err != nil {
		return nil, err
	}
	keys := p.keys
	if len(keys) > 0 && keys[len(keys)-1]>>32 >= uint64(np) || slices.ContainsFunc(keys, func(k uint64) bool { return uint64(uint32(k)) >= uint64(np) }) {
		return nil, fmt.Errorf("similarity: partial count of a product beyond the %d products", np)
	}
	if p.n < 0 || p.n > maxTotal {
		return nil, fmt.Errorf("similarity: partial count of %d transactions: at most %d", p.n, int64(maxTotal))
	}
	if err := p.validSupports(); err != nil {
		return nil, fmt.Errorf("similarity: partial count: %w", err)
	}
	c := &Counts{scope: p.scope, window: p.window, np: np, n: int(p.n), noTx: true,
		tx: &txTable{off: []uint32{0}}, support: make([]uint32, np)}
	c.post = buildPostings(c.tx, np)
	for a, s := range p.support {
		c.support[a] = s
	}
	c.blocks = make([]rowBlock, (np+blockRows-1)/blockRows)
	i := 0
	for bi := range c.blocks {
		blk := &c.blocks[bi]
		lo, hi := bi*blockRows, min((bi+1)*blockRows, np)
		for a := lo; a < hi; a++ {
			for ; i < len(keys) && keys[i]>>32 == uint64(a); i++ {
				b, v := affinity.ProductID(uint32(keys[i])), p.vals[i]
				if err := validPair(affinity.ProductID(a), b, v, c.support[a], c.support[b], true); err != nil {
					return nil, fmt.Errorf("similarity: partial count: %w", err)
				}
				blk.cols = append(blk.cols, b)
				blk.vals = append(blk.vals, v)
			}
			blk.off[a-lo+1] = uint32(len(blk.cols))
		}
		for r := hi - lo + 1; r <= blockRows; r++ {
			blk.off[r] = blk.off[hi-lo]
		}
	}
	c.pairs = len(keys)
	return c, nil
}

const partialMagic = "AFSIMPR2" // 2: with the excluded products

// MarshalBinary encodes p (an error only when a count overflows): magic
// "AFSIMPR2", then as unsigned varints the scope, window (0 outside the
// Sequential scope; UnmarshalBinary reads any other as 0) and MaxBasket,
// the period bounds as zig-zag varints, the excluded products (count,
// then delta-coded ids), N, the supports (count, then delta-coded product and support) and the
// pairs (count, then delta-coded pair key and count), both ascending. The
// encoding of equal Partials is identical.
func (p *Partial) MarshalBinary() ([]byte, error) {
	if err := p.compact(); err != nil {
		return nil, err
	}
	b := make([]byte, 0, 64+8*len(p.support)+6*len(p.keys))
	b = append(b, partialMagic...)
	b = binary.AppendUvarint(b, uint64(p.scope))
	b = binary.AppendUvarint(b, uint64(p.window))
	b = binary.AppendUvarint(b, uint64(p.maxBasket))
	b = binary.AppendVarint(b, p.from)
	b = binary.AppendVarint(b, p.to)
	b = binary.AppendUvarint(b, uint64(len(p.exclude)))
	prev := uint64(0)
	for _, x := range p.exclude {
		b = binary.AppendUvarint(b, uint64(x)-prev)
		prev = uint64(x)
	}
	b = binary.AppendUvarint(b, uint64(p.n))
	b = binary.AppendUvarint(b, uint64(len(p.support)))
	prev = 0
	for _, a := range slices.Sorted(maps.Keys(p.support)) {
		b = binary.AppendUvarint(b, uint64(a)-prev)
		b = binary.AppendUvarint(b, uint64(p.support[a]))
		prev = uint64(a)
	}
	b = binary.AppendUvarint(b, uint64(len(p.keys)))
	prev = 0
	for i, k := range p.keys {
		b = binary.AppendUvarint(b, k-prev)
		b = binary.AppendUvarint(b, uint64(p.vals[i]))
		prev = k
	}
	return b, nil
}

// UnmarshalBinary decodes an encoding of [Partial.MarshalBinary] into p,
// replacing its contents. It returns an error wrapping [ErrCorrupt] for
// input that is not one — malformed, or holding counts no Partial holds:
// N above 2^32 − 1 (see [Partial.Add]), a product paired with itself, a count of 0, a support above N, a pair
// counted more often than one of its products (unless N is 0, as in a
// part of [Partial.Blocks]), an excluded product, or in the Basket and
// Customer scopes a pair (a, b) without its mirror (b, a) of the same
// count although row b is there — and allocates no more than the
// input's size justifies. The checks take time and extra memory linear
// in the pairs: matching mirrors sorts the pairs by their second product.
func (p *Partial) UnmarshalBinary(data []byte) error {
	if len(data) < len(partialMagic) || string(data[:len(partialMagic)]) != partialMagic {
		return fmt.Errorf("%w: not a partial count", ErrCorrupt)
	}
	d := data[len(partialMagic):]
	bad := false
	u := func(limit uint64) uint64 {
		v, n := binary.Uvarint(d)
		if n <= 0 || v > limit {
			bad = true
			return 0
		}
		d = d[n:]
		return v
	}
	s := func() int64 {
		v, n := binary.Varint(d)
		if n <= 0 {
			bad = true
			return 0
		}
		d = d[n:]
		return v
	}
	q := Partial{}
	q.scope = Scope(u(uint64(Sequential)))
	q.window = scopeWindow(q.scope, int64(u(math.MaxInt64))) // as NewPartial keeps it
	q.maxBasket = int(u(math.MaxInt32))
	q.from, q.to = s(), s()
	if ne := u(uint64(len(d))); ne > 0 {
		q.exclude = make([]affinity.ProductID, 0, ne)
		prev := uint64(0)
		for i := uint64(0); i < ne && !bad; i++ {
			x := prev + u(math.MaxUint32-prev)
			if i > 0 && x == prev {
				bad = true
			}
			q.exclude = append(q.exclude, affinity.ProductID(x))
			prev = x
		}
	}
	q.n = int64(u(maxTotal)) // no Partial counts more
	ns := u(uint64(len(d)) / 2)
	q.support = make(map[affinity.ProductID]uint32, ns)
	prev := uint64(0)
	for i := uint64(0); i < ns && !bad; i++ {
		a := prev + u(math.MaxUint32-prev)
		if i > 0 && a == prev {
			bad = true
		}
		q.support[affinity.ProductID(a)] = uint32(u(math.MaxUint32))
		prev = a
	}
	np := u(uint64(len(d)) / 2)
	q.keys, q.vals = make([]uint64, 0, np), make([]uint32, 0, np)
	q.pend = map[uint64]uint32{}
	prev = 0
	for i := uint64(0); i < np && !bad; i++ {
		k := prev + u(math.MaxUint64-prev)
		if i > 0 && k == prev {
			bad = true
		}
		q.keys = append(q.keys, k)
		q.vals = append(q.vals, uint32(u(math.MaxUint32)))
		prev = k
	}
	if bad || len(d) != 0 {
		return fmt.Errorf("%w: bad partial count", ErrCorrupt)
	}
	if err := q.validate(); err != nil {
		return fmt.Errorf("%w: partial count: %v", ErrCorrupt, err)
	}
	*p = q
	return nil
}

// JoinIndex joins indexes built with the same options from counts that
// share N and supports but hold the pairs of disjoint sets of rows — the
// row blocks of a distributed count ([Partial.Blocks] merged with
// [Partial.Marginals]) — into the index of all the rows: the index
// [NewIndex] builds from the whole counts. A product's neighbours come
// from the one part whose row is not empty. It returns an error for parts
// that differ in options, products, N or supports, or that both hold a
// row, and one matching affinity.ErrNilArgument for a nil part. The parts
// are not modified; the result shares no memory with them.
func JoinIndex(parts ...*Index) (*Index, error) {
	if len(parts) == 0 {
		return nil, errors.New("similarity: JoinIndex of no indexes")
	}
	for i, x := range parts {
		if x == nil {
			return nil, affinity.NilArgument("similarity", fmt.Sprintf("JoinIndex part %d", i))
		}
	}
	f := parts[0]
	np := f.NumProducts()
	total := 0
	for _, x := range parts {
		if x.measure != f.measure || x.scope != f.scope || x.k != f.k || x.minSupport != f.minSupport ||
			x.shrinkage != f.shrinkage || x.n != f.n || !slices.Equal(x.support, f.support) || x.NumProducts() != np {
			return nil, errors.New("similarity: JoinIndex of indexes with different options or counts")
		}
		total += len(x.nb)
	}
	if total > math.MaxUint32 {
		return nil, fmt.Errorf("similarity: index with more than %d neighbours", uint32(math.MaxUint32))
	}
	out := &Index{measure: f.measure, scope: f.scope, k: f.k, minSupport: f.minSupport, shrinkage: f.shrinkage,
		n: f.n, support: slices.Clone(f.support), off: make([]uint32, 1, np+1), nb: make([]Neighbor, 0, total)}
	for a := range affinity.ProductID(np) {
		var row []Neighbor
		for _, x := range parts {
			if r := x.Neighbors(a); len(r) > 0 {
				if row != nil {
					return nil, fmt.Errorf("similarity: JoinIndex: product %d has neighbours in two parts", a)
				}
				row = r
			}
		}
		out.nb = append(out.nb, row...)
		out.off = append(out.off, uint32(len(out.nb)))
	}
	return out, nil
}
