package shop

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/csvtext"
	"github.com/shopaffinity/affinity/segment"
)

// Order is the order of an audience's members in [Audience.Page] and
// [Audience.WriteCSV].
type Order int

const (
	// ByKey orders members by shop key (byte order).
	ByKey Order = iota
	// BySpend puts the biggest spenders in the look-back first, ties by key.
	BySpend
	// ByRecency puts the most recent buyers first (customers who never
	// bought last), ties by key.
	ByRecency
)

// String returns "key", "spend" or "recency".
func (o Order) String() string {
	switch o {
	case ByKey:
		return "key"
	case BySpend:
		return "spend"
	case ByRecency:
		return "recency"
	}
	return fmt.Sprintf("Order(%d)", int(o))
}

// ParseOrder parses the names String returns.
func ParseOrder(s string) (Order, error) {
	for o := ByKey; o <= ByRecency; o++ {
		if o.String() == s {
			return o, nil
		}
	}
	return 0, fmt.Errorf("shop: unknown order %q (known: key, spend, recency)", s)
}

// MaxPage bounds the limit of [Audience.Page].
const MaxPage = 10_000

// Audience is a set of the snapshot's customers — a segment query's
// answer — with its statistics and its members in pages. It is immutable
// and safe for concurrent use; member orders are sorted once, on first use.
type Audience struct {
	snap  *Snapshot
	query string
	set   *roaring.Bitmap
	stats segment.Stats

	knownOnce sync.Once
	knownSet  *roaring.Bitmap // the members: the customers of set the index knows
	known     []uint32        // the same, in id order

	loadOnce sync.Once
	members  []Member // every member, in the order of known

	once  [3]sync.Once
	order [3][]affinity.CustomerID // the members in each order
}

// Segment evaluates a query in the segment syntax (see package segment)
// against the snapshot, such as
//
//	recency between 14d and 28d and affinity("Apparel/Sportswear") >= 0.3
//
// A query that does not parse returns an error wrapping a
// *segment.SyntaxError (get it with errors.As) with the position of the
// problem; one that parses but names what the index does not know (a
// category, an attribute) or gives a bad value, one wrapping a
// *segment.QueryError that wraps segment.ErrUnknown or segment.ErrInvalid:
// "shop: query: segment: unknown name …".
// A shop without orders only parses the query and answers with an empty
// audience. If the snapshot's segment index could not be built, Segment
// returns the build's error.
//
// Right after [Shop.Refresh] the snapshot's segment index may still be
// under construction: Segment waits for it without a bound, like
// [Snapshot.Segments]. A caller whose wait must end with a context (a
// request handler, with its request's) calls [Snapshot.SegmentContext].
func (s *Snapshot) Segment(query string) (*Audience, error) {
	return s.SegmentContext(context.Background(), query)
}

// SegmentContext is [Snapshot.Segment] waiting for a segment index under
// construction only until ctx is done: it then returns ctx's error,
// wrapped ("shop: waiting for the segment index: context canceled"),
// while the build goes on for later callers as long as the snapshot is
// the shop's current one. A nil ctx returns [ErrNilContext].
func (s *Snapshot) SegmentContext(ctx context.Context, query string) (*Audience, error) {
	x, err := s.SegmentIndex(ctx)
	if err != nil {
		return nil, err
	}
	if x == nil {
		if _, err := segment.Parse(query); err != nil {
			return nil, wrap(err, "query")
		}
		return s.audience(nil, query, roaring.New()), nil
	}
	set, err := x.Query(query)
	if err != nil {
		return nil, wrap(err, "query")
	}
	return s.audience(x, query, set), nil
}

// Audience wraps a set of customers (dense ids, such as a bitmap from the
// segment index) as an Audience. set is copied, without the ids the
// segment index does not know (beyond the customers, erased, or without
// an order or event by its as-of time); a nil set is empty, and so is the
// audience when the segment index could not be built
// ([Snapshot.SegmentIndex] returns why). Like [Snapshot.Segment], it
// waits for an index under construction without a bound; a caller whose
// wait must end with a context calls [Snapshot.AudienceContext].
func (s *Snapshot) Audience(name string, set *roaring.Bitmap) *Audience {
	return s.wrapSet(s.Segments(), name, set)
}

// AudienceContext is [Snapshot.Audience] waiting for a segment index
// under construction only until ctx is done: it then returns ctx's
// error, wrapped ("shop: waiting for the segment index: context
// canceled"), as [Snapshot.SegmentContext] does. Where the index could
// not be built it returns the build's error, where Audience returns an
// empty audience. A nil ctx returns [ErrNilContext].
func (s *Snapshot) AudienceContext(ctx context.Context, name string, set *roaring.Bitmap) (*Audience, error) {
	x, err := s.SegmentIndex(ctx)
	if err != nil {
		return nil, err
	}
	return s.wrapSet(x, name, set), nil
}

