package segment_test

import (
	"cmp"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/segment"
)

// This file is the oracle of the property tests: features computed the
// slow, obvious way from the raw lines of a History, following the
// package documentation, and expressions evaluated customer by customer.

const day = 86400

// naiveCustomer holds one customer's features.
type naiveCustomer struct {
	known                      bool
	recency, tenure, abandoned int // -1 = none
	freq                       int
	monetary                   int64
	spendQ, itemQ, orderQ      map[affinity.CategoryID]int
	catDays, rank              map[affinity.CategoryID]int
	evDays                     [2]map[affinity.CategoryID]int // views, carts
	prodDays                   [3]map[affinity.ProductID]int  // bought, viewed, carted
	days                       map[int64]bool                 // Unix days with a bought order
	r, f, m                    int
	rfm, stage                 string
	spend                      map[affinity.CategoryID]float64
	totSpend                   float64
	lastBuy                    int64 // Unix time of the last bought order
	// exact shares, without half-life: numerators per category (spend,
	// items, orders) and denominators, turned into rationals when asked
	// for (exactShare), as few are
	exNum [3]map[affinity.CategoryID]fracSum
	exDen [3]int64
}

// exactShare returns the exact share k (0 spend, 1 items, 2 orders) of
// category cc: 0 without a purchase in it or without a positive total.
func (c *naiveCustomer) exactShare(k int, cc affinity.CategoryID) *big.Rat {
	num, ok := c.exNum[k][cc]
	if !ok || c.exDen[k] <= 0 {
		return new(big.Rat)
	}
	r := num.rat()
	return r.Quo(r, new(big.Rat).SetInt64(c.exDen[k]))
}

// fracSum is an exact sum of fractions, one integer numerator per
// denominator (a short list: a product's denominator is its number of
// category paths), so that adding costs no gcd; the test data never
// comes near int64's range, and checkedAdd panics rather than wraps.
type fracSum []frac

// frac is the fraction num/den.
type frac struct{ num, den int64 }

// add returns s plus num/den.
func (s fracSum) add(num, den int64) fracSum {
	for i := range s {
		if s[i].den == den {
			s[i].num = checkedAdd(s[i].num, num)
			return s
		}
	}
	return append(s, frac{num, den})
}

// rat returns the sum as a rational.
func (s fracSum) rat() *big.Rat {
	if len(s) == 1 { // the usual case: one category path per product
		return big.NewRat(s[0].num, s[0].den)
	}
	r := new(big.Rat)
	for _, f := range s {
		r.Add(r, big.NewRat(f.num, f.den))
	}
	return r
}

// cmp compares the sums s and t as -1, 0 or +1: when each is a single
// fraction (the usual case) by cross-multiplying, as the denominators are
// positive, unless a product leaves int64; through rationals otherwise.
func (s fracSum) cmp(t fracSum) int {
	if len(s) == 1 && len(t) == 1 {
		x, xok := mulOK(s[0].num, t[0].den)
		y, yok := mulOK(t[0].num, s[0].den)
		if xok && yok {
			return cmp.Compare(x, y)
		}
	}
	return s.rat().Cmp(t.rat())
}

// mulOK returns a times b and whether the product fits in int64.
func mulOK(a, b int64) (int64, bool) {
	p := a * b
	return p, a == 0 || (p/a == b && !(a == -1 && b == math.MinInt64))
}

func checkedAdd(a, b int64) int64 {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		panic("naive: exact sum leaves int64")
	}
	return s
}

func checkedMul(a, b int64) int64 {
	p := a * b
	if a != 0 && (p/a != b || (a == -1 && b == math.MinInt64)) {
		panic("naive: exact product leaves int64")
	}
	return p
}

// naive is the oracle for one History, asOf and options.
type naive struct {
	h        *affinity.History
	asOf     int64
	opts     segment.Options
	look     int64 // the look-back in days, rounded up
	start    int64 // the look-back is (start, asOf]
	cust     []naiveCustomer
	popShare map[affinity.CategoryID]float64
	popExact map[affinity.CategoryID]*big.Rat
}

func newNaive(h *affinity.History, asOf time.Time, opts segment.Options) *naive {
	if opts.Lookback.IsZero() {
		opts.Lookback = affinity.Months(segment.DefaultLookbackMonths)
	}
	start := opts.Lookback.Start(asOf).Unix()
	look := (asOf.Unix() - start + day - 1) / day
	if opts.Lookback.All {
		start, look = math.MinInt64, 1<<16-1
	}
	if opts.TopN == 0 {
		opts.TopN = segment.DefaultTopN
	}
	if opts.LoyalOrders == 0 {
		opts.LoyalOrders = segment.DefaultLoyalOrders
	}
	if opts.LapseAfter == 0 {
		opts.LapseAfter = min(segment.DefaultLapseAfter, time.Duration(look)*segment.Day)
	}
	if opts.ChurnAfter == 0 {
		opts.ChurnAfter = max(segment.DefaultChurnAfter, opts.LapseAfter+segment.Day)
	}
	if opts.RFMRules == nil {
		opts.RFMRules = segment.DefaultRFMRules()
	}
	n := &naive{h: h, asOf: asOf.Unix(), opts: opts, look: look, start: start}
	n.cust = make([]naiveCustomer, h.NumCustomers())
	for c := range n.cust {
		n.customer(affinity.CustomerID(c))
	}
	n.population()
	n.rfmScores()
	return n
}

