package query

import (
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Expr is a condition on customers: a tree of the node types of this
// package ([*Bool], [*Negation], [Const], [*Compare], [Activity],
// [*Abandoned], [*Active], [*Ref], [*Top]; a *Const or *Activity means
// what the value it points to does). A node may be shared by several
// parents. String returns the text syntax, which parses back to an equal
// Expr (writing a shared node at each of its places). Names (attributes,
// categories, products, segments) are not resolved here: the package
// that evaluates an Expr does that.
type Expr interface {
	// String returns the expression in the text syntax.
	String() string
	// write appends the text syntax; prec is the binding strength of the
	// context (precOr, precAnd, precNot).
	write(b *strings.Builder, prec int)
}

const (
	precOr = iota + 1
	precAnd
	precNot
)

func exprString(e Expr) string {
	var b strings.Builder
	e.write(&b, precOr)
	return b.String()
}

// Bool is the And (all of Xs) or Or (any of Xs) of its operands. [And]
// and [Or] build it flat: an operand that is itself an And of an And (an
// Or of an Or) is spliced in, so that chaining acc = And(acc, x) gives one
// node with every operand, in amortized constant time per call. A Bool
// without operands is everyone (And) or no one (Or) and writes as all or
// none.
type Bool struct {
	And bool
	Xs  []Expr
	// used is shared by the Bools whose Xs share a backing array: the
	// length of the array in use. And(acc, x) claims the slots after
	// acc's operands with a compare-and-swap from len(acc.Xs) and appends
	// in place when it wins, so that the slots a Bool reads are written
	// once, before it exists, even when goroutines extend one tree at
	// the same time; it copies otherwise.
	used *atomic.Int64
}

// And returns the customers in every one of xs; And() is everyone.
// Operands that are Ands are spliced in (see [Bool]).
func And(xs ...Expr) Expr { return join(true, xs) }

// Or returns the customers in any of xs; Or() is no one. Operands that
// are Ors are spliced in (see [Bool]).
func Or(xs ...Expr) Expr { return join(false, xs) }

func join(and bool, xs []Expr) Expr {
	switch len(xs) {
	case 0:
		return Const{All: and}
	case 1:
		return xs[0]
	}
	add := 0 // operands after the first, spliced
	for _, x := range xs[1:] {
		if b, ok := x.(*Bool); ok && b != nil && b.And == and {
			add += len(b.Xs)
		} else {
			add++
		}
	}
	var out []Expr
	var used *atomic.Int64
	if b, ok := xs[0].(*Bool); ok && b != nil && b.And == and && b.used != nil {
		n := len(b.Xs)
		if n+add <= cap(b.Xs) && b.used.CompareAndSwap(int64(n), int64(n+add)) {
			// the slots n to n+add of the array are ours: nobody else has
			// appended to it, nor can now
			out, used, xs = b.Xs, b.used, xs[1:]
		} else {
			// a copy with room to grow, so that a chain keeps its
			// amortized constant time
			out = append(make([]Expr, 0, max(2*(n+add), 4)), b.Xs...)
			xs = xs[1:]
		}
	}
	for _, x := range xs {
		if b, ok := x.(*Bool); ok && b != nil && b.And == and {
			out = append(out, b.Xs...)
		} else {
			out = append(out, x)
		}
	}
	if used == nil { // a new array
		used = new(atomic.Int64)
		used.Store(int64(len(out)))
	}
	return &Bool{And: and, Xs: out, used: used}
}

// Not returns the customers that are not in x.
func Not(x Expr) Expr { return &Negation{X: x} }

// Negation is the complement of X within the customers the index knows.
type Negation struct{ X Expr }

// All returns every customer the index knows.
func All() Expr { return Const{All: true} }

// None returns no customer.
func None() Expr { return Const{} }

// Const is everyone (All) or no one.
type Const struct{ All bool }

// String returns the expression in the text syntax.
func (e *Bool) String() string { return exprString(e) }

// String returns the expression in the text syntax.
func (e *Negation) String() string { return exprString(e) }

// String returns the expression in the text syntax.
func (e Const) String() string { return exprString(e) }

// String returns the expression in the text syntax.
func (e *Compare) String() string { return exprString(e) }

func (e *Bool) write(b *strings.Builder, prec int) {
	my, sep := precOr, " or "
	if e.And {
		my, sep = precAnd, " and "
	}
	if len(e.Xs) == 0 { // And() and Or() as the text writes them
		Const{All: e.And}.write(b, prec)
		return
	}
	if prec > my {
		b.WriteByte('(')
	}
	for i, x := range e.Xs {
		if i > 0 {
			b.WriteString(sep)
		}
		x.write(b, my+1)
	}
	if prec > my {
		b.WriteByte(')')
	}
}

func (e *Negation) write(b *strings.Builder, _ int) {
	b.WriteString("not ")
	e.X.write(b, precNot)
}

func (e Const) write(b *strings.Builder, _ int) {
	if e.All {
		b.WriteString("all")
	} else {
		b.WriteString("none")
	}
}

// Unit is what a literal compared with an attribute means.
type Unit uint8

// The units of attribute values.
const (
	Count Unit = iota // a plain number
	Days              // whole days; literals 14d, 2w, 6m (30 days), 1y (365 days) or a bare number
	Money             // currency units; literals 500, 19.99, $500, €500, £500
	Share             // a fraction 0..1; literals 0.3 or 30%
	Ratio             // a plain number (lift)
)

// AttrSpec declares an attribute of the text syntax: its name (lower
// case), the unit of its values and whether it takes a quoted argument,
// as in affinity("Apparel"). The same name may be declared once with and
// once without an argument (recency and recency("Apparel")).
type AttrSpec struct {
	Name string
	Unit Unit
	Arg  bool
}

// Attr is a numeric attribute, named, with its argument (a category path
// for the attributes that take one) and unit. Compare it with a threshold
// to get an Expr: Attr.GE(0.3). Values are in the attribute's natural
// unit: days, orders, currency units, fractions.
type Attr struct {
	Name string
	Arg  string
	Unit Unit
	// HasArg is set for the attributes that take an argument.
	HasArg bool
}

// Spec returns the declaration a's name, unit and argument match.
func (a Attr) Spec() AttrSpec { return AttrSpec{Name: a.Name, Unit: a.Unit, Arg: a.HasArg} }

// String returns the attribute in the text syntax, e.g. affinity("Apparel").
func (a Attr) String() string {
	var b strings.Builder
	a.write(&b)
	return b.String()
}

// Brief returns the attribute as String does, its argument cut as
// [Excerpt] cuts the input an error message quotes.
func (a Attr) Brief() string {
	if !a.HasArg || a.Name == "" {
		return a.String()
	}
	return a.Name + "(" + Excerpt(a.Arg) + ")"
}

func (a Attr) write(b *strings.Builder) {
	if a.Name == "" {
		b.WriteString("invalid")
		return
	}
	b.WriteString(a.Name)
	if a.HasArg {
		b.WriteByte('(')
		b.WriteString(strconv.Quote(a.Arg))
		b.WriteByte(')')
	}
}

// Op is a comparison operator.
type Op uint8

// The comparison operators.
const (
	LT Op = iota + 1
	LE
	GT
	GE
	EQ
	NE
	Between
)

var opText = [...]string{LT: "<", LE: "<=", GT: ">", GE: ">=", EQ: "=", NE: "!="}

// LT returns the customers whose value is less than v.
func (a Attr) LT(v float64) Expr { return &Compare{Attr: a, Op: LT, V: v} }

// LE returns the customers whose value is at most v.
func (a Attr) LE(v float64) Expr { return &Compare{Attr: a, Op: LE, V: v} }

// GT returns the customers whose value is greater than v.
func (a Attr) GT(v float64) Expr { return &Compare{Attr: a, Op: GT, V: v} }

// GE returns the customers whose value is at least v.
func (a Attr) GE(v float64) Expr { return &Compare{Attr: a, Op: GE, V: v} }

// EQ returns the customers whose value is v.
func (a Attr) EQ(v float64) Expr { return &Compare{Attr: a, Op: EQ, V: v} }

// NE returns the customers whose value is not v.
func (a Attr) NE(v float64) Expr { return &Compare{Attr: a, Op: NE, V: v} }

// Between returns the customers whose value lies in [lo, hi], both ends
// included.
func (a Attr) Between(lo, hi float64) Expr { return &Compare{Attr: a, Op: Between, V: lo, Hi: hi} }

// Compare compares an attribute with V (and Hi, for Between), in the
// attribute's natural unit. The positions are byte offsets + 1 in the
// parsed text (0 when built in Go): Pos of the attribute, ArgPos of its
// argument, ValuePos of V and HiPos of Hi.
type Compare struct {
	Attr                         Attr
	Op                           Op
	V, Hi                        float64
	Pos, ArgPos, ValuePos, HiPos int
}

func (e *Compare) write(b *strings.Builder, _ int) {
	e.Attr.write(b)
	if e.Op == Between {
		b.WriteString(" between ")
		b.WriteString(FormatValue(e.V, e.Attr.Unit))
		b.WriteString(" and ")
		b.WriteString(FormatValue(e.Hi, e.Attr.Unit))
		return
	}
	b.WriteByte(' ')
	if int(e.Op) < len(opText) {
		b.WriteString(opText[e.Op])
	}
	b.WriteByte(' ')
	b.WriteString(FormatValue(e.V, e.Attr.Unit))
}

// FormatValue writes a literal of unit u that parses back to exactly v.
func FormatValue(v float64, u Unit) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if u == Days && v == float64(int64(v)) && v >= 0 {
		return s + "d"
	}
	return s
}