// wrapSet is Audience over the segment index x (nil: none).
func (s *Snapshot) wrapSet(x *segment.Index, name string, set *roaring.Bitmap) *Audience {
	if set == nil || x == nil {
		return s.audience(x, name, roaring.New())
	}
	return s.audience(x, name, roaring.And(set, x.All()))
}

// audience returns the audience of set, a set of x's customers (x nil:
// none, the audience is empty).
func (s *Snapshot) audience(x *segment.Index, name string, set *roaring.Bitmap) *Audience {
	if x == nil {
		return &Audience{snap: s, query: name, set: roaring.New(), stats: segment.Stats{Name: name}}
	}
	return &Audience{snap: s, query: name, set: set, stats: x.Stats(name, set)}
}

// Query returns the query (or name) the audience was made from.
func (a *Audience) Query() string { return a.query }

// Len returns the number of customers.
func (a *Audience) Len() int { return int(a.set.GetCardinality()) }

// Stats returns the audience's size, share, revenue, orders and AOV over
// the segment look-back.
func (a *Audience) Stats() segment.Stats { return a.stats }

// Revenue returns the audience's net spend in the segment look-back.
func (a *Audience) Revenue() affinity.Money { return a.stats.Revenue }

// AOV returns the audience's average order value in the look-back: its
// net spend over its orders ([segment.Stats]), rounded half away from
// zero to Money units, which returns of orders before the look-back can
// make small, or negative. To show it at fewer decimals, round the
// quotient once: Stats().FormatAOV(d).
func (a *Audience) AOV() affinity.Money { return a.stats.AOV }

// Bitmap returns the customers by dense id; the caller owns the copy.
func (a *Audience) Bitmap() *roaring.Bitmap { return a.set.Clone() }

// MarshalJSON encodes the audience's statistics (see [Audience.Stats];
// the members are served in pages by [Audience.Page]), such as
//
//	{"query":"frequency >= 5","customers":1476,"share":0.2952,"orders":11937,
//	 "revenue":"537476.72","revenue_share":0.6065772000088795,"aov":"45.0261"}
//
// with money as exact decimal strings, as [affinity.Money] marshals, and
// shares unrounded. The method writes the query's characters as they are;
// json.Marshal and an Encoder with HTML escaping (the default) turn ">"
// into "\u003e" when they copy it.
func (a *Audience) MarshalJSON() ([]byte, error) {
	st := a.stats
	// HTML is left unescaped here (queries hold < and >): json.Marshal
	// escapes the result, an Encoder does as its SetEscapeHTML says.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(struct {
		Query        string         `json:"query"`
		Customers    int            `json:"customers"`
		Share        float64        `json:"share"`
		Orders       int64          `json:"orders"`
		Revenue      affinity.Money `json:"revenue"`
		RevenueShare float64        `json:"revenue_share"`
		AOV          affinity.Money `json:"aov"`
	}{a.query, st.Customers, st.Share, st.Orders, st.Revenue, st.RevenueShare, st.AOV})
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), err
}

// Member is one customer of an audience.
type Member struct {
	// Customer is the shop key; ID the dense id.
	Customer string              `json:"customer"`
	ID       affinity.CustomerID `json:"-"`
	// Spend and Orders are the customer's net spend and order count in
	// the segment look-back.
	Spend  affinity.Money `json:"spend"` // exact decimal text
	Orders int            `json:"orders"`
	// LastPurchase is the time of the last purchase (zero when none).
	LastPurchase time.Time `json:"last_purchase,omitzero"`
	// RFM and Stage are the customer's RFM segment and lifecycle stage
	// ("" when none).
	RFM   string `json:"rfm,omitempty"`
	Stage string `json:"stage,omitempty"`
}

// Page returns up to limit members starting at offset in the given order:
// the page [offset, offset+limit). An offset past the end gives an empty
// page, a negative one an error; limit must be in [1, MaxPage]. The first page of an order sorts
// the members once (by key rank, then by spend or last purchase); a page
// decodes the features of its own members only.
func (a *Audience) Page(order Order, offset, limit int) ([]Member, error) {
	if order < ByKey || order > ByRecency {
		return nil, fmt.Errorf("shop: unknown order %d", int(order))
	}
	if offset < 0 || limit < 1 || limit > MaxPage {
		return nil, fmt.Errorf("shop: page offset %d, limit %d: want offset ≥ 0 and 1 ≤ limit ≤ %d", offset, limit, MaxPage)
	}
	ids := a.sorted(order)
	if offset >= len(ids) {
		return []Member{}, nil
	}
	return a.membersOf(ids[offset:min(len(ids), offset+limit)]), nil
}

// All returns every member in the given order.
func (a *Audience) All(order Order) ([]Member, error) {
	if order < ByKey || order > ByRecency {
		return nil, fmt.Errorf("shop: unknown order %d", int(order))
	}
	ms := a.load()
	ids := a.sorted(order)
	out := make([]Member, len(ids))
	for i, c := range ids {
		out[i] = ms[a.pos(c)]
	}
	return out, nil
}

