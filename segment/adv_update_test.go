package segment_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/segment"
)

// advShop is a small random shop for the adversarial Update and Join
// tests: its times fall on and around whole days from the first as-of
// time (so that moving the index by days crosses them), a few days into
// the future (orders that later as-of times take in) and far back.
type advShop struct {
	r       *rand.Rand
	t0      time.Time // the first as-of time
	prods   []string
	paths   []string
	custs   []string // every customer key used, erased ones included
	orders  []string
	version map[string]int64
	next    int // counter of made-up keys
}

func newAdvShop(seed uint64) *advShop {
	r := rand.New(rand.NewPCG(seed, 0xad5))
	day := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	offs := []time.Duration{0, 12 * time.Hour, segment.Day - time.Second, time.Second}
	return &advShop{
		r: r, t0: day.Add(offs[r.IntN(len(offs))]),
		paths:   []string{"A", "A/x", "A/y", "B", "B/z", "C"},
		version: map[string]int64{},
	}
}

func (s *advShop) key(prefix string) string {
	s.next++
	return prefix + strconv.Itoa(s.next)
}

// when returns a time on or near a whole number of days from t0.
func (s *advShop) when() time.Time {
	r := s.r
	var k int
	switch r.IntN(10) {
	case 0:
		k = 300 + r.IntN(500) // churned and lapsing
	case 1, 2:
		k = -(1 + r.IntN(4)) // after t0: taken in by later as-of times
	default:
		k = r.IntN(40)
	}
	t := s.t0.Add(-time.Duration(k) * segment.Day)
	switch r.IntN(5) {
	case 0:
		return t.Add(time.Second)
	case 1:
		return t.Add(-time.Second)
	case 2:
		return t.Add(-time.Duration(r.IntN(86400)) * time.Second)
	}
	return t
}

func (s *advShop) product(b *affinity.Builder) string {
	if len(s.prods) > 0 && (s.r.IntN(12) != 0 || b == nil) {
		return s.prods[s.r.IntN(len(s.prods))]
	}
	return s.newProduct(b)
}

// newProduct adds a product in one or two categories, now and then a
// new one.
func (s *advShop) newProduct(b *affinity.Builder) string {
	r := s.r
	p := s.key("p")
	cats := []string{s.paths[r.IntN(len(s.paths))]}
	if r.IntN(5) == 0 {
		s.paths = append(s.paths, s.key("N")+"/"+s.key("n"))
		cats = []string{s.paths[len(s.paths)-1]}
	}
	if r.IntN(4) == 0 {
		cats = append(cats, s.paths[r.IntN(len(s.paths))])
	}
	if r.IntN(20) == 0 {
		cats = nil // in no category
	}
	if err := b.AddProduct(affinity.Product{Key: p, Categories: cats, InStock: true}); err != nil {
		panic(err)
	}
	s.prods = append(s.prods, p)
	return p
}

// lines returns the lines of one order of cust at t (cust "" anonymous).
func (s *advShop) lines(b *affinity.Builder, cust, order string, t time.Time) []affinity.Purchase {
	r := s.r
	n := 1 + r.IntN(3)
	out := make([]affinity.Purchase, 0, n)
	for range n {
		q := int32(1 + r.IntN(3))
		if r.IntN(8) == 0 {
			q = -q // a return
		}
		price := affinity.Money((1 + r.IntN(50)) * 2500)
		if r.IntN(10) == 0 {
			price = 0
		}
		out = append(out, affinity.Purchase{Customer: cust, Product: s.product(b), Order: order, Time: t.Add(time.Duration(r.IntN(3)) * time.Second), Quantity: q, Price: price})
	}
	return out
}

func (s *advShop) customer() string {
	if len(s.custs) == 0 || s.r.IntN(6) == 0 {
		c := s.key("c")
		s.custs = append(s.custs, c)
		return c
	}
	return s.custs[s.r.IntN(len(s.custs))]
}

// put stages a new order or a new version of an old one (now and then
// moved to another customer, or a stale version that must lose).
func (s *advShop) put(b *affinity.Builder) {
	r := s.r
	key := ""
	if len(s.orders) > 0 && r.IntN(3) == 0 {
		key = s.orders[r.IntN(len(s.orders))]
	} else {
		key = s.key("o")
		s.orders = append(s.orders, key)
	}
	v := s.version[key] + 1 + int64(r.IntN(3))
	if s.version[key] > 0 && r.IntN(6) == 0 {
		v = s.version[key] - 1 // stale: ignored
	} else {
		s.version[key] = v
	}
	cust := s.customer()
	if r.IntN(25) == 0 {
		cust = ""
	}
	if err := b.PutOrder(key, v, s.lines(b, cust, key, s.when())); err != nil {
		panic(err)
	}
}

