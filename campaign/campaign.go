package campaign

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/segment"
	"github.com/shopaffinity/affinity/shop"
)

// Content is the rule that picks the products of a message. Every rule
// that picks products sends only merchandise (never a product of
// [shop.Snapshot.NonMerchandise]), only products in [Campaign.Products]
// when it lists any, and only products in stock as the shop serves them
// when the plan is made ([shop.Shop.SetInStock] and its siblings over the
// catalog's flags) — except BackInStock, whose listed products are the
// ones back in stock.
type Content int

const (
	// NoProducts sends the message without products (a plain coupon).
	NoProducts Content = iota
	// CrossSell recommends the complements of the customer's last
	// purchase: their last order at or before the as-of time with a bought
	// (positive-quantity) line, the order recency counts from — a later
	// return-only order is not a purchase. The request is a [shop.Request]
	// with that order's bought products as the cart, the same products
	// excluded, and the campaign's Rules; popularity fallbacks are left
	// out.
	CrossSell
	// Favourites recommends from the customer's favourite category: the
	// top level-two category (or top level-one when the tree is flat) of
	// their spend (bought lines, non-merchandise left out; a line counts
	// once in each such category it is filed under, and a category of
	// free lines only is none) in the segment look-back (see
	// GroupFavourites), as a [shop.Request] for the customer filtered to
	// that category, with the campaign's Rules. Customers without one get
	// their plain recommendations.
	Favourites
	// GroupFavourites sends the products bought by the most members of the
	// campaign's audience in the segment look-back (ties by product id),
	// leaving out those the customer already owns. A member counts once
	// per product, for a bought (positive-quantity) line in the window
	// (start, asOf] that the snapshot's segment index counts its features
	// over: [segment.Options.Lookback] back from the index's as-of time
	// (the end of the as-of day for a shop without a fixed
	// [shop.Options.AsOf]), up to the plan's as-of time; purchases before
	// the look-back or after the as-of time do not count. Non-merchandise
	// products are left out. A customer owns a product they bought at any
	// time up to the as-of time, inside the look-back or before it (a
	// later purchase does not count). Every product with a group buyer is
	// ranked, once per campaign, so that a customer who owns the top ones
	// gets the next; the customer is left out only when they own them
	// all.
	GroupFavourites
	// AbandonedCart sends the products the customer added to the cart in
	// [Campaign.Window] before the as-of time and has not bought since,
	// most recent first, each with the reason "left in the cart on
	// 2026-03-01": the date of the add-to-cart in the location of the
	// plan's as-of time (the asOf given to [Build]). The campaign reaches
	// only such customers: its audience is limited to them.
	AbandonedCart
	// BackInStock sends the products of [Campaign.Products] (the items
	// back in stock) the customer viewed, added to the cart or wished for in
	// [Campaign.Window] before the as-of time and has not bought since,
	// most recent first, each with the reason "looked at on 2026-03-01,
	// back in stock", dated as AbandonedCart's. The campaign reaches only
	// such customers: its audience is limited to them.
	BackInStock
)

var contentNames = [...]string{"none", "cross-sell", "favourites", "group-favourites", "abandoned-cart", "back-in-stock"}

// String returns the content rule's name, such as "cross-sell".
func (c Content) String() string {
	if c >= 0 && int(c) < len(contentNames) {
		return contentNames[c]
	}
	return fmt.Sprintf("Content(%d)", int(c))
}

// Schedule says when, relative to the customer's last purchase, a
// campaign is due. The plan's as-of time is the sending time. Days are
// counted as the snapshot's segment index counts recency (the schedule
// is the query "recency between MinDays and MaxDays", see package
// segment): whole periods of 24 hours from the customer's last purchase
// (their last order at or before the as-of time with a bought line) to
// the index's as-of time, rounded down. For a shop opened with
// [shop.Options.AsOf] that is the as-of time itself; for a shop without
// it, the index is as of the end of the as-of day (23:59:59 UTC), so days
// count from there: a purchase 13 days and 20 hours before a 09:00 as-of
// time is 14 days old (14 days and 10:59:59 before the end of the day).
// A customer is due when that count lies in [MinDays, MaxDays], and
// once per purchase: [Build] leaves out a customer the campaign reached
// after their last purchase ([Options.Sent]). The zero Schedule is
// always due, for customers who bought or not.
type Schedule struct {
	// MinDays and MaxDays bound the whole days since the last purchase,
	// both included; MaxDays 0 means no upper bound. With either set,
	// customers who never bought are not due.
	MinDays, MaxDays int
}

