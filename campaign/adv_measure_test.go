package campaign_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/campaign"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat/distuv"
)

// This file checks the measurement side of the package — Measure, its
// Result and Group figures and intervals, and the control groups a plan
// holds back — against a naive model written from the documentation
// (Measure, Group, Result, MeasureOptions, Significant, InControl,
// Options.Cap): the model reads the raw purchase lines, never the
// History, and counts each message's customer over the period (from, to].

// mLine is one raw purchase line of a measurement test.
type mLine struct {
	cust, order, prod string
	t                 time.Time
	qty               int32
	price             affinity.Money
}

func (l mLine) purchase() affinity.Purchase {
	return affinity.Purchase{Customer: l.cust, Product: l.prod, Order: l.order, Time: l.t, Quantity: l.qty, Price: l.price}
}

// mHistory builds a History from scratch of lines.
func mHistory(t testing.TB, lines []mLine) *affinity.History {
	b := affinity.NewBuilder(nil)
	b.Workers = 1
	for _, l := range lines {
		if err := b.Add(l.purchase()); err != nil { // require only on a failure
			require.NoError(t, err, "%+v", l)
		}
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// mOrder is an order of the model: lines of one customer with one order
// key, or of one customer at one second when the key is empty (see
// affinity.Purchase.Order); its time is the earliest of its lines',
// sub-second parts dropped.
type mOrder struct {
	sec    int64
	value  affinity.Money
	bought bool
}

// mOrders groups lines into the model's orders per customer (anonymous
// lines left out).
func mOrders(lines []mLine) map[string][]mOrder {
	type key struct {
		cust, order string
		sec         int64
	}
	idx := map[key]int{}
	var keys []key
	var orders []mOrder
	for _, l := range lines {
		if l.cust == "" {
			continue
		}
		k := key{cust: l.cust, order: l.order}
		if l.order == "" {
			k.sec = l.t.Unix()
		}
		i, ok := idx[k]
		if !ok {
			i = len(orders)
			idx[k] = i
			keys = append(keys, k)
			orders = append(orders, mOrder{sec: l.t.Unix()})
		}
		o := &orders[i]
		o.sec = min(o.sec, l.t.Unix())
		o.value += affinity.Money(l.qty) * l.price
		o.bought = o.bought || l.qty > 0
	}
	out := map[string][]mOrder{}
	for i, k := range keys {
		out[k.cust] = append(out[k.cust], orders[i])
	}
	return out
}

// mGroup is the model's outcome of one group.
type mGroup struct {
	customers, converted, orders int
	revenue                      affinity.Money
	perRev, perConv              []float64
}

type mResult struct {
	name             string
	treated, control mGroup
}

// mZ is the two-sided normal quantile of conf, from math alone.
func mZ(conf float64) float64 { return math.Sqrt2 * math.Erfinv(conf) }

// mAgrestiCaffo is the interval of a difference of proportions, xa of na
// against xb of nb, with one success and one failure added to each group
// (Agresti and Caffo 2000), clamped to [−1, 1].
func mAgrestiCaffo(xa, na, xb, nb int, z float64) (lo, hi float64) {
	pa := float64(xa+1) / float64(na+2)
	pb := float64(xb+1) / float64(nb+2)
	se := math.Sqrt(pa*(1-pa)/float64(na+2) + pb*(1-pb)/float64(nb+2))
	return max(pa-pb-z*se, -1), min(pa-pb+z*se, 1)
}

// mRevenueHalf is the half-width of the interval of a difference of
// means d with sample variances va, vb of na, nb values: the largest of
// Welch's (Welch–Satterthwaite degrees of freedom), Student's
// pooled-variance half-width and Student's with the sample variance of
// both groups together.
func mRevenueHalf(d, va float64, na int, vb float64, nb int, conf float64) float64 {
	tq := func(df float64) float64 { return distuv.StudentsT{Sigma: 1, Nu: df}.Quantile(0.5 + conf/2) }
	a, b := va/float64(na), vb/float64(nb)
	welch := 0.0
	if a+b > 0 {
		df := (a + b) * (a + b) / (a*a/float64(na-1) + b*b/float64(nb-1))
		welch = tq(df) * math.Sqrt(a+b)
	}
	sp := (float64(na-1)*va + float64(nb-1)*vb) / float64(na+nb-2)
	// both groups' squares about the common mean, over n − 1
	mean := d * float64(nb) / float64(na+nb) // a's mean less the common one
	s0 := (float64(na-1)*va + float64(nb-1)*vb + float64(na)*mean*mean + float64(nb)*(d-mean)*(d-mean)) / float64(na+nb-1)
	return max(welch, tq(float64(na+nb-2))*math.Sqrt(max(sp, s0)/float64(na)+max(sp, s0)/float64(nb)))
}

// mMeanVar is the mean and the sample variance (n − 1) of x, two-pass.
func mMeanVar(x []float64) (mean, v float64) {
	for _, a := range x {
		mean += a
	}
	mean /= float64(len(x))
	for _, a := range x {
		v += (a - mean) * (a - mean)
	}
	if len(x) > 1 {
		v /= float64(len(x) - 1)
	}
	return mean, v
}

// mMeasure is Measure as its documentation says, on the raw lines.
func mMeasure(lines []mLine, msgs []campaign.Message, from, to time.Time) []mResult {
	orders := mOrders(lines)
	by := map[string]*mResult{}
	var names []string
	// a customer counts once per campaign, as treated if any listing is
	type key struct{ campaign, customer string }
	control := map[key]bool{}
	var once []campaign.Message
	for _, m := range msgs {
		k := key{m.Campaign, m.Customer}
		if c, seen := control[k]; seen {
			control[k] = c && m.Control
			continue
		}
		control[k] = m.Control
		once = append(once, m)
	}
	for i := range once {
		once[i].Control = control[key{once[i].Campaign, once[i].Customer}]
	}
	for _, m := range once {
		r := by[m.Campaign]
		if r == nil {
			r = &mResult{name: m.Campaign}
			by[m.Campaign] = r
			names = append(names, m.Campaign)
		}
		g := &r.treated
		if m.Control {
			g = &r.control
		}
		g.customers++
		var rev affinity.Money
		n := 0
		for _, o := range orders[m.Customer] {
			ot := time.Unix(o.sec, 0)
			if !ot.After(from) || ot.After(to) {
				continue
			}
			rev += o.value
			if o.bought {
				n++
			}
		}
		g.orders += n
		g.revenue += rev
		g.perRev = append(g.perRev, float64(rev)/1e4)
		if n > 0 {
			g.converted++
			g.perConv = append(g.perConv, 1)
		} else {
			g.perConv = append(g.perConv, 0)
		}
	}
	slices.Sort(names)
	out := make([]mResult, 0, len(names))
	for _, n := range names {
		out = append(out, *by[n])
	}
	return out
}

// mRel is a tolerance relative to the size of the figures compared.
func mRel(xs ...float64) float64 {
	m := 1.0
	for _, x := range xs {
		m = max(m, math.Abs(x))
	}
	return 1e-9 * m
}

// mCheckGroup compares a Group with the model's.
func mCheckGroup(t *testing.T, what string, want mGroup, got campaign.Group) {
	t.Helper()
	assert.Equal(t, want.customers, got.Customers, what)
	assert.Equal(t, want.converted, got.Converted, what)
	assert.Equal(t, want.orders, got.Orders, what)
	assert.Equal(t, want.revenue, got.Revenue, "%s: revenue exact", what)
	conv, rpc, aov := 0.0, 0.0, 0.0
	if want.customers > 0 {
		conv = float64(want.converted) / float64(want.customers)
		rpc = float64(want.revenue) / 1e4 / float64(want.customers)
	}
	if want.orders > 0 {
		aov = float64(want.revenue) / 1e4 / float64(want.orders)
	}
	assert.InDelta(t, conv, got.Conversion, 1e-12, what)
	assert.InDelta(t, rpc, got.RevenuePerCustomer, mRel(rpc), what)
	assert.InDelta(t, aov, got.AOV, mRel(aov), what)
}

// mCheck compares Measure's results with the model's; a campaign is
// measured when both groups have two customers or more (a group of one
// has no sample variance: see TestAdvMeasureGroupOfOne).
func mCheck(t *testing.T, want []mResult, got []campaign.Result, from, to time.Time, conf float64) {
	t.Helper()
	require.Len(t, got, len(want))
	z := mZ(conf)
	for i, w := range want {
		r := got[i]
		require.Equal(t, w.name, r.Campaign)
		assert.True(t, r.From.Equal(from) && r.To.Equal(to), "%s: period %v..%v", w.name, r.From, r.To)
		assert.Equal(t, conf, r.Confidence)
		mCheckGroup(t, w.name+" treated", w.treated, r.Treated)
		mCheckGroup(t, w.name+" control", w.control, r.Control)
		nt, nc := w.treated.customers, w.control.customers
		if nt < 2 || nc < 2 {
			assert.Zero(t, r.Uplift, "%s: a group under two customers is not measured", w.name)
			assert.Zero(t, r.Incremental, w.name)
			assert.Equal(t, [2]float64{}, r.UpliftCI, "%s: zero intervals", w.name)
			assert.Equal(t, [2]float64{}, r.IncrementalCI, w.name)
			assert.False(t, r.Significant(), w.name)
			continue
		}
		mt, _ := mMeanVar(w.treated.perConv)
		mc, _ := mMeanVar(w.control.perConv)
		assert.InDelta(t, mt-mc, r.Uplift, 1e-12, w.name)
		rt, rvt := mMeanVar(w.treated.perRev)
		rc, rvc := mMeanVar(w.control.perRev)
		inc := (rt - rc) * float64(nt)
		assert.InDelta(t, inc, r.Incremental, mRel(inc, rt*float64(nt), rc*float64(nt)), w.name)
		lo, hi := mAgrestiCaffo(w.treated.converted, nt, w.control.converted, nc, z)
		assert.InDelta(t, lo, r.UpliftCI[0], 1e-9, w.name)
		assert.InDelta(t, hi, r.UpliftCI[1], 1e-9, w.name)
		h := mRevenueHalf(rt-rc, rvt, nt, rvc, nc, conf) * float64(nt)
		tol := mRel(inc, h, rt*float64(nt), rc*float64(nt))
		assert.InDelta(t, inc-h, r.IncrementalCI[0], tol, w.name)
		assert.InDelta(t, inc+h, r.IncrementalCI[1], tol, w.name)
		assert.Equal(t, r.IncrementalCI[0] > 0 || r.IncrementalCI[1] < 0, r.Significant())
	}
}

// mRandom is a random measurement case: lines crowding the period's
// edges, and messages.
type mRandom struct {
	lines    []mLine
	msgs     []campaign.Message
	from, to time.Time
	conf     float64
}

var mCustomers = []string{"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", `comma,"q"`, "ünï", " "}

func mRandomCase(rng *rand.Rand) mRandom {
	loc := []*time.Location{time.UTC, time.FixedZone("m5", -5*3600), time.FixedZone("p9", 9*3600+1800)}[rng.IntN(3)]
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(400*advDay)) * time.Second)
	frac := func() time.Duration {
		if rng.IntN(3) == 0 {
			return time.Duration(1 + rng.Int64N(int64(time.Second)-1))
		}
		return 0
	}
	from := base.Add(frac()).In(loc)
	to := from.Add(time.Duration(1+rng.IntN(20)) * 24 * time.Hour).Add(time.Duration(rng.IntN(3)-1) * time.Second).Add(frac())
	if !from.Before(to) {
		to = from.Add(time.Second)
	}
	edges := []time.Time{from, to}
	at := func() time.Time {
		switch rng.IntN(5) {
		case 0: // random, a few days either side
			span := to.Sub(from) + 10*24*time.Hour
			return from.Add(-5 * 24 * time.Hour).Add(time.Duration(rng.Int64N(int64(span/time.Second))) * time.Second)
		default: // one of the edges, to the second or beside it, with a sub-second part
			e := edges[rng.IntN(2)].Truncate(time.Second)
			return e.Add(time.Duration(rng.IntN(5)-2) * time.Second).Add(frac())
		}
	}
	prices := []affinity.Money{0, 1, 9999, 12_3456, 250_0000, 7_000_000_0000}
	var c mRandom
	c.from, c.to = from, to
	c.conf = []float64{0, 0.95, 0.5, 0.8, 0.99, 1e-6, 0.999999}[rng.IntN(7)]
	nOrders := 1 + rng.IntN(40)
	for i := range nOrders {
		cust := mCustomers[rng.IntN(len(mCustomers))]
		if rng.IntN(10) == 0 {
			cust = "" // anonymous
		}
		order := fmt.Sprintf("o%d", rng.IntN(nOrders)) // keys shared between customers, and reused
		if rng.IntN(6) == 0 {
			order = ""
		}
		t0 := at()
		for j := range 1 + rng.IntN(3) {
			q := []int32{1, 1, 2, 3, -1, -2}[rng.IntN(6)]
			lt := t0
			if j > 0 && rng.IntN(2) == 0 {
				lt = t0.Add(time.Duration(rng.IntN(3*advDay)) * time.Second) // later lines: the order keeps the earliest time
			}
			if order == "" {
				lt = t0
			}
			c.lines = append(c.lines, mLine{cust: cust, order: order, prod: fmt.Sprintf("p%d", (i+j)%4), t: lt, qty: q, price: prices[rng.IntN(len(prices))]})
		}
	}
	// messages: each known or unknown customer at most once per campaign
	names := []string{"a", "b", "", "z"}[:1+rng.IntN(4)]
	for _, n := range names {
		share := rng.Float64()
		for _, k := range append(slices.Clone(mCustomers), "ghost", "") {
			if rng.IntN(4) == 0 {
				continue
			}
			c.msgs = append(c.msgs, campaign.Message{Campaign: n, Customer: k, Control: rng.Float64() < share, Time: from})
		}
	}
	rng.Shuffle(len(c.msgs), func(i, j int) { c.msgs[i], c.msgs[j] = c.msgs[j], c.msgs[i] })
	return c
}

