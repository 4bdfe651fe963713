package shop_test

// Adversarial tests of time zones, DST and calendar edges across the
// public API. The root package's seam contract says every build takes an
// explicit as-of time and that look-back months follow the UTC calendar,
// "so the same instant gives the same window in every package whatever
// its time zone". These tests express the same instants in odd zones
// (+13:45, -11:00, America/New_York across its DST switches), with
// sub-second parts and monotonic clock readings, and check that every
// answer depends on the instant only, and against naive models written
// from the documentation.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/campaign"
	"github.com/shopaffinity/affinity/clv"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/evaluate"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/segment"
	"github.com/shopaffinity/affinity/shop"
	"github.com/shopaffinity/affinity/similarity"
)

var (
	advTZPlus1345  = time.FixedZone("+1345", 13*3600+45*60)
	advTZMinus1100 = time.FixedZone("-1100", -11*3600)
)

// advTZNewYork is America/New_York, or a fixed -05:00 when the zone
// database is missing.
func advTZNewYork() *time.Location {
	if l, err := time.LoadLocation("America/New_York"); err == nil {
		return l
	}
	return time.FixedZone("EST", -5*3600)
}

// advTZZones are the locations each instant is expressed in.
func advTZZones() []*time.Location {
	return []*time.Location{time.UTC, advTZPlus1345, advTZMinus1100, advTZNewYork()}
}

// advTZZonesFor are the locations the as-of instant name is expressed in:
// New York only where its DST switch is the point.
func advTZZonesFor(name string) []*time.Location {
	switch {
	case strings.HasPrefix(name, "ny-"):
		return []*time.Location{time.UTC, advTZPlus1345, advTZNewYork()}
	case strings.HasPrefix(name, "midnight-") || strings.HasPrefix(name, "jan31-"):
		return []*time.Location{time.UTC, advTZMinus1100}
	}
	return advTZZones()[:3]
}

// advTZAsOfs are the as-of instants: each sits where the UTC calendar and
// a local one disagree about the day or the month.
func advTZAsOfs() map[string]time.Time {
	return map[string]time.Time{
		// 2024-03-01 05:00 at +13:45: still 29 February in UTC.
		"leapday-local-march": time.Date(2024, 3, 1, 5, 0, 0, 0, advTZPlus1345).UTC(),
		// Midnight UTC on 1 March: 29 February 13:00 at -11:00.
		"midnight-utc": time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
		// 03:00 EDT just after New York sprang forward.
		"ny-spring-forward": time.Date(2024, 3, 10, 7, 0, 0, 0, time.UTC),
		// 2023-03-01 05:00 at +13:45: 28 February in UTC (no leap day).
		"feb28-local-march": time.Date(2023, 3, 1, 5, 0, 0, 0, advTZPlus1345).UTC(),
		// 23:30 at -11:00 on 31 January: 1 February in UTC.
		"jan31-local-feb-utc": time.Date(2024, 1, 31, 23, 30, 0, 0, advTZMinus1100).UTC(),
	}
}

// advTZSortedAsOfs returns the names of advTZAsOfs sorted, for
// deterministic subtests.
func advTZSortedAsOfs() []string {
	var names []string
	for n := range advTZAsOfs() {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// advTZEdgeTimes are the instants lines are placed near: midnights of
// the UTC calendar and of the local ones around month ends, 29 February
// and the DST switches.
func advTZEdgeTimes() []time.Time {
	ny := advTZNewYork()
	var ts []time.Time
	days := [][3]int{
		{2023, 1, 28}, {2023, 1, 31}, {2023, 2, 1}, {2023, 2, 28}, {2023, 3, 1},
		{2023, 11, 5}, {2023, 12, 31}, {2024, 1, 1}, {2024, 1, 29}, {2024, 1, 31},
		{2024, 2, 1}, {2024, 2, 28}, {2024, 2, 29}, {2024, 3, 1}, {2024, 3, 9},
		{2024, 3, 10},
	}
	for _, d := range days {
		for _, loc := range []*time.Location{time.UTC, advTZPlus1345, advTZMinus1100, ny} {
			ts = append(ts, time.Date(d[0], time.Month(d[1]), d[2], 0, 0, 0, 0, loc))
		}
	}
	// The as-of instants and their look-back starts of the UTC calendar
	// (the day clamped to the month's last), and where the local calendar
	// or AddDate's roll-over would put them.
	asOfs := advTZAsOfs()
	for _, name := range advTZSortedAsOfs() {
		a := asOfs[name]
		for _, m := range []int{1, 12} {
			ts = append(ts, testdata.MonthsBefore(a, m), a.AddDate(0, -m, 0), a.In(advTZPlus1345).AddDate(0, -m, 0), a.In(advTZMinus1100).AddDate(0, -m, 0))
		}
		ts = append(ts, a, a.Add(-24*time.Hour), a.Add(-14*24*time.Hour), a.Add(-28*24*time.Hour), a.In(advTZNewYork()).AddDate(0, 0, -28))
	}
	return ts
}

// advTZWorld is a small seeded shop whose order times sit on and a second
// either side of the edge times, with sub-second parts on some lines.
func advTZWorld(seed uint64) []affinity.Purchase {
	r := rand.New(rand.NewPCG(seed, 0x7a))
	edges := advTZEdgeTimes()
	var ps []affinity.Purchase
	for o := range 140 {
		c := fmt.Sprintf("c%02d", r.IntN(18))
		base := edges[r.IntN(len(edges))]
		t := base.Add(time.Duration(r.IntN(3)-1) * time.Second)
		if r.IntN(4) == 0 {
			t = t.Add(time.Duration(r.IntN(1000)) * time.Millisecond)
		}
		n := 1 + r.IntN(3)
		for range n {
			q := int32(1 + r.IntN(2))
			if r.IntN(10) == 0 {
				q = -1
			}
			ps = append(ps, affinity.Purchase{
				Customer: c,
				Product:  fmt.Sprintf("p%d", r.IntN(8)),
				Order:    fmt.Sprintf("o%03d", o),
				Time:     t,
				Quantity: q,
				Price:    affinity.Money(10000 * (1 + r.IntN(40))),
			})
		}
	}
	return ps
}

// advTZProducts is the catalog of advTZWorld.
func advTZProducts() []affinity.Product {
	var ps []affinity.Product
	for i := range 8 {
		cat := "Apparel/Shoes"
		if i%2 == 1 {
			cat = "Home/Kitchen"
		}
		ps = append(ps, affinity.Product{Key: fmt.Sprintf("p%d", i), Name: fmt.Sprintf("Product %d", i), Categories: []string{cat}, Price: affinity.Money(10000 * (i + 1)), InStock: true})
	}
	return ps
}

// advTZHistory builds the History of lines.
func advTZHistory(t testing.TB, lines []affinity.Purchase) *affinity.History {
	t.Helper()
	b := affinity.Builder{Workers: 1}
	for _, p := range advTZProducts() {
		require.NoError(t, b.AddProduct(p))
	}
	for _, p := range lines {
		require.NoError(t, b.Add(p))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// advTZOrder is one order as the root package documents it: its time is
// the earliest of its lines' times in whole Unix seconds.
type advTZOrder struct {
	t      int64
	bought bool
	value  affinity.Money
}

// advTZOrders groups lines into orders per customer.
func advTZOrders(lines []affinity.Purchase) map[string][]advTZOrder {
	type key struct{ c, o string }
	idx := map[key]int{}
	out := map[string][]advTZOrder{}
	for _, l := range lines {
		k := key{l.Customer, l.Order}
		i, ok := idx[k]
		if !ok {
			i = len(out[l.Customer])
			idx[k] = i
			out[l.Customer] = append(out[l.Customer], advTZOrder{t: l.Time.Unix()})
		}
		o := &out[l.Customer][i]
		o.t = min(o.t, l.Time.Unix())
		o.bought = o.bought || l.Quantity > 0
		o.value += l.Value()
	}
	return out
}

// advTZNaiveFeatures is the documented frequency, monetary and recency of
// customer c as of asOf (whole seconds) with a look-back of months
// calendar months of the UTC calendar plus d.
func advTZNaiveFeatures(orders []advTZOrder, asOf time.Time, months int, d time.Duration) (freq int, mon affinity.Money, recency int) {
	start := testdata.MonthsBefore(asOf, months).Add(-d).Unix()
	end := asOf.Unix()
	recency = -1
	last := int64(-1 << 62)
	for _, o := range orders {
		if o.t > end {
			continue
		}
		if o.bought && o.t > last {
			last = o.t
		}
		if o.t > start {
			mon += o.value
			if o.bought {
				freq++
			}
		}
	}
	if last > -1<<62 {
		recency = int((end - last) / 86400)
	}
	return freq, mon, recency
}

// advTZNaiveStage is the documented lifecycle stage with the default
// thresholds: LapseAfter 180 days or the look-back's length in days when
// that is shorter (a calendar month of the UTC calendar), ChurnAfter 365.
func advTZNaiveStage(freq, recency int, asOf time.Time, months int, d time.Duration) string {
	if recency < 0 {
		return ""
	}
	lbDays := int(asOf.UTC().Sub(testdata.MonthsBefore(asOf, months).Add(-d)) / (24 * time.Hour))
	lapse := min(180, lbDays)
	switch {
	case recency > 365:
		return "churned"
	case recency > lapse || freq == 0:
		return "lapsing"
	case freq >= 4:
		return "loyal"
	case freq >= 2:
		return "repeat"
	}
	return "new"
}

// advTZQueries are segment queries whose answers depend on days, windows
// and calendar days.
var advTZQueries = []string{
	"all",
	"recency <= 0",
	"recency = 1",
	"recency between 1d and 29d",
	"recency > 30",
	"tenure >= 29",
	"frequency >= 2",
	"monetary > $100",
	"aov >= 50",
	`bought("Apparel/Shoes" within 1d)`,
	`bought("p1" within 30d)`,
	`bought("Home" within 29d)`,
	`recency("Home") <= 2`,
	`affinity("Apparel") >= 0.5`,
	`lifecycle("new") or lifecycle("repeat")`,
	`lifecycle("lapsing")`,
	`lifecycle("churned")`,
	`rfm("Champions")`,
	"rscore >= 4",
	"fscore >= 3",
	"mscore <= 2",
	`active between "2024-02-29" and "2024-02-29"`,
	`active between "2024-03-01" and "2024-03-01"`,
	`active between "2024-02-01" and "2024-02-01"`,
	`active between "2023-02-28" and "2023-03-01"`,
	`active between "2024-03-10" and "2024-03-10"`,
}

// advTZSegmentAnswers is everything a segment index answers that must
// depend only on the instant: features, every query and the encoding.
func advTZSegmentAnswers(t *testing.T, x *segment.Index) string {
	t.Helper()
	// Features and CSV rows sorted, so that the answers do not depend on
	// the dense ids (which differ between a refreshed History and a new
	// one).
	var feats []string
	for _, f := range x.FeaturesOf(x.All()) {
		feats = append(feats, fmt.Sprintf("%+v", f))
	}
	slices.Sort(feats)
	var sb strings.Builder
	sb.WriteString(strings.Join(feats, "\n"))
	sb.WriteString("\n")
	for _, q := range advTZQueries {
		set, err := x.Query(q)
		if err != nil {
			fmt.Fprintf(&sb, "%s: error %v\n", q, err)
			continue
		}
		fmt.Fprintf(&sb, "%s: %v\n", q, x.SortedKeys(set))
	}
	for _, s := range x.LifecycleTable() {
		fmt.Fprintf(&sb, "%+v\n", s)
	}
	for _, s := range x.RFMTable() {
		fmt.Fprintf(&sb, "%+v\n", s)
	}
	var csv strings.Builder
	require.NoError(t, x.WriteCSV(&csv, nil))
	rows := strings.Split(strings.TrimSpace(csv.String()), "\n")
	slices.Sort(rows[1:])
	sb.WriteString(strings.Join(rows, "\n"))
	return sb.String()
}

func TestAdvTZSegmentSameInstant(t *testing.T) {
	ctx := context.Background()
	lines := advTZWorld(1)
	h := advTZHistory(t, lines)
	orders := advTZOrders(lines)
	lookbacks := []struct {
		name   string
		lb     affinity.Lookback
		months int
		d      time.Duration
	}{
		{"months1", affinity.Months(1), 1, 0},
		{"months12", affinity.Months(12), 12, 0},
		{"default", affinity.Lookback{}, 24, 0},
		{"months1+3d", affinity.Lookback{Months: 1, Duration: 72 * time.Hour}, 1, 72 * time.Hour},
	}
	cheap := map[string]bool{"months1": true, "default": true}
	asOfs := advTZAsOfs()
	for _, name := range advTZSortedAsOfs() {
		asOf := asOfs[name]
		for _, lb := range lookbacks {
			if name != "leapday-local-march" && !cheap[lb.name] {
				continue // the other look-backs on the leap day only, to stay cheap
			}
			t.Run(name+"/"+lb.name, func(t *testing.T) {
				var ref string
				var refEnc []byte
				for _, loc := range advTZZonesFor(name) {
					x, err := segment.Build(ctx, h, asOf.In(loc), segment.Options{Lookback: lb.lb, Workers: 1})
					require.NoError(t, err, loc.String())
					assert.True(t, x.AsOf().Equal(asOf), "%v: AsOf %v", loc, x.AsOf())
					assert.Equal(t, time.UTC, x.AsOf().Location(), "%v: AsOf is documented UTC", loc)
					got := advTZSegmentAnswers(t, x)
					var enc bytes.Buffer
					_, err = x.WriteTo(&enc)
					require.NoError(t, err)
					if loc == time.UTC {
						ref, refEnc = got, enc.Bytes()
						// Naive model of the documentation, in UTC.
						for _, c := range x.SortedKeys(x.All()) {
							id, ok := x.LookupCustomer(c)
							require.True(t, ok)
							f, ok := x.Features(id)
							require.True(t, ok)
							freq, mon, rec := advTZNaiveFeatures(orders[c], asOf, lb.months, lb.d)
							assert.Equal(t, freq, f.Frequency, "%s frequency", c)
							assert.Equal(t, mon, f.Monetary, "%s monetary", c)
							assert.Equal(t, rec, f.Recency, "%s recency", c)
							assert.Equal(t, advTZNaiveStage(freq, rec, asOf, lb.months, lb.d), f.Stage, "%s stage (frequency %d, recency %d)", c, freq, rec)
						}
						continue
					}
					assert.Equal(t, ref, got, "answers in %v differ from UTC", loc)
					assert.Equal(t, refEnc, enc.Bytes(), "encoding in %v differs from UTC", loc)
				}
			})
		}
	}
}

// TestAdvTZSegmentActiveDays checks "daily activity (customers with a
// bought order on each UTC day)" against orders placed on local midnights.
func TestAdvTZSegmentActiveDays(t *testing.T) {
	ctx := context.Background()
	at := func(y int, m time.Month, d, hh, mm int, loc *time.Location) time.Time {
		return time.Date(y, m, d, hh, mm, 0, 0, loc)
	}
	lines := []affinity.Purchase{
		// 2024-03-01 00:30 at +13:45 is 2024-02-29 10:45 UTC.
		{Customer: "a", Product: "p0", Order: "a1", Time: at(2024, 3, 1, 0, 30, advTZPlus1345), Quantity: 1, Price: 10000},
		// 2024-02-29 23:30 at -11:00 is 2024-03-01 10:30 UTC.
		{Customer: "b", Product: "p1", Order: "b1", Time: at(2024, 2, 29, 23, 30, advTZMinus1100), Quantity: 1, Price: 10000},
		// Midnight UTC on 1 March.
		{Customer: "c", Product: "p2", Order: "c1", Time: at(2024, 3, 1, 0, 0, time.UTC), Quantity: 1, Price: 10000},
		// A second before it.
		{Customer: "d", Product: "p3", Order: "d1", Time: at(2024, 3, 1, 0, 0, time.UTC).Add(-time.Second), Quantity: 1, Price: 10000},
	}
	h := advTZHistory(t, lines)
	asOf := time.Date(2024, 3, 2, 12, 0, 0, 0, time.UTC)
	for _, loc := range advTZZones() {
		x, err := segment.Build(ctx, h, asOf.In(loc), segment.Options{Workers: 1})
		require.NoError(t, err)
		q := func(s string) []string {
			set, err := x.Query(s)
			require.NoError(t, err, s)
			return x.SortedKeys(set)
		}
		assert.Equal(t, []string{"a", "d"}, q(`active between "2024-02-29" and "2024-02-29"`), "%v", loc)
		assert.Equal(t, []string{"b", "c"}, q(`active between "2024-03-01" and "2024-03-01"`), "%v", loc)
		// Whole periods of 24 hours before 2024-03-02 12:00 UTC, not
		// calendar days: d (36 h and a second) is 1 day ago.
		assert.Equal(t, []string{"b", "c", "d"}, q(`recency = 1`), "%v", loc)
		assert.Equal(t, []string{"a"}, q(`recency = 2`), "%v", loc)
	}
}

// TestAdvTZAttributesDays checks days_to and days_since against the UTC
// day of the index's as-of time, with dates set from times in other zones
// (SetDate keeps "t's UTC day") and a February 29 birthday.
func TestAdvTZAttributesDays(t *testing.T) {
	ctx := context.Background()
	lines := []affinity.Purchase{
		{Customer: "leap", Product: "p0", Order: "1", Time: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), Quantity: 1, Price: 10000},
		{Customer: "local", Product: "p0", Order: "2", Time: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), Quantity: 1, Price: 10000},
	}
	h := advTZHistory(t, lines)
	cases := []struct {
		asOf          time.Time
		leapTo        int // days_to("birthday") of the 29 February birthday
		localTo       int // of the birthday set at 2000-03-01 05:00 +13:45 (UTC day 29 February)
		leapSinceSign int
	}{
		// 2024-03-01 05:00 at +13:45 is 2024-02-29 in UTC: the birthday itself.
		{time.Date(2024, 3, 1, 5, 0, 0, 0, advTZPlus1345), 0, 0, 1},
		// 2025-02-28 23:00 at -11:00 is 2025-03-01 in UTC: 29 February falls on 1 March.
		{time.Date(2025, 2, 28, 23, 0, 0, 0, advTZMinus1100), 0, 0, 1},
		// 2025-02-28 UTC: one day before.
		{time.Date(2025, 2, 28, 12, 0, 0, 0, time.UTC), 1, 1, 1},
		// 2024-03-01 UTC: the next one is 2025-03-01.
		{time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC), 365, 365, 1},
	}
	for _, tc := range cases {
		for _, loc := range advTZZones() {
			asOf := tc.asOf.In(loc)
			x, err := segment.Build(ctx, h, asOf, segment.Options{Lookback: affinity.AllTime, Workers: 1})
			require.NoError(t, err)
			var a segment.Attributes
			leap, _ := x.LookupCustomer("leap")
			local, _ := x.LookupCustomer("local")
			require.NoError(t, a.SetDate("birthday", leap, time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC)))
			require.NoError(t, a.SetDate("birthday", local, time.Date(2000, 3, 1, 5, 0, 0, 0, advTZPlus1345)))
			d, ok := a.Date("birthday", local)
			require.True(t, ok)
			assert.True(t, d.Equal(time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC)), "SetDate keeps t's UTC day: %v", d)
			xa, err := x.WithAttributes(&a)
			require.NoError(t, err)
			for _, c := range []struct {
				key  string
				want int
			}{{"leap", tc.leapTo}, {"local", tc.localTo}} {
				set, err := xa.Query(fmt.Sprintf(`days_to("birthday") = %d`, c.want))
				require.NoError(t, err)
				assert.Contains(t, xa.SortedKeys(set), c.key, "asOf %v: days_to of %s", asOf, c.key)
			}
			// days_since: whole days from 2000-02-29 to the UTC as-of day.
			day := time.Date(asOf.UTC().Year(), asOf.UTC().Month(), asOf.UTC().Day(), 0, 0, 0, 0, time.UTC)
			since := int(day.Sub(time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC)) / (24 * time.Hour))
			set, err := xa.Query(fmt.Sprintf(`days_since("birthday") = %d`, since))
			require.NoError(t, err)
			assert.Equal(t, []string{"leap", "local"}, xa.SortedKeys(set), "asOf %v: days_since", asOf)
		}
	}
}

