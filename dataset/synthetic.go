package dataset

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopaffinity/affinity"
	"gonum.org/v1/gonum/stat/distuv"
)

// SyntheticOptions configures [Generate]. The zero value of every field
// means its documented default, so SyntheticOptions{} is the demo storefront;
// so does a negative size (Customers, Products, Categories, Days,
// Complements) and a NaN. A probability (Preference, ComplementRate,
// RepeatRate, ReturnRate, AbandonRate) is taken in [0, 1]: a negative one
// turns its behaviour off (RepeatRate: -1 gives no product bought twice by
// a customer), one above 1 is 1.
type SyntheticOptions struct {
	// Customers is the number of customers; default 5,000.
	Customers int
	// Products is the number of products; default 1,000.
	Products int
	// Categories is the number of leaf categories; default 50. The tree has
	// three levels: about Categories/25 departments (at least 2), about
	// Categories/5 groups (at least one per department), and the leaves.
	// Beside it, about 5 % of the products are also in the two-level
	// "Collections/Seasonal" (a product in two categories, as shops have).
	Categories int
	// Seed seeds the generator; the same options give the same storefront.
	// Default 1.
	Seed uint64
	// Start is the first day of trading; default 2024-01-01 UTC.
	Start time.Time
	// Days is the length of the trading period; default 730.
	Days int
	// MeanOrders is the mean number of orders per customer (at least 1,
	// at most 1,000; one-time buyers are common) before the end of the
	// trading period cuts them short; default 4. Customers differ in how likely they are
	// to stop after each order (see [Generate]).
	MeanOrders float64
	// MeanLines is the mean number of lines per order (at least 1, at
	// most 1,000); default 2.5.
	MeanLines float64
	// Zipf is the exponent s of the product popularity law weight ∝ 1/rank^s;
	// default 1.07.
	Zipf float64
	// Preference is the probability that a line comes from one of the
	// customer's preferred categories rather than from the whole catalog;
	// default 0.75.
	Preference float64
	// Complements is the number of planted complementary pairs; default
	// Products/20. An anchor has at most two partners, so at most
	// 2 × Products pairs are tried for (Generate reports that bound in
	// [Storefront.Options]), for at most 50 tries a pair: a catalog that
	// cannot hold them all gets fewer, as many as [Truth.Complements]
	// holds, in time linear in Products, not in Complements.
	Complements int
	// ComplementRate is the probability that a buyer of a pair's anchor
	// also buys its partner, half the time in the same order and half in a
	// later order within 7 to 28 days; default 0.6.
	ComplementRate float64
	// RepeatRate is the probability that a line re-buys a product the
	// customer bought before; default 0.15.
	RepeatRate float64
	// ReturnRate is the probability that a bought line is returned later
	// (a negative line in a separate order); default 0.03.
	ReturnRate float64
	// ViewsPerLine is the mean number of product views around each bought
	// line (at most 1,000); default 2. Negative disables events
	// altogether.
	ViewsPerLine float64
	// AbandonRate is the probability that an order comes with an abandoned
	// cart (an add-to-cart of a product not bought); default 0.3.
	AbandonRate float64
	// Seasonality is the amplitude in [0, 1) of a yearly cycle peaking in
	// December; default 0.3.
	Seasonality float64
}

func (o SyntheticOptions) withDefaults() SyntheticOptions {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	deff := func(v *float64, d float64) {
		if *v == 0 || math.IsNaN(*v) {
			*v = d
		}
	}
	def(&o.Customers, 5000)
	def(&o.Products, 1000)
	def(&o.Categories, 50)
	def(&o.Days, 730)
	def(&o.Complements, max(o.Products/20, 1))
	o.Complements = min(o.Complements, 2*o.Products) // at most two partners an anchor
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	deff(&o.MeanOrders, 4)
	deff(&o.MeanLines, 2.5)
	deff(&o.Zipf, 1.07)
	deff(&o.Preference, 0.75)
	deff(&o.ComplementRate, 0.6)
	deff(&o.RepeatRate, 0.15)
	deff(&o.ReturnRate, 0.03)
	deff(&o.ViewsPerLine, 2)
	deff(&o.AbandonRate, 0.3)
	deff(&o.Seasonality, 0.3)
	for _, p := range []*float64{&o.Preference, &o.ComplementRate, &o.RepeatRate, &o.ReturnRate, &o.AbandonRate} {
		*p = min(max(*p, 0), 1)
	}
	o.MeanOrders = min(max(o.MeanOrders, 1), maxMean)
	o.MeanLines = min(max(o.MeanLines, 1), maxMean)
	o.ViewsPerLine = min(o.ViewsPerLine, maxMean)
	o.Seasonality = min(max(o.Seasonality, 0), 0.99)
	return o
}

