package affinity

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/shopaffinity/affinity/internal/parallel"
)

// ErrInvalid is returned (wrapped) by [Builder.Add], [Builder.AddEvent],
// [Builder.AddProduct], [Builder.AddCategory] and [Builder.Apply] (and
// its PutOrder and DeleteOrder) for a record that cannot be stored, and
// by [Lookback.Validate] for a look-back out of range, whose message
// names the look-back instead.
var ErrInvalid = errors.New("affinity: invalid record")

const anonBucket = math.MaxUint32

// Builder collects purchase lines, events and products in any order and
// builds a [History]. The zero value is an empty Builder ready to use;
// [NewBuilder] starts from an existing History. A Builder is for one
// goroutine. Ids are interned as records arrive, so the dense ids of a
// History depend only on the order of the calls, but for the customers
// and products first named in a staged put, numbered at Build after the
// others in (Version, Key) order of the surviving puts (see
// [Builder.Apply]).
type Builder struct {
	// Workers is the number of goroutines Build uses for its parallel
	// steps; 0 means GOMAXPROCS. No goroutine outlives Build.
	Workers int

	base  *History    // a base History nothing has changed yet (see thaw)
	over  *History    // the base History the columns add to (see builder_over.go)
	merge *mergeState // what Build keeps of a base History (see builder_merge.go)

	cat        catalogBuilder
	customers  keyTable
	custShared bool // customers is the base History's table, not yet copied

	// Groups are runs of lines of one order as they arrived. A group
	// starts whenever customer or order id change (or, without an order
	// id, the time); Build merges the groups of one order.
	gCust []uint32 // anonBucket for anonymous orders
	gKey  []string // shop order id
	gUnix []int64  // earliest line time
	// the version of the put that made the group, 0 for Add's; nil
	// while every one is 0 (versions.go)
	gVersion []int64
	// addedKeys holds the order keys of gKey once asked for (see
	// addedOrders), nil before
	addedKeys map[string]bool

	lGroup   []uint32
	lProduct []ProductID
	lQty     []int32
	lPrice   []Money

	eCust    []uint32
	eProduct []ProductID
	eUnix    []int64
	eKind    []EventKind
	eWeight  []float32

	// caches for runs of lines of the same customer, product and order;
	// valid from the zero value on, since "" is never looked up
	lastCust, lastProd string
	lastCustID         uint32
	lastProdID         ProductID
	lastOrder          string
	lastGroupCust      uint32
	lastUnix           int64
	lastGroup          uint32
	haveGroup          bool

	gross Money // sum of |Quantity × Price| over all lines, ≤ MaxMoney

	changes *orderChanges // staged by PutOrder, DeleteOrder, EraseCustomer
	tomb    *tombstones   // the built History's tombstones, set by Build (versions.go)
}

// NewBuilder returns a Builder that starts with everything in base (which
// may be nil). Customers, products, categories and orders of base keep
// their ids; lines added with the same customer and order id as an existing
// order join that order. base itself is not modified and is not copied
// while records are added. [Builder.Build] sorts only the touched
// customers' orders and appends them, with new order ids, to columns the
// new History shares with base, so that the orders and lines of a refresh
// cost time in proportion to the touched customers' orders (see [OrderID]);
// once in a while (when the shared columns have no room left or unused
// ids hold a quarter of the lines, or for a second History built on the
// same base) it writes every order anew instead, copying the untouched
// customers' in bulk. A change of at least 65,536 lines and events (added
// or in staged puts) and half the size of base is applied by copying base
// and sorting everything, which is faster there. Per-customer and per-product arrays (ranges,
// first and last purchases, buyer bitmaps) are copied, and events are
// copied when a change has any. [Builder.Build] without any change returns
// base itself, so a refresh that finds nothing new costs O(1). Calls that
// change nothing are no change: reads, refused calls, Grow, an AddProduct
// of an entry base holds already (a catalog sent again; not for a product
// base knows only from purchases or events, which gains an entry), an
// AddCategory of a node base holds, order
// changes that lose to the versions base keeps (see [Builder.Apply]), puts
// of what base holds already (the version, customer, time and lines of
// the key's one order: a poll that reads its latest rows again; a loader
// with versions of its own leaves out a put [Builder.HoldsOrder] finds
// held), and
// deletes and erasures of orders and customers base does not hold (a
// feed or a request replayed) — but for a delete at a version other than
// 0 that base does not keep yet, which it keeps from then on.
func NewBuilder(base *History) *Builder {
	return &Builder{base: base}
}

// NewCatalogBuilder returns a Builder that starts with the catalog c —
// every product and category node with its id and entry (name, price,
// stock flag, categories) — and no customer, order or event. It is where
// a History that shares another one's product and category ids begins:
// one run of customers of a distributed build (segment.BuildPart), or a
// test History over a fixed catalog. c itself is not modified: the
// Builder shares it until a product is added or described anew, then
// copies it (time and memory linear in its size), and a History built
// without such a change has c as its catalog.
func NewCatalogBuilder(c *Catalog) *Builder {
	b := &Builder{}
	if c != nil {
		b.cat.from(c)
	}
	return b
}

