package segment_test

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/segment"
)

// This file checks the answers of text queries on a built (or updated)
// Index against a naive model computed from the raw purchase records the
// test generated, following only the package documentation: look-back
// (start, asOf], whole days of 24 hours back from asOf, returns netted in
// monetary but never interest, an order's time the earliest of its lines,
// shares weighted m/n over a product's category paths.

const advAnsDay = int64(86400)

// advAnsCatalog is the catalog of every world: a tree with a product in
// several paths, one in none, and a product whose key is also a category.
var advAnsProducts = []struct {
	key  string
	cats []string
}{
	{"p0", []string{"Home/Kitchen/Knives"}},
	{"p1", []string{"Home/Kitchen"}},
	{"p2", []string{"Home/Garden", "Sport/Run"}},
	{"p3", []string{"Sport/Run"}},
	{"p4", []string{"Sport"}},
	{"p5", nil},
	{"p6", []string{"Toys", "Home/Kitchen", "Home/Garden"}},
	{"p7", []string{"Toys"}},
	{"Toys", []string{"Sport/Run"}},
	// p9 only enters the catalog in an update (weights of 4 paths: the
	// common denominator of the weights changes).
	{"p9", []string{"Home/Garden", "Sport", "Toys", "Home/Kitchen/Knives"}},
}

// advAnsBase is the number of products of the first catalog.
const advAnsBase = 9

var advAnsCats = []string{"Home", "Home/Kitchen", "Home/Kitchen/Knives", "Home/Garden", "Sport", "Sport/Run", "Toys"}

// advAnsWeight is the weight m/n of product p in category node c.
func advAnsWeight(p int, c string) *big.Rat {
	cats := advAnsProducts[p].cats
	if len(cats) == 0 {
		return new(big.Rat)
	}
	m := 0
	for _, path := range cats {
		if path == c || strings.HasPrefix(path, c+"/") {
			m++
		}
	}
	return big.NewRat(int64(m), int64(len(cats)))
}

type advAnsRec struct {
	cust, order string
	prod        int
	t           int64 // unix seconds
	qty         int32
	price       affinity.Money
}

type advAnsEvent struct {
	cust string
	prod int
	t    int64
	kind affinity.EventKind
}

type advAnsWorld struct {
	ntile      bool // RFMNTile scoring
	uniqueKeys bool // order keys unique across customers
	p9         bool // p9 is in the catalog
	asOf       time.Time
	lb         affinity.Lookback
	recs       []advAnsRec
	events     []advAnsEvent
	custs      []string
}

type advAnsOrder struct {
	t     int64
	lines []advAnsRec
}

func (o advAnsOrder) bought() bool {
	return slices.ContainsFunc(o.lines, func(l advAnsRec) bool { return l.qty > 0 })
}

// advAnsCust is one customer as the documentation defines its features.
type advAnsCust struct {
	key       string
	known     bool
	orders    []advAnsOrder // at or before asOf, any time
	events    []advAnsEvent // at or before asOf
	recency   int64         // -1 none
	tenure    int64
	lastSec   int64
	freq      int64
	monetary  int64 // Money units, net, look-back
	spend     int64 // bought only, look-back
	items     int64
	catSpend  map[string]*big.Rat
	catItems  map[string]*big.Rat
	catOrders map[string]int64
	catRecLB  map[string]int64 // days since last purchase in cat, look-back
	catRecAll map[string]int64 // same, any time
	r, f, m   int
	rfm       string
	stage     string
}

type advAnsModel struct {
	w      advAnsWorld
	asOf   int64
	start  int64 // exclusive
	lbDays int64 // look-back in days (whole)
	cust   []*advAnsCust
	byKey  map[string]int
	popCat map[string]*big.Rat
	popAll int64
}

func (m *advAnsModel) inLB(t int64) bool { return t > m.start && t <= m.asOf }
func (m *advAnsModel) days(t int64) int64 {
	return (m.asOf - t) / advAnsDay
}

func advAnsNewModel(w advAnsWorld) *advAnsModel {
	m := &advAnsModel{w: w, asOf: w.asOf.Unix(), byKey: map[string]int{}, popCat: map[string]*big.Rat{}}
	start := testdata.MonthsBefore(w.asOf, w.lb.Months).Add(-w.lb.Duration)
	m.start = start.Unix()
	m.lbDays = (m.asOf - m.start + advAnsDay - 1) / advAnsDay
	if w.lb.All {
		m.start, m.lbDays = -1<<62, 10000
	}
	for _, c := range w.custs {
		m.byKey[c] = len(m.cust)
		m.cust = append(m.cust, &advAnsCust{key: c, recency: -1, tenure: -1,
			catSpend: map[string]*big.Rat{}, catItems: map[string]*big.Rat{}, catOrders: map[string]int64{},
			catRecLB: map[string]int64{}, catRecAll: map[string]int64{}})
	}
	// Orders: (customer, key) or (customer, second) when the key is empty.
	type ok struct {
		c, k string
		t    int64
	}
	group := map[ok]*advAnsOrder{}
	var keys []ok
	for _, r := range w.recs {
		if r.cust == "" {
			continue
		}
		k := ok{c: r.cust, k: r.order}
		if r.order == "" {
			k.t = r.t
		}
		o := group[k]
		if o == nil {
			o = &advAnsOrder{t: r.t}
			group[k] = o
			keys = append(keys, k)
		}
		o.t = min(o.t, r.t)
		o.lines = append(o.lines, r)
	}
	for _, k := range keys {
		o := group[k]
		if o.t > m.asOf {
			continue
		}
		c := m.cust[m.byKey[k.c]]
		c.known = true
		c.orders = append(c.orders, *o)
	}
	for _, e := range w.events {
		if e.t <= m.asOf {
			c := m.cust[m.byKey[e.cust]]
			c.known = true
			c.events = append(c.events, e)
		}
	}
	for _, c := range m.cust {
		c.lastSec = -1 << 62
		first := int64(1 << 62)
		for _, o := range c.orders {
			if !o.bought() {
				if m.inLB(o.t) {
					for _, l := range o.lines {
						c.monetary += int64(l.qty) * int64(l.price)
					}
				}
				continue
			}
			c.lastSec = max(c.lastSec, o.t)
			first = min(first, o.t)
			touched := map[string]bool{}
			for _, l := range o.lines {
				if l.qty <= 0 {
					continue
				}
				for _, cat := range advAnsCats {
					if advAnsWeight(l.prod, cat).Sign() > 0 {
						d := m.days(o.t)
						if v, ok := c.catRecAll[cat]; !ok || d < v {
							c.catRecAll[cat] = d
						}
						if m.inLB(o.t) {
							if v, ok := c.catRecLB[cat]; !ok || d < v {
								c.catRecLB[cat] = d
							}
						}
					}
				}
			}
			if !m.inLB(o.t) {
				continue
			}
			c.freq++
			for _, l := range o.lines {
				v := int64(l.qty) * int64(l.price)
				c.monetary += v
				if l.qty <= 0 {
					continue
				}
				c.spend += v
				c.items += int64(l.qty)
				for _, cat := range advAnsCats {
					wt := advAnsWeight(l.prod, cat)
					if wt.Sign() == 0 {
						continue
					}
					touched[cat] = true
					if c.catSpend[cat] == nil {
						c.catSpend[cat], c.catItems[cat] = new(big.Rat), new(big.Rat)
					}
					s := c.catSpend[cat]
					s.Add(s, new(big.Rat).Mul(wt, big.NewRat(v, 1)))
					it := c.catItems[cat]
					it.Add(it, new(big.Rat).Mul(wt, big.NewRat(int64(l.qty), 1)))
				}
			}
			for cat := range touched {
				c.catOrders[cat]++
			}
		}
		if c.lastSec > -1<<62 {
			c.recency = m.days(c.lastSec)
			c.tenure = m.days(first)
		}
		m.popAll += c.spend
		for cat, s := range c.catSpend {
			if m.popCat[cat] == nil {
				m.popCat[cat] = new(big.Rat)
			}
			m.popCat[cat].Add(m.popCat[cat], s)
		}
	}
	m.scoreRFM()
	lapse := min(180, m.lbDays)
	for _, c := range m.cust {
		switch {
		case c.recency < 0:
		case c.recency > 365:
			c.stage = "churned"
		case c.recency > lapse || c.freq == 0:
			c.stage = "lapsing"
		case c.freq >= 4:
			c.stage = "loyal"
		case c.freq >= 2:
			c.stage = "repeat"
		default:
			c.stage = "new"
		}
	}
	return m
}

