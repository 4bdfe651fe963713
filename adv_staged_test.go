package affinity_test

// Adversarial tests of a Builder on a base History with staged changes
// (Apply, PutOrder, DeleteOrder, EraseCustomer) mixed in every order with
// Add, AddEvent, AddProduct, AddCategory and the reads (HasProduct,
// Check, CheckProduct, Len, Grow), refused calls included. Every Build is
// compared with a naive model of the lines written from the documentation
// and with the same calls made on a Builder over a copy of the base
// rebuilt from scratch (History.Purchases, History.Events, the catalog).

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var stgT0 = time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)

// stgLine is a line of the model: customer key ("" anonymous), order key,
// and the version of the put that added it (0 for Add).
type stgLine struct {
	cust, key string
	unix      int64
	prod      string
	qty       int32
	price     affinity.Money
	ver       int64
}

type stgEvent struct {
	cust, prod string
	unix       int64
	kind       affinity.EventKind
	weight     float32
}

// stgModel is the naive History.
type stgModel struct {
	custs  []string // by id; "" once erased
	custID map[string]int
	prods  []string
	prodID map[string]int
	desc   map[string]affinity.Product // every product; cleaned categories
	entry  map[string]bool             // products added with AddProduct
	cats   []string                    // category paths by id
	catID  map[string]int
	lines  []stgLine
	events []stgEvent
	tomb   map[string]int64 // versions of deleted order keys
}

func newStgModel() *stgModel {
	return &stgModel{custID: map[string]int{}, prodID: map[string]int{}, desc: map[string]affinity.Product{}, catID: map[string]int{},
		tomb: map[string]int64{}, entry: map[string]bool{}}
}

// keyVersion returns the version of the latest change of key the model
// holds, and whether it was a delete (see verState).
func (m *stgModel) keyVersion(key string) (v int64, del, ok bool) {
	t, dead := m.tomb[key]
	return verState(verFirstVersions(m.lines, key, func(l stgLine) (string, string, int64) { return l.key, l.cust, l.ver }), t, dead)
}

func (m *stgModel) clone() *stgModel {
	return &stgModel{custs: slices.Clone(m.custs), custID: maps.Clone(m.custID), prods: slices.Clone(m.prods),
		prodID: maps.Clone(m.prodID), desc: maps.Clone(m.desc), cats: slices.Clone(m.cats), catID: maps.Clone(m.catID),
		lines: slices.Clone(m.lines), events: slices.Clone(m.events), tomb: maps.Clone(m.tomb), entry: maps.Clone(m.entry)}
}

func (m *stgModel) customer(k string) {
	if k == "" {
		return
	}
	if _, ok := m.custID[k]; !ok {
		m.custID[k] = len(m.custs)
		m.custs = append(m.custs, k)
	}
}

func (m *stgModel) product(k string) {
	if _, ok := m.prodID[k]; !ok {
		m.prodID[k] = len(m.prods)
		m.prods = append(m.prods, k)
		m.desc[k] = affinity.Product{Key: k, InStock: true}
	}
}

// category adds a cleaned path and its ancestors in order.
func (m *stgModel) category(clean string) {
	levels := strings.Split(clean, "/")
	for i := range levels {
		n := strings.Join(levels[:i+1], "/")
		if _, ok := m.catID[n]; !ok {
			m.catID[n] = len(m.cats)
			m.cats = append(m.cats, n)
		}
	}
}

// stgOp is one Builder call.
type stgOp struct {
	kind     string // add, event, product, category, change, erase, check, checkproduct, has, len, grow
	purchase affinity.Purchase
	checks   []affinity.Purchase
	event    affinity.Event
	product  affinity.Product
	path     string
	change   affinity.OrderChange
	key      string
	n        int
}

func (op stgOp) String() string {
	rel := func(t time.Time) int64 { return (t.Unix() - stgT0.Unix()) / 3600 }
	switch op.kind {
	case "add":
		p := op.purchase
		return fmt.Sprintf("Add(%s,%s,%s,%d,%d,%d)", p.Customer, p.Product, p.Order, rel(p.Time), p.Quantity, p.Price)
	case "event":
		return fmt.Sprintf("AddEvent(%s,%s,%d,%v,%v)", op.event.Customer, op.event.Product, rel(op.event.Time), op.event.Kind, op.event.Weight)
	case "product":
		return fmt.Sprintf("AddProduct(%+v)", op.product)
	case "category":
		return fmt.Sprintf("AddCategory(%q)", op.path)
	case "change":
		c := op.change
		if c.Delete || len(c.Lines) == 0 {
			return fmt.Sprintf("Delete(%q,v%d)", c.Key, c.Version)
		}
		var ls []string
		for _, p := range c.Lines {
			ls = append(ls, fmt.Sprintf("%s:%s:%s:%d:%d", p.Customer, p.Product, p.Order, rel(p.Time), p.Quantity))
		}
		return fmt.Sprintf("Put(%q,v%d,%v)", c.Key, c.Version, ls)
	case "erase":
		return fmt.Sprintf("Erase(%q)", op.key)
	case "check":
		return fmt.Sprintf("Check(%d lines)", len(op.checks))
	case "checkproduct":
		return fmt.Sprintf("CheckProduct(%+v)", op.product)
	case "has":
		return fmt.Sprintf("HasProduct(%q)", op.key)
	case "grow":
		return fmt.Sprintf("Grow(%d)", op.n)
	}
	return op.kind
}

// stgPaths has paths that clean to the same node, and one that cleans to
// nothing.
var stgPaths = []string{"A", "A/B", " A / B /C", "D", "D/E", "A//B", " / "}

type stgGen struct {
	r     *rand.Rand
	nCust int
	nProd int
	nKey  int
	nTime int
}

func (g *stgGen) cust() string {
	if g.r.IntN(6) == 0 {
		return ""
	}
	return fmt.Sprintf("c%d", g.r.IntN(g.nCust))
}
func (g *stgGen) prod() string { return fmt.Sprintf("p%d", g.r.IntN(g.nProd)) }
func (g *stgGen) key() string  { return fmt.Sprintf("k%d", g.r.IntN(g.nKey)) }
func (g *stgGen) when() time.Time {
	return stgT0.Add(time.Duration(g.r.IntN(g.nTime))*time.Hour + time.Duration(g.r.IntN(3))*time.Millisecond)
}
func (g *stgGen) version() int64 {
	vs := []int64{0, 0, 0, 1, 1, 2, 3, math.MaxInt64 - 1, math.MaxInt64}
	return vs[g.r.IntN(len(vs))]
}

func (g *stgGen) line(c, order string) affinity.Purchase {
	q := int32(1 + g.r.IntN(3))
	if g.r.IntN(5) == 0 {
		q = -q
	}
	return affinity.Purchase{Customer: c, Product: g.prod(), Order: order, Time: g.when(), Quantity: q,
		Price: affinity.Money(g.r.IntN(4) * 2500)}
}

// spoil makes p a line Add refuses.
func (g *stgGen) spoil(p affinity.Purchase) affinity.Purchase {
	switch g.r.IntN(5) {
	case 0:
		p.Quantity = 0
	case 1:
		p.Product = ""
	case 2:
		p.Time = time.Time{}
	case 3:
		p.Price = -1
	default:
		p.Time = time.Unix(affinity.MaxUnix+1, 0)
	}
	return p
}