// thaw starts building on the base History, once, before the first
// change: the catalog and the customer ids are copied, the orders, lines
// and events stay in the base (b.over) until Build. A Builder from a base
// that nothing changes builds the base itself, in O(1).
func (b *Builder) thaw() {
	base := b.base
	if base == nil {
		return
	}
	b.base = nil
	b.over = base
	b.cat.from(base.catalog)
	b.customers, b.custShared = base.customers, true // cloned on the first change
	b.gross = base.gross
}

// internCustomer returns the id of the customer key, adding the key to
// the table (a copy of the base's, made on the first new key) when new.
func (b *Builder) internCustomer(key string) uint32 {
	if b.custShared {
		if id, ok := b.customers.lookup(key); ok {
			return id
		}
		b.ownCustomers()
	}
	return b.customers.intern(key)
}

// ownCustomers makes the customer table the Builder's own, copying the
// base History's that it shares until a key is added or erased.
func (b *Builder) ownCustomers() {
	if b.custShared {
		b.customers, b.custShared = b.customers.clone(), false
	}
}

// Len returns the number of purchase lines added so far (those of a base
// History included); lines staged by [Builder.PutOrder] count from Build.
func (b *Builder) Len() int {
	if b.base != nil {
		return b.base.NumLines()
	}
	if b.over != nil {
		return b.over.NumLines() + len(b.lProduct)
	}
	return len(b.lProduct)
}

func (b *Builder) customer(key string) uint32 {
	if key == b.lastCust {
		return b.lastCustID
	}
	return b.internCustomer(key)
}

func (b *Builder) product(key string) ProductID {
	if key == b.lastProd {
		return b.lastProdID
	}
	return b.cat.product(key)
}

// Add appends one purchase line. It returns an error wrapping [ErrInvalid]
// when the product id is empty, the time is zero or outside the range of
// [ValidTime], the quantity is zero or the price is negative; nothing is
// stored then.
//
// Money never wraps: Add also refuses, with an error wrapping both
// [ErrInvalid] and [ErrMoneyRange], a line whose value Quantity × Price
// does not fit in [Money], or that would take the gross value of all
// lines (the sum of their absolute values, returns included) beyond
// [MaxMoney], the lines of the puts staged so far included (see
// [Builder.Gross]). Every sum of line values of the History — an order's
// value, a customer's spend, the revenue — therefore fits in Money.
func (b *Builder) Add(p Purchase) error {
	staged := b.stagedGross()
	gross, err := b.addGross(staged, p)
	if err != nil {
		return err
	}
	b.thaw()
	b.gross += gross - staged // p's absolute value
	cust := uint32(anonBucket)
	if p.Customer != "" {
		cust = b.customer(p.Customer)
	}
	prod := b.product(p.Product)
	unix := p.Time.Unix()
	var g uint32
	if b.haveGroup && cust == b.lastGroupCust && p.Order == b.lastOrder && (p.Order != "" || unix == b.lastUnix) {
		g = b.lastGroup
		b.gUnix[g] = min(b.gUnix[g], unix)
	} else {
		g = uint32(len(b.gCust))
		b.gCust = append(double(b.gCust), cust)
		b.gKey = append(double(b.gKey), p.Order)
		if b.addedKeys != nil {
			b.addedKeys[p.Order] = true
		}
		b.gUnix = append(double(b.gUnix), unix)
		if b.gVersion != nil {
			b.gVersion = append(double(b.gVersion), 0)
		}
		b.lastOrder, b.lastGroupCust, b.lastUnix, b.lastGroup, b.haveGroup = p.Order, cust, unix, g, true
	}
	b.lGroup = append(double(b.lGroup), g)
	b.lProduct = append(double(b.lProduct), prod)
	b.lQty = append(double(b.lQty), p.Quantity)
	b.lPrice = append(double(b.lPrice), p.Price)

	b.lastCust, b.lastCustID = p.Customer, cust
	b.lastProd, b.lastProdID = p.Product, prod
	return nil
}

// Check returns the error [Builder.Add] would return for the first of ps
// it refuses if they were added in turn, and adds nothing: a loader that
// turns one input row into several lines checks them first, so that a
// row is added whole or not at all.
func (b *Builder) Check(ps ...Purchase) error {
	gross := b.stagedGross()
	for _, p := range ps {
		var err error
		if gross, err = b.addGross(gross, p); err != nil {
			return err
		}
	}
	return nil
}