func (m *advAnsModel) scoreRFM() {
	var scored []*advAnsCust
	for _, c := range m.cust {
		if c.freq > 0 {
			scored = append(scored, c)
		}
	}
	n := len(scored)
	score := func(val func(c *advAnsCust) int64, set func(c *advAnsCust, s int)) {
		if m.w.ntile {
			s := slices.Clone(scored)
			slices.SortFunc(s, func(a, b *advAnsCust) int {
				if d := val(a) - val(b); d != 0 {
					return int(d / max(d, -d))
				}
				return strings.Compare(a.key, b.key)
			})
			i := 0
			for tile := range 5 {
				size := n / 5
				if tile < n%5 {
					size++
				}
				for range size {
					set(s[i], tile+1)
					i++
				}
			}
			return
		}
		for _, c := range scored {
			l, g := 0, 0
			for _, d := range scored {
				if val(d) < val(c) {
					l++
				} else if val(d) > val(c) {
					g++
				}
			}
			set(c, modelRankScore(l, g, n))
		}
	}
	score(func(c *advAnsCust) int64 {
		if m.w.ntile {
			return c.lastSec // seconds for NTILE
		}
		return -c.recency // whole days for RFMRank (see RFMRank)
	}, func(c *advAnsCust, s int) { c.r = s })
	score(func(c *advAnsCust) int64 { return c.freq }, func(c *advAnsCust, s int) { c.f = s })
	score(func(c *advAnsCust) int64 { return c.monetary }, func(c *advAnsCust, s int) { c.m = s })
	type rule struct {
		name               string
		rlo, rhi, flo, fhi int
	}
	rules := []rule{
		{"Champions", 5, 5, 4, 5}, {"Loyal", 3, 4, 4, 5}, {"Potential loyalists", 4, 5, 2, 3},
		{"New", 5, 5, 1, 1}, {"Promising", 4, 4, 1, 1}, {"Need attention", 3, 3, 3, 3},
		{"About to sleep", 3, 3, 1, 2}, {"Can't lose them", 1, 2, 5, 5}, {"At risk", 1, 2, 3, 4},
		{"Lost", 1, 1, 1, 1}, {"Hibernating", 1, 2, 1, 2},
	}
	for _, c := range scored {
		for _, r := range rules {
			if c.r >= r.rlo && c.r <= r.rhi && c.f >= r.flo && c.f <= r.fhi {
				c.rfm = r.name
				break
			}
		}
	}
}

var advAnsRFMNames = []string{"Champions", "Loyal", "Potential loyalists", "New", "Promising", "Need attention",
	"About to sleep", "Can't lose them", "At risk", "Lost", "Hibernating"}

// advAnsTarget is a bought/viewed/carted target: a category or product.
type advAnsTarget struct {
	text string
	cat  string // "" for a product
	prod int
}

func (t advAnsTarget) match(p int) bool {
	if t.cat != "" {
		return advAnsWeight(p, t.cat).Sign() > 0
	}
	return p == t.prod
}

// advAnsExpr is a generated query: its text and the model's answer.
type advAnsExpr struct {
	text string
	eval func(c *advAnsCust) bool
}

type advAnsGen struct {
	rng *rand.Rand
	m   *advAnsModel
}

func (g *advAnsGen) pick(n int) int { return g.rng.IntN(n) }

func (g *advAnsGen) kw(s string) string {
	if g.pick(4) == 0 {
		return strings.ToUpper(s)
	}
	return s
}

func (g *advAnsGen) expr(depth int) advAnsExpr {
	if depth <= 0 || g.pick(3) == 0 {
		return g.leaf()
	}
	switch g.pick(4) {
	case 0:
		x := g.expr(depth - 1)
		text := x.text
		if l := strings.ToLower(text); strings.Contains(l, "and") || strings.Contains(l, "or") {
			text = "(" + text + ")"
		}
		return advAnsExpr{text: g.kw("not") + " " + text, eval: func(c *advAnsCust) bool { return !x.eval(c) }}
	case 1:
		x := g.expr(depth - 1)
		return advAnsExpr{text: "(" + x.text + ")", eval: x.eval}
	case 2:
		a, b := g.expr(depth-1), g.expr(depth-1)
		e := advAnsExpr{text: "(" + a.text + ") " + g.kw("and") + " (" + b.text + ")",
			eval: func(c *advAnsCust) bool { return a.eval(c) && b.eval(c) }}
		return e
	default:
		a, b := g.expr(depth-1), g.expr(depth-1)
		sep := " " + g.kw("or") + " "
		if g.pick(5) == 0 {
			sep = " # comment\n" + g.kw("or") + " "
		}
		e := advAnsExpr{text: "(" + a.text + ")" + sep + "(" + b.text + ")",
			eval: func(c *advAnsCust) bool { return a.eval(c) || b.eval(c) }}
		return e
	}
}

// advAnsCmp builds a comparison of an integer-valued attribute (value,
// defined) against integer thresholds written by lit.
func (g *advAnsGen) cmpInt(attr string, get func(c *advAnsCust) (int64, bool), lit func(v *big.Rat) string, samples []int64) advAnsExpr {
	v := g.frac(samples[g.pick(len(samples))] + int64(g.pick(3)) - 1)
	ops := []string{"<", "<=", ">", ">=", "=", "==", "!=", "between"}
	op := ops[g.pick(len(ops))]
	if op == "between" {
		hi := new(big.Rat).Add(v, g.frac(int64(g.pick(20))))
		if hi.Cmp(v) < 0 {
			hi.Set(v)
		}
		return advAnsExpr{text: attr + " " + g.kw("between") + " " + lit(v) + " " + g.kw("and") + " " + lit(hi), eval: func(c *advAnsCust) bool {
			x, ok := get(c)
			return ok && big.NewRat(x, 1).Cmp(v) >= 0 && big.NewRat(x, 1).Cmp(hi) <= 0
		}}
	}
	return advAnsExpr{text: attr + " " + op + " " + lit(v), eval: func(c *advAnsCust) bool {
		x, ok := get(c)
		return ok && advAnsCmp(op, big.NewRat(x, 1), v)
	}}
}

// frac returns v, or v off by a half, a quarter or 1e-10.
func (g *advAnsGen) frac(v int64) *big.Rat { return g.fracEps(v, 10_000_000_000) }

// fracEps returns v, or v off by a half, a quarter or 1/eps. (A
// threshold of more than 16 significant digits is the subject of
// TestAdvAnsLongDecimalThresholds.)
func (g *advAnsGen) fracEps(v, eps int64) *big.Rat {
	r := big.NewRat(v, 1)
	switch g.pick(8) {
	case 0:
		r.Add(r, big.NewRat(1, 2))
	case 1:
		r.Sub(r, big.NewRat(1, 4))
	case 2:
		r.Add(r, big.NewRat(1, eps))
	case 3:
		r.Sub(r, big.NewRat(1, eps))
	}
	return r
}

// advAnsDec writes r as a finite decimal, if it is one.
func advAnsDec(r *big.Rat) (string, bool) {
	d := new(big.Int).Set(r.Denom())
	for _, f := range []int64{2, 5} {
		for new(big.Int).Mod(d, big.NewInt(f)).Sign() == 0 {
			d.Quo(d, big.NewInt(f))
		}
	}
	if d.Cmp(big.NewInt(1)) != 0 {
		return "", false
	}
	t := r.FloatString(30)
	t = strings.TrimRight(strings.TrimRight(t, "0"), ".")
	if t == "-0" {
		t = "0"
	}
	return t, true
}

