package dataset_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/dataset"
)

// TestAdvSQLDuplicates: a row that repeats an earlier line of its order
// exactly (product, created-at, quantity, price), wherever the result puts
// it, is counted in Report.Duplicates with the first such row; it is
// loaded, or skipped as "duplicate row" with DropDuplicates. The same line
// in another order, a line differing in one field, and the rows of a
// cancelled order are not duplicates.
func TestAdvSQLDuplicates(t *testing.T) {
	db := sqlAdvDB(t)
	row := func(order, product, quantity, price string) string {
		return sqlAdvRow("'"+order+"'", "'ann'", sqlAdvT0, sqlAdvT1, "'paid'", "'"+product+"'", quantity, price)
	}
	q := sqlAdvValues(
		row("1", "mug", "1", "4.50"), // row 1
		row("1", "cup", "1", "4.50"),
		row("2", "mug", "1", "4.50"), // another order
		row("3", "pen", "1", "2.00"),
		row("1", "mug", "1", "4.50"), // row 5: a duplicate of row 1
		row("1", "mug", "2", "4.50"), // another quantity
		row("1", "mug", "1", "4.49"), // another price
		row("3", "pen", "1", "2.00"), // row 8: a duplicate of row 4
		row("1", "mug", "1", "4.50"), // row 9: row 1 a third time
		sqlAdvRow("'4'", "'ann'", sqlAdvT0, sqlAdvT1, "'cancelled'", "'mug'", "1", "1"),
		sqlAdvRow("'4'", "'ann'", sqlAdvT0, sqlAdvT1, "'cancelled'", "'mug'", "1", "1"),
		sqlAdvRow("'1'", "'ann'", "timestamptz '2024-03-01 10:00:01Z'", sqlAdvT1, "'paid'", "'mug'", "1", "4.50"), // another time
	)
	lines := func(batch dataset.SQLBatch) map[string]int {
		n := map[string]int{}
		for _, c := range batch.Changes {
			n[c.Key] = len(c.Lines)
		}
		return n
	}
	src := &dataset.SQLSource{DB: db, Query: q, Cancelled: []string{"cancelled"}}
	batch, err := src.Poll(context.Background(), time.Time{})
	require.NoError(t, err)
	assert.Equal(t, 3, batch.Report.Duplicates)
	assert.Equal(t, 5, batch.Report.FirstDuplicate)
	assert.Empty(t, batch.Report.Skipped)
	assert.Equal(t, map[string]int{"1": 7, "2": 1, "3": 2, "4": 0}, lines(batch), "duplicates are loaded")
	assert.Contains(t, batch.Report.String(), "3 (first at line 5)")

	src.DropDuplicates = true
	batch, err = src.Poll(context.Background(), time.Time{})
	require.NoError(t, err)
	assert.Equal(t, 3, batch.Report.Duplicates)
	assert.Equal(t, 5, batch.Report.FirstDuplicate)
	assert.Equal(t, []dataset.Skip{{Reason: "duplicate row", Count: 3, FirstLine: 5}}, batch.Report.Skipped)
	assert.Equal(t, map[string]int{"1": 5, "2": 1, "3": 1, "4": 0}, lines(batch))
	sqlAdvAccounting(t, batch.Report)
}

// TestAdvSQLDuplicatesNaive compares the duplicate count with a naive one
// (a set of the lines seen per order, in row order) on random results in
// which most rows repeat another, their rows in random order.
func TestAdvSQLDuplicatesNaive(t *testing.T) {
	db := sqlAdvDB(t)
	r := rand.New(rand.NewPCG(5, 11))
	for round := range 6 {
		var rows []string
		seen := map[string]bool{}
		want, first := 0, 0
		for i := range 60 {
			order, product, qty, price := r.IntN(5), r.IntN(3), 1+r.IntN(2), r.IntN(2)
			rows = append(rows, sqlAdvRow(fmt.Sprintf("'o%d'", order), "'ann'", sqlAdvT0, sqlAdvT1, "'paid'",
				fmt.Sprintf("'p%d'", product), fmt.Sprint(qty), fmt.Sprintf("%d.25", price)))
			k := fmt.Sprint(order, product, qty, price)
			if seen[k] {
				want++
				if first == 0 {
					first = i + 1
				}
			}
			seen[k] = true
		}
		for _, drop := range []bool{false, true} {
			batch, err := (&dataset.SQLSource{DB: db, Query: sqlAdvValues(rows...), DropDuplicates: drop}).Poll(context.Background(), time.Time{})
			require.NoError(t, err)
			assert.Equal(t, want, batch.Report.Duplicates, "round %d", round)
			assert.Equal(t, first, batch.Report.FirstDuplicate, "round %d", round)
			sqlAdvAccounting(t, batch.Report)
			n := 0
			for _, c := range batch.Changes {
				n += len(c.Lines)
			}
			if drop {
				assert.Equal(t, len(seen), n, "round %d: one line of each kind", round)
			} else {
				assert.Equal(t, len(rows), n, "round %d: every row a line", round)
			}
		}
	}
}
