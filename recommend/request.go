package recommend

import (
	"fmt"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
)

// Request asks for the top K products. Which fields are set decides what
// is recommended:
//
//   - Customer: complements of the customer's time-decayed history.
//   - Basket (or Items): complements of a cart, an order just placed, or a
//     single product ("frequently bought together"); no customer needed.
//   - Customer and Basket: both, the cart weighing as much as the whole
//     history.
//   - Segment only: what the segment's customers buy more than others.
//   - nothing: the shop's popular products.
//
// Results that the co-purchase evidence cannot fill are filled from the
// fallbacks (popular in the customer's segment, then popular overall).
type Request struct {
	// Customer is the shop's customer id; "" for an anonymous visitor. An
	// id the engine does not know (a customer newer than the snapshot) is
	// served like an anonymous visitor.
	Customer string
	// CustomerID is the customer by dense id of the engine's History; an
	// id outside it is served like an anonymous visitor.
	CustomerID affinity.CustomerID
	// ByID selects CustomerID instead of Customer.
	ByID bool
	// Basket holds shop product ids: the cart, the order just placed or the
	// product being viewed. Unknown ids are an error (ErrUnknownProduct).
	// Duplicates count once.
	Basket []string
	// Items is Basket by dense product id; both may be given.
	Items []affinity.ProductID
	// Segment is a set of customer ids. Without Customer and Basket it asks
	// for the segment's favourite products; with a Customer it is the
	// segment used for the cold-start fallback instead of the first of
	// Options.Segments containing the customer. Computing an ad-hoc
	// segment's favourites takes time linear in its members' lines.
	Segment *roaring.Bitmap
	// AsOf is the time of the request: the customer's history after it is
	// ignored, and ages for the time decay are measured from it. Zero means
	// the engine's snapshot time. The neighbour index and the popularity
	// rankings are those of the snapshot: to replay the past without
	// leakage, build the engine from a History cut at that time.
	AsOf time.Time
	// K is the number of results wanted: 1 ≤ K ≤ MaxK. A longer list
	// need not begin with a shorter one's results: the candidates that
	// are re-ranked (max(2K, 20) when a personal factor, boost or
	// diversity applies) and the popular products blended in grow with
	// K. Ask once for the longest list a page shows and cut it.
	K int
	// Rules filter and shape the results.
	Rules Rules
}

// Rules filter and shape the results of a request. The zero value means:
// in-stock products only, no product the customer already bought (unless a
// due consumable) or that is in the basket, no substitutes of the basket's
// products, no price band, no per-category cap, no diversity re-ranking.
type Rules struct {
	// Exclude lists shop product ids never to return. Unknown ids are an
	// error (ErrUnknownProduct).
	Exclude []string
	// Only, when not empty, lists the only products that may be returned
	// (a sale's items, a campaign's products), still under the other
	// rules. Unknown ids are an error (ErrUnknownProduct). The popular
	// fallback then walks the list instead of the catalog when it is the
	// shorter: a handful of products costs a handful of checks.
	Only []string
	// Category keeps only products in the category with this path or
	// below it, at any level ("Apparel" or "Apparel/Shoes"); "" keeps
	// all. An unknown path is an error (ErrUnknownCategory). Like every
	// rule it applies before the top K are chosen, on every path
	// (co-purchases, re-buys, fallbacks), so K results come back
	// whenever the category has K eligible products.
	Category string
	// IncludeOutOfStock allows products outside the stock set.
	IncludeOutOfStock bool
	// AllowRepeats allows products the customer already bought.
	AllowRepeats bool
	// AllowSubstitutes allows products that share a category (at
	// Options.SubstituteDepth) with a basket product; they are still
	// penalised by Options.SubstitutePenalty.
	AllowSubstitutes bool
	// MinPrice and MaxPrice bound the list price, both ends included;
	// zero means unbounded. A product without a price (0, unknown) is
	// outside any band, so an upper bound of 0 could hold no product:
	// 0 is left to mean "none".
	MinPrice, MaxPrice affinity.Money
	// MaxPerCategory caps the results per category at CategoryDepth
	// (0 = the products' assigned categories); 0 means no cap. A product
	// in several categories counts toward each, and is left out when one
	// of them is full. Products without a category are not capped.
	MaxPerCategory int
	CategoryDepth  int
	// Diversity in [0, 1] enables MMR re-ranking of the co-purchase
	// results: each next result maximises (1−Diversity)·relevance −
	// Diversity·(max similarity to the results already chosen), similarity
	// being 1 for substitutes and the cosine of buyer-category profiles
	// otherwise — 0 when the engine has no profiles (Personalization < 0,
	// or fewer than two categories at ProfileDepth), so that Diversity
	// then spreads the results over substitute groups alone. Ties go to
	// the more relevant candidate, then the lower id: the first result
	// is the most relevant one at every Diversity, 1 included. 0
	// disables it.
	Diversity float64
}

// Source tells where a result came from. Its text form (String,
// MarshalText, so also JSON) is its lower-case name.
type Source uint8

const (
	// Neighbors: ranked by co-purchase (and sequential) evidence from the
	// anchors, blended with popularity (Options.PopularityBlend); it has
	// at least one reason.
	Neighbors Source = iota + 1
	// Rebuy: a consumable the customer bought before and is due again.
	Rebuy
	// SegmentPopular: fallback, popular in the customer's or the requested
	// segment.
	SegmentPopular
	// Popular: popular in the whole shop (recency-weighted): either a
	// candidate among the co-purchase results without any evidence above
	// chance from the anchors (placed there by the popularity blend, or
	// reached only through edges of lift below 1 or learned weights of a
	// pair never bought together), or the last fallback.
	Popular
	// Repeat: next-basket mode — the customer's own product, bought
	// before and likely bought again (frequency and recency).
	Repeat
)

