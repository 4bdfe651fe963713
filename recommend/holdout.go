package recommend

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/shopaffinity/affinity"
)

// Holdout is how [Tune] holds out the data it validates on.
type Holdout int

const (
	// HoldoutTime holds out the last Grid.Validation before asOf: the
	// candidates see the past and are scored on the future, as a shop's
	// engine is (the default).
	HoldoutTime Holdout = iota
	// HoldoutRandom holds out a random quarter of each validation
	// customer's products (at least one, of customers with at least
	// MinHoldoutProducts), whenever they were bought: the protocol of
	// rating benchmarks such as MovieLens, whose test splits are random.
	// Tune on the data it will be judged on: with a random test split,
	// a time holdout rewards recency that the test does not.
	HoldoutRandom
)

// String returns "time" or "random".
func (h Holdout) String() string {
	switch h {
	case HoldoutTime:
		return "time"
	case HoldoutRandom:
		return "random"
	}
	return fmt.Sprintf("Holdout(%d)", int(h))
}

// MinHoldoutProducts is the fewest distinct products a customer needs to
// be a validation customer of [HoldoutRandom].
const MinHoldoutProducts = 4

// randomHoldout returns the validation set of HoldoutRandom and the
// History without the held-out products of the validation customers (their
// purchase lines and events of those products; everything else, the
// catalog and later data included, is kept). Products count as
// interactions as in the engine: bought with a positive quantity, or rated,
// at or before asOf; non-merchandise (g.Base.Exclude) is none.
func randomHoldout(ctx context.Context, h *affinity.History, asOf time.Time, g Grid) (*validation, *affinity.History, error) {
	at := asOf.Unix()
	excl := bitsetOf(g.Base.Exclude, h.Catalog().NumProducts())
	v := &validation{from: asOf, off: []int32{0}, idcg: idcgTable(g.K)}
	// the products each customer interacted with, distinct and sorted
	var items []affinity.ProductID
	products := func(c affinity.CustomerID) []affinity.ProductID {
		items = items[:0]
		interactions(h, c, at, excl, func(_ int64, p affinity.ProductID) { items = append(items, p) })
		slices.Sort(items)
		return slices.Compact(items)
	}
	var cands []affinity.CustomerID
	for c := range h.NumCustomers() {
		if len(products(affinity.CustomerID(c))) >= MinHoldoutProducts {
			cands = append(cands, affinity.CustomerID(c))
		}
	}
	held := make(map[affinity.CustomerID][]affinity.ProductID)
	if len(cands) > g.MaxCustomers {
		for i, j := range sample(len(cands), g.MaxCustomers) {
			cands[i] = cands[j]
		}
		cands = cands[:g.MaxCustomers]
	}
	for _, c := range cands {
		ps := slices.Clone(products(c))
		rng := rand.New(rand.NewPCG(g.Seed, uint64(c)))
		rng.Shuffle(len(ps), func(a, b int) { ps[a], ps[b] = ps[b], ps[a] })
		out := ps[:max(1, len(ps)/4)]
		slices.Sort(out)
		held[c] = out
		v.users = append(v.users, c)
		v.rel = append(v.rel, out...)
		v.off = append(v.off, int32(len(v.rel)))
	}
	if len(v.users) == 0 {
		return v, nil, nil
	}
	// the History again, without the held-out pairs: the catalog first, then
	// its purchases and events (History.Purchases rebuilds the same orders)
	cat := h.Catalog()
	heldKeys := make(map[string][]string, len(held)) // customer key → product keys, sorted
	for c, ps := range held {
		for _, p := range ps {
			heldKeys[h.CustomerKey(c)] = append(heldKeys[h.CustomerKey(c)], cat.ProductKey(p))
		}
		slices.Sort(heldKeys[h.CustomerKey(c)])
	}
	isHeld := func(customer, product string) bool {
		_, ok := slices.BinarySearch(heldKeys[customer], product)
		return ok
	}
	var b affinity.Builder
	for p := range cat.NumProducts() {
		if err := b.AddProduct(cat.Product(affinity.ProductID(p))); err != nil {
			return nil, nil, err
		}
	}
	n := 0
	for p := range h.Purchases() {
		if n++; n%(1<<16) == 0 {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
		}
		if p.Customer != "" && isHeld(p.Customer, p.Product) {
			continue
		}
		if err := b.Add(p); err != nil {
			return nil, nil, err
		}
	}
	for e := range h.Events() {
		if isHeld(e.Customer, e.Product) {
			continue
		}
		if err := b.AddEvent(e); err != nil {
			return nil, nil, err
		}
	}
	train, err := b.Build(ctx)
	if err != nil {
		return nil, nil, err
	}
	// ids in train by key: a customer with only events, or without any
	// record (erased), may have another id there
	for i, c := range v.users {
		tc, ok := train.LookupCustomer(h.CustomerKey(c))
		if !ok {
			return nil, nil, fmt.Errorf("recommend: tune: holdout lost customer %q", h.CustomerKey(c))
		}
		v.users[i] = tc
	}
	tcat := train.Catalog() // copied in id order: the same ids, found by key all the same
	for i, p := range v.rel {
		tp, ok := tcat.LookupProduct(cat.ProductKey(p))
		if !ok {
			return nil, nil, fmt.Errorf("recommend: tune: holdout lost product %q", cat.ProductKey(p))
		}
		v.rel[i] = tp
	}
	for u := range v.users {
		slices.Sort(v.rel[v.off[u]:v.off[u+1]])
	}
	return v, train, nil
}