// Gross returns the gross value of the Builder's lines: the sum of the
// absolute values Quantity × Price of the lines of its base History, of
// those added with [Builder.Add], and of the lines of the puts staged so
// far ([Builder.PutOrder], [Builder.Apply]), capped at [MaxMoney]. A
// staged change counts in place of what it replaces at Build: a put or a
// delete that replaces a staged change of its key takes the other's
// place, and one that wins over the base's orders of its key (see Apply)
// takes their lines out, so that a feed reading an order again, changed
// or not, does not count it twice. A put that loses to the base's
// version of its key counts nothing, as Build drops it (a later put of
// the key that wins counts on its own), and so does a put of a customer
// erased with [Builder.EraseCustomer], whose lines of the base History
// leave Gross at the erasure. Lines added with Add under the key of a
// staged change or of an erased customer still count: Gross is at least
// the gross value Build holds, and equal to it without such lines. Add
// and [Builder.Check] refuse a line that would take it beyond MaxMoney;
// a loader checks a put with [Builder.CheckApply] before staging it, so
// that Build cannot refuse the puts. O(1).
func (b *Builder) Gross() Money { return b.stagedGross() }

// stagedGross is Gross: the gross value of all lines so far (the base's
// while nothing has changed it, see thaw) and of the staged puts.
func (b *Builder) stagedGross() Money { return b.changes.withPuts(b.held()) }

// held is the gross value of the lines the Builder holds outside its
// staged changes: the base's while nothing has changed it (see thaw).
func (b *Builder) held() Money {
	if b.base != nil {
		return b.base.gross
	}
	return b.gross
}

// addGross checks p as Add does and returns gross with p's absolute value
// added.
func (b *Builder) addGross(gross Money, p Purchase) (Money, error) {
	if err := checkPurchase(p); err != nil {
		return gross, err
	}
	v, ok := p.Price.Mul(int64(p.Quantity))
	if !ok {
		return gross, outOfRange(ErrInvalid, "purchase of %q: %d × %v is out of range", p.Product, p.Quantity, p.Price)
	}
	if gross, ok = gross.Add(max(v, -v)); !ok {
		return gross, outOfRange(ErrInvalid, "purchase of %q: gross value of all lines beyond %v", p.Product, MaxMoney)
	}
	return gross, nil
}

// double returns s with room for at least one more element, doubling the
// capacity when it is full: append alone grows large slices by 1.25×, which
// allocates about five times the final size along the way.
func double[S ~[]E, E any](s S) S {
	if len(s) < cap(s) {
		return s
	}
	return slices.Grow(s, max(cap(s), 256))
}

// orderTime is the time that identifies group g's order: its time when it
// has no shop order id, 0 otherwise.
func (b *Builder) orderTime(g uint32) int64 {
	if b.gKey[g] == "" {
		return b.gUnix[g]
	}
	return 0
}

// Grow reserves room for n more purchase lines, so that adding a known
// number of lines does not reallocate the staging columns.
func (b *Builder) Grow(n int) {
	if n <= 0 {
		return
	}
	b.lGroup = slices.Grow(b.lGroup, n)
	b.lProduct = slices.Grow(b.lProduct, n)
	b.lQty = slices.Grow(b.lQty, n)
	b.lPrice = slices.Grow(b.lPrice, n)
}

// AddEvent appends one event. It returns an error wrapping [ErrInvalid] when
// the customer or product id is empty, the time is zero or outside the
// range of [ValidTime], the kind is not defined or the weight is not
// finite. A weight of -0 is stored as 0.
func (b *Builder) AddEvent(e Event) error {
	switch {
	case e.Customer == "":
		return fmt.Errorf("%w: %v event without customer id", ErrInvalid, e.Kind)
	case e.Product == "":
		return fmt.Errorf("%w: %v event without product id", ErrInvalid, e.Kind)
	case e.Time.IsZero():
		return fmt.Errorf("%w: %v event of %q without time", ErrInvalid, e.Kind, e.Product)
	case !ValidTime(e.Time):
		return fmt.Errorf("%w: %v event of %q at %v, outside 1970-01-01..2106-02-07 UTC", ErrInvalid, e.Kind, e.Product, e.Time.UTC())
	case !e.Kind.Valid():
		return fmt.Errorf("%w: event of %q with unknown kind %d", ErrInvalid, e.Product, uint8(e.Kind))
	case math.IsNaN(float64(e.Weight)) || math.IsInf(float64(e.Weight), 0):
		return fmt.Errorf("%w: %v event of %q with weight %v", ErrInvalid, e.Kind, e.Product, e.Weight)
	}
	if e.Weight == 0 {
		// -0 compares equal to 0 (cmpEvents): stored as it came, it
		// would keep the order of the calls in the History
		e.Weight = 0
	}
	b.thaw()
	b.eCust = append(double(b.eCust), b.internCustomer(e.Customer))
	b.eProduct = append(double(b.eProduct), b.cat.product(e.Product))
	b.eUnix = append(double(b.eUnix), e.Time.Unix())
	b.eKind = append(double(b.eKind), e.Kind)
	b.eWeight = append(double(b.eWeight), e.Weight)
	return nil
}

// HasProduct reports whether key has a catalog entry: one added with
// [Builder.AddProduct], here or in the History or [Catalog] the Builder
// started from, whatever it holds (an entry that only marks a product out
// of stock counts), as opposed to a product known only from purchases or
// events. The answer does not depend on how the calls were split across
// Builds. Loaders use it to add names they find in purchase files
// without overwriting a catalog loaded before.
func (b *Builder) HasProduct(key string) bool {
	if b.base != nil { // nothing staged yet: ask the base, changing nothing
		id, ok := b.base.catalog.LookupProduct(key)
		return ok && b.base.catalog.described(id)
	}
	id, ok := b.cat.lookup(key)
	return ok && b.cat.isDescribed(id)
}

