package segment

import (
	"cmp"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/shopaffinity/affinity/internal/bsi"
)

// Query parses src (see [Parse]) and evaluates it: the customers it
// selects, as a new bitmap the caller owns. Syntax errors are
// *[SyntaxError]; unknown names wrap [ErrUnknown] and bad windows or ranges
// wrap [ErrInvalid], both with the line and column in src.
func (x *Index) Query(src string) (*roaring.Bitmap, error) {
	e, err := Parse(src)
	if err != nil {
		return nil, err
	}
	p, err := x.compile(e, src)
	if err != nil {
		return nil, err
	}
	return p.eval(x, x.universe, false), nil
}

// Eval evaluates e: the customers it selects among those the index knows,
// as a new bitmap the caller owns. It takes time proportional to the
// bitmaps involved, never a scan of the customers. Unknown names wrap
// [ErrUnknown]; bad windows, ranges and thresholds wrap [ErrInvalid].
func (x *Index) Eval(e Expr) (*roaring.Bitmap, error) {
	p, err := x.compile(e, "")
	if err != nil {
		return nil, err
	}
	return p.eval(x, x.universe, false), nil
}

// Check resolves the names of e and validates its windows and ranges
// without evaluating it.
func (x *Index) Check(e Expr) error {
	_, err := x.compile(e, "")
	return err
}

// definition is a named segment.
type definition struct {
	name string
	expr Expr
}

// Define returns an index that shares everything with x and knows the
// named segment name = e in addition, so that expressions can refer to it
// as segment("name") (or [Segment]). e may refer to segments defined
// before; a name can be defined only once. x itself is unchanged. The
// error wraps [ErrInvalid] for an empty or taken name and is the error of
// [Index.Check] for an invalid e.
func (x *Index) Define(name string, e Expr) (*Index, error) {
	if strings.TrimSpace(name) == "" {
		return nil, fmt.Errorf("%w: empty segment name", ErrInvalid)
	}
	if x.definition(name) != nil {
		return nil, fmt.Errorf("%w: segment %q is already defined", ErrInvalid, name)
	}
	if err := x.Check(e); err != nil {
		return nil, fmt.Errorf("segment %q: %w", name, err)
	}
	y := x.shallowCopy()
	y.defs = append(slices.Clip(x.defs), definition{name: name, expr: e})
	return y, nil
}

// Segments returns the names of the defined segments in definition order.
func (x *Index) Segments() []string {
	names := make([]string, len(x.defs))
	for i, d := range x.defs {
		names[i] = d.name
	}
	return names
}

// Definition returns the expression of the named segment.
func (x *Index) Definition(name string) (Expr, bool) {
	if d := x.definition(name); d != nil {
		return d.expr, true
	}
	return nil, false
}

func (x *Index) definition(name string) *definition {
	for i := range x.defs {
		if x.defs[i].name == name {
			return &x.defs[i]
		}
	}
	return nil
}

// shallowCopy returns a new Index sharing x's immutable data.
func (x *Index) shallowCopy() *Index {
	return &Index{
		asOf: x.asOf, opts: x.opts, lookDays: x.lookDays,
		keys: x.keys, universe: x.universe, scalars: x.scalars,
		cats: x.cats, catParent: x.catParent, catDepth: x.catDepth, catData: x.catData,
		popShare: x.popShare, catIndex: x.catIndex,
		products: x.products, prodIndex: x.prodIndex, acts: x.acts,
		day0: x.day0, daily: x.daily, rfm: x.rfm, stages: x.stages,
		revenue: x.revenue, orders: x.orders, defs: x.defs,
	}
}

// plan is a compiled expression. eval returns a new bitmap that is a
// subset of within; it modifies neither within nor the index. estimate
// guesses how many of the index's customers the plan selects, so that an
// And can evaluate its most selective operand first and hand the smaller
// result to the others.
type plan interface {
	// eval may modify and return within when own is set.
	eval(x *Index, within *roaring.Bitmap, own bool) *roaring.Bitmap
	estimate(x *Index) float64
	// cost is the relative work per candidate customer: 1 for an
	// intersection with a stored bitmap, about two per bit slice for a
	// comparison on a bit-sliced index.
	cost() float64
}

