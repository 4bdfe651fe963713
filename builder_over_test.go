package affinity_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/stretchr/testify/require"
)

// grossOf is the naive gross value of h's lines: the sum of |quantity ×
// price|.
func grossOf(h *affinity.History) affinity.Money {
	var g affinity.Money
	for o := range h.Orders() {
		lo, hi := h.OrderLines(o)
		for i := lo; i < hi; i++ {
			l := h.Line(i)
			v := affinity.Money(l.Quantity) * l.Price
			g += max(v, -v)
		}
	}
	return g
}

// TestBuildOverMatchesCopy builds random changes on a base History three
// ways — on top of the base, appending the touched customers' orders to
// the base's columns where it has the room (the default), on top of the
// base, writing every order anew in the sort order, and copying the base
// into the Builder's columns and sorting everything — and requires the
// same History: every order, line, event, key, buyer bitmap and the
// summary, and the gross value Builders started from it go on with. The
// bases are built in two steps, so that they have room to append to. The changes are lines that join the base's orders
// or start new ones (with and without order ids, anonymous, returns, new
// customers and products), events, catalog entries, and feeds of puts,
// deletes and erasures.
func TestBuildOverMatchesCopy(t *testing.T) {
	appended, appendedEvents := 0, 0
	both := func(t *testing.T, seed uint64, what string, fn func() *affinity.History) *affinity.History {
		t.Helper()
		was := affinity.SetBaseMode(affinity.BaseCopy)
		copied := fn()
		affinity.SetBaseMode(affinity.BaseOver)
		layout := affinity.SetLayoutMode(affinity.LayoutCompact)
		compacted := fn()
		affinity.SetLayoutMode(affinity.LayoutAppend)
		over := fn()
		affinity.SetLayoutMode(layout)
		affinity.SetBaseMode(was)
		checkInvariants(t, over)
		checkInvariants(t, compacted)
		if compacted != over { // else both are the base: nothing changed it
			requireDense(t, compacted, false)
		}
		if over.NumOrderIDs() > over.NumOrders() || affinity.HistoryHoleLines(over) > 0 {
			appended++
		}
		if affinity.HistoryEventHoles(over) > 0 {
			appendedEvents++
		}
		require.Equal(t, viewHistory(copied), viewHistory(compacted), "seed %d: %s: compacted", seed, what)
		require.Equal(t, viewHistory(copied), viewHistory(over), "seed %d: %s", seed, what)
		for _, h := range []*affinity.History{compacted, over} {
			require.Equal(t, grossOf(copied), affinity.HistoryGross(h), "seed %d: %s: gross", seed, what)
			require.Equal(t, affinity.HistoryGross(copied), affinity.HistoryGross(h), "seed %d: %s: gross", seed, what)
			if h.NumOrders() > 0 {
				require.LessOrEqual(t, affinity.HistoryBaseUnix(h), h.Summary().First.Unix(), "seed %d: %s: times stored from", seed, what)
			}
		}
		return over
	}
	// roomy builds recs in two steps: the second writes the columns with
	// room to append to
	roomy := func(recs []record) *affinity.History {
		h := build(t, nil, recs[:len(recs)/2])
		was := affinity.SetLayoutMode(affinity.LayoutAppend)
		defer affinity.SetLayoutMode(was)
		return build(t, h, recs[len(recs)/2:])
	}
	defer func() { t.Logf("%d builds appended orders, %d events", appended, appendedEvents) }()
	for seed := range uint64(testdata.Scale(300, 40)) {
		r := rand.New(rand.NewPCG(seed, 33))
		recs := genRecords(r, 1+r.IntN(300))
		k := r.IntN(len(recs) + 1)
		h1 := roomy(recs[:k])
		h2 := both(t, seed, "records on a base", func() *affinity.History { return build(t, h1, recs[k:]) })
		// and again on the result, with the records once more
		both(t, seed, "records twice", func() *affinity.History { return build(t, h2, recs[:k/2]) })

		f := genOrderFixture(r, r.IntN(80), r.IntN(40))
		half := len(f.base) / 2
		base := buildFixture(t, nil, orderFixture{products: f.products, base: f.base[:half], events: f.events})
		func() {
			defer affinity.SetLayoutMode(affinity.SetLayoutMode(affinity.LayoutAppend))
			b := affinity.NewBuilder(base)
			for _, p := range f.base[half:] {
				require.NoError(t, b.Add(p))
			}
			var err error
			base, err = b.Build(context.Background())
			require.NoError(t, err)
		}()
		both(t, seed, "feed on a base", func() *affinity.History { return buildFixture(t, base, f, f.feed) })
		more := genRecords(r, 1+r.IntN(40))
		both(t, seed, "feed and records on a base", func() *affinity.History {
			b := affinity.NewBuilder(base)
			for _, op := range f.feed[:len(f.feed)/2] {
				require.NoError(t, op.applyTo(b))
			}
			for _, rec := range more {
				_ = rec.addTo(b) // invalid records are refused either way
			}
			for _, op := range f.feed[len(f.feed)/2:] {
				require.NoError(t, op.applyTo(b))
			}
			h, err := b.Build(context.Background())
			require.NoError(t, err)
			return h
		})
	}
}

