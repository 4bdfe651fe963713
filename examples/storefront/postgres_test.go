package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/shop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPostgres runs the service on orders in PostgreSQL: the demo shop's
// orders are loaded into a fresh schema, the service opens on them, and an
// order inserted afterwards and a cancellation both show up after the next
// poll; a line the lenient poll skips (quantity 0) is a warning in the log.
func TestPostgres(t *testing.T) {
	db, url, schema, query := pgSchema(t, "storefront")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// The demo shop's orders, in batches of multi-row inserts.
	demo := dataset.Demo()
	type order struct {
		cust string
		at   time.Time
	}
	orders := map[string]order{}
	var keys []string
	for _, p := range demo.Purchases {
		if _, ok := orders[p.Order]; !ok {
			keys = append(keys, p.Order)
			orders[p.Order] = order{p.Customer, p.Time}
		}
	}
	insertBatches(t, db, fmt.Sprintf("INSERT INTO %s.orders (id, customer_id, created_at, updated_at) VALUES ", schema), len(keys), 4,
		func(i int) []any { o := orders[keys[i]]; return []any{keys[i], o.cust, o.at, o.at} })
	insertBatches(t, db, fmt.Sprintf("INSERT INTO %s.order_lines VALUES ", schema), len(demo.Purchases), 4,
		func(i int) []any {
			p := demo.Purchases[i]
			return []any{p.Order, p.Product, p.Quantity, p.Price.String()}
		})

	src, feed, closeDB, err := source(config{ordersDB: url, ordersQuery: query})
	require.NoError(t, err)
	defer closeDB()
	var logged lockedBuffer
	log := slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := shop.Open(ctx, src, shopOptions(log))
	require.NoError(t, err)
	h := s.Snapshot().History()
	assert.Equal(t, len(demo.Purchases), h.NumLines(), "every demo line came through PostgreSQL")
	assert.NotContains(t, logged.String(), "rows skipped", "the demo's rows all load")
	srv := newServer(s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ts := httptest.NewServer(srv)
	defer ts.Close()
	const every = 300 * time.Millisecond
	go srv.poll(ctx, feed, every, time.Minute)

	// A new customer's first order, and the cancellation of an old order.
	last := h.Latest()
	cancelled := keys[0]
	cancelledLines := 0
	for _, p := range demo.Purchases {
		if p.Order == cancelled {
			cancelledLines++
		}
	}
	// In one transaction: the poller runs every 300 ms on its own, and a
	// poll between two of the statements took in the new order without
	// the cancellation (or the order without its lines), so the line count
	// below failed whenever the new customer showed up first.
	t0 := time.Now()
	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	_, err = tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s.orders VALUES ('web-1', 'newbie', $1, $1, 'paid')`, schema), last.Add(time.Hour))
	require.NoError(t, err)
	_, err = tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s.order_lines VALUES ('web-1', 'p00746', 1, 19.90), ('web-1', 'p00966', 2, 4.50), ('web-1', 'p00001', 0, 1.00)`, schema))
	require.NoError(t, err)
	_, err = tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %s.orders SET status = 'cancelled', updated_at = $2 WHERE id = $1`, schema), cancelled, last.Add(time.Hour))
	require.NoError(t, err)
	require.NoError(t, tx.Commit())

	var res shop.Result
	deadline := time.Now().Add(every + 5*time.Second)
	for {
		require.Equal(t, 200, call(t, "GET", ts.URL+"/api/customers/newbie/recommendations?k=3", "", &res))
		if res.Known || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	visible := time.Since(t0)
	require.True(t, res.Known, "the new order is visible after a poll")
	assert.False(t, res.ColdStart)
	assert.LessOrEqual(t, visible, every+time.Second, "from INSERT to changed recommendations within the refresh interval + 1 s")
	t.Logf("INSERT to visible: %v (refresh every %v)", visible.Round(time.Millisecond), every)
	h = s.Snapshot().History()
	assert.Equal(t, len(demo.Purchases)+2-cancelledLines, h.NumLines(), "the cancelled order's lines are gone")
	// the poll's load was reported before its snapshot was served
	// a cancellation and a line set to quantity 0 are what happened to
	// orders, not faults: logged at debug level, with their reasons
	assert.Contains(t, logged.String(), `level=DEBUG msg="rows skipped"`)
	assert.Contains(t, logged.String(), "skipped_by.removed_line.count=1", "the skipped line's reason is in the log")
	assert.Contains(t, logged.String(), "skipped_by.cancelled_order.count=", "the cancelled order's rows are in the log")
	assert.NotContains(t, logged.String(), `level=WARN msg="rows skipped"`)
}

// pgSchema opens the database of $AFFINITY_TEST_POSTGRES (or skips the
// test) and creates a schema of its own, named from prefix, with the
// orders and order_lines tables of the README, dropped when the test ends.
// It returns the database, its URL, the schema and defaultQuery on the
// schema's tables.
func pgSchema(t *testing.T, prefix string) (db *sql.DB, url, schema, query string) {
	t.Helper()
	url = os.Getenv("AFFINITY_TEST_POSTGRES")
	if url == "" {
		t.Skip("no PostgreSQL: set AFFINITY_TEST_POSTGRES=postgres://user:password@127.0.0.1:5432/dbname to run (.ci/run starts one)")
	}
	db, err := sql.Open("pgx", url)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	schema = fmt.Sprintf("%s_%d_%d", prefix, os.Getpid(), rand.Uint32())
	_, err = db.Exec(fmt.Sprintf(`CREATE SCHEMA %[1]s;