func mConf(c float64) float64 {
	if c == 0 {
		return 0.95
	}
	return c
}

// TestAdvMeasureMatchesModel measures random cases and compares every
// figure with the model: exact edges of (from, to] with sub-second and
// non-UTC bounds, orders spanning the start, returns, free lines,
// anonymous lines, order keys shared by customers, unknown customers, and
// intervals at several levels.
func TestAdvMeasureMatchesModel(t *testing.T) {
	converted, atFrom, atTo := 0, 0, 0 // the cases are not trivial
	for seed := range uint64(testdata.Scale(400, 40)) {
		rng := rand.New(rand.NewPCG(seed, 77))
		c := mRandomCase(rng)
		h := mHistory(t, c.lines)
		got, err := campaign.Measure(context.Background(), h, c.msgs, c.from, c.to, campaign.MeasureOptions{Confidence: c.conf})
		require.NoError(t, err, "seed %d", seed)
		for _, r := range got {
			converted += r.Treated.Converted + r.Control.Converted
		}
		for _, l := range c.lines {
			if l.t.Unix() == c.from.Unix() {
				atFrom++
			}
			if l.t.Unix() == c.to.Unix() {
				atTo++
			}
		}
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			mCheck(t, mMeasure(c.lines, c.msgs, c.from, c.to), got, c.from, c.to, mConf(c.conf))
		})
	}
	t.Logf("%d conversions, %d lines at from's second, %d at to's", converted, atFrom, atTo)
	assert.Positive(t, converted)
	assert.Positive(t, atFrom)
	assert.Positive(t, atTo)
}