func (g *stgGen) desc() affinity.Product {
	r := g.r
	p := affinity.Product{Key: g.prod()}
	if r.IntN(3) > 0 {
		p.Name = fmt.Sprintf("n%d", r.IntN(2))
	}
	if r.IntN(3) == 0 {
		p.Price = affinity.Money(r.IntN(2) * 100)
	}
	p.InStock = r.IntN(3) > 0
	perm := r.Perm(len(stgPaths))
	for _, i := range perm[:r.IntN(3)] {
		p.Categories = append(p.Categories, stgPaths[i])
	}
	return p
}

// op draws one call. quiet draws only calls that change nothing of a base
// built by the same generator: reads, refused calls, erasures and deletes
// of keys nobody holds, puts deleted again by a later delete.
func (g *stgGen) op(quiet bool) []stgOp {
	r := g.r
	if quiet {
		switch r.IntN(9) {
		case 0:
			p := g.spoil(g.line(g.cust(), g.key()))
			return []stgOp{{kind: "check", checks: []affinity.Purchase{p}}, {kind: "add", purchase: p}}
		case 1:
			return []stgOp{{kind: "erase", key: fmt.Sprintf("x%d", r.IntN(3))}}
		case 2:
			return []stgOp{{kind: "change", change: affinity.OrderChange{Key: fmt.Sprintf("q%d", r.IntN(3)), Version: g.version(), Delete: true}}}
		case 3:
			// a put and a delete of a key nobody holds, in either order; the
			// delete's version at least the put's
			c := g.cust()
			key := fmt.Sprintf("q%d", r.IntN(3))
			lines := []affinity.Purchase{g.line(c, ""), g.line(c, key)}
			v := int64(r.IntN(3))
			put := stgOp{kind: "change", change: affinity.OrderChange{Key: key, Version: v, Lines: lines}}
			del := stgOp{kind: "change", change: affinity.OrderChange{Key: key, Version: v + int64(r.IntN(2)), Delete: r.IntN(4) > 0}}
			if r.IntN(2) == 0 {
				return []stgOp{put, del}
			}
			return []stgOp{del, put}
		case 4:
			return []stgOp{{kind: "has", key: g.prod()}, {kind: "len"}, {kind: "grow", n: r.IntN(5)}}
		case 5:
			p := g.desc()
			p.Price = -1
			return []stgOp{{kind: "checkproduct", product: p}, {kind: "product", product: p}}
		case 6:
			return []stgOp{{kind: "category", path: " / "}}
		case 7:
			bad := []affinity.Purchase{g.line("c0", ""), g.line("c1", "")}
			return []stgOp{{kind: "change", change: affinity.OrderChange{Key: g.key(), Version: g.version(), Lines: bad}}}
		default:
			return []stgOp{{kind: "event", event: affinity.Event{Customer: g.cust(), Product: g.prod(), Time: g.when(), Kind: 9, Weight: 1}}}
		}
	}
	switch k := r.IntN(24); {
	case k < 5:
		order := g.key()
		if r.IntN(3) == 0 {
			order = ""
		}
		p := g.line(g.cust(), order)
		if r.IntN(6) == 0 {
			p = g.spoil(p)
		}
		ops := []stgOp{{kind: "check", checks: []affinity.Purchase{p}}, {kind: "add", purchase: p}}
		if r.IntN(3) == 0 { // a multi-line Check
			q := g.line(g.cust(), order)
			if r.IntN(2) == 0 {
				q = g.spoil(q)
			}
			ops[0].checks = append(ops[0].checks, q)
		}
		return ops
	case k < 7:
		e := affinity.Event{Customer: g.cust(), Product: g.prod(), Time: g.when(), Kind: affinity.EventKind(1 + r.IntN(4)), Weight: float32(r.IntN(3))}
		if r.IntN(5) == 0 {
			e.Weight = float32(math.NaN())
		}
		return []stgOp{{kind: "event", event: e}}
	case k < 9:
		p := g.desc()
		if r.IntN(8) == 0 {
			p.Key = ""
		}
		return []stgOp{{kind: "checkproduct", product: p}, {kind: "product", product: p}, {kind: "has", key: p.Key}}
	case k < 10:
		return []stgOp{{kind: "category", path: stgPaths[r.IntN(len(stgPaths))] + []string{"", "/Z"}[r.IntN(2)]}}
	case k < 16:
		c := g.cust()
		key := g.key()
		lines := make([]affinity.Purchase, 1+r.IntN(3))
		for i := range lines {
			o := ""
			if r.IntN(2) == 0 {
				o = key
			}
			lines[i] = g.line(c, o)
		}
		switch r.IntN(10) {
		case 0:
			lines[0].Order = "other"
		case 1:
			lines[0] = g.spoil(lines[0])
		case 2:
			key = ""
		case 3:
			lines = nil // a put without lines is a delete
		}
		return []stgOp{{kind: "change", change: affinity.OrderChange{Key: key, Version: g.version(), Lines: lines}}}
	case k < 19:
		key := g.key()
		if r.IntN(4) == 0 {
			key = fmt.Sprintf("q%d", r.IntN(3)) // nobody's
		}
		if r.IntN(10) == 0 {
			key = ""
		}
		return []stgOp{{kind: "change", change: affinity.OrderChange{Key: key, Version: g.version(), Delete: true}}}
	case k < 21:
		return []stgOp{{kind: "erase", key: fmt.Sprintf("c%d", r.IntN(g.nCust+1))}}
	case k < 22:
		return []stgOp{{kind: "has", key: g.prod()}, {kind: "len"}}
	default:
		return []stgOp{{kind: "grow", n: r.IntN(10)}}
	}
}

// stgStage is the Builder state the model keeps between calls.
type stgStage struct {
	m       *stgModel
	base    *stgModel // the model of the base (nil: none)
	baseN   int       // lines of the base
	added   int       // lines added since
	changes map[string]affinity.OrderChange
	erased  map[string]bool
	defined map[string]bool // AddProduct in this Builder
	touched map[string]bool // customer keys named by a call
	anon    bool            // a call named an anonymous line
}

func newStgStage(m *stgModel, baseLines int) *stgStage {
	return &stgStage{m: m.clone(), base: m, baseN: baseLines, changes: map[string]affinity.OrderChange{},
		erased: map[string]bool{}, defined: map[string]bool{}, touched: map[string]bool{}}
}

// stgValidLine is Builder.Add's documented refusal rule (money range aside).
func stgValidLine(p affinity.Purchase) bool {
	return p.Product != "" && !p.Time.IsZero() && affinity.ValidTime(p.Time) && p.Quantity != 0 && p.Price >= 0
}