func quant(num, den float64) int {
	if den <= 0 {
		return 0
	}
	return int(min(math.Round(num/den*10000), 10000))
}

func (n *naive) customer(id affinity.CustomerID) {
	h, cat := n.h, n.h.Catalog()
	c := &n.cust[id]
	*c = naiveCustomer{recency: -1, tenure: -1, abandoned: -1, days: map[int64]bool{}, lastBuy: math.MinInt64}
	olo, ohi := h.CustomerOrders(id)
	elo, ehi := h.CustomerEvents(id)
	// Only the orders and events in the look-back write the maps below
	// (days aside). A customer without any, as most of those of the
	// 70,000-customer tests, keeps them nil, which reads as empty: making
	// them would cost more than the rest of the customer's scan.
	inLook := func(t int64) bool { return t > n.start && t <= n.asOf }
	active := false
	for o := olo; o < ohi && !active; o++ {
		active = inLook(h.OrderUnix(o))
	}
	for i := elo; i < ehi && !active; i++ {
		active = inLook(h.Event(i).Unix)
	}
	// exact sums: per share k and category, one integer numerator per
	// denominator (a product's number of category paths)
	exNum, exDen := &c.exNum, &c.exDen
	if active {
		c.spendQ, c.itemQ, c.orderQ = map[affinity.CategoryID]int{}, map[affinity.CategoryID]int{}, map[affinity.CategoryID]int{}
		c.catDays, c.rank = map[affinity.CategoryID]int{}, map[affinity.CategoryID]int{}
		c.spend = map[affinity.CategoryID]float64{}
		for k := range exNum {
			exNum[k] = map[affinity.CategoryID]fracSum{}
		}
		for k := range c.evDays {
			c.evDays[k] = map[affinity.CategoryID]int{}
		}
		for k := range c.prodDays {
			c.prodDays[k] = map[affinity.ProductID]int{}
		}
	}
	add := func(m map[affinity.CategoryID]fracSum, cc affinity.CategoryID, num, den int64) {
		m[cc] = m[cc].add(num, den)
	}
	// items and ordw are written only in the look-back, lastBuy read only
	// for an event in it: an inactive customer keeps them nil too
	var items, ordw map[affinity.CategoryID]float64
	var totItems, totOrders float64
	var lastBuy map[affinity.ProductID]int64
	if active {
		items, ordw = map[affinity.CategoryID]float64{}, map[affinity.CategoryID]float64{}
		lastBuy = map[affinity.ProductID]int64{}
	}
	for o := olo; o < ohi; o++ {
		t := h.OrderUnix(o)
		if t > n.asOf {
			continue
		}
		c.known = true
		d := (n.asOf - t) / day
		inWin := t > n.start
		wt := 1.0
		if inWin && n.opts.HalfLife > 0 {
			wt = math.Exp2(-float64(n.asOf-t) / n.opts.HalfLife.Seconds())
		}
		bought := false
		var inOrder map[affinity.CategoryID]bool // written in the look-back only
		if inWin {
			inOrder = map[affinity.CategoryID]bool{}
		}
		llo, lhi := h.OrderLines(o)
		for i := llo; i < lhi; i++ {
			ln := h.Line(i)
			if inWin {
				c.monetary += int64(ln.Value())
			}
			if ln.Quantity <= 0 {
				continue
			}
			bought = true
			if active {
				lastBuy[ln.Product] = max(lastBuy[ln.Product], t)
			}
			if !inWin {
				continue
			}
			if old, ok := c.prodDays[0][ln.Product]; !ok || int(d) < old {
				c.prodDays[0][ln.Product] = int(d)
			}
			v := float64(ln.Value()) * wt
			q := float64(ln.Quantity) * wt
			c.totSpend += v
			totItems += q
			exDen[0] = checkedAdd(exDen[0], int64(ln.Value()))
			exDen[1] = checkedAdd(exDen[1], int64(ln.Quantity))
			paths := int64(len(cat.Categories(ln.Product)))
			for _, sh := range cat.Shares(ln.Product) {
				m := int64(math.Round(float64(sh.Weight) * float64(paths))) // weight m/paths
				add(exNum[0], sh.Category, checkedMul(m, int64(ln.Value())), paths)
				add(exNum[1], sh.Category, checkedMul(m, int64(ln.Quantity)), paths)
				if !inOrder[sh.Category] {
					add(exNum[2], sh.Category, 1, 1)
				}
				sw := float64(sh.Weight)
				c.spend[sh.Category] += v * sw
				items[sh.Category] += q * sw
				if !inOrder[sh.Category] {
					inOrder[sh.Category] = true
					ordw[sh.Category] += wt
				}
				if old, ok := c.catDays[sh.Category]; !ok || int(d) < old {
					c.catDays[sh.Category] = int(d)
				}
			}
		}
		if !bought {
			continue
		}
		if c.recency < 0 || int(d) < c.recency {
			c.recency = int(d)
		}
		c.tenure = max(c.tenure, int(d))
		c.lastBuy = max(c.lastBuy, t)
		c.days[int64(math.Floor(float64(t)/day))] = true
		if inWin {
			c.freq++
			totOrders += wt
			exDen[2]++
		}
	}
	for i := elo; i < ehi; i++ {
		e := h.Event(i)
		if e.Unix > n.asOf {
			continue
		}
		c.known = true
		d := int((n.asOf - e.Unix) / day)
		if e.Unix <= n.start {
			continue
		}
		k := 0
		switch e.Kind {
		case affinity.View:
			k = 1
		case affinity.Cart:
			k = 2
		default:
			continue
		}
		if old, ok := c.prodDays[k][e.Product]; !ok || d < old {
			c.prodDays[k][e.Product] = d
		}
		for _, sh := range cat.Shares(e.Product) {
			if old, ok := c.evDays[k-1][sh.Category]; !ok || d < old {
				c.evDays[k-1][sh.Category] = d
			}
		}
		if lb, ok := lastBuy[e.Product]; k == 2 && (!ok || lb < e.Unix) {
			if c.abandoned < 0 || d < c.abandoned {
				c.abandoned = d
			}
		}
	}
	for cc := range c.catDays {
		c.spendQ[cc] = quant(c.spend[cc], c.totSpend)
		c.itemQ[cc] = quant(items[cc], totItems)
		c.orderQ[cc] = quant(ordw[cc], totOrders)
	}
	// top categories per level
	var cs []affinity.CategoryID
	for cc := range c.catDays {
		cs = append(cs, cc)
	}
	slices.SortFunc(cs, func(a, b affinity.CategoryID) int {
		if da, db := cat.Depth(a), cat.Depth(b); da != db {
			return da - db
		}
		// by spend, then items, exactly without a half-life
		if n.opts.HalfLife == 0 {
			for k := range 2 {
				if d := c.exNum[k][b].cmp(c.exNum[k][a]); d != 0 {
					return d
				}
			}
			return int(a) - int(b)
		}
		if d := cmp.Compare(c.spend[b], c.spend[a]); d != 0 {
			return d
		}
		if d := cmp.Compare(items[b], items[a]); d != 0 {
			return d
		}
		return int(a) - int(b)
	})
	r, depth := 0, 0
	for _, cc := range cs {
		if cat.Depth(cc) != depth {
			depth, r = cat.Depth(cc), 0
		}
		r++
		if r <= n.opts.TopN {
			c.rank[cc] = r
		}
	}
	if c.recency >= 0 {
		lapse, churn := int(n.opts.LapseAfter/segment.Day), int(n.opts.ChurnAfter/segment.Day)
		switch {
		case c.recency > churn:
			c.stage = segment.StageChurned
		case c.recency > lapse || c.freq == 0: // no order in the look-back
			c.stage = segment.StageLapsing
		case c.freq >= n.opts.LoyalOrders:
			c.stage = segment.StageLoyal
		case c.freq >= 2:
			c.stage = segment.StageRepeat
		default:
			c.stage = segment.StageNew
		}
	}
}

