package dataset_test

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
)

// floatRowsDriver is a database/sql driver whose every query returns the
// rows registered under the data source name: float64 prices as a driver
// hands them over, without a database.
type floatRowsDriver struct{}

var floatRows sync.Map // data source name → [][]driver.Value

func init() { sql.Register("affinity-float-rows", floatRowsDriver{}) }

func (floatRowsDriver) Open(name string) (driver.Conn, error) {
	rows, _ := floatRows.Load(name)
	return floatRowsConn{rows.([][]driver.Value)}, nil
}

type floatRowsConn struct{ rows [][]driver.Value }

func (c floatRowsConn) Prepare(string) (driver.Stmt, error) { return floatRowsStmt(c), nil }
func (floatRowsConn) Close() error                          { return nil }
func (floatRowsConn) Begin() (driver.Tx, error)             { return nil, io.EOF }

type floatRowsStmt struct{ rows [][]driver.Value }

func (floatRowsStmt) Close() error                               { return nil }
func (floatRowsStmt) NumInput() int                              { return -1 }
func (floatRowsStmt) Exec([]driver.Value) (driver.Result, error) { return nil, io.EOF }
func (s floatRowsStmt) Query([]driver.Value) (driver.Rows, error) {
	return &floatRowsResult{rows: s.rows}, nil
}

type floatRowsResult struct {
	rows [][]driver.Value
	i    int
}

func (*floatRowsResult) Columns() []string {
	return []string{"order_id", "customer_id", "created_at", "updated_at", "status", "product_id", "quantity", "price"}
}
func (*floatRowsResult) Close() error { return nil }
func (r *floatRowsResult) Next(dest []driver.Value) error {
	if r.i >= len(r.rows) {
		return io.EOF
	}
	copy(dest, r.rows[r.i])
	r.i++
	return nil
}

// pollFloatPrices polls a source over one single-line order per price.
func pollFloatPrices(t *testing.T, lenient bool, prices ...float64) (dataset.SQLBatch, error) {
	t.Helper()
	t0 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	var rows [][]driver.Value
	for i, p := range prices {
		rows = append(rows, []driver.Value{string(rune('a' + i)), "ann", t0, t0, "paid", "mug", int64(1), p})
	}
	floatRows.Store(t.Name(), rows)
	db, err := sql.Open("affinity-float-rows", t.Name())
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	src := &dataset.SQLSource{DB: db, Query: "q", Lenient: lenient}
	return src.Poll(context.Background(), time.Time{})
}

// TestSQLFloatPriceRoundsExactValue: a float price with more decimals than
// Money keeps reads as its exact binary value rounded to the nearest
// ten-thousandth, so a value just below a half rounds down even where the
// float product with 10,000 lands on the half.
func TestSQLFloatPriceRoundsExactValue(t *testing.T) {
	batch, err := pollFloatPrices(t, false, 7.435849999999999, 56.896049999999995, 0.1+0.2)
	require.NoError(t, err)
	require.Len(t, batch.Changes, 3)
	for i, want := range []affinity.Money{74358, 568960, 3000} {
		require.Len(t, batch.Changes[i].Lines, 1)
		assert.Equal(t, want, batch.Changes[i].Lines[0].Price, "price %d", i)
	}
}

// TestSQLNegativeFloatPrice: a negative float price is a "negative price"
// whether or not Money holds it exactly (-0.3), computed in floating point
// (-0.30000000000000004) or widened from a single-precision column.
func TestSQLNegativeFloatPrice(t *testing.T) {
	tenth := 0.1 // a variable, so that the sum is computed in float64
	prices := []float64{-0.3, -(tenth + 0.2), float64(float32(-8.1))}
	batch, err := pollFloatPrices(t, true, prices...)
	require.NoError(t, err)
	assert.Empty(t, batch.Changes)
	assert.Equal(t, []dataset.Skip{{Reason: "negative price", Count: 3, FirstLine: 1}}, batch.Report.Skipped)

	for _, p := range prices[1:] {
		_, err := pollFloatPrices(t, false, p)
		require.Error(t, err, "%v", p)
		assert.Contains(t, err.Error(), "negative price", "%v", p)
	}
}