func advAnsNumLit(v *big.Rat) string {
	t, ok := advAnsDec(v)
	if !ok {
		panic(v)
	}
	return t
}

func advAnsCmp(op string, x, v *big.Rat) bool {
	d := x.Cmp(v)
	switch op {
	case "<":
		return d < 0
	case "<=":
		return d <= 0
	case ">":
		return d > 0
	case ">=":
		return d >= 0
	case "=", "==":
		return d == 0
	case "!=":
		return d != 0
	}
	panic(op)
}

func (g *advAnsGen) samples(get func(c *advAnsCust) (int64, bool)) []int64 {
	s := []int64{0, 1}
	for _, c := range g.m.cust {
		if v, ok := get(c); ok && c.known {
			s = append(s, v)
		}
	}
	return s
}

func advAnsDaysLit(rng *rand.Rand) func(v *big.Rat) string {
	return func(v *big.Rat) string {
		type unit struct {
			suffix string
			days   int64
		}
		var opts []string
		for _, u := range []unit{{"d", 1}, {"", 1}, {"w", 7}, {"m", 30}, {"y", 365}, {"D", 1}, {"W", 7}} {
			if t, ok := advAnsDec(new(big.Rat).Quo(v, big.NewRat(u.days, 1))); ok {
				opts = append(opts, t+u.suffix)
			}
		}
		return opts[rng.IntN(len(opts))]
	}
}

// advAnsMoneyLit writes a threshold in Money units as currency units in
// one of the documented spellings.
func advAnsMoneyLit(rng *rand.Rand, v *big.Rat) string {
	neg := v.Sign() < 0
	num := advAnsNumLit(new(big.Rat).Quo(new(big.Rat).Abs(v), big.NewRat(10000, 1)))
	switch {
	case !neg && rng.IntN(2) == 0:
		return "$" + num
	case neg && rng.IntN(3) == 0:
		return "-$" + num
	case neg && rng.IntN(2) == 0:
		return "€-" + num
	case neg:
		return "-" + num
	}
	return num
}

func (g *advAnsGen) shareLit(v *big.Rat) string {
	if g.pick(2) == 0 {
		p := new(big.Rat).Mul(v, big.NewRat(100, 1))
		return p.FloatString(3) + "%"
	}
	return v.FloatString(5)
}

func (g *advAnsGen) leaf() advAnsExpr {
	m := g.m
	cat := advAnsCats[g.pick(len(advAnsCats))]
	dl := advAnsDaysLit(g.rng)
	switch g.pick(17) {
	case 0:
		get := func(c *advAnsCust) (int64, bool) { return c.recency, c.recency >= 0 }
		return g.cmpInt(g.kw("recency"), get, dl, g.samples(get))
	case 1:
		get := func(c *advAnsCust) (int64, bool) { return c.tenure, c.tenure >= 0 }
		return g.cmpInt(g.kw("tenure"), get, dl, g.samples(get))
	case 2:
		get := func(c *advAnsCust) (int64, bool) { return c.freq, true }
		return g.cmpInt(g.kw("frequency"), get, advAnsNumLit, g.samples(get))
	case 3:
		get := func(c *advAnsCust) (int64, bool) { return c.monetary, true }
		s := g.samples(get)
		v := g.fracEps(s[g.pick(len(s))]+int64(g.pick(3)-1)*int64(1+g.pick(2)*99), 1_000_000)
		ops := []string{"<", "<=", ">", ">=", "=", "!="}
		op := ops[g.pick(len(ops))]
		return advAnsExpr{text: "monetary " + op + " " + advAnsMoneyLit(g.rng, v), eval: func(c *advAnsCust) bool {
			return advAnsCmp(op, big.NewRat(c.monetary, 1), v)
		}}
	case 4:
		// aov, with thresholds more than one Money unit from every
		// customer's exact aov so that its rounding does not matter.
		var exact []*big.Rat
		for _, c := range m.cust {
			if c.freq > 0 {
				exact = append(exact, big.NewRat(c.monetary, c.freq))
			}
		}
		v := int64(g.pick(400000)) - 20000
		if len(exact) > 0 && g.pick(2) == 0 {
			e := exact[g.pick(len(exact))]
			v = new(big.Int).Quo(e.Num(), e.Denom()).Int64() + int64(g.pick(5)-2)*3
		}
		for _, e := range exact {
			d := new(big.Rat).Sub(e, big.NewRat(v, 1))
			if d.Abs(d).Cmp(big.NewRat(1, 1)) <= 0 {
				v += 3
			}
		}
		ops := []string{"<", "<=", ">", ">=", "!="}
		op := ops[g.pick(len(ops))]
		return advAnsExpr{text: "aov " + op + " " + advAnsMoneyLit(g.rng, big.NewRat(v, 1)), eval: func(c *advAnsCust) bool {
			return c.freq > 0 && advAnsCmp(op, big.NewRat(c.monetary, c.freq), big.NewRat(v, 1))
		}}
	case 5:
		names := []string{"rscore", "fscore", "mscore"}
		k := g.pick(3)
		get := func(c *advAnsCust) (int64, bool) {
			s := []int{c.r, c.f, c.m}[k]
			return int64(s), s > 0
		}
		return g.cmpInt(g.kw(names[k]), get, advAnsNumLit, []int64{1, 2, 3, 4, 5})
	case 6, 7:
		// shares: affinity, itemshare, ordershare
		k := g.pick(3)
		name := []string{"affinity", "itemshare", "ordershare"}[k]
		get := func(c *advAnsCust) *big.Rat {
			switch k {
			case 0:
				if c.spend == 0 || c.catSpend[cat] == nil {
					return new(big.Rat)
				}
				return new(big.Rat).Quo(c.catSpend[cat], big.NewRat(c.spend, 1))
			case 1:
				if c.items == 0 || c.catItems[cat] == nil {
					return new(big.Rat)
				}
				return new(big.Rat).Quo(c.catItems[cat], big.NewRat(c.items, 1))
			}
			if c.freq == 0 {
				return new(big.Rat)
			}
			return big.NewRat(c.catOrders[cat], c.freq)
		}
		return g.shareCmp(fmt.Sprintf("%s(%q)", g.kw(name), cat), get, true)
	case 8:
		if m.popAll == 0 || m.popCat[cat] == nil || m.popCat[cat].Sign() == 0 {
			return g.leaf()
		}
		ps := new(big.Rat).Quo(m.popCat[cat], big.NewRat(m.popAll, 1))
		get := func(c *advAnsCust) *big.Rat {
			if c.spend == 0 || c.catSpend[cat] == nil {
				return new(big.Rat)
			}
			a := new(big.Rat).Quo(c.catSpend[cat], big.NewRat(c.spend, 1))
			return a.Quo(a, ps)
		}
		return g.shareCmp(fmt.Sprintf("lift(%q)", cat), get, false)
	case 9:
		get := func(c *advAnsCust) (int64, bool) { v, ok := c.catRecLB[cat]; return v, ok }
		return g.cmpInt(fmt.Sprintf("recency(%q)", cat), get, dl, g.samples(get))
	case 10, 11, 12:
		return g.activity()
	case 13:
		return g.abandoned()
	case 14:
		return g.active()
	case 15:
		if g.pick(2) == 0 {
			name := advAnsRFMNames[g.pick(len(advAnsRFMNames))]
			text := name
			if g.pick(3) == 0 {
				text = strings.ToLower(name)
			}
			return advAnsExpr{fmt.Sprintf("rfm(%q)", text), func(c *advAnsCust) bool { return c.rfm == name }}
		}
		st := segment.Stages()[g.pick(5)]
		text := st
		if g.pick(3) == 0 {
			text = strings.ToUpper(st)
		}
		return advAnsExpr{fmt.Sprintf("lifecycle(%q)", text), func(c *advAnsCust) bool { return c.stage == st }}
	default:
		if g.pick(2) == 0 {
			return advAnsExpr{g.kw("all"), func(c *advAnsCust) bool { return true }}
		}
		return advAnsExpr{g.kw("none"), func(c *advAnsCust) bool { return false }}
	}
}

