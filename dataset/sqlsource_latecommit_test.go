package dataset_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
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
	poll := func() { h, cursor = loadBuild(t, src, h, cursor) }
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

// TestSQLLoadInterleavedTransactions is a property test of a live
// database: transactions held open over several polls, each changing
// orders no other open one touches (lines edited, added and removed,
// cancelled and re-opened, moved to another customer) with updated_at =
// now(), commit in a random order between polls with an Overlap longer
// than any of them; new orders arrive meanwhile. The History the polls
// keep equals the one a full poll builds, once every transaction has
// committed and after each poll for the orders no open transaction holds.
func TestSQLLoadInterleavedTransactions(t *testing.T) {
	db, schema := openPostgres(t)
	ctx := context.Background()
	q := fmt.Sprintf(`SELECT o.id AS order_id, o.customer_id, o.created_at, o.updated_at, o.status,
  l.sku AS product_id, l.quantity, l.price
FROM %[1]s.orders o LEFT JOIN %[1]s.order_lines l ON l.order_id = o.id WHERE o.updated_at >= $1
ORDER BY o.id, l.sku, l.quantity, l.price`, schema)
	src := &dataset.SQLSource{DB: db, Query: q, Cancelled: []string{"cancelled"}, Overlap: time.Hour}
	// the quick suite runs seed 2 alone: a transaction's change of an order
	// another one changed after it began, read after the other's (step 33)
	for seed := uint64(testdata.Scale(0, 2)); seed < uint64(testdata.Scale(8, 3)); seed++ {
		exec(t, db, "TRUNCATE "+schema+".order_lines, "+schema+".orders")
		r := rand.New(rand.NewPCG(seed, 72))
		next := int64(1)
		newOrder := func(x execer) {
			_, err := x.ExecContext(ctx, "INSERT INTO "+schema+".orders VALUES ($1, $2, now(), now())", next, fmt.Sprintf("c%d", r.IntN(3)))
			require.NoError(t, err)
			_, err = x.ExecContext(ctx, "INSERT INTO "+schema+".order_lines VALUES ($1, $2, $3, 2.5)", next, fmt.Sprintf("p%d", r.IntN(4)), 1+r.IntN(3))
			require.NoError(t, err)
			next++
		}
		for range 4 {
			newOrder(db)
		}
		type open struct {
			tx     *sql.Tx
			order  int64
			locked bool // it changed the order
		}
		var txs []open
		held := func(id int64) bool {
			return slices.ContainsFunc(txs, func(o open) bool { return o.order == id })
		}
		locked := func(id int64) bool {
			return slices.ContainsFunc(txs, func(o open) bool { return o.order == id && o.locked })
		}
		change := func(x execer, id int64) {
			var stmt string
			switch r.IntN(5) {
			case 0:
				stmt = "UPDATE %[1]s.order_lines SET quantity = quantity + 1 WHERE order_id = $1"
			case 1:
				stmt = "INSERT INTO %[1]s.order_lines VALUES ($1, 'p9', 1, 4)"
			case 2:
				stmt = "DELETE FROM %[1]s.order_lines WHERE order_id = $1 AND sku = (SELECT min(sku) FROM %[1]s.order_lines WHERE order_id = $1)"
			case 3:
				stmt = "UPDATE %[1]s.orders SET status = CASE WHEN status = 'paid' THEN 'cancelled' ELSE 'paid' END WHERE id = $1"
			default:
				stmt = "UPDATE %[1]s.orders SET customer_id = customer_id || 'x' WHERE id = $1"
			}
			_, err := x.ExecContext(ctx, fmt.Sprintf(stmt, schema), id)
			require.NoError(t, err)
			_, err = x.ExecContext(ctx, "UPDATE "+schema+".orders SET updated_at = now() WHERE id = $1", id)
			require.NoError(t, err)
		}
		var h *affinity.History
		cursor := any(time.Time{})
		poll := func() { h, cursor = loadBuild(t, src, h, cursor) }
		compare := func(step int) {
			full, err := src.Poll(ctx, time.Time{})
			require.NoError(t, err)
			want, err := sqlAdvApply(nil, full)
			require.NoError(t, err)
			keep := func(lines []string) []string {
				return slices.DeleteFunc(lines, func(s string) bool {
					var id int64
					_, _ = fmt.Sscanf(s[strings.Index(s, "/")+1:], "%d", &id)
					return locked(id)
				})
			}
			require.Equal(t, keep(ordersOnly(want)), keep(ordersOnly(h)), "seed %d step %d", seed, step)
		}
		for step := range testdata.Scale(60, 40) {
			switch k := r.IntN(7); {
			case k == 0:
				newOrder(db)
			case k == 1 && len(txs) > 0: // the commit of an open transaction, any of them
				i := r.IntN(len(txs))
				require.NoError(t, txs[i].tx.Commit())
				txs = slices.Delete(txs, i, i+1)
			case k == 2 && len(txs) < 3: // a transaction begins: its now() is taken
				id := 1 + r.Int64N(next-1)
				if held(id) {
					continue
				}
				tx, err := db.BeginTx(ctx, nil)
				require.NoError(t, err)
				_, err = tx.ExecContext(ctx, "SELECT now()")
				require.NoError(t, err)
				txs = append(txs, open{tx: tx, order: id})
			case k == 3 && len(txs) > 0: // an open transaction changes its order
				o := &txs[r.IntN(len(txs))]
				change(o.tx, o.order)
				o.locked = true
			case k == 4: // a change of its own, committed at once, of an order no transaction has changed yet
				if id := 1 + r.Int64N(next-1); !locked(id) {
					change(db, id)
				}
			default:
				poll()
				compare(step)
			}
		}
		for _, o := range txs {
			require.NoError(t, o.tx.Commit())
		}
		poll()
		compare(-1)
	}
}

// execer is a *sql.DB or a *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// loadBuild loads a poll from cursor into a Builder on h and builds: the
// next History and cursor.
func loadBuild(t *testing.T, src *dataset.SQLSource, h *affinity.History, cursor any) (*affinity.History, any) {
	t.Helper()
	b := affinity.NewBuilder(h)
	batch, err := src.Load(context.Background(), cursor, b)
	require.NoError(t, err)
	h, err = b.Build(context.Background())
	require.NoError(t, err)
	return h, batch.Cursor
}

// TestSQLLoadReadsOverTombstone: an order deleted from the History at a
// version above its updated-at, which the query still returns, is put
// back by Load, at the delete's version; Poll returns it at its own.
func TestSQLLoadReadsOverTombstone(t *testing.T) {
	db := sqlAdvDB(t)
	src := &dataset.SQLSource{DB: db, Query: sqlAdvValues(
		sqlAdvRow("'1'", "'ann'", sqlAdvT0, sqlAdvT0, "'paid'", "'mug'", "1", "2"),
	)}
	h, cursor := loadBuild(t, src, nil, time.Time{})
	b := affinity.NewBuilder(h)
	deleted := time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC).UnixMicro()
	require.NoError(t, b.DeleteOrder("1", deleted))
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	require.Zero(t, h.NumLines())

	poll, err := src.Poll(context.Background(), cursor)
	require.NoError(t, err)
	require.Len(t, poll.Changes, 1)
	assert.Less(t, poll.Changes[0].Version, deleted)
	b = affinity.NewBuilder(h)
	batch, err := src.Load(context.Background(), cursor, b)
	require.NoError(t, err)
	require.Len(t, batch.Changes, 1)
	assert.Equal(t, deleted, batch.Changes[0].Version, "put at the delete's version")
	h, err = b.Build(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, h.NumLines(), "the order is back")
}