var sourceNames = [...]string{Neighbors: "neighbors", Rebuy: "rebuy", SegmentPopular: "segment-popular", Popular: "popular", Repeat: "repeat"}

// String returns the source's lower-case name, or "unknown".
func (s Source) String() string {
	if int(s) < len(sourceNames) && sourceNames[s] != "" {
		return sourceNames[s]
	}
	return "unknown"
}

// MarshalText returns the name of s; an unknown value is an error.
func (s Source) MarshalText() ([]byte, error) {
	if s.String() == "unknown" {
		return nil, fmt.Errorf("recommend: unknown source %d", uint8(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText parses a name returned by String.
func (s *Source) UnmarshalText(b []byte) error {
	for i, n := range sourceNames {
		if n != "" && n == string(b) {
			*s = Source(i)
			return nil
		}
	}
	return fmt.Errorf("recommend: unknown source %q", b)
}

// Fallback reports whether s is one of the cold-start fallbacks' sources
// (SegmentPopular or Popular).
func (s Source) Fallback() bool { return s == SegmentPopular || s == Popular }

// MaxReasons is the number of reasons a [Rec] keeps.
const MaxReasons = 3

// ReasonKind says what links a reason's product to the result. Its text
// form is its lower-case name.
type ReasonKind uint8

const (
	// Together: bought together (same order or same customer, by the
	// scope of the main index).
	Together ReasonKind = iota + 1
	// After: bought after the reason's product (sequential index).
	After
	// Again: the result itself, bought before; a due consumable or, in
	// next-basket mode, a repeat item.
	Again
	// Taste: the customer's taste placed the result (Options.Personalization
	// gave it more of its score than its co-purchases did): its buyers buy
	// in the categories the customer buys in, most of all the reason's
	// Category.
	Taste
)

var reasonNames = [...]string{Together: "together", After: "after", Again: "again", Taste: "taste"}

// Pair reports whether k links two products (Together, After): the
// kinds with a co-count and a lift.
func (k ReasonKind) Pair() bool { return k == Together || k == After }

// String returns the kind's lower-case name, or "unknown".
func (k ReasonKind) String() string {
	if int(k) < len(reasonNames) && reasonNames[k] != "" {
		return reasonNames[k]
	}
	return "unknown"
}

// MarshalText returns the name of k; an unknown value is an error.
func (k ReasonKind) MarshalText() ([]byte, error) {
	if k.String() == "unknown" {
		return nil, fmt.Errorf("recommend: unknown reason kind %d", uint8(k))
	}
	return []byte(k.String()), nil
}

// UnmarshalText parses a name returned by String.
func (k *ReasonKind) UnmarshalText(b []byte) error {
	for i, n := range reasonNames {
		if n != "" && n == string(b) {
			*k = ReasonKind(i)
			return nil
		}
	}
	return fmt.Errorf("recommend: unknown reason kind %q", b)
}

// Reason is one product that led to a result, with the evidence. For
// Together and After, Count is the co-count (orders or customers, as the
// index counted), Measure the index's measure value and Lift the lift of
// the pair, at least 1: a pair bought together less often than chance is
// never given as a reason. For Again, Count is the number of earlier purchases, Measure
// the days since the last one, Lift 0 and Trend, in next-basket mode, the
// product's trend over the shop (its buyers in the last
// NextBasket.TrendWindow against the number its usual rate predicts, see
// [NextBasket]; 0 when not measured). For Taste, Product is the result
// itself, Category the category (a dimension of the customer profiles)
// where the customer's taste and the product's buyers' meet most, and
// Measure the share of the customer's weighted purchases and events in
// that category, in (0, 1]; Count and Lift are 0.
type Reason struct {
	Kind     ReasonKind
	Product  affinity.ProductID
	Category affinity.CategoryID
	Count    uint32
	Measure  float32
	Lift     float32
	Trend    float32
	weight   float32
}

// TrendStated is the least trend a re-buy's explanation states ("2.4×
// its usual buyers in the last 14 days"): below it, a product's recent
// weeks are no news.
const TrendStated = 1.5

// Rec is one recommended product.
type Rec struct {
	Product affinity.ProductID
	// Key is the shop's product id.
	Key string
	// Score ranks results of the same Source: within Rebuy, Repeat and
	// Neighbors the final blended score in [0, 1] (a due consumable's 1,
	// the strongest complement's), times the factor of each boost that
	// applies (Options.Boosts); within Popular the popularity relative to
	// the most popular product of the shop (non-merchandise aside); within
	// SegmentPopular the segment's recency-weighted popularity times the
	// square root of its lift over the shop, relative to the segment's
	// best such product. Results come in rank order, the order to show:
	// Rebuy, Repeat and Neighbors by blended score first (re-ordered by MMR
	// under Rules.Diversity), with the Popular results placed among them
	// (candidates without co-purchase evidence above chance, see Popular),
	// then the SegmentPopular and Popular fallbacks by popularity. So
	// Popular results keep one scale wherever they stand, but one placed
	// among the co-purchase results can precede a co-purchase result of
	// higher score, and a more popular fallback.
	Score  float64
	Source Source
	// because holds the reasons, strongest first.
	because  [MaxReasons]Reason
	nbecause uint8
}

// Reasons returns the products that led to r, strongest first (at most
// MaxReasons; empty for fallbacks). The slice aliases r.
func (r *Rec) Reasons() []Reason { return r.because[:r.nbecause:r.nbecause] }
