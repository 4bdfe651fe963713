package shop_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/shop"
)

// grossTable creates a table of order lines with prices up to MaxMoney,
// dropped when the test ends, and returns functions that insert a one-line order
// and change an order's price, and the query that reads the table.
func grossTable(t *testing.T) (insert, reprice func(order string, price affinity.Money, updated time.Time), query string) {
	t.Helper()
	db := testDB(t)
	ctx := context.Background()
	table := fmt.Sprintf("shop_gross_%d_%d", os.Getpid(), rand.Uint32())
	_, err := db.ExecContext(ctx, `CREATE TABLE `+table+` (order_id text, customer_id text, created_at timestamptz,
  updated_at timestamptz, status text, product_id text, quantity integer, price numeric(30,4))`)
	require.NoError(t, err)
	t.Cleanup(func() { db.ExecContext(context.Background(), "DROP TABLE "+table) })
	exec := func(q string, order string, price affinity.Money, updated time.Time) {
		_, err := db.ExecContext(ctx, q, order, updated, price.String())
		require.NoError(t, err)
	}
	insert = func(order string, price affinity.Money, updated time.Time) {
		exec(`INSERT INTO `+table+` VALUES ($1, 'c-' || $1, $2, $2, 'paid', 'p', 1, $3::numeric)`, order, price, updated)
	}
	reprice = func(order string, price affinity.Money, updated time.Time) {
		exec(`UPDATE `+table+` SET updated_at = $2, price = $3::numeric WHERE order_id = $1`, order, price, updated)
	}
	return insert, reprice, `SELECT * FROM ` + table + ` WHERE updated_at >= $1`
}

// TestSQLFeedGrossBeyondMaxMoney: a poll whose order would take the
// shop's gross value beyond MaxMoney is checked against the History it is
// applied to, not only against the poll's own orders. A lenient feed
// skips that order with its rows as "amount out of range" and loads the
// others; a strict one fails the refresh naming the order's first row.
// (The feed once checked a poll's orders among themselves only: Build
// then failed without a row, the cursor stayed, and every later refresh
// failed the same way, the good orders of the poll never arriving.)
// Orders read again at the cursor, or edited, near the limit count in
// place of the versions the History holds.
func TestSQLFeedGrossBeyondMaxMoney(t *testing.T) {
	ctx := context.Background()
	t1 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	t2 := t1.Add(24 * time.Hour)
	big6 := affinity.MaxMoney / 10 * 6 // two of them do not fit
	type fixture struct {
		s               *shop.Shop
		feed            *shop.SQLFeed
		insert, reprice func(string, affinity.Money, time.Time)
		reports         []dataset.Report
	}
	open := func(t *testing.T, lenient bool) *fixture {
		f := &fixture{}
		var query string
		f.insert, f.reprice, query = grossTable(t)
		f.insert("o1", big6, t1)
		f.insert("o0", 1, t1.Add(time.Hour))
		f.feed = shop.SQL(&dataset.SQLSource{DB: testDB(t), Query: query, Lenient: lenient}, time.Time{})
		var err error
		f.s, err = shop.Open(ctx, f.feed, shop.Options{OnLoad: func(r dataset.Report) { f.reports = append(f.reports, r) }})
		require.NoError(t, err)
		return f
	}
	t.Run("lenient", func(t *testing.T) {
		f := open(t, true)
		f.insert("o2", big6, t2)
		f.insert("o3", 1, t2.Add(time.Hour))
		require.NoError(t, f.s.Refresh(ctx, f.feed))
		h := f.s.Snapshot().History()
		_, ok := h.LookupOrder("o3")
		assert.True(t, ok, "the good order of the poll loads")
		_, ok = h.LookupOrder("o2")
		assert.False(t, ok)
		assert.Equal(t, 3, h.NumLines())
		rep := f.reports[len(f.reports)-1]
		assert.Equal(t, []dataset.Skip{{Reason: "amount out of range", Count: 1, FirstLine: 2}}, rep.Skipped, "o2's row: %v", rep)
		assert.Equal(t, rep.Rows, rep.Loaded+rep.SkippedRows())
		assert.WithinDuration(t, t2.Add(time.Hour), f.feed.Cursor().(time.Time), 0, "the cursor moves on")
		require.NoError(t, f.s.Refresh(ctx, f.feed), "the next refresh succeeds too")
	})
	t.Run("strict", func(t *testing.T) {
		f := open(t, false)
		before := f.s.Snapshot()
		f.insert("o2", big6, t2)
		f.insert("o3", 1, t2.Add(time.Hour))
		err := f.s.Refresh(ctx, f.feed)
		var pe *dataset.ParseError
		require.True(t, errors.As(err, &pe), "%v", err)
		assert.ErrorIs(t, err, affinity.ErrMoneyRange)
		assert.Equal(t, 2, pe.Line, "o2's row, after o0's at the cursor")
		assert.Contains(t, err.Error(), "sql row 2")
		assert.Contains(t, err.Error(), `"o2"`)
		assert.Same(t, before, f.s.Snapshot())
		assert.WithinDuration(t, t1.Add(time.Hour), f.feed.Cursor().(time.Time), 0, "the cursor stays")
	})
	t.Run("read again near the limit", func(t *testing.T) {
		f := open(t, false)
		f.insert("o4", affinity.MaxMoney-big6-1, t1.Add(time.Hour)) // at the cursor: the gross value is MaxMoney
		require.NoError(t, f.s.Refresh(ctx, f.feed))
		full := f.s.Snapshot()
		require.Equal(t, affinity.MaxMoney, full.History().Summary().Revenue)
		require.NoError(t, f.s.Refresh(ctx, f.feed), "o0 and o4 are read again at the cursor")
		assert.Same(t, full, f.s.Snapshot())
		f.reprice("o4", affinity.MaxMoney-big6-2, t2) // o4 edited, counted in place of its old version
		require.NoError(t, f.s.Refresh(ctx, f.feed))
		assert.Equal(t, affinity.MaxMoney-1, f.s.Snapshot().History().Summary().Revenue)
	})
}
