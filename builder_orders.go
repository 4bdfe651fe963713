package affinity

import (
	"cmp"
	"fmt"
	"hash/maphash"
	"maps"
	"math/bits"
	"slices"

	"github.com/shopaffinity/affinity/internal/pkgerr"
	"github.com/shopaffinity/affinity/internal/timetext"
)

// OrderChange is one change of a shop's orders as a feed delivers it: the
// whole current version of an order (a put), or its removal (a delete).
// An order is the unit of change: a put carries every line of the order as
// it stands now, so edits, partial refunds and re-deliveries are all the
// same operation. See [Builder.Apply]. In JSON its fields are "key",
// "version", "delete" and "lines" (each a [Purchase]); any other field is
// an error (see [OrderChange.UnmarshalJSON]).
type OrderChange struct {
	// Key is the shop's order id; required. Order keys are global to the
	// shop: a change of key K replaces every order with key K, whatever
	// its customer.
	Key string `json:"key"`
	// Version orders the changes of one order: the change with the
	// highest Version wins, whatever the order in which changes arrive,
	// in one Builder or across the Builds of a chain of Histories (see
	// [Builder.Apply]). An updated-at time in Unix microseconds or a
	// change sequence number are the usual choices. At equal versions,
	// within one Builder a delete beats a put and, between two puts, the
	// later call wins; across Builds the later Build wins, put or delete
	// (a source polled by an updated-at column with ties delivers a later
	// state at the same version in a later poll). So 0 everywhere means
	// "the last change wins, except that in one Builder a delete beats
	// the puts" (a delete of version 0 is not kept once built), and a
	// feed that deletes an order and creates it again must give the new
	// put a higher version or deliver it in a later Build. Versions are
	// 0 or above: 0 is no version, below which no change could order.
	Version int64 `json:"version"`
	// Delete removes the order; Lines are ignored then.
	Delete bool `json:"delete"`
	// Lines are the order's lines. Their Order field must be empty or Key,
	// and they must all have the same Customer (empty for an anonymous
	// order). A put without lines is a delete.
	Lines []Purchase `json:"lines"`
}

// UnmarshalJSON reads an OrderChange as encoding/json reads the struct,
// but refuses a field the struct does not have, naming it (json: unknown
// field "vesion": a misspelt "version" would store the order without its
// version, a misspelt "delete" put an order meant to go); its lines are
// read by [Purchase.UnmarshalJSON].
func (c *OrderChange) UnmarshalJSON(b []byte) error {
	type plain OrderChange
	return timetext.Unmarshal(b, (*plain)(c), c)
}

// orderChanges holds what PutOrder, DeleteOrder and EraseCustomer staged;
// Build applies it.
type orderChanges struct {
	byKey  map[string]*stagedOrder
	erased map[string]struct{}

	// set by resolve: the tombstones the surviving changes set, and the
	// keys whose tombstones they remove (versions.go)
	tomb   map[string]int64
	untomb []string

	// gross is the sum of the staged changes' gross values (see
	// Builder.Gross), in 128 bits so that no number of puts overflows
	// it and a put that another replaces is taken out exactly.
	gross struct{ hi, lo uint64 }
	// displaced is the gross value of the base's orders that the staged
	// changes and erasures drop at Build: the sum of the changes'
	// displaced values and of the erased customers' base orders that no
	// change counts, at most the base's gross value (each order counted
	// once).
	displaced uint64
	// puts lists, by customer, the keys of the staged puts that may
	// still count a gross value, so that an erasure takes them out;
	// built by the first erasure (nil before), and may name keys that
	// another customer's change took since.
	puts map[string][]string

	// last is what Builder.displaced found last; an erasure, which
	// changes what it leaves out, clears it.
	last displacedMemo
}

// displacedMemo is what Builder.displaced returned for a change of key at
// version; none while key is "" (no change has that key).
type displacedMemo struct {
	key     string
	version int64
	g       uint64
	loses   bool
}

type stagedOrder struct {
	version int64
	del     bool
	lines   []Purchase
	// gross is the sum of the lines' absolute values, MaxMoney+1 beyond
	// MaxMoney; 0 for a change that adds nothing at Build: a delete, a
	// put that loses to the base's version of its key, or one of a
	// customer erased in the Builder.
	gross uint64
	// displaced is the gross value of the base's orders of its key it
	// drops (Builder.displaced), those of erased customers left out.
	displaced uint64
	loses     bool // to the base's version of its key: resolve drops it
}

