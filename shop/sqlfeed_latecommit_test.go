package shop_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/shop"
)

// TestSQLFeedLateCommitOfEarlierTransaction: a transaction that began
// first (PostgreSQL's now(), its updated-at, is its start) changes an
// order after another one did and a refresh read that, and commits: the
// next refresh, within the feed's Overlap, serves the order as the
// database holds it, and the cancellation of an order the same way.
func TestSQLFeedLateCommitOfEarlierTransaction(t *testing.T) {
	db := testDB(t)
	ctx := context.Background()
	schema := fmt.Sprintf("fix72_feed_%d_%d", os.Getpid(), rand.Uint32())
	_, err := db.ExecContext(ctx, fmt.Sprintf(`CREATE SCHEMA %[1]s;
CREATE TABLE %[1]s.orders (id text PRIMARY KEY, customer_id text, created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL, status text NOT NULL DEFAULT 'paid');
CREATE TABLE %[1]s.order_lines (order_id text NOT NULL, sku text NOT NULL, quantity integer NOT NULL, price numeric(14,4) NOT NULL);
INSERT INTO %[1]s.orders VALUES ('x', 'ann', now(), now()), ('y', 'bob', now(), now());
INSERT INTO %[1]s.order_lines VALUES ('x', 'mug', 1, 5), ('y', 'tea', 1, 3), ('y', 'pen', 2, 1)`, schema))
	require.NoError(t, err)
	t.Cleanup(func() { db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	query := fmt.Sprintf(`SELECT o.id AS order_id, o.customer_id, o.created_at, o.updated_at, o.status,
  l.sku AS product_id, l.quantity, l.price
FROM %[1]s.orders o LEFT JOIN %[1]s.order_lines l ON l.order_id = o.id WHERE o.updated_at >= $1 ORDER BY o.id, l.sku`, schema)
	feed := shop.SQL(&dataset.SQLSource{DB: db, Query: query, Cancelled: []string{"cancelled"}, Overlap: 5 * time.Minute}, time.Time{})
	s, err := shop.Open(ctx, feed, shop.Options{})
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, 3, s.Snapshot().History().NumLines())

	long, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer long.Rollback()
	_, err = long.ExecContext(ctx, "SELECT now()") // its now() is taken
	require.NoError(t, err)
	time.Sleep(2 * time.Millisecond)
	_, err = db.ExecContext(ctx, fmt.Sprintf(`UPDATE %[1]s.order_lines SET quantity = 4 WHERE order_id = 'x';
UPDATE %[1]s.orders SET updated_at = now() WHERE id IN ('x', 'y')`, schema))
	require.NoError(t, err)
	require.NoError(t, s.Refresh(ctx, feed))
	_, err = long.ExecContext(ctx, fmt.Sprintf(`UPDATE %[1]s.order_lines SET quantity = 9 WHERE order_id = 'x';
UPDATE %[1]s.orders SET updated_at = now() WHERE id = 'x';
UPDATE %[1]s.orders SET status = 'cancelled', updated_at = now() WHERE id = 'y'`, schema))
	require.NoError(t, err)
	require.NoError(t, long.Commit())
	require.NoError(t, s.Refresh(ctx, feed))

	h := s.Snapshot().History()
	var qty []int32
	for p := range h.Purchases() {
		qty = append(qty, p.Quantity)
	}
	assert.Equal(t, []int32{9}, qty, "x as the database holds it, y cancelled")

	before := s.Snapshot()
	require.NoError(t, s.Refresh(ctx, feed))
	assert.Same(t, before, s.Snapshot(), "reading the same state again builds nothing")
}
