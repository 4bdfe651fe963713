package segment

import (
	"strconv"
	"strings"
	"time"
)

// Expr is a segment definition: a condition on customers that an [Index]
// evaluates to a bitmap with [Index.Eval]. Build one from the functions of
// this package or parse one with [Parse]; String returns the text syntax,
// which parses back to an equal Expr. Names in an Expr (categories,
// products, named segments) are resolved when it is evaluated, so one
// Expr can be evaluated on several indexes.
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

// And returns the customers in every one of xs; And() is everyone.
func And(xs ...Expr) Expr {
	if len(xs) == 0 {
		return constExpr{all: true}
	}
	if len(xs) == 1 {
		return xs[0]
	}
	return &boolExpr{and: true, xs: xs}
}

// Or returns the customers in any of xs; Or() is no one.
func Or(xs ...Expr) Expr {
	if len(xs) == 0 {
		return constExpr{}
	}
	if len(xs) == 1 {
		return xs[0]
	}
	return &boolExpr{xs: xs}
}

// Not returns the customers of the index that are not in x.
func Not(x Expr) Expr { return &notExpr{x: x} }

// All returns every customer the index knows (see [Index.Len]).
func All() Expr { return constExpr{all: true} }

type boolExpr struct {
	and bool
	xs  []Expr
}

func (e *boolExpr) String() string { return exprString(e) }

func (e *boolExpr) write(b *strings.Builder, prec int) {
	my, sep := precOr, " or "
	if e.and {
		my, sep = precAnd, " and "
	}
	if prec > my {
		b.WriteByte('(')
	}
	for i, x := range e.xs {
		if i > 0 {
			b.WriteString(sep)
		}
		x.write(b, my+1)
	}
	if prec > my {
		b.WriteByte(')')
	}
}

type notExpr struct{ x Expr }

func (e *notExpr) String() string { return exprString(e) }

func (e *notExpr) write(b *strings.Builder, _ int) {
	b.WriteString("not ")
	e.x.write(b, precNot)
}

type constExpr struct{ all bool }

func (e constExpr) String() string { return exprString(e) }

func (e constExpr) write(b *strings.Builder, _ int) {
	if e.all {
		b.WriteString("all")
	} else {
		b.WriteString("none")
	}
}

// unit is what a literal compared with an attribute means.
type unit uint8

const (
	unitDays  unit = iota + 1 // whole days; literals 14d, 2w, 6m (30 days), 1y (365 days) or a bare number
	unitCount                 // a plain number
	unitMoney                 // currency units; literals 500, 19.99, $500, €500, £500
	unitShare                 // a fraction 0..1; literals 0.3 or 30%
	unitRatio                 // a plain number (lift)
)

type attrKind uint8

const (
	akRecency attrKind = iota + 1
	akTenure
	akFrequency
	akMonetary
	akAOV
	akRScore
	akFScore
	akMScore
	akAffinity
	akItemShare
	akOrderShare
	akLift
	akCatRecency
	akRank
)

// attrInfo describes an attribute: its name in the text syntax, the unit
// of its values, whether a customer without a value counts as 0 (true) or
// matches no comparison (false), and whether it takes a category.
var attrInfo = [...]struct {
	name     string
	unit     unit
	zero     bool
	category bool
}{
	akRecency:    {"recency", unitDays, false, false},
	akTenure:     {"tenure", unitDays, false, false},
	akFrequency:  {"frequency", unitCount, true, false},
	akMonetary:   {"monetary", unitMoney, true, false},
	akAOV:        {"aov", unitMoney, false, false},
	akRScore:     {"rscore", unitCount, false, false},
	akFScore:     {"fscore", unitCount, false, false},
	akMScore:     {"mscore", unitCount, false, false},
	akAffinity:   {"affinity", unitShare, true, true},
	akItemShare:  {"itemshare", unitShare, true, true},
	akOrderShare: {"ordershare", unitShare, true, true},
	akLift:       {"lift", unitRatio, true, true},
	akCatRecency: {"recency", unitDays, false, true},
	akRank:       {"rank", unitCount, false, true},
}

