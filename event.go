package affinity

import (
	"fmt"
	"math"
	"time"

	"github.com/shopaffinity/affinity/internal/timetext"
)

// Purchase is one order line as a shop exports it. In JSON its fields are
// snake_case ("customer", "product", "order", "time", "quantity", "price")
// and the price is a decimal amount in currency units, a string or a
// number ("12.90" or 12.90, read exactly: see [Money.UnmarshalJSON]).
type Purchase struct {
	// Customer is the shop's customer id. Empty means an anonymous line
	// (a till receipt, a guest checkout, a basket file): it is kept in the
	// History's anonymous orders and out of every customer's features.
	Customer string `json:"customer"`
	// Product is the shop's product id (SKU); required.
	Product string `json:"product"`
	// Order is the shop's order or invoice id. Lines with the same customer
	// and order id form one order. Empty means "one order per customer and
	// time": lines of the same customer at the same second are merged.
	Order string `json:"order"`
	// Time is when the order was placed; required, within the range
	// [ValidTime] accepts. It is stored in Unix seconds (UTC).
	Time time.Time `json:"time"`
	// Quantity is the number of units; negative for a return or a
	// cancellation, which reduces spend and never counts as interest. Zero is
	// an error.
	Quantity int32 `json:"quantity"`
	// Price is the unit price (never negative; the sign of a return is in
	// Quantity).
	Price Money `json:"price"`
}

// Value returns Quantity × Price: the line's contribution to spend
// (negative for a return). It saturates at [MaxMoney] or [MinMoney] when
// the product does not fit, which [Builder.Add] refuses; use [Money.Mul] to
// detect that.
func (p Purchase) Value() Money {
	v, _ := p.Price.Mul(int64(p.Quantity))
	return v
}

// MinUnix and MaxUnix bound the times a [History] stores, in Unix seconds:
// from 1970-01-01 00:00:00 UTC to 2106-02-07 06:28:15 UTC. A History keeps
// order times as 32-bit offsets from its earliest order, so any set of
// times in this range fits.
const (
	MinUnix = 0
	MaxUnix = math.MaxUint32
)

// ValidTime reports whether t lies in [MinUnix, MaxUnix], the range of
// purchase and event times that [Builder.Add] and [Builder.AddEvent]
// accept. Loaders check it per row, so that one bad date is a located row
// error rather than a failed [Builder.Build].
func ValidTime(t time.Time) bool {
	u := t.Unix()
	return u >= MinUnix && u <= MaxUnix
}

// EventKind is the kind of a non-purchase interaction.
type EventKind uint8

// The event kinds. Their order is stable: it is part of persisted formats.
const (
	// View is a product page view.
	View EventKind = iota + 1
	// Cart is an add-to-cart.
	Cart
	// Rating is an explicit rating; its weight is the rating value
	// (MovieLens ratings load this way).
	Rating
	// Wishlist is an add-to-wishlist or a back-in-stock subscription.
	Wishlist
)

// String returns the kind's lower-case name ("view", "cart", "rating",
// "wishlist").
func (k EventKind) String() string {
	switch k {
	case View:
		return "view"
	case Cart:
		return "cart"
	case Rating:
		return "rating"
	case Wishlist:
		return "wishlist"
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

// Valid reports whether k is one of the defined kinds.
func (k EventKind) Valid() bool { return k >= View && k <= Wishlist }

// Event is a non-purchase interaction of a known customer with a product.
// In JSON its fields are "customer", "product", "time", "kind" (a name:
// "view", "cart", "rating", "wishlist") and "weight".
type Event struct {
	// Customer is the shop's customer id; required (events of anonymous
	// visitors carry no lasting signal here).
	Customer string `json:"customer"`
	// Product is the shop's product id; required.
	Product string `json:"product"`
	// Time is when it happened; required.
	Time time.Time `json:"time"`
	// Kind says what happened.
	Kind EventKind `json:"kind"`
	// Weight is the strength of the signal: 1 for a plain view or cart,
	// the rating for a [Rating]. Recommenders scale events by it. A
	// History stores -0 as 0.
	Weight float32 `json:"weight"`
}

// Line is one stored purchase line of a [History]. Its order, customer and
// time are those of the order whose line range holds it.
type Line struct {
	Product  ProductID
	Quantity int32
	Price    Money
}

// Value returns Quantity × Price (negative for a return). For the lines of
// a [History] it never overflows: [Builder.Add] keeps the sum of all line
// values, taken absolutely, within [MaxMoney]. Other lines saturate as in
// [Purchase.Value].
func (l Line) Value() Money {
	v, _ := l.Price.Mul(int64(l.Quantity))
	return v
}

// EventLine is one stored event of a [History].
type EventLine struct {
	Product ProductID
	// Unix is the event time in Unix seconds (UTC).
	Unix   int64
	Kind   EventKind
	Weight float32
}

// Time returns the event time in UTC.
func (e EventLine) Time() time.Time { return time.Unix(e.Unix, 0).UTC() }

// UnmarshalJSON reads a Purchase as encoding/json reads the struct, but
// refuses a field the struct does not have, naming it (json: unknown
// field "unit_price": a misspelt "price" would otherwise make the line
// free, a misspelt "customer" anonymous), and a time whose UTC offset RFC
// 3339 does not allow ("+24:00", which time.Time reads as a day
// earlier), as the loaders of files do. A time it cannot read is a
// *json.UnmarshalTypeError naming the field (Purchase.time), as a value
// of the wrong type in any other field is.
func (p *Purchase) UnmarshalJSON(b []byte) error {
	type plain Purchase
	return timetext.Unmarshal(b, &struct {
		*plain
		Time timetext.JSON `json:"time"`
	}{(*plain)(p), timetext.JSON{T: &p.Time}}, p)
}

// UnmarshalJSON reads an Event as encoding/json reads the struct, but
// refuses a field the struct does not have and a time whose UTC offset
// RFC 3339 does not allow, naming the field of a time it cannot read
// (see [Purchase.UnmarshalJSON]).
func (e *Event) UnmarshalJSON(b []byte) error {
	type plain Event
	return timetext.Unmarshal(b, &struct {
		*plain
		Time timetext.JSON `json:"time"`
	}{(*plain)(e), timetext.JSON{T: &e.Time}}, e)
}