// shareCmp compares an exact share with a threshold near a customer's
// value (or a round one).
func (g *advAnsGen) shareCmp(attr string, get func(c *advAnsCust) *big.Rat, percent bool) advAnsExpr {
	var vals []*big.Rat
	for _, c := range g.m.cust {
		if c.known {
			vals = append(vals, get(c))
		}
	}
	thr := func() *big.Rat {
		if g.pick(3) == 0 || len(vals) == 0 {
			return big.NewRat(int64(g.pick(11)), 10)
		}
		v := vals[g.pick(len(vals))]
		// the customer's value written to 5 decimals, and a step off it
		f, _ := new(big.Rat).SetString(v.FloatString(5))
		f.Add(f, big.NewRat(int64(g.pick(3)-1), 100000))
		if f.Sign() < 0 {
			f.SetInt64(0)
		}
		return f
	}
	ops := []string{"<", "<=", ">", ">=", "=", "!=", "between"}
	op := ops[g.pick(len(ops))]
	lo := thr()
	lot := lo.FloatString(5)
	if percent {
		lot = g.shareLit(lo)
	}
	lo, _ = new(big.Rat).SetString(strings.TrimSuffix(lot, "%"))
	if strings.HasSuffix(lot, "%") {
		lo.Quo(lo, big.NewRat(100, 1))
	}
	if op == "between" {
		hi := new(big.Rat).Add(lo, big.NewRat(int64(g.pick(4)), 10))
		return advAnsExpr{attr + " between " + lo.FloatString(5) + " and " + hi.FloatString(5), func(c *advAnsCust) bool {
			x := get(c)
			return x.Cmp(lo) >= 0 && x.Cmp(hi) <= 0
		}}
	}
	return advAnsExpr{attr + " " + op + " " + lot, func(c *advAnsCust) bool { return advAnsCmp(op, get(c), lo) }}
}

func (g *advAnsGen) target() advAnsTarget {
	if g.pick(2) == 0 {
		cat := advAnsCats[g.pick(len(advAnsCats))]
		if cat == "Toys" || g.pick(3) == 0 { // "Toys" is a product too
			return advAnsTarget{text: fmt.Sprintf("category(%q)", cat), cat: cat}
		}
		return advAnsTarget{text: fmt.Sprintf("%q", cat), cat: cat}
	}
	p := g.pick(advAnsBase)
	if g.m.w.p9 && g.pick(4) == 0 {
		p = advAnsBase
	}
	key := advAnsProducts[p].key
	if key == "Toys" || g.pick(3) == 0 {
		return advAnsTarget{text: fmt.Sprintf("product(%q)", key), prod: p}
	}
	return advAnsTarget{text: fmt.Sprintf("%q", key), prod: p}
}

// window returns a window in days (0: none) and its text.
func (g *advAnsGen) window() (int64, string) {
	switch g.pick(5) {
	case 0:
		return 0, ""
	case 1:
		return g.m.lbDays, fmt.Sprintf(" within %dd", g.m.lbDays)
	case 2:
		w := int64(1 + g.pick(4))
		return 7 * w, fmt.Sprintf(", %dw", w)
	}
	w := int64(1 + g.pick(int(g.m.lbDays)))
	return w, fmt.Sprintf(" within %d", w)
}

func (g *advAnsGen) inWindow(t, w int64) bool {
	if !g.m.inLB(t) {
		return false
	}
	return w == 0 || g.m.days(t) < w
}

func (g *advAnsGen) activity() advAnsExpr {
	kind := g.pick(3)
	var ts []advAnsTarget
	var texts []string
	for range 1 + g.pick(2) {
		t := g.target()
		ts = append(ts, t)
		texts = append(texts, t.text)
	}
	w, wt := g.window()
	text := fmt.Sprintf("%s(%s%s)", []string{"bought", "viewed", "carted"}[kind], strings.Join(texts, ", "), wt)
	return advAnsExpr{text, func(c *advAnsCust) bool {
		if kind == 0 {
			for _, o := range c.orders {
				if !g.inWindow(o.t, w) {
					continue
				}
				for _, l := range o.lines {
					for _, t := range ts {
						if l.qty > 0 && t.match(l.prod) {
							return true
						}
					}
				}
			}
			return false
		}
		want := []affinity.EventKind{0, affinity.View, affinity.Cart}[kind]
		for _, e := range c.events {
			if e.kind != want || !g.inWindow(e.t, w) {
				continue
			}
			for _, t := range ts {
				if t.match(e.prod) {
					return true
				}
			}
		}
		return false
	}}
}

func (g *advAnsGen) abandoned() advAnsExpr {
	w, _ := g.window()
	text := "abandoned()"
	if w != 0 {
		if g.pick(2) == 0 {
			text = fmt.Sprintf("abandoned(%dd)", w)
		} else {
			text = fmt.Sprintf("abandoned(within %dd)", w)
		}
	}
	return advAnsExpr{text, func(c *advAnsCust) bool {
		for _, e := range c.events {
			if e.kind != affinity.Cart || !g.inWindow(e.t, w) {
				continue
			}
			bought := false
			for _, o := range c.orders {
				if o.t <= e.t {
					continue
				}
				for _, l := range o.lines {
					if l.qty > 0 && l.prod == e.prod {
						bought = true
					}
				}
			}
			if !bought {
				return true
			}
		}
		return false
	}}
}

func (g *advAnsGen) active() advAnsExpr {
	d0 := g.m.asOf/advAnsDay - int64(g.pick(int(g.m.lbDays)+40)) + 1
	d1 := d0 + int64(g.pick(10))
	f := func(d int64) string { return time.Unix(d*advAnsDay, 0).UTC().Format(time.DateOnly) }
	return advAnsExpr{fmt.Sprintf("active between %q and %q", f(d0), f(d1)), func(c *advAnsCust) bool {
		for _, o := range c.orders {
			if o.bought() && o.t/advAnsDay >= d0 && o.t/advAnsDay <= d1 {
				return true
			}
		}
		return false
	}}
}