// compiler resolves names against an index; src, when not empty, is the
// text the expression was parsed from, for error positions.
type compiler struct {
	x     *Index
	src   string
	depth int
}

func (x *Index) compile(e Expr, src string) (plan, error) {
	c := &compiler{x: x, src: src}
	return c.expr(e)
}

// errorf formats an error wrapping sentinel, located at pos (offset + 1)
// when known.
func (c *compiler) errorf(sentinel error, pos int, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if pos > 0 && c.src != "" {
		line, col := position(c.src, pos-1)
		msg = fmt.Sprintf("%s at line %d, column %d", msg, line, col)
	}
	return fmt.Errorf("%w: %s", sentinel, msg)
}

func (c *compiler) expr(e Expr) (plan, error) {
	switch e := e.(type) {
	case nil:
		return nil, fmt.Errorf("%w: nil expression", ErrInvalid)
	case constExpr:
		if e.all {
			return allPlan{}, nil
		}
		return nonePlan{}, nil
	case *boolExpr:
		ps := make([]plan, len(e.xs))
		for i, x := range e.xs {
			p, err := c.expr(x)
			if err != nil {
				return nil, err
			}
			ps[i] = p
		}
		if e.and {
			// Each operand of an And works on what the earlier ones left,
			// so they run in the order of cost per candidate over the
			// share of candidates they remove (the classic ordering of
			// independent filters): cheap, selective operands first.
			type byRank struct {
				p    plan
				rank float64
			}
			n := float64(c.x.universe.GetCardinality())
			es := make([]byRank, len(ps))
			for i, p := range ps {
				removed := 1.0
				if n > 0 {
					removed = 1 - min(p.estimate(c.x)/n, 1)
				}
				es[i] = byRank{p, p.cost() / max(removed, 1e-9)}
			}
			slices.SortStableFunc(es, func(a, b byRank) int { return cmp.Compare(a.rank, b.rank) })
			for i := range es {
				ps[i] = es[i].p
			}
			return andPlan(ps), nil
		}
		return orPlan(ps), nil
	case *notExpr:
		p, err := c.expr(e.x)
		if err != nil {
			return nil, err
		}
		return notPlan{p}, nil
	case *cmpExpr:
		return c.comparison(e)
	case Activity:
		return c.activity(e)
	case *abandonedExpr:
		days, err := c.window(e.within, e.pos)
		if err != nil {
			return nil, err
		}
		return rangePlan(&c.x.scalars[scAbandoned], false, math.MinInt64, int64(days-1)), nil
	case *activeExpr:
		return c.active(e)
	case *refExpr:
		return c.ref(e)
	case *topExpr:
		id, err := c.category(e.cat, e.pos)
		if err != nil {
			return nil, err
		}
		n := e.n
		if n == 0 {
			n = c.x.opts.TopN
		}
		if n < 1 || n > c.x.opts.TopN {
			return nil, c.errorf(ErrInvalid, e.pos, "top %d exceeds the index's TopN %d", n, c.x.opts.TopN)
		}
		return rangePlan(&c.x.catData[id].rank, false, 1, int64(n)), nil
	}
	return nil, fmt.Errorf("%w: unsupported expression %T", ErrInvalid, e)
}

// category resolves a category path.
func (c *compiler) category(path string, pos int) (uint32, error) {
	if id, ok := c.x.lookupCategory(path); ok {
		return id, nil
	}
	msg := fmt.Sprintf("category %q", path)
	if s := c.x.suggestCategories(path); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, ", "))
	}
	return 0, c.errorf(ErrUnknown, pos, "%s", msg)
}

// suggestCategories returns up to three known paths that equal path
// ignoring case, or whose last level equals path's last level.
func (x *Index) suggestCategories(path string) []string {
	last := func(s string) string { return s[strings.LastIndex(s, "/")+1:] }
	want := strings.TrimSpace(last(path))
	var out []string
	for _, p := range x.cats {
		if strings.EqualFold(p, path) || strings.EqualFold(last(p), want) {
			out = append(out, fmt.Sprintf("%q", p))
			if len(out) == 3 {
				break
			}
		}
	}
	return out
}