// Attr is a numeric customer attribute. Compare it with a threshold to get
// an Expr: Recency().Between(14, 28), Affinity("Apparel").GE(0.3). Values
// are in the attribute's natural unit: days, orders, currency units,
// fractions. See the package documentation for what each attribute means
// and how customers without a value compare.
type Attr struct {
	kind attrKind
	cat  string
}

// Recency is the number of whole days since the customer's last purchase
// (any time up to asOf). Customers who never bought have none.
func Recency() Attr { return Attr{kind: akRecency} }

// Tenure is the number of whole days since the customer's first purchase
// (any time up to asOf). Customers who never bought have none.
func Tenure() Attr { return Attr{kind: akTenure} }

// Frequency is the number of orders with a bought line in the look-back;
// 0 for customers without.
func Frequency() Attr { return Attr{kind: akFrequency} }

// Monetary is the net spend in the look-back in currency units, returns
// subtracted; 0 for customers without orders in it.
func Monetary() Attr { return Attr{kind: akMonetary} }

// AOV is the average order value in the look-back, monetary / frequency,
// in currency units (rounded to the 1/10000 unit). Customers without an
// order in the look-back have none.
func AOV() Attr { return Attr{kind: akAOV} }

// RScore is the recency quintile score 1-5 (5 = most recent) of a customer
// with an order in the look-back; others have none.
func RScore() Attr { return Attr{kind: akRScore} }

// FScore is the frequency quintile score 1-5 (5 = most orders).
func FScore() Attr { return Attr{kind: akFScore} }

// MScore is the monetary quintile score 1-5 (5 = highest spend).
func MScore() Attr { return Attr{kind: akMScore} }

// Affinity is the customer's share of (decayed) spend in the look-back
// that went to category cat and the categories below it, 0 to 1 in steps
// of 1/10000; 0 for customers who did not buy in cat.
func Affinity(cat string) Attr { return Attr{kind: akAffinity, cat: cat} }

// ItemShare is the customer's share of (decayed) items bought in the
// look-back that were in category cat, 0 to 1.
func ItemShare(cat string) Attr { return Attr{kind: akItemShare, cat: cat} }

// OrderShare is the (decayed) share of the customer's orders in the
// look-back that contained a product of category cat, 0 to 1.
func OrderShare(cat string) Attr { return Attr{kind: akOrderShare, cat: cat} }

// Lift is the customer's [Affinity] for cat divided by the population's
// share of spend in cat ([Index.PopulationShare]): 2 means twice as
// interested as the average customer. It is compared at the resolution of
// Affinity.
func Lift(cat string) Attr { return Attr{kind: akLift, cat: cat} }

// CategoryRecency is the number of whole days since the customer's last
// purchase in category cat within the look-back; customers without one
// have none.
func CategoryRecency(cat string) Attr { return Attr{kind: akCatRecency, cat: cat} }

// TopRank is the rank of category cat among the categories of its level
// that the customer spent most on in the look-back (1 = most); only the
// first TopN ranks are kept, others have none. Ties are broken by item
// share, then category id.
func TopRank(cat string) Attr { return Attr{kind: akRank, cat: cat} }

// String returns the attribute in the text syntax, e.g. affinity("Apparel").
func (a Attr) String() string {
	var b strings.Builder
	a.write(&b)
	return b.String()
}

func (a Attr) write(b *strings.Builder) {
	if a.kind == 0 || int(a.kind) >= len(attrInfo) {
		b.WriteString("invalid")
		return
	}
	info := attrInfo[a.kind]
	b.WriteString(info.name)
	if info.category {
		b.WriteByte('(')
		b.WriteString(strconv.Quote(a.cat))
		b.WriteByte(')')
	}
}

type cmpOp uint8

const (
	opLT cmpOp = iota + 1
	opLE
	opGT
	opGE
	opEQ
	opNE
	opBetween
)

var opText = [...]string{opLT: "<", opLE: "<=", opGT: ">", opGE: ">=", opEQ: "=", opNE: "!="}

