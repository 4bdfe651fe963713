package shop_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/shop"
)

// committing is a Committer over a source that can be told to fail: it
// counts its loads and commits.
type committing struct {
	src     shop.Source
	fail    error
	loads   int
	commits int
}

func (c *committing) Load(ctx context.Context, b *affinity.Builder) (dataset.Report, error) {
	c.loads++
	if c.fail != nil {
		return dataset.Report{}, c.fail
	}
	return c.src.Load(ctx, b)
}

func (c *committing) Commit() { c.commits++ }

// TestCommitOnlyWhatIsServed checks when Open, Refresh, LoadHistory and
// Sources commit a Committer: after the snapshot (or History) built from
// its load is served, including a refresh that changed nothing, and never
// after a load, a build or a refresh that failed or was cancelled.
func TestCommitOnlyWhatIsServed(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	order := func(customer, key string, price affinity.Money) shop.Source {
		return shop.Purchases(func(yield func(affinity.Purchase) bool) {
			for _, p := range []string{"tea", "mug"} {
				if !yield(affinity.Purchase{Customer: customer, Order: key, Product: p, Time: at, Quantity: 1, Price: price}) {
					return
				}
			}
		})
	}
	var cancelOnHistory atomic.Pointer[context.CancelFunc]
	opts := shop.Options{Progress: func(p affinity.Progress) {
		if c := cancelOnHistory.Load(); c != nil && p.Step == "history" {
			(*c)()
		}
	}}
	first := &committing{src: order("ann", "o1", 250)}
	s, err := shop.Open(ctx, shop.Sources(shop.Catalog(nil), first), opts)
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, 1, first.commits, "Open commits through Sources")

	feed := &committing{src: order("bob", "o2", 300)}
	require.NoError(t, s.Refresh(ctx, feed))
	assert.Equal(t, 1, feed.commits, "a refresh served")
	require.NoError(t, s.Refresh(ctx, feed))
	assert.Equal(t, 2, feed.commits, "a refresh that changed nothing is served too")

	feed.fail = fmt.Errorf("the database is down")
	require.Error(t, s.Refresh(ctx, feed))
	assert.Equal(t, 2, feed.commits, "a failed load")

	feed.fail, feed.src = nil, order("cat", "o3", 100)
	rctx, cancel := context.WithCancel(ctx)
	cancelOnHistory.Store(&cancel)
	require.ErrorIs(t, s.Refresh(rctx, feed), context.Canceled)
	cancelOnHistory.Store(nil)
	assert.Equal(t, 2, feed.commits, "a refresh cancelled after its load")
	_, known := s.Snapshot().History().LookupCustomer("cat")
	assert.False(t, known)

	// two orders each worth 0.6 of Money's range: the Builder takes each,
	// and refuses their sum at Build
	big := affinity.MaxMoney / 10 * 3
	feed.src = shop.Sources(order("dan", "o4", big), order("eve", "o5", big))
	require.Error(t, s.Refresh(ctx, feed))
	assert.Equal(t, 2, feed.commits, "a refresh whose History could not be built")
	_, _, err = shop.LoadHistory(ctx, feed)
	require.Error(t, err)
	assert.Equal(t, 2, feed.commits, "LoadHistory that could not build")

	feed.src = order("fay", "o6", 100)
	_, _, err = shop.LoadHistory(ctx, feed)
	require.NoError(t, err)
	assert.Equal(t, 3, feed.commits, "LoadHistory built")
	assert.Equal(t, 7, feed.loads)
}

// TestSQLFeedFailedRefresh: a refresh with a SQLFeed that fails after the
// feed's load (here cancelled while it builds the History) leaves the
// snapshot as it was, and the next refresh reads the orders the failed
// one read: the feed's cursor moves on only with a committed load.
func TestSQLFeedFailedRefresh(t *testing.T) {
	db, schema := feedDB(t)
	ctx := context.Background()
	exec := func(q string, args ...any) {
		t.Helper()
		_, err := db.ExecContext(ctx, fmt.Sprintf(q, schema), args...)
		require.NoError(t, err)
	}
	t0 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	for i := range 20 {
		exec("INSERT INTO %s.orders VALUES ($1, $2, $3, $3, 'paid')", i+1, fmt.Sprintf("c%d", i%5), t0.Add(time.Duration(i)*time.Hour))
		exec("INSERT INTO %s.order_lines VALUES ($1, 'tea', 1, 2), ($1, $2, 1, 3)", i+1, fmt.Sprintf("mug-%d", i%3))
	}
	query := fmt.Sprintf(`SELECT o.id AS order_id, o.customer_id, o.created_at, o.updated_at, l.sku AS product_id, l.quantity, l.price
FROM %[1]s.orders o JOIN %[1]s.order_lines l ON l.order_id = o.id WHERE o.updated_at >= $1`, schema)
	feed := shop.SQL(&dataset.SQLSource{DB: db, Query: query}, time.Time{})
	var cancelOnHistory atomic.Pointer[context.CancelFunc]
	s, err := shop.Open(ctx, feed, shop.Options{Progress: func(p affinity.Progress) {
		if c := cancelOnHistory.Load(); c != nil && p.Step == "history" {
			(*c)()
		}
	}})
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, 40, s.Snapshot().History().NumLines())
	opened := feed.Cursor()
	assert.True(t, t0.Add(19*time.Hour).Equal(opened.(time.Time)), "Open committed its load: cursor %v", opened)

	exec("INSERT INTO %s.orders VALUES (100, 'newcomer', $1, $1, 'paid'), (101, 'c1', $2, $2, 'paid')", t0.Add(48*time.Hour), t0.Add(49*time.Hour))
	exec("INSERT INTO %s.order_lines VALUES (100, 'tea', 1, 2), (100, 'cake', 1, 5), (101, 'tea', 1, 2)")
	rctx, cancel := context.WithCancel(ctx)
	cancelOnHistory.Store(&cancel)
	require.ErrorIs(t, s.Refresh(rctx, feed), context.Canceled)
	cancelOnHistory.Store(nil)
	require.Equal(t, 40, s.Snapshot().History().NumLines(), "the failed refresh left the snapshot")
	assert.Equal(t, opened, feed.Cursor(), "the failed refresh's load is not committed")

	require.NoError(t, s.Refresh(ctx, feed))
	assert.Equal(t, 43, s.Snapshot().History().NumLines(), "the next refresh brings the orders the failed one read")
	_, known := s.Snapshot().History().LookupCustomer("newcomer")
	assert.True(t, known)
	assert.True(t, t0.Add(49*time.Hour).Equal(feed.Cursor().(time.Time)), "cursor %v", feed.Cursor())
}
