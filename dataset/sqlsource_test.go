package dataset_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the driver, in tests only
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// postgresEnv names the variable holding the URL of a PostgreSQL database
// the tests may create tables in.
const postgresEnv = "AFFINITY_TEST_POSTGRES"

// openPostgres opens the test database and creates fresh orders and
// order_lines tables in a schema of their own; it skips the test when no
// database is configured.
func openPostgres(t testing.TB) (*sql.DB, string) {
	t.Helper()
	url := os.Getenv(postgresEnv)
	if url == "" {
		t.Skipf("no PostgreSQL: set %s=postgres://user:password@127.0.0.1:5432/dbname to run (.ci/run starts one)", postgresEnv)
	}
	db, err := sql.Open("pgx", url)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	schema := fmt.Sprintf("affinity_test_%d_%d", os.Getpid(), rand.Uint32())
	ctx := context.Background()
	_, err = db.ExecContext(ctx, fmt.Sprintf(`CREATE SCHEMA %[1]s;
CREATE TABLE %[1]s.orders (id bigint PRIMARY KEY, customer_id text, created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL, status text NOT NULL DEFAULT 'paid');
CREATE TABLE %[1]s.order_lines (order_id bigint NOT NULL REFERENCES %[1]s.orders(id), sku text,
  quantity integer NOT NULL, price numeric(14,4) NOT NULL)`, schema))
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	return db, schema
}

func ordersQuery(schema, cursor string) string {
	return fmt.Sprintf(`SELECT o.id AS order_id, o.customer_id, o.created_at, o.updated_at, o.status,
  l.sku AS product_id, l.quantity, l.price
FROM %[1]s.orders o JOIN %[1]s.order_lines l ON l.order_id = o.id
WHERE o.%[2]s >= $1`, schema, cursor)
}

func exec(t testing.TB, db *sql.DB, q string, args ...any) {
	t.Helper()
	_, err := db.ExecContext(context.Background(), q, args...)
	require.NoError(t, err, q)
}