// TestAdvTZSegmentSubSecondAndMonotonic: with data in whole seconds,
// every as-of time within one second gives the same answers, a time.Now()
// reading (with its monotonic clock) the same as the stripped one.
func TestAdvTZSegmentSubSecondAndMonotonic(t *testing.T) {
	ctx := context.Background()
	now := time.Now() // carries a monotonic reading
	base := now.Truncate(time.Second)
	r := rand.New(rand.NewPCG(3, 4))
	var lines []affinity.Purchase
	for o := range 60 {
		// On the exact day edges of base and a second either side.
		back := time.Duration(r.IntN(40))*24*time.Hour + time.Duration(r.IntN(3)-1)*time.Second
		lines = append(lines, affinity.Purchase{Customer: fmt.Sprintf("c%d", r.IntN(12)), Product: fmt.Sprintf("p%d", r.IntN(8)), Order: fmt.Sprint(o), Time: base.Add(-back), Quantity: 1, Price: 10000})
	}
	h := advTZHistory(t, lines)
	build := func(asOf time.Time) string {
		x, err := segment.Build(ctx, h, asOf, segment.Options{Lookback: affinity.Days(30), Workers: 1})
		require.NoError(t, err)
		var sb strings.Builder
		for _, f := range x.FeaturesOf(x.All()) {
			fmt.Fprintf(&sb, "%+v\n", f)
		}
		for _, q := range advTZQueries[:12] {
			set, err := x.Query(q)
			require.NoError(t, err, q)
			fmt.Fprintf(&sb, "%s: %v\n", q, x.SortedKeys(set))
		}
		return sb.String()
	}
	ref := build(base)
	assert.Equal(t, ref, build(base.Add(999*time.Millisecond)), "as-of within the same second")
	assert.Equal(t, ref, build(base.Add(999*time.Millisecond).In(advTZPlus1345)), "as-of within the same second, +13:45")
	if now.Sub(base) > 0 {
		assert.Equal(t, ref, build(now), "time.Now() with a monotonic reading")
	}
	assert.Equal(t, build(now.Round(0)), build(now), "monotonic reading stripped")
	assert.Equal(t, build(now.Round(0).In(advTZNewYork())), build(now), "monotonic reading, New York")
}

