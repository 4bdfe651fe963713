package evaluate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// Split is a train/test division of a purchase history. Both Histories
// carry the full catalog of the source (when made by one of the split
// functions, product ids are the same in both); customers are matched
// between them by shop key.
type Split struct {
	// Train is what recommenders learn from; Test holds what they must
	// predict.
	Train, Test *affinity.History
	// AsOf is the end of the training period, the time recommenders are
	// fitted at: the cutoff of a temporal split, the latest training time
	// otherwise.
	AsOf time.Time
	// Protocol describes how the split was made, e.g. "temporal split at
	// 2011-10-01".
	Protocol string
}

// timeLayout prints the times of protocols and reports: time.DateTime,
// with the fraction of a second only when there is one.
const timeLayout = "2006-01-02 15:04:05.999999999"

// Stratum is the grouping of [StratifiedSplit].
type Stratum int

const (
	// ByCustomer keeps the train ratio within each customer's interactions.
	ByCustomer Stratum = iota
	// ByProduct keeps the train ratio within each product's interactions
	// (microsoft/recommenders' filter_by="item").
	ByProduct
)

// String returns "customer" or "product".
func (s Stratum) String() string {
	if s == ByProduct {
		return "product"
	}
	return "customer"
}

// SplitOptions configures the ratio splits [ChronoSplit],
// [StratifiedSplit] and [LeaveOneOutSplit]. The zero value means the
// defaults.
type SplitOptions struct {
	// Ratio is the share that goes to training, in (0, 1); 0 means 0.75.
	Ratio float64
	// By is the stratum of [StratifiedSplit]; default ByCustomer. Another
	// value is an error.
	By Stratum
	// Seed seeds the random choices of [StratifiedSplit] and
	// [LeaveOneOutSplit] (a PCG source); the same seed and History give the
	// same split.
	Seed uint64
}

func (o SplitOptions) ratio() (float64, error) {
	switch {
	case o.Ratio == 0:
		return 0.75, nil
	case o.Ratio > 0 && o.Ratio < 1:
		return o.Ratio, nil
	}
	return 0, fmt.Errorf("evaluate: split ratio %v outside (0, 1)", o.Ratio)
}

func (o SplitOptions) rng() *rand.Rand {
	return rand.New(rand.NewPCG(o.Seed, o.Seed^0x5851f42d4c957f2d))
}

// ErrEmptySplit is returned (wrapped) when a split leaves the training or
// the test side without any customer interaction.
var ErrEmptySplit = errors.New("evaluate: empty side of a split")

// splitter copies records of a source History into a train and a test
// Builder, both seeded with the source's whole catalog so that product ids
// agree.
type splitter struct {
	src         *affinity.History
	train, test *affinity.Builder
	err         error
}

func newSplitter(src *affinity.History) *splitter {
	s := &splitter{src: src, train: &affinity.Builder{}, test: &affinity.Builder{}}
	cat := src.Catalog()
	for p := range cat.NumProducts() {
		prod := cat.Product(affinity.ProductID(p))
		if err := s.train.AddProduct(prod); err != nil {
			s.err = err
		}
		if err := s.test.AddProduct(prod); err != nil {
			s.err = err
		}
	}
	return s
}

// line adds purchase line i of order o to b, under customer key cust.
func (s *splitter) line(b *affinity.Builder, o affinity.OrderID, i int, cust string) {
	l := s.src.Line(i)
	err := b.Add(affinity.Purchase{
		Customer: cust,
		Product:  s.src.Catalog().ProductKey(l.Product),
		Order:    s.src.OrderKey(o),
		Time:     s.src.OrderTime(o),
		Quantity: l.Quantity,
		Price:    l.Price,
	})
	if err != nil && s.err == nil {
		s.err = err
	}
}

