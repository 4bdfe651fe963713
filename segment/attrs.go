package segment

import "github.com/shopaffinity/affinity/segment/query"

// The numeric attributes of customers. Each is one entry of attributes:
// its name and unit in the text syntax, how customers without a value
// compare, and where its stored column is. Adding an attribute whose
// values the builder already computes is one entry here and one
// constructor below; the syntax, String and evaluation follow from the
// table.

// attribute describes one numeric attribute.
type attribute struct {
	spec query.AttrSpec
	// zero: customers without a value count as 0 (true) or match no
	// comparison (false)
	zero bool
	// column returns the stored column, for category cat when the
	// attribute takes one; nil for customer attributes (see
	// Index.customerColumn)
	column func(x *Index, cat uint32) *attr
	// scale is the number of stored units per natural unit
	scale float64
	// exact is the exact ratio of a share (0 spend, 1 items, 2 orders),
	// -1 for the others
	exact int
	// lift divides the share by the population's share (see Lift)
	lift bool
	// customer: the argument names a customer attribute (see Attributes),
	// not a category
	customer bool
}

func scalar(sc int) func(x *Index, _ uint32) *attr {
	return func(x *Index, _ uint32) *attr { return &x.scalars[sc] }
}

func catColumn(f func(d *catData) *attr) func(x *Index, cat uint32) *attr {
	return func(x *Index, cat uint32) *attr { return f(&x.catData[cat]) }
}

var attributes = []attribute{
	{spec: query.AttrSpec{Name: "recency", Unit: query.Days}, column: scalar(scRecency), scale: 1, exact: -1},
	{spec: query.AttrSpec{Name: "tenure", Unit: query.Days}, column: scalar(scTenure), scale: 1, exact: -1},
	{spec: query.AttrSpec{Name: "frequency", Unit: query.Count}, zero: true, column: scalar(scFrequency), scale: 1, exact: -1},
	{spec: query.AttrSpec{Name: "monetary", Unit: query.Money}, zero: true, column: scalar(scMonetary), scale: shareScale, exact: -1},
	{spec: query.AttrSpec{Name: "aov", Unit: query.Money}, column: scalar(scAOV), scale: shareScale, exact: -1},
	{spec: query.AttrSpec{Name: "rscore", Unit: query.Count}, column: scalar(scR), scale: 1, exact: -1},
	{spec: query.AttrSpec{Name: "fscore", Unit: query.Count}, column: scalar(scF), scale: 1, exact: -1},
	{spec: query.AttrSpec{Name: "mscore", Unit: query.Count}, column: scalar(scM), scale: 1, exact: -1},
	{spec: query.AttrSpec{Name: "affinity", Unit: query.Share, Arg: true}, zero: true, scale: shareScale, exact: 0,
		column: catColumn(func(d *catData) *attr { return &attr{exist: d.bought, v: d.spend} })},
	{spec: query.AttrSpec{Name: "itemshare", Unit: query.Share, Arg: true}, zero: true, scale: shareScale, exact: 1,
		column: catColumn(func(d *catData) *attr { return &attr{exist: d.bought, v: d.items} })},
	{spec: query.AttrSpec{Name: "ordershare", Unit: query.Share, Arg: true}, zero: true, scale: shareScale, exact: 2,
		column: catColumn(func(d *catData) *attr { return &attr{exist: d.bought, v: d.orders} })},
	{spec: query.AttrSpec{Name: "lift", Unit: query.Ratio, Arg: true}, zero: true, scale: shareScale, exact: 0, lift: true,
		column: catColumn(func(d *catData) *attr { return &attr{exist: d.bought, v: d.spend} })},
	{spec: query.AttrSpec{Name: "recency", Unit: query.Days, Arg: true}, scale: 1, exact: -1,
		column: catColumn(func(d *catData) *attr { return &attr{exist: d.bought, v: d.days} })},
	{spec: query.AttrSpec{Name: "rank", Unit: query.Count, Arg: true}, scale: 1, exact: -1,
		column: catColumn(func(d *catData) *attr { return &d.rank })},
	{spec: query.AttrSpec{Name: "flag", Unit: query.Count, Arg: true}, zero: true, scale: 1, exact: -1, customer: true},
	{spec: query.AttrSpec{Name: "days_to", Unit: query.Days, Arg: true}, scale: 1, exact: -1, customer: true},
	{spec: query.AttrSpec{Name: "days_since", Unit: query.Days, Arg: true}, scale: 1, exact: -1, customer: true},
}