// TestBuildOverNothingAdded: a Builder from a base that only looked at it
// (HasProduct) builds a History equal to the base.
func TestBuildOverNothingAdded(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	base := build(t, nil, genRecords(r, 400))
	b := affinity.NewBuilder(base)
	b.HasProduct("p1")
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	require.Equal(t, viewHistory(base), viewHistory(h))
	require.Equal(t, affinity.HistoryGross(base), affinity.HistoryGross(h))
}

// customerView is what ChangedSince promises stays the same for a
// customer it does not list: orders (id, time, lines) and events.
func customerView(h *affinity.History, c affinity.CustomerID) []string {
	var out []string
	lo, hi := h.CustomerOrders(c)
	for o := lo; o < hi; o++ {
		out = append(out, orderString(h, o))
	}
	elo, ehi := h.CustomerEvents(c)
	for i := elo; i < ehi; i++ {
		out = append(out, fmt.Sprintf("event %+v", h.Event(i)))
	}
	return out
}

func orderString(h *affinity.History, o affinity.OrderID) string {
	s := fmt.Sprintf("%s@%d:", h.OrderKey(o), h.OrderUnix(o))
	lo, hi := h.OrderLines(o)
	for i := lo; i < hi; i++ {
		s += fmt.Sprintf(" %+v", h.Line(i))
	}
	return s
}

func anonymousView(h *affinity.History) []string {
	var out []string
	lo, hi := h.AnonymousOrders()
	for o := lo; o < hi; o++ {
		out = append(out, orderString(h, o))
	}
	return out
}