// order adds all lines of o to b under its own customer.
func (s *splitter) order(b *affinity.Builder, o affinity.OrderID) {
	cust := ""
	if c := s.src.OrderCustomer(o); c != affinity.NoCustomer {
		cust = s.src.CustomerKey(c)
	}
	lo, hi := s.src.OrderLines(o)
	for i := lo; i < hi; i++ {
		s.line(b, o, i, cust)
	}
}

// event adds event i of customer c to b.
func (s *splitter) event(b *affinity.Builder, c affinity.CustomerID, i int) {
	e := s.src.Event(i)
	err := b.AddEvent(affinity.Event{
		Customer: s.src.CustomerKey(c),
		Product:  s.src.Catalog().ProductKey(e.Product),
		Time:     e.Time(),
		Kind:     e.Kind,
		Weight:   e.Weight,
	})
	if err != nil && s.err == nil {
		s.err = err
	}
}

// anonymous adds every anonymous order to training.
func (s *splitter) anonymous() {
	lo, hi := s.src.AnonymousOrders()
	for o := lo; o < hi; o++ {
		s.order(s.train, o)
	}
}

// build finishes both sides. asOf zero means the latest training time.
func (s *splitter) build(ctx context.Context, asOf time.Time, protocol string) (*Split, error) {
	if s.err != nil {
		return nil, fmt.Errorf("evaluate: %s: %w", protocol, s.err)
	}
	train, err := s.train.Build(ctx)
	if err != nil {
		return nil, fmt.Errorf("evaluate: %s: %w", protocol, err)
	}
	test, err := s.test.Build(ctx)
	if err != nil {
		return nil, fmt.Errorf("evaluate: %s: %w", protocol, err)
	}
	if !hasCustomerData(train) {
		return nil, fmt.Errorf("%w: %s: no training data", ErrEmptySplit, protocol)
	}
	if !hasCustomerData(test) {
		return nil, fmt.Errorf("%w: %s: no test data", ErrEmptySplit, protocol)
	}
	if asOf.IsZero() {
		asOf = train.Latest()
	}
	return &Split{Train: train, Test: test, AsOf: asOf, Protocol: protocol}, nil
}

// checkInput rejects the nil inputs of the split functions and of the
// recommenders' Fit methods.
func checkInput(ctx context.Context, h *affinity.History) error {
	if err := affinity.CheckContext("evaluate", ctx); err != nil {
		return err
	}
	if h == nil {
		return affinity.NilArgument("evaluate", "History")
	}
	return nil
}

func hasCustomerData(h *affinity.History) bool {
	lo, hi := h.AnonymousOrders()
	return h.NumOrders() > int(hi-lo) || h.NumEvents() > 0
}

// DefaultCutoff returns the default cutoff of [TemporalSplit]: 00:00 UTC
// of the day of the order at the 80 % quantile of the customer orders by
// time, so that about the last fifth of the customers' orders are test
// data; 00:00 of the next day when no order is before the quantile's day
// and one is after it, so that neither side is empty (both cannot be when
// every order is of one day). Without customer orders it uses the events' times. It returns the
// zero time for a History without customer orders and events.
func DefaultCutoff(h *affinity.History) time.Time {
	if h == nil {
		return time.Time{}
	}
	var times []int64
	for c := range affinity.CustomerID(h.NumCustomers()) {
		lo, hi := h.CustomerOrders(c)
		for o := lo; o < hi; o++ {
			times = append(times, h.OrderUnix(o))
		}
	}
	if len(times) == 0 {
		for c := range affinity.CustomerID(h.NumCustomers()) {
			lo, hi := h.CustomerEvents(c)
			for i := lo; i < hi; i++ {
				times = append(times, h.Event(i).Unix)
			}
		}
	}
	if len(times) == 0 {
		return time.Time{}
	}
	slices.Sort(times)
	q := times[min(len(times)-1, len(times)*8/10)]
	cut := time.Unix(q, 0).UTC().Truncate(24 * time.Hour)
	if next := cut.Add(24 * time.Hour); cut.Unix() <= times[0] && next.Unix() <= times[len(times)-1] {
		return next // nothing before the quantile's day: train on that day
	}
	return cut
}