// syntax is the text syntax with the attributes of the table.
var syntax = func() *query.Syntax {
	specs := make([]query.AttrSpec, len(attributes))
	for i, a := range attributes {
		specs[i] = a.spec
	}
	return query.NewSyntax(specs...)
}()

// lookupAttr returns the table entry of a.
func lookupAttr(a query.Attr) (*attribute, bool) {
	for i := range attributes {
		if s := &attributes[i].spec; s.Name == a.Name && s.Arg == a.HasArg {
			return &attributes[i], true
		}
	}
	return nil, false
}

// attrNamed returns the Attr of the table entry name (with arg when it
// takes one).
func attrNamed(name string, hasArg bool, arg string) Attr {
	s, _ := syntax.Attr(name, hasArg)
	return Attr{Name: s.Name, Unit: s.Unit, HasArg: hasArg, Arg: arg}
}

// Recency is the number of whole days since the customer's last purchase
// (any time up to asOf). Customers who never bought have none.
func Recency() Attr { return attrNamed("recency", false, "") }

// Tenure is the number of whole days since the customer's first purchase
// (any time up to asOf). Customers who never bought have none.
func Tenure() Attr { return attrNamed("tenure", false, "") }

// Frequency is the number of orders with a bought line in the look-back;
// 0 for customers without.
func Frequency() Attr { return attrNamed("frequency", false, "") }

// Monetary is the net spend in the look-back in currency units, returns
// subtracted; 0 for customers without orders in it.
func Monetary() Attr { return attrNamed("monetary", false, "") }

// AOV is the average order value in the look-back, monetary / frequency,
// in currency units rounded half away from zero to the 1/10000 unit; a
// query compares that rounded value (see "Exact comparisons" in the
// package documentation). Customers without an order in the look-back
// have none.
func AOV() Attr { return attrNamed("aov", false, "") }

// RScore is the recency quintile score 1-5 (5 = most recent) of a customer
// with an order in the look-back; others have none.
func RScore() Attr { return attrNamed("rscore", false, "") }

// FScore is the frequency quintile score 1-5 (5 = most orders).
func FScore() Attr { return attrNamed("fscore", false, "") }

// MScore is the monetary quintile score 1-5 (5 = highest spend).
func MScore() Attr { return attrNamed("mscore", false, "") }

// Affinity is the customer's share of (decayed) spend in the look-back
// that went to category cat and the categories below it, 0 to 1, compared
// exactly (see the package documentation); 0 for customers who did not
// buy in cat.
func Affinity(cat string) Attr { return attrNamed("affinity", true, cat) }

// ItemShare is the customer's share of (decayed) items bought in the
// look-back that were in category cat, 0 to 1.
func ItemShare(cat string) Attr { return attrNamed("itemshare", true, cat) }

// OrderShare is the (decayed) share of the customer's orders in the
// look-back that contained a product of category cat, 0 to 1.
func OrderShare(cat string) Attr { return attrNamed("ordershare", true, cat) }

// Lift is the customer's [Affinity] for cat divided by the population's
// share of spend in cat ([Index.PopulationShare]): 2 means twice as
// interested as the average customer.
func Lift(cat string) Attr { return attrNamed("lift", true, cat) }

// CategoryRecency is the number of whole days since the customer's last
// purchase in category cat within the look-back; customers without one
// have none.
func CategoryRecency(cat string) Attr { return attrNamed("recency", true, cat) }

// TopRank is the rank of category cat among the categories of its level
// that the customer spent most on in the look-back (1 = most); only the
// first TopN ranks are kept, others have none. Spend is compared as
// summed (decayed with a half-life), not as the rounded share affinity
// gives, so that $10,000.01 ranks before $10,000.00; equal spends are
// ordered by items bought, then by category id.
func TopRank(cat string) Attr { return attrNamed("rank", true, cat) }