// MaxCategoryDepth is the deepest category path [Builder.AddProduct]
// accepts. Real trees are a handful of levels deep; the limit keeps a
// hostile file from costing time quadratic in a path's length.
const MaxCategoryDepth = 64

// AddProduct adds or replaces the catalog entry of p.Key. A later call for
// the same key replaces name, price, stock flag and categories; category
// nodes, once created, are kept. It returns an error wrapping [ErrInvalid]
// when the key is empty, the price negative or a category path deeper than
// [MaxCategoryDepth] levels.
func (b *Builder) AddProduct(p Product) error {
	if err := b.CheckProduct(p); err != nil {
		return err
	}
	if b.base != nil && b.base.catalog.holds(p) {
		return nil // the base's entry already (a catalog sent again): no change
	}
	b.thaw()
	b.cat.set(p)
	return nil
}

// CheckProduct returns the error [Builder.AddProduct] would return for p,
// and adds nothing.
func (b *Builder) CheckProduct(p Product) error {
	switch {
	case p.Key == "":
		return fmt.Errorf("%w: product without key", ErrInvalid)
	case p.Price < 0:
		return fmt.Errorf("%w: product %q with negative price %v", ErrInvalid, p.Key, p.Price)
	}
	for _, path := range p.Categories {
		if n := strings.Count(path, CategorySep) + 1; n > MaxCategoryDepth && strings.Count(CleanCategoryPath(path), CategorySep)+1 > MaxCategoryDepth {
			return fmt.Errorf("%w: product %q has a category path deeper than %d levels", ErrInvalid, p.Key, MaxCategoryDepth)
		}
	}
	return nil
}

// AddCategory adds the category node path (levels separated by
// [CategorySep], cleaned by [CleanCategoryPath]) and its ancestors, if not
// there yet, without any product in it, and returns its id. Nodes are
// numbered in the order they are first added, here or by
// [Builder.AddProduct], so that adding the nodes of a [Catalog] in id
// order before its products rebuilds the same ids. It returns an error
// wrapping [ErrInvalid] for an empty path or one deeper than
// [MaxCategoryDepth] levels.
func (b *Builder) AddCategory(path string) (CategoryID, error) {
	clean := CleanCategoryPath(path)
	switch {
	case clean == "":
		return NoCategory, fmt.Errorf("%w: empty category path %q", ErrInvalid, path)
	case strings.Count(clean, CategorySep)+1 > MaxCategoryDepth:
		return NoCategory, fmt.Errorf("%w: category path deeper than %d levels", ErrInvalid, MaxCategoryDepth)
	}
	if b.base != nil { // a node the base has already changes nothing
		if id, ok := b.base.catalog.LookupCategory(clean); ok {
			return id, nil
		}
	}
	b.thaw()
	return b.cat.category(clean), nil
}

// buyerShard gathers the buyer lists of the customers [lo, hi).
type buyerShard struct {
	h                 *History
	lo, hi            int
	seenProd, seenCat []uint32 // customer+1 that last met the product or category
	prodPos, catPos   []uint32 // counts after count; write positions in fill
	prodList, catList []uint32
}

// visit calls fn for every distinct product c bought and records c's first
// and last purchase orders.
func (sh *buyerShard) visit(c int, fn func(p ProductID)) {
	h := sh.h
	first, last := uint32(noOrder), uint32(noOrder)
	mark := uint32(c) + 1
	for o := h.custLo[c]; o < h.custHi[c]; o++ {
		bought := false
		for i := h.orderOff[o]; i < h.orderOff[o+1]; i++ {
			if h.lineQty[i] <= 0 {
				continue
			}
			bought = true
			if p := h.lineProduct[i]; sh.seenProd[p] != mark {
				sh.seenProd[p] = mark
				fn(p)
			}
		}
		if bought {
			if first == noOrder {
				first = o
			}
			last = o
		}
	}
	h.firstOrder[c], h.lastOrder[c] = first, last
}

// walk calls prod for every distinct product each customer of the shard
// bought and cat for every distinct category node of those products.
func (sh *buyerShard) walk(ctx context.Context, prod func(c uint32, p ProductID), cat func(c uint32, k CategoryID)) error {
	catalog := sh.h.catalog
	for c := sh.lo; c < sh.hi; c++ {
		if c%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		mark := uint32(c) + 1
		sh.visit(c, func(p ProductID) {
			prod(uint32(c), p)
			for _, x := range catalog.Shares(p) {
				if sh.seenCat[x.Category] != mark {
					sh.seenCat[x.Category] = mark
					cat(uint32(c), x.Category)
				}
			}
		})
	}
	return nil
}