// TemporalSplit puts every order and event before cutoff into training
// and the rest into test: a global temporal split with no leakage from
// the future. Times are whole seconds, so with a cutoff inside a second
// (12:00:00.5) the records of that second (12:00:00) are before it and
// train. Anonymous orders before the cutoff stay in training (they
// inform co-purchase counts); later ones go to test, where they are never
// evaluated. AsOf is the cutoff. See [DefaultCutoff] for a default.
func TemporalSplit(ctx context.Context, h *affinity.History, cutoff time.Time) (*Split, error) {
	if err := checkInput(ctx, h); err != nil {
		return nil, err
	}
	if cutoff.IsZero() {
		return nil, errors.New("evaluate: temporal split without a cutoff")
	}
	s := newSplitter(h)
	// a record at second t is before cutoff iff t < ceil(cutoff): Unix
	// floors (also before 1970), and Nanosecond is in [0, 1e9)
	cu := cutoff.Unix()
	if cutoff.Nanosecond() > 0 {
		cu++
	}
	n := 0
	for o := range h.Orders() {
		if n++; n%8192 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("evaluate: %w", err)
			}
		}
		if h.OrderUnix(o) < cu {
			s.order(s.train, o)
		} else {
			s.order(s.test, o)
		}
	}
	for c := range affinity.CustomerID(h.NumCustomers()) {
		lo, hi := h.CustomerEvents(c)
		for i := lo; i < hi; i++ {
			if h.Event(i).Unix < cu {
				s.event(s.train, c, i)
			} else {
				s.event(s.test, c, i)
			}
		}
	}
	return s.build(ctx, cutoff, "temporal split at "+cutoff.UTC().Format(timeLayout))
}

// LastOrderSplit holds out each customer's last order (next-basket
// protocol): for a customer with bought lines at two or more distinct
// times, everything at or after the time of the last order with a bought
// line (orders and events alike) goes to test and everything before to
// training. Customers who never bought are split the same way on their
// event times. The purchase times decide for a customer who bought: one
// who bought at a single time stays in training whole, events at other
// times included, as does a customer who never bought and has events at
// a single time, and anonymous orders. AsOf is the latest training
// time. Other customers' orders after
// a customer's held-out order remain in training, as usual for this
// protocol.
func LastOrderSplit(ctx context.Context, h *affinity.History) (*Split, error) {
	if err := checkInput(ctx, h); err != nil {
		return nil, err
	}
	s := newSplitter(h)
	for c := range affinity.CustomerID(h.NumCustomers()) {
		if c%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("evaluate: %w", err)
			}
		}
		first, last, ok := purchaseSpan(h, c)
		if !ok {
			first, last, ok = eventSpan(h, c)
		}
		cut := last
		if !ok || first == last {
			cut = int64(^uint64(0) >> 1) // everything to training
		}
		olo, ohi := h.CustomerOrders(c)
		for o := olo; o < ohi; o++ {
			if h.OrderUnix(o) < cut {
				s.order(s.train, o)
			} else {
				s.order(s.test, o)
			}
		}
		lo, hi := h.CustomerEvents(c)
		for i := lo; i < hi; i++ {
			if h.Event(i).Unix < cut {
				s.event(s.train, c, i)
			} else {
				s.event(s.test, c, i)
			}
		}
	}
	s.anonymous()
	return s.build(ctx, time.Time{}, "last-order split")
}

// purchaseSpan returns the times of c's first and last orders with a
// bought line.
func purchaseSpan(h *affinity.History, c affinity.CustomerID) (first, last int64, ok bool) {
	f, ok := h.FirstPurchase(c)
	if !ok {
		return 0, 0, false
	}
	l, _ := h.LastPurchase(c)
	return f.Unix(), l.Unix(), true
}