// do makes call op on b, checks its answer against the model and records
// it there.
func (s *stgStage) do(t *testing.T, b *affinity.Builder, op stgOp, what string) {
	t.Helper()
	m := s.m
	switch op.kind {
	case "add":
		err := b.Add(op.purchase)
		if !stgValidLine(op.purchase) {
			require.ErrorIs(t, err, affinity.ErrInvalid, what)
			return
		}
		require.NoError(t, err, what)
		p := op.purchase
		m.customer(p.Customer)
		m.product(p.Product)
		m.lines = append(m.lines, stgLine{p.Customer, p.Order, p.Time.Unix(), p.Product, p.Quantity, p.Price, 0})
		s.added++
		s.touch(p.Customer)
	case "check":
		err := b.Check(op.checks...)
		// the error Add would return for the first line it refuses
		var want error
		for _, p := range op.checks {
			if !stgValidLine(p) {
				c := affinity.NewBuilder(nil)
				want = c.Add(p)
				require.Error(t, want, what)
				break
			}
		}
		if want == nil {
			require.NoError(t, err, what)
		} else {
			require.ErrorIs(t, err, affinity.ErrInvalid, what)
			assert.Equal(t, want.Error(), err.Error(), "%s: Check gives Add's error", what)
		}
	case "event":
		e := op.event
		err := b.AddEvent(e)
		if e.Customer == "" || e.Product == "" || !e.Kind.Valid() || math.IsNaN(float64(e.Weight)) || math.IsInf(float64(e.Weight), 0) || !affinity.ValidTime(e.Time) {
			require.ErrorIs(t, err, affinity.ErrInvalid, what)
			return
		}
		require.NoError(t, err, what)
		m.customer(e.Customer)
		m.product(e.Product)
		m.events = append(m.events, stgEvent{e.Customer, e.Product, e.Time.Unix(), e.Kind, e.Weight})
		s.touch(e.Customer)
	case "product", "checkproduct":
		p := op.product
		var err error
		if op.kind == "product" {
			err = b.AddProduct(p)
		} else {
			err = b.CheckProduct(p)
		}
		if p.Key == "" || p.Price < 0 {
			require.ErrorIs(t, err, affinity.ErrInvalid, what)
			return
		}
		require.NoError(t, err, what)
		if op.kind == "checkproduct" {
			return
		}
		m.product(p.Key)
		var cats []string
		for _, path := range p.Categories {
			if c := affinity.CleanCategoryPath(path); c != "" {
				m.category(c)
				if !slices.Contains(cats, c) {
					cats = append(cats, c)
				}
			}
		}
		p.Categories = cats
		m.desc[p.Key] = p
		m.entry[p.Key] = true
		s.defined[p.Key] = true
	case "category":
		id, err := b.AddCategory(op.path)
		clean := affinity.CleanCategoryPath(op.path)
		if clean == "" {
			require.ErrorIs(t, err, affinity.ErrInvalid, what)
			return
		}
		require.NoError(t, err, what)
		m.category(clean)
		assert.Equal(t, affinity.CategoryID(m.catID[clean]), id, "%s: AddCategory's id", what)
	case "change":
		c := op.change
		err := b.Apply(c)
		del := c.Delete || len(c.Lines) == 0
		valid := c.Key != ""
		if valid && !c.Delete {
			for _, p := range c.Lines {
				valid = valid && stgValidLine(p) && (p.Order == "" || p.Order == c.Key) && p.Customer == c.Lines[0].Customer
			}
		}
		if !valid {
			require.ErrorIs(t, err, affinity.ErrInvalid, what)
			return
		}
		require.NoError(t, err, what)
		if old, ok := s.changes[c.Key]; ok {
			oldDel := old.Delete || len(old.Lines) == 0
			if c.Version < old.Version || c.Version == old.Version && oldDel && !del {
				return
			}
		}
		if del {
			c.Lines = nil
			c.Delete = true
		} else {
			c.Lines = slices.Clone(c.Lines)
		}
		s.changes[c.Key] = c
	case "erase":
		b.EraseCustomer(op.key)
		s.erased[op.key] = true
	case "has":
		// an entry added here or in any earlier Build, whatever it holds
		assert.Equal(t, m.entry[op.key], b.HasProduct(op.key), "%s: HasProduct(%q)", what, op.key)
	case "len":
		assert.Equal(t, s.baseN+s.added, b.Len(), "%s: Len", what)
	case "grow":
		b.Grow(op.n)
	default:
		t.Fatalf("unknown op %q", op.kind)
	}
}

func (s *stgStage) touch(c string) {
	if c == "" {
		s.anon = true
	} else {
		s.touched[c] = true
	}
}

// build applies the staged changes to the model (Builder.Apply,
// Builder.EraseCustomer) and returns it.
func (s *stgStage) build() *stgModel {
	m := s.m
	// a change that loses to the base's version of its key (a higher one:
	// at equal versions the later Build wins, put or delete) is no change;
	// the others set or clear the key's tombstone
	for k, c := range s.changes {
		if s.base != nil {
			if v, _, ok := s.base.keyVersion(k); ok && c.Version < v {
				delete(s.changes, k)
				continue
			}
		}
		switch {
		case !c.Delete && c.Lines[0].Customer != "" && s.erased[c.Lines[0].Customer]: // an erasure is no versioned change
		case !c.Delete:
			delete(m.tomb, k)
		case c.Version != 0:
			m.tomb[k] = c.Version
		}
	}
	// the owners of the lines a change replaces are touched
	for _, l := range m.lines {
		if _, ok := s.changes[l.key]; ok && l.key != "" {
			s.touch(l.cust)
		}
	}
	for k := range s.erased {
		if id, ok := m.custID[k]; ok {
			m.custs[id] = ""
			delete(m.custID, k)
			s.touched[k] = true
		}
	}
	m.lines = slices.DeleteFunc(m.lines, func(l stgLine) bool {
		_, changed := s.changes[l.key]
		return changed && l.key != "" || l.cust != "" && s.erased[l.cust]
	})
	m.events = slices.DeleteFunc(m.events, func(e stgEvent) bool { return s.erased[e.cust] })
	keys := slices.Collect(maps.Keys(s.changes))
	slices.SortFunc(keys, func(x, y string) int {
		return cmp.Or(cmp.Compare(s.changes[x].Version, s.changes[y].Version), strings.Compare(x, y))
	})
	for _, k := range keys {
		c := s.changes[k]
		if c.Delete {
			continue
		}
		if c.Lines[0].Customer != "" && s.erased[c.Lines[0].Customer] {
			continue
		}
		for _, p := range c.Lines {
			m.customer(p.Customer)
			m.product(p.Product)
			m.lines = append(m.lines, stgLine{p.Customer, k, p.Time.Unix(), p.Product, p.Quantity, p.Price, c.Version})
			s.touch(p.Customer)
		}
	}
	return m
}

// stgOrder is an order of a view.
type stgOrder struct {
	key   string
	unix  int64
	lines []string
	ver   int64
}

func (o stgOrder) String() string {
	if o.ver != 0 {
		return fmt.Sprintf("%s@%d%v v%d", o.key, (o.unix-stgT0.Unix())/60, o.lines, o.ver)
	}
	return fmt.Sprintf("%s@%d%v", o.key, (o.unix-stgT0.Unix())/60, o.lines)
}

// stgCust is everything of one customer ("" key: the anonymous orders).
type stgCust struct {
	orders []string
	events []string
}

// view gives the model's customers by id (index len(custs): anonymous).
func (m *stgModel) view() []stgCust {
	type id struct {
		cust, key string
		unix      int64
	}
	at := map[id]int{}
	var all []stgOrder
	var owner []string
	for _, l := range m.lines {
		k := id{cust: l.cust, key: l.key}
		if l.key == "" {
			k.unix = l.unix
		}
		i, ok := at[k]
		if !ok {
			i = len(all)
			at[k] = i
			all = append(all, stgOrder{key: l.key, unix: l.unix, ver: l.ver})
			owner = append(owner, l.cust)
		}
		all[i].unix = min(all[i].unix, l.unix)
		all[i].lines = append(all[i].lines, fmt.Sprintf("%s:%d:%d", l.prod, l.qty, l.price))
	}
	byCust := make([][]stgOrder, len(m.custs)+1)
	for i, o := range all {
		c := len(m.custs)
		if owner[i] != "" {
			c = m.custID[owner[i]]
		}
		byCust[c] = append(byCust[c], o)
	}
	out := make([]stgCust, len(m.custs)+1)
	for c, os := range byCust {
		slices.SortStableFunc(os, func(a, b stgOrder) int { return cmp.Or(cmp.Compare(a.unix, b.unix), strings.Compare(a.key, b.key)) })
		for _, o := range os {
			out[c].orders = append(out[c].orders, o.String())
		}
	}
	for _, e := range m.events {
		c := m.custID[e.cust]
		out[c].events = append(out[c].events, fmt.Sprintf("%d|%s|%v|%v", e.unix-stgT0.Unix(), e.prod, e.kind, e.weight))
	}
	for c := range out {
		slices.Sort(out[c].events)
	}
	return out
}