// TestAdvTZSegmentUpdate: an index updated to a later as-of time given in
// another zone answers as a build of the same instant.
func TestAdvTZSegmentUpdate(t *testing.T) {
	ctx := context.Background()
	ny := advTZNewYork()
	lines := advTZWorld(5)
	prev := advTZHistory(t, lines)
	// The day before New York springs forward, at New York midnight.
	asOf0 := time.Date(2024, 3, 9, 0, 0, 0, 0, ny)
	x0, err := segment.Build(ctx, prev, asOf0, segment.Options{Lookback: affinity.Months(1), Workers: 1})
	require.NoError(t, err)
	b := affinity.NewBuilder(prev)
	require.NoError(t, b.Add(affinity.Purchase{Customer: "c01", Product: "p3", Order: "new-1", Time: time.Date(2024, 3, 9, 23, 59, 0, 0, ny), Quantity: 1, Price: 50000}))
	require.NoError(t, b.Add(affinity.Purchase{Customer: "new", Product: "p2", Order: "new-2", Time: time.Date(2024, 3, 10, 3, 0, 0, 0, ny), Quantity: 1, Price: 50000}))
	h, err := b.Build(ctx)
	require.NoError(t, err)
	// One day of 24 hours later: 2024-03-10 01:00 EST is 02:00 → 03:00 EDT.
	for _, days := range []int{0, 1, 2} {
		asOf := asOf0.Add(time.Duration(days) * 24 * time.Hour)
		for _, loc := range advTZZones() {
			x, err := segment.Update(ctx, x0, prev, h, asOf.In(loc), segment.UpdateOptions{})
			require.NoError(t, err, "days %d in %v", days, loc)
			full, err := segment.Build(ctx, h, asOf.UTC(), segment.Options{Lookback: affinity.Months(1), Workers: 1})
			require.NoError(t, err)
			assert.Equal(t, advTZSegmentAnswers(t, full), advTZSegmentAnswers(t, x), "update of %d days in %v", days, loc)
		}
	}
}

// advTZOpen opens a shop on lines with as-of asOf.
func advTZOpen(t *testing.T, lines []affinity.Purchase, asOf time.Time) *shop.Shop {
	t.Helper()
	s, err := shop.Open(context.Background(), shop.Purchases(slices.Values(lines)), shop.Options{AsOf: asOf, Model: "neighbours", Lookback: affinity.Months(1), Workers: 1})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// advTZShopAnswers is what a snapshot answers by shop key.
func advTZShopAnswers(t *testing.T, snap *shop.Snapshot) string {
	t.Helper()
	ctx := context.Background()
	var sb strings.Builder
	for _, q := range advTZQueries {
		aud, err := snap.Segment(q)
		if err != nil {
			fmt.Fprintf(&sb, "%s: error %v\n", q, err)
			continue
		}
		js, err := json.Marshal(aud)
		require.NoError(t, err)
		fmt.Fprintf(&sb, "%s: %s\n", q, js)
		members, err := aud.All(shop.ByRecency)
		require.NoError(t, err)
		for _, m := range members {
			fmt.Fprintf(&sb, "  %s %d %s %d %s %s\n", m.Customer, m.Spend, m.LastPurchase.UTC().Format(time.RFC3339Nano), m.Orders, m.RFM, m.Stage)
		}
		require.NoError(t, aud.WriteCSV(&sb, shop.BySpend))
	}
	for i := range 18 {
		key := fmt.Sprintf("c%02d", i)
		p, err := snap.Profile(ctx, key)
		require.NoError(t, err)
		p.Value = nil // fitted models are checked elsewhere; a few customers may not fit
		js, err := json.Marshal(p)
		require.NoError(t, err)
		fmt.Fprintf(&sb, "%s\n", js)
	}
	return sb.String()
}

func TestAdvTZShopSameInstant(t *testing.T) {
	lines := advTZWorld(7)
	asOfs := advTZAsOfs()
	for _, name := range []string{"leapday-local-march"} { // New York's switch: TestAdvTZRefreshAcrossZones, TestAdvTZRecommend
		asOf := asOfs[name]
		t.Run(name, func(t *testing.T) {
			var ref string
			for _, loc := range advTZZones() {
				s := advTZOpen(t, lines, asOf.In(loc))
				snap := s.Snapshot()
				assert.True(t, snap.AsOf().Equal(asOf), "%v: AsOf %v", loc, snap.AsOf())
				assert.True(t, snap.Segments().AsOf().Equal(asOf), "%v: segment AsOf %v", loc, snap.Segments().AsOf())
				got := advTZShopAnswers(t, snap)
				if loc == time.UTC {
					ref = got
					continue
				}
				assert.Equal(t, ref, got, "answers in %v differ from UTC", loc)
			}
		})
	}
}

// TestAdvTZShopEndOfDay: without Options.AsOf the segment index is as of
// the end of the UTC day of the last order, whatever zone the orders were
// given in.
func TestAdvTZShopEndOfDay(t *testing.T) {
	last := time.Date(2024, 3, 1, 5, 0, 0, 0, advTZPlus1345) // 2024-02-29 15:15 UTC
	lines := []affinity.Purchase{
		{Customer: "a", Product: "p0", Order: "1", Time: last, Quantity: 1, Price: 10000},
		// 13 days and 20 hours before: 14 whole days before 23:59:59 UTC.
		{Customer: "b", Product: "p1", Order: "2", Time: last.Add(-(13*24 + 20) * time.Hour).In(advTZMinus1100), Quantity: 1, Price: 10000},
		// 14 days and 9 hours before: 14 whole days before the end of the day (not 15).
		{Customer: "c", Product: "p2", Order: "3", Time: last.Add(-(14*24 + 9) * time.Hour), Quantity: 1, Price: 10000},
	}
	s := advTZOpen(t, lines, time.Time{})
	snap := s.Snapshot()
	assert.True(t, snap.AsOf().Equal(last), "AsOf %v", snap.AsOf())
	endOfDay := time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC)
	x := snap.Segments()
	assert.True(t, !x.AsOf().Before(endOfDay) && x.AsOf().Before(endOfDay.Add(time.Second)), "segment AsOf %v, want the end of 2024-02-29 UTC", x.AsOf())
	aud, err := snap.Segment("recency = 14")
	require.NoError(t, err)
	assert.Equal(t, []string{"b", "c"}, x.SortedKeys(aud.Bitmap()))
	aud, err = snap.Segment(`active between "2024-02-29" and "2024-02-29"`)
	require.NoError(t, err)
	assert.Equal(t, []string{"a"}, x.SortedKeys(aud.Bitmap()))
}

// advTZPlanAnswers is a plan with message times compared as instants.
func advTZPlanAnswers(p *campaign.Plan) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "asof %s\n", p.AsOf.UTC().Format(time.RFC3339Nano))
	for _, m := range p.Messages {
		m.Time = m.Time.UTC()
		js, _ := json.Marshal(m)
		fmt.Fprintf(&sb, "%s\n", js)
	}
	fmt.Fprintf(&sb, "%+v\n", p.Counts)
	return sb.String()
}

func TestAdvTZCampaignSameInstant(t *testing.T) {
	ctx := context.Background()
	lines := advTZWorld(11)
	asOf := advTZAsOfs()["leapday-local-march"]
	camps := []campaign.Campaign{
		{Name: "recent", Schedule: campaign.Schedule{MinDays: 0, MaxDays: 1}, Content: campaign.Favourites, Control: -1},
		{Name: "month", Schedule: campaign.Schedule{MinDays: 2, MaxDays: 29}, Content: campaign.Favourites, Control: 0.3, Priority: -1},
		campaign.Coupon(), campaign.ThankYou(),
	}
	sentAt := asOf.Add(-7*24*time.Hour + time.Second) // inside the cap window
	sent := []campaign.Message{{Campaign: "old", Customer: "c03", Time: sentAt.In(advTZMinus1100)}, {Campaign: "old", Customer: "c04", Time: asOf.Add(-7 * 24 * time.Hour).In(advTZPlus1345)}}
	var ref string
	for _, loc := range advTZZones() {
		s := advTZOpen(t, lines, asOf.In(loc))
		snap := s.Snapshot()
		for _, planLoc := range []*time.Location{loc, time.UTC, advTZPlus1345} {
			p, err := campaign.Build(ctx, snap, asOf.In(planLoc), camps, campaign.Options{Sent: sent})
			require.NoError(t, err, "shop in %v, plan in %v", loc, planLoc)
			got := advTZPlanAnswers(p)
			if ref == "" {
				ref = got
				require.NotEmpty(t, p.Messages)
				// c04's send lies exactly at asOf − 7 days: outside (asOf − CapWindow, asOf].
				for _, m := range p.Messages {
					assert.NotEqual(t, "c03", m.Customer, "c03 is capped by a send in the window")
				}
				continue
			}
			assert.Equal(t, ref, got, "shop in %v, plan in %v", loc, planLoc)
		}
	}
}

func TestAdvTZCLVSameInstant(t *testing.T) {
	ctx := context.Background()
	lines := advTZWorld(13)
	h := advTZHistory(t, lines)
	orders := advTZOrders(lines)
	asOfs := advTZAsOfs()
	for _, name := range advTZSortedAsOfs() {
		asOf := asOfs[name]
		t.Run(name, func(t *testing.T) {
			var refSum, refHist, refCoh string
			for _, loc := range advTZZonesFor(name) {
				a := asOf.In(loc)
				// Summaries: the holdout end is one month later in the
				// UTC calendar, so it is given in UTC.
				s, err := clv.Summarize(ctx, h, a, clv.SummaryOptions{Unit: clv.Day, HoldoutEnd: asOf.UTC().AddDate(0, 1, 0).In(loc)})
				require.NoError(t, err)
				require.True(t, s.CalibrationEnd.Equal(asOf))
				s.CalibrationEnd = s.CalibrationEnd.UTC() // documented as the time given
				sum := fmt.Sprintf("%+v", s)
				ws, err := clv.Historical(ctx, h, a, clv.HistoricalOptions{Months: []int{1, 12}})
				require.NoError(t, err)
				var hist strings.Builder
				for _, w := range ws {
					fmt.Fprintf(&hist, "%d %s %s %d %d %v %v %v\n", w.Months, w.Start.UTC(), w.End.UTC(), w.Orders, w.Spend, w.Buyers.ToArray(), w.RepeatBuyers.ToArray(), w.Customers)
					assert.True(t, w.End.Equal(asOf), "%v: End %v", loc, w.End)
					want := testdata.MonthsBefore(asOf, w.Months)
					assert.True(t, w.Start.Equal(want), "%v: Start %v of %d months, want the UTC calendar's %v", loc, w.Start, w.Months, want)
				}
				coh, err := clv.CohortRetention(ctx, h, a)
				require.NoError(t, err)
				cohs := fmt.Sprintf("%v %v %v", coh.Months, coh.Size, coh.Active)
				if len(coh.Months) > 0 {
					lastMonth := coh.Months[len(coh.Months)-1]
					want := time.Date(asOf.UTC().Year(), asOf.UTC().Month(), 1, 0, 0, 0, 0, time.UTC)
					assert.True(t, lastMonth.Equal(want), "%v: last cohort month %v, want asOf's UTC month %v", loc, lastMonth, want)
				}
				if loc == time.UTC {
					refSum, refHist, refCoh = sum, hist.String(), cohs
					// Naive Historical of 1 month, UTC calendar.
					w := ws[0]
					start := testdata.MonthsBefore(asOf, 1).Unix()
					nOrders := 0
					for c, os := range orders {
						id, ok := h.LookupCustomer(c)
						require.True(t, ok)
						n := 0
						for _, o := range os {
							if o.t > start && o.t <= asOf.Unix() && o.bought {
								n++
							}
						}
						nOrders += n
						assert.Equal(t, n, w.Customers[id].Orders, "%s orders in 1 month", c)
					}
					assert.Equal(t, nOrders, w.Orders)
					continue
				}
				assert.Equal(t, refSum, sum, "Summarize in %v", loc)
				assert.Equal(t, refHist, hist.String(), "Historical in %v", loc)
				assert.Equal(t, refCoh, cohs, "CohortRetention in %v", loc)
			}
		})
	}
}