// FormatDays formats a duration the way the syntax writes windows: 14d,
// or the Go form when it is not a whole number of days.
func FormatDays(d time.Duration) string {
	if d%(24*time.Hour) != 0 {
		return d.String()
	}
	return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
}

// Target is a category or product that an [Activity] refers to.
type Target struct {
	Kind TargetKind
	Key  string
	Pos  int // byte offset + 1 of the target in the parsed text
}

// TargetKind tells what a [Target] names.
type TargetKind uint8

// The kinds of targets.
const (
	AnyTarget      TargetKind = iota // text syntax "key": a category, else a product
	CategoryTarget                   // category("path")
	ProductTarget                    // product("key")
)

// Category returns the target of a category path at any level.
func Category(path string) Target { return Target{Kind: CategoryTarget, Key: path} }

// Product returns the target of one product by its shop id.
func Product(key string) Target { return Target{Kind: ProductTarget, Key: key} }

func (t Target) write(b *strings.Builder) {
	switch t.Kind {
	case CategoryTarget:
		b.WriteString("category(")
	case ProductTarget:
		b.WriteString("product(")
	}
	b.WriteString(strconv.Quote(t.Key))
	if t.Kind != AnyTarget {
		b.WriteByte(')')
	}
}

// ActKind is the kind of interaction an [Activity] asks for.
type ActKind uint8