// advAnsRandomWorld makes a small world with orders spread over the
// look-back and beyond (before its start, after asOf), returns, events,
// and times on the edges of days and of the look-back. Half the worlds
// end on the last day of a month (or early the next), where a look-back
// of months can start on a shorter month's last day.
func advAnsRandomWorld(rng *rand.Rand, nc int, uniqueKeys bool) advAnsWorld {
	day := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	asOf := day.Add(13*time.Hour + 17*time.Minute + 5*time.Second + time.Duration(rng.IntN(86400))*time.Second)
	switch rng.IntN(4) {
	case 0: // another zone: windows and days follow UTC all the same
		asOf = asOf.In(time.FixedZone("x", 13*3600+45*60))
	case 1:
		asOf = asOf.In(time.FixedZone("y", -11*3600))
	case 2: // a sub-second as-of time
		asOf = asOf.Add(time.Duration(1 + rng.IntN(999_999_999)))
	}
	lbs := []affinity.Lookback{affinity.Months(2), affinity.Days(45), {Months: 1, Duration: 3 * segment.Day},
		{Duration: 45*segment.Day + 5*time.Hour}, affinity.AllTime, affinity.Months(24), affinity.Days(400)}
	w := advAnsWorld{asOf: asOf, lb: lbs[rng.IntN(len(lbs))], uniqueKeys: uniqueKeys}
	if rng.IntN(2) == 0 { // moved, at the same time of day, to the last day of a month
		end := []time.Time{time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC), time.Date(2024, 4, 30, 0, 0, 0, 0, time.UTC)}[rng.IntN(3)]
		asOf = asOf.Add(end.Sub(day))
		w.asOf = asOf
	}
	a := asOf.Unix()
	start := testdata.MonthsBefore(asOf, w.lb.Months).Add(-w.lb.Duration).Unix()
	raw := func() int64 {
		switch rng.IntN(10) {
		case 0: // exactly k days back
			return a - int64(rng.IntN(70))*advAnsDay
		case 1: // on an edge of the look-back
			return start + int64(rng.IntN(3)) - 1
		case 2: // around asOf
			return a + int64(rng.IntN(3)) - 1
		case 3: // long ago: churned
			return a - int64(170+rng.IntN(300))*advAnsDay
		case 4: // a day boundary ± 1 s
			return a - int64(1+rng.IntN(60))*advAnsDay + int64(rng.IntN(3)) - 1
		}
		return a - int64(rng.IntN(80*86400)) + 3600
	}
	// order times even, event times odd: never at the same second
	when := func() int64 { return raw() &^ 1 }
	for i := range nc {
		cust := fmt.Sprintf("c%02d", i)
		w.custs = append(w.custs, cust)
		for o := range rng.IntN(5) {
			t := when()
			key := fmt.Sprintf("o%d", o) // the same keys for every customer
			if w.uniqueKeys {
				key = cust + "-" + key
			}
			if rng.IntN(4) == 0 {
				key = ""
			}
			ret := rng.IntN(6) == 0
			for l := range 1 + rng.IntN(3) {
				lt := t
				if key != "" && l > 0 && rng.IntN(3) == 0 {
					// a later line: the order's time is the earliest
					lt = t + int64(rng.IntN(2*86400))&^1
					if (t <= a) != (lt <= a) {
						lt = t
					}
				}
				q := int32(1 + rng.IntN(3))
				if ret || rng.IntN(8) == 0 {
					q = -q
				}
				price := affinity.Money(1 + rng.IntN(300000))
				if rng.IntN(4) == 0 {
					price = affinity.Money(10000 * (1 + rng.IntN(30)))
				}
				w.recs = append(w.recs, advAnsRec{cust: cust, order: key, prod: rng.IntN(advAnsBase), t: lt, qty: q, price: price})
			}
		}
		if rng.IntN(3) == 0 { // an anonymous line: in no customer's features
			w.recs = append(w.recs, advAnsRec{order: fmt.Sprintf("anon-%d", i), prod: rng.IntN(advAnsBase),
				t: when(), qty: 1 + int32(rng.IntN(5)), price: affinity.Money(1 + rng.IntN(900000))})
		}
		for range rng.IntN(4) {
			k := []affinity.EventKind{affinity.View, affinity.Cart, affinity.View, affinity.Cart, affinity.Rating, affinity.Wishlist}[rng.IntN(6)]
			// odd seconds: never at the same second as an order
			w.events = append(w.events, advAnsEvent{cust: cust, prod: rng.IntN(advAnsBase), t: raw() | 1, kind: k})
		}
	}
	return w
}

func advAnsAddAll(t *testing.T, b *affinity.Builder, recs []advAnsRec, events []advAnsEvent) {
	for _, r := range recs {
		require.NoError(t, b.Add(affinity.Purchase{Customer: r.cust, Product: advAnsProducts[r.prod].key, Order: r.order,
			Time: time.Unix(r.t, 0), Quantity: r.qty, Price: r.price}))
	}
	for _, e := range events {
		require.NoError(t, b.AddEvent(affinity.Event{Customer: e.cust, Product: advAnsProducts[e.prod].key,
			Time: time.Unix(e.t, 0), Kind: e.kind, Weight: 1}))
	}
}