// TestAdvTZCLVSummaryNaive checks T, recency and frequency in days against
// the documented definition, with as-of times at local midnights (which
// must not be taken for date-only UTC midnights).
func TestAdvTZCLVSummaryNaive(t *testing.T) {
	ctx := context.Background()
	lines := advTZWorld(17)
	h := advTZHistory(t, lines)
	orders := advTZOrders(lines)
	for _, asOf := range []time.Time{
		time.Date(2024, 3, 1, 0, 0, 0, 0, advTZPlus1345),
		time.Date(2024, 3, 1, 0, 0, 0, 0, advTZMinus1100),
		time.Date(2024, 3, 10, 0, 0, 0, 0, advTZNewYork()),
		time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
	} {
		s, err := clv.Summarize(ctx, h, asOf, clv.SummaryOptions{Unit: clv.Day})
		require.NoError(t, err)
		rows := map[affinity.CustomerID]clv.RFT{}
		for i, c := range s.Customers {
			rows[c] = s.Rows[i]
		}
		for c, os := range orders {
			var ts []int64
			for _, o := range os {
				if o.bought && o.t <= asOf.Unix() {
					ts = append(ts, o.t)
				}
			}
			id, _ := h.LookupCustomer(c)
			row, ok := rows[id]
			if len(ts) == 0 {
				assert.False(t, ok, "%s has no transaction by %v", c, asOf)
				continue
			}
			require.True(t, ok, "%s by %v", c, asOf)
			slices.Sort(ts)
			ts = slices.Compact(ts)
			assert.InDelta(t, float64(asOf.Unix()-ts[0])/86400, row.T, 1e-9, "%s T as of %v", c, asOf)
			assert.InDelta(t, float64(ts[len(ts)-1]-ts[0])/86400, row.Recency, 1e-9, "%s recency as of %v", c, asOf)
		}
	}
}

func TestAdvTZEvaluateSplit(t *testing.T) {
	ctx := context.Background()
	lines := advTZWorld(19)
	h := advTZHistory(t, lines)
	cutoff := advTZAsOfs()["leapday-local-march"]
	dump := func(h *affinity.History) string {
		var sb strings.Builder
		for p := range h.Purchases() {
			fmt.Fprintf(&sb, "%s %s %s %d %d %d\n", p.Customer, p.Order, p.Product, p.Time.Unix(), p.Quantity, p.Price)
		}
		return sb.String()
	}
	var refTrain, refTest, refProto string
	for _, loc := range advTZZones() {
		for _, frac := range []time.Duration{0, 500 * time.Millisecond} {
			sp, err := evaluate.TemporalSplit(ctx, h, cutoff.Add(frac).In(loc))
			require.NoError(t, err)
			assert.True(t, sp.AsOf.Equal(cutoff.Add(frac)), "AsOf is the cutoff")
			train, test := dump(sp.Train), dump(sp.Test)
			// Naive: every order before the cutoff trains; with a cutoff
			// inside a second, that second's records train.
			for p := range sp.Train.Purchases() {
				assert.True(t, p.Time.Before(cutoff.Add(frac)), "train line at %v", p.Time)
			}
			for p := range sp.Test.Purchases() {
				assert.False(t, p.Time.Before(cutoff.Add(frac)), "test line at %v", p.Time)
			}
			if loc == time.UTC {
				if frac == 0 {
					refTrain, refTest, refProto = train, test, sp.Protocol
				}
				continue
			}
			if frac == 0 {
				assert.Equal(t, refTrain, train, "train in %v", loc)
				assert.Equal(t, refTest, test, "test in %v", loc)
				assert.Equal(t, refProto, sp.Protocol, "protocol in %v", loc)
			}
		}
	}
}

// TestAdvTZDefaultCutoff: 00:00 UTC of the day of the order at the 80 %
// quantile, for orders placed at local times whose local day differs.
func TestAdvTZDefaultCutoff(t *testing.T) {
	var lines []affinity.Purchase
	// Ten orders, one a day; the 80 % quantile is the eighth (or ninth).
	for i := range 10 {
		// 2024-02-21.. at 23:30 at -11:00: the next day in UTC (10:30).
		tm := time.Date(2024, 2, 21+i, 23, 30, 0, 0, advTZMinus1100)
		lines = append(lines, affinity.Purchase{Customer: fmt.Sprintf("c%d", i%3), Product: "p0", Order: fmt.Sprint(i), Time: tm, Quantity: 1, Price: 10000})
	}
	h := advTZHistory(t, lines)
	cut := evaluate.DefaultCutoff(h)
	assert.Equal(t, 0, cut.UTC().Hour()*3600+cut.UTC().Minute()*60+cut.UTC().Second(), "cutoff %v is not 00:00 UTC", cut)
	// The UTC days of the orders are 2024-02-22 ... 2024-03-02.
	assert.True(t, !cut.Before(time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)) && !cut.After(time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)), "cutoff %v", cut)
}

func TestAdvTZSimilarityCount(t *testing.T) {
	ctx := context.Background()
	h := advTZHistory(t, advTZWorld(23))
	asOfs := advTZAsOfs()
	for _, name := range advTZSortedAsOfs() {
		asOf := asOfs[name]
		for _, scope := range []similarity.Scope{similarity.Basket, similarity.Customer, similarity.Sequential} {
			var ref string
			for _, loc := range advTZZonesFor(name) {
				c, err := similarity.Count(ctx, h, asOf.In(loc), similarity.CountOptions{Scope: scope, Lookback: affinity.Months(1), Window: 24 * time.Hour, Workers: 1})
				require.NoError(t, err)
				var sb strings.Builder
				fmt.Fprintf(&sb, "%d %d\n", c.Total(), c.NumPairs())
				for p := range c.NumProducts() {
					cols, vals := c.Row(affinity.ProductID(p))
					fmt.Fprintf(&sb, "%d %d %v %v\n", p, c.Support(affinity.ProductID(p)), cols, vals)
				}
				if loc == time.UTC {
					ref = sb.String()
					continue
				}
				assert.Equal(t, ref, sb.String(), "%s scope %v in %v", name, scope, loc)
			}
		}
	}
}

// advTZLoad loads text in format with opts and returns the History's
// purchases as text, times as Unix seconds.
func advTZLoad(t *testing.T, text string, opts dataset.Options) (string, error) {
	t.Helper()
	if opts.Workers == 0 {
		opts.Workers = -1 // no goroutines: cheaper for one-row files, and the result never depends on it
	}
	b := affinity.Builder{Workers: 1}
	_, err := dataset.Load(context.Background(), strings.NewReader(text), &b, opts)
	if err != nil {
		return "", err
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	var sb strings.Builder
	for p := range h.Purchases() {
		fmt.Fprintf(&sb, "%s %s %s %d %d %d\n", p.Customer, p.Order, p.Product, p.Time.Unix(), p.Quantity, p.Price)
	}
	return sb.String(), nil
}

// TestAdvTZDatasetCSVOffsets: RFC 3339 times with offsets (odd ones,
// fractions, "-00:00") load as the instants they denote, equal to the same
// file written in UTC; times without a zone are read in Options.Location.
func TestAdvTZDatasetCSVOffsets(t *testing.T) {
	instants := []time.Time{
		time.Date(2024, 3, 1, 0, 0, 0, 0, advTZPlus1345),
		time.Date(2024, 2, 29, 23, 59, 59, 0, advTZMinus1100),
		time.Date(2024, 3, 10, 3, 0, 0, 0, advTZNewYork()),
		time.Date(2023, 11, 5, 1, 30, 0, 0, advTZNewYork()),
		time.Date(2024, 1, 31, 12, 0, 0, 0, time.FixedZone("", 5*3600+30*60)),
		time.Date(1999, 12, 31, 23, 0, 0, 0, time.FixedZone("", -(9*3600+30*60))),
	}
	head := "customer,product,order,time,quantity,price\n"
	var local, utc, frac strings.Builder
	local.WriteString(head)
	utc.WriteString(head)
	frac.WriteString(head)
	for i, tm := range instants {
		fmt.Fprintf(&local, "c%d,p%d,o%d,%s,1,1.00\n", i, i, i, tm.Format(time.RFC3339))
		fmt.Fprintf(&utc, "c%d,p%d,o%d,%s,1,1.00\n", i, i, i, tm.UTC().Format(time.RFC3339))
		fmt.Fprintf(&frac, "c%d,p%d,o%d,%s,1,1.00\n", i, i, i, tm.Add(250*time.Millisecond).Format(time.RFC3339Nano))
	}
	want, err := advTZLoad(t, utc.String(), dataset.Options{})
	require.NoError(t, err)
	for _, tm := range instants {
		assert.Contains(t, want, fmt.Sprintf(" %d 1 ", tm.Unix()))
	}
	got, err := advTZLoad(t, local.String(), dataset.Options{})
	require.NoError(t, err)
	assert.Equal(t, want, got, "RFC 3339 with offsets")
	// An offset in the file wins over Options.Location.
	got, err = advTZLoad(t, local.String(), dataset.Options{Location: advTZPlus1345})
	require.NoError(t, err)
	assert.Equal(t, want, got, "RFC 3339 with offsets and a Location")
	got, err = advTZLoad(t, utc.String(), dataset.Options{Location: advTZMinus1100})
	require.NoError(t, err)
	assert.Equal(t, want, got, "RFC 3339 in Z with a Location")
	got, err = advTZLoad(t, frac.String(), dataset.Options{})
	require.NoError(t, err)
	assert.Equal(t, want, got, "fractional seconds are dropped")
	// "-00:00" is UTC too.
	minus0 := head + "c0,p0,o0,2024-03-01T00:00:00-00:00,1,1.00\n"
	got, err = advTZLoad(t, minus0, dataset.Options{})
	if assert.NoError(t, err) {
		assert.Contains(t, got, fmt.Sprintf(" %d ", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).Unix()))
	}
}

// TestAdvTZDatasetLocation: times without a zone in every default layout
// are read in Options.Location as time.ParseInLocation reads them,
// including New York's missing and repeated hours.
func TestAdvTZDatasetLocation(t *testing.T) {
	ny := advTZNewYork()
	cases := []struct {
		format string
		head   string
		row    func(ts string) string
		layout string
		ts     []string
	}{
		{"csv", "customer,product,order,time,quantity,price\n", func(ts string) string { return "c1,p1,o-" + ts + "," + ts + ",1,1.00\n" }, "2006-01-02 15:04:05",
			[]string{"2024-03-10 02:30:00", "2024-03-10 01:59:59", "2024-03-10 03:00:00", "2023-11-05 01:30:00", "2024-02-29 00:00:00", "2024-03-01 00:00:00"}},
		{"csv", "customer,product,order,time,quantity,price\n", func(ts string) string { return "c1,p1,o-" + ts + "," + ts + ",1,1.00\n" }, "2006-01-02T15:04:05",
			[]string{"2024-03-10T02:30:00", "2023-11-05T01:30:00", "2024-02-29T23:59:59"}},
		{"csv", "customer,product,order,time,quantity,price\n", func(ts string) string { return "c1,p1,o-" + ts + "," + ts + ",1,1.00\n" }, "2006-01-02 15:04",
			[]string{"2024-03-10 02:30", "2023-11-05 01:30", "2024-02-29 23:59"}},
		{"csv", "customer,product,order,time,quantity,price\n", func(ts string) string { return "c1,p1,o-" + ts + "," + ts + ",1,1.00\n" }, "2006-01-02",
			[]string{"2024-02-29", "2024-03-10", "2023-11-05"}},
		{"onlineretail", "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n", func(ts string) string {
			return "5" + fmt.Sprint(len(ts)) + ",85123A,MUG,1," + ts + ",1.00,17850,United Kingdom\n"
		}, "1/2/2006 15:04",
			[]string{"3/10/2024 2:30"}},
		{"onlineretail", "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n", func(ts string) string {
			return "5" + fmt.Sprint(len(ts)) + ",85123A,MUG,1," + ts + ",1.00,17850,United Kingdom\n"
		}, "2006-01-02 15:04:05",
			[]string{"2023-11-05 01:30:00"}},
		{"members", "Member_number,Date,itemDescription\n", func(ts string) string { return "1808," + ts + ",whole milk\n" }, "02-01-2006",
			[]string{"29-02-2024", "10-03-2024"}},
	}
	for _, tc := range cases {
		for _, loc := range []*time.Location{ny, advTZPlus1345, advTZMinus1100} {
			for _, ts := range tc.ts {
				text := tc.head + tc.row(ts)
				got, err := advTZLoad(t, text, dataset.Options{Format: tc.format, Location: loc})
				require.NoError(t, err, "%s %q in %v", tc.format, ts, loc)
				want, err := time.ParseInLocation(tc.layout, ts, loc)
				require.NoError(t, err)
				assert.Contains(t, got, fmt.Sprintf(" %d ", want.Unix()), "%s %q in %v: want %v", tc.format, ts, loc, want.UTC())
			}
		}
	}
}