// applyBatch applies a poll's changes onto base and builds.
func applyBatch(t testing.TB, base *affinity.History, batch dataset.SQLBatch) *affinity.History {
	t.Helper()
	b := affinity.NewBuilder(base)
	for _, c := range batch.Changes {
		require.NoError(t, b.Apply(c))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	return h
}

// ordersOnly is dump without the catalog.
func ordersOnly(h *affinity.History) []string {
	lines := strings.Split(dump(h), "\n")
	lines = slices.DeleteFunc(lines, func(s string) bool { return !strings.HasPrefix(s, "order ") })
	slices.Sort(lines)
	return lines
}

func TestSQLSource(t *testing.T) {
	db, schema := openPostgres(t)
	ctx := context.Background()
	t0 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	exec(t, db, "INSERT INTO "+schema+".orders VALUES (1, 'ann', $1, $1, 'paid'), (2, 'bob', $2, $2, 'paid'), (3, NULL, $3, $3, 'paid')",
		t0, t0.Add(time.Hour), t0.Add(2*time.Hour))
	exec(t, db, "INSERT INTO "+schema+".order_lines VALUES (1, 'mug', 2, 8.5), (1, 'tea', 1, 4.25), (2, 'mug', 1, 8.5), (3, 'pen', 3, 1.1)")

	src := &dataset.SQLSource{DB: db, Query: ordersQuery(schema, "updated_at"), Cancelled: []string{"cancelled", "refunded"}}
	batch, err := src.Poll(ctx, time.Time{})
	require.NoError(t, err)
	assert.Len(t, batch.Changes, 3)
	assert.True(t, batch.Cursor.(time.Time).Equal(t0.Add(2*time.Hour)), "%v", batch.Cursor)
	assert.Equal(t, dataset.Report{Format: "sql", Rows: 4, Loaded: 4, Purchases: 4, Anonymous: 1}, batch.Report)
	h := applyBatch(t, nil, batch)
	assert.Equal(t, []string{
		"order -/3 at 2024-03-01T12:00:00Z: pen×3@1.10",
		"order ann/1 at 2024-03-01T10:00:00Z: mug×2@8.50 tea×1@4.25",
		"order bob/2 at 2024-03-01T11:00:00Z: mug×1@8.50",
	}, ordersOnly(h))

	// Order 1 edited (a line added, one removed by quantity 0), order 2
	// cancelled, order 4 new.
	t1 := t0.Add(24 * time.Hour)
	exec(t, db, "UPDATE "+schema+".orders SET updated_at = $1 WHERE id = 1", t1)
	exec(t, db, "UPDATE "+schema+".order_lines SET quantity = 0 WHERE order_id = 1 AND sku = 'tea'")
	exec(t, db, "INSERT INTO "+schema+".order_lines VALUES (1, 'spoon', 4, 0.99)")
	exec(t, db, "UPDATE "+schema+".orders SET status = 'Cancelled', updated_at = $1 WHERE id = 2", t1.Add(time.Minute))
	exec(t, db, "INSERT INTO "+schema+".orders VALUES (4, 'bob', $1, $1, 'paid')", t1.Add(2*time.Minute))
	exec(t, db, "INSERT INTO "+schema+".order_lines VALUES (4, 'tea', 2, 4.25)")

	next, err := src.Poll(ctx, batch.Cursor)
	require.NoError(t, err)
	keys := func(cs []affinity.OrderChange) (s []string) {
		for _, c := range cs {
			s = append(s, fmt.Sprintf("%s del=%v lines=%d", c.Key, c.Delete, len(c.Lines)))
		}
		return s
	}
	// Order 3 sits at the cursor and is read again: harmless.
	assert.Equal(t, []string{"3 del=false lines=1", "1 del=false lines=2", "2 del=true lines=0", "4 del=false lines=1"}, keys(next.Changes))
	// The removed line and the cancelled order's row add nothing.
	skipped := map[string]int{}
	for _, sk := range next.Report.Skipped {
		skipped[sk.Reason] += sk.Count
	}
	assert.Equal(t, map[string]int{"removed line": 1, "cancelled order": 1}, skipped)
	assert.Equal(t, next.Report.Rows, next.Report.Loaded+next.Report.SkippedRows())
	h2 := applyBatch(t, h, next)
	want := []string{
		"order -/3 at 2024-03-01T12:00:00Z: pen×3@1.10",
		"order ann/1 at 2024-03-01T10:00:00Z: mug×2@8.50 spoon×4@0.99",
		"order bob/4 at 2024-03-02T10:02:00Z: tea×2@4.25",
	}
	assert.Equal(t, want, ordersOnly(h2))

	// The same incremental state from one full poll, and a repeated poll
	// changes nothing.
	full, err := src.Poll(ctx, time.Time{})
	require.NoError(t, err)
	assert.Equal(t, want, ordersOnly(applyBatch(t, nil, full)))
	again, err := src.Poll(ctx, next.Cursor)
	require.NoError(t, err)
	assert.Equal(t, want, ordersOnly(applyBatch(t, h2, again)))

	// An order committed late, with an updated-at before the cursor, is
	// missed without an overlap and read with one.
	exec(t, db, "INSERT INTO "+schema+".orders VALUES (5, 'cat', $1, $1, 'paid')", t1.Add(-time.Hour))
	exec(t, db, "INSERT INTO "+schema+".order_lines VALUES (5, 'pen', 1, 1.1)")
	late, err := src.Poll(ctx, next.Cursor)
	require.NoError(t, err)
	assert.NotContains(t, keys(late.Changes), "5 del=false lines=1")
	src.Overlap = 2 * time.Hour
	late, err = src.Poll(ctx, next.Cursor)
	require.NoError(t, err)
	assert.Contains(t, keys(late.Changes), "5 del=false lines=1")
	assert.Equal(t, next.Cursor, late.Cursor)
	exec(t, db, "UPDATE "+schema+".orders SET updated_at = $1 WHERE id = 4", t1.Add(-time.Minute))
	back, err := src.Poll(ctx, next.Cursor)
	require.NoError(t, err)
	assert.Equal(t, next.Cursor, back.Cursor, "the cursor never moves back")
	exec(t, db, "UPDATE "+schema+".orders SET updated_at = $1 WHERE id = 4", t1.Add(2*time.Minute))

	// An increasing order id as the cursor.
	byID := &dataset.SQLSource{DB: db, Query: ordersQuery(schema, "id"), Columns: dataset.SQLColumns{Version: "order_id"}}
	idBatch, err := byID.Poll(ctx, int64(3))
	require.NoError(t, err)
	assert.Equal(t, int64(5), idBatch.Cursor)
	assert.Equal(t, []string{"3 del=false lines=1", "4 del=false lines=1", "5 del=false lines=1"}, keys(idBatch.Changes))
	assert.Equal(t, int64(4), idBatch.Changes[1].Version)
}

func TestSQLSourceErrors(t *testing.T) {
	db, schema := openPostgres(t)
	ctx := context.Background()
	t0 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	exec(t, db, "INSERT INTO "+schema+".orders VALUES (1, 'ann', $1, $1), (2, 'bob', $1, $1)", t0)
	exec(t, db, "INSERT INTO "+schema+".order_lines VALUES (1, 'mug', 1, 2), (2, NULL, 1, 2), (2, 'tea', 1, 3)")

	src := &dataset.SQLSource{DB: db, Query: ordersQuery(schema, "updated_at") + " ORDER BY o.id, l.sku NULLS FIRST"}
	_, err := src.Poll(ctx, time.Time{})
	var pe *dataset.ParseError
	require.True(t, errors.As(err, &pe), "%v", err)
	assert.Equal(t, 2, pe.Line)
	assert.Equal(t, 6, pe.Column)
	assert.Equal(t, "product_id", pe.Field)

	// Lenient: order 2 is left out whole, so the History keeps its
	// previous version: its NULL row counted as "null value", its good
	// row (line 3) as "incomplete order".
	src.Lenient = true
	batch, err := src.Poll(ctx, time.Time{})
	require.NoError(t, err)
	require.Len(t, batch.Changes, 1)
	assert.Equal(t, "1", batch.Changes[0].Key)
	assert.Equal(t, []dataset.Skip{{Reason: "null value", Count: 1, FirstLine: 2}, {Reason: "incomplete order", Count: 1, FirstLine: 3}}, batch.Report.Skipped)
	assert.Equal(t, batch.Report.Rows, batch.Report.Loaded+batch.Report.SkippedRows())

	_, err = (&dataset.SQLSource{DB: db, Query: "SELECT 1 AS order_id WHERE $1::timestamptz IS NOT NULL"}).Poll(ctx, time.Time{})
	assert.ErrorContains(t, err, `no column "product_id"`)
	_, err = src.Poll(ctx, "yesterday")
	assert.ErrorContains(t, err, "cursor of type string")

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = src.Poll(cancelled, time.Time{})
	assert.ErrorIs(t, err, context.Canceled)
}

// TestSQLSourceRandomFeed changes random orders between polls and checks
// that the History kept up to date by incremental polls always equals one
// built from a full poll.
func TestSQLSourceRandomFeed(t *testing.T) {
	db, schema := openPostgres(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(7, 14))
	t0 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	clock := t0
	src := &dataset.SQLSource{DB: db, Query: ordersQuery(schema, "updated_at"), Cancelled: []string{"cancelled"}}
	var h *affinity.History
	var cursor any = time.Time{}
	nextID := int64(1)
	for round := range 8 {
		for range 1 + r.IntN(15) {
			clock = clock.Add(time.Duration(r.IntN(3)) * time.Second) // equal times happen
			switch k := r.IntN(5); {
			case k <= 1 || nextID == 1: // new order
				exec(t, db, "INSERT INTO "+schema+".orders VALUES ($1, $2, $3, $3, 'paid')", nextID, fmt.Sprintf("c%d", r.IntN(5)), clock)
				for range 1 + r.IntN(3) {
					exec(t, db, "INSERT INTO "+schema+".order_lines VALUES ($1, $2, $3, $4)", nextID, fmt.Sprintf("p%d", r.IntN(6)), 1+r.IntN(3), float64(r.IntN(2000))/100)
				}
				nextID++
			case k == 2: // edit: change a quantity (0 removes the line)
				id := 1 + r.Int64N(nextID-1)
				exec(t, db, "UPDATE "+schema+".order_lines SET quantity = $2 WHERE order_id = $1 AND sku = (SELECT min(sku) FROM "+schema+".order_lines WHERE order_id = $1)", id, r.IntN(3)-1)
				exec(t, db, "UPDATE "+schema+".orders SET updated_at = $2 WHERE id = $1", id, clock)
			case k == 3: // cancel
				exec(t, db, "UPDATE "+schema+".orders SET status = 'cancelled', updated_at = $2 WHERE id = $1", 1+r.Int64N(nextID-1), clock)
			default: // a line added
				id := 1 + r.Int64N(nextID-1)
				exec(t, db, "INSERT INTO "+schema+".order_lines VALUES ($1, $2, 1, 1.5)", id, fmt.Sprintf("p%d", r.IntN(6)))
				exec(t, db, "UPDATE "+schema+".orders SET updated_at = $2 WHERE id = $1", id, clock)
			}
		}
		batch, err := src.Poll(ctx, cursor)
		require.NoError(t, err)
		cursor = batch.Cursor
		h = applyBatch(t, h, batch)
		full, err := src.Poll(ctx, time.Time{})
		require.NoError(t, err)
		require.Equal(t, ordersOnly(applyBatch(t, nil, full)), ordersOnly(h), "round %d", round)
	}
}

// BenchmarkSQLPoll reads 100,000 order lines (25,000 orders) from
// PostgreSQL in one poll and reports rows per second.
func BenchmarkSQLPoll(b *testing.B) {
	db, schema := openPostgres(b)
	ctx := context.Background()
	exec(b, db, fmt.Sprintf(`INSERT INTO %[1]s.orders
SELECT i, 'c' || (i %% 5000), timestamptz '2024-01-01' + i * interval '1 minute', timestamptz '2024-01-01' + i * interval '1 minute', 'paid'
FROM generate_series(1, 25000) i;
INSERT INTO %[1]s.order_lines SELECT o, 'p' || ((o * 7 + k) %% 3000), 1 + k %% 3, 9.99 FROM generate_series(1, 25000) o, generate_series(1, 4) k`, schema))
	src := &dataset.SQLSource{DB: db, Query: ordersQuery(schema, "updated_at")}
	b.ReportAllocs()
	rows := 0
	for b.Loop() {
		batch, err := src.Poll(ctx, time.Time{})
		if err != nil {
			b.Fatal(err)
		}
		rows += batch.Report.Rows
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
