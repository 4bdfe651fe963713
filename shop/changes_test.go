package shop_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/shop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// orderFeed turns a storefront's purchases into one put per order, in a
// shuffled order, with versions.
func orderFeed(sf *dataset.Storefront, seed uint64) []affinity.OrderChange {
	byOrder := map[string][]affinity.Purchase{}
	var keys []string
	for _, p := range sf.Purchases {
		if _, ok := byOrder[p.Order]; !ok {
			keys = append(keys, p.Order)
		}
		byOrder[p.Order] = append(byOrder[p.Order], p)
	}
	feed := make([]affinity.OrderChange, len(keys))
	for i, k := range keys {
		feed[i] = affinity.OrderChange{Key: k, Version: 1, Lines: byOrder[k]}
	}
	rand.New(rand.NewPCG(seed, 1)).Shuffle(len(feed), func(i, j int) { feed[i], feed[j] = feed[j], feed[i] })
	return feed
}

// snapshotView is what a snapshot answers, by shop keys (dense ids follow
// the order in which customers first arrive, which a shuffled feed
// changes): every purchase, every customer's features and every
// product's neighbours.
func snapshotView(t *testing.T, snap *shop.Snapshot) []string {
	t.Helper()
	h := snap.History()
	var out []string
	for p := range h.Purchases() {
		out = append(out, fmt.Sprintf("line %s %s %s %v %d %v", p.Customer, p.Order, p.Product, p.Time.Unix(), p.Quantity, p.Price))
	}
	for _, f := range snap.Segments().FeaturesOf(snap.Segments().All()) {
		out = append(out, fmt.Sprintf("features %+v", f))
	}
	cat := h.Catalog()
	for p := range affinity.ProductID(cat.NumProducts()) {
		var nb []string
		for _, n := range snap.Neighbors().Neighbors(p) {
			nb = append(nb, fmt.Sprintf("%s:%.12g", cat.ProductKey(n.Product), n.Score))
		}
		out = append(out, fmt.Sprintf("neighbours %s %v", cat.ProductKey(p), nb))
	}
	slices.Sort(out)
	return out
}

// TestChangesIdempotent: replaying a feed twice, or in another order, or
// with an edit sent before the original, gives the same snapshot as one
// clean load.
func TestChangesIdempotent(t *testing.T) {
	ctx := context.Background()
	sf := small(21)
	sf.Events = nil
	feed := orderFeed(sf, 1)
	asOf := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	opts := shop.Options{AsOf: asOf}
	products := shop.Storefront(&dataset.Storefront{Products: sf.Products})

	clean, err := shop.Open(ctx, products, opts)
	require.NoError(t, err)
	require.NoError(t, clean.Refresh(ctx, shop.Changes(slices.Values(feed))))
	want := snapshotView(t, clean.Snapshot())

	twice, err := shop.Open(ctx, products, opts)
	require.NoError(t, err)
	half := len(feed) / 2
	require.NoError(t, twice.Refresh(ctx, shop.Changes(slices.Values(feed[:half]))))
	require.NoError(t, twice.Refresh(ctx, shop.Changes(slices.Values(feed))))             // replays the first half
	require.NoError(t, twice.Refresh(ctx, shop.Changes(slices.Values(orderFeed(sf, 2))))) // the whole feed again, shuffled
	assert.Equal(t, want, snapshotView(t, twice.Snapshot()), "replayed feed, same snapshot")

	// An edit (one line fewer) with a higher version, then a stale
	// re-delivery of the original: the edit stands, and the total is the
	// edited one, not the sum.
	var big affinity.OrderChange
	for _, c := range feed {
		if len(c.Lines) >= 2 {
			big = c
			break
		}
	}
	require.NotEmpty(t, big.Key)
	edit := affinity.OrderChange{Key: big.Key, Version: 2, Lines: big.Lines[1:]}
	require.NoError(t, twice.Refresh(ctx, shop.Changes(slices.Values([]affinity.OrderChange{edit, big}))))
	h := twice.Snapshot().History()
	assert.Equal(t, clean.Snapshot().History().NumLines()-1, h.NumLines(), "the edit replaced the order")

	// Deleting it removes its lines.
	del := affinity.OrderChange{Key: big.Key, Version: 3, Delete: true}
	require.NoError(t, twice.Refresh(ctx, shop.Changes(slices.Values([]affinity.OrderChange{del}))))
	assert.Equal(t, clean.Snapshot().History().NumLines()-len(big.Lines), twice.Snapshot().History().NumLines())
}