// TestAdvTZDatasetShopify: a Shopify export's offsets give the instants;
// the same export with the offsets rewritten (UTC, +13:45) loads the same
// History. WooCommerce's order_date is read in Options.Location.
func TestAdvTZDatasetShopify(t *testing.T) {
	head := "Name,Email,Financial Status,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku\n"
	type row struct {
		name string
		tm   time.Time
	}
	rows := []row{
		{"#1", time.Date(2024, 3, 1, 0, 15, 0, 0, time.FixedZone("", -7*3600))},
		{"#2", time.Date(2024, 3, 10, 3, 0, 0, 0, advTZNewYork())},
		{"#3", time.Date(2024, 3, 1, 0, 0, 0, 0, advTZPlus1345)},
		{"#4", time.Date(2024, 2, 29, 23, 59, 59, 0, advTZMinus1100)},
	}
	build := func(layout string, loc *time.Location) string {
		var sb strings.Builder
		sb.WriteString(head)
		for i, r := range rows {
			tm := r.tm
			if loc != nil {
				tm = tm.In(loc)
			}
			fmt.Fprintf(&sb, "%s,u%d@example.com,paid,%s,1,Item %d,10.00,SKU-%d\n", r.name, i, tm.Format(layout), i, i)
		}
		return sb.String()
	}
	want, err := advTZLoad(t, build("2006-01-02 15:04:05 -0700", nil), dataset.Options{Format: "shopify"})
	require.NoError(t, err)
	for _, r := range rows {
		assert.Contains(t, want, fmt.Sprintf(" %d 1 ", r.tm.Unix()), "order %s at %v", r.name, r.tm.UTC())
	}
	for _, v := range []struct {
		layout string
		loc    *time.Location
	}{
		{"2006-01-02 15:04:05 -0700", time.UTC},
		{"2006-01-02 15:04:05 -0700", advTZPlus1345},
		{"2006-01-02T15:04:05Z07:00", nil},
		{"2006-01-02T15:04:05Z07:00", time.UTC},
		{"2006-01-02 15:04:05", time.UTC}, // no zone: UTC by default
	} {
		got, err := advTZLoad(t, build(v.layout, v.loc), dataset.Options{Format: "shopify"})
		require.NoError(t, err, "%s %v", v.layout, v.loc)
		assert.Equal(t, want, got, "%s %v", v.layout, v.loc)
		// A zone in the text wins over Options.Location.
		if v.layout != "2006-01-02 15:04:05" {
			got, err := advTZLoad(t, build(v.layout, v.loc), dataset.Options{Format: "shopify", Location: advTZMinus1100})
			require.NoError(t, err)
			assert.Equal(t, want, got, "%s %v with a Location", v.layout, v.loc)
		}
	}
	// Shopify rows without a zone are in Options.Location.
	got, err := advTZLoad(t, build("2006-01-02 15:04:05", advTZPlus1345), dataset.Options{Format: "shopify", Location: advTZPlus1345})
	require.NoError(t, err)
	assert.Equal(t, want, got, "zone-less Shopify times in Options.Location")

	// WooCommerce: order_date without a zone, in Options.Location.
	woo := "order_id,order_date,status,customer_id,billing_email,item_name,item_sku,item_quantity,item_total\n"
	ny := advTZNewYork()
	dates := []string{"2024-03-10 02:30:00", "2023-11-05 01:30:00", "2024-02-29 23:59:59"}
	for i, d := range dates {
		woo += fmt.Sprintf("%d,%s,completed,%d,,Mug,MUG-%d,1,10.00\n", 100+i, d, 1+i, i)
	}
	for _, loc := range []*time.Location{ny, advTZPlus1345, time.UTC} {
		got, err := advTZLoad(t, woo, dataset.Options{Format: "woocommerce", Location: loc})
		require.NoError(t, err, "%v", loc)
		for _, d := range dates {
			want, err := time.ParseInLocation("2006-01-02 15:04:05", d, loc)
			require.NoError(t, err)
			assert.Contains(t, got, fmt.Sprintf(" %d 1 ", want.Unix()), "woocommerce %q in %v", d, loc)
		}
	}
}

// TestAdvTZRefreshAcrossZones: a shop opened with an as-of time in one
// zone and refreshed answers as one opened on the whole data.
func TestAdvTZRefreshAcrossZones(t *testing.T) {
	ctx := context.Background()
	lines := advTZWorld(29)
	asOf := advTZAsOfs()["ny-spring-forward"]
	var early, late []affinity.Purchase
	cut := asOf.Add(-36 * time.Hour)
	for _, p := range lines {
		if p.Time.Before(cut) {
			early = append(early, p)
		} else {
			late = append(late, p)
		}
	}
	require.NotEmpty(t, late)
	whole := advTZOpen(t, lines, asOf)
	want := advTZSegmentAnswers(t, whole.Snapshot().Segments())
	for _, loc := range advTZZones()[1:] {
		s := advTZOpen(t, early, asOf.In(loc))
		require.NoError(t, s.Refresh(ctx, shop.Purchases(slices.Values(late))))
		assert.Equal(t, want, advTZSegmentAnswers(t, s.Snapshot().Segments()), "refreshed in %v", loc)
	}
}

// TestAdvTZDatasetInvalidDates: calendar dates that do not exist (29
// February of a common year, 31 April, hour 24, minute 60) are bad rows
// in every format and layout, as time.Parse has them: an error in strict
// mode, a counted skip in lenient mode, never a normalised other day.
func TestAdvTZDatasetInvalidDates(t *testing.T) {
	csvHead := "customer,product,order,time,quantity,price\n"
	csvRow := func(ts string) string { return "c1,p1,o1," + ts + ",1,1.00\n" }
	cases := []struct {
		format string
		text   string
	}{
		{"csv", csvHead + csvRow("2023-02-29 10:00:00")},
		{"csv", csvHead + csvRow("2024-04-31 10:00:00")},
		{"csv", csvHead + csvRow("2024-02-30")},
		{"csv", csvHead + csvRow("2024-02-29 24:00:00")},
		{"csv", csvHead + csvRow("2024-02-29 23:60:00")},
		{"csv", csvHead + csvRow("2024-02-29 23:59:60")},
		{"csv", csvHead + csvRow("2024-13-01T00:00:00")},
		{"csv", csvHead + csvRow("2024-00-10 00:00")},
		{"csv", csvHead + csvRow("2023-02-29T10:00:00Z")},
		{"onlineretail", "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n536365,85123A,MUG,1,2/29/2023 8:26,2.55,17850,United Kingdom\n"},
		{"onlineretail", "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n536365,85123A,MUG,1,2023-02-29 08:26:00,2.55,17850,United Kingdom\n"},
		{"members", "Member_number,Date,itemDescription\n1808,29-02-2023,whole milk\n"},
		{"members", "Member_number,Date,itemDescription\n1808,31-04-2024,whole milk\n"},
		{"cdnow", "00001 20230229 1 11.77\n"},
		{"cdnow", "00001 20240431 1 11.77\n"},
		{"shopify", "Name,Email,Financial Status,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku\n#1,a@example.com,paid,2023-02-29 10:00:00 -0700,1,Item,10.00,SKU\n"},
		{"woocommerce", "order_id,order_date,status,customer_id,billing_email,item_name,item_sku,item_quantity,item_total\n1,2023-02-29 10:00:00,completed,1,,Mug,MUG,1,10.00\n"},
	}
	for _, tc := range cases {
		got, err := advTZLoad(t, tc.text, dataset.Options{Format: tc.format})
		assert.Error(t, err, "%s: %q loaded as %q", tc.format, tc.text, got)
		var b affinity.Builder
		rep, err := dataset.Load(context.Background(), strings.NewReader(tc.text), &b, dataset.Options{Format: tc.format, Lenient: true})
		if assert.NoError(t, err, tc.format) {
			assert.Equal(t, 0, rep.Loaded, "%s: %q: lenient load of a bad date", tc.format, tc.text)
			assert.Equal(t, 1, rep.Rows-rep.Loaded, "%s: skipped rows", tc.format)
		}
	}
}

// TestAdvTZDatasetInstantFormats: Unix times and the BasketTime are
// instants; Options.Location does not move them. Date-only formats
// (cdnow) are read in Options.Location, as the option says.
func TestAdvTZDatasetInstantFormats(t *testing.T) {
	const sec = 1709251200 // 2024-03-01 00:00:00 UTC
	text := fmt.Sprintf("customer,product,order,time,quantity,price\nc1,p1,o1,%d,1,1.00\n", sec)
	for _, loc := range []*time.Location{nil, advTZPlus1345, advTZMinus1100, advTZNewYork()} {
		got, err := advTZLoad(t, text, dataset.Options{TimeLayouts: []string{"unix"}, Location: loc})
		require.NoError(t, err)
		assert.Contains(t, got, fmt.Sprintf(" %d 1 ", sec), "unix in %v", loc)
		got, err = advTZLoad(t, fmt.Sprintf("1\t2\t5\t%d\n", sec), dataset.Options{Format: "movielens", Location: loc, MovieLensAsPurchases: true})
		require.NoError(t, err)
		assert.Contains(t, got, fmt.Sprintf(" %d 1 ", sec), "movielens in %v", loc)
	}
	bt := time.Date(2024, 3, 1, 0, 0, 0, 0, advTZPlus1345)
	got, err := advTZLoad(t, "a,b\n", dataset.Options{Format: "baskets", BasketTime: bt, Location: advTZMinus1100})
	require.NoError(t, err)
	assert.Contains(t, got, fmt.Sprintf(" %d 1 ", bt.Unix()), "BasketTime is an instant")

	for _, loc := range []*time.Location{time.UTC, advTZPlus1345, advTZNewYork()} {
		got, err := advTZLoad(t, "00001 20240310 1 11.77\n", dataset.Options{Format: "cdnow", Location: loc})
		require.NoError(t, err)
		assert.Contains(t, got, fmt.Sprintf(" %d 1 ", time.Date(2024, 3, 10, 0, 0, 0, 0, loc).Unix()), "cdnow in %v", loc)
	}
}

// TestAdvTZSegmentJoin: parts built with the as-of time in one zone join
// with the same instant given in another, into Build's index.
func TestAdvTZSegmentJoin(t *testing.T) {
	ctx := context.Background()
	h := advTZHistory(t, advTZWorld(31))
	asOf := advTZAsOfs()["leapday-local-march"]
	opts := segment.Options{Lookback: affinity.Months(1), Workers: 1}
	want, err := segment.Build(ctx, h, asOf, opts)
	require.NoError(t, err)
	var wantEnc bytes.Buffer
	_, err = want.WriteTo(&wantEnc)
	require.NoError(t, err)
	part, err := segment.BuildPart(ctx, h, asOf.In(advTZPlus1345), opts)
	require.NoError(t, err)
	for _, loc := range advTZZones() {
		x, err := segment.Join(ctx, h.Catalog(), asOf.In(loc), opts, []*segment.Part{part})
		if !assert.NoError(t, err, "join in %v of a part built at +13:45", loc) {
			continue
		}
		var enc bytes.Buffer
		_, err = x.WriteTo(&enc)
		require.NoError(t, err)
		assert.Equal(t, wantEnc.Bytes(), enc.Bytes(), "join in %v", loc)
	}
	// A part encoded and decoded keeps the instant.
	data, err := part.MarshalBinary()
	require.NoError(t, err)
	var back segment.Part
	require.NoError(t, back.UnmarshalBinary(data))
	x, err := segment.Join(ctx, h.Catalog(), asOf.In(advTZMinus1100), opts, []*segment.Part{&back})
	require.NoError(t, err)
	var enc bytes.Buffer
	_, err = x.WriteTo(&enc)
	require.NoError(t, err)
	assert.Equal(t, wantEnc.Bytes(), enc.Bytes(), "join of a decoded part")
}

