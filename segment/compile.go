package segment

import (
	"cmp"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/shopaffinity/affinity/segment/query"
)

// MaxExprDepth bounds the nesting of an Expr built in Go (parsed text is
// bounded by [query.Limits] first): deeper expressions are an error
// wrapping [ErrInvalid] that names the limit. And and Or of the same
// kind count once, however they are nested.
const MaxExprDepth = 10_000

// compiler resolves names against an index; src, when not empty, is the
// text the expression was parsed from, for error positions.
type compiler struct {
	x     *Index
	src   string
	refs  int // segment references being expanded
	depth int
	// deepest is the greatest depth reached so far
	deepest int
	// defs holds the definitions compiled so far in this compilation,
	// shared by the compilers of the references, so that each is
	// compiled once however often it is referred to
	defs map[int]compiledDef // by position in the index's definitions
	// nodes holds the And, Or and Not nodes compiled so far, by pointer,
	// shared likewise: a tree built in Go may share a node among several
	// parents, and would take time exponential in its depth to compile
	// and evaluate as if each parent had its own copy
	nodes map[Expr]compiledDef
	// daily holds the plans of the active ranges compiled so far, by
	// range, shared likewise: each merges a bitmap per day, once however
	// often a query asks for the range
	daily map[[2]int]*refPlan
	// anyAttrs lets a customer attribute the index lacks compile (to an
	// empty set): for checking the definitions of a file, whose
	// attributes are attached after it is read
	anyAttrs bool
}

// compiledDef is the plan of a definition (or shared node) and how many
// levels below the reference it nests (the depth limit applies as if it
// were inlined).
type compiledDef struct {
	p      plan
	height int
}

// errTooDeep is the error of an expression nested deeper than MaxExprDepth.
var errTooDeep = fmt.Errorf("%w: expression nested deeper than MaxExprDepth (%d)", ErrInvalid, MaxExprDepth)

// reuse returns the plan of a definition or node met again at c.depth,
// checking the depth limit as if it were inlined here and counting the
// use of a shared plan (see refPlan).
func (c *compiler) reuse(cd compiledDef) (plan, error) {
	if c.depth+cd.height > MaxExprDepth {
		return nil, errTooDeep
	}
	c.deepest = max(c.deepest, c.depth+cd.height)
	if r, ok := cd.p.(*refPlan); ok {
		r.uses++
	}
	return cd.p, nil
}

// shared wraps a composite plan so that, used more than once in a query,
// it is evaluated once (see refPlan); leaves are cheap to evaluate again,
// and a refPlan counts its uses already.
func shared(p plan) plan {
	switch p.(type) {
	case andPlan, orPlan, notPlan:
		return &refPlan{p: p, uses: 1}
	}
	return p
}

// valueNode returns e with the pointer forms of the value nodes
// (*query.Const and *query.Activity, which satisfy Expr through their
// value methods) dereferenced, and false for a nil expression or a nil
// pointer node.
func valueNode(e Expr) (Expr, bool) {
	switch n := e.(type) {
	case nil:
		return nil, false
	case *query.Const:
		if n == nil {
			return nil, false
		}
		return *n, true
	case *query.Activity:
		if n == nil {
			return nil, false
		}
		return *n, true
	case *query.Bool:
		return e, n != nil
	case *query.Negation:
		return e, n != nil
	case *query.Compare:
		return e, n != nil
	case *query.Abandoned:
		return e, n != nil
	case *query.Active:
		return e, n != nil
	case *query.Ref:
		return e, n != nil
	case *query.Top:
		return e, n != nil
	}
	return e, true
}

func (x *Index) compile(e Expr, src string) (plan, error) {
	c := &compiler{x: x, src: src}
	p, err := c.expr(e)
	if r, ok := p.(*refPlan); ok && r.uses <= 1 { // the root, used once
		p = r.p
	}
	return p, err
}

// errorf formats an error wrapping sentinel, located at pos (offset + 1
// in the parsed text) when known: then a *QueryError.
func (c *compiler) errorf(sentinel error, pos int, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if pos > 0 && c.src != "" {
		line, col := query.Position(c.src, pos-1)
		return &QueryError{Err: sentinel, Msg: msg, Offset: min(pos-1, len(c.src)), Line: line, Column: col}
	}
	return fmt.Errorf("%w: %s", sentinel, msg)
}