func eventSpan(h *affinity.History, c affinity.CustomerID) (first, last int64, ok bool) {
	lo, hi := h.CustomerEvents(c)
	if lo == hi {
		return 0, 0, false
	}
	return h.Event(lo).Unix, h.Event(hi - 1).Unix, true
}

// unit is one interaction of a ratio split: purchase line i of order o
// (event false) or event i.
type unit struct {
	key   float64 // sort key: time, or a random number
	i     int32
	o     affinity.OrderID
	event bool
}

// customerUnits appends c's lines and events to dst, lines first, in
// History order, with their times as keys.
func customerUnits(dst []unit, h *affinity.History, c affinity.CustomerID) []unit {
	olo, ohi := h.CustomerOrders(c)
	for o := olo; o < ohi; o++ {
		lo, hi := h.OrderLines(o)
		for i := lo; i < hi; i++ {
			dst = append(dst, unit{key: float64(h.OrderUnix(o)), i: int32(i), o: o})
		}
	}
	lo, hi := h.CustomerEvents(c)
	for i := lo; i < hi; i++ {
		dst = append(dst, unit{key: float64(h.Event(i).Unix), i: int32(i), event: true})
	}
	return dst
}

// place routes the units of one stratum, sorted by key (ties kept in
// History order), to training while their rank i/n (1-based) is at most
// ratio, as microsoft/recommenders' splitters do.
func (s *splitter) place(units []unit, c affinity.CustomerID, ratio float64) {
	slices.SortStableFunc(units, func(a, b unit) int { return cmp.Compare(a.key, b.key) })
	n := float64(len(units))
	for j, u := range units {
		b := s.test
		if float64(j+1)/n <= ratio {
			b = s.train
		}
		if u.event {
			s.event(b, c, int(u.i))
		} else {
			s.line(b, u.o, int(u.i), s.src.CustomerKey(c))
		}
	}
}

// ChronoSplit splits each customer's interactions (purchase lines,
// returns included, and events) in time order: the first Ratio of them
// go to training, the rest to test (microsoft/recommenders'
// python_chrono_split with filter_by="user"). Interaction j of n (1-based,
// by time, ties in History order) is a training one when j/n ≤ Ratio, so a
// customer with a single interaction is test-only. Lines of one order can
// fall on both sides when they tie. Anonymous orders stay in training.
// AsOf is the latest training time.
func ChronoSplit(ctx context.Context, h *affinity.History, opts SplitOptions) (*Split, error) {
	if err := checkInput(ctx, h); err != nil {
		return nil, err
	}
	ratio, err := opts.ratio()
	if err != nil {
		return nil, err
	}
	s := newSplitter(h)
	var units []unit
	for c := range affinity.CustomerID(h.NumCustomers()) {
		if c%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("evaluate: %w", err)
			}
		}
		units = customerUnits(units[:0], h, c)
		s.place(units, c, ratio)
	}
	s.anonymous()
	return s.build(ctx, time.Time{}, "chronological per-customer split, ratio "+strconv.FormatFloat(ratio, 'g', -1, 64))
}