// TestAdvTZSegmentLoadUpdate: an index saved and read back updates to the
// next day given in New York time as a build of that instant.
func TestAdvTZSegmentLoadUpdate(t *testing.T) {
	ctx := context.Background()
	h := advTZHistory(t, advTZWorld(37))
	asOf := time.Date(2024, 3, 9, 12, 0, 0, 0, advTZNewYork())
	x, err := segment.Build(ctx, h, asOf, segment.Options{Workers: 1})
	require.NoError(t, err)
	var buf bytes.Buffer
	_, err = x.WriteTo(&buf)
	require.NoError(t, err)
	y, err := segment.ReadIndex(&buf)
	require.NoError(t, err)
	assert.True(t, y.AsOf().Equal(asOf))
	// 24 hours later is 13:00 EDT on 10 March.
	next := asOf.Add(24 * time.Hour)
	u, err := segment.Update(ctx, y, h, h, next, segment.UpdateOptions{})
	require.NoError(t, err)
	full, err := segment.Build(ctx, h, next, segment.Options{Workers: 1})
	require.NoError(t, err)
	assert.Equal(t, advTZSegmentAnswers(t, full), advTZSegmentAnswers(t, u))
	// The calendar day later in New York (AddDate) is 23 hours later: not
	// a whole number of days, which Update must refuse or answer as Build.
	cal := asOf.AddDate(0, 0, 1)
	u, err = segment.Update(ctx, y, h, h, cal, segment.UpdateOptions{})
	if err == nil {
		full, err := segment.Build(ctx, h, cal, segment.Options{Workers: 1})
		require.NoError(t, err)
		assert.Equal(t, advTZSegmentAnswers(t, full), advTZSegmentAnswers(t, u), "update by 23 hours")
	}
}

// TestAdvTZValuesAndMeasure: the value models of snapshots of one instant
// in several zones agree, and campaign measurement over a period given in
// several zones too.
func TestAdvTZValuesAndMeasure(t *testing.T) {
	ctx := context.Background()
	lines := advTZWorld(41)
	asOf := advTZAsOfs()["midnight-utc"]
	var ref string
	var refPlan *campaign.Plan
	for _, loc := range advTZZones() {
		s := advTZOpen(t, lines, asOf.In(loc))
		snap := s.Snapshot()
		var sb strings.Builder
		if v, err := snap.Value(ctx); err == nil {
			for i := range 18 {
				id, ok := snap.History().LookupCustomer(fmt.Sprintf("c%02d", i))
				if !ok {
					continue
				}
				val, ok := v.Of(id)
				js, _ := json.Marshal(val)
				fmt.Fprintf(&sb, "%d %v %s\n", i, ok, js)
			}
		} else {
			fmt.Fprintf(&sb, "error %v\n", err)
		}
		if loc == time.UTC {
			ref = sb.String()
			p, err := campaign.Build(ctx, snap, asOf, []campaign.Campaign{{Name: "all", Content: campaign.Favourites, Control: 0.5}}, campaign.Options{})
			require.NoError(t, err)
			refPlan = p
			continue
		}
		assert.Equal(t, ref, sb.String(), "values in %v", loc)
	}
	require.NotNil(t, refPlan)
	later := advTZHistory(t, append(slices.Clone(lines), advTZWorld(43)...))
	var refRes string
	for _, loc := range advTZZones() {
		res, err := campaign.Measure(ctx, later, refPlan.Messages, asOf.In(loc), asOf.AddDate(0, 0, 14).In(loc), campaign.MeasureOptions{})
		require.NoError(t, err)
		for i := range res {
			// From and To repeat the period as given.
			assert.True(t, res[i].From.Equal(asOf) && res[i].To.Equal(asOf.AddDate(0, 0, 14)))
			res[i].From, res[i].To = res[i].From.UTC(), res[i].To.UTC()
		}
		got := fmt.Sprintf("%+v", res)
		if loc == time.UTC {
			refRes = got
			continue
		}
		assert.Equal(t, refRes, got, "measure in %v", loc)
	}
}

// TestAdvTZRecommend: an engine built as of one instant in several zones,
// asked with request times in several zones, recommends the same; Tune's
// validation window (the last 28 days) is the same instants.
func TestAdvTZRecommend(t *testing.T) {
	ctx := context.Background()
	h := advTZHistory(t, advTZWorld(47))
	asOf := advTZAsOfs()["ny-spring-forward"]
	c, err := similarity.Count(ctx, h, asOf, similarity.CountOptions{Workers: 1})
	require.NoError(t, err)
	nb, err := similarity.NewIndex(ctx, c, similarity.IndexOptions{Measure: similarity.Cosine, MinSupport: 1})
	require.NoError(t, err)
	var ref string
	for _, loc := range advTZZones() {
		e, err := recommend.New(ctx, h, nb, asOf.In(loc), recommend.Options{HalfLife: 3 * 24 * time.Hour})
		require.NoError(t, err)
		var sb strings.Builder
		for i := range 18 {
			for _, reqAt := range []time.Time{{}, asOf.Add(-25 * time.Hour).In(advTZNewYork()), asOf.Add(-25 * time.Hour).In(loc)} {
				recs, err := e.Recommend(nil, recommend.Request{Customer: fmt.Sprintf("c%02d", i), K: 4, AsOf: reqAt})
				require.NoError(t, err)
				for _, r := range recs {
					fmt.Fprintf(&sb, "%s:%.12g:%v ", r.Key, r.Score, r.Source)
				}
				sb.WriteString("\n")
			}
		}
		if loc == time.UTC {
			ref = sb.String()
			continue
		}
		assert.Equal(t, ref, sb.String(), "engine in %v", loc)
	}

	grid := recommend.Grid{Models: []recommend.Model{recommend.DefaultModel()}, HalfLives: []time.Duration{30 * 24 * time.Hour}, Blends: []float64{-1}, RepeatWeights: []float64{0}, Trends: []float64{-1}, MinCustomers: 1, Workers: 1}
	var refTune string
	for _, loc := range advTZZones() {
		tu, err := recommend.Tune(ctx, h, asOf.In(loc), grid)
		if err != nil {
			require.ErrorIs(t, err, recommend.ErrNoValidation)
			continue
		}
		assert.True(t, tu.To.Equal(asOf), "%v: To %v", loc, tu.To)
		assert.True(t, tu.From.Equal(asOf.Add(-28*24*time.Hour)), "%v: From %v, want 28 days of 24 hours before", loc, tu.From)
		got := fmt.Sprintf("%d %+v", tu.Customers, tu.Trials)
		if loc == time.UTC {
			refTune = got
			continue
		}
		assert.Equal(t, refTune, got, "Tune in %v", loc)
	}
}

// TestAdvTZCampaignMonotonicAsOf: a shop opened with an as-of time read
// from the clock (monotonic reading, nanoseconds) plans campaigns at that
// time given as the same instant in any form, and its segment index is
// as of that time.
func TestAdvTZCampaignMonotonicAsOf(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	base := now.Truncate(time.Second)
	r := rand.New(rand.NewPCG(53, 1))
	var lines []affinity.Purchase
	for o := range 80 {
		back := time.Duration(r.IntN(30))*24*time.Hour + time.Duration(r.IntN(3)-1)*time.Second
		lines = append(lines, affinity.Purchase{Customer: fmt.Sprintf("c%02d", r.IntN(18)), Product: fmt.Sprintf("p%d", r.IntN(8)), Order: fmt.Sprint(o), Time: base.Add(-back), Quantity: 1, Price: 10000})
	}
	camps := []campaign.Campaign{{Name: "week", Schedule: campaign.Schedule{MinDays: 0, MaxDays: 7}, Content: campaign.Favourites, Control: -1}, campaign.Coupon()}
	s := advTZOpen(t, lines, now)
	snap := s.Snapshot()
	assert.True(t, snap.AsOf().Equal(now), "AsOf %v, want %v", snap.AsOf(), now)
	var ref string
	for _, at := range []time.Time{now, now.Round(0), now.In(advTZPlus1345), now.Round(0).In(advTZNewYork()), snap.AsOf()} {
		p, err := campaign.Build(ctx, snap, at, camps, campaign.Options{})
		if !assert.NoError(t, err, "plan at %v for a snapshot as of %v", at, snap.AsOf()) {
			continue
		}
		got := advTZPlanAnswers(p)
		if ref == "" {
			ref = got
			continue
		}
		assert.Equal(t, ref, got, "plan at %v", at)
	}
	// The same plan from a shop opened with the stripped, zoned instant.
	s2 := advTZOpen(t, lines, now.Round(0).In(advTZMinus1100))
	p, err := campaign.Build(ctx, s2.Snapshot(), now, camps, campaign.Options{})
	if assert.NoError(t, err) {
		assert.Equal(t, ref, advTZPlanAnswers(p))
	}
}

// TestAdvTZLoadAttributesZone: a date column whose layout carries a zone
// keeps the UTC day of the instant, as SetDate does.
func TestAdvTZLoadAttributesZone(t *testing.T) {
	ctx := context.Background()
	h := advTZHistory(t, []affinity.Purchase{
		{Customer: "a", Product: "p0", Order: "1", Time: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), Quantity: 1, Price: 10000},
		{Customer: "b", Product: "p0", Order: "2", Time: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), Quantity: 1, Price: 10000},
	})
	x, err := segment.Build(ctx, h, time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC), segment.Options{Lookback: affinity.AllTime, Workers: 1})
	require.NoError(t, err)
	file := "customer,birthday\na,2000-03-01T05:00:00+13:45\nb,2000-02-28T23:00:00-11:00\n"
	attrs, _, err := segment.LoadAttributes(strings.NewReader(file), x, segment.AttributeOptions{Dates: []string{"birthday"}, DateLayout: time.RFC3339})
	require.NoError(t, err)
	for _, c := range []string{"a", "b"} {
		id, _ := x.LookupCustomer(c)
		d, ok := attrs.Date("birthday", id)
		require.True(t, ok)
		assert.True(t, d.Equal(time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC)), "%s: %v, want the UTC day 2000-02-29", c, d)
	}
}

// advTZNextAnniversary is the documented days_to: whole days from the
// as-of UTC day to the next anniversary of (m, d), 0 on the day itself,
// 29 February on 1 March in common years.
func advTZNextAnniversary(asOfDay time.Time, m time.Month, d int) int {
	for y := asOfDay.Year(); ; y++ {
		am, ad := m, d
		if m == time.February && d == 29 && time.Date(y, 2, 29, 0, 0, 0, 0, time.UTC).Month() != time.February {
			am, ad = time.March, 1
		}
		a := time.Date(y, am, ad, 0, 0, 0, 0, time.UTC)
		if !a.Before(asOfDay) {
			return int(a.Sub(asOfDay) / (24 * time.Hour))
		}
	}
}