// TestChangedSince checks, on random changes to random Histories, that
// every customer ChangedSince does not list has the same orders, lines
// and events as in the base, and so do the anonymous orders unless
// reported; that every changed customer is listed; and that it answers
// only for a History and its direct base.
func TestChangedSince(t *testing.T) {
	for seed := range uint64(testdata.Scale(300, 60)) {
		r := rand.New(rand.NewPCG(seed, 34))
		recs := genRecords(r, 1+r.IntN(300))
		k := r.IntN(len(recs) + 1)
		h1 := build(t, nil, recs[:k])
		f := genOrderFixture(r, 0, r.IntN(20))
		b := affinity.NewBuilder(h1)
		for _, rec := range recs[k:] {
			_ = rec.addTo(b)
		}
		for _, op := range f.feed {
			require.NoError(t, op.applyTo(b))
		}
		h2, err := b.Build(context.Background())
		require.NoError(t, err)
		ch, ok := h2.ChangedSince(h1)
		require.True(t, ok, "seed %d", seed)
		listed := map[affinity.CustomerID]bool{}
		for i, c := range ch.Customers {
			listed[c] = true
			if i > 0 {
				require.Less(t, ch.Customers[i-1], c, "seed %d: ascending", seed)
			}
		}
		for i := range h2.NumCustomers() {
			c := affinity.CustomerID(i)
			if i >= h1.NumCustomers() {
				require.True(t, listed[c], "seed %d: new customer %d not listed", seed, c)
				continue
			}
			if !listed[c] {
				require.Equal(t, customerView(h1, c), customerView(h2, c), "seed %d: customer %d not listed but changed", seed, c)
			}
		}
		if !ch.Anonymous {
			require.Equal(t, anonymousView(h1), anonymousView(h2), "seed %d: anonymous orders changed", seed)
		}
		// only the direct base (h2 is h1 itself when the feed changed
		// nothing: deletes of orders and erasures of customers h1 lacks)
		h3 := build(t, h2, recs[:1])
		if h3 != h2 && h2 != h1 {
			_, ok = h3.ChangedSince(h1)
			require.False(t, ok, "seed %d: not the direct base", seed)
		}
		if h2 != h1 {
			_, ok = h1.ChangedSince(h2)
			require.False(t, ok, "seed %d: the other way round", seed)
		}
		same, ok := h2.ChangedSince(h2)
		require.True(t, ok)
		require.Empty(t, same.Customers)
	}
}

// TestLargeChangeBuiltByCopying: a change of at least 65,536 lines and
// half the base is built by copying everything (faster there) and keeps
// no lineage, giving the same History as building on top; a smaller change
// keeps its lineage.
func TestLargeChangeBuiltByCopying(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	// the lines, made once: the cases below add overlapping ranges
	ps := make([]affinity.Purchase, 20_000+65_536)
	for i := range ps {
		ps[i] = affinity.Purchase{Customer: "c" + strconv.Itoa(i%5000), Product: "p" + strconv.Itoa(i%300),
			Order: "o" + strconv.Itoa(i/3), Time: at.Add(time.Duration(i) * time.Minute), Quantity: 1, Price: 10_000}
	}
	add := func(b *affinity.Builder, from, n int) {
		for i := from; i < from+n; i++ {
			if err := b.Add(ps[i]); err != nil { // require per line costs more than Add
				require.NoError(t, err)
			}
		}
	}
	var b0 affinity.Builder
	add(&b0, 0, 20_000)
	base, err := b0.Build(ctx)
	require.NoError(t, err)
	// put stages the lines [from, from+n) as puts, one per order key, of
	// its first line's customer
	put := func(b *affinity.Builder, from, n int) {
		for i := from; i < from+n; {
			j := i + 1
			for j < from+n && ps[j].Order == ps[i].Order {
				j++
			}
			lines := slices.Clone(ps[i:j])
			for k := range lines {
				lines[k].Customer = lines[0].Customer // an order has one customer
			}
			require.NoError(t, b.PutOrder(ps[i].Order, 1, lines))
			i = j
		}
	}
	cases := []struct {
		n       int
		lineage bool
		puts    bool // staged as puts, whose lines count as added ones do
	}{{1_000, true, false}, {65_535, true, false}, {65_536, false, false}, {65_535, true, true}, {65_536, false, true}}
	if !testdata.Long() {
		// one side of the threshold each: the quick suite leaves out the
		// lines just below it, the long one checks the boundary exactly
		cases = slices.DeleteFunc(cases, func(c struct {
			n       int
			lineage bool
			puts    bool
		}) bool {
			return c.n == 65_535
		})
	}
	for _, tc := range cases {
		built := func(mode int32) *affinity.History {
			was := affinity.SetBaseMode(mode)
			defer affinity.SetBaseMode(was)
			b := affinity.NewBuilder(base)
			if tc.puts {
				put(b, 20_000, tc.n)
			} else {
				add(b, 20_000, tc.n)
			}
			h, err := b.Build(ctx)
			require.NoError(t, err)
			return h
		}
		h := built(affinity.BaseAuto)
		_, ok := h.ChangedSince(base)
		require.Equal(t, tc.lineage, ok, "%d lines on 20,000, puts %v", tc.n, tc.puts)
		if !ok {
			require.Equal(t, viewHistory(built(affinity.BaseOver)), viewHistory(h), "%d lines on 20,000, puts %v", tc.n, tc.puts)
		}
	}
}