func (m *stgModel) summary() affinity.Summary {
	s := affinity.Summary{Customers: len(m.custs), Products: len(m.prods), Categories: len(m.cats), Events: len(m.events)}
	v := m.view()
	first, last := int64(math.MaxInt64), int64(math.MinInt64)
	for c, x := range v {
		s.Orders += len(x.orders)
		if c == len(m.custs) {
			s.AnonymousOrders = len(x.orders)
		}
	}
	buyers := map[string]bool{}
	// order times: earliest line per order
	type id struct {
		cust, key string
		unix      int64
	}
	times := map[id]int64{}
	for _, l := range m.lines {
		k := id{cust: l.cust, key: l.key}
		if l.key == "" {
			k.unix = l.unix
		}
		if t, ok := times[k]; !ok || l.unix < t {
			times[k] = l.unix
		}
		s.Lines++
		val := affinity.Money(l.qty) * l.price
		s.Revenue += val
		if l.qty < 0 {
			s.Returns++
		}
		if l.cust == "" {
			s.AnonymousLines++
		} else {
			s.CustomerRevenue += val
			if l.qty > 0 {
				buyers[l.cust] = true
			}
		}
	}
	for _, t := range times {
		first, last = min(first, t), max(last, t)
	}
	s.Buyers = len(buyers)
	if len(times) > 0 {
		s.First, s.Last = time.Unix(first, 0).UTC(), time.Unix(last, 0).UTC()
	}
	return s
}

// stgViewOf gives h's customers by id, as model.view does (last:
// anonymous).
func stgViewOf(h *affinity.History) []stgCust {
	cat := h.Catalog()
	order := func(o affinity.OrderID) string {
		x := stgOrder{key: h.OrderKey(o), unix: h.OrderUnix(o), ver: h.OrderVersion(o)}
		lo, hi := h.OrderLines(o)
		for i := lo; i < hi; i++ {
			l := h.Line(i)
			x.lines = append(x.lines, fmt.Sprintf("%s:%d:%d", cat.ProductKey(l.Product), l.Quantity, l.Price))
		}
		return x.String()
	}
	out := make([]stgCust, h.NumCustomers()+1)
	for c := range h.NumCustomers() {
		lo, hi := h.CustomerOrders(affinity.CustomerID(c))
		for o := lo; o < hi; o++ {
			out[c].orders = append(out[c].orders, order(o))
		}
		elo, ehi := h.CustomerEvents(affinity.CustomerID(c))
		for i := elo; i < ehi; i++ {
			e := h.Event(i)
			out[c].events = append(out[c].events, fmt.Sprintf("%d|%s|%v|%v", e.Unix-stgT0.Unix(), cat.ProductKey(e.Product), e.Kind, e.Weight))
		}
		slices.Sort(out[c].events)
	}
	lo, hi := h.AnonymousOrders()
	for o := lo; o < hi; o++ {
		out[h.NumCustomers()].orders = append(out[h.NumCustomers()].orders, order(o))
	}
	return out
}

// stgKeyed is a view by customer key, without ids: erased customers
// (key "") and those with neither orders nor events counted, not listed.
func stgKeyed(h *affinity.History) string {
	var sb strings.Builder
	v := stgViewOf(h)
	var rows []string
	erased := 0
	for c := range h.NumCustomers() {
		k := h.CustomerKey(affinity.CustomerID(c))
		if k == "" && len(v[c].orders)+len(v[c].events) > 0 {
			rows = append(rows, fmt.Sprintf("ERASED %d HAS %v", c, v[c]))
		}
		if k == "" || len(v[c].orders)+len(v[c].events) == 0 {
			// erased, or every order deleted: the copy has nothing of them
			erased++
			continue
		}
		rows = append(rows, fmt.Sprintf("%s %v %v", k, v[c].orders, v[c].events))
	}
	slices.Sort(rows)
	for _, r := range rows {
		sb.WriteString(r + "\n")
	}
	fmt.Fprintf(&sb, "anonymous %v\n", v[h.NumCustomers()].orders)
	sb.WriteString(stgCatalog(h.Catalog()))
	for p := range h.Catalog().NumProducts() {
		var keys []string
		for _, c := range h.Buyers(affinity.ProductID(p)).ToArray() {
			keys = append(keys, h.CustomerKey(affinity.CustomerID(c)))
		}
		slices.Sort(keys)
		fmt.Fprintf(&sb, "buyers of %d %q\n", p, keys)
	}
	s := h.Summary()
	s.Customers -= erased
	fmt.Fprintf(&sb, "%+v\n", s)
	return sb.String()
}

func stgCatalog(cat *affinity.Catalog) string {
	var sb strings.Builder
	for p := range cat.NumProducts() {
		d := cat.Product(affinity.ProductID(p))
		if len(d.Categories) == 0 {
			d.Categories = nil
		}
		fmt.Fprintf(&sb, "product %d %+v\n", p, d)
	}
	for c := range cat.NumCategories() {
		fmt.Fprintf(&sb, "category %d %s\n", c, cat.CategoryPath(affinity.CategoryID(c)))
	}
	return sb.String()
}

func (m *stgModel) catalog() string {
	var sb strings.Builder
	for p, k := range m.prods {
		d := m.desc[k]
		if len(d.Categories) == 0 {
			d.Categories = nil
		}
		fmt.Fprintf(&sb, "product %d %+v\n", p, d)
	}
	for c, path := range m.cats {
		fmt.Fprintf(&sb, "category %d %s\n", c, path)
	}
	return sb.String()
}

// check compares h with the model: ids, orders, lines, events, catalog
// and summary.
func (m *stgModel) check(t *testing.T, h *affinity.History, what string) {
	t.Helper()
	require.Equal(t, m.custs, stgCustomerKeys(h), "%s: customer ids", what)
	for k, id := range m.custID {
		got, ok := h.LookupCustomer(k)
		require.True(t, ok && int(got) == id, "%s: LookupCustomer(%q) = %d, %v; want %d", what, k, got, ok, id)
	}
	for i := range 8 {
		k := fmt.Sprintf("c%d", i)
		if _, live := m.custID[k]; !live {
			_, ok := h.LookupCustomer(k)
			require.False(t, ok, "%s: LookupCustomer(%q) of an erased or unknown customer", what, k)
		}
	}
	require.Equal(t, m.catalog(), stgCatalog(h.Catalog()), "%s: catalog", what)
	want, got := m.view(), stgViewOf(h)
	require.Equal(t, len(want), len(got), what)
	for c := range want {
		require.Equal(t, want[c].orders, got[c].orders, "%s: orders of customer %d (last: anonymous)", what, c)
		require.Equal(t, want[c].events, got[c].events, "%s: events of customer %d", what, c)
	}
	require.Equal(t, m.summary(), h.Summary(), "%s: Summary", what)
	buyers := map[string][]uint32{}
	all := map[uint32]bool{}
	for _, l := range m.lines {
		if l.cust == "" || l.qty <= 0 {
			continue
		}
		c := uint32(m.custID[l.cust])
		if !slices.Contains(buyers[l.prod], c) {
			buyers[l.prod] = append(buyers[l.prod], c)
		}
		all[c] = true
	}
	for p, k := range m.prods {
		want := buyers[k]
		slices.Sort(want)
		got := h.Buyers(affinity.ProductID(p)).ToArray()
		if len(want) == 0 {
			assert.Empty(t, got, "%s: Buyers(%s)", what, k)
		} else {
			assert.Equal(t, want, got, "%s: Buyers(%s)", what, k)
		}
	}
	assert.Equal(t, len(all), int(h.AllBuyers().GetCardinality()), "%s: AllBuyers", what)
}

