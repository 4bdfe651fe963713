package similarity

import (
	"cmp"
	"context"
	"fmt"
	"github.com/RoaringBitmap/roaring/v2"
	"math"
	"slices"
	"strconv"

	"github.com/shopaffinity/affinity"
)

// txTable holds the counted transactions — orders (Basket) or customers
// (Customer, Sequential) — as lists of products. For Basket and Customer a
// transaction's products are distinct; for Sequential they form the
// customer's timeline, one entry per order (or event) and product, in time
// order, with their times in unix.
type txTable struct {
	off   []uint32 // len ntx+1, into items
	items []affinity.ProductID
	unix  []int64   // Sequential only
	tf    []float32 // item matrices only: interactions per entry
	id    []uint32  // per transaction: the OrderID or CustomerID
}

func (t *txTable) len() int { return len(t.off) - 1 }

func (t *txTable) tx(x uint32) []affinity.ProductID { return t.items[t.off[x]:t.off[x+1]] }

// config is CountOptions with defaults applied and times in Unix seconds.
type config struct {
	scope     Scope
	from, to  int64 // counted: from < t ≤ to
	window    int64
	maxBasket int // 0: no cap
	workers   int
	events    bool
	kinds     uint16          // with events, the kinds counted (bit k for kind k); 0: every kind
	exclude   *roaring.Bitmap // products never counted; nil: none
}

func (c *config) inRange(u int64) bool { return u > c.from && u <= c.to }

// countsEvent reports whether e is an interaction counted (events on).
func (c *config) countsEvent(e affinity.EventLine) bool {
	return c.inRange(e.Unix) && (c.kinds == 0 || c.kinds&(1<<e.Kind) != 0)
}

// keyHash hashes the strings that identify a transaction, so that sampling
// depends on shop ids, not on dense ids, and shards agree with the whole.
func keyHash(parts ...string) uint64 {
	h := uint64(14695981039346656037)
	for _, s := range parts {
		for i := range len(s) {
			h ^= uint64(s[i])
			h *= 1099511628211
		}
		h ^= 0xff
		h *= 1099511628211
	}
	return h
}

// mix is the splitmix64 finaliser.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// sampleRank orders the products of a transaction for sampling: the kept
// ones are those with the smallest rank.
func sampleRank(key uint64, p affinity.ProductID) uint64 {
	return mix(key ^ mix(uint64(p)+0x9e3779b97f4a7c15))
}

type ranked struct {
	r  uint64
	p  affinity.ProductID
	tf float32
}

// sampleDistinct keeps the m distinct products of items (and their tf)
// with the smallest sampleRank, in product order, and returns how many
// remain.
func sampleDistinct(items []affinity.ProductID, tf []float32, key uint64, m int, buf []ranked) (int, []ranked) {
	buf = buf[:0]
	for i, p := range items {
		r := ranked{r: sampleRank(key, p), p: p}
		if tf != nil {
			r.tf = tf[i]
		}
		buf = append(buf, r)
	}
	slices.SortFunc(buf, func(x, y ranked) int { return cmp.Or(cmp.Compare(x.r, y.r), cmp.Compare(x.p, y.p)) })
	buf = buf[:m]
	slices.SortFunc(buf, func(x, y ranked) int { return cmp.Compare(x.p, y.p) })
	for i, r := range buf {
		items[i] = r.p
		if tf != nil {
			tf[i] = r.tf
		}
	}
	return m, buf
}

// buildTx collects the transactions of h in scope. withTF also records
// interaction counts per entry (for item matrices).
func buildTx(ctx context.Context, h *affinity.History, c *config, withTF bool) (*txTable, error) {
	b := newTxBuilder(h, c, withTF)
	var err error
	switch c.scope {
	case Basket:
		err = b.baskets(ctx)
	case Customer:
		err = b.customers(ctx)
	case Sequential:
		err = b.timelines(ctx)
	}
	if err != nil {
		return nil, err
	}
	return b.t, nil
}

// newTxBuilder returns a builder of h's transactions under c, empty.
func newTxBuilder(h *affinity.History, c *config, withTF bool) *txBuilder {
	np := h.Catalog().NumProducts()
	b := &txBuilder{h: h, c: c, withTF: withTF, stamp: make([]uint32, np), t: &txTable{off: []uint32{0}}}
	if c.exclude != nil {
		b.excluded = make([]bool, np)
		for p := range roaring.Values(c.exclude) {
			if int(p) < np {
				b.excluded[p] = true
			}
		}
	}
	if withTF {
		b.pos = make([]uint32, np)
	}
	return b
}

