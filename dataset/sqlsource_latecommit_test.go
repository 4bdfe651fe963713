package dataset_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// TestSQLLoadLateCommitOfEarlierTransaction: two transactions change one order; the
// one that started first (its updated_at = now(), the transaction's
// start) commits last, after a poll read the other's change. The next
// poll reads the order's final state within the Overlap.
func TestSQLLoadLateCommitOfEarlierTransaction(t *testing.T) {
	db := sqlAdvDB(t)
	ctx := context.Background()
	schema := fmt.Sprintf("fix72_late_%d_%d", os.Getpid(), rand.Uint32())
	exec(t, db, fmt.Sprintf(`CREATE SCHEMA %[1]s;
CREATE TABLE %[1]s.orders (id text PRIMARY KEY, customer_id text, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL, status text NOT NULL DEFAULT 'paid');
CREATE TABLE %[1]s.order_lines (order_id text NOT NULL, sku text NOT NULL, quantity integer NOT NULL, price numeric(14,4) NOT NULL)`, schema))
	t.Cleanup(func() { _, _ = db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	exec(t, db, "INSERT INTO "+schema+".orders VALUES ('x', 'ann', now(), now()); INSERT INTO "+schema+".order_lines VALUES ('x', 'mug', 1, 5)")
	q := fmt.Sprintf(`SELECT o.id AS order_id, o.customer_id, o.created_at, o.updated_at, o.status, l.sku AS product_id, l.quantity, l.price
FROM %[1]s.orders o LEFT JOIN %[1]s.order_lines l ON l.order_id = o.id WHERE o.updated_at >= $1 ORDER BY o.id, l.sku`, schema)
	src := &dataset.SQLSource{DB: db, Query: q, Overlap: 5 * time.Minute, Cancelled: []string{"cancelled"}}

	var h *affinity.History
	cursor := any(time.Time{})
	poll := func() {
		b := affinity.NewBuilder(h)
		batch, err := src.Load(ctx, cursor, b)
		require.NoError(t, err)
		h, err = b.Build(ctx)
		require.NoError(t, err)
		cursor = batch.Cursor
	}
	poll()

	long, err := db.BeginTx(ctx, nil) // starts first: its now() is the earlier
	require.NoError(t, err)
	defer long.Rollback()
	_, err = long.ExecContext(ctx, "SELECT now()")
	require.NoError(t, err)
	time.Sleep(2 * time.Millisecond)
	exec(t, db, "UPDATE "+schema+".order_lines SET quantity = 2 WHERE order_id = 'x'; UPDATE "+schema+".orders SET updated_at = now() WHERE id = 'x'")
	poll() // reads quantity 2
	_, err = long.ExecContext(ctx, "UPDATE "+schema+".order_lines SET quantity = 3 WHERE order_id = 'x'")
	require.NoError(t, err)
	_, err = long.ExecContext(ctx, "UPDATE "+schema+".orders SET updated_at = now() WHERE id = 'x'")
	require.NoError(t, err)
	require.NoError(t, long.Commit())
	poll() // reads quantity 3, at an earlier updated_at

	full, err := src.Poll(ctx, time.Time{})
	require.NoError(t, err)
	require.Len(t, full.Changes, 1)
	require.Equal(t, int32(3), full.Changes[0].Lines[0].Quantity)
	require.Equal(t, 1, h.NumLines())
	var got []affinity.Purchase
	for p := range h.Purchases() {
		got = append(got, p)
	}
	require.Equal(t, int32(3), got[0].Quantity, "the order as the database holds it")
}