// window converts an activity window to days; 0 means the look-back.
func (c *compiler) window(d time.Duration, pos int) (int, error) {
	if d == 0 {
		return c.x.lookDays, nil
	}
	days, err := wholeDays("window", d)
	if err != nil {
		return 0, c.errorf(ErrInvalid, pos, "%s", strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": "))
	}
	if days > c.x.lookDays {
		return 0, c.errorf(ErrInvalid, pos, "window %dd exceeds the index's look-back of %dd", days, c.x.lookDays)
	}
	return days, nil
}

func (c *compiler) activity(a Activity) (plan, error) {
	if len(a.targets) == 0 {
		return nil, c.errorf(ErrInvalid, a.pos, "%s() without a category or product", actNames[a.kind%numActs])
	}
	days, err := c.window(a.within, a.pos)
	if err != nil {
		return nil, err
	}
	var ps []plan
	var prods []uint32
	for _, t := range a.targets {
		cat, isCat := c.x.lookupCategory(t.key)
		prod, isProd := c.x.prodIndex[t.key]
		switch t.kind {
		case targetCategory:
			isProd = false
		case targetProduct:
			isCat = false
		}
		switch {
		case isCat && isProd:
			return nil, c.errorf(ErrInvalid, a.pos, "%q is both a category and a product; write category(%q) or product(%q)", t.key, t.key, t.key)
		case isProd:
			prods = append(prods, prod)
		case isCat:
			d := &c.x.catData[cat]
			switch a.kind {
			case actBought:
				if days == c.x.lookDays {
					ps = append(ps, setPlan{d.bought})
				} else {
					ps = append(ps, rangePlan(&attr{exist: d.bought, v: d.days}, false, math.MinInt64, int64(days-1)))
				}
			case actViewed:
				ps = append(ps, rangePlan(&d.viewed, false, math.MinInt64, int64(days-1)))
			case actCarted:
				ps = append(ps, rangePlan(&d.carted, false, math.MinInt64, int64(days-1)))
			}
		case t.kind == targetProduct:
			return nil, c.errorf(ErrUnknown, a.pos, "product %q", t.key)
		case t.kind == targetCategory:
			_, err := c.category(t.key, a.pos)
			return nil, err
		default:
			_, err := c.category(t.key, a.pos)
			return nil, fmt.Errorf("%w (nor a product)", err)
		}
	}
	if len(prods) > 0 {
		ps = append(ps, productPlan{kind: a.kind, prods: prods, days: uint16(min(days, math.MaxUint16))})
	}
	if len(ps) == 1 {
		return ps[0], nil
	}
	return orPlan(ps), nil
}

func (c *compiler) active(e *activeExpr) (plan, error) {
	if e.from.After(e.to) {
		return nil, c.errorf(ErrInvalid, e.pos, "empty date range: %s is after %s", e.from.Format(time.DateOnly), e.to.Format(time.DateOnly))
	}
	from := floorDiv(e.from.Unix(), secondsPerDay) - c.x.day0
	to := floorDiv(e.to.Unix(), secondsPerDay) - c.x.day0
	from, to = max(from, 0), min(to, int64(len(c.x.daily))-1)
	if from > to {
		return nonePlan{}, nil
	}
	return dailyPlan{from: int(from), to: int(to)}, nil
}

func (c *compiler) ref(e *refExpr) (plan, error) {
	switch e.kind {
	case refSegment:
		d := c.x.definition(e.name)
		if d == nil {
			return nil, c.errorf(ErrUnknown, e.pos, "segment %q", e.name)
		}
		c.depth++
		defer func() { c.depth-- }()
		if c.depth > len(c.x.defs) {
			return nil, c.errorf(ErrInvalid, e.pos, "segment %q refers to itself", e.name)
		}
		inner := &compiler{x: c.x, depth: c.depth}
		return inner.expr(d.expr)
	case refRFM:
		for i, r := range c.x.opts.RFMRules {
			if strings.EqualFold(r.Name, strings.TrimSpace(e.name)) {
				return setPlan{c.x.rfm[i]}, nil
			}
		}
		return nil, c.errorf(ErrUnknown, e.pos, "RFM segment %q (known: %s)", e.name, strings.Join(c.x.RFMSegments(), ", "))
	case refLifecycle:
		for i, s := range stages {
			if strings.EqualFold(s, strings.TrimSpace(e.name)) {
				return setPlan{c.x.stages[i]}, nil
			}
		}
		return nil, c.errorf(ErrUnknown, e.pos, "lifecycle stage %q (known: %s)", e.name, strings.Join(stages[:], ", "))
	}
	return nil, fmt.Errorf("%w: unsupported reference", ErrInvalid)
}