// IsZero reports whether s is always due.
func (s Schedule) IsZero() bool { return s.MinDays == 0 && s.MaxDays == 0 }

// expr returns the schedule as a segment expression (nil for the zero
// value): recency between MinDays and MaxDays, or at least MinDays.
func (s Schedule) expr() segment.Expr {
	switch {
	case s.IsZero():
		return nil
	case s.MaxDays == 0:
		return segment.Recency().GE(float64(s.MinDays))
	default:
		return segment.Recency().Between(float64(s.MinDays), float64(s.MaxDays))
	}
}

// SelectFunc returns an audience the segment syntax cannot express (a
// model score, a list from elsewhere) as customer ids of snap's History,
// as of asOf. The bitmap is owned by the caller; it must not be nil when
// the error is nil (an empty bitmap selects nobody), or [Campaign.Members]
// and [Build] return an error.
type SelectFunc func(ctx context.Context, snap *shop.Snapshot, asOf time.Time) (*roaring.Bitmap, error)

// Campaign is one retention tactic: who (Audience and Select), when
// (Schedule), what (Content) and how it is measured (Control).
type Campaign struct {
	// Name identifies the campaign in plans, lists and reports, and seeds
	// its control group; it must be non-empty and unique within a plan.
	Name string
	// Audience is a segment query (see package segment) selecting the
	// customers; "" means every customer the segment index knows. It is
	// parsed and evaluated on its own, so its errors give the line and
	// column in this text, and intersected with the Schedule: no
	// audience text reaches customers the schedule leaves out.
	Audience string
	// Select, when set, is intersected with Audience.
	Select SelectFunc
	// Schedule restricts the audience to customers due on the plan's day.
	Schedule Schedule
	// Content picks the products of each message.
	Content Content
	// K is the number of products per message; 0 means 4. A customer for
	// whom a product-bearing rule finds no product is not contacted.
	K int
	// Window is the look-back of AbandonedCart and BackInStock; 0 means
	// 7 days.
	Window time.Duration
	// Rules shape the products of the content rules that ask the shop
	// for recommendations, CrossSell and Favourites: a price band, a cap
	// per category, diversity, and products the customer bought
	// (AllowRepeats: a replenishment mail) or substitutes. Out-of-range
	// rules (wrapping shop.ErrInvalidRequest), IncludeOutOfStock (a
	// message offers what is in stock) and rules on other content are an
	// error of [Build] and [Campaign.Members].
	Rules shop.Rules
	// Products are shop product keys the content rule is limited to,
	// whatever the rule (keys the catalog does not know are ignored): the
	// restocked items of BackInStock.
	Products []string
	// Priority orders campaigns in a plan: higher first, ties by name. A
	// customer capped by an earlier campaign is left out of later ones.
	Priority int
	// Control is the share of the audience, in [0, 1), held out as the
	// control group; 0 means DefaultControl. Use a negative value for no
	// control group.
	Control float64
	// Offer is free text for the mail tool ("10% off", "free shipping"),
	// copied to every message.
	Offer string
}

// DefaultControl is the control share of a campaign with Control 0: one
// customer in ten is held out.
const DefaultControl = 0.1

func (c *Campaign) k() int {
	if c.K == 0 {
		return 4
	}
	return c.K
}

func (c *Campaign) window() time.Duration {
	if c.Window == 0 {
		return 7 * 24 * time.Hour
	}
	return c.Window
}

func (c *Campaign) control() float64 {
	switch {
	case c.Control == 0:
		return DefaultControl
	case c.Control < 0:
		return 0
	}
	return c.Control
}

func (c *Campaign) validate() error {
	switch {
	case c.Name == "":
		return errors.New("campaign: empty name")
	case c.K < 0 || c.K > shop.MaxK:
		return fmt.Errorf("campaign %q: K = %d outside [0, %d]", c.Name, c.K, shop.MaxK)
	case c.Control >= 1:
		return fmt.Errorf("campaign %q: control share %v not below 1", c.Name, c.Control)
	case c.Control != c.Control:
		return fmt.Errorf("campaign %q: control share NaN", c.Name)
	case c.Window < 0:
		return fmt.Errorf("campaign %q: negative window %v", c.Name, c.Window)
	case c.Schedule.MinDays < 0 || c.Schedule.MaxDays < 0 || (c.Schedule.MaxDays > 0 && c.Schedule.MaxDays < c.Schedule.MinDays):
		return fmt.Errorf("campaign %q: schedule %d..%d days is empty or negative", c.Name, c.Schedule.MinDays, c.Schedule.MaxDays)
	case c.Content < NoProducts || c.Content > BackInStock:
		return fmt.Errorf("campaign %q: unknown content rule %d", c.Name, int(c.Content))
	case c.Content == BackInStock && len(c.Products) == 0:
		return fmt.Errorf("campaign %q: back-in-stock needs the restocked Products", c.Name)
	case c.Rules != shop.Rules{} && c.Content != CrossSell && c.Content != Favourites:
		return fmt.Errorf("campaign %q: Rules shape %s and %s content, not %s", c.Name, CrossSell, Favourites, c.Content)
	case c.Rules.IncludeOutOfStock:
		return fmt.Errorf("campaign %q: Rules.IncludeOutOfStock: a message offers products in stock", c.Name)
	}
	if err := c.Rules.Check(); err != nil {
		return fmt.Errorf("campaign %q: %w", c.Name, err)
	}
	return nil
}

