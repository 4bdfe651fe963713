package dataset_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// TestSQLLoadChecksGrossAgainstBuilder: Load checks each put against what
// the Builder holds, where Poll checks a poll's puts among themselves
// only. An order that would take the gross value beyond MaxMoney is
// skipped with its rows in lenient mode, the orders after it applied, so
// that Build succeeds; in strict mode it fails the load at its first row.
func TestSQLLoadChecksGrossAgainstBuilder(t *testing.T) {
	db := sqlAdvDB(t)
	ctx := context.Background()
	big6 := "'" + (affinity.MaxMoney / 10 * 6).String() + "'" // two of them do not fit
	base, err := sqlAdvApply(nil, mustPoll(t, &dataset.SQLSource{DB: db, Query: sqlAdvValues(
		sqlAdvRow("'1'", "'ann'", sqlAdvT0, sqlAdvT0, "'paid'", "'gold'", "1", big6))}))
	require.NoError(t, err)
	q := sqlAdvValues(
		sqlAdvRow("'3'", "'cid'", sqlAdvT1, sqlAdvT1, "'paid'", "'pen'", "1", "'1'"),
		sqlAdvRow("'2'", "'bob'", sqlAdvT0, sqlAdvT1, "'paid'", "'gold'", "1", big6),
		sqlAdvRow("'2'", "'bob'", sqlAdvT0, sqlAdvT1, "'paid'", "'pen'", "1", "'1'"))

	t.Run("lenient", func(t *testing.T) {
		b := affinity.NewBuilder(base)
		batch, err := (&dataset.SQLSource{DB: db, Query: q, Lenient: true}).Load(ctx, time.Time{}, b)
		require.NoError(t, err)
		require.Len(t, batch.Changes, 1)
		assert.Equal(t, "3", batch.Changes[0].Key)
		assert.Equal(t, []dataset.Skip{{Reason: "amount out of range", Count: 2, FirstLine: 2}}, batch.Report.Skipped)
		assert.Equal(t, batch.Report.Rows, batch.Report.Loaded+batch.Report.SkippedRows())
		h, err := b.Build(ctx)
		require.NoError(t, err, "Build cannot refuse what Load applied")
		assert.Equal(t, 2, h.NumOrders())

		// Poll alone sees only its own orders: both fit.
		batch, err = (&dataset.SQLSource{DB: db, Query: q, Lenient: true}).Poll(ctx, time.Time{})
		require.NoError(t, err)
		assert.Len(t, batch.Changes, 2)
	})
	t.Run("strict", func(t *testing.T) {
		_, err := (&dataset.SQLSource{DB: db, Query: q}).Load(ctx, time.Time{}, affinity.NewBuilder(base))
		var pe *dataset.ParseError
		require.True(t, errors.As(err, &pe), "%v", err)
		assert.ErrorIs(t, err, affinity.ErrMoneyRange)
		assert.Equal(t, 2, pe.Line, "the order's first row")
		assert.Equal(t, "amount out of range", pe.Reason)
		assert.True(t, strings.HasPrefix(err.Error(), "dataset: sql row 2: "), err.Error())
	})
	t.Run("nil Builder", func(t *testing.T) {
		_, err := (&dataset.SQLSource{DB: db, Query: q}).Load(ctx, time.Time{}, nil)
		require.ErrorIs(t, err, affinity.ErrNilArgument)
	})
}

func mustPoll(t *testing.T, src *dataset.SQLSource) dataset.SQLBatch {
	t.Helper()
	batch, err := src.Poll(context.Background(), time.Time{})
	require.NoError(t, err)
	return batch
}

// TestSQLMaxRowsError: the MaxRows error of an SQLSource names the field
// that sets it, SQLSource.MaxRows (it named Options.Limits, which an
// SQLSource has not), and the row of the result, not a line; a catalog's
// names CatalogOptions.Limits.
func TestSQLMaxRowsError(t *testing.T) {
	db := sqlAdvDB(t)
	row := sqlAdvRow("'1'", "'ann'", sqlAdvT0, sqlAdvT0, "'paid'", "'mug'", "1", "1.0")
	_, err := (&dataset.SQLSource{DB: db, MaxRows: 1, Query: sqlAdvValues(row, row)}).Poll(context.Background(), time.Time{})
	require.ErrorIs(t, err, dataset.ErrLimit)
	assert.Equal(t, "dataset: sql row 2: rows: more than SQLSource.MaxRows = 1; raise it (-1 for no limit) if the query's result is genuine", err.Error())

	var b affinity.Builder
	_, err = dataset.LoadCatalog(context.Background(), strings.NewReader("product\na\nb\n"), &b, dataset.CatalogOptions{Limits: dataset.Limits{MaxRows: 1}})
	require.ErrorIs(t, err, dataset.ErrLimit)
	assert.Contains(t, err.Error(), "more than CatalogOptions.Limits.MaxRows = 1; raise it")
}