// StratifiedSplit splits the customers' interactions (purchase lines and
// events) at random within each stratum — each customer's interactions
// with ByCustomer, each product's with ByProduct — so that every stratum
// keeps the train ratio (microsoft/recommenders' python_stratified_split).
// Each interaction gets a uniform random key from a PCG source seeded
// with Seed, in History order; within a stratum sorted by key,
// interaction j of n (1-based) is a training one when j/n ≤ Ratio.
// Anonymous orders stay in training. AsOf is the latest training time.
func StratifiedSplit(ctx context.Context, h *affinity.History, opts SplitOptions) (*Split, error) {
	if err := checkInput(ctx, h); err != nil {
		return nil, err
	}
	ratio, err := opts.ratio()
	if err != nil {
		return nil, err
	}
	if opts.By != ByCustomer && opts.By != ByProduct {
		return nil, fmt.Errorf("evaluate: SplitOptions.By %d is neither ByCustomer nor ByProduct", int(opts.By))
	}
	rng := opts.rng()
	s := newSplitter(h)
	protocol := fmt.Sprintf("stratified random split by %s, ratio %s, seed %d", opts.By, strconv.FormatFloat(ratio, 'g', -1, 64), opts.Seed)
	// all customer units with random keys, and their customers
	var units []unit
	var owner []affinity.CustomerID
	for c := range affinity.CustomerID(h.NumCustomers()) {
		if c%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("evaluate: %w", err)
			}
		}
		n := len(units)
		units = customerUnits(units, h, c)
		for j := n; j < len(units); j++ {
			units[j].key = rng.Float64()
			owner = append(owner, c)
		}
	}
	if opts.By == ByCustomer {
		for lo := 0; lo < len(units); {
			hi := lo
			for hi < len(units) && owner[hi] == owner[lo] {
				hi++
			}
			s.place(units[lo:hi], owner[lo], ratio)
			lo = hi
		}
		s.anonymous()
		return s.build(ctx, time.Time{}, protocol)
	}
	// by product: group unit indexes by product, then decide per group
	np := h.Catalog().NumProducts()
	off := make([]int, np+1)
	prod := func(u unit) affinity.ProductID {
		if u.event {
			return h.Event(int(u.i)).Product
		}
		return h.LineProduct(int(u.i))
	}
	for _, u := range units {
		off[prod(u)+1]++
	}
	for p := range np {
		off[p+1] += off[p]
	}
	idx := make([]int32, len(units))
	next := slices.Clone(off[:np])
	for j, u := range units {
		p := prod(u)
		idx[next[p]] = int32(j)
		next[p]++
	}
	toTrain := make([]bool, len(units))
	for p := range np {
		g := idx[off[p]:off[p+1]]
		slices.SortStableFunc(g, func(a, b int32) int { return cmp.Compare(units[a].key, units[b].key) })
		n := float64(len(g))
		for j, ui := range g {
			toTrain[ui] = float64(j+1)/n <= ratio
		}
	}
	for j, u := range units {
		b := s.test
		if toTrain[j] {
			b = s.train
		}
		if u.event {
			s.event(b, owner[j], int(u.i))
		} else {
			s.line(b, u.o, int(u.i), h.CustomerKey(owner[j]))
		}
	}
	s.anonymous()
	return s.build(ctx, time.Time{}, protocol)
}

// BasketPrefix starts the customer keys that [LeaveOneOutSplit] gives to
// its test baskets: BasketPrefix + "#" + the basket's [affinity.OrderID]
// in the source History, e.g. "basket #17".
const BasketPrefix = "basket "