// knownIDs returns the members' ids in id order: the customers of the set
// that the segment index knows.
func (a *Audience) knownIDs() []uint32 {
	a.knownOnce.Do(func() {
		a.knownSet = roaring.New()
		if x := a.snap.Segments(); x != nil {
			a.knownSet = roaring.And(a.set, x.All())
		}
		a.known = a.knownSet.ToArray()
	})
	return a.known
}

// pos returns the position of member c in knownIDs.
func (a *Audience) pos(c affinity.CustomerID) int {
	i, _ := slices.BinarySearch(a.knownIDs(), uint32(c))
	return i
}

// load decodes every member's features once, in id order.
func (a *Audience) load() []Member {
	a.loadOnce.Do(func() {
		ids := a.knownIDs()
		a.members = make([]Member, len(ids))
		if len(ids) == 0 {
			return
		}
		fs := a.snap.Segments().FeaturesOf(a.knownSet)
		for i, f := range fs {
			a.members[i] = a.member(affinity.CustomerID(ids[i]), f)
		}
	})
	return a.members
}

// membersOf returns the members ids (in that order), decoding only their
// features.
func (a *Audience) membersOf(ids []affinity.CustomerID) []Member {
	bm := roaring.New()
	for _, c := range ids {
		bm.Add(uint32(c))
	}
	fs := a.snap.Segments().FeaturesOf(bm) // in id order
	byID := bm.ToArray()
	out := make([]Member, len(ids))
	for i, c := range ids {
		j, _ := slices.BinarySearch(byID, uint32(c))
		out[i] = a.member(c, fs[j])
	}
	return out
}

// member makes the Member of customer c from its features.
func (a *Audience) member(c affinity.CustomerID, f segment.Features) Member {
	m := Member{Customer: f.Customer, ID: c, Spend: f.Monetary, Orders: f.Frequency, RFM: f.RFM, Stage: f.Stage}
	if t, ok := a.snap.h.LastPurchaseBy(c, a.snap.asOf); ok {
		m.LastPurchase = t
	}
	return m
}

// sorted returns the members' ids in the given order: by key from the
// index's key order, and by spend or last purchase with ties in that
// order.
func (a *Audience) sorted(order Order) []affinity.CustomerID {
	a.once[order].Do(func() {
		x := a.snap.Segments()
		if x == nil {
			return
		}
		a.knownIDs()
		ids := x.SortedIDs(a.knownSet)
		if order != ByKey {
			type kv struct {
				c affinity.CustomerID
				k int32 // position in key order: the tie-break
				v int64
			}
			vs := make([]kv, len(ids))
			for i, c := range ids {
				vs[i].c, vs[i].k = c, int32(i)
				switch order {
				case BySpend:
					vs[i].v = int64(x.Spend(c))
				case ByRecency:
					if t, ok := a.snap.h.LastPurchaseBy(c, a.snap.asOf); ok {
						vs[i].v = t.Unix()
					} else {
						vs[i].v = math.MinInt64 // never bought: last
					}
				}
			}
			slices.SortFunc(vs, func(p, q kv) int { return cmp.Or(cmp.Compare(q.v, p.v), cmp.Compare(p.k, q.k)) })
			for i := range vs {
				ids[i] = vs[i].c
			}
		}
		a.order[order] = ids
	})
	return a.order[order]
}

// WriteCSV writes the members in the given order with a header:
// customer, spend, orders, last_purchase (RFC 3339, empty when none),
// rfm_segment, lifecycle. Spend is exact (up to four decimals). A
// customer key or segment name that a spreadsheet would run as a formula
// (one beginning with "=", "+", "-", "@", their full-width forms "＝",
// "＋", "－", "＠", a tab or a carriage return, after any apostrophes) is
// written with an apostrophe before it, so
// that a file opened in Excel, LibreOffice or Google Sheets shows it as
// text; the numbers are written as they are.
func (a *Audience) WriteCSV(w io.Writer, order Order) error {
	if order < ByKey || order > ByRecency {
		return fmt.Errorf("shop: unknown order %d", int(order))
	}
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"customer", "spend", "orders", "last_purchase", "rfm_segment", "lifecycle"}); err != nil {
		return err
	}
	rec := make([]string, 6)
	ms := a.load()
	for _, c := range a.sorted(order) {
		m := &ms[a.pos(c)]
		last := ""
		if !m.LastPurchase.IsZero() {
			last = m.LastPurchase.Format(time.RFC3339)
		}
		rec[0], rec[1], rec[2], rec[3], rec[4], rec[5] = csvtext.Cell(m.Customer), m.Spend.String(), strconv.Itoa(m.Orders), last, csvtext.Cell(m.RFM), csvtext.Cell(m.Stage)
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