// Bounds of the generator: the largest MeanOrders, MeanLines and
// ViewsPerLine it takes (larger ones are cut to it), the most lines or
// events it reserves room for ahead, and the draws of a customer's
// preferred leaf before it accepts one drawn already.
const (
	maxMean      = 1000
	maxReserve   = 1 << 22
	maxPrefDraws = 64
)

// Pair is a planted complementary pair: buyers of A tend to buy B too, in
// the same order or within a few weeks after.
type Pair struct {
	A, B string
}

// Truth is what the generator planted, for tests that check that segments
// and recommendations recover it.
type Truth struct {
	// TopCategories maps each customer key to the leaf category paths the
	// customer prefers, strongest first.
	TopCategories map[string][]string
	// Complements are the planted pairs, sorted by A then B. A's and B's
	// categories differ at the top level.
	Complements []Pair
}

// Storefront is a generated shop: catalog, purchases, events and the
// planted truth. Purchases and events are in generation order (customer by
// customer), not sorted by time.
type Storefront struct {
	// Options are the options used: defaults filled in, Complements at
	// most 2 × Products. Generate(Options) gives the same storefront.
	Options   SyntheticOptions
	Products  []affinity.Product
	Purchases []affinity.Purchase
	Events    []affinity.Event
	Truth     Truth
}

// History builds an [affinity.History] from the storefront's products,
// purchases and events.
func (s *Storefront) History(ctx context.Context) (*affinity.History, error) {
	if err := affinity.CheckContext("dataset", ctx); err != nil {
		return nil, err
	}
	if s == nil {
		return nil, affinity.NilArgument("dataset", "Storefront")
	}
	var b affinity.Builder
	for _, p := range s.Products {
		if err := b.AddProduct(p); err != nil {
			return nil, err
		}
	}
	b.Grow(len(s.Purchases))
	for i, p := range s.Purchases {
		if i%8192 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if err := b.Add(p); err != nil {
			return nil, err
		}
	}
	for _, e := range s.Events {
		if err := b.AddEvent(e); err != nil {
			return nil, err
		}
	}
	return b.Build(ctx)
}

var (
	demoOnce sync.Once
	demo     *Storefront
)

// Demo returns the embedded demo storefront: [Generate] with the default
// options (5,000 customers, 1,000 products, 50 leaf categories, two years).
// It is generated once per process and shared: treat it as read-only.
func Demo() *Storefront {
	demoOnce.Do(func() { demo = Generate(SyntheticOptions{}) })
	return demo
}

var (
	departments = []string{"Apparel", "Home", "Electronics", "Sports", "Beauty", "Garden", "Toys", "Grocery", "Books", "Office", "Pets", "Auto"}
	groupWords  = []string{"Essentials", "Outdoor", "Classic", "Kids", "Premium", "Care", "Basics", "Studio", "Active", "Travel", "Kitchen", "Digital"}
	leafWords   = []string{"Running", "Socks", "Jackets", "Lamps", "Cables", "Shoes", "Bags", "Cups", "Tools", "Games", "Snacks", "Paper", "Bottles", "Brushes", "Mats", "Lights"}
)

// node names: word pools first, numbered once they run out
func poolName(pool []string, i int) string {
	if i < len(pool) {
		return pool[i]
	}
	return pool[i%len(pool)] + " " + strconv.Itoa(i/len(pool)+1)
}