// replace takes the gross and displaced values of change old (nil: none)
// out of the staged changes' and adds those of change o, which takes its
// place.
func (ch *orderChanges) replace(old, o *stagedOrder) {
	ch.gross = ch.grossWith(old, o)
	if old != nil {
		ch.displaced -= old.displaced
	}
	ch.displaced += o.displaced
}

// grossWith returns the staged puts' gross value with change o in the
// place of old (nil: none).
func (ch *orderChanges) grossWith(old, o *stagedOrder) struct{ hi, lo uint64 } {
	s := ch.gross
	var c uint64
	if old != nil {
		s.lo, c = bits.Sub64(s.lo, old.gross, 0)
		s.hi -= c
	}
	s.lo, c = bits.Add64(s.lo, o.gross, 0)
	s.hi += c
	return s
}

// withPuts returns held, less the gross value of the base's orders the
// staged changes drop, plus the staged puts' gross value, MaxMoney beyond
// it. Nil-safe.
func (ch *orderChanges) withPuts(held Money) Money {
	if ch == nil {
		return held
	}
	g, _ := sumGross(held, ch.displaced, ch.gross)
	return g
}

// sumGross returns held - displaced + puts, and false with MaxMoney
// beyond MaxMoney; held holds what displaced counts.
func sumGross(held Money, displaced uint64, puts struct{ hi, lo uint64 }) (Money, bool) {
	lo, c := bits.Add64(puts.lo, uint64(held)-displaced, 0)
	if puts.hi != 0 || c != 0 || lo > uint64(MaxMoney) {
		return MaxMoney, false
	}
	return Money(lo), true
}

// PutOrder stages version version of order key with the given lines: at
// [Builder.Build] they replace every line with order id key that the
// Builder holds, from its base History or added with [Builder.Add] before
// or after the call, unless a change of key with a higher version wins,
// in this Builder or in the base, or a delete of the same version in
// this Builder. Putting the same version and lines again changes
// nothing, so a feed can be replayed: on a base that holds them, such a
// put costs no rebuild (see [NewBuilder]). See [Builder.Apply] for
// versions and errors.
func (b *Builder) PutOrder(key string, version int64, lines []Purchase) error {
	return b.Apply(OrderChange{Key: key, Version: version, Lines: lines})
}

// DeleteOrder stages the removal of every line with order id key (see
// [Builder.Apply]). Deleting an order the Builder does not hold is not an
// error: the delete still overrides older puts of key that arrive later
// (and puts of its version in this Builder), in this Builder and, at a
// version other than 0, in Builders over the History it builds.
func (b *Builder) DeleteOrder(key string, version int64) error {
	return b.Apply(OrderChange{Key: key, Version: version, Delete: true})
}