type txBuilder struct {
	h      *affinity.History
	c      *config
	withTF bool
	t      *txTable
	stamp  []uint32 // mark of the last transaction (or order) that added a product
	pos    []uint32 // with tf: position of the product in items
	mark   uint32
	buf    []ranked
	// excluded marks the products never counted (CountOptions.Exclude).
	excluded []bool
}

func (b *txBuilder) nextMark() {
	b.mark++
	if b.mark == 0 {
		clear(b.stamp)
		b.mark = 1
	}
}

// skip reports whether p is excluded from counting.
func (b *txBuilder) skip(p affinity.ProductID) bool { return b.excluded != nil && b.excluded[p] }

// add appends p to the current transaction unless it is there already.
func (b *txBuilder) add(p affinity.ProductID) {
	if b.skip(p) {
		return
	}
	t := b.t
	if b.stamp[p] == b.mark {
		if b.withTF {
			t.tf[b.pos[p]]++
		}
		return
	}
	b.stamp[p] = b.mark
	if b.withTF {
		b.pos[p] = uint32(len(t.items))
		t.tf = append(t.tf, 1)
	}
	t.items = append(t.items, p)
}

// addOrder adds the bought products of order o if it is in range.
func (b *txBuilder) addOrder(o affinity.OrderID) {
	if !b.c.inRange(b.h.OrderUnix(o)) {
		return
	}
	lo, hi := b.h.OrderLines(o)
	for i := lo; i < hi; i++ {
		if b.h.LineQuantity(i) > 0 {
			b.add(b.h.LineProduct(i))
		}
	}
}

// close ends the transaction that started at items[start], sampling it
// down to maxBasket, and keeps it if it is not empty.
func (b *txBuilder) close(start int, id uint32, key func() uint64) error {
	t := b.t
	n := len(t.items) - start
	if n == 0 {
		return nil
	}
	if m := b.c.maxBasket; m > 0 && n > m {
		var tf []float32
		if b.withTF {
			tf = t.tf[start:]
		}
		n, b.buf = sampleDistinct(t.items[start:], tf, key(), m, b.buf)
		t.items = t.items[:start+n]
		if b.withTF {
			t.tf = t.tf[:start+n]
		}
	}
	if len(t.items) > math.MaxUint32 {
		return fmt.Errorf("similarity: more than %d product occurrences", uint32(math.MaxUint32))
	}
	t.off = append(t.off, uint32(len(t.items)))
	t.id = append(t.id, id)
	return nil
}

func (b *txBuilder) baskets(ctx context.Context) error {
	n := 0
	for o := range b.h.Orders() {
		if n++; n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := b.basket(o); err != nil {
			return err
		}
	}
	return nil
}

// basket collects the transaction of order o (Basket scope).
func (b *txBuilder) basket(o affinity.OrderID) error {
	h := b.h
	b.nextMark()
	start := len(b.t.items)
	b.addOrder(o)
	return b.close(start, uint32(o), func() uint64 {
		key := ""
		if c := h.OrderCustomer(o); c != affinity.NoCustomer {
			key = h.CustomerKey(c)
		}
		return keyHash(key, h.OrderKey(o), strconv.FormatInt(h.OrderUnix(o), 10))
	})
}

func (b *txBuilder) customers(ctx context.Context) error {
	h := b.h
	for c := range affinity.CustomerID(h.NumCustomers()) {
		if c%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		b.nextMark()
		start := len(b.t.items)
		lo, hi := h.CustomerOrders(c)
		for o := lo; o < hi; o++ {
			b.addOrder(o)
		}
		if b.c.events {
			elo, ehi := h.CustomerEvents(c)
			for i := elo; i < ehi; i++ {
				if e := h.Event(i); b.c.countsEvent(e) && !b.skip(e.Product) {
					b.add(e.Product)
				}
			}
		}
		if err := b.close(start, uint32(c), func() uint64 { return keyHash(h.CustomerKey(c)) }); err != nil {
			return err
		}
	}
	return nil
}