// scale is the number of stored units per natural unit of an attribute.
func scaleOf(u unit) float64 {
	switch u {
	case unitMoney, unitShare:
		return shareScale // Money and shares both count ten-thousandths
	}
	return 1
}

func (c *compiler) comparison(e *cmpExpr) (plan, error) {
	if e.a.kind == 0 || int(e.a.kind) >= len(attrInfo) {
		return nil, fmt.Errorf("%w: invalid attribute", ErrInvalid)
	}
	if e.op == 0 || e.op > opBetween {
		return nil, fmt.Errorf("%w: invalid comparison", ErrInvalid)
	}
	info := attrInfo[e.a.kind]
	for _, v := range []float64{e.v, e.hi} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, c.errorf(ErrInvalid, e.pos, "threshold %v of %s is not a number", v, e.a)
		}
	}
	if e.op == opBetween && e.v > e.hi {
		return nil, c.errorf(ErrInvalid, e.pos, "empty range: %s between %s and %s",
			e.a, formatValue(e.v, info.unit), formatValue(e.hi, info.unit))
	}
	var a *attr
	scale := scaleOf(info.unit)
	if info.category {
		id, err := c.category(e.a.cat, e.pos)
		if err != nil {
			return nil, err
		}
		d := &c.x.catData[id]
		if c.x.exact {
			if p, ok := c.exactShare(e, d, id); ok {
				return p, nil
			}
		}
		switch e.a.kind {
		case akAffinity:
			a = &attr{exist: d.bought, v: d.spend}
		case akItemShare:
			a = &attr{exist: d.bought, v: d.items}
		case akOrderShare:
			a = &attr{exist: d.bought, v: d.orders}
		case akLift:
			a = &attr{exist: d.bought, v: d.spend}
			pop := c.x.popShare[id]
			if pop <= 0 {
				// no one spent in the category: every lift is 0
				if matchesZero(bounds(e, 1)) {
					return allPlan{}, nil
				}
				return nonePlan{}, nil
			}
			scale = shareScale * pop
		case akCatRecency:
			a = &attr{exist: d.bought, v: d.days}
		case akRank:
			a = &d.rank
		}
	} else {
		a = &c.x.scalars[scalarOf[e.a.kind]]
	}
	lo, hi, ne := bounds(e, scale)
	if ne != nil {
		return nePlan{a: a, zero: info.zero, v: *ne}, nil
	}
	return rangePlan(a, info.zero, lo, hi), nil
}

// exactShare compiles a comparison of a share attribute of category id
// to an exact plan; ok is false for the other attributes.
func (c *compiler) exactShare(e *cmpExpr, d *catData, id uint32) (p plan, ok bool) {
	k := 0
	switch e.a.kind {
	case akAffinity, akLift:
	case akItemShare:
		k = 1
	case akOrderShare:
		k = 2
	default:
		return nil, false
	}
	v, hi := ratOf(e.v), ratOf(e.hi)
	if e.a.kind == akLift {
		// lift ≥ t ⟺ share ≥ t·pop, pop = Σ spend in the category / Σ spend
		pop := new(big.Rat)
		if c.x.popDen.Sign() > 0 && d.popNum.Sign() > 0 {
			pop.SetFrac(d.popNum, c.x.popDen)
		}
		if pop.Sign() == 0 {
			// no one spent in the category: every lift is 0
			if matchesZero(bounds(e, 1)) {
				return allPlan{}, true
			}
			return nonePlan{}, true
		}
		v.Mul(v, pop)
		hi.Mul(hi, pop)
	}
	stored := [...]bsi.BSI{d.spend, d.items, d.orders}[k]
	return exactComparison(&attr{exist: d.bought, v: stored}, d.exNum[k], c.x.exDen[k], e.op, v, hi), true
}

var scalarOf = [...]int{
	akRecency: scRecency, akTenure: scTenure, akFrequency: scFrequency, akMonetary: scMonetary,
	akAOV: scAOV, akRScore: scR, akFScore: scF, akMScore: scM,
}