// Apply stages one order change; [Builder.Build] applies the staged
// changes. The change of a key with the highest Version wins, within one
// Builder and across Builds: a History keeps the version of each order a
// put made ([History.OrderVersion]) and of each delete (a tombstone of
// the key), and a change staged on it with [NewBuilder] wins when its
// version is not lower than the one the History holds of its key. At
// equal versions, within one Builder a delete beats a put and, between
// two puts, the later call wins (the calls' order may be a shuffle's);
// across Builds the later Build wins, put or delete: a later Build holds
// a later state of the source, as when a database polled by an
// updated-at column with ties (an order cancelled and re-opened within
// one tick) is read as a delete, then a put, of the same version in
// consecutive polls, and incremental polls must build what a full poll
// builds. A change that loses changes nothing, not even the lines added
// with key in the same Builder, which join the base's order. So a
// retried or late delivery of an older version changes nothing, and a
// feed applied twice, shuffled (with distinct versions per order), or
// split into any number of consecutive Builds — a shop's refreshes, each
// with the changes that arrived since the last — builds the same History
// as the feed applied once in order, provided it holds no delete and put
// of one key at one version: of those, one Builder keeps the delete,
// consecutive Builds the later one's change. The same History means the
// same orders, lines, versions and tombstones by key; the dense ids of
// the customers and products the feed brings may differ across a split,
// as each Build numbers those of its own surviving puts (below), and the
// customer and products of a put that a later Build replaces keep their
// ids (the customer without orders), where one Builder never numbers
// them.
//
// Version 0 is no version: orders added with [Builder.Add] have it (lines
// that Add joins to an order leave its version as it is), so a put of
// version 0 or higher replaces them, and a delete of version 0 leaves no
// tombstone, so that a put of version 0 in a later Build puts the order
// back. Add does not look at versions: lines it adds with the key of a
// deleted order make an order of version 0, and the tombstone still
// refuses puts below its version until a change at or above it. An erasure
// ([Builder.EraseCustomer]) is no versioned change: it drops the
// customer's orders with their versions and keeps no tombstone, nor does
// a put of a customer erased in the same Builder (which still deletes the
// other orders of its key). A History whose orders all have version 0
// and that keeps no tombstone pays nothing for versions; otherwise it
// keeps 8 bytes per order id (after a refresh that appends to its base,
// see [OrderID], only for the ids from the first versioned refresh on,
// until a compaction writes them all) and 32 bytes plus the key's bytes
// per tombstone: deleted keys are kept for good. A change staged on a
// History that keeps versions looks its key up there, which indexes the
// History's order keys on first use (see [History.LookupOrder]).
//
// Customers and products first met in a put get their dense ids at Build,
// in (Version, Key) order of the puts that survive, so ids depend on what
// survives and not on the order of the calls. Lines are copied; their
// string fields are kept as they are.
//
// Apply returns an error wrapping [ErrInvalid], and stages nothing, when
// the key is empty, the version negative, a line is one that
// [Builder.Add] would refuse, a line names another order or the lines
// name two customers. Build
// returns an error wrapping [ErrMoneyRange] if the surviving puts take the
// gross value of all lines beyond [MaxMoney]; [Builder.CheckApply] tells
// beforehand. It takes time linear in the number of c's lines and, on a
// base History, in those of the base's orders of its key, found by the
// base's index of order keys (built on first use, see
// [History.LookupOrder]) so that [Builder.Gross] counts the change in
// their place; right after [Builder.CheckApply] of the same key and
// version, with no erasure between, it reuses that call's look-up.
func (b *Builder) Apply(c OrderChange) error {
	s, old, ok, err := b.stage(c, true)
	if err != nil || !ok {
		return err
	}
	o := &s
	ch := b.changes
	ch.replace(old, o)
	ch.byKey[c.Key] = o
	if ch.puts != nil && o.gross != 0 && o.lines[0].Customer != "" {
		cust := o.lines[0].Customer
		ch.puts[cust] = append(ch.puts[cust], c.Key)
	}
	return nil
}

// CheckApply returns the error [Builder.Apply] would return for c, or,
// when c would be staged, an error wrapping [ErrInvalid] and
// [ErrMoneyRange] if staging it would leave [Builder.Gross] beyond
// [MaxMoney], so that Build might refuse the Builder; it stages nothing.
// A loader checks each put with it before applying it, so that a put it
// refuses has an input row to show for it. A put that replaces an order
// of the base History is counted in its place, and one that adds nothing
// at Build — it loses to the base's version of its key, or its customer
// is erased in the Builder — counts nothing (see Gross): a feed that
// reads an order again, changed, unchanged or older, is checked against
// what Build holds. Gross is exact but for lines added with
// [Builder.Add] that Build drops, so CheckApply refuses a put that Build
// would take only in their presence. It takes time linear in the number
// of c's lines and in those of the base's orders of its key.
func (b *Builder) CheckApply(c OrderChange) error {
	o, old, ok, err := b.stage(c, false)
	if err != nil || !ok {
		return err
	}
	ch := b.changes
	displaced := ch.displaced + o.displaced
	if old != nil {
		displaced -= old.displaced
	}
	if _, ok := sumGross(b.held(), displaced, ch.grossWith(old, &o)); !ok {
		return outOfRange(ErrInvalid, "order %q: gross value of all lines beyond %v", c.Key, MaxMoney)
	}
	return nil
}