func stgCustomerKeys(h *affinity.History) []string {
	var out []string
	for c := range h.NumCustomers() {
		out = append(out, h.CustomerKey(affinity.CustomerID(c)))
	}
	return out
}

// stgSameModel reports whether two models hold the same History.
func stgSameModel(a, b *stgModel) bool {
	if !slices.Equal(a.custs, b.custs) || a.catalog() != b.catalog() || !maps.Equal(a.tomb, b.tomb) {
		return false
	}
	va, vb := a.view(), b.view()
	for c := range va {
		if !slices.Equal(va[c].orders, vb[c].orders) || !slices.Equal(va[c].events, vb[c].events) {
			return false
		}
	}
	return true
}

// stgCopy rebuilds h from scratch, as History.Purchases documents: the
// category nodes in id order, the products in id order, the purchases,
// then the events; and gives it h's versions of orders and deletes, which
// the calls staged on both must meet alike.
func stgCopy(t *testing.T, h *affinity.History) *affinity.History {
	t.Helper()
	var b affinity.Builder
	cat := h.Catalog()
	for c := range cat.NumCategories() {
		_, err := b.AddCategory(cat.CategoryPath(affinity.CategoryID(c)))
		require.NoError(t, err)
	}
	for p := range cat.NumProducts() {
		require.NoError(t, b.AddProduct(cat.Product(affinity.ProductID(p))))
	}
	for p := range h.Purchases() {
		require.NoError(t, b.Add(p))
	}
	for e := range h.Events() {
		require.NoError(t, b.AddEvent(e))
	}
	c, err := b.Build(context.Background())
	require.NoError(t, err)
	affinity.CopyVersions(c, h)
	return c
}

// stgChangeKeys names the customers of ch by their key in prev, or
// "new:"+key in h for the ids past prev's and those prev holds nothing of
// (which a copy of prev does not have).
func stgChangeKeys(prev, h *affinity.History, ch affinity.Changes) []string {
	var out []string
	for _, c := range ch.Customers {
		if (int(c) >= prev.NumCustomers() || stgEmpty(prev, c)) && stgEmpty(h, c) && h.CustomerKey(c) == "" {
			continue // erased, and prev held nothing of them: a copy of prev may know them or not
		}
		if int(c) < prev.NumCustomers() && !stgEmpty(prev, c) {
			out = append(out, prev.CustomerKey(c))
		} else {
			out = append(out, "new:"+h.CustomerKey(c))
		}
	}
	slices.Sort(out)
	return out
}

// stgRun builds one base from genOps (a Builder per generation), then
// makes the calls ops on a Builder over it and on one over its copy
// rebuilt from scratch, and compares both with the model.
func stgRun(t *testing.T, what string, gens [][]stgOp, ops []stgOp) {
	t.Helper()
	ctx := context.Background()
	m := newStgModel()
	var base *affinity.History
	for i, gen := range gens {
		s := newStgStage(m, 0)
		if base != nil {
			s.baseN = base.NumLines()
		}
		b := affinity.NewBuilder(base)
		for j, op := range gen {
			s.do(t, b, op, fmt.Sprintf("%s: base generation %d op %d %v", what, i, j, op))
		}
		h, err := b.Build(ctx)
		require.NoError(t, err, what)
		m = s.build()
		m.check(t, h, fmt.Sprintf("%s: base generation %d", what, i))
		base = h
	}
	if base == nil {
		var err error
		base, err = affinity.NewBuilder(nil).Build(ctx)
		require.NoError(t, err)
	}
	cp := stgCopy(t, base)
	require.Equal(t, stgKeyed(base), stgKeyed(cp), "%s: the copy rebuilt from Purchases, Events and the catalog", what)
	for _, mode := range stgModes {
		wb, wl := affinity.SetBaseMode(mode.base), affinity.SetLayoutMode(mode.layout)
		stgStaged(t, what+" mode "+mode.name, m, base, cp, ops, mode.base != affinity.BaseCopy)
		affinity.SetBaseMode(wb)
		affinity.SetLayoutMode(wl)
		if t.Failed() {
			return
		}
	}
}

// stgModes are the ways a Builder builds on a base (export_test.go).
var stgModes = []struct {
	name         string
	base, layout int32
}{
	{"auto", affinity.BaseAuto, affinity.LayoutAuto},
	{"over-append", affinity.BaseOver, affinity.LayoutAppend},
	{"over-compact", affinity.BaseOver, affinity.LayoutCompact},
	{"copy", affinity.BaseCopy, affinity.LayoutAuto},
}