func (n *naive) population() {
	n.popShare = map[affinity.CategoryID]float64{}
	n.popExact = map[affinity.CategoryID]*big.Rat{}
	tot := 0.0
	// the exact sums, in big integers (a huge spend times the customers
	// leaves int64): the spends, and per category its numerators per
	// denominator, so that adding costs no gcd
	exTot, add := new(big.Int), new(big.Int)
	popNum := map[affinity.CategoryID]map[int64]*big.Int{}
	for i := range n.cust {
		c := &n.cust[i]
		if !c.known {
			continue
		}
		tot += c.totSpend
		exTot.Add(exTot, add.SetInt64(c.exDen[0]))
		for cc := range c.catDays {
			n.popShare[cc] += c.spend[cc]
			if popNum[cc] == nil {
				popNum[cc] = map[int64]*big.Int{}
			}
			for _, f := range c.exNum[0][cc] {
				if popNum[cc][f.den] == nil {
					popNum[cc][f.den] = new(big.Int)
				}
				popNum[cc][f.den].Add(popNum[cc][f.den], add.SetInt64(f.num))
			}
		}
	}
	for cc, nums := range popNum {
		v := new(big.Rat)
		for den, num := range nums {
			v.Add(v, new(big.Rat).SetFrac(num, big.NewInt(den)))
		}
		if exTot.Sign() > 0 && v.Sign() > 0 {
			v.Quo(v, new(big.Rat).SetInt(exTot))
		} else {
			v.SetInt64(0)
		}
		n.popExact[cc] = v
	}
	for cc := range n.popShare {
		if tot > 0 {
			n.popShare[cc] /= tot
		} else {
			n.popShare[cc] = 0
		}
	}
}