// TestAdvMeasureEdges pins the period's edges by hand: an order at from
// is outside, one at to inside; sub-second bounds compare with whole
// seconds; an order whose first line is before from is outside whatever
// its later lines; and the bounds of the stored time range.
func TestAdvMeasureEdges(t *testing.T) {
	T := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	half := 500 * time.Millisecond
	lines := []mLine{
		{cust: "at-from", order: "1", t: T},
		{cust: "after-from", order: "2", t: T.Add(time.Second)},
		{cust: "at-to", order: "3", t: T.Add(24 * time.Hour)},
		{cust: "after-to", order: "4", t: T.Add(24*time.Hour + time.Second)},
		{cust: "spans", order: "5", t: T.Add(-time.Second)},  // the order's time is its first line's
		{cust: "spans", order: "5", t: T.Add(2 * time.Hour)}, //
		{cust: "late-line", order: "6", t: T.Add(time.Hour)}, // inside, though a line is after to
		{cust: "late-line", order: "6", t: T.Add(48 * time.Hour)},
		{cust: "frac", order: "7", t: T.Add(24*time.Hour + 900*time.Millisecond)}, // stored at to's second
	}
	for i := range lines {
		lines[i].prod, lines[i].qty, lines[i].price = "p", 1, 10_0000
	}
	h := mHistory(t, lines)
	var msgs []campaign.Message
	for _, c := range []string{"at-from", "after-from", "at-to", "after-to", "spans", "late-line", "frac"} {
		msgs = append(msgs, campaign.Message{Campaign: "x", Customer: c})
	}
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	for _, tc := range []struct {
		name     string
		from, to time.Time
	}{
		{"whole seconds", T, T.Add(24 * time.Hour)},
		{"in New York", T.In(ny), T.Add(24 * time.Hour).In(ny)},
		{"half seconds", T.Add(half), T.Add(24*time.Hour + half)},
		{"just before", T.Add(-time.Nanosecond), T.Add(24*time.Hour - time.Nanosecond)},
		{"one nanosecond", T.Add(-time.Nanosecond), T},
		{"empty nanosecond", T, T.Add(time.Nanosecond)},
		{"before the epoch to the end of time", time.Unix(-1, 5e8), time.Unix(affinity.MaxUnix, 0).Add(time.Hour)},
		{"zero from", time.Time{}, T.Add(time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := campaign.Measure(context.Background(), h, msgs, tc.from, tc.to, campaign.MeasureOptions{})
			require.NoError(t, err)
			mCheck(t, mMeasure(lines, msgs, tc.from, tc.to), got, tc.from, tc.to, 0.95)
		})
	}
	// the stored range's bounds
	lines = []mLine{{cust: "epoch", order: "1", prod: "p", t: time.Unix(affinity.MinUnix, 0), qty: 1, price: 1}, {cust: "end", order: "2", prod: "p", t: time.Unix(affinity.MaxUnix, 0), qty: 2, price: 3}}
	h = mHistory(t, lines)
	msgs = []campaign.Message{{Campaign: "x", Customer: "epoch"}, {Campaign: "x", Customer: "end", Control: true}}
	from, to := time.Unix(-1, 0), time.Unix(affinity.MaxUnix, 0)
	got, err := campaign.Measure(context.Background(), h, msgs, from, to, campaign.MeasureOptions{})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, 1, got[0].Treated.Converted)
	assert.Equal(t, affinity.Money(6), got[0].Control.Revenue)
	mCheck(t, mMeasure(lines, msgs, from, to), got, from, to, 0.95)
}