// The kinds of interactions.
const (
	Bought ActKind = iota
	Viewed
	Carted
)

var actNames = [...]string{Bought: "bought", Viewed: "viewed", Carted: "carted"}

// String returns "bought", "viewed" or "carted".
func (k ActKind) String() string {
	if int(k) < len(actNames) {
		return actNames[k]
	}
	return "activity"
}

// Activity is an Expr for the customers who bought, viewed or carted any
// of its targets within a window back from the as-of time (0: the whole
// look-back). Pos is the position of the keyword, WithinPos of the window.
type Activity struct {
	Kind           ActKind
	Targets        []Target
	Window         time.Duration
	Pos, WithinPos int
}

// Within returns the activity restricted to the window (asOf-d, asOf].
func (a Activity) Within(d time.Duration) Activity {
	a.Window = d
	return a
}

// String returns the activity in the text syntax.
func (a Activity) String() string { return exprString(a) }

func (a Activity) write(b *strings.Builder, _ int) {
	b.WriteString(a.Kind.String())
	b.WriteByte('(')
	for i, t := range a.Targets {
		if i > 0 {
			b.WriteString(", ")
		}
		t.write(b)
	}
	if a.Window != 0 {
		b.WriteString(" within ")
		b.WriteString(FormatDays(a.Window))
	}
	b.WriteByte(')')
}

// Abandoned is the customers with an abandoned cart within Window (0: the
// whole look-back).
type Abandoned struct {
	Window         time.Duration
	Pos, WithinPos int
}

// String returns the expression in the text syntax.
func (e *Abandoned) String() string { return exprString(e) }

func (e *Abandoned) write(b *strings.Builder, _ int) {
	b.WriteString("abandoned(")
	if e.Window != 0 {
		b.WriteString("within ")
		b.WriteString(FormatDays(e.Window))
	}
	b.WriteByte(')')
}

// Active is the customers with a bought order on any UTC day from From to
// To, both included: the days of the instants From and To in UTC,
// whatever their location, which is how String writes them. FromPos and
// ToPos locate the dates.
type Active struct {
	From, To            time.Time
	Pos, FromPos, ToPos int
}

// String returns the expression in the text syntax.
func (e *Active) String() string { return exprString(e) }

func (e *Active) write(b *strings.Builder, _ int) {
	b.WriteString("active between ")
	b.WriteString(strconv.Quote(e.From.UTC().Format(time.DateOnly)))
	b.WriteString(" and ")
	b.WriteString(strconv.Quote(e.To.UTC().Format(time.DateOnly)))
}

// RefKind is what a [Ref] refers to.
type RefKind uint8

// The kinds of references.
const (
	SegmentRef RefKind = iota + 1
	RFMRef
	LifecycleRef
)

var refNames = [...]string{SegmentRef: "segment", RFMRef: "rfm", LifecycleRef: "lifecycle"}

// Ref refers to a named set: a defined segment, an RFM segment or a
// lifecycle stage. NamePos locates the name.
type Ref struct {
	Kind         RefKind
	Name         string
	Pos, NamePos int
}

// String returns the expression in the text syntax.
func (e *Ref) String() string { return exprString(e) }

func (e *Ref) write(b *strings.Builder, _ int) {
	if int(e.Kind) < len(refNames) {
		b.WriteString(refNames[e.Kind])
	}
	b.WriteByte('(')
	b.WriteString(strconv.Quote(e.Name))
	b.WriteByte(')')
}

// Top is the customers for whom category Cat is among their N favourite
// categories of its level (N = 0: the index's default). CatPos and NPos
// locate the arguments.
type Top struct {
	Cat               string
	N                 int
	Pos, CatPos, NPos int
}

// String returns the expression in the text syntax.
func (e *Top) String() string { return exprString(e) }

func (e *Top) write(b *strings.Builder, _ int) {
	b.WriteString("top(")
	b.WriteString(strconv.Quote(e.Cat))
	if e.N != 0 {
		b.WriteString(", ")
		b.WriteString(strconv.Itoa(e.N))
	}
	b.WriteByte(')')
}