// TestAppendedSpan: a History that appends to its base's columns finds
// its first and last order times anew when a change removes or moves
// the base's first or last order (an erasure, a delete, a replacement
// with an earlier time), and otherwise from the base's and the new
// orders'; it equals the History that sorts everything anew.
func TestAppendedSpan(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC).AddDate(0, 0, d) }
	line := func(c string, d int) affinity.Purchase {
		return affinity.Purchase{Customer: c, Product: "p", Time: day(d), Quantity: 1, Price: 100}
	}
	// the base: a's order is the first, b's the last, c's in between;
	// built in two steps so that it has room to append to
	base := func(t *testing.T) *affinity.History {
		b := affinity.NewBuilder(nil)
		require.NoError(t, b.PutOrder("a1", 1, []affinity.Purchase{line("a", 0)}))
		require.NoError(t, b.PutOrder("c1", 1, []affinity.Purchase{line("c", 5)}))
		h, err := b.Build(context.Background())
		require.NoError(t, err)
		defer affinity.SetLayoutMode(affinity.SetLayoutMode(affinity.LayoutAppend))
		b = affinity.NewBuilder(h)
		require.NoError(t, b.PutOrder("b1", 1, []affinity.Purchase{line("b", 10)}))
		h, err = b.Build(context.Background())
		require.NoError(t, err)
		return h
	}
	for _, tc := range []struct {
		name        string
		change      func(b *affinity.Builder) error
		first, last int
	}{
		{"erase the first", func(b *affinity.Builder) error { b.EraseCustomer("a"); return nil }, 5, 10},
		{"delete the last", func(b *affinity.Builder) error { return b.DeleteOrder("b1", 2) }, 0, 5},
		{"move the last earlier", func(b *affinity.Builder) error {
			return b.PutOrder("b1", 2, []affinity.Purchase{line("b", 3)})
		}, 0, 5},
		{"replace the first later", func(b *affinity.Builder) error {
			return b.PutOrder("a1", 2, []affinity.Purchase{line("a", 7)})
		}, 5, 10},
		{"add around", func(b *affinity.Builder) error {
			if err := b.Add(line("c", -2)); err != nil {
				return err
			}
			return b.Add(line("a", 12))
		}, -2, 12},
		{"delete everything", func(b *affinity.Builder) error {
			b.EraseCustomer("a")
			b.EraseCustomer("c")
			return b.DeleteOrder("b1", 2)
		}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			build := func(mode int32) *affinity.History {
				defer affinity.SetBaseMode(affinity.SetBaseMode(mode))
				defer affinity.SetLayoutMode(affinity.SetLayoutMode(affinity.LayoutAppend))
				b := affinity.NewBuilder(base(t))
				require.NoError(t, tc.change(b))
				h, err := b.Build(context.Background())
				require.NoError(t, err)
				return h
			}
			over, copied := build(affinity.BaseOver), build(affinity.BaseCopy)
			checkInvariants(t, over)
			require.Equal(t, viewHistory(copied), viewHistory(over))
			require.Greater(t, affinity.HistoryHoleLines(over), 0, "appended")
			s := over.Summary()
			if tc.name == "delete everything" {
				require.True(t, s.First.IsZero() && s.Last.IsZero(), "%v %v", s.First, s.Last)
				return
			}
			require.Equal(t, day(tc.first), s.First)
			require.Equal(t, day(tc.last), s.Last)
		})
	}
}