// stage returns the staged change Apply makes of c, with the staged
// change of its key it replaces (nil: none); ok is false when that one
// wins over c, err is Apply's error. With keep false, the change holds
// no lines.
func (b *Builder) stage(c OrderChange, keep bool) (o stagedOrder, old *stagedOrder, ok bool, err error) {
	if c.Key == "" {
		return o, nil, false, fmt.Errorf("%w: order change without order id", ErrInvalid)
	}
	if c.Version < 0 {
		return o, nil, false, fmt.Errorf("%w: order %q: negative version %d (versions are 0, no version, or above)", ErrInvalid, c.Key, c.Version)
	}
	del := c.Delete || len(c.Lines) == 0
	var lines []Purchase
	var gross Money // of the lines, MaxMoney+1 (as a uint64) beyond MaxMoney
	grossOK := true
	if !del {
		if keep {
			lines = make([]Purchase, len(c.Lines))
		}
		for i, p := range c.Lines {
			if err := checkPurchase(p); err != nil {
				return o, nil, false, pkgerr.Wrap("affinity", fmt.Sprintf("order %q line %d", c.Key, i+1), err)
			}
			v, ok := p.Price.Mul(int64(p.Quantity))
			if !ok {
				return o, nil, false, outOfRange(ErrInvalid, "order %q line %d: %d × %v is out of range", c.Key, i+1, p.Quantity, p.Price)
			}
			if grossOK {
				gross, grossOK = gross.Add(max(v, -v))
			}
			switch {
			case p.Order != "" && p.Order != c.Key:
				return o, nil, false, fmt.Errorf("%w: order %q line %d belongs to order %q", ErrInvalid, c.Key, i+1, p.Order)
			case p.Customer != c.Lines[0].Customer:
				return o, nil, false, fmt.Errorf("%w: order %q has lines of customers %q and %q", ErrInvalid, c.Key, c.Lines[0].Customer, p.Customer)
			}
			if keep {
				p.Order = c.Key
				lines[i] = p
			}
		}
	}
	ch := b.staged()
	old = ch.byKey[c.Key]
	if old != nil && (c.Version < old.version || c.Version == old.version && old.del && !del) {
		return o, old, false, nil
	}
	o = stagedOrder{version: c.Version, del: del, lines: lines, gross: uint64(gross)}
	o.displaced, o.loses = b.displaced(c.Key, c.Version)
	switch {
	case del || o.loses:
		o.gross = 0 // adds nothing at Build
	case c.Lines[0].Customer != "" && ch.isErased(c.Lines[0].Customer):
		o.gross = 0 // a delete at Build
	case !grossOK:
		o.gross = uint64(MaxMoney) + 1
	}
	return o, old, true, nil
}

func (ch *orderChanges) isErased(cust string) bool {
	_, ok := ch.erased[cust]
	return ok
}

// displaced returns the gross value of the lines of the base History's
// orders of key that a change of key at version drops at Build, those
// of customers erased in the Builder left out (the erasure counts them),
// and whether the change loses to the version the base holds of key
// (see resolve; that version is History.keyVersion's, found in the same
// pass over the key's orders): it drops nothing then. Lines added with
// key in this Builder, which the change drops too, are not counted:
// Gross stays an upper bound. It keeps its last answer until an erasure,
// so that CheckApply then Apply of one change, as a loader calls them,
// look the key up in the base once.
func (b *Builder) displaced(key string, version int64) (g uint64, loses bool) {
	base := b.baseHistory()
	if base == nil {
		return 0, false
	}
	ch := b.staged()
	if m := &ch.last; m.key != "" && m.key == key && m.version == version {
		return m.g, m.loses
	}
	// the version base holds of key (0 in an unversioned base, which no
	// change loses to), and the gross of its orders
	held, ok := base.keyOrders(key, func(o uint32) {
		if c := base.orderCust[o]; c != anonBucket && len(ch.erased) > 0 && ch.isErased(base.CustomerKey(CustomerID(c))) {
			return
		}
		g += orderGross(base, o)
	})
	if ok && version < held {
		g, loses = 0, true
	}
	ch.last = displacedMemo{key: key, version: version, g: g, loses: loses}
	return g, loses
}

// baseHistory returns the History the Builder was made on, nil if none.
func (b *Builder) baseHistory() *History {
	if b.base != nil {
		return b.base
	}
	return b.over
}

// orderGross returns the sum of the absolute values of order o's lines.
func orderGross(h *History, o uint32) uint64 {
	var g Money
	for i := h.orderOff[o]; i < h.orderOff[o+1]; i++ {
		v := Money(h.lineQty[i]) * h.linePrice[i] // fits: Add checked it
		g += max(v, -v)                           // fits: within h.gross
	}
	return uint64(g)
}