// LeaveOneOutSplit is the basket-completion protocol for data without
// customers or time (basket files), usable on any History: every order is
// a basket and customers are ignored. The baskets with at least two
// distinct bought products are ranked by a random key (PCG seeded with
// Seed); basket j of n (1-based) stays whole in training when j/n ≤ Ratio.
// Each other basket becomes a test case: one of its products, drawn at
// random, is held out as the test item of a pseudo-customer of its own,
// and the rest of the basket becomes that pseudo-customer's training
// order; both keep the order's key. The pseudo-customer is keyed
// BasketPrefix + "#" + the order's id in h ([affinity.OrderID], e.g.
// "basket #17"): order keys are unique only per customer, so two
// customers' orders "1001" are two test cases. Training baskets keep their
// customers (anonymous ones stay anonymous); events stay in training. It
// is an error when h has a customer with a pseudo-customer's key. AsOf is
// the latest training time.
func LeaveOneOutSplit(ctx context.Context, h *affinity.History, opts SplitOptions) (*Split, error) {
	if err := checkInput(ctx, h); err != nil {
		return nil, err
	}
	ratio, err := opts.ratio()
	if err != nil {
		return nil, err
	}
	rng := opts.rng()
	s := newSplitter(h)
	var eligible []unit // o: basket, key: random
	var prods []affinity.ProductID
	n := 0
	for o := range h.Orders() {
		if n++; n%8192 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("evaluate: %w", err)
			}
		}
		prods = basketProducts(prods[:0], h, o)
		if len(prods) >= 2 {
			eligible = append(eligible, unit{o: o, key: rng.Float64()})
		}
	}
	slices.SortStableFunc(eligible, func(a, b unit) int { return cmp.Compare(a.key, b.key) })
	isTest := make([]bool, h.NumOrderIDs())
	ne := float64(len(eligible))
	for j, e := range eligible {
		isTest[e.o] = float64(j+1)/ne > ratio
	}
	for o := range h.Orders() {
		if !isTest[o] {
			s.order(s.train, o)
			continue
		}
		prods = basketProducts(prods[:0], h, o)
		held := prods[rng.IntN(len(prods))]
		cust := BasketPrefix + "#" + strconv.Itoa(int(o))
		if _, ok := h.LookupCustomer(cust); ok {
			return nil, fmt.Errorf("evaluate: leave-one-out split: customer key %q is the key of the pseudo-customer of order %d", cust, o)
		}
		lo, hi := h.OrderLines(o)
		for i := lo; i < hi; i++ {
			switch {
			case h.LineProduct(i) != held:
				s.line(s.train, o, i, cust)
			case h.LineQuantity(i) > 0:
				s.line(s.test, o, i, cust)
			}
		}
	}
	for c := range affinity.CustomerID(h.NumCustomers()) {
		lo, hi := h.CustomerEvents(c)
		for i := lo; i < hi; i++ {
			s.event(s.train, c, i)
		}
	}
	return s.build(ctx, time.Time{}, fmt.Sprintf("leave-one-item-out basket split, ratio %s, seed %d", strconv.FormatFloat(ratio, 'g', -1, 64), opts.Seed))
}

// basketProducts appends the distinct products bought (positive quantity)
// in order o to dst, sorted by id.
func basketProducts(dst []affinity.ProductID, h *affinity.History, o affinity.OrderID) []affinity.ProductID {
	lo, hi := h.OrderLines(o)
	for i := lo; i < hi; i++ {
		if h.LineQuantity(i) > 0 {
			dst = append(dst, h.LineProduct(i))
		}
	}
	slices.Sort(dst)
	return slices.Compact(dst)
}

// LoadSplit reads a ready split from two files, trainPath and testPath,
// with [dataset.ReadFile] and opts (for MovieLens u.data files:
// Format "movielens", which loads ratings as [affinity.Rating] events),
// and returns the load report of each: with opts.Lenient, what each file
// skipped and why. Customers and products are matched between the two by
// shop key. AsOf is the latest training time.
func LoadSplit(ctx context.Context, trainPath, testPath string, opts dataset.Options) (s *Split, trainReport, testReport dataset.Report, err error) {
	if err := affinity.CheckContext("evaluate", ctx); err != nil {
		return nil, trainReport, testReport, err
	}
	train, trainReport, err := dataset.ReadFile(ctx, trainPath, opts)
	if err != nil {
		return nil, trainReport, testReport, fmt.Errorf("evaluate: training file: %w", err)
	}
	test, testReport, err := dataset.ReadFile(ctx, testPath, opts)
	if err != nil {
		return nil, trainReport, testReport, fmt.Errorf("evaluate: test file: %w", err)
	}
	return &Split{Train: train, Test: test, AsOf: train.Latest(),
		Protocol: "ready split " + filepath.Base(trainPath) + " / " + filepath.Base(testPath)}, trainReport, testReport, nil
}
