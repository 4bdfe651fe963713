package shop

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/pkgerr"
	"github.com/shopaffinity/affinity/recommend"
)

// DefaultK is the number of results of a [Request] with K = 0.
const DefaultK = 10

// MaxK bounds [Request.K].
const MaxK = recommend.MaxK

// Sentinel errors of requests; test with errors.Is.
var (
	// ErrUnknownCustomer: a request by dense id names no customer of the
	// snapshot: out of range, or erased ([affinity.Builder.EraseCustomer]).
	// (A request by shop key for an unknown customer is served as a cold
	// start instead.)
	ErrUnknownCustomer = errors.New("shop: unknown customer")
	// ErrUnknownCategory: a request's category filter names no category.
	ErrUnknownCategory = errors.New("shop: unknown category")
	// ErrInvalidRequest: K outside [0, MaxK], or a rule of the request out
	// of its range (a negative price bound, MinPrice above a non-zero
	// MaxPrice, a negative cap or depth, Diversity outside [0, 1]).
	ErrInvalidRequest = errors.New("shop: invalid request")
)

// Request asks for recommendations. Which fields are set decides what for:
// a customer (complements of their history), a cart (complements of its
// products, "frequently bought together" for one product), both, or
// neither (the shop's popular products).
type Request struct {
	// Customer is the shop's customer key. A key the snapshot does not
	// know (a customer newer than the snapshot, or whose first order or
	// event comes after its as-of time) is served like an
	// anonymous visitor: the cart's complements, else the popularity
	// fallbacks; the Result says so (Known false, ColdStart when every
	// result is a fallback).
	Customer string
	// CustomerID names the customer by dense id instead, when ByID is set.
	CustomerID affinity.CustomerID
	// ByID selects CustomerID instead of Customer.
	ByID bool
	// Cart holds shop product keys: the cart, the order just placed, or
	// the product being viewed. Keys the snapshot does not know are left
	// out and listed in Result.Ignored (once each).
	Cart []string
	// K is the number of results: 0 means DefaultK; at most MaxK. A
	// longer list need not begin with a shorter one's results (see
	// recommend.Request.K).
	K int
	// Category keeps only products in this category or below it, by path
	// at any level ("Apparel" or "Apparel/Sportswear"); "" keeps all.
	// With a sold-out product's category and the product in Exclude, it
	// gives the product's alternatives: the customer's best in that
	// category, else its popular products.
	Category string
	// Exclude lists shop product keys never to return (unknown keys are
	// listed in Result.Ignored).
	Exclude []string
	// Only, when not empty, lists the only products that may be returned
	// (a sale's items, a campaign's products), under the other rules.
	// Unknown keys are listed in Result.Ignored; when no key is known,
	// nothing is returned.
	Only []string

	// Rules shape the results as the page asking needs them; the zero
	// value leaves them as they are.
	Rules
}

// Rules shape the results of a [Request] as a shop's pages and messages
// need them: a price band, a cap per category, diversity, and which
// products may come back that are left out by default. They are the
// engine's [recommend.Rules], by shop key. Non-merchandise is never
// returned, whatever the rules.
type Rules struct {
	// MinPrice and MaxPrice bound the list price of the products returned,
	// both ends included ("add-ons under 20.00" for a cart page); zero
	// means unbounded. A product without a price (0, unknown) is outside
	// any band. Negative bounds, or MinPrice above a non-zero MaxPrice,
	// are an ErrInvalidRequest.
	//
	// An upper bound of 0 ("only free items", "nothing above 0") needs no
	// way to say it: the catalog's price 0 means unknown, so such a band
	// could hold no product and would always return nothing. 0 is
	// therefore free to mean "no upper bound", and the zero Rules keep
	// their meaning. A service that takes the bound from its clients
	// refuses a maximum of 0 instead of passing it on, as
	// examples/storefront does with max_price=0 (a 400).
	MinPrice, MaxPrice affinity.Money
	// MaxPerCategory caps the results per category, so that one category
	// does not fill a page; 0 means no cap. CategoryDepth counts the
	// categories at that level of their path (1 = top level, as
	// "Apparel" for "Apparel/Shoes"), 0 at the products' own categories.
	// A product in several categories counts toward each and is left out
	// when one of them is full; products without a category are not
	// capped.
	MaxPerCategory, CategoryDepth int
	// Diversity in [0, 1] re-ranks the co-purchase results so that each
	// next one is also unlike those before it (maximal marginal
	// relevance, likeness being shared categories and buyers' tastes): 0
	// ranks by relevance alone, 1 by difference alone, ties going to the
	// more relevant, so that the first result is the most relevant at
	// every Diversity.
	Diversity float64
	// AllowRepeats lets products the customer already bought be returned
	// as well as new ones ("buy it again"); by default they come back
	// only where the shop serves repeats: next-basket mode
	// (Options.NextBasket) and consumables due again.
	AllowRepeats bool
	// AllowSubstitutes lets products of a cart product's category be
	// returned (another pair of running shoes beside the one in the cart),
	// ranked by their co-purchases like any other unless the engine's
	// [recommend.Options].SubstitutePenalty (none by default) lowers them.
	AllowSubstitutes bool
	// IncludeOutOfStock returns products out of stock too (for a "notify
	// me" list).
	IncludeOutOfStock bool
}