// EraseCustomer stages the erasure of customer key, as a data-protection
// request demands: at [Builder.Build] every order line and event of the
// customer — from the base History, added before or after this call, or
// staged by a put — is dropped with the orders' versions, and the key is
// removed from the id table.
// The customer's dense id stays allocated so that the ids of everyone else
// do not move: in the next History it has the empty key, no orders and no
// events, and [History.LookupCustomer] no longer finds key. Products and
// categories stay. A put's customer and products enter the History at
// Build only when the put survives: a put of an erased customer adds
// neither (it is a delete of its order), where an [Builder.Add] has
// numbered the customer and the products at the call. A catalog entry
// given with [Builder.AddProduct] is the product's whatever the puts:
// a loader that describes the products of the orders it puts (as the
// dataset package's order formats do) gives an erased customer's
// products their entries. Erasing an unknown
// customer is not an error. [Builder.Gross] drops at once the customer's
// lines of the base History and of the staged puts, not those added
// with Add. It takes time linear in the number of the customer's lines
// in the base History and, on the Builder's first erasure, in the number
// of staged changes; the rest of the work happens at Build, in time
// linear in the Builder's contents.
func (b *Builder) EraseCustomer(key string) {
	if key == "" {
		return
	}
	ch := b.staged()
	if ch.isErased(key) {
		return
	}
	ch.erased[key] = struct{}{}
	ch.last = displacedMemo{} // the erased customer's base orders are left out from now on
	if ch.puts == nil {
		ch.puts = make(map[string][]string)
		for k, o := range ch.byKey {
			if o.gross != 0 && o.lines[0].Customer != "" {
				ch.puts[o.lines[0].Customer] = append(ch.puts[o.lines[0].Customer], k)
			}
		}
	}
	for _, k := range ch.puts[key] {
		if o := ch.byKey[k]; o != nil && o.gross != 0 && o.lines[0].Customer == key {
			ch.gross = ch.grossWith(o, &stagedOrder{})
			o.gross = 0 // a delete at Build
		}
	}
	delete(ch.puts, key)
	base := b.baseHistory()
	if base == nil {
		return
	}
	c, ok := base.LookupCustomer(key)
	if !ok {
		return
	}
	lo, hi := base.CustomerOrders(c)
	for o := uint32(lo); o < uint32(hi); o++ {
		g := orderGross(base, o)
		if s := ch.byKey[base.OrderKey(OrderID(o))]; s != nil && !s.loses {
			s.displaced -= g // the erasure counts it now, s's successors leave it out
		} else {
			ch.displaced += g
		}
	}
}

// change reports whether the staged changes, resolved against base
// (resolve), change base, to which nothing else was added: a tombstone
// set or removed does; a put does (but one of a customer erased too,
// which only deletes); a delete only of an order base holds, an erasure
// only of a customer base knows. So a feed that resends changes already
// applied, or older ones, costs no rebuild.
func (ch *orderChanges) change(base *History) bool {
	if ch == nil {
		return false
	}
	if len(ch.tomb) > 0 || len(ch.untomb) > 0 {
		return true
	}
	for k := range ch.erased {
		if _, ok := base.LookupCustomer(k); ok {
			return true
		}
	}
	for k, o := range ch.byKey {
		if !o.del {
			if _, erased := ch.erased[o.lines[0].Customer]; !erased {
				return true
			}
			// an erased customer's put adds nothing: a delete of k
		}
		if _, ok := base.LookupOrder(k); ok {
			return true
		}
	}
	return false
}

func (b *Builder) staged() *orderChanges {
	if b.changes == nil {
		b.changes = &orderChanges{byKey: make(map[string]*stagedOrder), erased: make(map[string]struct{})}
	}
	return b.changes
}

// checkPurchase returns the error Add returns for a line it refuses.
func checkPurchase(p Purchase) error {
	switch {
	case p.Product == "":
		return fmt.Errorf("%w: purchase without product id", ErrInvalid)
	case p.Time.IsZero():
		return fmt.Errorf("%w: purchase of %q without time", ErrInvalid, p.Product)
	case !ValidTime(p.Time):
		return fmt.Errorf("%w: purchase of %q at %v, outside 1970-01-01..2106-02-07 UTC", ErrInvalid, p.Product, p.Time.UTC())
	case p.Quantity == 0:
		return fmt.Errorf("%w: purchase of %q with quantity 0", ErrInvalid, p.Product)
	case p.Price < 0:
		return fmt.Errorf("%w: purchase of %q with negative price %v", ErrInvalid, p.Product, p.Price)
	}
	return nil
}