// timelines builds, per customer, the time-ordered entries (time, product):
// one per bought product and order, and one per event when counting
// events. Customers with more than maxBasket distinct products keep the
// entries of a sample of them.
func (b *txBuilder) timelines(ctx context.Context) error {
	h, t := b.h, b.t
	type entry struct {
		unix int64
		p    affinity.ProductID
	}
	var ent []entry
	var distinct []affinity.ProductID
	keep := make([]uint32, len(b.stamp)) // customer mark of sampled products
	var keepMark uint32
	for c := range affinity.CustomerID(h.NumCustomers()) {
		if c%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		ent = ent[:0]
		lo, hi := h.CustomerOrders(c)
		for o := lo; o < hi; o++ {
			u := h.OrderUnix(o)
			if !b.c.inRange(u) {
				continue
			}
			b.nextMark()
			llo, lhi := h.OrderLines(o)
			for i := llo; i < lhi; i++ {
				if p := h.LineProduct(i); h.LineQuantity(i) > 0 && b.stamp[p] != b.mark && !b.skip(p) {
					b.stamp[p] = b.mark
					ent = append(ent, entry{u, p})
				}
			}
		}
		if b.c.events {
			n := len(ent)
			elo, ehi := h.CustomerEvents(c)
			for i := elo; i < ehi; i++ {
				if e := h.Event(i); b.c.countsEvent(e) && !b.skip(e.Product) {
					ent = append(ent, entry{e.Unix, e.Product})
				}
			}
			if n > 0 && len(ent) > n {
				slices.SortStableFunc(ent, func(x, y entry) int { return cmp.Compare(x.unix, y.unix) })
			}
		}
		if len(ent) == 0 {
			continue
		}
		b.nextMark()
		distinct = distinct[:0]
		for _, e := range ent {
			if b.stamp[e.p] != b.mark {
				b.stamp[e.p] = b.mark
				distinct = append(distinct, e.p)
			}
		}
		sampled := false
		if m := b.c.maxBasket; m > 0 && len(distinct) > m {
			sampled = true
			_, b.buf = sampleDistinct(distinct, nil, keyHash(h.CustomerKey(c)), m, b.buf)
			keepMark++
			if keepMark == 0 {
				clear(keep)
				keepMark = 1
			}
			for _, p := range distinct[:m] {
				keep[p] = keepMark
			}
		}
		for _, e := range ent {
			if !sampled || keep[e.p] == keepMark {
				t.items = append(t.items, e.p)
				t.unix = append(t.unix, e.unix)
			}
		}
		if len(t.items) > math.MaxUint32 {
			return fmt.Errorf("similarity: more than %d product occurrences", uint32(math.MaxUint32))
		}
		t.off = append(t.off, uint32(len(t.items)))
		t.id = append(t.id, uint32(c))
	}
	return nil
}

// postings is the product → transactions index: for each product the
// transactions that contain it, ascending, each once.
type postings struct {
	off  []uint32 // len np+1
	tx   []uint32
	work []uint64 // per product: Σ length of its transactions, the work of its row
}

func (p *postings) of(a affinity.ProductID) []uint32 { return p.tx[p.off[a]:p.off[a+1]] }

// buildPostings inverts t by a counting sort. Timelines may repeat a
// product; it is listed once per transaction.
func buildPostings(t *txTable, np int) *postings {
	p := &postings{off: make([]uint32, np+1), work: make([]uint64, np)}
	last := make([]uint32, np) // transaction+1 that last listed a product
	for x := range uint32(t.len()) {
		items := t.tx(x)
		for _, a := range items {
			if last[a] != x+1 {
				last[a] = x + 1
				p.off[a+1]++
				p.work[a] += uint64(len(items))
			}
		}
	}
	for i := 1; i <= np; i++ {
		p.off[i] += p.off[i-1]
	}
	p.tx = make([]uint32, p.off[np])
	next := slices.Clone(p.off[:np])
	clear(last)
	for x := range uint32(t.len()) {
		for _, a := range t.tx(x) {
			if last[a] != x+1 {
				last[a] = x + 1
				p.tx[next[a]] = x
				next[a]++
			}
		}
	}
	return p
}

// postings returns the product → transactions postings of c, built on
// first use when c was made without them.
func (c *Counts) postings() *postings {
	c.postOnce.Do(func() {
		if c.post == nil {
			c.post = buildPostings(c.transactions(), c.np)
		}
	})
	return c.post
}