func (sh *buyerShard) count(ctx context.Context) error {
	return sh.walk(ctx,
		func(_ uint32, p ProductID) { sh.prodPos[p]++ },
		func(_ uint32, k CategoryID) { sh.catPos[k]++ })
}

func (sh *buyerShard) fill(ctx context.Context) error {
	clear(sh.seenProd)
	clear(sh.seenCat)
	return sh.walk(ctx,
		func(c uint32, p ProductID) { sh.prodList[sh.prodPos[p]] = c; sh.prodPos[p]++ },
		func(c uint32, k CategoryID) { sh.catList[sh.catPos[k]] = c; sh.catPos[k]++ })
}

// eachShard runs fn on every shard, one goroutine per shard, and returns
// the first error.
func eachShard(ctx context.Context, shards []buyerShard, fn func(*buyerShard, context.Context) error) error {
	return parallel.For(ctx, len(shards), len(shards), func(_, t int) error { return fn(&shards[t], ctx) })
}

// prefixShards turns the shards' counts (pos(shard)[i]) into CSR offsets
// over all shards (len n+1) and each shard's write positions.
func prefixShards(shards []buyerShard, n int, pos func(*buyerShard) []uint32) []uint32 {
	off := make([]uint32, n+1)
	for i := range n {
		at := off[i]
		for t := range shards {
			c := pos(&shards[t])[i]
			pos(&shards[t])[i] = at
			at += c
		}
		off[i+1] = at
	}
	return off
}

// bitmaps turns CSR lists of ascending customer ids into run-optimised
// bitmaps (nil for an empty list) on the given number of goroutines.
func bitmaps(ctx context.Context, off, list []uint32, workers int) ([]*roaring.Bitmap, error) {
	n := len(off) - 1
	out := make([]*roaring.Bitmap, n)
	const chunk = 256
	err := parallel.For(ctx, workers, (n+chunk-1)/chunk, func(_, c int) error {
		for i := c * chunk; i < min((c+1)*chunk, n); i++ {
			if off[i] == off[i+1] {
				continue
			}
			bm := roaring.New()
			bm.AddMany(list[off[i]:off[i+1]])
			bm.RunOptimize()
			out[i] = bm
		}
		return nil
	})
	return out, err
}

func (b *Builder) workers() int { return parallel.Workers(b.Workers) }

// Build applies the staged order changes ([Builder.Apply],
// [Builder.EraseCustomer]), sorts what was added into a new [History] and
// resets the Builder to empty, but for its Workers. It takes time linear
// in the number of lines and events (plus a sort of each customer's
// orders); on a base History
// (see [NewBuilder]) only the touched customers' orders are sorted, the
// rest is copied. Order times are stored as seconds after
// the earliest order, so they may span at most 2^32 seconds (about 136
// years); a wider span is an error. It returns ctx.Err() if ctx is done
// before it finishes; the Builder is empty afterwards either way.
func (b *Builder) Build(ctx context.Context) (*History, error) {
	if b == nil {
		return nil, NilArgument("affinity", "Builder")
	}
	if err := CheckContext("affinity", ctx); err != nil {
		return nil, err
	}
	workers, given := b.workers(), b.Workers
	defer func() { *b = Builder{Workers: given} }()
	base := b.baseHistory()
	b.changes.resolve(base) // changes that lose to base's versions are no change
	b.dropUnchanged(base)   // nor are puts of what base holds
	if b.base != nil && !b.changes.change(b.base) {
		// Nothing changed the base: it is the History.
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return b.base, nil
	}
	b.thaw() // staged changes alone leave the base until here
	if ch := b.changes; ch != nil {
		var t *tombstones
		if base != nil {
			t = base.tomb
		}
		b.tomb = t.with(ch.tomb, ch.untomb)
	} else if base != nil {
		b.tomb = base.tomb
	}
	if b.over != nil {
		if !b.preferCopy() {
			return b.buildOver(ctx)
		}
		b.materialize()
	}
	if _, err := b.applyChanges(); err != nil {
		return nil, err
	}
	h, nc := b.newHistory()
	if err := b.sortOrders(ctx, h, nc); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.sortEvents(h, nc)
	h.gross = b.gross
	h.setLineage(nil, nil, nil) // the copying path keeps no changes
	if err := h.index(ctx, workers, b.merge); err != nil {
		return nil, err
	}
	return h, nil
}

// newHistory starts the History that Build fills: the catalog and
// customers, once the changes are applied; nc is the number of customers.
// It marks the customers whose orders changed since a base History.
func (b *Builder) newHistory() (h *History, nc int) {
	h = &History{
		catalog:   b.cat.finish(),
		customers: b.customers,
		empty:     roaring.New(),
		tomb:      b.tomb,
	}
	nc = h.customers.len()
	b.merge.mark(b.gCust, nc)
	return h, nc
}