func (n *naive) rfmScores() {
	var scored []int
	for i := range n.cust {
		if n.cust[i].known && n.cust[i].freq > 0 {
			scored = append(scored, i)
		}
	}
	N := len(scored)
	// L counts the customers with a strictly worse value: found by binary
	// search in the sorted values rather than by comparing every pair,
	// which is quadratic on the 70,000-customer test.
	var rec, freq, mon []int64
	for _, j := range scored {
		o := &n.cust[j]
		rec = append(rec, int64(o.recency))
		freq = append(freq, int64(o.freq))
		mon = append(mon, o.monetary)
	}
	slices.Sort(rec)
	slices.Sort(freq)
	slices.Sort(mon)
	below := func(sorted []int64, v int64) int { i, _ := slices.BinarySearch(sorted, v); return i }
	above := func(sorted []int64, v int64) int { i, _ := slices.BinarySearch(sorted, v+1); return len(sorted) - i }
	if n.opts.RFMScoring == segment.RFMNTile {
		n.ntile(scored, func(c *naiveCustomer) int64 { return c.lastBuy }, func(c *naiveCustomer, s int) { c.r = s })
		n.ntile(scored, func(c *naiveCustomer) int64 { return int64(c.freq) }, func(c *naiveCustomer, s int) { c.f = s })
		n.ntile(scored, func(c *naiveCustomer) int64 { return c.monetary }, func(c *naiveCustomer, s int) { c.m = s })
	}
	for _, i := range scored {
		c := &n.cust[i]
		if n.opts.RFMScoring != segment.RFMNTile {
			lr, gr := above(rec, int64(c.recency)), below(rec, int64(c.recency))
			lf, gf := below(freq, int64(c.freq)), above(freq, int64(c.freq))
			lm, gm := below(mon, c.monetary), above(mon, c.monetary)
			c.r, c.f, c.m = modelRankScore(lr, gr, N), modelRankScore(lf, gf, N), modelRankScore(lm, gm, N)
		}
		for _, rule := range n.opts.RFMRules {
			in := func(s segment.ScoreRange, v int) bool {
				if s == (segment.ScoreRange{}) {
					return true
				}
				return s.Min <= v && v <= s.Max
			}
			if in(rule.R, c.r) && in(rule.F, c.f) && in(rule.M, c.m) {
				c.rfm = rule.Name
				break
			}
		}
	}
}

