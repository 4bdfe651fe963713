package segment

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
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
	return p.eval(x, x.universe), nil
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
	return p.eval(x, x.universe), nil
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
// subset of within; it modifies neither within nor the index.
type plan interface {
	eval(x *Index, within *roaring.Bitmap) *roaring.Bitmap
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
			// cheap, selective plans first: plain sets before ranges
			slices.SortStableFunc(ps, func(a, b plan) int { return cost(a) - cost(b) })
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

// cost orders the children of an And: plain sets first.
func cost(p plan) int {
	switch p.(type) {
	case setPlan, nonePlan, allPlan:
		return 0
	case *cmpPlan, nePlan, dailyPlan:
		return 1
	}
	return 2
}

type allPlan struct{}

func (allPlan) eval(_ *Index, within *roaring.Bitmap) *roaring.Bitmap { return within.Clone() }

type nonePlan struct{}

func (nonePlan) eval(*Index, *roaring.Bitmap) *roaring.Bitmap { return roaring.New() }

type andPlan []plan

func (ps andPlan) eval(x *Index, within *roaring.Bitmap) *roaring.Bitmap {
	cur := within
	for i, p := range ps {
		cur = p.eval(x, cur)
		if cur.IsEmpty() && i < len(ps)-1 {
			break
		}
	}
	if cur == within {
		return within.Clone()
	}
	return cur
}

type orPlan []plan

func (ps orPlan) eval(x *Index, within *roaring.Bitmap) *roaring.Bitmap {
	acc := roaring.New()
	for _, p := range ps {
		acc.Or(p.eval(x, within))
	}
	return acc
}

type notPlan struct{ p plan }

func (n notPlan) eval(x *Index, within *roaring.Bitmap) *roaring.Bitmap {
	return roaring.AndNot(within, n.p.eval(x, within))
}

type setPlan struct{ b *roaring.Bitmap }

func (s setPlan) eval(_ *Index, within *roaring.Bitmap) *roaring.Bitmap {
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

func (p *cmpPlan) eval(_ *Index, within *roaring.Bitmap) *roaring.Bitmap {
	r := roaring.And(within, p.a.exist)
	if p.lo > math.MinInt64 {
		r = p.a.v.atLeast(r, p.lo)
	}
	if p.hi < math.MaxInt64 {
		r = p.a.v.atMost(r, p.hi)
	}
	if p.zero && p.lo <= 0 && 0 <= p.hi {
		r.Or(roaring.AndNot(within, p.a.exist))
	}
	return r
}

// nePlan selects the customers whose value of a is not v.
type nePlan struct {
	a    *attr
	zero bool
	v    int64
}

func (p nePlan) eval(_ *Index, within *roaring.Bitmap) *roaring.Bitmap {
	cand := roaring.And(within, p.a.exist)
	r := roaring.AndNot(cand, p.a.v.equal(cand.Clone(), p.v))
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

func (p productPlan) eval(x *Index, within *roaring.Bitmap) *roaring.Bitmap {
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

func (p dailyPlan) eval(x *Index, within *roaring.Bitmap) *roaring.Bitmap {
	r := roaring.FastOr(x.daily[p.from : p.to+1]...)
	r.And(within)
	return r
}