func (s *advShop) change(b *affinity.Builder) {
	r := s.r
	switch k := r.IntN(20); {
	case k < 9:
		s.put(b)
	case k < 11 && len(s.orders) > 0:
		key := s.orders[r.IntN(len(s.orders))]
		s.version[key]++
		if err := b.DeleteOrder(key, s.version[key]); err != nil {
			panic(err)
		}
	case k < 12 && len(s.custs) > 0 && s.r.IntN(3) == 0:
		b.EraseCustomer(s.custs[r.IntN(len(s.custs))])
	case k < 13:
		s.newProduct(b)
	case k < 16:
		kind := affinity.View
		if r.IntN(2) == 0 {
			kind = affinity.Cart
		}
		if err := b.AddEvent(affinity.Event{Customer: s.customer(), Product: s.product(b), Time: s.when(), Kind: kind, Weight: 1}); err != nil {
			panic(err)
		}
	default:
		// plain lines without an order key
		for _, l := range s.lines(b, s.customer(), "", s.when()) {
			if err := b.Add(l); err != nil {
				panic(err)
			}
		}
	}
}

// history builds the first History: n changes.
func (s *advShop) history(t *testing.T, n int) *affinity.History {
	var b affinity.Builder
	for range 4 {
		s.newProduct(&b)
	}
	for range n {
		s.change(&b)
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// refresh returns the next History: n changes over h.
func (s *advShop) refresh(t *testing.T, h *affinity.History, n int) *affinity.History {
	b := affinity.NewBuilder(h)
	for range n {
		s.change(b)
	}
	h2, err := b.Build(context.Background())
	require.NoError(t, err)
	return h2
}

// advOptions returns options with short look-backs (so that moving the
// index by a day moves many orders across an edge) and small thresholds.
func advOptions(r *rand.Rand) segment.Options {
	var o segment.Options
	switch r.IntN(7) {
	case 0:
		o.Lookback = affinity.Days(1)
	case 1:
		o.Lookback = affinity.Days(2 + r.IntN(5))
	case 2:
		o.Lookback = affinity.Months(1)
	case 3:
		o.Lookback = affinity.AllTime
	case 4:
		o.Lookback = affinity.Lookback{Duration: 36 * time.Hour}
	case 5:
		o.Lookback = affinity.Lookback{Months: 1, Duration: 25 * time.Hour}
	}
	if r.IntN(2) == 0 {
		o.RFMScoring = segment.RFMNTile
	}
	if r.IntN(3) == 0 {
		o.TopN = 1 + r.IntN(2)
	}
	if r.IntN(3) == 0 {
		o.LoyalOrders = 2
	}
	if r.IntN(3) == 0 && o.Lookback != affinity.Days(1) && o.Lookback.Duration != 36*time.Hour {
		o.LapseAfter = segment.Day
		o.ChurnAfter = 3 * segment.Day
	}
	o.Workers = 1 + r.IntN(2)
	return o
}

// advQueries returns queries in the documented syntax over x's
// categories and products, with windows and thresholds near the
// look-back and the day counts that moving by days crosses.
func advQueries(r *rand.Rand, x *segment.Index, cat *affinity.Catalog, n int) []string {
	look := x.Options().Lookback
	lookDays := 800
	if !look.All {
		lookDays = int((x.AsOf().Sub(look.Start(x.AsOf())) + segment.Day - 1) / segment.Day)
	}
	win := func() string {
		switch r.IntN(4) {
		case 0:
			return strconv.Itoa(lookDays) + "d"
		case 1:
			return strconv.Itoa(lookDays+1) + "d" // too long: an error on both
		}
		return strconv.Itoa(1+r.IntN(lookDays)) + "d"
	}
	days := func() string { return strconv.Itoa(r.IntN(45)) + "d" }
	target := func() string {
		if r.IntN(2) == 0 || cat.NumProducts() == 0 {
			cs := x.Categories()
			if len(cs) > 0 {
				return strconv.Quote(cs[r.IntN(len(cs))])
			}
		}
		return `product(` + strconv.Quote(cat.ProductKey(affinity.ProductID(r.IntN(cat.NumProducts())))) + `)`
	}
	category := func() string {
		cs := x.Categories()
		if len(cs) == 0 {
			return `"A"`
		}
		return strconv.Quote(cs[r.IntN(len(cs))])
	}
	ops := []string{"<", "<=", ">", ">=", "=", "!="}
	op := func() string { return ops[r.IntN(len(ops))] }
	date := func() string {
		return strconv.Quote(x.AsOf().Add(-time.Duration(r.IntN(50)-5) * segment.Day).Format(time.DateOnly))
	}
	var leaf func() string
	leaf = func() string {
		switch r.IntN(22) {
		case 0:
			return "recency " + op() + " " + days()
		case 1:
			return "recency between " + days() + " and " + days()
		case 2:
			return "tenure " + op() + " " + days()
		case 3:
			return "frequency " + op() + " " + strconv.Itoa(r.IntN(4))
		case 4:
			return "monetary " + op() + " $" + strconv.Itoa(r.IntN(200)-20)
		case 5:
			return "aov " + op() + " " + strconv.Itoa(r.IntN(100))
		case 6:
			return []string{"rscore", "fscore", "mscore"}[r.IntN(3)] + " " + op() + " " + strconv.Itoa(1+r.IntN(5))
		case 7:
			return "affinity(" + category() + ") " + op() + " " + []string{"0", "0.25", "0.5", "1", "33.3%"}[r.IntN(5)]
		case 8:
			return "itemshare(" + category() + ") >= 0.5"
		case 9:
			return "ordershare(" + category() + ") " + op() + " 0.5"
		case 10:
			return "lift(" + category() + ") " + op() + " " + []string{"0", "1", "1.5"}[r.IntN(3)]
		case 11:
			return "recency(" + category() + ") " + op() + " " + days()
		case 12:
			return "rank(" + category() + ") = " + strconv.Itoa(1+r.IntN(2))
		case 13:
			return "top(" + category() + ")"
		case 14:
			return "bought(" + target() + ")"
		case 15:
			return "bought(" + target() + " within " + win() + ")"
		case 16:
			return "viewed(" + target() + ", " + win() + ")"
		case 17:
			return "carted(" + target() + ", " + target() + " within " + win() + ")"
		case 18:
			if r.IntN(2) == 0 {
				return "abandoned()"
			}
			return "abandoned(within " + win() + ")"
		case 19:
			return "active between " + date() + " and " + date()
		case 20:
			if segs := x.RFMSegments(); r.IntN(2) == 0 && len(segs) > 0 {
				return fmt.Sprintf("rfm(%q)", segs[r.IntN(len(segs))])
			}
			return fmt.Sprintf("lifecycle(%q)", segment.Stages()[r.IntN(5)])
		}
		return "not (" + leaf() + ")"
	}
	out := []string{"all", "none", "recency <= 0d", "recency <= 1d", "tenure >= 1d", "frequency = 0", "abandoned()"}
	for range n {
		switch r.IntN(3) {
		case 0:
			out = append(out, leaf())
		case 1:
			out = append(out, leaf()+" and "+leaf())
		default:
			out = append(out, "("+leaf()+" or "+leaf()+") and not "+leaf())
		}
	}
	return out
}

// requireAdvSame checks that got answers as want, Build's index of the
// same History, does: the customers, their features and keys, the
// population tables and queries.
func requireAdvSame(t *testing.T, msg string, r *rand.Rand, got, want *segment.Index, h *affinity.History, nq int) {
	t.Helper()
	require.Equal(t, want.AsOf(), got.AsOf(), "%s: AsOf", msg)
	require.Equal(t, want.Len(), got.Len(), "%s: Len", msg)
	require.Equal(t, want.NumCustomers(), got.NumCustomers(), "%s: NumCustomers", msg)
	require.Equal(t, want.All().ToArray(), got.All().ToArray(), "%s: All", msg)
	require.Equal(t, want.FeaturesOf(want.All()), got.FeaturesOf(want.All()), "%s: FeaturesOf", msg)
	for c := range affinity.CustomerID(want.NumCustomers() + 1) {
		require.Equal(t, want.CustomerKey(c), got.CustomerKey(c), "%s: CustomerKey(%d)", msg, c)
		wf, wok := want.Features(c)
		gf, gok := got.Features(c)
		require.Equal(t, wok, gok, "%s: Features(%d) known", msg, c)
		require.Equal(t, wf, gf, "%s: Features(%d)", msg, c)
		if int(c) >= h.NumCustomers() {
			continue
		}
		k := h.CustomerKey(c)
		wc, wok := want.LookupCustomer(k)
		gc, gok := got.LookupCustomer(k)
		require.Equal(t, wok, gok, "%s: LookupCustomer(%q) found", msg, k)
		require.Equal(t, wc, gc, "%s: LookupCustomer(%q)", msg, k)
	}
	require.Equal(t, want.RFMTable(), got.RFMTable(), "%s: RFMTable", msg)
	require.Equal(t, want.LifecycleTable(), got.LifecycleTable(), "%s: LifecycleTable", msg)
	require.Equal(t, want.Categories(), got.Categories(), "%s: Categories", msg)
	for _, c := range want.Categories() {
		ws, _ := want.PopulationShare(c)
		gs, ok := got.PopulationShare(c)
		require.True(t, ok, "%s: PopulationShare(%q)", msg, c)
		require.Equal(t, ws, gs, "%s: PopulationShare(%q)", msg, c)
	}
	require.Equal(t, want.Stats("all", want.All()), got.Stats("all", want.All()), "%s: Stats", msg)
	require.Equal(t, want.Segments(), got.Segments(), "%s: Segments", msg)
	for _, q := range advQueries(r, want, h.Catalog(), nq) {
		wb, werr := want.Query(q)
		gb, gerr := got.Query(q)
		if werr != nil || gerr != nil {
			require.Equal(t, werr != nil, gerr != nil, "%s: %s: errors %v vs %v", msg, q, werr, gerr)
			continue
		}
		require.Equal(t, wb.ToArray(), gb.ToArray(), "%s: %s", msg, q)
	}
}

func advEncode(t *testing.T, x *segment.Index) []byte {
	t.Helper()
	var buf bytes.Buffer
	_, err := x.WriteTo(&buf)
	require.NoError(t, err)
	return buf.Bytes()
}

// TestAdvUpdateChains moves random shops through chains of refreshes and
// later days, with Update at every step, and compares every step with
// Build of the same History from scratch. Along the chain it defines
// segments (which must carry over), asks for compaction, and now and then
// writes and reads the updated index back.
func TestAdvUpdateChains(t *testing.T) {
	ctx := context.Background()
	seeds := testdata.Scale(60, 6)
	steps := testdata.Scale(12, 6)
	layered := 0
	for seed := range uint64(seeds) {
		s := newAdvShop(seed)
		r := s.r
		opts := advOptions(r)
		h := s.history(t, 150+r.IntN(150))
		asOf := s.t0
		x, err := segment.Build(ctx, h, asOf, opts)
		require.NoError(t, err, "seed %d: %d customers, %d lines, %d events", seed, h.NumCustomers(), h.NumLines(), h.NumEvents())
		var defs []string // the definitions, in order
		for step := range steps {
			msg := fmt.Sprintf("seed %d step %d (opts %+v)", seed, step, opts)
			if r.IntN(4) == 0 {
				name := "s" + strconv.Itoa(len(defs))
				src := advQueries(r, x, h.Catalog(), 1)[7]
				if len(defs) > 0 && r.IntN(2) == 0 {
					src = fmt.Sprintf("segment(%q) or (%s)", defs[len(defs)-1], src)
				}
				e, err := segment.Parse(src)
				require.NoError(t, err, src)
				if y, err := x.Define(name, e); err == nil {
					x = y
					defs = append(defs, src)
				}
			}
			h2 := s.refresh(t, h, 1+r.IntN(4))
			switch r.IntN(6) {
			case 0:
				asOf = asOf.Add(segment.Day)
			case 1:
				asOf = asOf.Add(time.Duration(2+r.IntN(3)) * segment.Day)
			}
			uo := segment.UpdateOptions{Compact: r.IntN(2) == 0, Workers: r.IntN(3)}
			y, err := segment.Update(ctx, x, h, h2, asOf, uo)
			want, werr := segment.Build(ctx, h2, asOf, opts)
			if werr != nil {
				require.Error(t, err, "%s: Build failed with %v", msg, werr)
				break
			}
			require.NoError(t, err, msg)
			if segment.Layered(y) {
				layered++
			}
			for i, src := range defs {
				e, err := segment.Parse(src)
				require.NoError(t, err)
				want, err = want.Define("s"+strconv.Itoa(i), e)
				require.NoError(t, err)
			}
			requireAdvSame(t, msg, r, y, want, h2, 12)
			for i := range defs {
				q := fmt.Sprintf("segment(%q)", "s"+strconv.Itoa(i))
				wb, err := want.Query(q)
				require.NoError(t, err)
				gb, err := y.Query(q)
				require.NoError(t, err, "%s: %s", msg, q)
				require.Equal(t, wb.ToArray(), gb.ToArray(), "%s: %s", msg, q)
			}
			if step == steps-1 || r.IntN(5) == 0 {
				wenc, genc := advEncode(t, want), advEncode(t, y)
				require.True(t, bytes.Equal(wenc, genc), "%s: WriteTo of the updated index differs from Build's", msg)
				back, err := segment.ReadIndex(bytes.NewReader(genc))
				require.NoError(t, err, msg)
				requireAdvSame(t, msg+" (read back)", r, back, want, h2, 4)
			}
			x, h = y, h2
		}
	}
	t.Logf("layered %d", layered)
	assert.Positive(t, layered, "no update was laid over its index")
}

// TestAdvNilArguments: the seam contract of the root package says a nil
// required argument (a History, an index) is an error matching
// affinity.ErrNilArgument, never a panic.
// (They once matched ErrInvalid only.) Build and Compacted are checked too.
func TestAdvNilArguments(t *testing.T) {
	ctx := context.Background()
	s := newAdvShop(1)
	h := s.history(t, 100)
	x, err := segment.Build(ctx, h, s.t0, segment.Options{})
	require.NoError(t, err)
	p, err := segment.BuildPart(ctx, h, s.t0, segment.Options{})
	require.NoError(t, err)
	calls := map[string]func() error{
		"Update nil x": func() error {
			_, err := segment.Update(ctx, nil, h, h, s.t0, segment.UpdateOptions{})
			return err
		},
		"Update nil prev": func() error {
			_, err := segment.Update(ctx, x, nil, h, s.t0, segment.UpdateOptions{})
			return err
		},
		"Update nil h": func() error {
			_, err := segment.Update(ctx, x, h, nil, s.t0, segment.UpdateOptions{})
			return err
		},
		"BuildPart nil h": func() error {
			_, err := segment.BuildPart(ctx, nil, s.t0, segment.Options{})
			return err
		},
		"Join nil catalog": func() error {
			_, err := segment.Join(ctx, nil, s.t0, segment.Options{}, []*segment.Part{p})
			return err
		},
		"Join nil part": func() error {
			_, err := segment.Join(ctx, h.Catalog(), s.t0, segment.Options{}, []*segment.Part{nil})
			return err
		},
		"Build nil h": func() error {
			_, err := segment.Build(ctx, nil, s.t0, segment.Options{})
			return err
		},
		"Compacted nil x": func() error {
			var nx *segment.Index
			_, err := nx.Compacted(ctx, segment.UpdateOptions{})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { err = call() })
			require.ErrorIs(t, err, segment.ErrInvalid)
			assert.ErrorIs(t, err, affinity.ErrNilArgument)
		})
	}
}