// LT returns the customers whose value is less than v.
func (a Attr) LT(v float64) Expr { return &cmpExpr{a: a, op: opLT, v: v} }

// LE returns the customers whose value is at most v.
func (a Attr) LE(v float64) Expr { return &cmpExpr{a: a, op: opLE, v: v} }

// GT returns the customers whose value is greater than v.
func (a Attr) GT(v float64) Expr { return &cmpExpr{a: a, op: opGT, v: v} }

// GE returns the customers whose value is at least v.
func (a Attr) GE(v float64) Expr { return &cmpExpr{a: a, op: opGE, v: v} }

// EQ returns the customers whose value is v (at the attribute's
// resolution: a whole day, 1/10000 of a share or a currency unit).
func (a Attr) EQ(v float64) Expr { return &cmpExpr{a: a, op: opEQ, v: v} }

// NE returns the customers whose value is not v; customers without a
// value (see [Attr]) are not among them unless the attribute counts them
// as 0 and v is not 0.
func (a Attr) NE(v float64) Expr { return &cmpExpr{a: a, op: opNE, v: v} }

// Between returns the customers whose value lies in [lo, hi], both ends
// included. lo > hi is an error when the expression is evaluated.
func (a Attr) Between(lo, hi float64) Expr { return &cmpExpr{a: a, op: opBetween, v: lo, hi: hi} }

type cmpExpr struct {
	a     Attr
	op    cmpOp
	v, hi float64
	pos   int // byte offset + 1 in the parsed text; 0 when built in Go
}

func (e *cmpExpr) String() string { return exprString(e) }

func (e *cmpExpr) write(b *strings.Builder, _ int) {
	e.a.write(b)
	u := unitCount
	if int(e.a.kind) < len(attrInfo) {
		u = attrInfo[e.a.kind].unit
	}
	if e.op == opBetween {
		b.WriteString(" between ")
		b.WriteString(formatValue(e.v, u))
		b.WriteString(" and ")
		b.WriteString(formatValue(e.hi, u))
		return
	}
	b.WriteByte(' ')
	if int(e.op) < len(opText) {
		b.WriteString(opText[e.op])
	}
	b.WriteByte(' ')
	b.WriteString(formatValue(e.v, u))
}

// formatValue writes a literal that parses back to exactly v.
func formatValue(v float64, u unit) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if u == unitDays && v == float64(int64(v)) && v >= 0 {
		return s + "d"
	}
	return s
}

// Target is a category or product that an [Activity] refers to.
type Target struct {
	kind targetKind
	key  string
}

type targetKind uint8

const (
	targetAuto     targetKind = iota // text syntax "key": a category, else a product
	targetCategory                   // category("path")
	targetProduct                    // product("key")
)

// Category returns the target of a category path at any level, e.g.
// "Apparel/Sportswear"; it includes the categories below it.
func Category(path string) Target { return Target{kind: targetCategory, key: path} }

// Product returns the target of one product by its shop id.
func Product(key string) Target { return Target{kind: targetProduct, key: key} }

func (t Target) write(b *strings.Builder) {
	switch t.kind {
	case targetCategory:
		b.WriteString("category(")
	case targetProduct:
		b.WriteString("product(")
	}
	b.WriteString(strconv.Quote(t.key))
	if t.kind != targetAuto {
		b.WriteByte(')')
	}
}

// Activity is an Expr for the customers who bought, viewed or carted any of
// its targets within a window back from asOf: by default the whole
// look-back, or a shorter one set with [Activity.Within].
type Activity struct {
	kind    int // actBought, actViewed, actCarted
	targets []Target
	within  time.Duration
	pos     int
}

var actNames = [numActs]string{"bought", "viewed", "carted"}

// Bought returns the customers who bought (a line with positive quantity)
// any of the targets in the look-back.
func Bought(targets ...Target) Activity { return Activity{kind: actBought, targets: targets} }

// Viewed returns the customers with a view event on any of the targets in
// the look-back.
func Viewed(targets ...Target) Activity { return Activity{kind: actViewed, targets: targets} }

