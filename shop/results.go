package shop

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/recommend"
)

// Rec is one recommended product, ready to serve: shop keys, name,
// category, price, where it came from and why. It marshals to JSON with
// the source and reason kinds as names, the price as an exact decimal
// string and an explanation a shop owner understands.
type Rec struct {
	// Product is the shop's product key; Name its catalog name.
	Product, Name string
	// Category is the path of the product's first category ("" when it
	// has none).
	Category string
	// Price is the catalog's list price.
	Price affinity.Money
	// Score ranks results of the same Source (see recommend.Rec.Score).
	Score float64
	// Source says how the product was found: co-purchase neighbours, a
	// due re-buy, one of the customer's own products in next-basket mode
	// (repeat), or a popularity fallback.
	Source recommend.Source

	reasons [recommend.MaxReasons]Reason
	nr      uint8
}

// Reasons returns the evidence for r, strongest first: at most
// recommend.MaxReasons, none for a fallback. The slice aliases r.
func (r *Rec) Reasons() []Reason { return r.reasons[:r.nr] }

// Explanation returns one line a shop owner understands, such as "bought
// together with Running Shoes in 124 orders — 3.2× more often than
// chance". Reasons of one kind after the first are shortened: "bought
// together with Running Shoes in 124 orders — 3.2× more often than
// chance; with Socks in 51 orders (1.8×)". A taste reason comes first:
// "bought by Sportswear shoppers like you; bought together with …". It
// allocates: call it when the text is shown.
func (r *Rec) Explanation() string {
	var buf [256]byte
	return string(r.appendExplanation(buf[:0]))
}

// Reason is one piece of evidence for a [Rec].
type Reason struct {
	// Kind says what links Product to the result: bought together, bought
	// after, the result itself bought before (and, when Due, due again),
	// or the customer's taste (the result's buyers buy in the customer's
	// categories, most of all Category, which need not be the result's
	// own).
	Kind recommend.ReasonKind
	// Product and Name are the shop key and name of the product that led
	// to the result (the result itself for a re-buy). For taste, Product
	// is the result and Name the category as the text names it: its last
	// level, or its path where another category shares that last level
	// (affinity.Catalog.ShortName).
	Product, Name string
	// Category, for taste, is the path of the category where the
	// customer's taste and the result's buyers' meet most, and Share the
	// customer's share of weighted purchases and events in it, in (0, 1].
	Category string
	Share    float64
	// Count is the co-count (orders or customers, see Unit) for together
	// and after, the number of earlier purchases for a re-buy.
	Count int
	// Unit is what Count counts: "orders" or "customers" ("purchases" for
	// a re-buy).
	Unit string
	// Lift is how many times more often than chance the pair is bought
	// together (always ≥ 1 here: a pair bought together less often than
	// chance is no evidence); 0 for a re-buy. The explanation states it
	// only when recommend.StatesLift: at least 1.05 and credible for
	// Count.
	Lift float64
	// Days is the number of days since the last purchase, for a re-buy.
	Days float64
	// Due, for a re-buy, says the product is due again by the customer's
	// usual interval between its purchases (a consumable, Source Rebuy);
	// a product next-basket mode brings back (Source Repeat) is not,
	// unless it is also due.
	Due bool
	// Trend, for a re-buy in next-basket mode, is how many times its
	// usual number of buyers the product had over the whole shop in the
	// last TrendDays days (recommend.NextBasket.Trend); 0 when not
	// measured. The explanation states it from recommend.TrendStated on.
	Trend, TrendDays float64
}