// TestAdvUpdateOddTimes updates to as-of times that Update documents it
// cannot lay over x (earlier, not a whole number of days later) and to
// ones that are whole days later with a sub-second part, and updates
// indexes read back from a file and put together by Join, and one with
// no change at all: every result must be Build's.
func TestAdvUpdateOddTimes(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(testdata.Scale(16, 2)) {
		s := newAdvShop(100 + seed)
		r := s.r
		opts := advOptions(r)
		h := s.history(t, 200)
		x, err := segment.Build(ctx, h, s.t0, opts)
		require.NoError(t, err)
		h2 := s.refresh(t, h, 3)
		loaded, err := segment.ReadIndex(bytes.NewReader(advEncode(t, x)))
		require.NoError(t, err)
		p, err := segment.BuildPart(ctx, h, s.t0, opts)
		require.NoError(t, err)
		joined, err := segment.Join(ctx, h.Catalog(), s.t0, opts, []*segment.Part{p})
		require.NoError(t, err)
		cases := []struct {
			name string
			from *segment.Index
			h    *affinity.History
			asOf time.Time
		}{
			{"same time", x, h2, s.t0},
			{"no change", x, h, s.t0},
			{"no change, a day later", x, h, s.t0.Add(segment.Day)},
			{"a second earlier", x, h2, s.t0.Add(-time.Second)},
			{"days earlier", x, h2, s.t0.Add(-3 * segment.Day)},
			{"an hour later", x, h2, s.t0.Add(time.Hour)},
			{"a day and a second later", x, h2, s.t0.Add(segment.Day + time.Second)},
			{"a day and half a second later", x, h2, s.t0.Add(segment.Day + 500*time.Millisecond)},
			{"half a second later", x, h2, s.t0.Add(500 * time.Millisecond)},
			{"a year later", x, h2, s.t0.Add(365 * segment.Day)},
			{"loaded", loaded, h2, s.t0},
			{"loaded, a day later", loaded, h2, s.t0.Add(segment.Day)},
			{"joined", joined, h2, s.t0},
			{"joined, two days later", joined, h2, s.t0.Add(2 * segment.Day)},
		}
		for _, c := range cases {
			msg := fmt.Sprintf("seed %d: %s", seed, c.name)
			want, werr := segment.Build(ctx, c.h, c.asOf, opts)
			got, err := segment.Update(ctx, c.from, h, c.h, c.asOf, segment.UpdateOptions{})
			if werr != nil {
				require.ErrorIs(t, err, segment.ErrNoData, msg)
				continue
			}
			require.NoError(t, err, msg)
			requireAdvSame(t, msg, r, got, want, c.h, 8)
			if c.name == "same time" || c.name == "joined" || c.name == "a day and half a second later" {
				require.True(t, bytes.Equal(advEncode(t, want), advEncode(t, got)), "%s: WriteTo", msg)
			}
		}
	}
}