// Carted returns the customers with an add-to-cart event on any of the
// targets in the look-back.
func Carted(targets ...Target) Activity { return Activity{kind: actCarted, targets: targets} }

// Within returns the activity restricted to the window (asOf-d, asOf]; d
// must be a positive whole number of days no longer than the look-back.
func (a Activity) Within(d time.Duration) Activity {
	a.within = d
	return a
}

// String returns the activity in the text syntax.
func (a Activity) String() string { return exprString(a) }

func (a Activity) write(b *strings.Builder, _ int) {
	b.WriteString(actNames[a.kind%numActs])
	b.WriteByte('(')
	for i, t := range a.targets {
		if i > 0 {
			b.WriteString(", ")
		}
		t.write(b)
	}
	if a.within != 0 {
		b.WriteString(" within ")
		b.WriteString(fmtDays(a.within))
	}
	b.WriteByte(')')
}

// Abandoned returns the customers with an abandoned cart within the window
// (asOf-within, asOf]: an add-to-cart of a product that they have not
// bought since, up to asOf. within = 0 means the whole look-back.
func Abandoned(within time.Duration) Expr { return &abandonedExpr{within: within} }

type abandonedExpr struct {
	within time.Duration
	pos    int
}

func (e *abandonedExpr) String() string { return exprString(e) }

func (e *abandonedExpr) write(b *strings.Builder, _ int) {
	b.WriteString("abandoned(")
	if e.within != 0 {
		b.WriteString("within ")
		b.WriteString(fmtDays(e.within))
	}
	b.WriteByte(')')
}

// Active returns the customers with a bought order on any day from the
// UTC date of from to the UTC date of to, both included, at any time up
// to asOf (not limited to the look-back).
func Active(from, to time.Time) Expr {
	return &activeExpr{from: dateOf(from), to: dateOf(to)}
}

func dateOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

type activeExpr struct {
	from, to time.Time
	pos      int
}

func (e *activeExpr) String() string { return exprString(e) }

func (e *activeExpr) write(b *strings.Builder, _ int) {
	b.WriteString("active between ")
	b.WriteString(strconv.Quote(e.from.Format(time.DateOnly)))
	b.WriteString(" and ")
	b.WriteString(strconv.Quote(e.to.Format(time.DateOnly)))
}

type refKind uint8

const (
	refSegment refKind = iota + 1
	refRFM
	refLifecycle
)

var refNames = [...]string{refSegment: "segment", refRFM: "rfm", refLifecycle: "lifecycle"}

// Segment refers to the named segment name, defined with [Index.Define].
func Segment(name string) Expr { return &refExpr{kind: refSegment, name: name} }

// RFM returns the customers of the RFM segment name (see [DefaultRFMRules]);
// names match case-insensitively.
func RFM(name string) Expr { return &refExpr{kind: refRFM, name: name} }

// Lifecycle returns the customers in the lifecycle stage (see [Stages]).
func Lifecycle(stage string) Expr { return &refExpr{kind: refLifecycle, name: stage} }

type refExpr struct {
	kind refKind
	name string
	pos  int
}

func (e *refExpr) String() string { return exprString(e) }

func (e *refExpr) write(b *strings.Builder, _ int) {
	if int(e.kind) < len(refNames) {
		b.WriteString(refNames[e.kind])
	}
	b.WriteByte('(')
	b.WriteString(strconv.Quote(e.name))
	b.WriteByte(')')
}

// Top returns the customers for whom category cat is among their n
// favourite categories of its level ([TopRank] ≤ n). n = 0 means the
// index's TopN; n may not exceed it.
func Top(cat string, n int) Expr { return &topExpr{cat: cat, n: n} }

type topExpr struct {
	cat string
	n   int
	pos int
}

func (e *topExpr) String() string { return exprString(e) }

func (e *topExpr) write(b *strings.Builder, _ int) {
	b.WriteString("top(")
	b.WriteString(strconv.Quote(e.cat))
	if e.n != 0 {
		b.WriteString(", ")
		b.WriteString(strconv.Itoa(e.n))
	}
	b.WriteByte(')')
}