// String explains the reason in a sentence fragment.
func (x Reason) String() string {
	var buf [160]byte
	return string(x.appendText(buf[:0]))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Result is the answer to a [Request].
type Result struct {
	// Customer is the shop key of the customer asked about ("" for none).
	Customer string
	// Known reports whether the snapshot knows the customer: its History
	// holds an order or event of theirs at or before the snapshot's as-of
	// time (a customer whose first order is later, in a snapshot opened
	// with Options.AsOf in the past, is not known).
	Known bool
	// ColdStart reports that no result came from the customer's or the
	// cart's own evidence: all are popularity fallbacks, as for a new
	// visitor or a customer the snapshot does not know yet (also true of
	// an empty list).
	ColdStart bool
	// AsOf is the snapshot time the answer is as of, in UTC
	// ([Snapshot.AsOf]).
	AsOf time.Time
	// Ignored lists cart, exclude and only keys the snapshot does not
	// know (products newer than the snapshot); they were left out of the
	// request. Each key is listed once, where it first occurs: the
	// cart's keys in their order, then Exclude's, then Only's (a key
	// given twice, or both in the cart and in Exclude, once). nil when
	// none.
	Ignored []string
	// Recs are the recommendations, best first.
	Recs []Rec
}

type reasonJSON struct {
	Kind      recommend.ReasonKind `json:"kind"`
	Product   string               `json:"product"`
	Name      string               `json:"name,omitempty"`
	Category  string               `json:"category,omitempty"`
	Share     float64              `json:"share,omitempty"`
	Count     int                  `json:"count"`
	Unit      string               `json:"unit"`
	Lift      float64              `json:"lift,omitempty"`
	Days      float64              `json:"days,omitempty"`
	Due       bool                 `json:"due,omitempty"`
	Trend     float64              `json:"trend,omitempty"`
	TrendDays float64              `json:"trend_days,omitempty"`
	Text      string               `json:"text"`
}

type recJSON struct {
	Product     string           `json:"product"`
	Name        string           `json:"name,omitempty"`
	Category    string           `json:"category,omitempty"`
	Price       string           `json:"price"`
	Score       float64          `json:"score"`
	Source      recommend.Source `json:"source"`
	Reasons     []reasonJSON     `json:"reasons"`
	Explanation string           `json:"explanation"`
}

// MarshalJSON encodes r with names for its source and reason kinds, the
// price as an exact decimal string ("12.50") and the explanation.
func (r Rec) MarshalJSON() ([]byte, error) { return r.AppendJSON(make([]byte, 0, 512)) }

// UnmarshalJSON decodes what MarshalJSON encodes (the explanation and
// reason texts are derived and ignored). It refuses a Rec that no
// recommendation can be: without its source or a reason's kind, reasons
// on a fallback, a co-purchase result without one, a pair reason below
// chance (lift under 1) or without its product and unit, a negative
// count, a taste reason without its category. JSON null leaves r as it
// is, as encoding/json asks of an Unmarshaler. A field it does not know
// is ignored, unlike in the records a shop takes in ([affinity.Purchase]):
// a result is an answer, and a client reads one written by a later
// version of this package, with a field more, as before.
func (r *Rec) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	var j recJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if len(j.Reasons) > recommend.MaxReasons {
		return fmt.Errorf("shop: %d reasons, at most %d", len(j.Reasons), recommend.MaxReasons)
	}
	price, err := affinity.ParseMoney(j.Price, '.')
	if err != nil {
		return wrap(err, "price")
	}
	out := Rec{Product: j.Product, Name: j.Name, Category: j.Category, Price: price, Score: j.Score, Source: j.Source, nr: uint8(len(j.Reasons))}
	for i, x := range j.Reasons {
		out.reasons[i] = Reason{Kind: x.Kind, Product: x.Product, Name: x.Name, Category: x.Category, Share: x.Share, Count: x.Count, Unit: x.Unit, Lift: x.Lift, Days: x.Days, Due: x.Due, Trend: x.Trend, TrendDays: x.TrendDays}
		if err := out.reasons[i].check(); err != nil {
			return wrap(err, fmt.Sprintf("reason %d", i+1))
		}
	}
	if _, err := out.Source.MarshalText(); err != nil {
		return wrap(err, "a result without its source")
	}
	switch {
	case out.Source.Fallback() && out.nr > 0:
		return fmt.Errorf("shop: a %v result with reasons (a fallback has none)", out.Source)
	case out.Source == recommend.Neighbors && out.nr == 0:
		return errors.New("shop: a neighbors result without a reason")
	}
	*r = out
	return nil
}

// check returns why x cannot be a reason, nil when it can.
func (x *Reason) check() error {
	if _, err := x.Kind.MarshalText(); err != nil {
		return fmt.Errorf("a reason without its kind: %w", err)
	}
	switch {
	case x.Count < 0:
		return fmt.Errorf("negative count %d", x.Count)
	case x.Kind.Pair() && x.Lift < 1:
		return fmt.Errorf("a pair bought together %v× as often as chance (below 1 it is no evidence)", x.Lift)
	case x.Kind.Pair() && (x.Product == "" || x.Unit != "orders" && x.Unit != "customers"):
		return fmt.Errorf("a pair reason without its product or unit (%q, %q)", x.Product, x.Unit)
	case x.Kind == recommend.Taste && (x.Category == "" || x.Name == ""):
		return errors.New("a taste reason without its category")
	case x.Days < 0:
		return fmt.Errorf("negative days %v", x.Days)
	}
	return nil
}

type resultJSON struct {
	Customer  string    `json:"customer,omitempty"`
	Known     bool      `json:"known"`
	ColdStart bool      `json:"cold_start"`
	AsOf      time.Time `json:"as_of"`
	Ignored   []string  `json:"ignored,omitempty"`
	Recs      []Rec     `json:"recommendations"`
}

// MarshalJSON encodes the result with snake_case names: "customer" and
// "ignored" (left out when empty), "known", "cold_start", "as_of" (in
// UTC, as RFC 3339 with "Z", whatever the zone of AsOf) and the results
// as "recommendations", each a Rec as [Rec.MarshalJSON] writes it.
func (r Result) MarshalJSON() ([]byte, error) {
	return r.AppendJSON(make([]byte, 0, 512*(1+len(r.Recs))))
}

// UnmarshalJSON decodes what MarshalJSON encodes, each recommendation as
// [Rec.UnmarshalJSON] does; a null recommendation is refused, and JSON
// null leaves r as it is.
func (r *Result) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	var j resultJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	for i := range j.Recs {
		if _, err := j.Recs[i].Source.MarshalText(); err != nil {
			return fmt.Errorf("shop: recommendation %d is null", i+1)
		}
	}
	*r = Result(j)
	return nil
}

// isNull reports whether b is the JSON literal null.
func isNull(b []byte) bool { return string(bytes.TrimSpace(b)) == "null" }
