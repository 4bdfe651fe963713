package segment_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/segment"
)

func TestStatsMatchSums(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 21))
	h := randomHistory(t, rng, 900)
	x, err := segment.Build(context.Background(), h, testAsOf, segment.Options{})
	require.NoError(t, err)
	n := newNaive(h, testAsOf, segment.Options{})
	var total affinity.Money
	for _, c := range n.cust {
		if c.known {
			total += affinity.Money(c.monetary)
		}
	}
	g := newExprGen(rng, n)
	for range 100 {
		e := g.expr(2)
		set, err := x.Query(e.text())
		require.NoError(t, err)
		var revenue affinity.Money
		var orders int64
		for _, c := range set.ToArray() {
			revenue += affinity.Money(n.cust[c].monetary)
			orders += int64(n.cust[c].freq)
		}
		s := x.Stats("q", set)
		assert.Equal(t, int(set.GetCardinality()), s.Customers)
		assert.Equal(t, revenue, s.Revenue, e.text())
		assert.Equal(t, orders, s.Orders)
		assert.InDelta(t, float64(s.Customers)/float64(x.Len()), s.Share, 1e-12)
		assert.InDelta(t, float64(revenue)/float64(total), s.RevenueShare, 1e-12)
		if orders > 0 {
			assert.Equal(t, affinity.Money(divRound(int64(revenue), orders)), s.AOV)
		}
	}
	// the RFM table covers the scored customers exactly once
	var sum int
	var rev affinity.Money
	for _, r := range x.RFMTable() {
		sum += r.Customers
		rev += r.Revenue
	}
	scored, err := x.Eval(segment.Frequency().GE(1))
	require.NoError(t, err)
	assert.Equal(t, int(scored.GetCardinality()), sum)
	assert.Equal(t, x.Stats("", scored).Revenue, rev)
	var buf bytes.Buffer
	require.NoError(t, segment.WriteTable(&buf, x.RFMTable()))
	assert.Contains(t, buf.String(), "Champions")
	assert.Contains(t, buf.String(), "revenue share")
}

func TestWriteCSVAndFeatures(t *testing.T) {
	h := randomHistory(t, rand.New(rand.NewPCG(22, 22)), 500)
	x, err := segment.Build(context.Background(), h, testAsOf, segment.Options{})
	require.NoError(t, err)
	n := newNaive(h, testAsOf, segment.Options{})
	var buf bytes.Buffer
	var empty bytes.Buffer
	require.NoError(t, x.WriteCSV(&empty, roaring.New()), "a set of no known customer")
	require.Equal(t, "customer,recency_days,tenure_days,frequency,monetary,aov,r,f,m,rfm_segment,lifecycle,abandoned_cart_days\n", empty.String())
	require.NoError(t, x.WriteCSV(&buf, x.All()))
	rows, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	require.Equal(t, x.Len()+1, len(rows))
	assert.Equal(t, []string{"customer", "recency_days", "tenure_days", "frequency", "monetary", "aov",
		"r", "f", "m", "rfm_segment", "lifecycle", "abandoned_cart_days"}, rows[0])
	num := func(v int) string {
		if v < 0 {
			return ""
		}
		return strconv.Itoa(v)
	}
	i := 1
	for c := range n.cust {
		nc := &n.cust[c]
		if !nc.known {
			continue
		}
		row := rows[i]
		i++
		require.Equal(t, h.CustomerKey(affinity.CustomerID(c)), row[0])
		want := []string{row[0], num(nc.recency), num(nc.tenure), strconv.Itoa(nc.freq), affinity.Money(nc.monetary).String(), "", "", "", "",
			nc.rfm, nc.stage, num(nc.abandoned)}
		if nc.freq > 0 {
			want[5] = affinity.Money(divRound(nc.monetary, int64(nc.freq))).String()
			want[6], want[7], want[8] = strconv.Itoa(nc.r), strconv.Itoa(nc.f), strconv.Itoa(nc.m)
		}
		require.Equal(t, want, row)

		f, ok := x.Features(affinity.CustomerID(c))
		require.True(t, ok)
		assert.Equal(t, nc.recency, f.Recency)
		assert.Equal(t, nc.rfm, f.RFM)
		assert.Equal(t, affinity.Money(nc.monetary), f.Monetary)
		id, ok := x.LookupCustomer(row[0])
		require.True(t, ok)
		assert.Equal(t, affinity.CustomerID(c), id)
	}
	_, ok := x.LookupCustomer("nobody")
	assert.False(t, ok)

	// Keys iterates the shop ids in id order and stops when asked to
	some, err := x.Query(`frequency >= 2`)
	require.NoError(t, err)
	var keys []string
	for k := range x.Keys(some) {
		keys = append(keys, k)
	}
	require.Len(t, keys, int(some.GetCardinality()))
	for j, c := range some.ToArray() {
		assert.Equal(t, h.CustomerKey(affinity.CustomerID(c)), keys[j])
	}
	for range x.Keys(some) {
		break
	}
}