// Check reports a rule out of its range as an ErrInvalidRequest (the
// ranges are the engine's: [recommend.Rules.Check]), which wraps the
// engine's [recommend.ErrInvalidRequest] too and reads "shop: invalid
// request: " and the engine's reason ("price band from -1.00 with no
// maximum: a negative bound").
func (ru Rules) Check() error {
	r := ru.engine(nil, nil, "")
	if err := r.Check(); err != nil {
		return &ruleError{err: err}
	}
	return nil
}

// ruleError is a rule the engine refuses: err, which wraps
// recommend.ErrInvalidRequest, as a shop error that says "invalid
// request" once.
type ruleError struct{ err error }

func (e *ruleError) Error() string {
	return ErrInvalidRequest.Error() + strings.TrimPrefix(e.err.Error(), recommend.ErrInvalidRequest.Error())
}

func (e *ruleError) Unwrap() []error { return []error{ErrInvalidRequest, e.err} }

// engine returns the rules as the engine's, with the excluded products,
// the only ones allowed and the category filter of the request.
func (ru *Rules) engine(excl, only []string, category string) recommend.Rules {
	return recommend.Rules{
		Exclude:           excl,
		Only:              only,
		Category:          category,
		IncludeOutOfStock: ru.IncludeOutOfStock,
		AllowRepeats:      ru.AllowRepeats,
		AllowSubstitutes:  ru.AllowSubstitutes,
		MinPrice:          ru.MinPrice,
		MaxPrice:          ru.MaxPrice,
		MaxPerCategory:    ru.MaxPerCategory,
		CategoryDepth:     ru.CategoryDepth,
		Diversity:         ru.Diversity,
	}
}

// Recommend answers req from the snapshot. Non-merchandise is never
// recommended nor given as a reason, out-of-stock products are left out
// (unless Rules.IncludeOutOfStock), and a reason whose lift is below 1 is
// dropped. The filters (Exclude, Only, Category) and rules apply before
// the K results are chosen: K come back whenever the catalog has K
// eligible products (within the caps of Rules.MaxPerCategory). Errors: ErrInvalidRequest, ErrUnknownCustomer (by
// id), ErrUnknownCategory, ErrNilContext, and the context's error. The result's Recs is the
// only allocation on the way (beyond Ignored, and a set that lists its keys
// once, when keys are unknown).
func (s *Snapshot) Recommend(ctx context.Context, req Request) (Result, error) {
	if ctx == nil {
		return Result{}, ErrNilContext
	}
	if err := ctx.Err(); err != nil {
		return Result{}, wrap(err, "")
	}
	k := req.K
	if k == 0 {
		k = DefaultK
	}
	if k < 0 || k > MaxK {
		return Result{}, fmt.Errorf("%w: K = %d outside [1, %d] (0: %d)", ErrInvalidRequest, req.K, MaxK, DefaultK)
	}
	h, cat := s.h, s.h.Catalog()
	res := Result{Customer: req.Customer, AsOf: s.asOf}
	if req.ByID {
		if int(req.CustomerID) >= h.NumCustomers() {
			return Result{}, fmt.Errorf("%w: id %d", ErrUnknownCustomer, req.CustomerID)
		}
		if res.Customer = h.CustomerKey(req.CustomerID); res.Customer == "" {
			return Result{}, fmt.Errorf("%w: id %d was erased", ErrUnknownCustomer, req.CustomerID)
		}
	}
	if res.Customer != "" {
		c, ok := h.LookupCustomer(res.Customer)
		res.Known = ok && s.activeBy(c)
	}
	if req.Category != "" {
		if _, ok := cat.LookupCategory(req.Category); !ok {
			return Result{}, fmt.Errorf("%w: %q", ErrUnknownCategory, req.Category)
		}
	}
	rr := recommend.Request{Customer: res.Customer}
	rr.Basket, res.Ignored = s.known(req.Cart, res.Ignored)
	var excl, only []string
	excl, res.Ignored = s.known(req.Exclude, res.Ignored)
	only, res.Ignored = s.known(req.Only, res.Ignored)
	res.Ignored = firstOfEach(res.Ignored)
	if err := req.Rules.Check(); err != nil {
		return Result{}, err
	}
	rr.Rules = req.Rules.engine(excl, only, req.Category)
	if !res.Known {
		rr.Customer = "" // served like an anonymous visitor
	}

	res.ColdStart = true
	if cat.NumProducts() == 0 || (len(req.Only) > 0 && len(only) == 0) {
		return res, nil // nothing to recommend (yet)
	}
	sp, _ := s.scratch.Get().(*[]recommend.Rec)
	if sp == nil {
		sp = new([]recommend.Rec)
	}
	defer s.scratch.Put(sp)
	rr.K = k
	recs, err := s.eng.Recommend((*sp)[:0], rr)
	*sp = recs
	if err != nil {
		return Result{}, wrap(err, "")
	}
	res.Recs = make([]Rec, len(recs))
	for i := range recs {
		res.Recs[i] = s.rec(&recs[i])
		res.ColdStart = res.ColdStart && recs[i].Source.Fallback()
	}
	return res, nil
}