// TestAdvJoinMatchesBuild: the Join of the one Part of a random shop is
// Build's index byte for byte, through Part encoding, with the options
// given explicitly or left to their defaults, and an update of it is
// Build's of the next History.
func TestAdvJoinMatchesBuild(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(testdata.Scale(30, 8)) {
		s := newAdvShop(200 + seed)
		r := s.r
		opts := advOptions(r)
		h := s.history(t, 50+r.IntN(200))
		msg := fmt.Sprintf("seed %d (opts %+v)", seed, opts)
		want, werr := segment.Build(ctx, h, s.t0, opts)
		p, err := segment.BuildPart(ctx, h, s.t0, opts)
		require.NoError(t, err, msg)
		require.Equal(t, h.NumCustomers(), p.Len(), msg)
		data, err := p.MarshalBinary()
		require.NoError(t, err, msg)
		var q segment.Part
		require.NoError(t, q.UnmarshalBinary(data), msg)
		// the options with their defaults written out, and other workers
		filled := opts
		if filled.TopN == 0 {
			filled.TopN = segment.DefaultTopN
		}
		if filled.LoyalOrders == 0 {
			filled.LoyalOrders = segment.DefaultLoyalOrders
		}
		filled.Workers = 3 - opts.Workers
		for i, jopts := range []segment.Options{opts, filled} {
			got, err := segment.Join(ctx, h.Catalog(), s.t0, jopts, []*segment.Part{&q})
			if werr != nil {
				require.ErrorIs(t, err, segment.ErrNoData, msg)
				continue
			}
			require.NoError(t, err, "%s: options %d", msg, i)
			require.True(t, bytes.Equal(advEncode(t, want), advEncode(t, got)), "%s: options %d: WriteTo", msg, i)
			requireAdvSame(t, msg, r, got, want, h, 6)
		}
		if werr != nil {
			continue
		}
		// an update of the joined index
		joined, err := segment.Join(ctx, h.Catalog(), s.t0, opts, []*segment.Part{p})
		require.NoError(t, err, msg)
		h2 := s.refresh(t, h, 2)
		got, err := segment.Update(ctx, joined, h, h2, s.t0.Add(segment.Day), segment.UpdateOptions{})
		want2, werr := segment.Build(ctx, h2, s.t0.Add(segment.Day), opts)
		if werr == nil {
			require.NoError(t, err, msg)
			requireAdvSame(t, msg+" (updated)", r, got, want2, h2, 6)
		}
	}
}