// stgStaged makes the calls ops on a Builder over base and on one over
// its copy cp, and checks both Builds against the model m of base.
// lineage says whether ChangedSince must know the pair (not when the
// Builder copies the base and sorts everything).
func stgStaged(t *testing.T, what string, m *stgModel, base, cp *affinity.History, ops []stgOp, lineage bool) {
	t.Helper()
	ctx := context.Background()
	s := newStgStage(m, base.NumLines())
	cs := newStgStage(m, cp.NumLines()) // the model of the copy's Builder: only to drive it
	over, scratch := affinity.NewBuilder(base), affinity.NewBuilder(cp)
	for j, op := range ops {
		w := fmt.Sprintf("%s: op %d %v", what, j, op)
		s.do(t, over, op, w)
		if op.kind == "has" {
			continue // the copy's catalog was added with AddProduct: HasProduct differs, as documented
		}
		cs.do(t, scratch, op, w+" (on the copy)")
	}
	h, err := over.Build(ctx)
	require.NoError(t, err, what)
	hc, err := scratch.Build(ctx)
	require.NoError(t, err, what)
	before := m
	m = s.build()
	desc := fmt.Sprintf("%s: ops %v", what, ops)
	m.check(t, h, desc)

	// (b) the same calls on the copy
	require.Equal(t, stgKeyed(h), stgKeyed(hc), "%s: over the base and over its copy", desc)
	if !slices.Contains(stgCustomerKeys(base), "") && stgEveryoneOrdered(base) {
		require.Equal(t, stgCustomerKeys(h), stgCustomerKeys(hc), "%s: customer ids over the base and over its copy", desc)
	}

	// Build returns the base itself exactly when nothing changed
	unchanged := stgSameModel(before, m)
	survivors := false
	for _, c := range s.changes {
		survivors = survivors || !c.Delete
	}
	if unchanged && !survivors && len(s.defined) == 0 {
		assert.Same(t, base, h, "%s: nothing changed: Build returns base itself", desc)
		assert.Same(t, cp, hc, "%s: nothing changed: Build returns the copy itself", desc)
	}
	if !unchanged {
		assert.NotSame(t, base, h, desc)
	}
	// the copy's catalog has an entry for every product: an AddProduct
	// that gives one to a product base knows only from records changes
	// base and may leave the copy as it is
	newEntry := false
	for k := range s.defined {
		newEntry = newEntry || !before.entry[k]
	}
	if newEntry {
		assert.NotSame(t, base, h, "%s: a new catalog entry is a change", desc)
	} else {
		assert.Equal(t, h == base, hc == cp, "%s: Build returns its base over the base and over the copy alike", desc)
	}

	// ChangedSince
	ch, ok := h.ChangedSince(base)
	chc, okc := hc.ChangedSince(cp)
	if h == base {
		require.True(t, ok, "%s: ChangedSince of base itself", desc)
	}
	if !lineage && (!ok || !okc) {
		return
	}
	require.True(t, ok, "%s: ChangedSince its base", desc)
	require.True(t, okc, "%s: ChangedSince the copy", desc)
	assert.True(t, slices.IsSorted(ch.Customers), "%s: Changes.Customers ascending: %v", desc, ch.Customers)
	assert.Len(t, slices.Compact(slices.Clone(ch.Customers)), len(ch.Customers), "%s: Changes.Customers unique", desc)
	vb, vh := before.view(), m.view()
	nb := len(before.custs)
	for c := range len(m.custs) {
		listed := slices.Contains(ch.Customers, affinity.CustomerID(c))
		switch {
		case c >= nb:
			assert.True(t, listed, "%s: new customer %d not in Changes", desc, c)
		case m.custs[c] != before.custs[c] || !slices.Equal(vb[c].orders, vh[c].orders) || !slices.Equal(vb[c].events, vh[c].events):
			assert.True(t, listed, "%s: changed customer %d (%q) not in Changes", desc, c, before.custs[c])
		case listed:
			assert.True(t, s.touched[before.custs[c]], "%s: customer %d (%q) in Changes, untouched and unchanged", desc, c, before.custs[c])
		}
	}
	if !slices.Equal(vb[nb].orders, vh[len(m.custs)].orders) {
		assert.True(t, ch.Anonymous, "%s: anonymous orders changed, Changes.Anonymous false", desc)
	} else if ch.Anonymous {
		assert.True(t, s.anon, "%s: Changes.Anonymous with nothing anonymous touched", desc)
	}
	if h == base {
		assert.Empty(t, ch.Customers, desc)
		assert.False(t, ch.Anonymous, desc)
	}
	assert.Equal(t, stgChangeKeys(base, h, ch), stgChangeKeys(cp, hc, chc), "%s: Changes over the base and over its copy", desc)
	assert.Equal(t, ch.Anonymous, chc.Anonymous, "%s: Changes.Anonymous over the base and over its copy", desc)
}

func stgEmpty(h *affinity.History, c affinity.CustomerID) bool {
	lo, hi := h.CustomerOrders(c)
	elo, ehi := h.CustomerEvents(c)
	return lo == hi && elo == ehi
}

// stgEveryoneOrdered: every customer of h has an order (the copy then
// gives the same customer ids).
func stgEveryoneOrdered(h *affinity.History) bool {
	for c := range h.NumCustomers() {
		if lo, hi := h.CustomerOrders(affinity.CustomerID(c)); lo == hi {
			return false
		}
	}
	return true
}

// TestStgStagedMatchesModelAndCopy: random calls of every kind staged on
// a base built in one to three generations match the model and the same
// calls on a Builder over the base's copy, and Build returns the base
// itself when they change nothing.
func TestStgStagedMatchesModelAndCopy(t *testing.T) {
	// 150 seeds, 40 in the quick suite: about a third of them quiet
	for seed := range uint64(testdata.Scale(150, 40)) {
		r := rand.New(rand.NewPCG(seed, 0x57a6))
		g := &stgGen{r: r, nCust: 2 + r.IntN(5), nProd: 2 + r.IntN(5), nKey: 1 + r.IntN(6), nTime: 1 + r.IntN(10)}
		gens := make([][]stgOp, 1+r.IntN(3))
		for i := range gens {
			for range 3 + r.IntN(15) {
				gens[i] = append(gens[i], g.op(false)...)
			}
		}
		quiet := r.IntN(3) == 0
		var ops []stgOp
		for range r.IntN(20) {
			ops = append(ops, g.op(quiet)...)
		}
		stgRun(t, fmt.Sprintf("seed %d quiet %v", seed, quiet), gens, ops)
		if t.Failed() {
			return
		}
	}
}

// stgBase is a small hand-made base: ann (orders o1, o2), bob (o3), an
// anonymous order a1, cyd with an event only, dee erased, eve whose only
// order was deleted; a described and a bare product.
func stgBase(t *testing.T) *affinity.History {
	t.Helper()
	ctx := context.Background()
	var b affinity.Builder
	require.NoError(t, b.AddProduct(affinity.Product{Key: "shoe", Name: "Shoe", Categories: []string{"Apparel/Shoes"}, Price: 5, InStock: true}))
	at := func(h int) time.Time { return stgT0.Add(time.Duration(h) * time.Hour) }
	for _, p := range []affinity.Purchase{
		{Customer: "ann", Product: "shoe", Order: "o1", Time: at(1), Quantity: 1, Price: 100},
		{Customer: "ann", Product: "cap", Order: "o2", Time: at(2), Quantity: 2, Price: 50},
		{Customer: "bob", Product: "cap", Order: "o3", Time: at(3), Quantity: -1, Price: 50},
		{Customer: "", Product: "shoe", Order: "a1", Time: at(4), Quantity: 1, Price: 100},
		{Customer: "dee", Product: "shoe", Order: "d1", Time: at(5), Quantity: 1, Price: 100},
		{Customer: "eve", Product: "cap", Order: "e1", Time: at(6), Quantity: 1, Price: 50},
	} {
		require.NoError(t, b.Add(p))
	}
	require.NoError(t, b.AddEvent(affinity.Event{Customer: "cyd", Product: "shoe", Time: at(7), Kind: affinity.View, Weight: 1}))
	h, err := b.Build(ctx)
	require.NoError(t, err)
	nb := affinity.NewBuilder(h)
	nb.EraseCustomer("dee")
	require.NoError(t, nb.DeleteOrder("e1", 1))
	h, err = nb.Build(ctx)
	require.NoError(t, err)
	return h
}