// QueryError is an error in the meaning of a query text that parsed — an
// unknown name ([ErrUnknown]) or an unusable window, range or threshold
// ([ErrInvalid]) — with where in the text it is, as [SyntaxError] gives
// for a syntax error: the byte Offset and the 1-based Line and Column (in
// code points). Errors of expressions built in Go, which have no text,
// wrap the sentinel without a position.
type QueryError struct {
	Err                  error // ErrUnknown or ErrInvalid
	Msg                  string
	Offset, Line, Column int
}

// Error formats the error as "<sentinel>: msg at line L, column C".
func (e *QueryError) Error() string {
	return fmt.Sprintf("%v: %s at line %d, column %d", e.Err, e.Msg, e.Line, e.Column)
}

// Unwrap returns the sentinel, for errors.Is.
func (e *QueryError) Unwrap() error { return e.Err }

// flatten returns the operands of b with every nested Bool of the same
// kind spliced in, without recursion, so that a deep chain of And(And(…),
// x) compiles in linear time. A nested Bool met again (the same pointer,
// shared in a tree built in Go) is spliced once: x and x is x. A Bool
// met again while its own operands are being spliced contains itself: an
// error, since no text can write it.
func flatten(b *query.Bool) ([]Expr, error) {
	out := make([]Expr, 0, len(b.Xs))
	type frame struct {
		b *query.Bool
		i int
	}
	stack := []frame{{b: b}}
	var state map[*query.Bool]uint8 // once one is nested: 1 being spliced, 2 spliced
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		if f.i == len(f.b.Xs) {
			if state != nil {
				state[f.b] = 2
			}
			stack = stack[:len(stack)-1]
			continue
		}
		e := f.b.Xs[f.i]
		f.i++
		if nb, ok := e.(*query.Bool); ok && nb != nil && nb.And == b.And {
			if state == nil {
				state = map[*query.Bool]uint8{b: 1}
			}
			switch state[nb] {
			case 1:
				return nil, errContainsItself
			case 2:
				continue
			}
			state[nb] = 1
			stack = append(stack, frame{b: nb})
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

// errContainsItself is the error of an expression built in Go that is
// among its own operands.
var errContainsItself = fmt.Errorf("%w: the expression contains itself", ErrInvalid)

func (c *compiler) expr(e Expr) (plan, error) {
	c.depth++
	defer func() { c.depth-- }()
	c.deepest = max(c.deepest, c.depth)
	if c.depth > MaxExprDepth {
		return nil, errTooDeep
	}
	e, ok := valueNode(e)
	if !ok {
		return nil, fmt.Errorf("%w: nil expression", ErrInvalid)
	}
	switch e.(type) {
	case *query.Bool, *query.Negation:
		if cd, ok := c.nodes[e]; ok {
			if cd.p == nil {
				return nil, errContainsItself // met again within itself
			}
			return c.reuse(cd)
		}
		if c.nodes == nil {
			c.nodes = map[Expr]compiledDef{}
		}
		c.nodes[e] = compiledDef{} // being compiled
		above := c.deepest
		c.deepest = c.depth
		p, err := c.node(e)
		if err != nil {
			return nil, err
		}
		p = shared(p)
		c.nodes[e] = compiledDef{p: p, height: c.deepest - c.depth}
		c.deepest = max(above, c.deepest)
		return p, nil
	}
	return c.node(e)
}

// node compiles e, at c.depth.
func (c *compiler) node(e Expr) (plan, error) {
	switch e := e.(type) {
	case query.Const:
		if e.All {
			return allPlan{}, nil
		}
		return nonePlan{}, nil
	case *query.Bool:
		xs, err := flatten(e)
		if err != nil {
			return nil, err
		}
		if len(xs) == 0 {
			return c.expr(query.Const{All: e.And})
		}
		ps := make([]plan, 0, len(xs))
		var seen map[*refPlan]bool
		for _, x := range xs {
			p, err := c.expr(x)
			if err != nil {
				return nil, err
			}
			if r, ok := p.(*refPlan); ok { // a shared plan once: x and x is x, x or x is x
				if seen[r] {
					continue
				}
				if seen == nil {
					seen = map[*refPlan]bool{}
				}
				seen[r] = true
			}
			ps = append(ps, p)
		}
		if e.And {
			return c.and(ps), nil
		}
		return newOr(c.x, ps), nil
	case *query.Negation:
		p, err := c.expr(e.X)
		if err != nil {
			return nil, err
		}
		return newNot(c.x, p), nil
	case *query.Compare:
		return c.comparison(e)
	case query.Activity:
		return c.activity(e)
	case *query.Abandoned:
		days, err := c.window(e.Window, e.WithinPos)
		if err != nil {
			return nil, err
		}
		return rangePlan(&c.x.scalars[scAbandoned], false, math.MinInt64, c.x.shifted(int64(days-1))), nil
	case *query.Active:
		return c.active(e)
	case *query.Ref:
		return c.ref(e)
	case *query.Top:
		id, err := c.category(e.Cat, e.CatPos)
		if err != nil {
			return nil, err
		}
		n := e.N
		if n == 0 {
			n = c.x.opts.TopN
		}
		if n < 1 || n > c.x.opts.TopN {
			return nil, c.errorf(ErrInvalid, e.NPos, "top %d exceeds the index's TopN %d", n, c.x.opts.TopN)
		}
		return rangePlan(&c.x.catData[id].rank, false, 1, int64(n)), nil
	}
	return nil, fmt.Errorf("%w: unsupported expression %T", ErrInvalid, e)
}

// and orders the operands of an And: each works on what the earlier ones
// left, so they run in the order of cost per candidate over the share of
// candidates they remove (the classic ordering of independent filters):
// cheap, selective operands first.
func (c *compiler) and(ps []plan) plan {
	ps = mergeRanges(ps)
	type byRank struct {
		p    plan
		rank float64
	}
	n := float64(c.x.universe.GetCardinality())
	es := make([]byRank, len(ps))
	est, cost := n, 0.0 // the And's: the least estimate, the sum of costs
	for i, p := range ps {
		pe, pc := p.estimate(c.x), p.cost()
		est, cost = min(est, pe), cost+pc
		removed := 1.0
		if n > 0 {
			removed = 1 - min(pe/n, 1)
		}
		es[i] = byRank{p, pc / max(removed, 1e-9)}
	}
	slices.SortStableFunc(es, func(a, b byRank) int { return cmp.Compare(a.rank, b.rank) })
	for i := range es {
		ps[i] = es[i].p
	}
	return andPlan{ps: ps, est: est, cst: cost}
}

// mergeRanges replaces the comparisons of an And on the same column by
// one comparison with the intersection of their ranges, so that a long
// list of rules on a few attributes evaluates a few ranges. The first
// comparison of a column keeps its place.
func mergeRanges(ps []plan) []plan {
	at := map[string]int{}
	out := ps[:0:0]
	for _, p := range ps {
		var key string
		switch p := p.(type) {
		case *cmpPlan:
			key = p.key
		case *exactPlan:
			key = p.key
		}
		i, seen := at[key]
		if key == "" || !seen {
			if key != "" {
				at[key] = len(out)
			}
			out = append(out, p)
			continue
		}
		switch q := out[i].(type) {
		case *cmpPlan:
			m := *q
			p := p.(*cmpPlan)
			m.lo, m.hi = max(m.lo, p.lo), min(m.hi, p.hi)
			out[i] = &m
		case *exactPlan:
			out[i] = q.intersect(p.(*exactPlan))
		}
	}
	return out
}

// category resolves a category path; pos locates it.
func (c *compiler) category(path string, pos int) (uint32, error) {
	if id, ok := c.x.lookupCategory(path); ok {
		return id, nil
	}
	msg := "category " + query.Excerpt(path)
	if s := c.x.suggestCategories(path); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, ", "))
	}
	return 0, c.errorf(ErrUnknown, pos, "%s", msg)
}