func advAnsHistory(t *testing.T, w advAnsWorld) *affinity.History {
	var b affinity.Builder
	b.Workers = 1
	for _, p := range advAnsProducts[:advAnsBase] {
		require.NoError(t, b.AddProduct(affinity.Product{Key: p.key, Categories: p.cats}))
	}
	advAnsAddAll(t, &b, w.recs, w.events)
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// advAnsCheck runs n random queries on x and compares with the model.
func advAnsCheck(t *testing.T, msg string, rng *rand.Rand, x *segment.Index, h *affinity.History, m *advAnsModel, n int) {
	known := 0
	for _, c := range m.cust {
		if c.known {
			known++
		}
	}
	require.Equal(t, known, x.Len(), "%s: Len", msg)
	g := &advAnsGen{rng: rng, m: m}
	fails := 0
	for range n {
		e := g.expr(3)
		got, err := x.Query(e.text)
		if !assert.NoError(t, err, "%s: %s", msg, e.text) {
			fails++
			continue
		}
		var want, gotKeys []string
		for _, c := range m.cust {
			if c.known && e.eval(c) {
				want = append(want, c.key)
			}
		}
		slices.Sort(want)
		for k := range x.Keys(got) {
			gotKeys = append(gotKeys, k)
		}
		slices.Sort(gotKeys)
		if !assert.Equal(t, want, gotKeys, "%s: %s", msg, e.text) {
			fails++
		}
		if fails >= 5 {
			t.Fatalf("%s: too many failures", msg)
		}
	}
}

func advAnsBuild(t *testing.T, h *affinity.History, w advAnsWorld) *segment.Index {
	opts := segment.Options{Lookback: w.lb, Workers: 1}
	if w.ntile {
		opts.RFMScoring = segment.RFMNTile
	}
	x, err := segment.Build(context.Background(), h, w.asOf, opts)
	require.NoError(t, err)
	return x
}

func TestAdvAnsRandomQueriesMatchNaive(t *testing.T) {
	for seed := range uint64(advAnsSeeds) {
		rng := rand.New(rand.NewPCG(seed, 0xa115))
		w := advAnsRandomWorld(rng, 14, false)
		w.ntile = seed%2 == 1
		h := advAnsHistory(t, w)
		x := advAnsBuild(t, h, w)
		m := advAnsNewModel(w)
		advAnsCheck(t, fmt.Sprintf("seed %d ntile %v lookback %v asOf %v", seed, w.ntile, w.lb, w.asOf), rng, x, h, m, 120)
	}
}

// Update of a History with new orders, returns and events answers as a
// fresh Build and as the model, on the same day and days later.
func TestAdvAnsUpdateMatchesNaive(t *testing.T) {
	for seed := range uint64(advAnsSeeds) {
		rng := rand.New(rand.NewPCG(seed, 0x0bda7e))
		w := advAnsRandomWorld(rng, 12, false)
		w.ntile = seed%2 == 1
		h1 := advAnsHistory(t, w)
		x1 := advAnsBuild(t, h1, w)
		later := int64(rng.IntN(3))
		w2 := w
		w2.asOf = w.asOf.Add(time.Duration(later) * segment.Day)
		w2.recs = slices.Clone(w.recs)
		w2.events = slices.Clone(w.events)
		var addR []advAnsRec
		var addE []advAnsEvent
		a := w2.asOf.Unix()
		for i := range 4 {
			cust := w.custs[rng.IntN(len(w.custs))]
			if i == 0 {
				cust = "new-customer"
				w2.custs = append(w2.custs, cust)
			}
			tm := (a - int64(rng.IntN(int(later+2)*86400))) &^ 1
			q := int32(1 + rng.IntN(2))
			if rng.IntN(3) == 0 {
				q = -q
			}
			addR = append(addR, advAnsRec{cust: cust, order: fmt.Sprintf("u%d", i), prod: rng.IntN(advAnsBase),
				t: tm, qty: q, price: affinity.Money(1 + rng.IntN(99999))})
			addE = append(addE, advAnsEvent{cust: cust, prod: rng.IntN(advAnsBase), t: tm | 1, kind: affinity.Cart})
		}
		w2.recs = append(w2.recs, addR...)
		w2.events = append(w2.events, addE...)
		b := affinity.NewBuilder(h1)
		b.Workers = 1
		advAnsAddAll(t, b, addR, addE)
		h2, err := b.Build(context.Background())
		require.NoError(t, err)
		xu, err := segment.Update(context.Background(), x1, h1, h2, w2.asOf, segment.UpdateOptions{Workers: 1})
		require.NoError(t, err)
		xb := advAnsBuild(t, h2, w2)
		m := advAnsNewModel(w2)
		msg := fmt.Sprintf("seed %d later %dd", seed, later)
		advAnsCheck(t, msg+" update", rand.New(rand.NewPCG(seed, 1)), xu, h2, m, 60)
		advAnsCheck(t, msg+" build", rand.New(rand.NewPCG(seed, 1)), xb, h2, m, 60)
	}
}

// A planted world on the edges the documentation names.
func TestAdvAnsPlantedEdges(t *testing.T) {
	asOf := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	a := asOf.Unix()
	h24 := int64(86400)
	w := advAnsWorld{asOf: asOf, lb: affinity.Days(30)}
	add := func(c, o string, p int, t int64, q int32, price affinity.Money) {
		w.recs = append(w.recs, advAnsRec{cust: c, order: o, prod: p, t: t, qty: q, price: price})
	}
	w.custs = []string{"at-asof", "30h", "after", "start", "start+1", "retonly", "split", "twice", "evonly", "lines"}
	add("at-asof", "o", 0, a, 1, 10000)          // 0 days ago
	add("30h", "o", 1, a-30*3600, 1, 10000)      // 1 day ago
	add("after", "o", 3, a+1, 1, 10000)          // not read: unknown
	add("start", "o", 3, a-30*h24, 2, 10000)     // on the look-back's start: out, recency 30
	add("start+1", "o", 3, a-30*h24+1, 2, 10000) // in, recency 29
	add("retonly", "o", 0, a-h24, -1, 10000)     // known, no purchase
	add("split", "o", 0, a-5*h24, 1, 50000)      // bought ...
	add("split", "r", 0, a-2*h24, -1, 50000)     // ... and returned: monetary 0
	add("twice", "", 4, a-3*h24, 1, 10000)       // empty keys, same second: one order
	add("twice", "", 2, a-3*h24, 1, 30000)       //
	add("lines", "o", 1, a-10*h24+5, 1, 10000)   // order time is the earliest line:
	add("lines", "o", 7, a-10*h24-5, 1, 10000)   // 10 days ago, not 9
	w.events = append(w.events, advAnsEvent{cust: "evonly", prod: 5, t: a - 7*h24, kind: affinity.Cart})
	h := advAnsHistory(t, w)
	x := advAnsBuild(t, h, w)
	m := advAnsNewModel(w)
	cases := map[string][]string{
		`recency = 0`:                                  {"at-asof"},
		`recency = 1d`:                                 {"30h"},
		`recency = 30`:                                 {"start"},
		`recency <= 29 and frequency = 0`:              {},
		`frequency = 0`:                                {"evonly", "retonly", "start"},
		`monetary = 0 and frequency = 1`:               {"split"},
		`frequency = 1 and aov = $4`:                   {"twice"},
		`recency = 10d`:                                {"lines"},
		`not recency <= 30d`:                           {"evonly", "retonly"},
		`bought("p0")`:                                 {"at-asof", "split"},
		`bought("Sport" within 30d)`:                   {"start+1", "twice"},
		`bought(category("Toys"))`:                     {"lines"},
		`bought(product("Toys"))`:                      {},
		`abandoned(7d)`:                                {},
		`abandoned(8d)`:                                {"evonly"},
		`carted("p5" within 8d)`:                       {"evonly"},
		`tenure >= 0`:                                  {"30h", "at-asof", "lines", "split", "start", "start+1", "twice"},
		`affinity("Sport") = 0.625`:                    {"twice"},
		`affinity("Sport/Run") = 37.5%`:                {"twice"},
		`itemshare("Home") = 0.25`:                     {"twice"},
		`active between "2024-03-01" and "2024-03-01"`: {"at-asof"},
		`active between "2024-02-29" and "2024-02-29"`: {"30h"},
	}
	for q, want := range cases {
		got, err := x.Query(q)
		if !assert.NoError(t, err, q) {
			continue
		}
		var keys []string
		for k := range x.Keys(got) {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		slices.Sort(want)
		assert.Equal(t, fmt.Sprint(want), fmt.Sprint(keys), q)
	}
	require.Equal(t, 9, x.Len())
	advAnsCheck(t, "planted", rand.New(rand.NewPCG(7, 7)), x, h, m, 60)
}

// Query errors point at the offending token.
func TestAdvAnsErrorPositions(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	w := advAnsRandomWorld(rng, 8, false)
	h := advAnsHistory(t, w)
	x := advAnsBuild(t, h, w)
	lb := advAnsNewModel(w).lbDays
	type tc struct {
		q      string
		target error // nil: a syntax error
		at     string
	}
	cases := []tc{
		{`recency < 5d and bought("Nope")`, segment.ErrUnknown, `"Nope"`},
		{"frequency > 1\n  or affinity(\"Home/Nope\") > 0.1", segment.ErrUnknown, `"Home/Nope"`},
		{`é > 1 or recency between 30d and 10d`, nil, `é`},
		{`tenure > 1 or recency between 30d and 10d`, segment.ErrInvalid, `30d`},
		{`"é" = "é" or bought("p1" within 0d)`, nil, `"é"`},
		{`all and bought("p1" within 0d)`, nil, `0d`},
		{fmt.Sprintf(`all and bought("p1" within %dd)`, lb+1), segment.ErrInvalid, fmt.Sprintf("%dd", lb+1)},
		{`rfm("Nobody") or all`, segment.ErrUnknown, `"Nobody"`},
		{`lifecycle("dead")`, segment.ErrUnknown, `"dead"`},
		{`(all`, nil, ``},
		{`all andd none`, nil, `andd`},
		{`monetary >= $`, nil, ``},
		{`recency("Home") between 5 and 4`, segment.ErrInvalid, `5`},
		{`# ü comment` + "\n" + `bought(product("Nope"))`, segment.ErrUnknown, `"Nope"`},
		{`active between "2024-02-30" and "2024-03-01"`, nil, `"2024-02-30"`},
	}
	for _, c := range cases {
		_, err := x.Query(c.q)
		require.Error(t, err, c.q)
		off := len(c.q)
		if c.at != "" {
			off = strings.Index(c.q, c.at)
		}
		line := 1 + strings.Count(c.q[:off], "\n")
		col := 1 + len([]rune(c.q[strings.LastIndex(c.q[:off], "\n")+1:off]))
		if c.target == nil {
			var se *segment.SyntaxError
			if assert.True(t, errors.As(err, &se), "%s: %v is not a *SyntaxError", c.q, err) {
				assert.Equal(t, []int{off, line, col}, []int{se.Offset, se.Line, se.Column}, "%s: %v", c.q, err)
			}
			continue
		}
		var qe *segment.QueryError
		assert.ErrorIs(t, err, c.target, c.q)
		if assert.True(t, errors.As(err, &qe), "%s: %v is not a *QueryError", c.q, err) {
			assert.Equal(t, []int{off, line, col}, []int{qe.Offset, qe.Line, qe.Column}, "%s: %v", c.q, err)
		}
	}
}

const advAnsSeeds = 8

// A chain of updates with replaced, deleted and new orders, erased
// customers, events and a product new to the catalog, over enough
// customers that the updates lay deltas rather than build anew, answers
// as the model of each new History.
func TestAdvAnsUpdateChangesMatchNaive(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(advAnsUpdSeeds) {
		rng := rand.New(rand.NewPCG(seed, 0xc4a1))
		w := advAnsRandomWorld(rng, 96, true)
		w.ntile = seed%3 == 2
		h := advAnsHistory(t, w)
		x := advAnsBuild(t, h, w)
		for step := 1; step <= 3; step++ {
			w.asOf = w.asOf.Add(time.Duration(rng.IntN(3)*rng.IntN(2)) * segment.Day)
			a := w.asOf.Unix()
			w.recs, w.events = slices.Clone(w.recs), slices.Clone(w.events)
			b := affinity.NewBuilder(h)
			b.Workers = 1
			if step == 2 {
				w.p9 = true
				p := advAnsProducts[advAnsBase]
				require.NoError(t, b.AddProduct(affinity.Product{Key: p.key, Categories: p.cats}))
			}
			prods := advAnsBase
			if step >= 2 {
				prods++
			}
			line := func(cust, key string, tm int64) advAnsRec {
				q := int32(1 + rng.IntN(3))
				if rng.IntN(4) == 0 {
					q = -q
				}
				return advAnsRec{cust: cust, order: key, prod: rng.IntN(prods), t: tm, qty: q, price: affinity.Money(1 + rng.IntN(200000))}
			}
			var keys []string
			for _, r := range w.recs {
				if r.order != "" && !slices.Contains(keys, r.order) {
					keys = append(keys, r.order)
				}
			}
			erased := map[string]bool{} // drops even what the step adds later
			for i := range 1 + rng.IntN(3) {
				switch rng.IntN(4) {
				case 0: // a new order, maybe of a new customer
					cust := w.custs[rng.IntN(len(w.custs))]
					if rng.IntN(3) == 0 {
						cust = fmt.Sprintf("n%d-%d", step, i)
						w.custs = append(w.custs, cust)
					}
					key := fmt.Sprintf("s%d-%d", step, i)
					tm := (a - int64(rng.IntN(4*86400))) &^ 1
					for range 1 + rng.IntN(2) {
						r := line(cust, key, tm)
						w.recs = append(w.recs, r)
						require.NoError(t, b.Add(affinity.Purchase{Customer: r.cust, Product: advAnsProducts[r.prod].key,
							Order: key, Time: time.Unix(r.t, 0), Quantity: r.qty, Price: r.price}))
					}
				case 1: // an order replaced: other lines, maybe another time
					if len(keys) == 0 {
						continue
					}
					key := keys[rng.IntN(len(keys))]
					j := slices.IndexFunc(w.recs, func(r advAnsRec) bool { return r.order == key })
					cust, tm := w.recs[j].cust, w.recs[j].t
					if rng.IntN(2) == 0 {
						tm = (a - int64(rng.IntN(70*86400))) &^ 1
					}
					w.recs = slices.DeleteFunc(w.recs, func(r advAnsRec) bool { return r.order == key })
					var ps []affinity.Purchase
					for range 1 + rng.IntN(2) {
						r := line(cust, key, tm)
						w.recs = append(w.recs, r)
						ps = append(ps, affinity.Purchase{Customer: cust, Product: advAnsProducts[r.prod].key,
							Order: key, Time: time.Unix(tm, 0), Quantity: r.qty, Price: r.price})
					}
					require.NoError(t, b.PutOrder(key, int64(step), ps))
				case 2: // an order deleted
					if len(keys) == 0 {
						continue
					}
					key := keys[rng.IntN(len(keys))]
					w.recs = slices.DeleteFunc(w.recs, func(r advAnsRec) bool { return r.order == key })
					require.NoError(t, b.DeleteOrder(key, int64(step)))
				default: // a customer erased, or an event
					cust := w.custs[rng.IntN(len(w.custs))]
					if rng.IntN(3) == 0 {
						erased[cust] = true
						b.EraseCustomer(cust)
						continue
					}
					e := advAnsEvent{cust: cust, prod: rng.IntN(prods), t: (a - int64(rng.IntN(9*86400))) | 1,
						kind: []affinity.EventKind{affinity.View, affinity.Cart}[rng.IntN(2)]}
					w.events = append(w.events, e)
					require.NoError(t, b.AddEvent(affinity.Event{Customer: cust, Product: advAnsProducts[e.prod].key,
						Time: time.Unix(e.t, 0), Kind: e.kind, Weight: 1}))
				}
			}
			w.recs = slices.DeleteFunc(w.recs, func(r advAnsRec) bool { return erased[r.cust] })
			w.events = slices.DeleteFunc(w.events, func(e advAnsEvent) bool { return erased[e.cust] })
			h2, err := b.Build(ctx)
			require.NoError(t, err)
			x2, err := segment.Update(ctx, x, h, h2, w.asOf, segment.UpdateOptions{Workers: 1})
			require.NoError(t, err)
			m := advAnsNewModel(w)
			advAnsCheck(t, fmt.Sprintf("seed %d step %d asOf %v", seed, step, w.asOf), rng, x2, h2, m, 40)
			h, x = h2, x2
		}
	}
}

const advAnsUpdSeeds = 3

// The text syntax promises exact decimals: "a number with a unit is the
// decimal it denotes, computed exactly", money and days compare "against
// the decimal the threshold is written as (no tolerance)", shares against
// "the decimal number it is written as". A threshold with more digits
// than a comparison keeps is an error (it was rounded to a float64, so
// that "monetary < 730.7858000000000001" missed a spend of $730.7858);
// digits past the 15th that change nothing are fine.
func TestAdvAnsLongDecimalThresholds(t *testing.T) {
	asOf := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	a := asOf.Unix()
	w := advAnsWorld{asOf: asOf, lb: affinity.Days(30), custs: []string{"c"}}
	w.recs = []advAnsRec{
		{cust: "c", order: "o1", prod: 4, t: a - 3*advAnsDay, qty: 1, price: 3653929}, // Sport, $365.3929
		{cust: "c", order: "o1", prod: 7, t: a - 3*advAnsDay, qty: 1, price: 3653929}, // Toys: affinity 0.5
	}
	h := advAnsHistory(t, w)
	x := advAnsBuild(t, h, w)
	for _, q := range []string{
		`monetary < 730.7858000000000001`, `monetary > 730.7857999999999999`, `monetary = 730.7858000000000001`,
		`frequency < 1.00000000000000001`, `frequency > 0.99999999999999999`, `recency < 3.00000000000000001d`,
		`recency != 3.00000000000000001`, `affinity("Sport") < 0.50000000000000001`, `affinity("Sport") = 50.000000000000001%`,
		`monetary < 730.785800000000000000001000000`,
	} {
		_, err := x.Query(q)
		var se *segment.SyntaxError
		assert.ErrorAs(t, err, &se, "%s: too many digits to compare exactly", q)
	}
	for q, want := range map[string]bool{
		`monetary < 730.7858000001`:                true, // the documented example's precision
		`monetary = 730.78580000000000000000`:      true, // trailing zeros change nothing
		`frequency = 1.000000000000000000000`:      true,
		`affinity("Sport") = 50.0000000000000000%`: true,
		`affinity("Sport") < 0.499999999999999`:    false,
		`recency = 0.428571428571w`:                false, // 2.999999999997 days
	} {
		got, err := x.Query(q)
		if assert.NoError(t, err, q) {
			assert.Equal(t, want, got.GetCardinality() == 1, q)
		}
	}
}

// segment("name") answers as the definition inlined, and top("X", k) as
// rank("X") <= k; a definition referring to an earlier one too.
func TestAdvAnsDefinedSegmentsAndTop(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 5))
	w := advAnsRandomWorld(rng, 30, false)
	h := advAnsHistory(t, w)
	x := advAnsBuild(t, h, w)
	m := advAnsNewModel(w)
	g := &advAnsGen{rng: rng, m: m}
	for i := range 12 {
		a, b := g.expr(2), g.expr(2)
		ea, err := segment.Parse(a.text)
		require.NoError(t, err, a.text)
		xa, err := x.Define(fmt.Sprintf("a%d", i), ea)
		require.NoError(t, err, a.text)
		eb, err := segment.Parse(fmt.Sprintf(`segment("a%d") and not (%s)`, i, b.text))
		require.NoError(t, err)
		xb, err := xa.Define(fmt.Sprintf("b%d", i), eb)
		require.NoError(t, err)
		for _, q := range [][2]string{
			{fmt.Sprintf(`segment("a%d")`, i), a.text},
			{fmt.Sprintf(`SEGMENT("b%d") or not segment("a%d")`, i, i), fmt.Sprintf(`((%s) and not (%s)) or not (%s)`, a.text, b.text, a.text)},
		} {
			got, err := xb.Query(q[0])
			require.NoError(t, err, q[0])
			want, err := x.Query(q[1])
			require.NoError(t, err, q[1])
			assert.True(t, want.Equals(got), "%s = %s: %v vs %v", q[0], q[1], got.ToArray(), want.ToArray())
		}
	}
	for _, cat := range advAnsCats {
		for k := 1; k <= 3; k++ { // TopN is 3
			a, err := x.Query(fmt.Sprintf(`top(%q, %d)`, cat, k))
			require.NoError(t, err)
			b, err := x.Query(fmt.Sprintf(`rank(%q) <= %d`, cat, k))
			require.NoError(t, err)
			c, err := x.Query(fmt.Sprintf(`rank(%q) between 1 and %d.5`, cat, k))
			require.NoError(t, err)
			assert.True(t, a.Equals(b), "top(%q, %d) != rank <= %d", cat, k, k)
			assert.True(t, a.Equals(c), "top(%q, %d) != rank between", cat, k)
			if k == 3 { // no rank beyond TopN
				e, err := x.Query(fmt.Sprintf(`rank(%q) <= 50`, cat))
				require.NoError(t, err)
				assert.True(t, a.Equals(e), "top(%q, 3) != rank <= 50", cat)
			}
			// a customer ranked in a category bought in it
			d, err := x.Query(fmt.Sprintf(`top(%q, %d) and not bought(category(%q))`, cat, k, cat))
			require.NoError(t, err)
			assert.True(t, d.IsEmpty(), "top(%q, %d) without buying: %v", cat, k, d.ToArray())
		}
	}
}