// Together returns the products most often bought together with the
// product with shop key product ("frequently bought together"), as a cart
// request of that one product. An unknown key is an error ("shop: unknown
// product …") wrapping recommend.ErrUnknownProduct (where Recommend lists an unknown cart key
// in Result.Ignored).
func (s *Snapshot) Together(ctx context.Context, product string, k int) (Result, error) {
	if ctx == nil {
		return Result{}, ErrNilContext
	}
	if _, ok := s.h.Catalog().LookupProduct(product); !ok {
		return Result{}, pkgerr.New(fmt.Sprintf("shop: unknown product %q", product), recommend.ErrUnknownProduct)
	}
	return s.Recommend(ctx, Request{Cart: []string{product}, K: k})
}

// known returns keys without those the catalog does not know, appending
// those to ignored. It allocates only when some key is unknown.
func (s *Snapshot) known(keys, ignored []string) ([]string, []string) {
	cat := s.h.Catalog()
	for i, key := range keys {
		if _, ok := cat.LookupProduct(key); ok {
			continue
		}
		kept := slices.Clone(keys[:i])
		for _, key := range keys[i:] {
			if _, ok := cat.LookupProduct(key); ok {
				kept = append(kept, key)
			} else {
				ignored = append(ignored, key)
			}
		}
		return kept, ignored
	}
	return keys, ignored
}

// firstOfEach returns keys without the repeats of a key, each kept where
// it first occurs, in keys' own array. It allocates only for two keys or
// more.
func firstOfEach(keys []string) []string {
	if len(keys) < 2 {
		return keys
	}
	seen := make(map[string]struct{}, len(keys))
	out := keys[:0]
	for _, k := range keys {
		if _, ok := seen[k]; !ok {
			seen[k] = struct{}{}
			out = append(out, k)
		}
	}
	return out
}

// rec turns an engine result into a served one.
func (s *Snapshot) rec(r *recommend.Rec) Rec {
	cat := s.h.Catalog()
	out := Rec{Product: r.Key, Name: cat.ProductName(r.Product), Price: cat.ProductPrice(r.Product), Score: r.Score, Source: r.Source}
	if c := s.cats[r.Product]; c >= 0 {
		out.Category = cat.CategoryPath(affinity.CategoryID(c))
	}
	for _, x := range r.Reasons() {
		if s.nonMerch.Contains(uint32(x.Product)) {
			continue
		}
		rs := Reason{Kind: x.Kind, Product: cat.ProductKey(x.Product), Name: cat.ProductName(x.Product), Count: int(x.Count)}
		switch x.Kind {
		case recommend.Again:
			rs.Unit, rs.Days, rs.Due = "purchases", float64(x.Measure), r.Source == recommend.Rebuy
			if x.Trend > 0 {
				rs.Trend, rs.TrendDays = float64(x.Trend), s.trendDays
			}
		case recommend.After:
			rs.Unit, rs.Lift = "customers", float64(x.Lift)
		case recommend.Taste:
			rs.Name, rs.Category, rs.Share = cat.ShortName(x.Category), cat.CategoryPath(x.Category), float64(x.Measure)
		default:
			// on a learned model too, the count and lift of this
			// snapshot's co-purchase counts (recommend.Options.Evidence)
			rs.Unit, rs.Lift = s.unit, float64(x.Lift)
		}
		if x.Kind.Pair() && !(rs.Lift >= 1) {
			continue // bought together less often than chance: no evidence
		}
		out.reasons[out.nr] = rs
		out.nr++
	}
	return out
}