// bounds converts a comparison with thresholds in natural units into an
// inclusive range [lo, hi] of stored integers (scale stored units per
// natural unit). For != it returns the excluded value in ne instead, or an
// empty range when the value cannot be stored exactly. Thresholds within
// 1e-9 (relative) of a whole stored unit count as that unit, so that 0.3
// means 3000/10000 despite binary floating point.
func bounds(e *cmpExpr, scale float64) (lo, hi int64, ne *int64) {
	t := snap(e.v * scale)
	lo, hi = math.MinInt64, math.MaxInt64
	switch e.op {
	case opGE:
		lo = toInt(math.Ceil(t))
	case opGT:
		lo = satAdd(toInt(math.Floor(t)), 1)
	case opLE:
		hi = toInt(math.Floor(t))
	case opLT:
		hi = satAdd(toInt(math.Ceil(t)), -1)
	case opEQ:
		if t != math.Trunc(t) {
			return 1, 0, nil
		}
		lo, hi = toInt(t), toInt(t)
	case opNE:
		if t != math.Trunc(t) {
			return math.MinInt64, math.MaxInt64, nil
		}
		v := toInt(t)
		return 0, 0, &v
	case opBetween:
		lo, hi = toInt(math.Ceil(t)), toInt(math.Floor(snap(e.hi*scale)))
	}
	return lo, hi, nil
}

// matchesZero reports whether 0 satisfies the result of bounds.
func matchesZero(lo, hi int64, ne *int64) bool {
	if ne != nil {
		return *ne != 0
	}
	return lo <= 0 && 0 <= hi
}

func snap(t float64) float64 {
	if r := math.Round(t); math.Abs(t-r) <= 1e-9*math.Max(1, math.Abs(t)) {
		return r
	}
	return t
}