// Generate builds a deterministic synthetic storefront: a three-level
// category tree, products with Zipf popularity and log-normal prices,
// customers with three preferred leaf categories (weights 0.5, 0.3, 0.2),
// heterogeneous drop-out (after each order a customer stops with a
// probability of their own, drawn from Beta(3, 2·(MeanOrders−1))) and
// heterogeneous purchase rates (Gamma(3, 3) times the shop's), the two
// spreads the BG/NBD model estimates; orders spread over the trading period with a yearly season, repeat
// purchases, returns, views and add-to-carts (some carts abandoned), and
// planted complementary pairs across departments. The same options always
// give the same storefront. It takes time and memory linear in the number of
// lines (about 10 per customer by default).
func Generate(opts SyntheticOptions) *Storefront {
	o := opts.withDefaults()
	g := &generator{o: o, rng: rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))}
	g.catalog()
	g.plant()
	s := &Storefront{Options: o, Products: g.products, Truth: Truth{TopCategories: make(map[string][]string, o.Customers), Complements: g.pairs}}
	// room for the expected lines and events, up to maxReserve each
	// beyond which they grow as they come
	lines := float64(o.Customers) * o.MeanOrders * o.MeanLines * 1.15
	s.Purchases = make([]affinity.Purchase, 0, int(min(lines, maxReserve)))
	if o.ViewsPerLine > 0 {
		// a line's views, geometric with mean ViewsPerLine, and its cart
		// event when it has views; abandoned carts beside
		v := o.ViewsPerLine
		s.Events = make([]affinity.Event, 0, int(min(lines*(v+v/(1+v))+float64(o.Customers)*o.MeanOrders*o.AbandonRate, maxReserve)))
	}
	for c := range o.Customers {
		g.customer(c, s)
	}
	return s
}

type generator struct {
	o        SyntheticOptions
	rng      *rand.Rand
	products []affinity.Product
	prodLeaf []int
	leaves   []string // leaf paths
	leafTop  []int    // department of each leaf
	// per leaf: products and cumulative popularity
	leafProds [][]int
	leafCum   [][]float64
	// leaves by total popularity
	leafW    []float64
	leafCumW []float64
	partner  map[int][]int // anchor -> partners
	pairs    []Pair
	order    int
}

func (g *generator) catalog() {
	o := g.o
	nTop := max(2, o.Categories/25)
	nGroup := max(nTop, o.Categories/5)
	groups := make([]string, nGroup)
	groupTop := make([]int, nGroup)
	for i := range nGroup {
		groupTop[i] = i % nTop
		groups[i] = poolName(departments, groupTop[i]) + affinity.CategorySep + poolName(groupWords, i/nTop)
	}
	g.leaves = make([]string, o.Categories)
	g.leafTop = make([]int, o.Categories)
	for i := range o.Categories {
		gi := i % nGroup
		g.leaves[i] = groups[gi] + affinity.CategorySep + poolName(leafWords, i/nGroup)
		g.leafTop[i] = groupTop[gi]
	}
	// popularity rank is a random permutation of products
	rank := g.rng.Perm(o.Products)
	g.products = make([]affinity.Product, o.Products)
	g.prodLeaf = make([]int, o.Products)
	g.leafProds = make([][]int, o.Categories)
	leafPrice := make([]float64, o.Categories)
	for i := range leafPrice {
		leafPrice[i] = math.Exp(1.5 + 2*g.rng.Float64()) // 4.5 .. 33
	}
	for p := range o.Products {
		leaf := p % o.Categories
		if p >= o.Categories {
			leaf = g.rng.IntN(o.Categories)
		}
		g.prodLeaf[p] = leaf
		g.leafProds[leaf] = append(g.leafProds[leaf], p)
		cats := []string{g.leaves[leaf]}
		if g.rng.Float64() < 0.05 {
			cats = append(cats, "Collections/Seasonal")
		}
		price := leafPrice[leaf] * math.Exp(0.5*g.rng.NormFloat64())
		g.products[p] = affinity.Product{
			Key:        productKey(p),
			Name:       fmt.Sprintf("%s %d", strings.ReplaceAll(g.leaves[leaf][strings.Index(g.leaves[leaf], affinity.CategorySep)+1:], affinity.CategorySep, " "), p),
			Categories: cats,
			Price:      affinity.MoneyFromFloat(math.Round(price*100) / 100),
			InStock:    g.rng.Float64() < 0.95,
		}
	}
	weight := func(p int) float64 { return 1 / math.Pow(float64(rank[p]+1), o.Zipf) }
	g.leafCum = make([][]float64, o.Categories)
	g.leafW = make([]float64, o.Categories)
	for l, ps := range g.leafProds {
		cum := make([]float64, len(ps))
		s := 0.0
		for i, p := range ps {
			s += weight(p)
			cum[i] = s
		}
		g.leafCum[l], g.leafW[l] = cum, s
	}
	g.leafCumAll()
}

func (g *generator) leafCumAll() {
	g.leafCumW = make([]float64, len(g.leafW))
	s := 0.0
	for i, w := range g.leafW {
		s += w
		g.leafCumW[i] = s
	}
}

