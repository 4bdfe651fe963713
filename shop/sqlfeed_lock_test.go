package shop_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/shop"
)

// slowDriver is a database/sql driver whose queries wait: each one sends
// on the entered channel registered under the data source name, then
// waits for its release channel to close and returns one order line
// changed at slowUpdated.
type slowDriver struct{}

type slowGate struct{ entered, release chan struct{} }

var slowGates sync.Map // data source name → slowGate

var slowUpdated = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func init() { sql.Register("shop-slow-query", slowDriver{}) }

func (slowDriver) Open(name string) (driver.Conn, error) {
	g, _ := slowGates.Load(name)
	return slowConn{g.(slowGate)}, nil
}

type slowConn struct{ g slowGate }

func (c slowConn) Prepare(string) (driver.Stmt, error) { return slowStmt(c), nil }
func (slowConn) Close() error                          { return nil }
func (slowConn) Begin() (driver.Tx, error)             { return nil, io.EOF }

type slowStmt struct{ g slowGate }

func (slowStmt) Close() error                               { return nil }
func (slowStmt) NumInput() int                              { return -1 }
func (slowStmt) Exec([]driver.Value) (driver.Result, error) { return nil, io.EOF }
func (s slowStmt) Query([]driver.Value) (driver.Rows, error) {
	s.g.entered <- struct{}{}
	<-s.g.release
	return &slowRows{}, nil
}

type slowRows struct{ done bool }

func (*slowRows) Columns() []string {
	return []string{"order_id", "customer_id", "created_at", "updated_at", "status", "product_id", "quantity", "price"}
}
func (*slowRows) Close() error { return nil }
func (r *slowRows) Next(dest []driver.Value) error {
	if r.done {
		return io.EOF
	}
	r.done = true
	copy(dest, []driver.Value{"o1", "ann", slowUpdated, slowUpdated, "paid", "mug", int64(1), "2.50"})
	return nil
}

// TestSQLFeedCursorDuringQuery: Load held the feed's lock through the
// database query, so a caller of Cursor (a health or metrics handler)
// or of Commit waited as long as a slow query. They now answer at once,
// and the cursor still moves only when the Load is committed after it
// ends: a Commit while the Load runs moves nothing.
func TestSQLFeedCursorDuringQuery(t *testing.T) {
	g := slowGate{entered: make(chan struct{}, 1), release: make(chan struct{})}
	slowGates.Store(t.Name(), g)
	db, err := sql.Open("shop-slow-query", t.Name())
	require.NoError(t, err)
	defer db.Close()
	feed := shop.SQL(&dataset.SQLSource{DB: db, Query: "q"}, time.Time{})
	loaded := make(chan error, 1)
	go func() {
		_, err := feed.Load(context.Background(), affinity.NewBuilder(nil))
		loaded <- err
	}()
	released := false
	release := func() {
		if !released {
			released = true
			close(g.release)
		}
	}
	defer func() { release(); <-loaded }()
	<-g.entered // the query runs

	answered := make(chan any, 1)
	go func() {
		feed.Commit() // nothing to commit yet
		answered <- feed.Cursor()
	}()
	select {
	case c := <-answered:
		assert.Equal(t, time.Time{}, c, "the cursor before the Load is committed")
	case <-time.After(time.Second):
		t.Error("Commit and Cursor wait for the query")
	}
	release()
	require.NoError(t, <-loaded)
	loaded <- nil // for the deferred receive
	assert.Equal(t, time.Time{}, feed.Cursor(), "a Load moves nothing before its Commit")
	feed.Commit()
	assert.Equal(t, slowUpdated, feed.Cursor(), "the committed Load's cursor")
}