// TestAdvJoinRejects: parts that do not fit a Join are errors wrapping
// ErrInvalid (another as-of time, other options, another catalog), a
// Join of no parts is an error, and a lone empty Part or one of customers
// without activity by asOf is ErrNoData.
func TestAdvJoinRejects(t *testing.T) {
	ctx := context.Background()
	s := newAdvShop(7)
	h := s.history(t, 200)
	opts := segment.Options{Lookback: affinity.Days(30)}
	p, err := segment.BuildPart(ctx, h, s.t0, opts)
	require.NoError(t, err)
	_, err = segment.Join(ctx, h.Catalog(), s.t0, opts, []*segment.Part{p})
	require.NoError(t, err)

	// the catalog with one more product, and one with a product moved
	b := affinity.NewBuilder(h)
	s.newProduct(b)
	more, err := b.Build(ctx)
	require.NoError(t, err)
	require.Greater(t, more.Catalog().NumProducts(), h.Catalog().NumProducts())
	b = affinity.NewBuilder(h)
	require.NoError(t, b.AddProduct(affinity.Product{Key: h.Catalog().ProductKey(0), Categories: []string{"Moved/Elsewhere"}}))
	moved, err := b.Build(ctx)
	require.NoError(t, err)

	build := func(hh *affinity.History, at time.Time, o segment.Options) *segment.Part {
		p, err := segment.BuildPart(ctx, hh, at, o)
		require.NoError(t, err)
		return p
	}
	cases := []struct {
		name  string
		cat   *affinity.Catalog
		asOf  time.Time
		opts  segment.Options
		parts []*segment.Part
		want  error
	}{
		{"no parts", h.Catalog(), s.t0, opts, nil, segment.ErrInvalid},
		{"empty parts", h.Catalog(), s.t0, opts, []*segment.Part{}, segment.ErrInvalid},
		{"as-of a second later", h.Catalog(), s.t0.Add(time.Second), opts, []*segment.Part{p}, segment.ErrInvalid},
		{"as-of a day later", h.Catalog(), s.t0.Add(segment.Day), opts, []*segment.Part{p}, segment.ErrInvalid},
		{"part as of a day earlier", h.Catalog(), s.t0, opts, []*segment.Part{build(h, s.t0.Add(-segment.Day), opts)}, segment.ErrInvalid},
		{"other look-back", h.Catalog(), s.t0, segment.Options{Lookback: affinity.Days(31)}, []*segment.Part{p}, segment.ErrInvalid},
		{"other scoring", h.Catalog(), s.t0, segment.Options{Lookback: affinity.Days(30), RFMScoring: segment.RFMNTile}, []*segment.Part{p}, segment.ErrInvalid},
		{"other TopN", h.Catalog(), s.t0, segment.Options{Lookback: affinity.Days(30), TopN: 2}, []*segment.Part{p}, segment.ErrInvalid},
		{"other rules", h.Catalog(), s.t0, segment.Options{Lookback: affinity.Days(30), RFMRules: []segment.RFMRule{{Name: "All"}}}, []*segment.Part{p}, segment.ErrInvalid},
		{"other half-life", h.Catalog(), s.t0, segment.Options{Lookback: affinity.Days(30), HalfLife: 10 * segment.Day}, []*segment.Part{p}, segment.ErrInvalid},
		{"catalog with one more product", more.Catalog(), s.t0, opts, []*segment.Part{p}, segment.ErrInvalid},
		{"catalog with a product moved", moved.Catalog(), s.t0, opts, []*segment.Part{p}, segment.ErrInvalid},
		{"part over a moved product", h.Catalog(), s.t0, opts, []*segment.Part{build(moved, s.t0, opts)}, segment.ErrInvalid},
		{"part over a larger catalog", h.Catalog(), s.t0, opts, []*segment.Part{build(more, s.t0, opts)}, segment.ErrInvalid},
		{"two short parts", h.Catalog(), s.t0, opts, []*segment.Part{p, p}, segment.ErrInvalid},
		{"before every order", h.Catalog(), s.t0.Add(-5000 * segment.Day), opts, []*segment.Part{build(h, s.t0.Add(-5000*segment.Day), opts)}, segment.ErrNoData},
		{"bad options", h.Catalog(), s.t0, segment.Options{TopN: 65}, []*segment.Part{p}, segment.ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var x *segment.Index
			var err error
			require.NotPanics(t, func() { x, err = segment.Join(ctx, c.cat, c.asOf, c.opts, c.parts) })
			require.ErrorIs(t, err, c.want)
			require.Nil(t, x)
		})
	}
}