func pick(rng *rand.Rand, cum []float64) int {
	if len(cum) == 0 {
		return -1
	}
	i, _ := slices.BinarySearch(cum, rng.Float64()*cum[len(cum)-1])
	return min(i, len(cum)-1)
}

func (g *generator) productIn(leaf int) int {
	i := pick(g.rng, g.leafCum[leaf])
	if i < 0 {
		return g.rng.IntN(g.o.Products)
	}
	return g.leafProds[leaf][i]
}

// plant chooses complementary pairs: anchors among the popular half of the
// catalog, partners in another department.
func (g *generator) plant() {
	o := g.o
	g.partner = make(map[int][]int)
	seen := make(map[Pair]bool)
	for tries := 0; len(g.pairs) < o.Complements && tries < 50*o.Complements; tries++ { // o.Complements ≤ 2 × Products
		a := g.productIn(pick(g.rng, g.leafCumW))
		var b int
		for range 20 {
			b = g.rng.IntN(o.Products)
			if g.leafTop[g.prodLeaf[b]] != g.leafTop[g.prodLeaf[a]] {
				break
			}
		}
		if g.leafTop[g.prodLeaf[b]] == g.leafTop[g.prodLeaf[a]] {
			continue
		}
		pr := Pair{A: productKey(a), B: productKey(b)}
		if seen[pr] || len(g.partner[a]) >= 2 {
			continue
		}
		seen[pr] = true
		g.partner[a] = append(g.partner[a], b)
		g.pairs = append(g.pairs, pr)
	}
	slices.SortFunc(g.pairs, func(x, y Pair) int {
		if x.A != y.A {
			return cmpString(x.A, y.A)
		}
		return cmpString(x.B, y.B)
	})
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func productKey(p int) string  { return fmt.Sprintf("p%05d", p) }
func customerKey(c int) string { return fmt.Sprintf("c%06d", c) }

// season returns the relative demand on day d in (0, 1].
func (g *generator) season(t time.Time) float64 {
	doy := float64(t.YearDay())
	a := g.o.Seasonality
	return (1 + a*math.Cos(2*math.Pi*(doy-350)/365)) / (1 + a)
}

type pending struct {
	at   time.Time
	prod int
	qty  int32
}

func (g *generator) customer(c int, s *Storefront) {
	o, rng := g.o, g.rng
	key := customerKey(c)
	// three preferred leaves, distinct, drawn by popularity; a repeat
	// after maxPrefDraws draws (fewer than three leaves with products,
	// or popularity so steep that the third is never drawn)
	var prefs [3]int
	for i := range prefs {
		for try := 1; ; try++ {
			prefs[i] = pick(rng, g.leafCumW)
			if !slices.Contains(prefs[:i], prefs[i]) || o.Categories <= i || try == maxPrefDraws {
				break
			}
		}
	}
	prefW := [3]float64{0.5, 0.8, 1.0} // cumulative 0.5, 0.3, 0.2
	truth := make([]string, 0, 3)
	for _, l := range prefs {
		if !slices.Contains(truth, g.leaves[l]) {
			truth = append(truth, g.leaves[l])
		}
	}
	s.Truth.TopCategories[key] = truth

	end := o.Start.AddDate(0, 0, o.Days)
	span := float64(o.Days) * 24 * float64(time.Hour)
	t := o.Start.Add(time.Duration(rng.Float64() * 0.9 * span)).Truncate(time.Minute)
	nOrders := 1
	if extra := o.MeanOrders - 1; extra > 0 {
		// Heterogeneous drop-out: after each order the customer stops with
		// probability p, drawn per customer from Beta(3, 2·(MeanOrders−1)),
		// so that the number of orders, geometric given p, has mean
		// E[1/p] = (α+β−1)/(α−1) = MeanOrders. A p shared by everyone would leave the
		// BG/NBD model nothing to estimate its spread from.
		p := distuv.Beta{Alpha: 3, Beta: 2 * extra, Src: rng}.Rand()
		for rng.Float64() > p {
			nOrders++
		}
	}
	meanGap := span * 0.6 / o.MeanOrders
	// Heterogeneous purchase rates: the customer's rate is the shop's
	// times λ ~ Gamma(3, 3), and the gap is scaled by E[1/λ] / λ = (2/3) / λ
	// so that the mean gap stays meanGap.
	meanGap *= (2.0 / 3.0) / distuv.Gamma{Alpha: 3, Beta: 3, Src: rng}.Rand()
	var bought []int
	var later []pending // complements and returns due in later orders
	for n := 0; n < nOrders && t.Before(end); n++ {
		for rng.Float64() > g.season(t) {
			t = t.Add(time.Duration((1 + rng.Float64()*3) * 24 * float64(time.Hour)))
		}
		if !t.Before(end) {
			break
		}
		// due follow-ups become their own orders before this one
		later = g.flush(key, t, later, s)
		order := g.nextOrder()
		nLines := 1
		for rng.Float64() > 1/o.MeanLines {
			nLines++
		}
		var lines []int
		for range nLines {
			var p int
			switch r := rng.Float64(); {
			case len(bought) > 0 && r < o.RepeatRate:
				p = bought[rng.IntN(len(bought))]
			case r < o.RepeatRate+(1-o.RepeatRate)*o.Preference:
				p = g.productIn(prefs[pick(rng, prefW[:])])
			default:
				p = g.productIn(pick(rng, g.leafCumW))
			}
			if slices.Contains(lines, p) {
				continue
			}
			lines = append(lines, p)
			for _, b := range g.partner[p] {
				if rng.Float64() >= o.ComplementRate {
					continue
				}
				if rng.Float64() < 0.5 {
					if !slices.Contains(lines, b) {
						lines = append(lines, b)
					}
				} else {
					d := time.Duration((7 + rng.Float64()*21) * 24 * float64(time.Hour))
					later = append(later, pending{at: t.Add(d), prod: b, qty: 1})
				}
			}
		}
		g.emit(key, order, t, lines, s)
		for _, p := range lines {
			if !slices.Contains(bought, p) {
				bought = append(bought, p)
			}
			if rng.Float64() < o.ReturnRate {
				d := time.Duration((2 + rng.Float64()*26) * 24 * float64(time.Hour))
				later = append(later, pending{at: t.Add(d), prod: p, qty: -1})
			}
		}
		if o.ViewsPerLine > 0 && rng.Float64() < o.AbandonRate {
			p := g.productIn(prefs[pick(rng, prefW[:])])
			at := t.Add(time.Duration(rng.Float64() * 5 * 24 * float64(time.Hour)))
			if at.Before(end) && !slices.Contains(lines, p) {
				s.Events = append(s.Events, affinity.Event{Customer: key, Product: productKey(p), Time: at, Kind: affinity.Cart, Weight: 1})
			}
		}
		t = t.Add(time.Duration(rng.ExpFloat64() * meanGap)).Truncate(time.Minute)
	}
	g.flush(key, end, later, s)
}

// flush emits the follow-ups due before t, each as its own order, and
// returns the rest.
func (g *generator) flush(key string, t time.Time, later []pending, s *Storefront) []pending {
	end := g.o.Start.AddDate(0, 0, g.o.Days)
	rest := later[:0]
	for _, f := range later {
		if !f.at.Before(t) {
			rest = append(rest, f)
			continue
		}
		if !f.at.Before(end) {
			continue
		}
		at := f.at.Truncate(time.Minute)
		order := g.nextOrder()
		p := g.products[f.prod]
		s.Purchases = append(s.Purchases, affinity.Purchase{Customer: key, Product: p.Key, Order: order, Time: at, Quantity: f.qty, Price: p.Price})
		if f.qty > 0 {
			g.views(key, at, f.prod, s)
		}
	}
	return rest
}

func (g *generator) nextOrder() string {
	g.order++
	return "o" + strconv.Itoa(g.order)
}

func (g *generator) emit(key, order string, t time.Time, lines []int, s *Storefront) {
	for _, p := range lines {
		q := int32(1)
		if g.rng.Float64() < 0.15 {
			q = int32(2 + g.rng.IntN(3))
		}
		prod := g.products[p]
		s.Purchases = append(s.Purchases, affinity.Purchase{Customer: key, Product: prod.Key, Order: order, Time: t, Quantity: q, Price: prod.Price})
		g.views(key, t, p, s)
	}
}

// views adds page views of p (and a cart event) shortly before a purchase.
func (g *generator) views(key string, t time.Time, p int, s *Storefront) {
	if g.o.ViewsPerLine < 0 {
		return
	}
	n := 0
	for g.rng.Float64() < g.o.ViewsPerLine/(1+g.o.ViewsPerLine) {
		n++
	}
	pk := g.products[p].Key
	for range n {
		at := t.Add(-time.Duration(g.rng.Float64() * 48 * float64(time.Hour))).Truncate(time.Second)
		s.Events = append(s.Events, affinity.Event{Customer: key, Product: pk, Time: at, Kind: affinity.View, Weight: 1})
	}
	if n > 0 {
		s.Events = append(s.Events, affinity.Event{Customer: key, Product: pk, Time: t.Add(-time.Minute), Kind: affinity.Cart, Weight: 1})
	}
}

// ResponseOptions configures [Storefront.Respond]. The zero value of a
// field means its documented default.
type ResponseOptions struct {
	// Start is the beginning (exclusive) of the response period, such as
	// the time a campaign went out; required.
	Start time.Time
	// Days is the length of the period; default 14.
	Days int
	// BaseRate is the probability that a customer buys in the period
	// without any campaign; default 0.1.
	BaseRate float64
	// Uplift is the probability added for treated customers: the planted
	// effect. 0 plants none (an A/A test).
	Uplift float64
	// Seed seeds the draws; the same inputs give the same purchases.
	// Default 1.
	Seed uint64
}

// ResponseTruth is what [Storefront.Respond] planted.
type ResponseTruth struct {
	// Uplift repeats the planted difference in conversion.
	Uplift float64
	// MeanOrderValue is the expected value of a response order, in
	// currency units: the mean list price of the catalog.
	MeanOrderValue float64
	// Incremental is the expected revenue the campaign added, in currency
	// units: Uplift × treated customers × MeanOrderValue.
	Incremental float64
}

// Respond plants campaign responders: the purchases of the given
// customers (shop keys) in the period (Start, Start+Days]. Each customer
// buys once with probability BaseRate, plus Uplift when in treated,
// independently: one order of one product drawn uniformly from the
// catalog, quantity 1, at its list price, at a uniform time in the period.
// Order keys start with "r" and hold the start time, the seed and the
// customer ("r1735689600-1-c000042-7"), so they never collide with the
// storefront's, nor with those of a call for another period or seed
// (responses to two campaigns, a month apart, are two orders). A
// BaseRate of 0 means 0.1.
// The purchases extend the storefront's history (add them with a Builder
// started from it); the truth gives the effect a measurement should
// recover. It panics, as a caller bug, for a zero Start, rates outside
// [0, 1] or a storefront without products.
func (s *Storefront) Respond(treated, control []string, opts ResponseOptions) ([]affinity.Purchase, ResponseTruth) {
	if opts.Days <= 0 {
		opts.Days = 14
	}
	if opts.BaseRate == 0 {
		opts.BaseRate = 0.1
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Start.IsZero() || len(s.Products) == 0 || !(opts.BaseRate >= 0) || !(opts.Uplift >= 0) || !(opts.BaseRate+opts.Uplift <= 1) {
		panic("dataset: Respond needs a start time, products and rates with 0 ≤ BaseRate+Uplift ≤ 1")
	}
	rng := rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x5851f42d4c957f2d))
	var sum float64
	for _, p := range s.Products {
		sum += p.Price.Float()
	}
	truth := ResponseTruth{Uplift: opts.Uplift, MeanOrderValue: sum / float64(len(s.Products))}
	truth.Incremental = opts.Uplift * float64(len(treated)) * truth.MeanOrderValue
	span := float64(opts.Days) * 24 * float64(time.Hour)
	var out []affinity.Purchase
	n := 0
	buy := func(keys []string, rate float64) {
		for _, k := range keys {
			if rng.Float64() >= rate {
				continue
			}
			n++
			p := s.Products[rng.IntN(len(s.Products))]
			at := opts.Start.Add(time.Duration((1 - rng.Float64()) * span)).Truncate(time.Second)
			if !at.After(opts.Start) {
				at = opts.Start.Add(time.Second)
			}
			key := "r" + strconv.FormatInt(opts.Start.Unix(), 10) + "-" + strconv.FormatUint(opts.Seed, 10) + "-" + k + "-" + strconv.Itoa(n)
			out = append(out, affinity.Purchase{Customer: k, Product: p.Key, Order: key, Time: at, Quantity: 1, Price: p.Price})
		}
	}
	buy(treated, opts.BaseRate+opts.Uplift)
	buy(control, opts.BaseRate)
	return out, truth
}