// TestAdvMeasureIncrementalHistory: Measure on a History extended by a
// Builder (new orders, PutOrder edits moving orders in and out of the
// period, deletes, an erasure) equals Measure on the History built from
// scratch of the data as it stands, and the model.
func TestAdvMeasureIncrementalHistory(t *testing.T) {
	for seed := range uint64(testdata.Scale(200, 16)) {
		rng := rand.New(rand.NewPCG(seed, 91))
		c := mRandomCase(rng)
		split := rng.IntN(len(c.lines) + 1)
		base := mHistory(t, c.lines[:split])
		b := affinity.NewBuilder(base)
		b.Workers = 1
		final := slices.Clone(c.lines[:split])
		for _, l := range c.lines[split:] {
			l.order += "n" // new keys: Add to an existing order is not what this checks
			if l.order == "n" {
				l.order = ""
			}
			require.NoError(t, b.Add(l.purchase()))
			final = append(final, l)
		}
		erased := map[string]bool{}
		drop := func(pred func(mLine) bool) {
			final = slices.DeleteFunc(final, pred)
		}
		for i := range 3 {
			key := fmt.Sprintf("o%d", rng.IntN(10))
			switch rng.IntN(3) {
			case 0:
				require.NoError(t, b.DeleteOrder(key, int64(i+1)))
				drop(func(l mLine) bool { return l.order == key })
			case 1:
				cust := mCustomers[rng.IntN(len(mCustomers))]
				tm := []time.Time{c.from, c.from.Add(time.Second), c.to, c.to.Add(time.Second)}[rng.IntN(4)]
				nl := []mLine{{cust: cust, order: key, prod: "p9", t: tm, qty: int32(1 + rng.IntN(3)), price: affinity.Money(rng.IntN(1e6))}}
				if rng.IntN(2) == 0 {
					nl = append(nl, mLine{cust: cust, order: key, prod: "p8", t: tm.Add(time.Hour), qty: -1, price: 5_0000})
				}
				var ps []affinity.Purchase
				for _, l := range nl {
					ps = append(ps, l.purchase())
				}
				require.NoError(t, b.PutOrder(key, int64(i+1), ps))
				drop(func(l mLine) bool { return l.order == key })
				final = append(final, nl...)
			default:
				cust := mCustomers[rng.IntN(len(mCustomers))]
				b.EraseCustomer(cust)
				erased[cust] = true
			}
		}
		// an erasure drops the customer's lines whenever they were staged,
		// a later put included
		drop(func(l mLine) bool { return erased[l.cust] })
		inc, err := b.Build(context.Background())
		require.NoError(t, err)
		scratch := mHistory(t, final)
		opts := campaign.MeasureOptions{Confidence: c.conf}
		got, err := campaign.Measure(context.Background(), inc, c.msgs, c.from, c.to, opts)
		require.NoError(t, err)
		want, err := campaign.Measure(context.Background(), scratch, c.msgs, c.from, c.to, opts)
		require.NoError(t, err)
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			require.Len(t, got, len(want))
			for i := range want {
				assert.Equal(t, want[i].Treated, got[i].Treated)
				assert.Equal(t, want[i].Control, got[i].Control)
				assert.Equal(t, want[i].Uplift, got[i].Uplift)
				assert.Equal(t, want[i].UpliftCI, got[i].UpliftCI)
				assert.Equal(t, want[i].Incremental, got[i].Incremental)
				assert.Equal(t, want[i].IncrementalCI, got[i].IncrementalCI)
			}
			mCheck(t, mMeasure(final, c.msgs, c.from, c.to), got, c.from, c.to, mConf(c.conf))
		})
	}
}