// sortOrders merges the groups of each order, orders them by (customer,
// time, order id) and places the lines.
func (b *Builder) sortOrders(ctx context.Context, h *History, nc int) error {
	ng := len(b.gCust)
	bucket := func(c uint32) int {
		if c == anonBucket {
			return nc
		}
		return int(c)
	}
	off := make([]uint32, nc+2)
	for _, c := range b.gCust {
		off[bucket(c)+1]++
	}
	for i := 1; i < len(off); i++ {
		off[i] += off[i-1]
	}
	order := make([]uint32, ng) // position -> group
	next := slices.Clone(off[:nc+1])
	for g, c := range b.gCust {
		k := bucket(c)
		order[next[k]] = uint32(g)
		next[k]++
	}
	// canon[g] is the group that g merges into (itself for the first of
	// an order); within a bucket, an order is its shop id, or its time
	// when it has none.
	canon := make([]uint32, ng)
	for g := range canon {
		canon[g] = uint32(g)
	}
	w := uint32(0) // write position of the merged groups
	for k := range nc + 1 {
		if k%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		s := order[off[k]:off[k+1]]
		off[k] = w
		if len(s) > 1 && !b.merge.sorted(k) {
			slices.SortFunc(s, func(x, y uint32) int {
				return cmp.Or(cmp.Compare(b.gKey[x], b.gKey[y]), cmp.Compare(b.orderTime(x), b.orderTime(y)), cmp.Compare(x, y))
			})
			first := 0
			for i := 1; i < len(s); i++ {
				x, y := s[first], s[i]
				if b.gKey[x] == b.gKey[y] && b.orderTime(x) == b.orderTime(y) {
					canon[y] = x
					b.gUnix[x] = min(b.gUnix[x], b.gUnix[y])
					continue
				}
				first = i
			}
			kept := s[:0]
			for _, g := range s {
				if canon[g] == g {
					kept = append(kept, g)
				}
			}
			slices.SortFunc(kept, func(x, y uint32) int {
				return cmp.Or(cmp.Compare(b.gUnix[x], b.gUnix[y]), cmp.Compare(b.gKey[x], b.gKey[y]), cmp.Compare(x, y))
			})
			s = kept
		}
		copy(order[w:], s)
		w += uint32(len(s))
	}
	off[nc+1] = w
	order = order[:w]
	ng = int(w)
	h.custLo, h.custHi = off[:nc:nc], off[1:nc+1]
	h.anonLo, h.anonHi = off[nc], w
	h.orderCust = make([]uint32, ng)
	for k := range nc + 1 {
		c := uint32(k)
		if k == nc {
			c = anonBucket
		}
		for o := off[k]; o < off[k+1]; o++ {
			h.orderCust[o] = c
		}
	}
	h.numOrders = ng
	rank := make([]uint32, len(b.gCust))
	h.orderDelta = make([]uint32, ng)
	if ng > 0 {
		lo, hi := b.gUnix[order[0]], b.gUnix[order[0]]
		for _, g := range order {
			lo, hi = min(lo, b.gUnix[g]), max(hi, b.gUnix[g])
		}
		if hi-lo > math.MaxUint32 {
			return errors.New("affinity: orders span more than 136 years")
		}
		h.baseUnix, h.firstUnix = lo, lo
	}
	h.orderKeyOff = make([]uint32, ng+1)
	size := 0
	for _, g := range order {
		size += len(b.gKey[g])
	}
	if size > math.MaxUint32 {
		return errors.New("affinity: order ids exceed 4 GiB")
	}
	blob := make([]byte, 0, size)
	for o, g := range order {
		rank[g] = uint32(o)
		h.orderDelta[o] = uint32(b.gUnix[g] - h.baseUnix)
		blob = append(blob, b.gKey[g]...)
		h.orderKeyOff[o+1] = uint32(len(blob))
	}
	h.orderKeys = blob
	if b.gVersion != nil {
		// an order's version is its first group's: a put is an order's
		// only group, and lines that join a base order leave its version
		h.versions = make([]int64, ng)
		for o, g := range order {
			h.versions[o] = b.gVersion[g]
		}
		h.versions = trimVersions(h.versions)
	}
	order = nil
	for g, c := range canon {
		rank[g] = rank[c]
	}
	// place lines by a stable counting sort on their order's rank
	h.orderOff = make([]uint32, ng+1)
	for _, g := range b.lGroup {
		h.orderOff[rank[g]+1]++
	}
	for i := 1; i <= ng; i++ {
		h.orderOff[i] += h.orderOff[i-1]
	}
	pos := slices.Clone(h.orderOff[:ng])
	n := len(b.lGroup)
	h.numLines = n
	h.lineProduct = make([]ProductID, n)
	h.lineQty = make([]int32, n)
	h.linePrice = make([]Money, n)
	for i, g := range b.lGroup {
		o := rank[g]
		j := pos[o]
		pos[o]++
		h.lineProduct[j] = b.lProduct[i]
		h.lineQty[j] = b.lQty[i]
		h.linePrice[j] = b.lPrice[i]
	}
	return nil
}