// TestAdvUpdateCancelAttributesCompacted: an Update with a cancelled
// context returns the context's error; customer attributes carry over an
// update on the same day and are dropped on a later one; the index that
// Compacted gives after a background build answers as Build does.
func TestAdvUpdateCancelAttributesCompacted(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(testdata.Scale(12, 3)) {
		s := newAdvShop(300 + seed)
		r := s.r
		opts := advOptions(r)
		h := s.history(t, 250)
		x, err := segment.Build(ctx, h, s.t0, opts)
		require.NoError(t, err)
		h2 := s.refresh(t, h, 3)
		msg := fmt.Sprintf("seed %d", seed)

		cctx, cancel := context.WithCancel(ctx)
		cancel()
		for _, later := range []time.Duration{0, segment.Day} {
			y, err := segment.Update(cctx, x, h, h2, s.t0.Add(later), segment.UpdateOptions{})
			require.ErrorIs(t, err, context.Canceled, "%s: later %v", msg, later)
			require.Nil(t, y, msg)
		}

		var a segment.Attributes
		for c := range affinity.CustomerID(h.NumCustomers()) {
			if r.IntN(2) == 0 {
				require.NoError(t, a.SetFlag("optin", c, true))
			}
		}
		xa, err := x.WithAttributes(&a)
		require.NoError(t, err)
		y, err := segment.Update(ctx, xa, h, h2, s.t0, segment.UpdateOptions{})
		require.NoError(t, err, msg)
		want, err := segment.Build(ctx, h2, s.t0, opts)
		require.NoError(t, err)
		wa, err := want.WithAttributes(&a)
		require.NoError(t, err)
		for _, q := range []string{`flag("optin") = 1`, `flag("optin") = 0`, `flag("optin") = 1 and frequency >= 1`} {
			wb, err := wa.Query(q)
			require.NoError(t, err)
			gb, err := y.Query(q)
			require.NoError(t, err, "%s: %s", msg, q)
			require.Equal(t, wb.ToArray(), gb.ToArray(), "%s: %s", msg, q)
		}
		y, err = segment.Update(ctx, xa, h, h2, s.t0.Add(segment.Day), segment.UpdateOptions{})
		require.NoError(t, err, msg)
		_, err = y.Query(`flag("optin") = 1`)
		require.ErrorIs(t, err, segment.ErrUnknown, "%s: attributes dropped a day later", msg)

		// compaction: a share of one in 2 starts it at once
		restore := segment.SetCompactShare(1 << 20)
		uo := segment.UpdateOptions{Compact: true}
		z, hz := x, h
		for step := range 4 {
			hn := s.refresh(t, hz, 2)
			at := s.t0.Add(time.Duration(step/2) * segment.Day)
			zn, err := segment.Update(ctx, z, hz, hn, at, uo)
			require.NoError(t, err, msg)
			segment.WaitCompaction(zn)
			c, err := zn.Compacted(ctx, uo)
			require.NoError(t, err, msg)
			want, err := segment.Build(ctx, hn, at, opts)
			require.NoError(t, err)
			requireAdvSame(t, fmt.Sprintf("%s: compacted step %d", msg, step), r, c, want, hn, 6)
			requireAdvSame(t, fmt.Sprintf("%s: compacting step %d", msg, step), r, zn, want, hn, 6)
			z, hz = zn, hn
		}
		restore()
	}
}