// A half-life weights orders in the shares only: every other attribute
// answers as without it, and a customer with one order in the look-back
// has the same shares (its one weight cancels), compared at half steps of
// the stored resolution, where rounding to 1/10000 cannot move an answer.
func TestAdvAnsHalfLifeOnlyMovesShares(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 21))
	w := advAnsRandomWorld(rng, 40, false)
	h := advAnsHistory(t, w)
	x := advAnsBuild(t, h, w)
	xh, err := segment.Build(context.Background(), h, w.asOf, segment.Options{Lookback: w.lb, Workers: 1, HalfLife: 9 * segment.Day})
	require.NoError(t, err)
	m := advAnsNewModel(w)
	g := &advAnsGen{rng: rng, m: m}
	var qs []string
	for len(qs) < 60 {
		e := g.leaf()
		l := strings.ToLower(e.text)
		if strings.Contains(l, "share") || strings.Contains(l, "affinity") || strings.Contains(l, "lift") ||
			strings.Contains(l, "top(") || strings.Contains(l, "rank(") {
			continue
		}
		qs = append(qs, e.text)
	}
	for _, cat := range advAnsCats {
		for _, a := range []string{"affinity", "itemshare", "ordershare"} {
			for _, k := range []int{0, 1, 2500, 3333, 5000, 6666, 9999} {
				thr := fmt.Sprintf("%d.5", k)
				for len(thr) < 6 {
					thr = "0" + thr
				}
				qs = append(qs, fmt.Sprintf(`frequency = 1 and %s(%q) >= 0.%s`, a, cat, strings.ReplaceAll(thr, ".", "")))
			}
		}
	}
	for _, q := range qs {
		a, err := x.Query(q)
		require.NoError(t, err, q)
		b, err := xh.Query(q)
		require.NoError(t, err, q)
		assert.True(t, a.Equals(b), "%s: %v without a half-life, %v with", q, a.ToArray(), b.ToArray())
	}
}