func TestAdvTZAttributesAnniversarySweep(t *testing.T) {
	ctx := context.Background()
	births := []struct {
		m time.Month
		d int
	}{{2, 28}, {2, 29}, {3, 1}, {12, 31}, {1, 1}}
	var lines []affinity.Purchase
	for i := range births {
		lines = append(lines, affinity.Purchase{Customer: fmt.Sprintf("b%d", i), Product: "p0", Order: fmt.Sprint(i), Time: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), Quantity: 1, Price: 10000})
	}
	h := advTZHistory(t, lines)
	var days []time.Time
	for _, start := range []time.Time{
		time.Date(2023, 2, 26, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 26, 0, 0, 0, 0, time.UTC),
		time.Date(2027, 12, 30, 0, 0, 0, 0, time.UTC),
		time.Date(2028, 2, 27, 0, 0, 0, 0, time.UTC),
	} {
		for k := range 5 {
			days = append(days, start.AddDate(0, 0, k))
		}
	}
	zones := advTZZones()
	for i, day := range days {
		// A time inside the UTC day, expressed in a zone where the local
		// date differs for some of them.
		asOf := day.Add(time.Duration(1+(i*7)%22) * time.Hour).In(zones[i%len(zones)])
		x, err := segment.Build(ctx, h, asOf, segment.Options{Lookback: affinity.AllTime, Workers: 1})
		require.NoError(t, err)
		var a segment.Attributes
		for j, b := range births {
			id, ok := x.LookupCustomer(fmt.Sprintf("b%d", j))
			require.True(t, ok)
			require.NoError(t, a.SetDate("birthday", id, time.Date(1996, b.m, b.d, 0, 0, 0, 0, time.UTC)))
		}
		xa, err := x.WithAttributes(&a)
		require.NoError(t, err)
		for j, b := range births {
			want := advTZNextAnniversary(day, b.m, b.d)
			set, err := xa.Query(fmt.Sprintf(`days_to("birthday") = %d`, want))
			require.NoError(t, err)
			assert.Contains(t, xa.SortedKeys(set), fmt.Sprintf("b%d", j), "as of %v (UTC day %s): days_to of %s-%02d should be %d", asOf, day.Format(time.DateOnly), b.m, b.d, want)
		}
	}
}

// TestAdvTZRetention: retention periods and their active windows of
// calendar months give the same sets for the same instants in any zone.
func TestAdvTZRetention(t *testing.T) {
	ctx := context.Background()
	lines := advTZWorld(59)
	h := advTZHistory(t, lines)
	orders := advTZOrders(lines)
	asOfs := advTZAsOfs()
	for _, name := range advTZSortedAsOfs() {
		end := asOfs[name]
		start := end.UTC().AddDate(0, -1, 0)
		var ref string
		for _, loc := range advTZZonesFor(name) {
			for _, months := range []int{1, 12} {
				p, err := clv.Retention(ctx, h, start.In(loc), end.In(loc), clv.RetentionOptions{ActiveMonths: months})
				require.NoError(t, err)
				assert.True(t, p.Start.Equal(start) && p.End.Equal(end))
				got := fmt.Sprintf("%d %.12g %v %v %v\n", months, p.Rate(), p.AtStart.ToArray(), p.AtEnd.ToArray(), p.New.ToArray())
				if loc == time.UTC {
					ref += got
					// Naive: at τ, a bought order in the months calendar
					// months (UTC) up to τ.
					for _, tc := range []struct {
						tau time.Time
						set *roaring.Bitmap
					}{{start, p.AtStart}, {end, p.AtEnd}} {
						want := roaring.New()
						for c, os := range orders {
							id, _ := h.LookupCustomer(c)
							for _, o := range os {
								if o.bought && o.t <= tc.tau.Unix() && o.t > testdata.MonthsBefore(tc.tau, months).Unix() {
									want.Add(uint32(id))
								}
							}
						}
						assert.Equal(t, want.ToArray(), tc.set.ToArray(), "%s: customers at %v, %d months", name, tc.tau, months)
					}
					continue
				}
				assert.Contains(t, ref, got, "%s in %v", name, loc)
			}
		}
	}
}

// TestAdvTZDatasetLayoutsDifferential: the default layouts of "csv" and
// "onlineretail" read a time as time.ParseInLocation with the first
// documented layout that accepts it (fractional seconds, one-digit hours,
// comma fractions, lowercase letters, odd offsets), and a time no layout
// accepts is a bad row.
func TestAdvTZDatasetLayoutsDifferential(t *testing.T) {
	formats := []struct {
		format  string
		layouts []string
		text    func(ts string) string
	}{
		{"csv", []string{time.RFC3339, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02"},
			func(ts string) string {
				return "customer,product,order,time,quantity,price\nc1,p1,o1,\"" + ts + "\",1,1.00\n"
			}},
		{"onlineretail", []string{"2006-01-02 15:04:05", "1/2/2006 15:04", "1/2/2006 15:04:05", "2006-01-02 15:04"},
			func(ts string) string {
				return "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n536365,85123A,MUG,1,\"" + ts + "\",2.55,17850,United Kingdom\n"
			}},
	}
	inputs := []string{
		"2024-02-29T10:00:00Z", "2024-02-29T10:00:00.5Z", "2024-02-29T10:00:00.999999999Z",
		"2024-02-29T10:00:00,5Z", "2024-02-29t10:00:00z", "2024-02-29T10:00:00z",
		"2024-02-29T10:00:00+13:45", "2024-02-29T10:00:00+1345", "2024-02-29T10:00:00-11:00",
		"2024-02-29 10:00:00.5", "2024-02-29 10:00:00,25", "2024-02-29 1:00:00", "2024-02-29 10:00",
		"2024-02-29T10:00:00", "2024-02-29T10:00:00.5", "2024-02-29", "2024-2-29 10:00:00",
		"2/29/2024 8:26", "02/29/2024 08:26", "2/29/2024 8:26:59", "2/29/2024 8:26:59.5", "12/31/2023 23:59",
		"2024-03-10 02:30:00", "2023-11-05 01:30", "1970-01-01 00:00:00", "1969-12-31 23:59:59",
		"2024-02-29T10:00:00+00:00", "2024-02-29T10:00:00-00:00", "2024-02-29T23:59:59.9999999999Z",
	}
	for _, f := range formats {
		for _, loc := range []*time.Location{time.UTC, advTZNewYork()} {
			if f.format == "onlineretail" && loc != time.UTC {
				continue // the Location path is checked on "csv" and in TestAdvTZDatasetLocation
			}
			for _, ts := range inputs {
				var want time.Time
				ok := false
				for _, l := range f.layouts {
					if tm, err := time.ParseInLocation(l, ts, loc); err == nil {
						want, ok = tm, true
						break
					}
				}
				// Times before 1970 are outside affinity.ValidTime.
				ok = ok && affinity.ValidTime(want)
				got, err := advTZLoad(t, f.text(ts), dataset.Options{Format: f.format, Location: loc})
				if !ok {
					assert.Error(t, err, "%s %q in %v: no documented layout accepts it, loaded as %q", f.format, ts, loc, got)
					continue
				}
				if assert.NoError(t, err, "%s %q in %v: time.ParseInLocation gives %v", f.format, ts, loc, want) {
					assert.Contains(t, got, fmt.Sprintf(" %d ", want.Unix()), "%s %q in %v: want %v", f.format, ts, loc, want.UTC())
				}
			}
		}
	}
}

// TestAdvTZUpdateMonthEndStartStays: a calendar-month look-back's start
// can stand still while the as-of time moves. One month before 2024-03-29,
// 03-30 and 03-31 is 29 February, the day clamped to February's last (as
// SQL's interval arithmetic has it; time.AddDate would roll over to 1 and
// 2 March, and the start would move back a day on 1 April); one month
// before 2024-04-01 is 1 March. An index updated by days across the month
// end must answer as a build of the later day.
func TestAdvTZUpdateMonthEndStartStays(t *testing.T) {
	ctx := context.Background()
	day := func(m time.Month, d, hh int) time.Time { return time.Date(2024, m, d, hh, 0, 0, 0, time.UTC) }
	lines := []affinity.Purchase{
		// In the windows of 29 to 31 March at 12:00, out of 1 April's.
		{Customer: "leap", Product: "p0", Order: "l1", Time: day(2, 29, 18), Quantity: 1, Price: 20000},
		{Customer: "mar1", Product: "p1", Order: "m1", Time: day(3, 1, 6), Quantity: 1, Price: 30000},
		// Out of every window.
		{Customer: "out", Product: "p0", Order: "o1", Time: day(2, 29, 6), Quantity: 1, Price: 20000},
		// In every window.
		{Customer: "in", Product: "p2", Order: "i1", Time: day(3, 20, 6), Quantity: 1, Price: 20000},
		{Customer: "in", Product: "p3", Order: "i2", Time: day(3, 28, 6), Quantity: 1, Price: 20000},
	}
	h := advTZHistory(t, lines)
	opts := segment.Options{Lookback: affinity.Months(1), Workers: 1}
	asOfs := []time.Time{day(3, 29, 12), day(3, 30, 12), day(3, 31, 12), day(4, 1, 12)}
	for _, a := range asOfs[1:3] {
		require.Equal(t, affinity.Months(1).Start(asOfs[0]), affinity.Months(1).Start(a), "one month before %v", a)
	}
	x, err := segment.Build(ctx, h, asOfs[0], opts)
	require.NoError(t, err)
	for _, asOf := range asOfs[1:] {
		full, err := segment.Build(ctx, h, asOf, opts)
		require.NoError(t, err)
		id, _ := full.LookupCustomer("leap")
		f, _ := full.Features(id)
		want := 0
		if asOf.Month() == time.March {
			want = 1
		}
		require.Equal(t, want, f.Frequency, "Build: the order of 29 February in the window as of %v", asOf)
		for _, loc := range advTZZones() {
			u, err := segment.Update(ctx, x, h, h, asOf.In(loc), segment.UpdateOptions{})
			require.NoError(t, err)
			assert.Equal(t, advTZSegmentAnswers(t, full), advTZSegmentAnswers(t, u), "update from %v to %v in %v", x.AsOf(), asOf, loc)
		}
		x = full
	}

	// The same through a shop without a fixed as-of time: a refresh with
	// an order of 1 April moves the index from the end of 31 March (its
	// window from the end of 29 February) to the end of 1 April (from the
	// end of 1 March): the order of 1 March leaves it.
	late := []affinity.Purchase{{Customer: "new", Product: "p1", Order: "n1", Time: day(4, 1, 9).In(advTZMinus1100), Quantity: 1, Price: 10000}}
	s, err := shop.Open(ctx, shop.Purchases(slices.Values(lines)), shop.Options{Model: "neighbours", Lookback: affinity.Months(1), Workers: 1})
	require.NoError(t, err)
	defer s.Close()
	p, err := s.Snapshot().Profile(ctx, "mar1")
	require.NoError(t, err)
	assert.Equal(t, 1, p.Orders, "orders of mar1 in the look-back before the refresh")
	require.NoError(t, s.Refresh(ctx, shop.Purchases(slices.Values(late))))
	fresh, err := shop.Open(ctx, shop.Purchases(slices.Values(append(slices.Clone(lines), late...))), shop.Options{Model: "neighbours", Lookback: affinity.Months(1), Workers: 1})
	require.NoError(t, err)
	defer fresh.Close()
	assert.Equal(t, advTZSegmentAnswers(t, fresh.Snapshot().Segments()), advTZSegmentAnswers(t, s.Snapshot().Segments()), "refreshed shop against a new one")
	p, err = s.Snapshot().Profile(ctx, "mar1")
	require.NoError(t, err)
	assert.Equal(t, 0, p.Orders, "orders of mar1 in the look-back after the refresh")
}

// TestAdvTZUpdateAcrossMonthEnds: updates by whole days across month
// ends, where calendar-month windows stretch and shrink, answer as builds.
func TestAdvTZUpdateAcrossMonthEnds(t *testing.T) {
	ctx := context.Background()
	lines := advTZWorld(61)
	h := advTZHistory(t, lines)
	zones := advTZZones()
	i := 0
	for _, start := range []time.Time{
		time.Date(2024, 1, 29, 18, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 27, 18, 0, 0, 0, time.UTC),
		time.Date(2023, 2, 27, 18, 0, 0, 0, time.UTC),
		time.Date(2024, 3, 29, 18, 0, 0, 0, time.UTC),
	} {
		for _, months := range []int{1, 12} {
			if months == 12 && start.Month() != time.February {
				continue
			}
			opts := segment.Options{Lookback: affinity.Months(months), Workers: 1}
			x0, err := segment.Build(ctx, h, start, opts)
			require.NoError(t, err)
			for _, k := range []int{1, 3, 32} {
				if k == 3 && start.Month() != time.March {
					continue
				}
				i++
				asOf := start.Add(time.Duration(k) * 24 * time.Hour)
				u, err := segment.Update(ctx, x0, h, h, asOf.In(zones[i%len(zones)]), segment.UpdateOptions{})
				require.NoError(t, err)
				full, err := segment.Build(ctx, h, asOf, opts)
				require.NoError(t, err)
				assert.Equal(t, advTZSegmentAnswers(t, full), advTZSegmentAnswers(t, u), "update from %v by %d days, %d months", start, k, months)
			}
		}
	}
}

// TestAdvTZEvents: views and carts at local and UTC midnights give the
// same viewed, carted and abandoned sets, and the same temporal split, for
// one instant in every zone; an abandoned cart is one not bought since.
func TestAdvTZEvents(t *testing.T) {
	ctx := context.Background()
	lines := advTZWorld(71)
	r := rand.New(rand.NewPCG(71, 2))
	edges := advTZEdgeTimes()
	var b affinity.Builder
	for _, p := range advTZProducts() {
		require.NoError(t, b.AddProduct(p))
	}
	for _, p := range lines {
		require.NoError(t, b.Add(p))
	}
	for range 120 {
		kind := affinity.View
		if r.IntN(2) == 0 {
			kind = affinity.Cart
		}
		tm := edges[r.IntN(len(edges))].Add(time.Duration(r.IntN(3)-1) * time.Second)
		require.NoError(t, b.AddEvent(affinity.Event{Customer: fmt.Sprintf("c%02d", r.IntN(20)), Product: fmt.Sprintf("p%d", r.IntN(8)), Time: tm.In(advTZPlus1345), Kind: kind, Weight: 1}))
	}
	h, err := b.Build(ctx)
	require.NoError(t, err)
	queries := []string{
		`viewed("p1" within 1d)`, `viewed("Home" within 29d)`, `carted("p2" within 2d)`, `carted("Apparel")`,
		"abandoned()", "abandoned(1d)", "abandoned(within 30d)", `carted("p3" within 7d) and not bought("p3" within 7d)`,
	}
	asOfs := advTZAsOfs()
	for _, name := range advTZSortedAsOfs() {
		asOf := asOfs[name]
		var ref string
		for _, loc := range advTZZonesFor(name) {
			x, err := segment.Build(ctx, h, asOf.In(loc), segment.Options{Lookback: affinity.Months(1), Workers: 1})
			require.NoError(t, err)
			var sb strings.Builder
			for _, q := range queries {
				set, err := x.Query(q)
				if err != nil {
					fmt.Fprintf(&sb, "%s: error %v\n", q, err)
					continue
				}
				fmt.Fprintf(&sb, "%s: %v\n", q, x.SortedKeys(set))
			}
			for _, f := range x.FeaturesOf(x.All()) {
				fmt.Fprintf(&sb, "%s %d\n", f.Customer, f.AbandonedCartDays)
			}
			sp, err := evaluate.TemporalSplit(ctx, h, asOf.In(loc))
			require.NoError(t, err)
			n := 0
			for e := range sp.Train.Events() {
				assert.True(t, e.Time.Before(asOf), "train event at %v", e.Time)
				n++
			}
			for e := range sp.Test.Events() {
				assert.False(t, e.Time.Before(asOf), "test event at %v", e.Time)
				n++
			}
			fmt.Fprintf(&sb, "events %d\n", n)
			if loc == time.UTC {
				ref = sb.String()
				continue
			}
			assert.Equal(t, ref, sb.String(), "%s in %v", name, loc)
		}
	}
}

// TestAdvTZSmallContracts: documented one-liners at zone edges.
func TestAdvTZSmallContracts(t *testing.T) {
	ctx := context.Background()
	asOf := advTZAsOfs()["leapday-local-march"]

	// Lookback.Start is in UTC and follows the UTC calendar; Contains
	// agrees with it whatever the zones of its arguments.
	for _, loc := range advTZZones() {
		st := affinity.Months(1).Start(asOf.In(loc))
		assert.Equal(t, time.UTC, st.Location(), "Start in UTC")
		assert.True(t, st.Equal(time.Date(2024, 1, 29, 15, 15, 0, 0, time.UTC)), "Start %v", st)
		assert.False(t, affinity.Months(1).Contains(asOf.In(loc), st.In(advTZMinus1100)), "the start is outside (Start, asOf]")
		assert.True(t, affinity.Months(1).Contains(asOf.In(loc), st.Add(time.Nanosecond).In(advTZPlus1345)))
		assert.True(t, affinity.Months(1).Contains(asOf.In(loc), asOf.In(advTZNewYork())), "asOf itself is inside")
		assert.False(t, affinity.Months(1).Contains(asOf.In(loc), asOf.Add(time.Nanosecond)), "after asOf")
	}

	// A holdout end equal to the as-of time (in another zone) is not
	// after it: no holdout.
	h := advTZHistory(t, advTZWorld(67))
	s, err := clv.Summarize(ctx, h, asOf, clv.SummaryOptions{HoldoutEnd: asOf.In(advTZPlus1345)})
	require.NoError(t, err)
	assert.Nil(t, s.Holdout, "HoldoutEnd equal to asOf is not after it")
	assert.Zero(t, s.HoldoutLength)

	// DefaultCutoff: nine orders of the UTC day 2024-02-29, placed on
	// three local days, and one the next UTC day: no order before the
	// quantile's day, one after it, so the cutoff is 00:00 UTC on 1 March.
	var lines []affinity.Purchase
	for i := range 9 {
		tm := time.Date(2024, 2, 29, 1+2*i, 30, 0, 0, time.UTC).In(advTZZones()[i%4])
		lines = append(lines, affinity.Purchase{Customer: fmt.Sprintf("c%d", i), Product: "p0", Order: fmt.Sprint(i), Time: tm, Quantity: 1, Price: 10000})
	}
	lines = append(lines, affinity.Purchase{Customer: "c9", Product: "p0", Order: "9", Time: time.Date(2024, 2, 29, 23, 30, 0, 0, advTZMinus1100), Quantity: 1, Price: 10000})
	cut := evaluate.DefaultCutoff(advTZHistory(t, lines))
	assert.True(t, cut.Equal(time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)), "DefaultCutoff %v", cut)
}