func TestOverlap(t *testing.T) {
	a := roaring.BitmapOf(1, 2, 3, 4)
	b := roaring.BitmapOf(3, 4, 5)
	c := roaring.New()
	m := segment.Overlap([]*roaring.Bitmap{a, b, c})
	assert.Equal(t, [][]uint64{{4, 2, 0}, {2, 3, 0}, {0, 0, 0}}, m)
}

func TestTransitions(t *testing.T) {
	h := randomHistory(t, rand.New(rand.NewPCG(23, 23)), 800)
	ctx := context.Background()
	earlier := testAsOf.Add(-120 * segment.Day)
	from, err := segment.Build(ctx, h, earlier, segment.Options{})
	require.NoError(t, err)
	to, err := segment.Build(ctx, h, testAsOf, segment.Options{})
	require.NoError(t, err)
	nFrom := newNaive(h, earlier, segment.Options{})
	nTo := newNaive(h, testAsOf, segment.Options{})

	moved, err := segment.Transition(from, to, segment.RFM("Champions"), segment.RFM("At risk"))
	require.NoError(t, err)
	want := roaring.New()
	for c := range nTo.cust {
		if nFrom.cust[c].rfm == "Champions" && nTo.cust[c].rfm == "At risk" {
			want.Add(uint32(c))
		}
	}
	assert.True(t, want.Equals(moved))

	names := from.RFMSegments()
	exprs := make([]segment.Expr, len(names))
	for i, s := range names {
		exprs[i] = segment.RFM(s)
	}
	m, err := segment.Transitions(from, to, exprs, exprs)
	require.NoError(t, err)
	require.Len(t, m, len(names)+1)
	idx := func(s string) int {
		if s == "" {
			return len(names)
		}
		return slices.Index(names, s)
	}
	wantM := make([][]int, len(names)+1)
	for i := range wantM {
		wantM[i] = make([]int, len(names)+1)
	}
	for c := range nTo.cust {
		if nFrom.cust[c].known || nTo.cust[c].known {
			wantM[idx(nFrom.cust[c].rfm)][idx(nTo.cust[c].rfm)]++
		}
	}
	assert.Equal(t, wantM, m)
	assert.Greater(t, m[idx("")][idx("New")], 0, "newcomers show in the none row")

	_, err = segment.Transitions(from, to, []segment.Expr{segment.RFM("nope")}, nil)
	require.ErrorIs(t, err, segment.ErrUnknown)
}

func TestTransitionsNeedTheSameCustomers(t *testing.T) {
	mk := func(first string) *segment.Index {
		var b affinity.Builder
		for _, c := range []string{first, "zed"} {
			require.NoError(t, b.Add(affinity.Purchase{Customer: c, Product: "p", Time: testAsOf.Add(-time.Hour), Quantity: 1, Price: 10}))
		}
		h, err := b.Build(context.Background())
		require.NoError(t, err)
		x, err := segment.Build(context.Background(), h, testAsOf, segment.Options{})
		require.NoError(t, err)
		return x
	}
	_, err := segment.Transition(mk("ann"), mk("bob"), segment.All(), segment.All())
	require.ErrorIs(t, err, segment.ErrInvalid)
}

func TestDefine(t *testing.T) {
	x := smallIndex(t, 25, 300)
	assert.Equal(t, []string{"vip", "vip dept0"}, x.Segments())
	_, err := x.Define("vip", segment.All())
	require.ErrorIs(t, err, segment.ErrInvalid)
	_, err = x.Define("", segment.All())
	require.ErrorIs(t, err, segment.ErrInvalid)
	_, err = x.Define("bad", segment.Affinity("No/Such").GE(0.1))
	require.ErrorIs(t, err, segment.ErrUnknown)
	_, err = x.Define("self", segment.Segment("self"))
	require.ErrorIs(t, err, segment.ErrUnknown, "a segment can only use earlier ones")

	y, err := x.Define("vip or new", segment.Or(segment.Segment("vip"), segment.Lifecycle("new")))
	require.NoError(t, err)
	assert.Len(t, x.Segments(), 2, "Define leaves the receiver alone")
	a, err := y.Query(`segment("vip or new")`)
	require.NoError(t, err)
	b, err := y.Query(`monetary >= 200 and recency <= 90d or lifecycle("new")`)
	require.NoError(t, err)
	assert.True(t, a.Equals(b))
	e, ok := y.Definition("vip")
	require.True(t, ok)
	assert.Equal(t, "monetary >= 200 and recency <= 90d", e.String())
}