// Members returns the campaign's audience as of the snapshot's time:
// Audience and Schedule each evaluated on the snapshot's segment index
// (with the customer attributes attrs attached when not nil, see
// [segment.Attributes]) and intersected, and Select intersected. An
// Audience that is not a query on its own returns its error (a
// *segment.SyntaxError or *segment.QueryError, positioned in the
// Audience text). It ignores caps,
// opt-outs and control groups. The bitmap is owned by the caller.
func (c *Campaign) Members(ctx context.Context, snap *shop.Snapshot, attrs *segment.Attributes) (*roaring.Bitmap, error) {
	if err := affinity.CheckContext("campaign", ctx); err != nil {
		return nil, err
	}
	if snap == nil {
		return nil, affinity.NilArgument("campaign", "snapshot")
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	x, err := attached(ctx, snap, attrs)
	if err != nil {
		return nil, fmt.Errorf("campaign %q: %w", c.Name, err)
	}
	return c.members(ctx, snap, x)
}

// attached returns the snapshot's segment index (its build's error, if
// it failed; nil for a shop without orders) with attrs attached when
// not nil.
func attached(ctx context.Context, snap *shop.Snapshot, attrs *segment.Attributes) (*segment.Index, error) {
	x, err := snap.SegmentIndex(ctx)
	if err != nil || x == nil || attrs == nil {
		return x, err
	}
	return x.WithAttributes(attrs)
}

// members is Members on x, the snapshot's segment index with the
// attributes attached (nil: nobody).
func (c *Campaign) members(ctx context.Context, snap *shop.Snapshot, x *segment.Index) (*roaring.Bitmap, error) {
	if x == nil {
		return roaring.New(), nil // a shop without orders: nobody
	}
	// the audience is a query of its own, its errors placed in its own
	// text; the schedule is evaluated apart and intersected, so that no
	// audience text can reach past it
	aud := c.Audience
	if aud == "" {
		aud = "all"
	}
	set, err := x.Query(aud)
	if err != nil {
		return nil, fmt.Errorf("campaign %q: audience: %w", c.Name, err)
	}
	if s := c.Schedule.expr(); s != nil {
		due, err := x.Eval(s)
		if err != nil {
			return nil, fmt.Errorf("campaign %q: schedule: %w", c.Name, err)
		}
		set.And(due)
	}
	if c.Select != nil {
		sel, err := c.Select(ctx, snap, snap.AsOf())
		if err != nil {
			return nil, fmt.Errorf("campaign %q: %w", c.Name, err)
		}
		if sel == nil {
			return nil, fmt.Errorf("campaign %q: Select returned a nil bitmap and no error (return an empty bitmap for nobody)", c.Name)
		}
		set.And(sel)
	}
	if keep := eventKeep(c, snap.History().Catalog()); keep != nil {
		// AbandonedCart and BackInStock reach the customers with products
		// to send, as the campaign stands now (Window, Products)
		sel, err := eventAudience(ctx, c, snap, snap.AsOf(), keep)
		if err != nil {
			return nil, fmt.Errorf("campaign %q: %w", c.Name, err)
		}
		set.And(sel)
	}
	return set, nil
}

// ErrSkip, wrapped in the error of a [SelectFunc], says that its campaign
// selects nobody on this data for a reason the shop owner should read —
// the win-back's purchase model cannot be fitted on a shop of one-time
// buyers, say. [Build] then plans the others and records the reason in
// the campaign's [Count.Skipped]; [Campaign.Members] returns the error.
var ErrSkip = errors.New("skipped")

// customerOf converts a bitmap value.
func customerOf(v uint32) affinity.CustomerID { return affinity.CustomerID(v) }