// TestAdvMeasurePartsAndOrder: the results do not depend on the order of
// the messages, and measuring each campaign's messages alone gives that
// campaign's result of the whole list ("a customer counted in a campaign
// is counted there only, whatever else they were sent").
func TestAdvMeasurePartsAndOrder(t *testing.T) {
	for seed := range uint64(testdata.Scale(100, 10)) {
		rng := rand.New(rand.NewPCG(seed, 5))
		c := mRandomCase(rng)
		h := mHistory(t, c.lines)
		whole, err := campaign.Measure(context.Background(), h, c.msgs, c.from, c.to, campaign.MeasureOptions{})
		require.NoError(t, err)
		shuffled := slices.Clone(c.msgs)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		again, err := campaign.Measure(context.Background(), h, shuffled, c.from, c.to, campaign.MeasureOptions{})
		require.NoError(t, err)
		require.Len(t, again, len(whole))
		for i, r := range whole {
			var part []campaign.Message
			for _, m := range c.msgs {
				if m.Campaign == r.Campaign {
					part = append(part, m)
				}
			}
			alone, err := campaign.Measure(context.Background(), h, part, c.from, c.to, campaign.MeasureOptions{})
			require.NoError(t, err)
			require.Len(t, alone, 1)
			for _, o := range []campaign.Result{again[i], alone[0]} {
				assert.Equal(t, r.Campaign, o.Campaign)
				assert.Equal(t, r.Treated.Revenue, o.Treated.Revenue)
				assert.Equal(t, r.Control.Revenue, o.Control.Revenue)
				assert.Equal(t, r.Treated.Converted, o.Treated.Converted)
				assert.Equal(t, r.Control.Orders, o.Control.Orders)
				assert.InDelta(t, r.Uplift, o.Uplift, 1e-12)
				assert.InDelta(t, r.IncrementalCI[0], o.IncrementalCI[0], mRel(r.IncrementalCI[0]))
				assert.InDelta(t, r.IncrementalCI[1], o.IncrementalCI[1], mRel(r.IncrementalCI[1]))
			}
		}
	}
}

// TestAdvMeasureMoneyExact: revenue is exact Money over many small and
// large amounts, and the per-customer figures are its float quotients.
func TestAdvMeasureMoneyExact(t *testing.T) {
	T := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	var lines []mLine
	// 0.0001 bought 3,000 times by one customer, in 3,000 orders: 0.30
	for i := range 3000 {
		lines = append(lines, mLine{cust: "tiny", order: fmt.Sprint("t", i), prod: "p", t: T.Add(time.Duration(1+i) * time.Second), qty: 1, price: 1})
	}
	// a customer near a quarter of MaxMoney, another returning most of it
	big := affinity.MaxMoney / 4 / 3
	lines = append(lines,
		mLine{cust: "big", order: "b1", prod: "p", t: T.Add(time.Hour), qty: 3, price: big},
		mLine{cust: "big", order: "b2", prod: "p", t: T.Add(2 * time.Hour), qty: -2, price: big},
		mLine{cust: "cents", order: "c1", prod: "p", t: T.Add(time.Hour), qty: 7, price: 1_0001},
		mLine{cust: "cents", order: "c2", prod: "p", t: T.Add(time.Hour), qty: -3, price: 3333},
	)
	h := mHistory(t, lines)
	msgs := []campaign.Message{
		{Campaign: "m", Customer: "tiny"}, {Campaign: "m", Customer: "big"}, {Campaign: "m", Customer: "nobody"},
		{Campaign: "m", Customer: "cents", Control: true}, {Campaign: "m", Customer: "nobody2", Control: true},
	}
	from, to := T, T.Add(24*time.Hour)
	got, err := campaign.Measure(context.Background(), h, msgs, from, to, campaign.MeasureOptions{})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, affinity.Money(3000)+big, got[0].Treated.Revenue)
	assert.Equal(t, 3001, got[0].Treated.Orders, "the big return is not an order")
	assert.Equal(t, affinity.Money(7*1_0001-3*3333), got[0].Control.Revenue)
	assert.Equal(t, 1, got[0].Control.Orders, "a return-only order is not an order")
	assert.Equal(t, "6.0008", got[0].Control.Revenue.String())
	mCheck(t, mMeasure(lines, msgs, from, to), got, from, to, 0.95)
}

// TestAdvMeasureEmptyGroups: no messages, a campaign without control (a
// plan with Control < 0), one of control only, and groups with nobody
// converted: zero intervals where a group is empty, never NaN.
func TestAdvMeasureEmptyGroups(t *testing.T) {
	T := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	lines := []mLine{{cust: "a", order: "1", prod: "p", t: T.Add(time.Hour), qty: 1, price: 5_0000}}
	h := mHistory(t, lines)
	from, to := T, T.Add(time.Hour)
	got, err := campaign.Measure(context.Background(), h, nil, from, to, campaign.MeasureOptions{})
	require.NoError(t, err)
	assert.Empty(t, got)

	msgs := []campaign.Message{
		{Campaign: "treated-only", Customer: "a"}, {Campaign: "treated-only", Customer: "b"},
		{Campaign: "control-only", Customer: "a", Control: true}, {Campaign: "control-only", Customer: "b", Control: true},
		{Campaign: "nobody-bought", Customer: "x"}, {Campaign: "nobody-bought", Customer: "y"},
		{Campaign: "nobody-bought", Customer: "z", Control: true}, {Campaign: "nobody-bought", Customer: "w", Control: true},
	}
	got, err = campaign.Measure(context.Background(), h, msgs, from, to, campaign.MeasureOptions{})
	require.NoError(t, err)
	mCheck(t, mMeasure(lines, msgs, from, to), got, from, to, 0.95)
	for _, r := range got {
		for _, x := range []float64{r.Uplift, r.Incremental, r.UpliftCI[0], r.UpliftCI[1], r.IncrementalCI[0], r.IncrementalCI[1],
			r.Treated.AOV, r.Control.AOV, r.Treated.Conversion, r.Control.Conversion, r.Treated.RevenuePerCustomer, r.Control.RevenuePerCustomer} {
			assert.False(t, math.IsNaN(x) || math.IsInf(x, 0), "%s: %+v", r.Campaign, r)
		}
		assert.False(t, r.Significant(), r.Campaign)
	}
}