func TestEraseCustomer(t *testing.T) {
	ctx := context.Background()
	s, err := shop.Open(ctx, shop.Storefront(small(22)), shop.Options{})
	require.NoError(t, err)
	h := s.Snapshot().History()
	key := buyer(t, h)
	before := h.NumLines()
	c, _ := h.LookupCustomer(key)
	lo, hi := h.CustomerLines(c)
	require.NoError(t, s.Refresh(ctx, shop.Erase(key, "nobody")))
	after := s.Snapshot()
	_, known := after.History().LookupCustomer(key)
	assert.False(t, known, "the erased customer's key is gone")
	assert.Equal(t, before-(hi-lo), after.History().NumLines(), "and so are the lines")
	res, err := after.Recommend(ctx, shop.Request{Customer: key, K: 3})
	require.NoError(t, err)
	assert.True(t, res.ColdStart)
	var csv bytes.Buffer
	aud, err := after.Segment("frequency >= 1")
	require.NoError(t, err)
	require.NoError(t, aud.WriteCSV(&csv, shop.ByKey))
	assert.NotContains(t, csv.String(), key+",")
}

func TestRefreshWithoutChangeKeepsSnapshot(t *testing.T) {
	ctx := context.Background()
	s, err := shop.Open(ctx, shop.Storefront(small(23)), shop.Options{})
	require.NoError(t, err)
	before := s.Snapshot()
	require.NoError(t, s.Refresh(ctx, shop.Changes(slices.Values([]affinity.OrderChange(nil)))))
	require.NoError(t, s.Refresh(ctx, shop.Purchases(slices.Values([]affinity.Purchase(nil)))))
	assert.Same(t, before, s.Snapshot())
}