// applyChanges applies the staged changes to the staging columns: it
// drops the groups of replaced, deleted and erased orders and the events
// of erased customers, turns erased customers into tombstones, and adds
// the surviving puts in (version, key) order.
func (b *Builder) applyChanges() (erased []bool, err error) {
	ch := b.changes
	if ch == nil {
		return nil, nil
	}
	b.changes = nil
	erased = make([]bool, b.customers.len())
	var tomb []uint32
	for key := range ch.erased {
		if id, ok := b.customers.lookup(key); ok {
			erased[id] = true
			tomb = append(tomb, id)
		}
	}
	isErased := func(c uint32) bool { return c != anonBucket && erased[c] }

	// Drop groups of changed orders and erased customers, then their lines.
	ng := len(b.gCust)
	remap := make([]uint32, ng)
	w := 0
	for g := range ng {
		_, changed := ch.byKey[b.gKey[g]]
		if (changed && b.gKey[g] != "") || isErased(b.gCust[g]) {
			remap[g] = anonBucket
			b.merge.drop(b.gCust[g], g)
			continue
		}
		remap[g] = uint32(w)
		b.gCust[w], b.gKey[w], b.gUnix[w] = b.gCust[g], b.gKey[g], b.gUnix[g]
		if b.gVersion != nil {
			b.gVersion[w] = b.gVersion[g]
		}
		w++
	}
	b.merge.compact()
	if w < ng {
		clear(b.gKey[w:]) // release the strings
		b.gCust, b.gKey, b.gUnix = b.gCust[:w], b.gKey[:w], b.gUnix[:w]
		if b.gVersion != nil {
			b.gVersion = b.gVersion[:w]
		}
		w = 0
		for i, g := range b.lGroup {
			if remap[g] == anonBucket {
				v := Money(b.lQty[i]) * b.lPrice[i] // fits: Add checked it
				b.gross -= max(v, -v)
				continue
			}
			b.lGroup[w], b.lProduct[w], b.lQty[w], b.lPrice[w] = remap[g], b.lProduct[i], b.lQty[i], b.lPrice[i]
			w++
		}
		b.lGroup, b.lProduct, b.lQty, b.lPrice = b.lGroup[:w], b.lProduct[:w], b.lQty[:w], b.lPrice[:w]
	}
	if len(tomb) > 0 {
		w = 0
		for i, c := range b.eCust {
			if erased[c] {
				continue
			}
			b.eCust[w], b.eProduct[w], b.eUnix[w], b.eKind[w], b.eWeight[w] = c, b.eProduct[i], b.eUnix[i], b.eKind[i], b.eWeight[i]
			w++
		}
		b.eCust, b.eProduct, b.eUnix, b.eKind, b.eWeight = b.eCust[:w], b.eProduct[:w], b.eUnix[:w], b.eKind[:w], b.eWeight[:w]
		b.ownCustomers()
		b.customers.erase(tomb)
	}
	// The caches may name dropped groups or erased customers.
	b.lastCust, b.lastProd, b.lastOrder = "", "", ""
	b.haveGroup = false

	keys := slices.Collect(maps.Keys(ch.byKey))
	slices.SortFunc(keys, func(x, y string) int {
		return cmp.Or(cmp.Compare(ch.byKey[x].version, ch.byKey[y].version), cmp.Compare(x, y))
	})
	for _, key := range keys {
		o := ch.byKey[key]
		if o.del {
			continue
		}
		if _, gone := ch.erased[o.lines[0].Customer]; gone {
			continue
		}
		b.haveGroup = false // a put is one order, never joined to the one before
		for _, p := range o.lines {
			if err := b.Add(p); err != nil {
				return nil, pkgerr.Wrap("affinity", fmt.Sprintf("staged order %q", key), err) // only ErrMoneyRange: Apply checked the rest
			}
		}
		b.setGroupVersion(b.lastGroup, o.version) // the lines of a put are one group
	}
	b.haveGroup = false
	return erased, nil
}

// erase removes the keys of ids from the table; their ids keep the empty
// key and are never found again. O(len(t.slots)).
func (t *keyTable) erase(ids []uint32) {
	for _, id := range ids {
		t.keys[id] = ""
	}
	old := t.slots
	t.slots = make([]keySlot, len(old))
	mask := len(old) - 1
	for _, s := range old {
		if s.meta == 0 {
			continue
		}
		k := t.keys[uint32(s.meta)-1]
		if k == "" {
			continue
		}
		i := int(maphash.String(keySeed, k) >> t.shift)
		for t.slots[i].meta != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}