// advRun returns a History over cat of n customers named prefix0 …,
// each with one order at asOf minus a few days.
func advRun(t *testing.T, cat *affinity.Catalog, prefix string, n int, asOf time.Time) *affinity.History {
	b := affinity.NewCatalogBuilder(cat)
	b.Grow(n)
	for c := range n {
		require.NoError(t, b.Add(affinity.Purchase{
			Customer: prefix + strconv.Itoa(c), Product: cat.ProductKey(affinity.ProductID(c % cat.NumProducts())),
			Time: asOf.Add(-time.Duration(c%7) * segment.Day), Quantity: 1, Price: affinity.Money(10000 * (1 + c%5)),
		}))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// TestAdvJoinDuplicateKeys joins a full Part and a second Part whose
// customer is one of the first Part's by key: no History has the same
// customer twice, so no Build gives that index, and Join must refuse
// the parts rather than make an index in which one key names two ids.
// (It once accepted them, giving one key two ids.)
func TestAdvJoinDuplicateKeys(t *testing.T) {
	ctx := context.Background()
	s := newAdvShop(9)
	h := s.history(t, 20)
	asOf := s.t0
	first := advRun(t, h.Catalog(), "c", segment.PartSize, asOf)
	second := advRun(t, h.Catalog(), "c", 1, asOf) // "c0" again
	p1, err := segment.BuildPart(ctx, first, asOf, segment.Options{})
	require.NoError(t, err)
	p2, err := segment.BuildPart(ctx, second, asOf, segment.Options{})
	require.NoError(t, err)
	x, err := segment.Join(ctx, h.Catalog(), asOf, segment.Options{}, []*segment.Part{p1, p2})
	if err == nil {
		id, _ := x.LookupCustomer("c0")
		t.Logf("joined index: %d customers, c0 -> %d; keys of 0 and %d: %q %q", x.Len(), id, segment.PartSize, x.CustomerKey(0), x.CustomerKey(segment.PartSize))
	}
	require.Error(t, err)
	assert.True(t, errors.Is(err, segment.ErrInvalid) || errors.Is(err, segment.ErrCorrupt), "%v", err)
}