CREATE TABLE %[1]s.orders (id text PRIMARY KEY, customer_id text, created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL, status text NOT NULL DEFAULT 'paid');
CREATE TABLE %[1]s.order_lines (order_id text NOT NULL REFERENCES %[1]s.orders(id), sku text NOT NULL,
  quantity integer NOT NULL, price numeric(14,4) NOT NULL)`, schema))
	require.NoError(t, err)
	t.Cleanup(func() { db.Exec("DROP SCHEMA " + schema + " CASCADE") }) // before Close
	query = strings.ReplaceAll(strings.ReplaceAll(defaultQuery, "FROM orders", "FROM "+schema+".orders"), "JOIN order_lines", "JOIN "+schema+".order_lines")
	return db, url, schema, query
}

// lockedBuffer is a strings.Builder safe for concurrent use: a log that
// a goroutine (the poller's, a child process's copier) writes while the
// test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// insertBatches inserts n rows of the given width with multi-row INSERTs.
func insertBatches(t *testing.T, db *sql.DB, prefix string, n, width int, row func(i int) []any) {
	t.Helper()
	const batch = 1000
	for lo := 0; lo < n; lo += batch {
		hi := min(n, lo+batch)
		var b strings.Builder
		b.WriteString(prefix)
		args := make([]any, 0, (hi-lo)*width)
		for i := lo; i < hi; i++ {
			if i > lo {
				b.WriteString(", ")
			}
			b.WriteString("(")
			for j := range width {
				if j > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "$%d", len(args)+j+1)
			}
			b.WriteString(")")
			args = append(args, row(i)...)
		}
		_, err := db.Exec(b.String(), args...)
		require.NoError(t, err)
	}
}

// TestPostgresWithoutCatalog: with -orders-db and no -catalog the service
// put the demo shop's catalog beside the database's orders, so a real
// shop held a thousand products it does not sell: they padded its
// recommendations, /api/products/{id}/together answered for them instead
// of a 404, and a product whose key happened to be a demo key ("p00007")
// took the demo's name, category and price. The shop knows the products
// its orders name, and nothing of them but their keys.
func TestPostgresWithoutCatalog(t *testing.T) {
	db, url, schema, query := pgSchema(t, "nocatalog")
	ctx := context.Background()
	_, err := db.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %[1]s.orders VALUES ('o1','ann','2025-03-01T10:00:00Z','2025-03-01T10:00:00Z','paid'),
  ('o2','bob','2025-03-02T10:00:00Z','2025-03-02T10:00:00Z','paid'), ('o3','cat','2025-03-03T10:00:00Z','2025-03-03T10:00:00Z','paid');
INSERT INTO %[1]s.order_lines VALUES ('o1','sku-1',1,10),('o1','sku-2',1,20),('o2','sku-1',1,10),('o2','p00007',1,99),('o3','sku-2',1,20),('o3','sku-3',2,5)`, schema))
	require.NoError(t, err)
	c, err := parseFlags([]string{"-orders-db", url, "-orders-query", query})
	require.NoError(t, err)
	src, _, closeDB, err := source(c)
	require.NoError(t, err)
	defer closeDB()
	s, err := shop.Open(ctx, src, shop.Options{Model: "neighbours"})
	require.NoError(t, err)
	defer s.Close()
	h := newServer(s, slog.New(slog.NewTextHandler(io.Discard, nil)))

	cat := s.Snapshot().History().Catalog()
	assert.Equal(t, 4, cat.NumProducts(), "the shop sells the 4 products its orders name")
	var res shop.Result
	rec := serve(h, "GET", "/api/customers/ann/recommendations?k=5", "")
	require.Equal(t, 200, rec.Code)
	checkJSON(t, rec, &res)
	for _, r := range res.Recs {
		assert.Contains(t, []string{"sku-1", "sku-2", "sku-3", "p00007"}, r.Product, "a product the shop does not sell: %s %q", r.Product, r.Name)
	}
	checkError(t, serve(h, "GET", "/api/products/p00746/together", ""), 404)
	p, _ := cat.LookupProduct("p00007")
	assert.Empty(t, cat.ProductName(p), "the shop's p00007 has no name in its own data, got the demo's %q", cat.ProductName(p))
}

// TestFaultySkips: only a skip for a fault in a row makes the load's log
// line a warning; the bookkeeping of a poll (cancelled orders, removed
// lines, orders without lines, rows read twice) does not.
func TestFaultySkips(t *testing.T) {
	skip := func(reasons ...string) dataset.Report {
		var rep dataset.Report
		for i, r := range reasons {
			rep.Skipped = append(rep.Skipped, dataset.Skip{Reason: r, Count: 1, FirstLine: i + 2})
		}
		return rep
	}
	assert.False(t, faulty(skip()))
	assert.False(t, faulty(skip("cancelled order", "removed line", "no line", "duplicate row")))
	assert.True(t, faulty(skip("invalid price")))
	assert.True(t, faulty(skip("cancelled order", "invalid time")))
}