// Queries on an updated index from several goroutines at once, its
// first reads included, answer as one goroutine does.
func TestAdvAnsConcurrentQueriesOnUpdate(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 9))
	w := advAnsRandomWorld(rng, 64, true)
	h := advAnsHistory(t, w)
	x := advAnsBuild(t, h, w)
	b := affinity.NewBuilder(h)
	b.Workers = 1
	a := w.asOf.Add(segment.Day).Unix()
	require.NoError(t, b.Add(affinity.Purchase{Customer: "c03", Product: "p2", Order: "late", Time: time.Unix(a-100, 0), Quantity: 2, Price: 12345}))
	require.NoError(t, b.AddEvent(affinity.Event{Customer: "c04", Product: "p1", Time: time.Unix(a-99, 0), Kind: affinity.Cart, Weight: 1}))
	h2, err := b.Build(ctx)
	require.NoError(t, err)
	w.asOf = time.Unix(a, 0).UTC()
	w.recs = append(slices.Clone(w.recs), advAnsRec{cust: "c03", order: "late", prod: 2, t: a - 100, qty: 2, price: 12345})
	w.events = append(slices.Clone(w.events), advAnsEvent{cust: "c04", prod: 1, t: a - 99, kind: affinity.Cart})
	m := advAnsNewModel(w)
	g := &advAnsGen{rng: rng, m: m}
	var qs []advAnsExpr
	for range 24 {
		qs = append(qs, g.expr(3))
	}
	x2, err := segment.Update(ctx, x, h, h2, w.asOf, segment.UpdateOptions{Workers: 1})
	require.NoError(t, err)
	got := make([][]*roaring.Bitmap, 4)
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() {
			for j := range qs {
				q := qs[(j+i*7)%len(qs)]
				r, err := x2.Query(q.text)
				if err != nil {
					errs[i] = err
					return
				}
				got[i] = append(got[i], r)
			}
		})
	}
	wg.Wait()
	for i := range got {
		require.NoError(t, errs[i])
		for j, r := range got[i] {
			q := qs[(j+i*7)%len(qs)]
			var want []string
			for _, c := range m.cust {
				if c.known && q.eval(c) {
					want = append(want, c.key)
				}
			}
			slices.Sort(want)
			assert.Equal(t, want, slices.Sorted(x2.Keys(r)), "goroutine %d: %s", i, q.text)
		}
	}
}

// Names are Go strings: escapes denote the same name, names are
// case-sensitive (RFM segments and stages are not), keywords are not.
func TestAdvAnsQuotedNames(t *testing.T) {
	asOf := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	var b affinity.Builder
	b.Workers = 1
	cat := "Café/Crème \"Brûlée\"\\x"
	require.NoError(t, b.AddProduct(affinity.Product{Key: "q1", Categories: []string{cat}}))
	require.NoError(t, b.AddProduct(affinity.Product{Key: "q2", Categories: []string{"Home"}}))
	require.NoError(t, b.Add(affinity.Purchase{Customer: "a", Product: "q1", Order: "1", Time: asOf.Add(-time.Hour), Quantity: 1, Price: 10000}))
	require.NoError(t, b.Add(affinity.Purchase{Customer: "b", Product: "q2", Order: "2", Time: asOf.Add(-time.Hour), Quantity: 1, Price: 10000}))
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	x, err := segment.Build(context.Background(), h, asOf, segment.Options{Workers: 1})
	require.NoError(t, err)
	for _, q := range []string{
		`bought("Café/Crème \"Brûlée\"\\x")`,
		`bought("Caf\u00e9/Cr\xc3\xa8me \"Br\u00fbl\u00e9e\"\\x")`,
		`BOUGHT(category("Caf\U000000e9/Crème \x22Brûlée\x22\\x") WITHIN 1D)`,
		`affinity("Café") >= 100% and Affinity("Café/Crème \"Brûlée\"\\x") = 1`,
		"bought(\"Café\") # a comment without a newline",
		"\tbought(\"Café\")\r\n",
	} {
		got, err := x.Query(q)
		if assert.NoError(t, err, q) {
			assert.Equal(t, []string{"a"}, slices.Collect(x.Keys(got)), q)
		}
	}
	for _, q := range []string{`bought("home")`, `bought("café")`, `bought("Q1")`} {
		_, err := x.Query(q)
		assert.ErrorIs(t, err, segment.ErrUnknown, q)
	}
	for _, q := range []string{`lifecycle("NEW")`, `lifecycle("New")`, `rfm("CHAMPIONS") or not rfm("champions")`} {
		got, err := x.Query(q)
		if assert.NoError(t, err, q) {
			assert.Equal(t, []string{"a", "b"}, slices.Collect(x.Keys(got)), q)
		}
	}
}

func TestAdvAnsRawStringName(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	w := advAnsRandomWorld(rng, 6, false)
	x := advAnsBuild(t, advAnsHistory(t, w), w)
	a, err := x.Query("affinity(`Home`) >= 0.5 or bought(`p1`)")
	require.NoError(t, err)
	b, err := x.Query(`affinity("Home") >= 0.5 or bought("p1")`)
	require.NoError(t, err)
	assert.True(t, a.Equals(b))
}