// TestStgNothingChangedReturnsBase: combinations of staged calls that
// leave the History's orders as they are — a put and a delete of a key the
// base does not know (in either order, the delete at an equal or higher
// version, a put without lines as the delete), of a new customer and new
// products, erasures of erased and unknown keys, a category the base has
// spelt otherwise, refused calls between them — make Build return base
// itself ("Build without any change returns base itself"), with empty
// Changes; the same calls over a copy of the base rebuilt from scratch
// return the copy itself. A delete at a version other than 0 that the
// base does not keep yet is the one change among them: the History keeps
// it as a tombstone, so that the put it beat, arriving in a later Build,
// is refused; that Build gives a new History with the same orders and
// empty Changes, and the same calls again return that one itself.
func TestStgNothingChangedReturnsBase(t *testing.T) {
	base := stgBase(t)
	cp := stgCopy(t, base)
	line := func(c, p string) affinity.Purchase {
		return affinity.Purchase{Customer: c, Product: p, Time: stgT0.Add(30 * time.Hour), Quantity: 1, Price: 10}
	}
	put := func(key string, v int64, ls ...affinity.Purchase) func(b *affinity.Builder) error {
		return func(b *affinity.Builder) error { return b.PutOrder(key, v, ls) }
	}
	del := func(key string, v int64) func(b *affinity.Builder) error {
		return func(b *affinity.Builder) error { return b.DeleteOrder(key, v) }
	}
	erase := func(key string) func(b *affinity.Builder) error {
		return func(b *affinity.Builder) error { b.EraseCustomer(key); return nil }
	}
	refused := func(f func(b *affinity.Builder) error) func(b *affinity.Builder) error {
		return func(b *affinity.Builder) error {
			if err := f(b); !errors.Is(err, affinity.ErrInvalid) {
				return fmt.Errorf("want a refusal wrapping ErrInvalid, got %v", err)
			}
			return nil
		}
	}
	cases := []struct {
		name  string
		tomb  bool // a delete the base does not keep: a tombstone
		calls []func(b *affinity.Builder) error
	}{
		{"put then delete, new key", true, []func(b *affinity.Builder) error{put("n1", 1, line("ann", "cap")), del("n1", 1)}},
		{"delete then put, new key", true, []func(b *affinity.Builder) error{del("n1", 1), put("n1", 1, line("ann", "cap"))}},
		{"put then newer delete, new customer and product", true, []func(b *affinity.Builder) error{put("n1", 1, line("zed", "hat"), line("zed", "cap")), del("n1", 2)}},
		{"put then an empty put", false, []func(b *affinity.Builder) error{put("n1", 0, line("ann", "hat")), put("n1", 0)}},
		{"anonymous put then delete", true, []func(b *affinity.Builder) error{put("n1", 5, line("", "hat")), del("n1", math.MaxInt64)}},
		{"two puts then delete", true, []func(b *affinity.Builder) error{put("n1", 1, line("zed", "hat")), put("n1", 2, line("yan", "cap")), del("n1", 2)}},
		{"delete at MaxInt64 then put at MaxInt64", true, []func(b *affinity.Builder) error{del("n1", math.MaxInt64), put("n1", math.MaxInt64, line("zed", "hat"))}},
		{"erase the erased", false, []func(b *affinity.Builder) error{erase("dee"), erase("dee")}},
		{"erase unknown then put and delete it", true, []func(b *affinity.Builder) error{erase("zed"), put("n1", 1, line("zed", "hat")), del("n1", 1)}},
		{"delete the deleted", false, []func(b *affinity.Builder) error{del("e1", 1), del("d1", 0)}},
		{"delete the deleted at a newer version", true, []func(b *affinity.Builder) error{del("e1", 3), del("d1", 0)}},
		{"older puts of the deleted", false, []func(b *affinity.Builder) error{put("e1", 0, line("eve", "cap")), put("e1", 0, line("ann", "hat"))}},
		{"category spelt otherwise", false, []func(b *affinity.Builder) error{func(b *affinity.Builder) error {
			_, err := b.AddCategory(" Apparel // Shoes ")
			return err
		}}},
		{"refused calls between", true, []func(b *affinity.Builder) error{
			put("n1", 1, line("ann", "hat")),
			refused(put("n2", 1, line("ann", "hat"), line("bob", "hat"))),
			refused(del("", 1)),
			refused(put("", 1, line("ann", "hat"))),
			refused(func(b *affinity.Builder) error {
				return b.Add(affinity.Purchase{Customer: "zed", Product: "hat", Time: stgT0})
			}),
			refused(func(b *affinity.Builder) error { return b.AddProduct(affinity.Product{Key: "hat", Price: -1}) }),
			refused(func(b *affinity.Builder) error { _, err := b.AddCategory("/"); return err }),
			func(b *affinity.Builder) error { return b.Check(line("ann", "hat")) },
			func(b *affinity.Builder) error { return b.CheckProduct(affinity.Product{Key: "hat", Name: "Hat"}) },
			func(b *affinity.Builder) error { b.Grow(100); return nil },
			del("n1", 1),
			erase(""),
		}},
	}
	build := func(t *testing.T, on *affinity.History, calls []func(b *affinity.Builder) error) *affinity.History {
		b := affinity.NewBuilder(on)
		for _, call := range calls {
			require.NoError(t, call(b))
		}
		assert.Equal(t, on.NumLines(), b.Len(), "Len before Build")
		assert.False(t, b.HasProduct("hat"), "a staged put describes no product")
		h, err := b.Build(context.Background())
		require.NoError(t, err)
		return h
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for i, on := range []*affinity.History{base, cp} {
				h := build(t, on, tc.calls)
				if tc.tomb {
					assert.NotSame(t, on, h, "on the %s: a tombstone", []string{"base", "copy"}[i])
					assert.Same(t, h, build(t, h, tc.calls), "on the %s: the calls again change nothing", []string{"base", "copy"}[i])
				} else if !assert.Same(t, on, h, "on the %s: nothing changed: Build returns its base itself", []string{"base", "copy"}[i]) {
					assert.Equal(t, stgKeyed(on), stgKeyed(h), "and the contents")
				}
				assert.Equal(t, stgKeyed(on), stgKeyed(h), "the contents")
				assert.Equal(t, on.NumCustomers(), h.NumCustomers(), "no customer interned")
				assert.Equal(t, on.Catalog().NumProducts(), h.Catalog().NumProducts(), "no product interned")
				ch, ok := h.ChangedSince(on)
				assert.True(t, ok)
				assert.Empty(t, ch.Customers)
				assert.False(t, ch.Anonymous)
			}
		})
	}
}

// TestStgRedescribeUnchanged: AddProduct of a product exactly as the
// base describes it changes nothing in the History, so Build returns base
// itself as it does for an AddCategory of a node the base has ("Build
// without any change returns base itself"): a shop that re-sends its
// whole catalogue every night pays no rebuild (Shop.Refresh: "a source
// that changes nothing ... leaves the snapshot as it is"). A product the
// base knows only from purchases, which Catalog.Product gives as {Key,
// InStock: true}, gains a catalog entry: that is a change, and the next
// Builder sees the entry as the one that added it did.
func TestStgRedescribeUnchanged(t *testing.T) {
	base := stgBase(t)
	cat := base.Catalog()
	for _, tc := range []struct {
		key   string
		entry bool // the base has an entry for key
	}{{"shoe", true}, {"cap", false}} {
		p, ok := cat.LookupProduct(tc.key)
		require.True(t, ok)
		b := affinity.NewBuilder(base)
		require.Equal(t, tc.entry, b.HasProduct(tc.key), tc.key)
		require.NoError(t, b.AddProduct(cat.Product(p)))
		assert.True(t, b.HasProduct(tc.key), "%s: HasProduct after AddProduct", tc.key)
		h, err := b.Build(context.Background())
		require.NoError(t, err)
		assert.Equal(t, stgKeyed(base), stgKeyed(h), tc.key)
		assert.True(t, affinity.NewBuilder(h).HasProduct(tc.key), "%s: HasProduct of the next Builder", tc.key)
		if tc.entry {
			assert.Same(t, base, h, "%s: AddProduct of the base's own entry changes nothing", tc.key)
		} else {
			assert.NotSame(t, base, h, "%s: a new entry is a change", tc.key)
			// sent again, the entry is no change
			nb := affinity.NewBuilder(h)
			require.NoError(t, nb.AddProduct(cat.Product(p)))
			again, err := nb.Build(context.Background())
			require.NoError(t, err)
			assert.Same(t, h, again, "%s: the entry sent again", tc.key)
		}
	}
}