// maxListed is how many names an error message lists.
const maxListed = 12

// listNames formats names for an error message: the first maxListed, each
// as written when it reads unambiguously in a list (printable, short,
// without commas, quotes or parentheses), else cut and quoted by
// [query.Excerpt], and how many more there are, so that an error message
// stays short however many names an index knows.
func listNames(names []string) string {
	var b strings.Builder
	for i, s := range names {
		if i == maxListed {
			fmt.Fprintf(&b, " and %d more", len(names)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		if q := query.Excerpt(s); q == `"`+s+`"` && !strings.ContainsAny(s, ",()") {
			b.WriteString(s)
		} else {
			b.WriteString(q)
		}
	}
	return b.String()
}

// suggestCategories returns up to three known paths that equal path
// ignoring case, or whose last level equals path's last level.
func (x *Index) suggestCategories(path string) []string {
	last := func(s string) string { return s[strings.LastIndex(s, "/")+1:] }
	want := strings.TrimSpace(last(path))
	var out []string
	for _, p := range x.cats {
		if strings.EqualFold(p, path) || strings.EqualFold(last(p), want) {
			out = append(out, query.Excerpt(p))
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
	if len(a.Targets) == 0 {
		return nil, c.errorf(ErrInvalid, a.Pos, "%s() without a category or product", a.Kind)
	}
	if a.Kind > query.Carted {
		return nil, fmt.Errorf("%w: invalid activity kind %d", ErrInvalid, a.Kind)
	}
	days, err := c.window(a.Window, a.WithinPos)
	if err != nil {
		return nil, err
	}
	kind := int(a.Kind) // actBought, actViewed, actCarted in that order
	var ps []plan
	var prods []uint32
	for _, t := range a.Targets {
		cat, isCat := c.x.lookupCategory(t.Key)
		prod, isProd := c.x.prodIndex[t.Key]
		switch t.Kind {
		case query.CategoryTarget:
			isProd = false
		case query.ProductTarget:
			isCat = false
		}
		key := query.Excerpt(t.Key)
		switch {
		case isCat && isProd:
			return nil, c.errorf(ErrInvalid, t.Pos, "%s is both a category and a product; write category(%s) or product(%s)", key, key, key)
		case isProd:
			prods = append(prods, prod)
		case isCat:
			d := &c.x.catData[cat]
			switch kind {
			case actBought:
				if days == c.x.lookDays {
					ps = append(ps, setPlan{d.bought})
				} else {
					ps = append(ps, rangePlan(&attr{exist: d.bought, v: d.days}, false, math.MinInt64, c.x.shifted(int64(days-1))))
				}
			case actViewed:
				ps = append(ps, rangePlan(&d.viewed, false, math.MinInt64, c.x.shifted(int64(days-1))))
			case actCarted:
				ps = append(ps, rangePlan(&d.carted, false, math.MinInt64, c.x.shifted(int64(days-1))))
			}
		case t.Kind == query.ProductTarget:
			return nil, c.errorf(ErrUnknown, t.Pos, "product %s", key)
		case t.Kind == query.CategoryTarget:
			_, err := c.category(t.Key, t.Pos)
			return nil, err
		default:
			_, err := c.category(t.Key, t.Pos)
			if qe, ok := err.(*QueryError); ok {
				qe.Msg += " (nor a product)" // still the *QueryError the doc promises
				return nil, qe
			}
			return nil, fmt.Errorf("%w (nor a product)", err)
		}
	}
	if len(prods) > 0 {
		ps = append(ps, productPlan{kind: kind, prods: prods, days: uint16(max(0, min(c.x.shifted(int64(days)), math.MaxUint16)))})
	}
	if len(ps) == 1 {
		return ps[0], nil
	}
	return newOr(c.x, ps), nil
}

func (c *compiler) active(e *query.Active) (plan, error) {
	for i, t := range []time.Time{e.From, e.To} {
		if y := t.UTC().Year(); y < 0 || y > 9999 {
			return nil, c.errorf(ErrInvalid, []int{e.FromPos, e.ToPos}[i], "date %s is outside the years 0000 to 9999 (UTC)", query.Excerpt(t.UTC().String()))
		}
	}
	// the UTC days of the instants, as query.Active documents: a From
	// later in the day than To on the same day is that one day
	from := floorDiv(e.From.Unix(), secondsPerDay) - c.x.day0
	to := floorDiv(e.To.Unix(), secondsPerDay) - c.x.day0
	if from > to {
		return nil, c.errorf(ErrInvalid, e.FromPos, "empty date range: %s is after %s", e.From.UTC().Format(time.DateOnly), e.To.UTC().Format(time.DateOnly))
	}
	from, to = max(from, 0), min(to, int64(len(c.x.daily))-1)
	if from > to {
		return nonePlan{}, nil
	}
	key := [2]int{int(from), int(to)}
	if r, ok := c.daily[key]; ok {
		r.uses++
		return r, nil
	}
	if c.daily == nil {
		c.daily = map[[2]int]*refPlan{}
	}
	p := dailyPlan{from: int(from), to: int(to)}
	p.est = p.count(c.x)
	r := &refPlan{p: p, uses: 1}
	c.daily[key] = r
	return r, nil
}

func (c *compiler) ref(e *query.Ref) (plan, error) {
	name := query.Excerpt(e.Name)
	switch e.Kind {
	case query.SegmentRef:
		di, ok := c.x.defs.lookup(e.Name)
		if !ok {
			return nil, c.errorf(ErrUnknown, e.NamePos, "segment %s", name)
		}
		d := &c.x.defs.list[di]
		if cd, ok := c.defs[di]; ok {
			return c.reuse(cd)
		}
		c.refs++
		defer func() { c.refs-- }()
		if c.refs > len(c.x.defs.list) {
			return nil, c.errorf(ErrInvalid, e.NamePos, "segment %s refers to itself", name)
		}
		if c.defs == nil {
			c.defs = map[int]compiledDef{}
		}
		if c.nodes == nil {
			c.nodes = map[Expr]compiledDef{}
		}
		if c.daily == nil {
			c.daily = map[[2]int]*refPlan{}
		}
		inner := &compiler{x: c.x, refs: c.refs, depth: c.depth, deepest: c.depth, defs: c.defs, nodes: c.nodes, daily: c.daily, anyAttrs: c.anyAttrs}
		p, err := inner.expr(d.expr)
		if err != nil {
			return nil, err
		}
		c.deepest = max(c.deepest, inner.deepest)
		p = shared(p)
		c.defs[di] = compiledDef{p: p, height: inner.deepest - c.depth}
		return p, nil
	case query.RFMRef:
		for i, r := range c.x.opts.RFMRules {
			if strings.EqualFold(r.Name, strings.TrimSpace(e.Name)) {
				return setPlan{c.x.rfm[i]}, nil
			}
		}
		return nil, c.errorf(ErrUnknown, e.NamePos, "RFM segment %s (known: %s)", name, listNames(c.x.RFMSegments()))
	case query.LifecycleRef:
		for i, s := range stages {
			if strings.EqualFold(s, strings.TrimSpace(e.Name)) {
				return setPlan{c.x.stages[i]}, nil
			}
		}
		return nil, c.errorf(ErrUnknown, e.NamePos, "lifecycle stage %s (known: %s)", name, listNames(stages[:]))
	}
	return nil, fmt.Errorf("%w: unsupported reference", ErrInvalid)
}

// briefValue formats v as a literal of unit u for an error message: cut
// to its first 40 characters and "…" when longer (a bound of hundreds of
// digits).
func briefValue(v float64, u query.Unit) string {
	s := query.FormatValue(v, u) // ASCII
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func (c *compiler) comparison(e *query.Compare) (plan, error) {
	at, ok := lookupAttr(e.Attr)
	if !ok {
		return nil, c.errorf(ErrInvalid, e.Pos, "unknown attribute %s", query.Excerpt(e.Attr.String()))
	}
	if e.Op == 0 || e.Op > query.Between {
		return nil, fmt.Errorf("%w: invalid comparison", ErrInvalid)
	}
	unit := at.spec.Unit
	for i, v := range []float64{e.V, e.Hi} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, c.errorf(ErrInvalid, []int{e.ValuePos, e.HiPos}[i], "threshold %v of %s is not a number", v, e.Attr.Brief())
		}
	}
	if e.Op == query.Between && e.V > e.Hi {
		return nil, c.errorf(ErrInvalid, e.ValuePos, "empty range: %s between %s and %s",
			e.Attr.Brief(), briefValue(e.V, unit), briefValue(e.Hi, unit))
	}
	var id uint32
	var a *attr
	key := ""
	if at.customer {
		var ok bool
		if a, key, ok = c.x.customerColumn(at.spec.Name, e.Attr.Arg); !ok {
			if c.anyAttrs {
				return setPlan{roaring.New()}, nil
			}
			return nil, c.errorf(ErrUnknown, e.ArgPos, "customer attribute %s %s (%s)", at.spec.Name,
				query.Excerpt(e.Attr.Arg), c.x.customerFields(at.spec.Name))
		}
		key = "customer\x00" + key
	} else {
		if at.spec.Arg {
			var err error
			if id, err = c.category(e.Attr.Arg, e.ArgPos); err != nil {
				return nil, err
			}
			if at.exact >= 0 && c.x.exact {
				return c.exactShare(e, at, id), nil
			}
		}
		a = at.column(c.x, id)
	}
	scale := at.scale
	if at.lift {
		pop := c.x.popShare[id]
		if pop <= 0 {
			// no one spent in the category: every lift is 0
			if matchesZero(bounds(e, 1, 0)) { // every lift is exactly 0
				return allPlan{}, nil
			}
			return nonePlan{}, nil
		}
		scale *= pop
	}
	lo, hi, ne := bounds(e, scale, exactDigits(at.spec.Unit, scale))
	if at.spec.Unit == query.Days && !at.customer {
		lo, hi = c.x.shifted(lo), c.x.shifted(hi)
		if ne != nil {
			v := c.x.shifted(*ne)
			ne = &v
		}
	}
	if ne != nil {
		return nePlan{a: a, zero: at.zero, v: *ne}, nil
	}
	p := rangePlan(a, at.zero, lo, hi)
	if cp, ok := p.(*cmpPlan); ok {
		if key == "" {
			key = columnKey(at, id)
		}
		cp.key = key
	}
	return p, nil
}

// columnKey names the column of attribute at (of category id) for
// mergeRanges. Lift has its own key: its thresholds are scaled.
func columnKey(at *attribute, id uint32) string {
	return at.spec.Name + "\x00" + strconv.FormatBool(at.spec.Arg) + "\x00" + strconv.FormatUint(uint64(id), 10)
}

// exactShare compiles a comparison of a share attribute of category id
// to an exact plan (see exact.go).
func (c *compiler) exactShare(e *query.Compare, at *attribute, id uint32) plan {
	d := &c.x.catData[id]
	v, hi := ratOf(e.V), ratOf(e.Hi)
	if at.lift {
		// lift ≥ t ⟺ share ≥ t·pop, pop = Σ spend in the category / Σ spend
		pop := new(big.Rat)
		if c.x.popDen.Sign() > 0 && d.popNum.Sign() > 0 {
			pop.SetFrac(d.popNum, c.x.popDen)
		}
		if pop.Sign() == 0 {
			// no one spent in the category: every lift is 0
			if matchesZero(bounds(e, 1, 0)) { // every lift is exactly 0
				return allPlan{}
			}
			return nonePlan{}
		}
		v.Mul(v, pop)
		hi.Mul(hi, pop)
	}
	p := exactComparison(c.x, at.column(c.x, id), &d.exNum[at.exact], &c.x.exDen[at.exact], e.Op, v, hi)
	if ep, ok := p.(*exactPlan); ok {
		ep.key = columnKey(at, id)
		ep.cols, ep.kind = d.cols, at.exact
	}
	return p
}

// bounds converts a comparison with thresholds in natural units into an
// inclusive range [lo, hi] of stored integers. For != it returns the
// excluded value in ne instead, or an empty range when the value cannot
// be stored exactly.
//
// When the attribute's stored values are its natural values times 10^d
// (digits = d ≥ 0: days, counts, Money units), the thresholds are the
// decimals they print as (see ratOf) and compare exactly: 0.9999999999
// orders is less than 1, 433.1199999999 is less than 433.12 in currency
// units. Otherwise (digits < 0: shares without exact ratios, lift), a
// threshold times scale (stored units per natural unit) within 1e-9
// (relative) of a whole stored unit counts as that unit, so that 0.3
// means 3000/10000 despite binary floating point, as documented.
func bounds(e *query.Compare, scale float64, digits int) (lo, hi int64, ne *int64) {
	t := toStored(e.V, scale, digits)
	lo, hi = math.MinInt64, math.MaxInt64
	ok := true // some int64 lies in the range
	switch e.Op {
	case query.GE:
		lo, ok = t.least(false)
	case query.GT:
		lo, ok = t.least(true)
	case query.LE:
		hi, ok = t.greatest(false)
	case query.LT:
		hi, ok = t.greatest(true)
	case query.EQ:
		ok = t.whole()
		lo, hi = t.fl, t.fl
	case query.NE:
		if !t.whole() {
			return math.MinInt64, math.MaxInt64, nil
		}
		v := t.fl // fl itself stays on the stack
		return 0, 0, &v
	case query.Between:
		var okHi bool
		lo, ok = t.least(false)
		hi, okHi = toStored(e.Hi, scale, digits).greatest(false)
		ok = ok && okHi
	}
	if !ok {
		return 1, 0, nil
	}
	return lo, hi, nil
}

// exactDigits returns d when an attribute of unit u with scale stored
// units per natural unit stores its natural values times 10^d exactly
// (days and counts: 0; money: 4, Money units), else -1.
func exactDigits(u query.Unit, scale float64) int {
	switch u {
	case query.Count, query.Days, query.Money:
		for d, p := 0, 1.0; d <= 18; d, p = d+1, p*10 {
			if scale == p {
				return d
			}
		}
	}
	return -1
}

// storedThreshold is a threshold t in stored units, exact: ⌊t⌋ and ⌈t⌉
// when side is 0, that is when t lies in the int64 range. Side is +1 when
// t exceeds math.MaxInt64 and -1 when t is below math.MinInt64: such a
// threshold lies beyond every stored value, which is what a comparison
// with it must see. Saturating it to the end of the range instead would
// make it equal to a value a column may hold (MaxMoney is
// math.MaxInt64 Money units).
type storedThreshold struct {
	fl, ce int64
	side   int
}

// least returns the least int64 ≥ t (> t when strict), and false when
// there is none.
func (t storedThreshold) least(strict bool) (int64, bool) {
	switch {
	case t.side < 0:
		return math.MinInt64, true
	case t.side > 0 || strict && t.fl == math.MaxInt64:
		return 0, false
	case strict:
		return t.fl + 1, true
	}
	return t.ce, true
}

// greatest returns the greatest int64 ≤ t (< t when strict), and false
// when there is none.
func (t storedThreshold) greatest(strict bool) (int64, bool) {
	switch {
	case t.side > 0:
		return math.MaxInt64, true
	case t.side < 0 || strict && t.ce == math.MinInt64:
		return 0, false
	case strict:
		return t.ce - 1, true
	}
	return t.fl, true
}

// whole reports whether t is an int64.
func (t storedThreshold) whole() bool { return t.side == 0 && t.fl == t.ce }

// toStored converts the threshold v in natural units into stored units
// as [bounds] documents: exactly by its decimal when digits ≥ 0
// ([decimalStored]), else v·scale snapped to a whole unit within 1e-9.
func toStored(v, scale float64, digits int) storedThreshold {
	if digits >= 0 {
		return decimalStored(v, digits)
	}
	t := snap(v * scale)
	switch {
	case t >= 1<<63: // float64(math.MaxInt64) is 2^63
		return storedThreshold{side: 1}
	case t < -(1 << 63):
		return storedThreshold{side: -1}
	}
	// within [-2^63, 2^63) a float64 this large is an integer, so both fit
	return storedThreshold{fl: int64(math.Floor(t)), ce: int64(math.Ceil(t))}
}

// decimalStored returns v·10^d for the decimal v prints as (the shortest
// that parses back to v, as ratOf), by shifting the decimal point in its
// digits: its floor and ceiling, or the side of the int64 range it lies
// beyond. It does not allocate.
func decimalStored(v float64, d int) storedThreshold {
	var buf [32]byte
	s := strconv.AppendFloat(buf[:0], v, 'f', -1, 64) // no exponent: a large v has many digits
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	// the magnitude: m, its integer part after shifting the point d
	// places right, and whether a nonzero digit remains after it
	var m uint64
	over, frac := false, false
	shifted := -1 // digits after the point consumed, -1 before the point
	for _, ch := range s {
		if ch == '.' {
			shifted = 0
			continue
		}
		digit := uint64(ch - '0')
		if shifted >= d {
			frac = frac || digit != 0
			continue
		}
		if shifted >= 0 {
			shifted++
		}
		if m > (math.MaxUint64-digit)/10 {
			over = true
		} else {
			m = m*10 + digit
		}
	}
	for shifted = max(shifted, 0); shifted < d; shifted++ { // the point was fewer than d digits from the end
		if m > math.MaxUint64/10 {
			over = true
		} else {
			m *= 10
		}
	}
	if neg {
		// -m is below math.MinInt64 from m > 2^63, or m = 2^63 and a fraction
		if over || m > 1<<63 || m == 1<<63 && frac {
			return storedThreshold{side: -1}
		}
		t := storedThreshold{fl: -int64(m-1) - 1} // -m without overflow at m = 2^63
		t.ce = t.fl
		if frac {
			t.fl--
		}
		return t
	}
	if over || m > math.MaxInt64 || m == math.MaxInt64 && frac {
		return storedThreshold{side: 1}
	}
	t := storedThreshold{fl: int64(m), ce: int64(m)}
	if frac {
		t.ce++
	}
	return t
}

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