// TestAdvMeasureGroupOfOne: Significant "reports whether the incremental
// revenue's interval excludes zero: with no true effect this happens in a
// share 1 − Confidence of experiments". A group of one customer says
// nothing of its spread, yet Measure gives it variance 0, so the interval
// is as narrow as the other group alone makes it: with one control
// customer, the result is Significant whichever way that customer went,
// and an A/A test with a control of one (a small audience with the 10 %
// default) is significant every time, not one time in 20.
func TestAdvMeasureGroupOfOne(t *testing.T) {
	T := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	var lines []mLine
	var msgs []campaign.Message
	// 40 treated, 4 of them buying 50.00: exactly the population's 10 %
	for i := range 40 {
		k := fmt.Sprint("t", i)
		if i%10 == 0 {
			lines = append(lines, mLine{cust: k, order: k, prod: "p", t: T.Add(time.Hour), qty: 1, price: 50_0000})
		}
		msgs = append(msgs, campaign.Message{Campaign: "small", Customer: k})
	}
	lines = append(lines, mLine{cust: "buyer", order: "b", prod: "p", t: T.Add(time.Hour), qty: 1, price: 50_0000})
	h := mHistory(t, lines)
	significant := 0
	for _, control := range []string{"buyer", "idle"} { // the one control customer buys, or not
		got, err := campaign.Measure(context.Background(), h, append(slices.Clone(msgs), campaign.Message{Campaign: "small", Customer: control, Control: true}),
			T, T.Add(24*time.Hour), campaign.MeasureOptions{})
		require.NoError(t, err)
		require.Len(t, got, 1)
		t.Logf("control %s: uplift %.3f %v, incremental %.1f %v", control, got[0].Uplift, got[0].UpliftCI, got[0].Incremental, got[0].IncrementalCI)
		if got[0].Significant() {
			significant++
		}
	}
	assert.Zero(t, significant, "with one control customer, whatever they did, the result is significant")

	// one against one: half of the equally likely A/A outcomes are significant
	h = mHistory(t, []mLine{{cust: "u", order: "u", prod: "p", t: T.Add(time.Hour), qty: 1, price: 10_0000}})
	significant = 0
	for _, tc := range [][2]string{{"u", "u2"}, {"u2", "u"}, {"u", "u"}, {"u2", "u3"}} {
		got, err := campaign.Measure(context.Background(), h, []campaign.Message{{Campaign: "x", Customer: tc[0]}, {Campaign: "x", Customer: tc[1], Control: true}},
			T, T.Add(24*time.Hour), campaign.MeasureOptions{})
		require.NoError(t, err)
		if got[0].Significant() {
			significant++
		}
	}
	assert.Zero(t, significant, "1 against 1: an interval of width 0 excludes 0 whenever the two differ")
}

// TestAdvMeasureDuplicateMessages: Customers "is the group's size" and
// Revenue the net value of the group's orders in the period. A customer
// listed twice in one campaign's group — the same campaign's plans of two
// weeks measured together, or a list read twice — is one customer with
// one set of orders, not two.
func TestAdvMeasureDuplicateMessages(t *testing.T) {
	T := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	lines := []mLine{{cust: "a", order: "1", prod: "p", t: T.Add(time.Hour), qty: 1, price: 20_0000}}
	h := mHistory(t, lines)
	week1 := []campaign.Message{{Campaign: "coupon", Customer: "a", Time: T}, {Campaign: "coupon", Customer: "b", Time: T},
		{Campaign: "coupon", Customer: "c", Control: true, Time: T}, {Campaign: "coupon", Customer: "d", Control: true, Time: T}}
	week2 := []campaign.Message{{Campaign: "coupon", Customer: "a", Time: T.AddDate(0, 0, 7)}}
	got, err := campaign.Measure(context.Background(), h, append(week1, week2...), T, T.AddDate(0, 0, 14), campaign.MeasureOptions{})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, 2, got[0].Treated.Customers, "customers a and b")
	assert.Equal(t, 1, got[0].Treated.Converted)
	assert.Equal(t, 1, got[0].Treated.Orders)
	assert.Equal(t, affinity.Money(20_0000), got[0].Treated.Revenue)

	// a customer whose revenue is over half of MaxMoney, listed twice
	big := affinity.MaxMoney/2 + 1
	h = mHistory(t, []mLine{{cust: "whale", order: "w", prod: "p", t: T.Add(time.Hour), qty: 1, price: big}})
	got, err = campaign.Measure(context.Background(), h, []campaign.Message{{Campaign: "x", Customer: "whale"}, {Campaign: "x", Customer: "whale"}},
		T, T.AddDate(0, 0, 1), campaign.MeasureOptions{})
	require.NoError(t, err, "the group's revenue is one order's")
	assert.Equal(t, big, got[0].Treated.Revenue)
}