// TestSQLCancelledRowsSkipped: the rows of a cancelled order add no line
// to the Builder: they are skipped as "cancelled order", as the order
// formats skip them, while the order's delete is a change of the batch
// (they were counted as loaded). Every row is loaded or skipped.
func TestSQLCancelledRowsSkipped(t *testing.T) {
	db := sqlAdvDB(t)
	src := &dataset.SQLSource{DB: db, Cancelled: []string{"cancelled"}, Query: sqlAdvValues(
		sqlAdvRow("'1'", "'ann'", sqlAdvT0, sqlAdvT0, "'cancelled'", "'mug'", "1", "1.0"),
		sqlAdvRow("'2'", "'bob'", sqlAdvT0, sqlAdvT0, "'paid'", "'mug'", "1", "1.0"),
		sqlAdvRow("'1'", "'ann'", sqlAdvT0, sqlAdvT0, "'cancelled'", "'tea'", "1", "1.0"))}
	batch := mustPoll(t, src)
	require.Len(t, batch.Changes, 2)
	assert.True(t, batch.Changes[0].Delete)
	assert.Equal(t, "1", batch.Changes[0].Key)
	assert.Equal(t, 1, batch.Report.Loaded)
	assert.Equal(t, []dataset.Skip{{Reason: "cancelled order", Count: 2, FirstLine: 1}}, batch.Report.Skipped)
	assert.Equal(t, batch.Report.Rows, batch.Report.Loaded+batch.Report.SkippedRows())
	assert.Contains(t, batch.Report.String(), "cancelled order        2 (first at row 1)")
}

// TestSQLIgnoredColumns: result columns that no field maps are listed in
// Report.Ignored, in result order, as a file's are (a quantity column
// named "qty" loaded every line silently with the default quantity 1).
func TestSQLIgnoredColumns(t *testing.T) {
	db := sqlAdvDB(t)
	q := `SELECT '1' AS order_id, 'ann' AS customer_id, 5 AS qty, now() AS created_at, now() AS updated_at,
  'mug' AS product_id, 2.5 AS unit_price WHERE $1::timestamptz IS NOT NULL`
	batch := mustPoll(t, &dataset.SQLSource{DB: db, Query: q})
	assert.Equal(t, []string{"qty", "unit_price"}, batch.Report.Ignored)
	require.Len(t, batch.Changes, 1)
	assert.Equal(t, int32(1), batch.Changes[0].Lines[0].Quantity, "without a quantity column, 1")
	assert.Equal(t, affinity.Money(0), batch.Changes[0].Lines[0].Price, "without a price column, 0")

	batch = mustPoll(t, &dataset.SQLSource{DB: db, Query: q, Columns: dataset.SQLColumns{Quantity: "qty", Price: "unit_price"}})
	assert.Empty(t, batch.Report.Ignored)
	assert.Equal(t, affinity.Purchase{Customer: "ann", Product: "mug", Time: batch.Changes[0].Lines[0].Time, Quantity: 5, Price: 2_5000},
		batch.Changes[0].Lines[0])
}

// TestSQLLeftJoinLastLineRemoved: with the LEFT JOIN of the documented
// query, an order whose last line is removed (and its updated_at set)
// comes back as one row without a line: the order is deleted, and the
// row is counted as "no line". (With an inner JOIN it returns no row and
// the History keeps the order's lines.)
func TestSQLLeftJoinLastLineRemoved(t *testing.T) {
	db, schema := openPostgres(t)
	ctx := context.Background()
	exec(t, db, "INSERT INTO "+schema+".orders VALUES (1, 'ann', '2024-03-01 10:00Z', '2024-03-01 10:00Z', 'paid')")
	exec(t, db, "INSERT INTO "+schema+".order_lines VALUES (1, 'mug', 1, 5)")
	src := &dataset.SQLSource{DB: db, Query: strings.Replace(ordersQuery(schema, "updated_at"), " JOIN ", " LEFT JOIN ", 1)}
	first, err := src.Poll(ctx, time.Time{})
	require.NoError(t, err)
	h := applyBatch(t, nil, first)
	require.Equal(t, 1, h.NumLines())
	exec(t, db, "DELETE FROM "+schema+".order_lines WHERE order_id = 1")
	exec(t, db, "UPDATE "+schema+".orders SET updated_at = '2024-03-01 11:00Z' WHERE id = 1")
	next, err := src.Poll(ctx, first.Cursor)
	require.NoError(t, err)
	require.Len(t, next.Changes, 1)
	assert.True(t, next.Changes[0].Delete)
	assert.Equal(t, []dataset.Skip{{Reason: "no line", Count: 1, FirstLine: 1}}, next.Report.Skipped)
	assert.Equal(t, next.Report.Rows, next.Report.Loaded+next.Report.SkippedRows())
	assert.Equal(t, 0, applyBatch(t, h, next).NumLines())
}

// TestSQLIntCursor: an int cursor is read as an int64, and the batch's
// cursor is an int64.
func TestSQLIntCursor(t *testing.T) {
	db := sqlAdvDB(t)
	q := `SELECT '1' AS order_id, now() AS created_at, 7::bigint AS updated_at, 'mug' AS product_id WHERE $1::bigint >= 0`
	for _, since := range []any{0, int64(0), 9} {
		batch, err := (&dataset.SQLSource{DB: db, Query: q}).Poll(context.Background(), since)
		require.NoError(t, err)
		want := int64(7)
		if since == 9 {
			want = 9
		}
		assert.Equal(t, want, batch.Cursor, "since %T %v", since, since)
	}
}