// TestConcurrentQueries runs queries from many goroutines on one index;
// with -race it checks that evaluation never writes shared state.
func TestConcurrentQueries(t *testing.T) {
	x := smallIndex(t, 26, 600)
	queries := []string{
		`affinity("Dept0") >= 0.3 and recency between 14d and 90d and not bought("Dept1")`,
		`segment("vip dept0") or rfm("Champions")`,
		`carted("p001", "p002" within 30d) and not bought("p001", "p002" within 30d)`,
		`active between "2024-01-01" and "2024-06-30" and monetary >= 100`,
		`top("Dept2", 1) or lift("Dept2") >= 2`,
	}
	want := make([]*roaring.Bitmap, len(queries))
	for i, q := range queries {
		b, err := x.Query(q)
		require.NoError(t, err)
		want[i] = b
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				q := (g + i) % len(queries)
				b, err := x.Query(queries[q])
				if err != nil || !b.Equals(want[q]) {
					errs <- queries[q]
					return
				}
				b.Add(12345678) // results belong to the caller
				x.Stats("q", b)
			}
		})
	}
	wg.Wait()
	close(errs)
	for q := range errs {
		t.Errorf("concurrent query %s differs", q)
	}
}

// TestStatsShowAOVRoundedOnce: 199 orders of 10.00 and one of 10.99 are
// revenue 2000.99 over 200 orders, an AOV of exactly 10.00495, which is
// 10.00 in cents. WriteTable and Stats.String show money rounded to cents
// and round that quotient once: Stats.AOV, 10.0050 in Money units, would
// show as 10.01.
func TestStatsShowAOVRoundedOnce(t *testing.T) {
	var b affinity.Builder
	t0 := time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)
	for i := range 200 {
		price := affinity.Money(100000)
		if i == 199 {
			price = 109900
		}
		require.NoError(t, b.Add(affinity.Purchase{Customer: "ann", Product: "mug", Order: "o" + strconv.Itoa(i),
			Time: t0.Add(time.Duration(i) * time.Hour), Quantity: 1, Price: price}))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	x, err := segment.Build(context.Background(), h, t0.AddDate(0, 1, 0), segment.Options{})
	require.NoError(t, err)
	st := x.Stats("all", x.All())
	require.Equal(t, affinity.Money(20009900), st.Revenue)
	require.Equal(t, int64(200), st.Orders)
	assert.Equal(t, affinity.Money(100050), st.AOV, "AOV in Money units, rounded half away from zero")

	var buf bytes.Buffer
	require.NoError(t, segment.WriteTable(&buf, []segment.Stats{st}))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2)
	assert.Equal(t, []string{"all", "1", "100.0%", "2000.99", "100.0%", "10.00"}, strings.Fields(lines[1]))
	assert.Equal(t, "all: 1 customers (100.0%), revenue 2000.99 (100.0%), 200 orders, AOV 10.00", st.String())
}

// TestAOVComparesRoundedValue: aov is monetary / frequency rounded half
// away from zero to Money units, and queries compare that stored value: a
// customer who spent 30.01 in 3 orders (10.00333…) has aov 10.0033.
func TestAOVComparesRoundedValue(t *testing.T) {
	var b affinity.Builder
	t0 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	for i, price := range []affinity.Money{100000, 100000, 100100} {
		require.NoError(t, b.Add(affinity.Purchase{Customer: "ann", Product: "mug", Order: strconv.Itoa(i),
			Time: t0.Add(time.Duration(i) * time.Hour), Quantity: 1, Price: price}))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	x, err := segment.Build(context.Background(), h, t0.Add(24*time.Hour), segment.Options{})
	require.NoError(t, err)
	f, ok := x.Features(0)
	require.True(t, ok)
	assert.Equal(t, affinity.Money(100033), f.AOV)
	for q, want := range map[string]uint64{"aov = 10.0033": 1, "aov > 10.0033": 0, "aov < 10.00331": 1, "aov >= 10.00325": 1} {
		got, err := x.Query(q)
		require.NoError(t, err, q)
		assert.Equal(t, want, got.GetCardinality(), q)
	}
}