// cmpEvents orders two events of one customer: by time, then product key,
// kind and weight (see [History.CustomerEvents]). The product key, not the
// id, breaks ties so that the order depends neither on the order the
// events were added in nor on the numbering of the ids. keys are the
// catalog's product keys; rank, when not nil, their places in key order
// (productRank), compared instead of the keys.
func cmpEvents(keys []string, rank []uint32, a, b EventLine) int {
	if c := cmp.Compare(a.Unix, b.Unix); c != 0 {
		return c
	}
	if a.Product != b.Product {
		if rank != nil {
			return cmp.Compare(rank[a.Product], rank[b.Product])
		}
		return strings.Compare(keys[a.Product], keys[b.Product])
	}
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Weight, b.Weight))
}

// productRank returns each product's place in the order of keys.
func productRank(keys []string) []uint32 {
	ids := make([]uint32, len(keys))
	for i := range ids {
		ids[i] = uint32(i)
	}
	slices.SortFunc(ids, func(x, y uint32) int { return strings.Compare(keys[x], keys[y]) })
	rank := make([]uint32, len(keys))
	for r, p := range ids {
		rank[p] = uint32(r)
	}
	return rank
}

// stagedEvent returns the event AddEvent staged at index i.
func (b *Builder) stagedEvent(i uint32) EventLine {
	return EventLine{Product: b.eProduct[i], Unix: b.eUnix[i], Kind: b.eKind[i], Weight: b.eWeight[i]}
}

// groupEvents returns the staged events by customer: customer c's are
// idx[off[c]:off[c+1]], in the order of cmpEvents over keys, the product
// keys. It sorts by time first, counting the events that tie with
// another in their second as it goes, and breaks those ties after; with
// many of them (a date-only export puts a day's events in one second) it
// compares the products' places in key order, sorted once, instead of
// their keys.
func (b *Builder) groupEvents(keys []string, nc int) (off, idx []uint32) {
	off = make([]uint32, nc+1)
	for _, c := range b.eCust {
		off[c+1]++
	}
	for i := 1; i <= nc; i++ {
		off[i] += off[i-1]
	}
	// Place each event at off[c], customer c's next slot, and advance it:
	// off[c] ends at the start of customer c+1's events, so shifting off
	// by one restores the starts, with no copy of them to advance.
	idx = make([]uint32, len(b.eCust))
	for i, c := range b.eCust {
		idx[off[c]] = uint32(i)
		off[c]++
	}
	copy(off[1:], off[:nc])
	off[0] = 0
	tied := 0
	for c := range nc {
		if s := idx[off[c]:off[c+1]]; len(s) > 1 {
			slices.SortFunc(s, func(x, y uint32) int { return cmp.Compare(b.eUnix[x], b.eUnix[y]) })
			b.eachTie(s, func(run []uint32) { tied += len(run) })
		}
	}
	if tied == 0 {
		return off, idx
	}
	var rank []uint32
	if np := len(keys); np*bits.Len(uint(np)) <= tied {
		// sorting the keys once costs less than comparing them in every
		// run (the rank fits in cache, the keys' bytes rarely do)
		rank = productRank(keys)
	}
	for c := range nc {
		b.eachTie(idx[off[c]:off[c+1]], func(run []uint32) {
			slices.SortFunc(run, func(x, y uint32) int { return cmpEvents(keys, rank, b.stagedEvent(x), b.stagedEvent(y)) })
		})
	}
	return off, idx
}

// eachTie calls f with each run of more than one event in one second in
// s, staged events sorted by time.
func (b *Builder) eachTie(s []uint32, f func(run []uint32)) {
	for i := 0; i+1 < len(s); {
		j := i + 1
		for j < len(s) && b.eUnix[s[j]] == b.eUnix[s[i]] {
			j++
		}
		if j-i > 1 {
			f(s[i:j])
		}
		i = j
	}
}

// sortEvents fills h's event columns with the staged events, each
// customer's in the order of cmpEvents.
func (b *Builder) sortEvents(h *History, nc int) {
	off, idx := b.groupEvents(h.catalog.products.keys, nc)
	h.evLo, h.evHi = off[:nc:nc], off[1:]
	n := len(idx)
	h.numEvents = n
	h.evProduct = make([]ProductID, n)
	h.evUnix = make([]int64, n)
	h.evKind = make([]EventKind, n)
	h.evWeight = make([]float32, n)
	for j, i := range idx {
		h.evProduct[j] = b.eProduct[i]
		h.evUnix[j] = b.eUnix[i]
		h.evKind[j] = b.eKind[i]
		h.evWeight[j] = b.eWeight[i]
	}
}