// BenchmarkRefreshNoChange measures a refresh that finds nothing new.
func BenchmarkRefreshNoChange(b *testing.B) {
	ctx := context.Background()
	s, err := shop.Open(ctx, shop.Demo(), shop.Options{})
	if err != nil {
		b.Fatal(err)
	}
	empty := shop.Changes(slices.Values([]affinity.OrderChange(nil)))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Refresh(ctx, empty); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRefreshDemo measures a refresh of the demo shop with 100 new
// orders: today a rebuild of every index.
func BenchmarkRefreshDemo(b *testing.B) {
	ctx := context.Background()
	s, err := shop.Open(ctx, shop.Demo(), shop.Options{})
	if err != nil {
		b.Fatal(err)
	}
	h := s.Snapshot().History()
	t0 := h.Latest()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		var feed []affinity.OrderChange
		for j := range 100 {
			c := affinity.CustomerID((i*100 + j) % h.NumCustomers())
			p := h.Catalog().ProductKey(affinity.ProductID(j % h.Catalog().NumProducts()))
			feed = append(feed, affinity.OrderChange{Key: fmt.Sprintf("bench-%d-%d", i, j), Lines: []affinity.Purchase{
				{Customer: h.CustomerKey(c), Product: p, Time: t0.Add(time.Duration(i*100+j) * time.Second), Quantity: 1, Price: 10_000}}})
		}
		if err := s.Refresh(ctx, shop.Changes(slices.Values(feed))); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// testDB opens the test database (AFFINITY_TEST_POSTGRES; the test skips
// without it), closed when the test ends.
func testDB(t *testing.T) *sql.DB {
	t.Helper()
	url := os.Getenv("AFFINITY_TEST_POSTGRES")
	if url == "" {
		t.Skip("no PostgreSQL: set AFFINITY_TEST_POSTGRES=postgres://user:password@127.0.0.1:5432/dbname to run (.ci/run starts one)")
	}
	db, err := sql.Open("pgx", url)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// feedDB opens the test database (AFFINITY_TEST_POSTGRES; the test
// skips without it) and creates orders and order_lines tables in a schema
// of their own, dropped when the test ends.
func feedDB(t *testing.T) (*sql.DB, string) {
	t.Helper()
	db := testDB(t)
	schema := fmt.Sprintf("shop_feed_%d_%d", os.Getpid(), rand.Uint32())
	_, err := db.ExecContext(context.Background(), fmt.Sprintf(`CREATE SCHEMA %[1]s;
CREATE TABLE %[1]s.orders (id bigint PRIMARY KEY, customer_id text, created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL, status text NOT NULL DEFAULT 'paid');
CREATE TABLE %[1]s.order_lines (order_id bigint NOT NULL REFERENCES %[1]s.orders(id), sku text,
  quantity integer NOT NULL, price numeric(14,4) NOT NULL)`, schema))
	require.NoError(t, err)
	t.Cleanup(func() { db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	return db, schema
}

// TestSQLLookbackStart: the look-back of a shop's windows starts where
// PostgreSQL's timestamptz - interval 'N months' (in a UTC session) puts
// it, on every day of 2023 to 2025, at three times of day, 0 to 30 months
// back: a day the target month lacks becomes its last day, as the
// answers of SQL over an orders table have it.
func TestSQLLookbackStart(t *testing.T) {
	ctx := context.Background()
	conn, err := testDB(t).Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(ctx, "SET TIME ZONE 'UTC'")
	require.NoError(t, err)
	rows, err := conn.QueryContext(ctx, `SELECT d + tod, n, d + tod - make_interval(months => n)
FROM generate_series(timestamptz '2023-01-01 00:00:00+00', timestamptz '2025-12-31 00:00:00+00', interval '1 day') AS d,
  (VALUES (interval '0'), (interval '13:45:30.5'), (interval '23:59:59.999999')) AS c(tod),
  generate_series(0, 30) AS n`)
	require.NoError(t, err)
	defer rows.Close()
	count, monthEnds := 0, 0
	for rows.Next() {
		var asOf, want time.Time
		var n int
		require.NoError(t, rows.Scan(&asOf, &n, &want))
		if got := affinity.Months(n).Start(asOf); !got.Equal(want) {
			t.Fatalf("%d months before %v: Lookback.Start %v, PostgreSQL %v", n, asOf.UTC(), got, want.UTC())
		}
		if want.Day() < asOf.UTC().Day() {
			monthEnds++
		}
		count++
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, 1096*3*31, count)
	assert.Positive(t, monthEnds, "days the target month lacks")
}

// TestSQLFeed polls PostgreSQL through the front door: an order inserted
// and a cancellation show up after the next refresh.
func TestSQLFeed(t *testing.T) {
	db, schema := feedDB(t)
	ctx := context.Background()
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	insert := func(id int, cust string, at time.Time, status string, skus ...string) {
		_, err := db.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s.orders VALUES ($1, $2, $3, $3, $4)
ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, updated_at = EXCLUDED.updated_at`, schema), id, cust, at, status)
		require.NoError(t, err)
		for _, sku := range skus {
			_, err := db.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s.order_lines VALUES ($1, $2, 1, 9.5)`, schema), id, sku)
			require.NoError(t, err)
		}
	}
	for i := range 30 {
		insert(i+1, fmt.Sprintf("c%d", i%6), t0.Add(time.Duration(i)*time.Hour), "paid", "tea", fmt.Sprintf("mug-%d", i%3))
	}
	query := fmt.Sprintf(`SELECT o.id AS order_id, o.customer_id, o.created_at, o.updated_at, o.status,
  l.sku AS product_id, l.quantity, l.price
FROM %[1]s.orders o JOIN %[1]s.order_lines l ON l.order_id = o.id WHERE o.updated_at >= $1`, schema)
	feed := shop.SQL(&dataset.SQLSource{DB: db, Query: query, Cancelled: []string{"cancelled"}}, time.Time{})
	s, err := shop.Open(ctx, feed, shop.Options{})
	require.NoError(t, err)
	assert.Equal(t, 60, s.Snapshot().History().NumLines())

	before := s.Snapshot()
	require.NoError(t, s.Refresh(ctx, feed)) // rows at the cursor are read again: nothing changes
	assert.Same(t, before, s.Snapshot(), "a poll that reads its latest rows again builds nothing")

	insert(100, "newcomer", t0.Add(40*time.Hour), "paid", "tea", "cake")
	insert(1, "c0", t0.Add(41*time.Hour), "cancelled")
	require.NoError(t, s.Refresh(ctx, feed))
	h := s.Snapshot().History()
	assert.Equal(t, 60+2-2, h.NumLines(), "one order of two lines in, one of two lines cancelled")
	res, err := s.Snapshot().Recommend(ctx, shop.Request{Customer: "newcomer", K: 2})
	require.NoError(t, err)
	assert.True(t, res.Known, "the new customer is known after the refresh")
}

// A put that would take the gross value beyond MaxMoney fails the
// refresh at the change, by position and key, not at Build.
func TestChangesRefusesPutBeyondMaxMoney(t *testing.T) {
	ctx := context.Background()
	s, err := shop.Open(ctx, shop.Storefront(small(24)), shop.Options{})
	require.NoError(t, err)
	before := s.Snapshot()
	at := before.History().OrderTime(0)
	put := func(key string, price affinity.Money) affinity.OrderChange {
		return affinity.OrderChange{Key: key, Version: 1, Lines: []affinity.Purchase{{Customer: "whale", Product: "p", Time: at, Quantity: 1, Price: price}}}
	}
	feed := []affinity.OrderChange{put("fits", 100), put("too-much", affinity.MaxMoney), put("after", 100)}
	err = s.Refresh(ctx, shop.Changes(slices.Values(feed)))
	require.ErrorIs(t, err, affinity.ErrMoneyRange)
	assert.Contains(t, err.Error(), `change 2 (order "too-much")`)
	assert.Same(t, before, s.Snapshot())
}