// TestStgCheckMatchesAddOnBase: Check returns exactly the error Add would
// return, also for the money range on a base whose lines take most of
// it, with a delete of those lines staged, and for lines that fit alone
// but not in turn.
func TestStgCheckMatchesAddOnBase(t *testing.T) {
	big := affinity.MaxMoney / 10 * 4
	line := func(c, o string) affinity.Purchase {
		return affinity.Purchase{Customer: c, Product: "p", Order: o, Time: stgT0, Quantity: 1, Price: big}
	}
	b := affinity.NewBuilder(nil)
	require.NoError(t, b.Add(line("a", "o1")))
	base, err := b.Build(context.Background())
	require.NoError(t, err)
	for _, stage := range []string{"nothing", "delete", "erase", "put"} {
		t.Run(stage, func(t *testing.T) {
			mk := func() *affinity.Builder {
				b := affinity.NewBuilder(base)
				switch stage {
				case "delete":
					require.NoError(t, b.DeleteOrder("o1", 1))
				case "erase":
					b.EraseCustomer("a")
				case "put":
					require.NoError(t, b.PutOrder("o1", 1, []affinity.Purchase{{Customer: "a", Product: "p", Time: stgT0, Quantity: 1, Price: 1}}))
				}
				return b
			}
			seqs := [][]affinity.Purchase{
				{line("b", "o2")},
				{line("b", "o2"), line("c", "o3")},
				{line("b", "o2"), line("c", "o3"), line("d", "o4")},
			}
			for _, seq := range seqs {
				b := mk()
				checked := b.Check(seq...)
				assert.Equal(t, base.NumLines(), b.Len(), "Check adds nothing")
				var added error
				for _, p := range seq {
					if added = b.Add(p); added != nil {
						break
					}
				}
				if added == nil {
					assert.NoError(t, checked, "%d lines: Add took them all", len(seq))
				} else {
					require.Error(t, checked, "%d lines: Add refused %v", len(seq), added)
					assert.Equal(t, added.Error(), checked.Error(), "%d lines", len(seq))
					assert.ErrorIs(t, checked, affinity.ErrMoneyRange)
				}
				// Check added nothing, and the Builder builds what Add took
				_, err := b.Build(context.Background())
				require.NoError(t, err, "%d lines: the lines Add accepted build", len(seq))
			}
		})
	}
}

// TestStgErasureThenLinesInOneBuilder: EraseCustomer drops every line and
// event of the customer "from the base History, added before or after
// this call, or staged by a put"; a put of the erased customer still
// replaces the order it names (PutOrder: its lines replace every line
// with that key); the erased customer keeps its id, and a customer first
// met in a call after its erasure in the same Builder keeps nothing but
// an id (Add interns at the call) or not even that (a put's customers
// are interned at Build, from the puts that survive).
func TestStgErasureThenLinesInOneBuilder(t *testing.T) {
	base := stgBase(t)
	at := func(h int) time.Time { return stgT0.Add(time.Duration(h) * time.Hour) }
	ann, ok := base.LookupCustomer("ann")
	require.True(t, ok)
	bob, ok := base.LookupCustomer("bob")
	require.True(t, ok)
	b := affinity.NewBuilder(base)
	b.EraseCustomer("ann")
	require.NoError(t, b.Add(affinity.Purchase{Customer: "ann", Product: "shoe", Order: "o9", Time: at(40), Quantity: 1, Price: 1}))
	require.NoError(t, b.Add(affinity.Purchase{Customer: "ann", Product: "shoe", Order: "o1", Time: at(41), Quantity: 1, Price: 1}))
	require.NoError(t, b.AddEvent(affinity.Event{Customer: "ann", Product: "cap", Time: at(42), Kind: affinity.Cart, Weight: 1}))
	require.NoError(t, b.PutOrder("o3", 1, []affinity.Purchase{{Customer: "ann", Product: "cap", Time: at(43), Quantity: 2, Price: 3}}))
	require.NoError(t, b.PutOrder("n1", 1, []affinity.Purchase{{Customer: "zed", Product: "hat", Time: at(44), Quantity: 1, Price: 3}}))
	b.EraseCustomer("zed")
	require.NoError(t, b.Add(affinity.Purchase{Customer: "yan", Product: "shoe", Time: at(45), Quantity: 1, Price: 1}))
	b.EraseCustomer("yan")
	b.EraseCustomer("ann") // twice
	assert.Equal(t, base.NumLines()+3, b.Len(), "Len counts the lines added, erased at Build or not")
	h, err := b.Build(context.Background())
	require.NoError(t, err)

	for _, k := range []string{"ann", "zed", "yan"} {
		_, ok := h.LookupCustomer(k)
		assert.False(t, ok, k)
	}
	assert.Equal(t, "", h.CustomerKey(ann))
	assert.Equal(t, base.NumCustomers()+1, h.NumCustomers(), "yan's id stays allocated; zed, met only in an erased put, gets none")
	_, ok = h.Catalog().LookupProduct("hat")
	assert.False(t, ok, "nor its product")
	for _, c := range []affinity.CustomerID{ann, bob, affinity.CustomerID(base.NumCustomers())} {
		lo, hi := h.CustomerOrders(c)
		assert.Equal(t, lo, hi, "customer %d has no order", c)
	}
	for _, k := range []string{"o1", "o2", "o3", "o9", "n1"} {
		_, ok := h.LookupOrder(k)
		assert.False(t, ok, "order %s", k)
	}
	for p := range h.Purchases() {
		assert.NotContains(t, []string{"ann", "zed", "yan"}, p.Customer)
	}
	for e := range h.Events() {
		assert.NotContains(t, []string{"ann", "zed", "yan"}, e.Customer)
	}
	ch, ok := h.ChangedSince(base)
	require.True(t, ok)
	assert.Equal(t, []affinity.CustomerID{ann, bob, affinity.CustomerID(base.NumCustomers())}, ch.Customers)
	assert.False(t, ch.Anonymous)
	s := h.Summary()
	assert.Equal(t, 1, s.Orders, "the anonymous order alone")
	assert.Equal(t, 0, s.Buyers)

	// the same calls over the base's copy
	cp := stgCopy(t, base)
	b = affinity.NewBuilder(cp)
	b.EraseCustomer("ann")
	require.NoError(t, b.PutOrder("o3", 1, []affinity.Purchase{{Customer: "ann", Product: "cap", Time: at(43), Quantity: 2, Price: 3}}))
	hc, err := b.Build(context.Background())
	require.NoError(t, err)
	assert.Equal(t, stgKeyed(h), stgKeyed(hc))
}

// TestStgErasedPutUnchanged: a feed replayed after an erasure — the
// erasure again and a put of the erased customer's order — leaves the
// History as it is: the customer is unknown, "every order line ... staged
// by a put — is dropped", and the put's key is nobody's. Build should
// return base itself, as it does for the erasure alone ("Build without
// any change returns base itself").
func TestStgErasedPutUnchanged(t *testing.T) {
	base := stgBase(t) // dee was erased, with order d1
	b := affinity.NewBuilder(base)
	b.EraseCustomer("dee")
	require.NoError(t, b.PutOrder("d1", 1, []affinity.Purchase{{Customer: "dee", Product: "shoe", Time: stgT0.Add(5 * time.Hour), Quantity: 1, Price: 100}}))
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	assert.Equal(t, stgKeyed(base), stgKeyed(h))
	assert.Equal(t, base.NumCustomers(), h.NumCustomers())
	assert.Same(t, base, h, "the replayed erasure and put change nothing")
}