// ntile is SQL's NTILE(5) OVER (ORDER BY val, customer_key), written the
// way the SQL standard describes it: the rows in order, the first n mod 5
// tiles one row larger than the rest.
func (n *naive) ntile(scored []int, val func(c *naiveCustomer) int64, set func(c *naiveCustomer, score int)) {
	rows := slices.Clone(scored)
	key := func(i int) string { return n.h.CustomerKey(affinity.CustomerID(i)) }
	slices.SortFunc(rows, func(a, b int) int {
		if va, vb := val(&n.cust[a]), val(&n.cust[b]); va != vb {
			return cmpInt(va, vb)
		}
		return strings.Compare(key(a), key(b))
	})
	r := 0
	for tile := 1; tile <= 5; tile++ {
		size := len(rows) / 5
		if tile <= len(rows)%5 {
			size++
		}
		for range size {
			set(&n.cust[rows[r]], tile)
			r++
		}
	}
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// set evaluates a test expression on every known customer.
func (n *naive) set(e tExpr) *roaring.Bitmap {
	b := roaring.New()
	for i := range n.cust {
		if n.cust[i].known && e.eval(n, i) {
			b.Add(uint32(i))
		}
	}
	return b
}

// tExpr is the test side's own expression tree: it renders to the text
// syntax and evaluates itself naively.
type tExpr interface {
	text() string
	eval(n *naive, c int) bool
}

type tBool struct {
	and bool
	xs  []tExpr
}

func (e tBool) text() string {
	parts := make([]string, len(e.xs))
	for i, x := range e.xs {
		parts[i] = "(" + x.text() + ")"
	}
	if e.and {
		return strings.Join(parts, " and ")
	}
	return strings.Join(parts, " OR ")
}

func (e tBool) eval(n *naive, c int) bool {
	for _, x := range e.xs {
		if x.eval(n, c) != e.and {
			return !e.and
		}
	}
	return e.and
}

type tNot struct{ x tExpr }

func (e tNot) text() string              { return "not (" + e.x.text() + ")" }
func (e tNot) eval(n *naive, c int) bool { return !e.x.eval(n, c) }
func (e tConst) text() string            { return map[bool]string{true: "all", false: "none"}[bool(e)] }
func (e tConst) eval(*naive, int) bool   { return bool(e) }
func (e tRef) eval(n *naive, c int) bool { return e.get(&n.cust[c]) == e.name }
func (e tRef) text() string              { return fmt.Sprintf("%s(%q)", e.kind, e.display) }
func (e tTop) text() string              { return fmt.Sprintf("top(%q, %d)", e.path, e.k) }
func (e tTop) eval(n *naive, c int) bool { r, ok := n.cust[c].rank[e.cat]; return ok && r <= e.k }
func (e tDaily) eval(n *naive, c int) bool {
	for d := range n.cust[c].days {
		if d >= e.from && d <= e.to {
			return true
		}
	}
	return false
}
func (e tDaily) text() string {
	f := func(d int64) string { return time.Unix(d*day, 0).UTC().Format(time.DateOnly) }
	return fmt.Sprintf("active between %q and %q", f(e.from), f(e.to))
}

type tConst bool

type tRef struct {
	kind, name, display string
	get                 func(c *naiveCustomer) string
}

type tTop struct {
	cat  affinity.CategoryID
	path string
	k    int
}

type tDaily struct{ from, to int64 }

// tCmp compares an attribute, in stored units, with [lo, hi] (inclusive)
// or, for ne, with lo.
type tCmp struct {
	src    string // the condition in the text syntax
	get    func(n *naive, c int) (v float64, ok bool)
	zero   bool // missing counts as 0
	lo, hi float64
	ne     bool
}

func (e tCmp) text() string { return e.src }

func (e tCmp) eval(n *naive, c int) bool {
	v, ok := e.get(n, c)
	if !ok {
		if !e.zero {
			return false
		}
		v = 0
	}
	if e.ne {
		return v != e.lo
	}
	return e.lo <= v && v <= e.hi
}

// tAct is bought/viewed/carted/abandoned with a window in days.
type tAct struct {
	src  string
	kind int // 0 bought, 1 viewed, 2 carted, 3 abandoned
	cats []affinity.CategoryID
	prod []affinity.ProductID
	days int
}

func (e tAct) text() string { return e.src }

func (e tAct) eval(n *naive, c int) bool {
	cu := &n.cust[c]
	if e.kind == 3 {
		return cu.abandoned >= 0 && cu.abandoned < e.days
	}
	for _, p := range e.prod {
		if d, ok := cu.prodDays[e.kind][p]; ok && d < e.days {
			return true
		}
	}
	for _, cc := range e.cats {
		var d int
		var ok bool
		if e.kind == 0 {
			d, ok = cu.catDays[cc]
		} else {
			d, ok = cu.evDays[e.kind-1][cc]
		}
		if ok && d < e.days {
			return true
		}
	}
	return false
}

// exprGen generates random test expressions over a History.
type exprGen struct {
	rng  *rand.Rand
	n    *naive
	cats []affinity.CategoryID
	prod []affinity.ProductID
}

func newExprGen(rng *rand.Rand, n *naive) *exprGen {
	g := &exprGen{rng: rng, n: n}
	cat := n.h.Catalog()
	for c := range cat.NumCategories() {
		g.cats = append(g.cats, affinity.CategoryID(c))
	}
	for p := range cat.NumProducts() {
		g.prod = append(g.prod, affinity.ProductID(p))
	}
	return g
}

func (g *exprGen) expr(depth int) tExpr {
	r := g.rng
	if depth > 0 && r.IntN(3) == 0 {
		switch r.IntN(3) {
		case 0:
			return tNot{g.expr(depth - 1)}
		default:
			k := 2 + r.IntN(2)
			xs := make([]tExpr, k)
			for i := range xs {
				xs[i] = g.expr(depth - 1)
			}
			return tBool{and: r.IntN(2) == 0, xs: xs}
		}
	}
	return g.leaf()
}

func (g *exprGen) cat() (affinity.CategoryID, string) {
	c := g.cats[g.rng.IntN(len(g.cats))]
	return c, g.n.h.Catalog().CategoryPath(c)
}

// days returns a window in days up to the look-back and its text.
func (g *exprGen) window() (int, string) {
	look := int(g.n.look)
	switch g.rng.IntN(4) {
	case 0:
		return look, ""
	case 1:
		w := 1 + g.rng.IntN(min(look, 8))
		return w, strconv.Itoa(w) + "d"
	case 2:
		if look >= 14 {
			w := 1 + g.rng.IntN(look/7)
			return 7 * w, strconv.Itoa(w) + "w"
		}
	}
	w := 1 + g.rng.IntN(look)
	return w, strconv.Itoa(w) + "d"
}

func (g *exprGen) leaf() tExpr {
	r := g.rng
	n := g.n
	switch r.IntN(12) {
	case 0, 1, 2:
		return g.scalarCmp()
	case 3, 4, 5:
		return g.categoryCmp()
	case 6, 7:
		kind := r.IntN(3)
		days, w := g.window()
		a := tAct{kind: kind, days: days}
		var targets []string
		for range 1 + r.IntN(2) {
			if r.IntN(2) == 0 {
				c, path := g.cat()
				a.cats = append(a.cats, c)
				if r.IntN(2) == 0 {
					targets = append(targets, fmt.Sprintf("category(%q)", path))
				} else {
					targets = append(targets, strconv.Quote(path))
				}
			} else {
				p := g.prod[r.IntN(len(g.prod))]
				a.prod = append(a.prod, p)
				key := n.h.Catalog().ProductKey(p)
				if r.IntN(2) == 0 {
					targets = append(targets, fmt.Sprintf("product(%q)", key))
				} else {
					targets = append(targets, strconv.Quote(key))
				}
			}
		}
		src := []string{"bought", "viewed", "carted"}[kind] + "(" + strings.Join(targets, ", ")
		switch {
		case w == "":
		case r.IntN(2) == 0:
			src += " within " + w
		default:
			src += ", " + w
		}
		a.src = src + ")"
		return a
	case 8:
		days, w := g.window()
		src := "abandoned()"
		if w != "" {
			src = "abandoned(within " + w + ")"
		}
		return tAct{src: src, kind: 3, days: days}
	case 9:
		rules := n.opts.RFMRules
		i := r.IntN(len(rules))
		display := rules[i].Name
		if r.IntN(2) == 0 {
			display = strings.ToUpper(display)
		}
		return tRef{kind: "rfm", name: rules[i].Name, display: display, get: func(c *naiveCustomer) string { return c.rfm }}
	case 10:
		st := segment.Stages()[r.IntN(5)]
		return tRef{kind: "lifecycle", name: st, display: st, get: func(c *naiveCustomer) string { return c.stage }}
	}
	switch r.IntN(5) {
	case 0:
		return tConst(r.IntN(2) == 0)
	case 1, 2:
		c, path := g.cat()
		return tTop{cat: c, path: path, k: 1 + r.IntN(n.opts.TopN)}
	}
	first := int64(math.Floor(float64(n.asOf)/day)) - n.look - 30
	from := first + int64(r.IntN(int(n.look)+60))
	return tDaily{from: from, to: from + int64(r.IntN(60))}
}

// comparison returns a random comparison of v (stored units, divided by
// scale for the text) with thresholds drawn near observed values.
func (g *exprGen) comparison(name string, get func(n *naive, c int) (float64, bool), zero bool, step float64, format func(stored float64) string) tExpr {
	r := g.rng
	// thresholds from the values of random customers, shifted a little and
	// rounded to a multiple of step (stored units)
	pick := func() float64 {
		for range 10 {
			c := r.IntN(len(g.n.cust))
			if v, ok := get(g.n, c); ok {
				return math.Round(v/step)*step + step*float64(r.IntN(3)-1)
			}
		}
		return step * float64(r.IntN(10))
	}
	a, b := pick(), pick()
	if a > b {
		a, b = b, a
	}
	inf := math.Inf(1)
	switch r.IntN(7) {
	case 0:
		return tCmp{src: name + " between " + format(a) + " and " + format(b), get: get, zero: zero, lo: a, hi: b}
	case 1:
		return tCmp{src: name + " >= " + format(a), get: get, zero: zero, lo: a, hi: inf}
	case 2:
		return tCmp{src: name + " > " + format(a), get: get, zero: zero, lo: a + 1, hi: inf}
	case 3:
		return tCmp{src: name + " <= " + format(a), get: get, zero: zero, lo: -inf, hi: a}
	case 4:
		return tCmp{src: name + " < " + format(a), get: get, zero: zero, lo: -inf, hi: a - 1}
	case 5:
		return tCmp{src: name + " = " + format(a), get: get, zero: zero, lo: a, hi: a}
	}
	return tCmp{src: name + " != " + format(a), get: get, zero: zero, lo: a, ne: true}
}

func days(v float64) string {
	if v >= 0 && int(v)%7 == 0 && v > 0 {
		return strconv.Itoa(int(v)/7) + "w"
	}
	return strconv.Itoa(int(v)) + "d"
}

func plain(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func (g *exprGen) scalarCmp() tExpr {
	r := g.rng
	switch r.IntN(8) {
	case 0:
		return g.comparison("recency", func(n *naive, c int) (float64, bool) {
			v := n.cust[c].recency
			return float64(v), v >= 0
		}, false, 1, days)
	case 1:
		return g.comparison("tenure", func(n *naive, c int) (float64, bool) {
			v := n.cust[c].tenure
			return float64(v), v >= 0
		}, false, 1, func(v float64) string { return plain(v) })
	case 2:
		return g.comparison("frequency", func(n *naive, c int) (float64, bool) {
			return float64(n.cust[c].freq), true
		}, true, 1, plain)
	case 3:
		// money: stored units, thresholds rounded to cents
		return g.comparison("monetary", func(n *naive, c int) (float64, bool) {
			return float64(n.cust[c].monetary), true
		}, true, 100, func(v float64) string { return "$" + plain(v/affinity.MoneyScale) })
	case 4:
		return g.comparison("aov", func(n *naive, c int) (float64, bool) {
			cu := &n.cust[c]
			if cu.freq == 0 {
				return 0, false
			}
			return float64(divRound(cu.monetary, int64(cu.freq))), true
		}, false, 1, func(v float64) string { return plain(v / affinity.MoneyScale) })
	}
	name := []string{"rscore", "fscore", "mscore"}[r.IntN(3)]
	return g.comparison(name, func(n *naive, c int) (float64, bool) {
		cu := &n.cust[c]
		if cu.freq == 0 {
			return 0, false
		}
		return float64(map[string]int{"rscore": cu.r, "fscore": cu.f, "mscore": cu.m}[name]), true
	}, false, 1, plain)
}

func divRound(a, b int64) int64 {
	return int64(math.Round(float64(a) / float64(b)))
}

func (g *exprGen) categoryCmp() tExpr {
	c, path := g.cat()
	q := strconv.Quote(path)
	share := func(m func(cu *naiveCustomer) map[affinity.CategoryID]int) func(n *naive, i int) (float64, bool) {
		return func(n *naive, i int) (float64, bool) {
			v, ok := m(&n.cust[i])[c]
			return float64(v), ok
		}
	}
	shareText := func(v float64) string {
		if g.rng.IntN(2) == 0 && int(v)%100 == 0 {
			return plain(v/100) + "%"
		}
		return plain(v / 10000)
	}
	if g.n.opts.HalfLife == 0 {
		switch k := g.rng.IntN(6); k {
		case 0, 1, 2:
			name := []string{"affinity", "itemshare", "ordershare"}[k]
			return g.exactCmp(name+"("+q+")", func(n *naive, i int) *big.Rat { return n.cust[i].exactShare(k, c) }, big.NewRat(1, 1))
		case 5:
			pop := g.n.popExact[c]
			if pop == nil {
				pop = new(big.Rat)
			}
			return g.exactCmp("lift("+q+")", func(n *naive, i int) *big.Rat { return n.cust[i].exactShare(0, c) }, pop)
		}
	}
	k := g.rng.IntN(6)
	if g.n.opts.HalfLife == 0 {
		k = 3 + g.rng.IntN(2) // the shares are above
	}
	switch k {
	case 0:
		return g.comparison("affinity("+q+")", share(func(cu *naiveCustomer) map[affinity.CategoryID]int { return cu.spendQ }), true, 1, shareText)
	case 1:
		return g.comparison("itemshare("+q+")", share(func(cu *naiveCustomer) map[affinity.CategoryID]int { return cu.itemQ }), true, 1, shareText)
	case 2:
		return g.comparison("ordershare("+q+")", share(func(cu *naiveCustomer) map[affinity.CategoryID]int { return cu.orderQ }), true, 1, shareText)
	case 3:
		return g.comparison("recency("+q+")", share(func(cu *naiveCustomer) map[affinity.CategoryID]int { return cu.catDays }), false, 1, days)
	case 4:
		return g.comparison("rank("+q+")", share(func(cu *naiveCustomer) map[affinity.CategoryID]int { return cu.rank }), false, 1, plain)
	}
	// lift: compared as a float, thresholds in quarters
	v := float64(g.rng.IntN(16)) / 4
	pop := g.n.popShare[c]
	get := func(n *naive, i int) (float64, bool) {
		if pop <= 0 {
			return 0, true
		}
		return float64(n.cust[i].spendQ[c]) / 10000 / pop, true
	}
	if g.rng.IntN(2) == 0 {
		return tCmp{src: fmt.Sprintf("lift(%s) >= %s", q, plain(v)), get: get, zero: true, lo: v, hi: math.Inf(1)}
	}
	return tCmp{src: fmt.Sprintf("lift(%s) < %s", q, plain(v)), get: get, zero: true, lo: math.Inf(-1), hi: math.Nextafter(v, math.Inf(-1))}
}

// tExact compares an exact share with [lo, hi] (nil: unbounded), each
// end included unless strict, or, for ne, with lo; scale multiplies the
// thresholds (the population share of a lift).
type tExact struct {
	src                string
	get                func(n *naive, c int) *big.Rat
	lo, hi             *big.Rat
	loStrict, hiStrict bool
	ne                 bool
	scale              *big.Rat
}

func (e tExact) text() string { return e.src }

func (e tExact) eval(n *naive, c int) bool {
	v := e.get(n, c)
	if e.scale != nil && e.scale.Sign() == 0 { // lift of a category no one bought: 0
		v = new(big.Rat)
	} else if e.scale != nil {
		v = new(big.Rat).Quo(v, e.scale)
	}
	if e.ne {
		return v.Cmp(e.lo) != 0
	}
	if e.lo != nil {
		if k := v.Cmp(e.lo); k < 0 || k == 0 && e.loStrict {
			return false
		}
	}
	if e.hi != nil {
		if k := v.Cmp(e.hi); k > 0 || k == 0 && e.hiStrict {
			return false
		}
	}
	return true
}

// exactCmp returns a random comparison of an exact share (a lift when
// scale is not 1) with thresholds on and next to the values of random
// customers: the value itself when it is a short decimal, else the value
// rounded to 4 or 5 decimals and moved by a step.
func (g *exprGen) exactCmp(name string, get func(n *naive, c int) *big.Rat, scale *big.Rat) tExpr {
	r := g.rng
	pick := func() *big.Rat {
		v := new(big.Rat)
		for range 10 {
			c := r.IntN(len(g.n.cust))
			if g.n.cust[c].known {
				v = get(g.n, c)
				if scale.Sign() > 0 {
					v.Quo(v, scale)
				}
				break
			}
		}
		if s := v.FloatString(8); r.IntN(3) == 0 {
			if w, _ := new(big.Rat).SetString(s); w.Cmp(v) == 0 {
				return v // a short decimal: the threshold on the value
			}
		}
		digits := 4 + r.IntN(2)
		w, _ := new(big.Rat).SetString(v.FloatString(digits))
		step := new(big.Rat).SetFrac64(int64(r.IntN(3)-1), int64(math.Pow10(digits)))
		return w.Add(w, step)
	}
	text := func(v *big.Rat) string {
		s := strings.TrimRight(strings.TrimRight(v.FloatString(10), "0"), ".")
		if scale.Cmp(big.NewRat(1, 1)) == 0 && r.IntN(3) == 0 && v.Sign() >= 0 {
			p := new(big.Rat).Mul(v, big.NewRat(100, 1))
			return strings.TrimRight(strings.TrimRight(p.FloatString(10), "0"), ".") + "%"
		}
		return s
	}
	a, b := pick(), pick()
	if a.Cmp(b) > 0 {
		a, b = b, a
	}
	e := tExact{get: get}
	if scale.Cmp(big.NewRat(1, 1)) != 0 {
		e.scale = scale
	}
	switch r.IntN(7) {
	case 0:
		e.src, e.lo, e.hi = name+" between "+text(a)+" and "+text(b), a, b
	case 1:
		e.src, e.lo = name+" >= "+text(a), a
	case 2:
		e.src, e.lo, e.loStrict = name+" > "+text(a), a, true
	case 3:
		e.src, e.hi = name+" <= "+text(a), a
	case 4:
		e.src, e.hi, e.hiStrict = name+" < "+text(a), a, true
	case 5:
		e.src, e.lo, e.hi = name+" = "+text(a), a, a
	default:
		e.src, e.lo, e.ne = name+" != "+text(a), a, true
	}
	return e
}

// checkQueries compares count random expressions on x with the oracle.
func checkQueries(t *testing.T, x *segment.Index, n *naive, rng *rand.Rand, count int) {
	t.Helper()
	g := newExprGen(rng, n)
	nontrivial := 0
	defer func() {
		// the generator must produce selective queries, not only "everyone" and "no one"
		assert.Greater(t, nontrivial, count/3, "too few selective queries")
	}()
	for i := range count {
		e := g.expr(3)
		src := e.text()
		got, err := x.Query(src)
		require.NoError(t, err, src)
		want := n.set(e)
		if !got.Equals(want) {
			extra := roaring.AndNot(got, want)
			missing := roaring.AndNot(want, got)
			t.Fatalf("query %d %s:\n got %d customers, want %d; extra %v, missing %v",
				i, src, got.GetCardinality(), want.GetCardinality(), head(extra), head(missing))
		}
		if k := got.GetCardinality(); k > 0 && int(k) < x.Len() {
			nontrivial++
		}
		// the parsed expression prints back to text with the same meaning
		parsed, err := segment.Parse(src)
		require.NoError(t, err)
		again, err := x.Query(parsed.String())
		require.NoError(t, err, parsed.String())
		require.True(t, again.Equals(got), "%s vs %s", src, parsed.String())
	}
}

func head(b *roaring.Bitmap) []uint32 {
	a := b.ToArray()
	return a[:min(len(a), 5)]
}