// TestAdvMeasureErrors: nil arguments, empty periods and levels outside
// (0, 1) are errors, a cancelled context is ctx's error; never a panic.
func TestAdvMeasureErrors(t *testing.T) {
	T := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	h := mHistory(t, []mLine{{cust: "a", order: "1", prod: "p", t: T, qty: 1, price: 1}})
	msgs := []campaign.Message{{Campaign: "x", Customer: "a"}}
	ctx := context.Background()
	//lint:ignore SA1012 a nil context is the case under test
	_, err := campaign.Measure(nil, h, msgs, T, T.Add(time.Hour), campaign.MeasureOptions{}) //nolint:staticcheck
	require.ErrorIs(t, err, affinity.ErrNilArgument)
	_, err = campaign.Measure(ctx, nil, msgs, T, T.Add(time.Hour), campaign.MeasureOptions{})
	require.ErrorIs(t, err, affinity.ErrNilArgument)
	for _, p := range [][2]time.Time{{T, T}, {T.Add(time.Second), T}, {T.Add(time.Nanosecond), T}, {time.Time{}, time.Time{}}} {
		_, err = campaign.Measure(ctx, h, msgs, p[0], p[1], campaign.MeasureOptions{})
		assert.Error(t, err, "period %v..%v", p[0], p[1])
	}
	for _, c := range []float64{1, -0.5, 1.5, math.NaN(), math.Inf(1), math.Inf(-1), math.Nextafter(0, -1)} {
		_, err = campaign.Measure(ctx, h, msgs, T, T.Add(time.Hour), campaign.MeasureOptions{Confidence: c})
		assert.Error(t, err, "confidence %v", c)
	}
	for _, c := range []float64{math.Nextafter(1, 0), 5e-324} {
		res, err := campaign.Measure(ctx, h, msgs, T, T.Add(time.Hour), campaign.MeasureOptions{Confidence: c})
		assert.NoError(t, err, "confidence %v", c)
		for _, r := range res {
			assert.False(t, math.IsNaN(r.UpliftCI[0]) || math.IsNaN(r.IncrementalCI[1]))
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	many := make([]campaign.Message, 10000)
	for i := range many {
		many[i] = campaign.Message{Campaign: "x", Customer: "a"}
	}
	for _, ms := range [][]campaign.Message{msgs, many} {
		res, err := campaign.Measure(cctx, h, ms, T, T.Add(time.Hour), campaign.MeasureOptions{})
		require.ErrorIs(t, err, context.Canceled)
		assert.Nil(t, res)
	}
	dctx, cancel2 := context.WithDeadline(ctx, time.Unix(1, 0))
	defer cancel2()
	_, err = campaign.Measure(dctx, h, many, T, T.Add(time.Hour), campaign.MeasureOptions{})
	require.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
}

// TestAdvMeasureConcurrent: Measure shares nothing; concurrent calls on
// one History and one message list give the result of one alone, and
// leave the messages as they were.
func TestAdvMeasureConcurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	c := mRandomCase(rng)
	h := mHistory(t, c.lines)
	before := slices.Clone(c.msgs)
	want, err := campaign.Measure(context.Background(), h, c.msgs, c.from, c.to, campaign.MeasureOptions{})
	require.NoError(t, err)
	var wg sync.WaitGroup
	res := make([][]campaign.Result, 4)
	errs := make([]error, 4)
	for i := range res {
		wg.Go(func() {
			res[i], errs[i] = campaign.Measure(context.Background(), h, c.msgs, c.from, c.to, campaign.MeasureOptions{})
		})
	}
	wg.Wait()
	for i := range res {
		require.NoError(t, errs[i])
		assert.Equal(t, want, res[i])
	}
	assert.Equal(t, before, c.msgs)
}

// TestAdvPlanMeasureEndToEnd plans overlapping campaigns with various
// control shares on a hand-made shop, plants purchases after the plan,
// and measures: no control customer is sent, the control rows are
// InControl's, the group sizes are the plan's counts, and the figures are
// the model's on the raw data.
func TestAdvPlanMeasureEndToEnd(t *testing.T) {
	asOf := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var orders []advOrder
	const n = 300
	for i := range n {
		orders = append(orders, advBuy(fmt.Sprintf("k%03d", i), asOf.Add(-time.Duration(1+i%30)*24*time.Hour), "p0"))
	}
	s := advHand(t, asOf, orders, nil)
	cs := []campaign.Campaign{
		{Name: "default", Priority: 3},                 // 10 %
		{Name: "none", Control: -1, Priority: 2},       // no control group
		{Name: "most", Control: 0.999999, Priority: 1}, // nearly all held out
		{Name: "half", Control: 0.5, Schedule: campaign.Schedule{MinDays: 10, MaxDays: 20}},
		{Name: "tiny", Control: math.SmallestNonzeroFloat64}, // nobody in practice
	}
	p, err := campaign.Build(context.Background(), s.snap, asOf, cs, campaign.Options{Cap: -1})
	require.NoError(t, err)
	shares := map[string]float64{"default": campaign.DefaultControl, "none": 0, "most": 0.999999, "half": 0.5, "tiny": math.SmallestNonzeroFloat64}
	for _, m := range p.Sent() {
		assert.False(t, m.Control)
		assert.False(t, campaign.InControl(m.Campaign, m.Customer, shares[m.Campaign]), "%s sent to a control customer %s", m.Campaign, m.Customer)
	}
	perCampaign := map[string][2]int{}
	for _, m := range p.Messages {
		assert.Equal(t, campaign.InControl(m.Campaign, m.Customer, shares[m.Campaign]), m.Control, "%s %s", m.Campaign, m.Customer)
		x := perCampaign[m.Campaign]
		if m.Control {
			x[1]++
		} else {
			x[0]++
		}
		perCampaign[m.Campaign] = x
	}
	for _, cnt := range p.Counts {
		x := perCampaign[cnt.Campaign]
		assert.Equal(t, [2]int{cnt.Treated, cnt.Control}, x, cnt.Campaign)
		all := cnt.Treated + cnt.Control
		if sh := shares[cnt.Campaign]; all > 0 && sh > 0 && sh < 0.99 {
			assert.InDelta(t, sh, float64(cnt.Control)/float64(all), 4*sqrtShare(sh, all)+1e-9, cnt.Campaign)
		}
	}
	assert.Zero(t, perCampaign["none"][1])
	assert.Zero(t, perCampaign["tiny"][1])
	assert.Equal(t, n, perCampaign["most"][1])

	// responses: a third of the customers buy in the two weeks, some on
	// the edges; a few buy just before the plan and just after the period
	var lines []mLine
	for i, o := range orders {
		for _, l := range o.lines {
			lines = append(lines, mLine{cust: o.cust, order: fmt.Sprintf("o%d", i), prod: l.prod, t: o.t, qty: l.qty, price: 10_0000})
		}
	}
	rng := rand.New(rand.NewPCG(8, 8))
	end := asOf.AddDate(0, 0, 14)
	b := affinity.NewBuilder(s.h)
	b.Workers = 1
	for i := range n {
		var tm time.Time
		switch rng.IntN(6) {
		case 0:
			tm = asOf
		case 1:
			tm = end
		case 2:
			tm = end.Add(time.Second)
		case 3, 4:
			tm = asOf.Add(time.Duration(1+rng.Int64N(14*advDay-1)) * time.Second)
		default:
			continue
		}
		l := mLine{cust: fmt.Sprintf("k%03d", i), order: fmt.Sprintf("r%d", i), prod: "p1", t: tm, qty: int32(1 + rng.IntN(2)), price: affinity.Money(1 + rng.IntN(100_0000))}
		require.NoError(t, b.Add(l.purchase()))
		lines = append(lines, l)
	}
	later, err := b.Build(context.Background())
	require.NoError(t, err)
	got, err := campaign.Measure(context.Background(), later, p.Messages, asOf, end, campaign.MeasureOptions{})
	require.NoError(t, err)
	mCheck(t, mMeasure(lines, p.Messages, asOf, end), got, asOf, end, 0.95)
	for _, r := range got {
		x := perCampaign[r.Campaign]
		assert.Equal(t, x, [2]int{r.Treated.Customers, r.Control.Customers}, r.Campaign)
	}
}

// TestAdvCapOverTime: "when plans are built in time order, each given
// every earlier plan's messages, no window of length CapWindow holds more
// than Cap messages of a customer". Plans at irregular times — two at the
// same time, one exactly a window after another, one a nanosecond inside
// — with control entries taking their slots.
func TestAdvCapOverTime(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var orders []advOrder
	for i := range 40 {
		orders = append(orders, advBuy(fmt.Sprintf("k%02d", i), start.Add(-time.Duration(1+i%5)*24*time.Hour), "p0"))
	}
	w := 3 * 24 * time.Hour
	times := []time.Duration{0, 0, time.Hour, w, w + time.Hour - time.Nanosecond, 2 * w, 2*w + time.Second}
	for _, capN := range []int{1, 2} {
		t.Run(fmt.Sprint("cap", capN), func(t *testing.T) {
			var sent []campaign.Message
			for i, d := range times {
				asOf := start.Add(d)
				s := advHand(t, asOf, orders, nil)
				cs := []campaign.Campaign{{Name: fmt.Sprint("a", i), Control: 0.3}, {Name: fmt.Sprint("b", i), Priority: 1, Control: 0.2}}
				p, err := campaign.Build(context.Background(), s.snap, asOf, cs, campaign.Options{Cap: capN, CapWindow: w, Sent: sent})
				require.NoError(t, err)
				sent = append(sent, p.Messages...)
			}
			byCust := map[string][]time.Time{}
			for _, m := range sent {
				byCust[m.Customer] = append(byCust[m.Customer], m.Time)
			}
			require.NotEmpty(t, byCust)
			for c, ts := range byCust {
				for _, end := range ts {
					in := 0
					for _, x := range ts {
						if x.After(end.Add(-w)) && !x.After(end) {
							in++
						}
					}
					assert.LessOrEqual(t, in, capN, "%s: %d messages in the window ending %v", c, in, end)
				}
			}
		})
	}
}

// mHash is InControl's hash as documented: FNV-1a 64 of campaign, a zero
// byte and customer, through MurmurHash3's 64-bit finaliser.
func mHash(name, key string) uint64 {
	x := uint64(14695981039346656037)
	for _, c := range []byte(name + "\x00" + key) {
		x ^= uint64(c)
		x *= 1099511628211
	}
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// mBelow reports exactly whether x / 2⁶⁴ < share.
func mBelow(x uint64, share float64) bool {
	if share <= 0 {
		return false
	}
	s := new(big.Float).SetFloat64(share)
	s.SetMantExp(s, 64) // share × 2⁶⁴, exact
	return new(big.Float).SetUint64(x).Cmp(s) < 0
}

// TestAdvInControlThreshold: InControl is in the group when the hash
// "divided by 2⁶⁴, is below share" — exactly. A share just above a
// customer's hash (the next float64 above it, over 2⁶⁴) must put them in.
func TestAdvInControlThreshold(t *testing.T) {
	wrong := 0
	var example string
	for i := range 200 {
		key := fmt.Sprintf("c%04d", i)
		x := mHash("coupon", key)
		d := float64(x) // rounded to 53 bits: above x for about half the keys
		if d >= 1<<64 {
			continue
		}
		share := math.Ldexp(d, -64)
		if !mBelow(x, share) {
			share = math.Ldexp(math.Nextafter(d, math.Inf(1)), -64) // the next share up
		}
		if share >= 1 {
			continue
		}
		require.True(t, mBelow(x, share))
		if !campaign.InControl("coupon", key, share) {
			if wrong == 0 {
				example = fmt.Sprintf("InControl(%q, %q, %v) = false, hash %d < share·2⁶⁴ = %.0f", "coupon", key, share, x, math.Ldexp(share, 64))
			}
			wrong++
		}
	}
	assert.Zero(t, wrong, "the first: %s", example)
}

// TestAdvInControlProperties: on many keys that differ in their last
// digits, the group's share is the share within binomial noise, groups
// of two campaigns are independent, a larger share only adds customers,
// and the answer is the documented hash's, with exact comparisons away
// from the rounding edge.
func TestAdvInControlProperties(t *testing.T) {
	n := testdata.Scale(200_000, 20_000)
	shares := []float64{0.1, 0.3}
	in := [2]int{}
	both := 0
	for i := range n {
		key := fmt.Sprintf("cust-%07d", i)
		a := campaign.InControl("coupon", key, shares[0])
		b := campaign.InControl("thank-you", key, shares[1])
		if a {
			in[0]++
			if !campaign.InControl("coupon", key, 0.5) { // require only on a failure
				require.Fail(t, "a larger share dropped a customer", key)
			}
		}
		if b {
			in[1]++
		}
		if a && b {
			both++
		}
		if x := mHash("coupon", key); a != (float64(x) < shares[0]*(1<<64)) || a != mBelow(x, shares[0]) {
			require.Fail(t, "not the documented hash", "%s: %v", key, a)
		}
	}
	for j, s := range shares {
		assert.InDelta(t, s, float64(in[j])/float64(n), 4*sqrtShare(s, n), "share %v", s)
	}
	assert.InDelta(t, shares[0]*shares[1], float64(both)/float64(n), 4*sqrtShare(shares[0]*shares[1], n), "independent campaigns")
	for _, s := range []float64{0, -1, math.Inf(-1), math.NaN()} {
		assert.False(t, campaign.InControl("coupon", "cust-0000001", s), "share %v", s)
	}
}