// index computes first/last purchase times, buyer bitmaps and the summary.
// Buyer lists are gathered in two passes into CSR arrays (customers in
// ascending order), then turned into bitmaps on the given number of
// workers — or, for a Builder started from a base History, patched from
// the base's (see mergeState.reindex).
func (h *History) index(ctx context.Context, workers int, m *mergeState) error {
	nc := h.NumCustomers()
	cat := h.catalog
	np, ncat := cat.NumProducts(), cat.NumCategories()
	h.firstOrder = make([]uint32, nc)
	h.lastOrder = make([]uint32, nc)
	s := &h.summary
	if ok, err := m.reindex(ctx, h); err != nil {
		return err
	} else if !ok {
		if err := h.buyerIndex(ctx, workers); err != nil {
			return err
		}
	}
	merged := m != nil && !noMergeIndex.Load()
	if merged {
		h.allBuyers = m.allBuyers(h)
		s.CustomerRevenue = m.customerRevenue(h)
		s.Returns = m.returns(h)
	} else {
		h.allBuyers = roaring.New()
		for c, o := range h.firstOrder {
			if o != noOrder {
				h.allBuyers.Add(uint32(c))
			}
		}
		h.allBuyers.RunOptimize()
		s.CustomerRevenue, s.Returns = 0, 0
		for c := range nc {
			for o := h.custLo[c]; o < h.custHi[c]; o++ {
				s.CustomerRevenue += h.OrderValue(OrderID(o))
			}
			s.Returns += countReturns(h.lineQty[h.orderOff[h.custLo[c]]:h.orderOff[h.custHi[c]]])
		}
		s.Returns += countReturns(h.lineQty[h.orderOff[h.anonLo]:h.orderOff[h.anonHi]])
	}

	s.Customers = nc
	s.Buyers = int(h.allBuyers.GetCardinality())
	s.Products, s.Categories = np, ncat
	s.Orders, s.Lines, s.Events = h.NumOrders(), h.NumLines(), h.NumEvents()
	s.Revenue = s.CustomerRevenue
	alo, ahi := h.AnonymousOrders()
	s.AnonymousOrders = int(ahi - alo)
	for o := alo; o < ahi; o++ {
		s.AnonymousLines += int(h.orderOff[o+1] - h.orderOff[o])
		s.Revenue += h.OrderValue(o)
	}
	if no := h.NumOrders(); no > 0 {
		// order times are stored from the first order's (both builds);
		// a build on a base found the last one as it wrote them
		hi, ok := m.lastOrder()
		if !ok {
			hi = h.baseUnix + int64(slices.Max(h.orderDelta))
		}
		s.First, s.Last = time.Unix(h.firstUnix, 0).UTC(), time.Unix(hi, 0).UTC()
	}
	h.latest = s.Last
	if h.numEvents > 0 {
		// one time conversion, not one per event: events are often ten
		// times the lines; a build on a base that shared or appended to
		// its event columns found the latest time itself
		if m == nil || !m.evLatestSet {
			h.evLatest = slices.Max(h.evUnix)
		}
		if h.evLatest > h.latest.Unix() {
			h.latest = time.Unix(h.evLatest, 0).UTC()
		}
	}
	return nil
}

// buyerIndex builds first and last purchase orders and the buyer bitmaps
// from every line.
func (h *History) buyerIndex(ctx context.Context, workers int) error {
	nc := h.NumCustomers()
	cat := h.catalog
	np, ncat := cat.NumProducts(), cat.NumCategories()
	// Shard the customers into contiguous ranges of about equal line
	// counts; each shard counts, then fills, its part of every buyer list.
	// Lists stay in ascending customer order because shard t writes after
	// all shards before it.
	nShards := max(1, min(workers, nc/4096+1))
	shards := make([]buyerShard, nShards)
	// lines of the customers before c, for the shard bounds
	var pre []uint32
	if nShards > 1 {
		pre = make([]uint32, nc+1)
		for c := range nc {
			pre[c+1] = pre[c] + h.orderOff[h.custHi[c]] - h.orderOff[h.custLo[c]]
		}
	}
	cum := func(c int) uint32 { return pre[c] }
	lines := 0
	if pre != nil {
		lines = int(pre[nc])
	}
	lo := 0
	for t := range shards {
		hi := nc
		if t < nShards-1 {
			want := uint32(lines / nShards * (t + 1))
			hi = lo + sort.Search(nc-lo, func(i int) bool { return cum(lo+i) >= want })
		}
		shards[t] = buyerShard{h: h, lo: lo, hi: hi, seenProd: make([]uint32, np), seenCat: make([]uint32, ncat),
			prodPos: make([]uint32, np), catPos: make([]uint32, ncat)}
		lo = hi
	}
	if err := eachShard(ctx, shards, (*buyerShard).count); err != nil {
		return err
	}
	prodOff := prefixShards(shards, np, func(sh *buyerShard) []uint32 { return sh.prodPos })
	catOff := prefixShards(shards, ncat, func(sh *buyerShard) []uint32 { return sh.catPos })
	prodList := make([]uint32, prodOff[np])
	catList := make([]uint32, catOff[ncat])
	for t := range shards {
		shards[t].prodList, shards[t].catList = prodList, catList
	}
	if err := eachShard(ctx, shards, (*buyerShard).fill); err != nil {
		return err
	}
	var err error
	if h.buyers, err = bitmaps(ctx, prodOff, prodList, workers); err != nil {
		return err
	}
	cb, err := bitmaps(ctx, catOff, catList, workers)
	if err != nil {
		return err
	}
	h.cats.set(cb)
	h.catCount = make([]uint32, ncat)
	for k := range ncat {
		h.catCount[k] = catOff[k+1] - catOff[k]
	}
	return nil
}