// TestAdvTZMeasurePeriodEdges: Measure counts orders in (from, to]: one at
// from is out, one at to is in, whatever the zones of from and to.
func TestAdvTZMeasurePeriodEdges(t *testing.T) {
	ctx := context.Background()
	from := time.Date(2024, 3, 1, 0, 0, 0, 0, advTZPlus1345) // 2024-02-29 10:15 UTC
	to := from.AddDate(0, 0, 14)
	var lines []affinity.Purchase
	var msgs []campaign.Message
	for i := range 8 {
		c := fmt.Sprintf("c%d", i)
		var tm time.Time
		switch i % 4 {
		case 0:
			tm = from // out
		case 1:
			tm = from.Add(time.Second) // in
		case 2:
			tm = to // in
		case 3:
			tm = to.Add(time.Second) // out
		}
		lines = append(lines, affinity.Purchase{Customer: c, Product: "p0", Order: c + "-x", Time: tm.In(advTZMinus1100), Quantity: 1, Price: 10000})
		msgs = append(msgs, campaign.Message{Campaign: "m", Customer: c, Time: from, Control: i >= 4})
	}
	h := advTZHistory(t, lines)
	for _, loc := range advTZZones() {
		res, err := campaign.Measure(ctx, h, msgs, from.In(loc), to.In(loc), campaign.MeasureOptions{})
		require.NoError(t, err)
		require.Len(t, res, 1)
		assert.Equal(t, 2, res[0].Treated.Converted, "%v: treated converted in (from, to]", loc)
		assert.Equal(t, 2, res[0].Control.Converted, "%v: control converted in (from, to]", loc)
	}
}

// TestAdvTZActiveDayCutAtAsOf: the daily activity of the as-of day holds
// the orders at or before asOf only, and the as-of day is its UTC day.
func TestAdvTZActiveDayCutAtAsOf(t *testing.T) {
	ctx := context.Background()
	lines := []affinity.Purchase{
		{Customer: "early", Product: "p0", Order: "1", Time: time.Date(2024, 2, 29, 10, 0, 0, 0, time.UTC), Quantity: 1, Price: 10000},
		{Customer: "atasof", Product: "p0", Order: "2", Time: time.Date(2024, 2, 29, 15, 15, 0, 0, time.UTC), Quantity: 1, Price: 10000},
		{Customer: "late", Product: "p0", Order: "3", Time: time.Date(2024, 2, 29, 20, 0, 0, 0, time.UTC), Quantity: 1, Price: 10000},
	}
	h := advTZHistory(t, lines)
	asOf := advTZAsOfs()["leapday-local-march"] // 2024-02-29 15:15 UTC
	for _, loc := range advTZZones() {
		x, err := segment.Build(ctx, h, asOf.In(loc), segment.Options{Workers: 1})
		require.NoError(t, err)
		set, err := x.Query(`active between "2024-02-29" and "2024-02-29"`)
		require.NoError(t, err)
		assert.Equal(t, []string{"atasof", "early"}, x.SortedKeys(set), "%v", loc)
		set, err = x.Query(`recency = 0`)
		require.NoError(t, err)
		assert.Equal(t, []string{"atasof", "early"}, x.SortedKeys(set), "%v", loc)
		assert.Equal(t, 2, x.Len(), "%v: customers known by asOf", loc)
	}
}

// TestAdvTZCampaignOtherTime: a plan time that is not the snapshot's
// instant (a nanosecond off, or the end of the day of a shop without a
// fixed as-of time) is an error, not a plan counted from another time.
func TestAdvTZCampaignOtherTime(t *testing.T) {
	ctx := context.Background()
	lines := advTZWorld(11)
	asOf := advTZAsOfs()["leapday-local-march"]
	snap := advTZOpen(t, lines, asOf.In(advTZPlus1345)).Snapshot()
	for _, d := range []time.Duration{time.Nanosecond, -time.Nanosecond, time.Hour, 24 * time.Hour} {
		_, err := campaign.Build(ctx, snap, asOf.Add(d).In(advTZMinus1100), []campaign.Campaign{campaign.Coupon()}, campaign.Options{})
		assert.Error(t, err, "plan %v off the snapshot's time", d)
	}
	snap = advTZOpen(t, lines, time.Time{}).Snapshot()
	_, err := campaign.Build(ctx, snap, snap.AsOf().In(advTZPlus1345), []campaign.Campaign{campaign.Coupon()}, campaign.Options{})
	assert.NoError(t, err, "the snapshot's time in another zone")
	_, err = campaign.Build(ctx, snap, snap.Segments().AsOf(), []campaign.Campaign{campaign.Coupon()}, campaign.Options{})
	assert.Error(t, err, "the segment index's end of day is not the snapshot's time")
}
