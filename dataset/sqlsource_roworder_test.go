package dataset_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// TestSQLRowOrderChangesNothing: SQL returns the rows of a query without
// ORDER BY in whatever order the database finds them, and an order's put
// held its lines in row order. The same rows read again in another order
// were another put: a refresh rebuilt the History for them, with the
// order's lines reordered. Each order's lines are now in one order
// whatever the rows', so a poll of the same rows in any order builds
// the same History, and over it nothing (Build returns its base).
func TestSQLRowOrderChangesNothing(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	r := rand.New(rand.NewPCG(7, 11))
	var rows [][]driver.Value
	for o := range 12 {
		upd := t0.Add(time.Duration(r.IntN(3)) * time.Minute)
		for l := range 1 + r.IntN(5) {
			rows = append(rows, []driver.Value{fmt.Sprintf("o%02d", o), fmt.Sprintf("c%d", o%4), t0, upd, "paid",
				fmt.Sprintf("p%d", (l*7+o)%6), int64(1 + r.IntN(3)), fmt.Sprintf("%d.%02d", 1+r.IntN(50), r.IntN(100))})
		}
	}
	// two lines of one order alike but for their price and quantity
	rows = append(rows, []driver.Value{"o99", "c1", t0, t0, "paid", "mug", int64(2), "1.50"},
		[]driver.Value{"o99", "c1", t0, t0, "paid", "mug", int64(1), "3.00"},
		[]driver.Value{"o99", "c1", t0, t0, "paid", "mug", int64(1), "1.50"})
	load := func(t *testing.T, base *affinity.History, rows [][]driver.Value) *affinity.History {
		t.Helper()
		name := fmt.Sprintf("%s/%p", t.Name(), &rows[0])
		floatRows.Store(name, rows)
		db, err := sql.Open("affinity-float-rows", name)
		require.NoError(t, err)
		defer db.Close()
		b := affinity.NewBuilder(base)
		_, err = (&dataset.SQLSource{DB: db, Query: "q"}).Load(ctx, time.Time{}, b)
		require.NoError(t, err)
		h, err := b.Build(ctx)
		require.NoError(t, err)
		return h
	}
	h := load(t, nil, rows)
	for i := range 5 {
		shuffled := append([][]driver.Value(nil), rows...)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		assert.Same(t, h, load(t, h, shuffled), "shuffle %d: the same rows in another order rebuilt the History", i)
		assert.Equal(t, linesByOrder(h), linesByOrder(load(t, nil, shuffled)), "shuffle %d: the lines of the orders", i)
	}
}

// linesByOrder returns the lines of h by order key, in the History's order.
func linesByOrder(h *affinity.History) map[string][]affinity.Purchase {
	m := map[string][]affinity.Purchase{}
	for p := range h.Purchases() {
		m[p.Order] = append(m[p.Order], p)
	}
	return m
}