func toInt(f float64) int64 {
	switch {
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}

func satAdd(a, b int64) int64 {
	s := a + b
	if b > 0 && s < a {
		return math.MaxInt64
	}
	if b < 0 && s > a {
		return math.MinInt64
	}
	return s
}

type allPlan struct{}

func (allPlan) eval(_ *Index, within *roaring.Bitmap, own bool) *roaring.Bitmap {
	if own {
		return within
	}
	return within.Clone()
}

func (allPlan) estimate(x *Index) float64 { return float64(x.universe.GetCardinality()) }

func (allPlan) cost() float64 { return 1 }

type nonePlan struct{}

func (nonePlan) eval(*Index, *roaring.Bitmap, bool) *roaring.Bitmap { return roaring.New() }

func (nonePlan) estimate(*Index) float64 { return 0 }

func (nonePlan) cost() float64 { return 0 }

type andPlan []plan

func (ps andPlan) eval(x *Index, within *roaring.Bitmap, own bool) *roaring.Bitmap {
	cur := within
	for i, p := range ps {
		cur = p.eval(x, cur, own)
		own = true // every operand returns a bitmap of its own
		if cur.IsEmpty() && i < len(ps)-1 {
			break
		}
	}
	if !own {
		return within.Clone()
	}
	return cur
}

func (ps andPlan) cost() float64 {
	var c float64
	for _, p := range ps {
		c += p.cost()
	}
	return c
}

func (ps andPlan) estimate(x *Index) float64 {
	e := float64(x.universe.GetCardinality())
	for _, p := range ps {
		e = min(e, p.estimate(x))
	}
	return e
}

type orPlan []plan

func (ps orPlan) cost() float64 { return andPlan(ps).cost() + 1 }

func (ps orPlan) estimate(x *Index) float64 {
	var e float64
	for _, p := range ps {
		e += p.estimate(x)
	}
	return min(e, float64(x.universe.GetCardinality()))
}

func (ps orPlan) eval(x *Index, within *roaring.Bitmap, _ bool) *roaring.Bitmap {
	acc := roaring.New()
	for _, p := range ps {
		acc.Or(p.eval(x, within, false))
	}
	return acc // a subset of within: every operand's result is
}

type notPlan struct{ p plan }

func (n notPlan) cost() float64 {
	if _, ok := n.p.(setPlan); ok {
		return 1
	}
	return n.p.cost() + 1
}

func (n notPlan) estimate(x *Index) float64 {
	return max(0, float64(x.universe.GetCardinality())-n.p.estimate(x))
}

func (n notPlan) eval(x *Index, within *roaring.Bitmap, own bool) *roaring.Bitmap {
	var out *roaring.Bitmap
	if s, ok := n.p.(setPlan); ok {
		out = s.b
	} else {
		out = n.p.eval(x, within, false)
	}
	if own {
		within.AndNot(out)
		return within
	}
	return roaring.AndNot(within, out)
}

type setPlan struct{ b *roaring.Bitmap }

func (s setPlan) estimate(*Index) float64 { return float64(s.b.GetCardinality()) }

func (setPlan) cost() float64 { return 1 }

func (s setPlan) eval(_ *Index, within *roaring.Bitmap, own bool) *roaring.Bitmap {
	if own {
		within.And(s.b)
		return within
	}
	return roaring.And(within, s.b)
}

// cmpPlan selects the customers whose value of a lies in [lo, hi]; when
// zero is set, customers without a value count as 0.
type cmpPlan struct {
	a      *attr
	zero   bool
	lo, hi int64
}

func rangePlan(a *attr, zero bool, lo, hi int64) plan {
	if lo > hi {
		return nonePlan{}
	}
	return &cmpPlan{a: a, zero: zero, lo: lo, hi: hi}
}

// estimate assumes values spread evenly over the range the slices can
// hold: crude, but it tells a two-week recency window from a share above
// 0.2.
func (p *cmpPlan) estimate(x *Index) float64 {
	if i, j, ok := p.binRange(); ok {
		if i > j {
			return 0
		}
		return float64(p.a.cum[j+1] - p.a.cum[i])
	}
	n := float64(p.a.exist.GetCardinality())
	lo, hi := float64(p.a.v.Base), float64(p.a.v.Base)+math.Exp2(float64(len(p.a.v.Slices)))-1
	frac := 1.0
	if hi > lo {
		frac = max(0, min(hi, float64(p.hi))-max(lo, float64(p.lo))+1) / (hi - lo + 1)
	}
	e := n * frac
	if p.zero && p.lo <= 0 && 0 <= p.hi {
		e += float64(x.universe.GetCardinality()) - n
	}
	return e
}

func (p *cmpPlan) cost() float64 {
	if p.a.levels != nil {
		return 1
	}
	if p.a.bins != nil {
		return 2
	}
	return 2 + 2*float64(len(p.a.v.Slices))
}

// binRange returns the bins [i, j] that hold the values in [p.lo, p.hi];
// ok is false when p.a has no bins.
func (p *cmpPlan) binRange() (i, j int, ok bool) {
	bins := p.a.bins
	if bins == nil {
		return 0, 0, false
	}
	base := p.a.v.Base
	i = int(max(p.lo, base) - base)
	if p.lo > base+int64(len(bins)) {
		i = len(bins)
	}
	j = len(bins) - 1
	if p.hi < base+int64(len(bins)) {
		j = int(p.hi - base)
		if p.hi < base {
			j = -1
		}
	}
	return i, j, true
}

func (p *cmpPlan) eval(x *Index, within *roaring.Bitmap, own bool) *roaring.Bitmap {
	if i, j, ok := p.binRange(); ok {
		if i > j {
			return roaring.New()
		}
		if a := p.a; a.levels != nil {
			// values in [i, j] = (offset ≤ j) minus (offset ≤ i-1)
			r := a.atMostOffset(j)
			a.removeAtMostOffset(r, i-1)
			r.And(within)
			return r
		}
		// the union of the fewer bins, inside the range or outside it, when
		// that is cheaper than a pass over the bit slices
		a := p.a
		inside := a.cum[j+1] - a.cum[i]
		outside := a.cum[len(a.bins)] - inside
		if min(inside, outside) <= 4*within.GetCardinality() {
			if inside <= outside {
				r := x.union(a.bins[i : j+1])
				r.And(within)
				return r
			}
			r := and(within, a.exist, own)
			r.AndNot(x.union(append(slices.Clip(a.bins[:i]), a.bins[j+1:]...)))
			return r
		}
	}
	var missing *roaring.Bitmap // customers without a value, when they count as 0
	if p.zero && p.lo <= 0 && 0 <= p.hi {
		missing = roaring.AndNot(within, p.a.exist)
	}
	r := and(within, p.a.exist, own)
	v := &p.a.v
	// the more selective bound first, so that the other works on fewer
	// columns (values assumed spread over the slices' range)
	top := float64(v.Base) + math.Exp2(float64(len(v.Slices)))
	if float64(p.hi)-float64(v.Base) < top-float64(p.lo) {
		r = v.AtMost(r, p.hi)
		r = v.AtLeast(r, p.lo)
	} else {
		r = v.AtLeast(r, p.lo)
		r = v.AtMost(r, p.hi)
	}
	if missing != nil {
		r.Or(missing)
	}
	return r
}

// nePlan selects the customers whose value of a is not v.
type nePlan struct {
	a    *attr
	zero bool
	v    int64
}

func (p nePlan) cost() float64 { return 2 + float64(len(p.a.v.Slices)) }

func (p nePlan) estimate(x *Index) float64 {
	if p.zero {
		return float64(x.universe.GetCardinality())
	}
	return float64(p.a.exist.GetCardinality())
}

func (p nePlan) eval(_ *Index, within *roaring.Bitmap, _ bool) *roaring.Bitmap {
	cand := roaring.And(within, p.a.exist)
	r := roaring.AndNot(cand, p.a.v.Equal(cand.Clone(), p.v))
	if p.zero && p.v != 0 {
		r.Or(roaring.AndNot(within, p.a.exist))
	}
	return r
}

// productPlan materializes the customers of some products' postings whose
// last interaction was less than days ago.
type productPlan struct {
	kind  int
	prods []uint32
	days  uint16
}

func (productPlan) cost() float64 { return 2 }

func (p productPlan) estimate(x *Index) float64 {
	var n float64
	for _, prod := range p.prods {
		n += float64(x.acts[p.kind].off[prod+1] - x.acts[p.kind].off[prod])
	}
	return n
}

func (p productPlan) eval(x *Index, within *roaring.Bitmap, _ bool) *roaring.Bitmap {
	ps := &x.acts[p.kind]
	acc := roaring.New()
	var ids []uint32
	for _, prod := range p.prods {
		ids = ids[:0]
		lo, hi := ps.off[prod], ps.off[prod+1]
		for i := lo; i < hi; i++ {
			if ps.days[i] < p.days {
				ids = append(ids, ps.cust[i])
			}
		}
		if len(p.prods) == 1 {
			acc.AddMany(ids)
		} else {
			acc.Or(roaring.BitmapOf(ids...))
		}
	}
	acc.And(within)
	return acc
}

// dailyPlan selects the customers active on days [from, to] of x.daily.
type dailyPlan struct{ from, to int }

func (dailyPlan) cost() float64 { return 2 }

func (p dailyPlan) estimate(x *Index) float64 {
	var n float64
	for _, b := range x.daily[p.from : p.to+1] {
		n += float64(b.GetCardinality())
	}
	return n
}

func (p dailyPlan) eval(x *Index, within *roaring.Bitmap, _ bool) *roaring.Bitmap {
	r := x.union(x.daily[p.from : p.to+1])
	r.And(within)
	return r
}

// union returns the union of bms, bitmaps of customers. Many bitmaps are
// merged by setting bits in a dense array, in time linear in their sizes
// and the number of customers, where merging array containers pair by pair
// costs time quadratic in their number.
func (x *Index) union(bms []*roaring.Bitmap) *roaring.Bitmap {
	switch len(bms) {
	case 0:
		return roaring.New()
	case 1:
		return bms[0].Clone()
	case 2:
		return roaring.Or(bms[0], bms[1])
	}
	words := make([]uint64, (len(x.keys)+63)/64)
	var buf [512]uint32
	for _, b := range bms {
		it := b.ManyIterator()
		for n := it.NextMany(buf[:]); n > 0; n = it.NextMany(buf[:]) {
			for _, c := range buf[:n] {
				words[c>>6] |= 1 << (c & 63)
			}
		}
	}
	return roaring.FromDense(words, true)
}

// and returns within ∩ b, in place when own is set.
func and(within, b *roaring.Bitmap, own bool) *roaring.Bitmap {
	if own {
		within.And(b)
		return within
	}
	return roaring.And(within, b)
}
