package dataset_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
)

// Adversarial tests of SQLSource, written against its documentation. They
// need PostgreSQL (AFFINITY_TEST_POSTGRES, as in sqlsource_test.go) and
// skip without it. Most read literal rows (a VALUES list) so that no table
// is needed; the property tests use openPostgres's tables.

// sqlAdvDB opens the test database or skips.
func sqlAdvDB(t testing.TB) *sql.DB {
	t.Helper()
	url := os.Getenv(postgresEnv)
	if url == "" {
		t.Skipf("no PostgreSQL: set %s to run", postgresEnv)
	}
	db, err := sql.Open("pgx", url)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// sqlAdvCols are the default column names, in the order of sqlAdvValues.
const sqlAdvCols = "order_id, customer_id, created_at, updated_at, status, product_id, quantity, price"

// sqlAdvValues is a query over literal rows (SQL tuples of the eight default
// columns) in the given order, with a time cursor.
func sqlAdvValues(rows ...string) string {
	return `SELECT * FROM (VALUES ` + strings.Join(rows, ",\n ") + `) AS v(` + sqlAdvCols + `) WHERE $1::timestamptz IS NOT NULL`
}

// sqlAdvRow is one tuple of SQL expressions: order, customer, created,
// updated, status, product, quantity, price.
func sqlAdvRow(vals ...string) string {
	return "(" + strings.Join(vals, ", ") + ")"
}

const (
	sqlAdvT0 = "timestamptz '2024-03-01 10:00:00Z'"
	sqlAdvT1 = "timestamptz '2024-03-01 11:00:00Z'"
)

// sqlAdvApply applies every change of batch to a new Builder on base and
// builds; it returns the first error.
func sqlAdvApply(base *affinity.History, batch dataset.SQLBatch) (*affinity.History, error) {
	b := affinity.NewBuilder(base)
	for _, c := range batch.Changes {
		if err := b.Apply(c); err != nil {
			return nil, err
		}
	}
	return b.Build(context.Background())
}

// sqlAdvMoney parses a decimal amount.
func sqlAdvMoney(t *testing.T, s string) affinity.Money {
	t.Helper()
	m, err := affinity.ParseMoney(s, '.')
	require.NoError(t, err)
	return m
}

// sqlAdvAccounting checks the lenient contract: every row read is loaded or
// counted as skipped.
func sqlAdvAccounting(t *testing.T, rep dataset.Report) {
	t.Helper()
	assert.Equal(t, rep.Rows, rep.Loaded+rep.SkippedRows(), "every row loaded or explained: %+v", rep)
}

func TestAdvSQLEmptyResult(t *testing.T) {
	db := sqlAdvDB(t)
	ctx := context.Background()
	since := time.Date(2024, 1, 2, 3, 4, 5, 6000, time.FixedZone("x", 3600))
	src := &dataset.SQLSource{DB: db, Query: "SELECT " + strings.ReplaceAll(sqlAdvCols, ",", " ,") + " FROM (SELECT NULL::text AS order_id, NULL::text AS customer_id, now() AS created_at, now() AS updated_at, 'x' AS status, 'p' AS product_id, 1 AS quantity, 1.0 AS price) v WHERE $1::timestamptz IS NULL"}
	batch, err := src.Poll(ctx, since)
	require.NoError(t, err)
	assert.Empty(t, batch.Changes)
	assert.Equal(t, since, batch.Cursor, "no row read: the cursor is since itself")
	assert.Equal(t, dataset.Report{Format: "sql"}, batch.Report)

	src.Query = strings.Replace(src.Query, "$1::timestamptz", "$1::bigint", 1)
	for _, since := range []any{int64(0), int64(-7), 42, int64(1<<63 - 1)} {
		batch, err := src.Poll(ctx, since)
		require.NoError(t, err, "%v", since)
		assert.Empty(t, batch.Changes)
		want := since
		if n, ok := since.(int); ok {
			want = int64(n)
		}
		assert.Equal(t, want, batch.Cursor, "%T %v", since, since)
	}
}

// TestAdvSQLNulls puts a NULL in each column of the second of three rows
// (two orders): required columns fail strict polls naming row 2 and the
// column, and lenient polls explain every row.
func TestAdvSQLNulls(t *testing.T) {
	db := sqlAdvDB(t)
	ctx := context.Background()
	cols := strings.Split(sqlAdvCols, ", ")
	good := []string{"'1'", "'ann'", sqlAdvT0, sqlAdvT0, "'paid'", "'mug'", "2", "8.5"}
	types := []string{"text", "text", "timestamptz", "timestamptz", "text", "text", "integer", "numeric"}
	for i, col := range cols {
		t.Run(col, func(t *testing.T) {
			bad := slices.Clone(good)
			bad[i] = "NULL::" + types[i]
			row3 := slices.Clone(good)
			row3[0], row3[5] = "'2'", "'tea'"
			q := sqlAdvValues(sqlAdvRow(good...), sqlAdvRow(bad...), sqlAdvRow(row3...))
			src := &dataset.SQLSource{DB: db, Query: q, Cancelled: []string{"cancelled"}}
			batch, err := src.Poll(ctx, time.Time{})
			switch col {
			case "customer_id", "status", "price": // optional: NULL is "" (anonymous, not cancelled) or 0
				if col == "customer_id" {
					// a NULL customer in a row of ann's order is a second customer
					var pe *dataset.ParseError
					require.True(t, errors.As(err, &pe), "%v", err)
					assert.Equal(t, 2, pe.Line)
					assert.Equal(t, i+1, pe.Column)
					return
				}
				require.NoError(t, err)
				_, err = sqlAdvApply(nil, batch)
				require.NoError(t, err)
			default:
				var pe *dataset.ParseError
				require.True(t, errors.As(err, &pe), "%v", err)
				assert.Equal(t, 2, pe.Line)
				assert.Equal(t, i+1, pe.Column, "column of %s", col)
				assert.Equal(t, col, pe.Field)
				assert.Empty(t, batch.Changes, "a failed poll returns no changes")
				assert.Equal(t, time.Time{}, batch.Cursor, "a failed poll keeps the cursor")
			}
			src.Lenient = true
			batch, err = src.Poll(ctx, time.Time{})
			require.NoError(t, err)
			sqlAdvAccounting(t, batch.Report)
			assert.Equal(t, 3, batch.Report.Rows)
			_, err = sqlAdvApply(nil, batch)
			require.NoError(t, err)
		})
	}
}

// TestAdvSQLWrongTypes gives columns values of the wrong kind: each is an
// error naming row 1 and the column, never a panic.
func TestAdvSQLWrongTypes(t *testing.T) {
	db := sqlAdvDB(t)
	ctx := context.Background()
	cases := []struct {
		name  string
		col   int // 0-based
		value string
		int   bool // integer cursor
	}{
		{"time as integer", 2, "12345", false},
		{"time as bool", 2, "true", false},
		{"time as garbage text", 2, "'yesterday'", false},
		{"time as interval", 2, "interval '1 day'", false},
		{"quantity as text", 6, "'two'", false},
		{"quantity fractional", 6, "2.5", false},
		{"quantity beyond int32", 6, "2147483648", false},
		{"quantity below int32", 6, "-2147483649", false},
		{"quantity NaN", 6, "'NaN'::float8", false},
		{"quantity infinite", 6, "'Infinity'::float8", false},
		{"price as text", 7, "'cheap'", false},
		{"price with exponent", 7, "'1e3'", false},
		{"price NaN", 7, "'NaN'::numeric", false},
		{"price infinite", 7, "'Infinity'::float8", false},
		{"price negative", 7, "-0.01", false},
		{"price five decimals", 7, "1.00001", false},
		{"price beyond MaxMoney", 7, "922337203685477.5808", false},
		{"price huge", 7, "1e30", false},
		{"version as garbage with a time cursor", 3, "'soon'", false},
		{"version as integer with a time cursor", 3, "17", false},
		{"version as time with an integer cursor", 3, sqlAdvT0, true},
		{"version as fraction with an integer cursor", 3, "1.5", true},
		{"version beyond int64", 3, "9223372036854775808::numeric", true},
		{"version infinite", 3, "'infinity'::timestamptz", false},
		{"created before 1970", 2, "timestamptz '1969-12-31 23:59:59Z'", false},
		{"created after 2106-02-07", 2, "timestamptz '2106-02-08 00:00:00Z'", false},
		{"created infinite", 2, "'infinity'::timestamptz", false},
		{"created as text before 1970", 2, "'1900-01-01 00:00:00'", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vals := []string{"'1'", "'ann'", sqlAdvT0, sqlAdvT0, "'paid'", "'mug'", "2", "8.5"}
			if c.int {
				vals[3] = "5"
			}
			vals[c.col] = c.value
			q := sqlAdvValues(sqlAdvRow(vals...))
			var since any = time.Time{}
			if c.int {
				q = strings.Replace(q, "$1::timestamptz", "$1::bigint", 1)
				since = int64(0)
			}
			src := &dataset.SQLSource{DB: db, Query: q}
			batch, err := src.Poll(ctx, since)
			var pe *dataset.ParseError
			require.True(t, errors.As(err, &pe), "want a ParseError, got %v (changes %+v)", err, batch.Changes)
			assert.Equal(t, 1, pe.Line)
			assert.Equal(t, c.col+1, pe.Column)
			assert.Equal(t, strings.Split(sqlAdvCols, ", ")[c.col], pe.Field)
			src.Lenient = true
			batch, err = src.Poll(ctx, since)
			require.NoError(t, err)
			assert.Empty(t, batch.Changes)
			assert.Equal(t, 1, batch.Report.SkippedRows())
			sqlAdvAccounting(t, batch.Report)
		})
	}
}

// TestAdvSQLAmountRange: "price × quantity in Money's range; other rows
// are errors with line and column, or counted skips in lenient mode"
// (dataset/doc.go, Limits). A poll must not hand out changes that
// Builder.Apply or Build refuse: with shop.SQL that would stall the feed
// for good, lenient or not.
func TestAdvSQLAmountRange(t *testing.T) {
	db := sqlAdvDB(t)
	ctx := context.Background()
	cases := map[string][]string{
		"line": {
			sqlAdvRow("'1'", "'ann'", sqlAdvT0, sqlAdvT0, "'paid'", "'gold'", "2", "900000000000000"),
			sqlAdvRow("'2'", "'bob'", sqlAdvT0, sqlAdvT0, "'paid'", "'mug'", "1", "8.5"),
		},
		"order": {
			sqlAdvRow("'1'", "'ann'", sqlAdvT0, sqlAdvT0, "'paid'", "'gold'", "1", "500000000000000"),
			sqlAdvRow("'1'", "'ann'", sqlAdvT0, sqlAdvT0, "'paid'", "'silver'", "1", "500000000000000"),
			sqlAdvRow("'2'", "'bob'", sqlAdvT0, sqlAdvT0, "'paid'", "'mug'", "1", "8.5"),
		},
	}
	for name, rows := range cases {
		t.Run(name, func(t *testing.T) {
			src := &dataset.SQLSource{DB: db, Query: sqlAdvValues(rows...) + " ORDER BY order_id, product_id"}
			batch, err := src.Poll(ctx, time.Time{})
			var pe *dataset.ParseError
			if assert.True(t, errors.As(err, &pe), "strict: want a ParseError, got %v", err) {
				assert.ErrorIs(t, err, affinity.ErrMoneyRange)
			}
			src.Lenient = true
			batch, err = src.Poll(ctx, time.Time{})
			require.NoError(t, err)
			sqlAdvAccounting(t, batch.Report)
			_, err = sqlAdvApply(nil, batch)
			assert.NoError(t, err, "a lenient poll's changes apply and build")
			assert.Positive(t, batch.Report.SkippedRows(), "the order out of range is skipped")
		})
	}
}

// TestAdvSQLFloatPrice: "Price is the unit price: numeric, text or
// floating point, read exactly as a decimal". A real (float4) column
// holding 8.1 — which PostgreSQL shows as 8.1 — reads as 8.10.
func TestAdvSQLFloatPrice(t *testing.T) {
	db := sqlAdvDB(t)
	src := &dataset.SQLSource{DB: db, Query: sqlAdvValues(
		sqlAdvRow("'1'", "'ann'", sqlAdvT0, sqlAdvT0, "'paid'", "'mug'", "1", "8.1::real"),
	)}
	batch, err := src.Poll(context.Background(), time.Time{})
	require.NoError(t, err)
	require.Len(t, batch.Changes, 1)
	require.Len(t, batch.Changes[0].Lines, 1)
	assert.Equal(t, sqlAdvMoney(t, "8.1"), batch.Changes[0].Lines[0].Price)
}

// TestAdvSQLFloat8Price: float8 prices with at most four decimals read
// exactly.
func TestAdvSQLFloat8Price(t *testing.T) {
	db := sqlAdvDB(t)
	src := &dataset.SQLSource{DB: db, Query: sqlAdvValues(
		sqlAdvRow("'1'", "'ann'", sqlAdvT0, sqlAdvT0, "'paid'", "'mug'", "1", "8.1::float8"),
		sqlAdvRow("'2'", "'ann'", sqlAdvT0, sqlAdvT0, "'paid'", "'mug'", "1", "0.0001::float8"),
		sqlAdvRow("'3'", "'ann'", sqlAdvT0, sqlAdvT0, "'paid'", "'mug'", "1", "123456789.1234::float8"),
	) + " ORDER BY order_id"}
	batch, err := src.Poll(context.Background(), time.Time{})
	require.NoError(t, err)
	require.Len(t, batch.Changes, 3)
	for i, want := range []string{"8.1", "0.0001", "123456789.1234"} {
		assert.Equal(t, sqlAdvMoney(t, want), batch.Changes[i].Lines[0].Price)
	}
}

// TestAdvSQLWideNumericPrice: a numeric column with more than four
// decimals (numeric(12,6), which prints 12.9 as "12.900000") reads
// exactly while the decimals beyond the fourth are zeros, and is an
// invalid price when they are not.
func TestAdvSQLWideNumericPrice(t *testing.T) {
	db := sqlAdvDB(t)
	src := &dataset.SQLSource{DB: db, Lenient: true, Query: sqlAdvValues(
		sqlAdvRow("'1'", "'ann'", sqlAdvT0, sqlAdvT0, "'paid'", "'mug'", "1", "12.9::numeric(12,6)"),
		sqlAdvRow("'2'", "'ann'", sqlAdvT0, sqlAdvT0, "'paid'", "'mug'", "1", "0.0001::numeric(12,6)"),
		sqlAdvRow("'3'", "'ann'", sqlAdvT0, sqlAdvT0, "'paid'", "'mug'", "1", "0.00001::numeric(12,6)"),
	) + " ORDER BY order_id"}
	batch, err := src.Poll(context.Background(), time.Time{})
	require.NoError(t, err)
	require.Len(t, batch.Changes, 2)
	for i, want := range []string{"12.9", "0.0001"} {
		assert.Equal(t, sqlAdvMoney(t, want), batch.Changes[i].Lines[0].Price)
	}
	require.Len(t, batch.Report.Skipped, 1)
	assert.Equal(t, dataset.Skip{Reason: "invalid price", Count: 1, FirstLine: 3}, batch.Report.Skipped[0])
}

// TestAdvSQLComputedFloatPrice: a price computed in floating point, with
// more decimals than Money keeps, reads to the nearest ten-thousandth
// instead of being an invalid price.
func TestAdvSQLComputedFloatPrice(t *testing.T) {
	db := sqlAdvDB(t)
	src := &dataset.SQLSource{DB: db, Query: sqlAdvValues(
		sqlAdvRow("'1'", "'ann'", sqlAdvT0, sqlAdvT0, "'paid'", "'mug'", "1", "(0.1::float8 + 0.2::float8)"),
		sqlAdvRow("'2'", "'ann'", sqlAdvT0, sqlAdvT0, "'paid'", "'mug'", "1", "(19.99::float8 * 1.2::float8)"),
		sqlAdvRow("'3'", "'ann'", sqlAdvT0, sqlAdvT0, "'paid'", "'mug'", "1", "(1::float8 / 3::float8)"),
	) + " ORDER BY order_id"}
	batch, err := src.Poll(context.Background(), time.Time{})
	require.NoError(t, err)
	require.Len(t, batch.Changes, 3)
	for i, want := range []string{"0.3", "23.988", "0.3333"} {
		assert.Equal(t, sqlAdvMoney(t, want), batch.Changes[i].Lines[0].Price)
	}
}

// TestAdvSQLLenientExplains: a lenient poll counts and explains every
// skipped row, by reason in FirstLine order, where FirstLine is "the
// 1-based input line of the first of them" (Skip).
func TestAdvSQLLenientExplains(t *testing.T) {
	db := sqlAdvDB(t)
	src := &dataset.SQLSource{DB: db, Lenient: true, Query: sqlAdvValues(
		sqlAdvRow("'1'", "'ann'", sqlAdvT0, sqlAdvT0, "'paid'", "'mug'", "1", "1"),  // 1 loaded
		sqlAdvRow("'2'", "'bob'", sqlAdvT0, sqlAdvT0, "'paid'", "NULL", "1", "1"),   // 2 null value
		sqlAdvRow("'3'", "'cat'", sqlAdvT0, sqlAdvT0, "'paid'", "'mug'", "0", "1"),  // 3 removed line
		sqlAdvRow("'2'", "'bob'", sqlAdvT0, sqlAdvT0, "'paid'", "'tea'", "1", "1"),  // 4 incomplete order
		sqlAdvRow("'3'", "'cat'", sqlAdvT0, sqlAdvT0, "'paid'", "'tea'", "1", "-1"), // 5 negative price
		sqlAdvRow("'2'", "'bob'", sqlAdvT0, sqlAdvT0, "'paid'", "'pen'", "1", "1"),  // 6 incomplete order
		sqlAdvRow("NULL", "'bob'", sqlAdvT0, sqlAdvT0, "'paid'", "'pen'", "1", "1"), // 7 null value
	)}
	batch, err := src.Poll(context.Background(), time.Time{})
	require.NoError(t, err)
	require.Len(t, batch.Changes, 1)
	assert.Equal(t, "1", batch.Changes[0].Key)
	assert.Equal(t, 7, batch.Report.Rows)
	assert.Equal(t, 1, batch.Report.Loaded)
	sqlAdvAccounting(t, batch.Report)
	assert.Equal(t, []dataset.Skip{
		{Reason: "null value", Count: 2, FirstLine: 2},
		{Reason: "removed line", Count: 1, FirstLine: 3},
		{Reason: "incomplete order", Count: 2, FirstLine: 4},
		{Reason: "negative price", Count: 1, FirstLine: 5},
	}, batch.Report.Skipped)
}

// TestAdvSQLArguments: nil context and nil source are ErrNilArgument;
// other bad arguments are errors, never panics.
func TestAdvSQLArguments(t *testing.T) {
	var nilSrc *dataset.SQLSource
	_, err := nilSrc.Poll(context.Background(), time.Time{})
	require.ErrorIs(t, err, affinity.ErrNilArgument)
	//lint:ignore SA1012 a nil context on purpose
	_, err = (&dataset.SQLSource{}).Poll(nil, time.Time{})
	require.ErrorIs(t, err, affinity.ErrNilArgument)
	for _, since := range []any{nil, "2024-01-01", int32(1), uint64(1), &time.Time{}, 1.5} {
		_, err := (&dataset.SQLSource{Query: "SELECT 1"}).Poll(context.Background(), since)
		assert.Error(t, err, "%T", since)
	}
	_, err = (&dataset.SQLSource{Query: "SELECT 1"}).Poll(context.Background(), time.Time{})
	assert.Error(t, err, "no DB")
}

// TestAdvSQLQuantities: returns, the int32 edges, numeric integers, and
// zero quantities (removed lines; an order of removed lines only is a
// delete).
func TestAdvSQLQuantities(t *testing.T) {
	db := sqlAdvDB(t)
	src := &dataset.SQLSource{DB: db, Query: sqlAdvValues(
		sqlAdvRow("'1'", "'ann'", sqlAdvT0, sqlAdvT0, "'paid'", "'mug'", "-3", "8.5"),
		sqlAdvRow("'1'", "'ann'", sqlAdvT0, sqlAdvT0, "'paid'", "'tea'", "-2147483648", "0"),
		sqlAdvRow("'2'", "'bob'", sqlAdvT0, sqlAdvT1, "'paid'", "'pen'", "2147483647", "0.0001"),
		sqlAdvRow("'3'", "'cat'", sqlAdvT0, sqlAdvT1, "'paid'", "'pen'", "3.000::numeric", "1"),
		sqlAdvRow("'4'", "'dan'", sqlAdvT0, sqlAdvT1, "'paid'", "'pen'", "0", "1"),
		sqlAdvRow("'4'", "'dan'", sqlAdvT0, sqlAdvT1, "'paid'", "'ink'", "0", "1"),
	)}
	batch, err := src.Poll(context.Background(), time.Time{})
	require.NoError(t, err)
	require.Len(t, batch.Changes, 4)
	byKey := map[string]affinity.OrderChange{}
	for _, c := range batch.Changes {
		byKey[c.Key] = c
	}
	assert.Len(t, byKey["1"].Lines, 2)
	assert.Equal(t, int32(2147483647), byKey["2"].Lines[0].Quantity)
	assert.Equal(t, int32(3), byKey["3"].Lines[0].Quantity)
	assert.True(t, byKey["4"].Delete, "an order whose lines are all removed is a delete")
	assert.Equal(t, 2, batch.Report.Returns)
	assert.Equal(t, []dataset.Skip{{Reason: "removed line", Count: 2, FirstLine: 5}}, batch.Report.Skipped)
	sqlAdvAccounting(t, batch.Report)
	_, err = sqlAdvApply(nil, batch)
	require.NoError(t, err)
}

// TestAdvSQLNoLinesLeft: "Changes holds one change per order read: a put
// with all its lines, or a delete for an order that is cancelled or has no
// line left". An order whose last line was deleted comes out of a LEFT
// JOIN as one row with NULL line columns; it must be a delete, not a bad
// row that keeps the order's previous version (lenient) or fails the
// poll (strict).
func TestAdvSQLNoLinesLeft(t *testing.T) {
	db, schema := openPostgres(t)
	ctx := context.Background()
	exec(t, db, "INSERT INTO "+schema+".orders VALUES (1, 'ann', $1, $1, 'paid'), (2, 'bob', $1, $1, 'paid')", time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC))
	exec(t, db, "INSERT INTO "+schema+".order_lines VALUES (2, 'mug', 1, 8.5)")
	src := &dataset.SQLSource{DB: db, Query: strings.Replace(ordersQuery(schema, "updated_at"), " JOIN ", " LEFT JOIN ", 1)}
	batch, err := src.Poll(ctx, time.Time{})
	require.NoError(t, err)
	var keys []string
	for _, c := range batch.Changes {
		keys = append(keys, fmt.Sprintf("%s del=%v", c.Key, c.Delete))
	}
	assert.ElementsMatch(t, []string{"1 del=true", "2 del=false"}, keys)
}

// TestAdvSQLCancelledWithBadRows: a cancelled order is deleted in lenient
// mode though one of its line rows is bad (a delete needs no line; its
// good rows, which add none, are counted as "cancelled order"); an
// order with a bad row that is not cancelled keeps its previous version
// (no change), its good rows counted as "incomplete order".
func TestAdvSQLCancelledWithBadRows(t *testing.T) {
	db := sqlAdvDB(t)
	at := "'2024-03-01 10:00:00+00'::timestamptz"
	q := sqlAdvValues(
		sqlAdvRow("'1'", "'ann'", at, at, "'cancelled'", "NULL", "1", "2.5"),
		sqlAdvRow("'1'", "'ann'", at, at, "'cancelled'", "'tea'", "1", "2.5"),
		sqlAdvRow("'2'", "'bob'", at, at, "'paid'", "NULL", "1", "2.5"),
		sqlAdvRow("'2'", "'bob'", at, at, "'paid'", "'tea'", "1", "2.5"),
	)
	src := &dataset.SQLSource{DB: db, Query: q, Cancelled: []string{"cancelled"}, Lenient: true}
	batch, err := src.Poll(context.Background(), time.Time{})
	require.NoError(t, err)
	require.Len(t, batch.Changes, 1)
	assert.Equal(t, "1", batch.Changes[0].Key)
	assert.True(t, batch.Changes[0].Delete)
	assert.Equal(t, []dataset.Skip{{Reason: "null value", Count: 2, FirstLine: 1}, {Reason: "cancelled order", Count: 1, FirstLine: 2},
		{Reason: "incomplete order", Count: 1, FirstLine: 4}}, batch.Report.Skipped)
	assert.Equal(t, batch.Report.Rows, batch.Report.Loaded+batch.Report.SkippedRows())
}

// TestAdvSQLTimes: text times with and without a zone, the ValidTime
// edges, dates, and sub-second parts.
func TestAdvSQLTimes(t *testing.T) {
	db := sqlAdvDB(t)
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	cases := []struct {
		created string
		want    time.Time
	}{
		{"'2024-03-01 10:00:00'", time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)}, // Paris, UTC+1
		{"'2024-07-01 10:00:00'", time.Date(2024, 7, 1, 8, 0, 0, 0, time.UTC)}, // Paris, UTC+2
		{"'2024-03-01 10:00:00+05:30'", time.Date(2024, 3, 1, 4, 30, 0, 0, time.UTC)},
		{"'2024-03-01 10:00:00+00'", time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)},
		{"'2024-03-01T10:00:00.123456Z'", time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)},
		{"'2024-03-01'", time.Date(2024, 2, 29, 23, 0, 0, 0, time.UTC)},
		{"date '2024-03-01'", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"timestamptz '1970-01-01 00:00:00Z'", time.Unix(0, 0)},
		{"timestamptz '2024-03-01 10:00:00.999999+01'", time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		t.Run(c.created, func(t *testing.T) {
			src := &dataset.SQLSource{DB: db, Location: paris, Query: sqlAdvValues(
				sqlAdvRow("'1'", "'ann'", c.created, sqlAdvT0, "'paid'", "'mug'", "1", "1"))}
			batch, err := src.Poll(context.Background(), time.Time{})
			require.NoError(t, err)
			require.Len(t, batch.Changes, 1)
			h, err := sqlAdvApply(nil, batch)
			require.NoError(t, err)
			assert.Equal(t, c.want.Unix(), h.OrderTime(0).Unix(), "%v", h.OrderTime(0))
		})
	}
}

// TestAdvSQLTimeOffsets: a text time's UTC offset is read as RFC 3339
// writes it (hours 00–23, minutes 00–59), in the created-at column and
// the updated-at alike; time.Parse alone reads "+24:00", a day ahead of
// UTC, which no zone has. Strict: an error naming the row and column;
// lenient: the row skipped and counted.
func TestAdvSQLTimeOffsets(t *testing.T) {
	db := sqlAdvDB(t)
	good := "'2024-03-01 10:00:00+23:59'"
	for _, c := range []struct {
		name             string
		created, updated string
		col              string
		reason           string
	}{
		{"created +24:00", "'2024-03-01 10:00:00+24:00'", good, "created_at", "invalid time"},
		{"created +23:60", "'2024-03-01T10:00:00+23:60'", good, "created_at", "invalid time"},
		{"created -24", "'2024-03-01 10:00:00-24'", good, "created_at", "invalid time"},
		{"updated +24:00", good, "'2024-03-01 10:00:00+24:00'", "updated_at", "invalid version"},
		{"updated +22:60", good, "'2024-03-01 10:00:00.5+22:60'", "updated_at", "invalid version"},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := sqlAdvValues(
				sqlAdvRow("'1'", "'ann'", good, good, "'paid'", "'mug'", "1", "1"),
				sqlAdvRow("'2'", "'bob'", c.created, c.updated, "'paid'", "'mug'", "1", "1"))
			_, err := (&dataset.SQLSource{DB: db, Query: q}).Poll(context.Background(), time.Time{})
			var pe *dataset.ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, 2, pe.Line)
			assert.Equal(t, c.col, pe.Field)
			assert.Equal(t, c.reason, pe.Reason)

			batch, err := (&dataset.SQLSource{DB: db, Query: q, Lenient: true}).Poll(context.Background(), time.Time{})
			require.NoError(t, err)
			sqlAdvAccounting(t, batch.Report)
			assert.Equal(t, 1, batch.Report.Loaded)
			require.Len(t, batch.Changes, 1)
			assert.Equal(t, "1", batch.Changes[0].Key)
			assert.Equal(t, time.Date(2024, 2, 29, 10, 1, 0, 0, time.UTC).UnixMicro(), batch.Changes[0].Version, "+23:59 is an offset")
		})
	}
}

// TestAdvSQLVersionTextLocation: "Location is the time zone of text times
// without one". A text updated-at without a zone is such a time: the
// cursor and the version are the instant in Location.
func TestAdvSQLVersionTextLocation(t *testing.T) {
	db := sqlAdvDB(t)
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	src := &dataset.SQLSource{DB: db, Location: paris, Query: sqlAdvValues(
		sqlAdvRow("'1'", "'ann'", "'2024-03-01 10:00:00'", "'2024-03-01 10:00:00'", "'paid'", "'mug'", "1", "1"))}
	batch, err := src.Poll(context.Background(), time.Time{})
	require.NoError(t, err)
	require.Len(t, batch.Changes, 1)
	want := time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
	require.IsType(t, time.Time{}, batch.Cursor)
	assert.True(t, want.Equal(batch.Cursor.(time.Time)), "cursor %v, want %v", batch.Cursor, want)
	assert.Equal(t, want.UnixMicro(), batch.Changes[0].Version)
}

// TestAdvSQLNegativeVersion: versions are 0 or above
// (affinity.OrderChange.Version): an integer version below zero, or an
// updated-at time before 1970, is an invalid version — an error naming
// the row and column, or in lenient mode the order skipped and counted —
// where it was passed on and ordered below version 0, which a delete of
// version 0 does not keep. Version 0 and 1970-01-01 itself are versions.
func TestAdvSQLNegativeVersion(t *testing.T) {
	db := sqlAdvDB(t)
	ctx := context.Background()
	ints := strings.Replace(sqlAdvValues(
		sqlAdvRow("'1'", "'ann'", sqlAdvT0, "0", "'paid'", "'mug'", "1", "1"),
		sqlAdvRow("'2'", "'ann'", sqlAdvT0, "-9", "'paid'", "'mug'", "1", "1"),
	), "$1::timestamptz", "$1::bigint", 1)
	times := sqlAdvValues(
		sqlAdvRow("'1'", "'ann'", sqlAdvT0, "timestamptz '1970-01-01 00:00:00Z'", "'paid'", "'mug'", "1", "1"),
		sqlAdvRow("'2'", "'ann'", sqlAdvT0, "timestamptz '1969-12-31 23:00:00Z'", "'paid'", "'mug'", "1", "1"),
	)
	for _, c := range []struct {
		name  string
		q     string
		since any
	}{{"integer", ints, int64(-100)}, {"time", times, time.Time{}}} {
		t.Run(c.name, func(t *testing.T) {
			_, err := (&dataset.SQLSource{DB: db, Query: c.q}).Poll(ctx, c.since)
			var pe *dataset.ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, 2, pe.Line)
			assert.Equal(t, "updated_at", pe.Field)
			assert.Equal(t, "invalid version", pe.Reason)

			batch, err := (&dataset.SQLSource{DB: db, Query: c.q, Lenient: true}).Poll(ctx, c.since)
			require.NoError(t, err)
			sqlAdvAccounting(t, batch.Report)
			require.Len(t, batch.Changes, 1)
			assert.Equal(t, "1", batch.Changes[0].Key)
			assert.Equal(t, int64(0), batch.Changes[0].Version)
			require.Len(t, batch.Report.Skipped, 1)
			assert.Equal(t, "invalid version", batch.Report.Skipped[0].Reason)
		})
	}
}

// TestAdvSQLVersionRange: the largest timestamps PostgreSQL stores lie
// beyond int64 Unix microseconds; a version must not wrap around to a
// negative number, which would make a later change lose to an earlier
// one. It is an error (or a skip) or a version above every ordinary one.
func TestAdvSQLVersionRange(t *testing.T) {
	db := sqlAdvDB(t)
	src := &dataset.SQLSource{DB: db, Query: sqlAdvValues(
		sqlAdvRow("'1'", "'ann'", sqlAdvT0, "timestamptz '294270-01-01 00:00:00Z'", "'paid'", "'mug'", "1", "1"),
		sqlAdvRow("'2'", "'ann'", sqlAdvT0, sqlAdvT0, "'paid'", "'mug'", "1", "1"),
	)}
	batch, err := src.Poll(context.Background(), time.Time{})
	if err != nil {
		var pe *dataset.ParseError
		require.True(t, errors.As(err, &pe), "%v", err)
		return
	}
	for _, c := range batch.Changes {
		if c.Key == "1" {
			assert.Greater(t, c.Version, batch.Changes[len(batch.Changes)-1].Version-1, "version of the far-future row wrapped: %d", c.Version)
			assert.Positive(t, c.Version, "version of year 294270 wrapped around")
		}
	}
}

// TestAdvSQLTiesAndRowOrder: rows in any order, orders at equal
// updated-at, give the same batch, sorted by (Version, Key).
func TestAdvSQLTiesAndRowOrder(t *testing.T) {
	db := sqlAdvDB(t)
	ctx := context.Background()
	var rows []string
	r := rand.New(rand.NewPCG(3, 9))
	for o := range 40 {
		upd := []string{sqlAdvT0, sqlAdvT1}[r.IntN(2)]
		for l := range 1 + r.IntN(4) {
			rows = append(rows, sqlAdvRow(fmt.Sprintf("'o%02d'", o), fmt.Sprintf("'c%d'", o%7), sqlAdvT0, upd, "'paid'",
				fmt.Sprintf("'p%d'", l), fmt.Sprint(1+r.IntN(3)), fmt.Sprintf("%d.%02d", r.IntN(50), r.IntN(100))))
		}
	}
	var first dataset.SQLBatch
	for i, order := range []string{"", " ORDER BY order_id, product_id", " ORDER BY order_id DESC, product_id DESC", " ORDER BY md5(order_id || product_id)"} {
		src := &dataset.SQLSource{DB: db, Query: sqlAdvValues(rows...) + order}
		batch, err := src.Poll(ctx, time.Time{})
		require.NoError(t, err)
		require.True(t, slices.IsSortedFunc(batch.Changes, func(a, b affinity.OrderChange) int {
			if a.Version != b.Version {
				return int(min(max(a.Version-b.Version, -1), 1))
			}
			return strings.Compare(a.Key, b.Key)
		}))
		for i := range batch.Changes {
			slices.SortFunc(batch.Changes[i].Lines, func(a, b affinity.Purchase) int { return strings.Compare(a.Product, b.Product) })
		}
		if i == 0 {
			first = batch
			require.Len(t, batch.Changes, 40)
			continue
		}
		assert.Equal(t, first.Changes, batch.Changes, order)
		assert.Equal(t, first.Cursor, batch.Cursor)
		assert.Equal(t, first.Report.Rows, batch.Report.Rows)
	}
}

// TestAdvSQLCustomerConflict: the rows of one order name one customer;
// NULL and "" are the same (anonymous), two names are an error at the
// second.
func TestAdvSQLCustomerConflict(t *testing.T) {
	db := sqlAdvDB(t)
	ctx := context.Background()
	src := &dataset.SQLSource{DB: db, Query: sqlAdvValues(
		sqlAdvRow("'1'", "NULL", sqlAdvT0, sqlAdvT0, "'paid'", "'mug'", "1", "1"),
		sqlAdvRow("'1'", "''", sqlAdvT0, sqlAdvT0, "'paid'", "'tea'", "1", "1"),
		sqlAdvRow("'2'", "'ann'", sqlAdvT0, sqlAdvT0, "'paid'", "'mug'", "1", "1"),
		sqlAdvRow("'2'", "'bob'", sqlAdvT0, sqlAdvT0, "'paid'", "'tea'", "1", "1"),
		sqlAdvRow("'2'", "'ann'", sqlAdvT0, sqlAdvT0, "'paid'", "'pen'", "1", "1"),
	) + " ORDER BY order_id, product_id"}
	_, err := src.Poll(ctx, time.Time{})
	var pe *dataset.ParseError
	require.True(t, errors.As(err, &pe), "%v", err)
	assert.Equal(t, 5, pe.Line) // rows: 1 NULL mug, 1 '' tea, 2 ann mug, 2 ann pen, 2 bob tea
	assert.Equal(t, 2, pe.Column)
	assert.Equal(t, "customer conflict", pe.Reason)
	src.Lenient = true
	batch, err := src.Poll(ctx, time.Time{})
	require.NoError(t, err)
	require.Len(t, batch.Changes, 1)
	assert.Equal(t, "1", batch.Changes[0].Key)
	assert.Contains(t, batch.Report.Skipped, dataset.Skip{Reason: "customer conflict", Count: 1, FirstLine: 5})
	assert.Equal(t, 2, batch.Report.Anonymous)
	sqlAdvAccounting(t, batch.Report)
}

// TestAdvSQLColumnNames: renamed columns are found by name in any order,
// and errors give the 1-based position of the column in the result.
func TestAdvSQLColumnNames(t *testing.T) {
	db := sqlAdvDB(t)
	ctx := context.Background()
	q := `SELECT 'x' AS junk, 'mug' AS "SKU", 'ann' AS buyer, 3 AS n, 'nope' AS placed, 7::bigint AS seq, 'A-1' AS "Order Id"
WHERE $1::bigint IS NOT NULL`
	cols := dataset.SQLColumns{Order: "Order Id", Customer: "buyer", Product: "SKU", Time: "placed", Quantity: "n", Version: "seq"}
	src := &dataset.SQLSource{DB: db, Query: q, Columns: cols}
	_, err := src.Poll(ctx, int64(0))
	var pe *dataset.ParseError
	require.True(t, errors.As(err, &pe), "%v", err)
	assert.Equal(t, 1, pe.Line)
	assert.Equal(t, 5, pe.Column)
	assert.Equal(t, "placed", pe.Field)

	src.Query = strings.Replace(q, "'nope'", "timestamptz '2024-03-01 10:00:00Z'", 1)
	batch, err := src.Poll(ctx, int64(0))
	require.NoError(t, err)
	require.Len(t, batch.Changes, 1)
	c := batch.Changes[0]
	assert.Equal(t, "A-1", c.Key)
	assert.Equal(t, int64(7), c.Version)
	assert.Equal(t, int64(7), batch.Cursor)
	require.Len(t, c.Lines, 1)
	assert.Equal(t, affinity.Purchase{Customer: "ann", Product: "mug", Time: c.Lines[0].Time, Quantity: 3}, c.Lines[0])

	// a required renamed column missing; column names match exactly
	src.Columns.Product = "sku"
	_, err = src.Poll(ctx, int64(0))
	assert.ErrorContains(t, err, `no column "sku"`)
	// an optional column named but missing is an error too
	src.Columns.Product, src.Columns.Price = "SKU", "amount"
	_, err = src.Poll(ctx, int64(0))
	assert.ErrorContains(t, err, `no column "amount"`)
}

// TestAdvSQLUnicodeKeys: keys are kept as the database holds them: no
// normalisation, no case folding.
func TestAdvSQLUnicodeKeys(t *testing.T) {
	db := sqlAdvDB(t)
	keys := []string{"é", "e\u0301", "É", "🛒", "ﬁ", "fi", "\u202eevil", "a\u200bb", "ab"}
	var rows []string
	for i, k := range keys {
		rows = append(rows, sqlAdvRow(fmt.Sprintf("'%d'", i), "'"+k+"'", sqlAdvT0, sqlAdvT0, "'paid'", "'"+k+"'", "1", "1"))
	}
	batch, err := (&dataset.SQLSource{DB: db, Query: sqlAdvValues(rows...)}).Poll(context.Background(), time.Time{})
	require.NoError(t, err)
	require.Len(t, batch.Changes, len(keys))
	var got []string
	for _, c := range batch.Changes {
		require.Len(t, c.Lines, 1)
		assert.Equal(t, c.Lines[0].Customer, c.Lines[0].Product)
		got = append(got, c.Lines[0].Product)
	}
	assert.ElementsMatch(t, keys, got)
	h, err := sqlAdvApply(nil, batch)
	require.NoError(t, err)
	assert.Equal(t, len(keys), h.NumCustomers())
}

// TestAdvSQLMaxRows: MaxRows rows read; one more is ErrLimit; negative
// is no limit.
func TestAdvSQLMaxRows(t *testing.T) {
	db := sqlAdvDB(t)
	ctx := context.Background()
	n := testdata.Scale(300_000, 5_000)
	q := fmt.Sprintf(`SELECT i::text AS order_id, 'c' || (i %% 97) AS customer_id, timestamptz '2024-01-01' + i * interval '1 second' AS created_at,
  timestamptz '2024-01-01' + i * interval '1 second' AS updated_at, 'p' || (i %% 13) AS product_id
FROM generate_series(1, %d) i WHERE $1::timestamptz IS NOT NULL`, n)
	for _, c := range []struct {
		max int
		err bool
	}{{n, false}, {n - 1, true}, {1, true}, {-1, false}} {
		batch, err := (&dataset.SQLSource{DB: db, Query: q, MaxRows: c.max}).Poll(ctx, time.Time{})
		if c.err {
			require.ErrorIs(t, err, dataset.ErrLimit, "MaxRows %d", c.max)
			assert.Empty(t, batch.Changes)
			var pe *dataset.ParseError
			require.True(t, errors.As(err, &pe))
			assert.Equal(t, c.max+1, pe.Line)
			continue
		}
		require.NoError(t, err, "MaxRows %d", c.max)
		assert.Len(t, batch.Changes, n)
		assert.Equal(t, n, batch.Report.Rows)
	}
}

// TestAdvSQLFailMidway: a query that fails after some rows, or a closed
// DB, returns an error and nothing else: no changes, the cursor given.
func TestAdvSQLFailMidway(t *testing.T) {
	db := sqlAdvDB(t)
	ctx := context.Background()
	since := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	q := `SELECT i::text AS order_id, 'ann' AS customer_id, now() AS created_at, now() + (1 / (i - 5000)) * interval '1 s' AS updated_at, 'mug' AS product_id
FROM generate_series(1, 6000) i WHERE $1::timestamptz IS NOT NULL`
	for _, lenient := range []bool{false, true} {
		batch, err := (&dataset.SQLSource{DB: db, Query: q, Lenient: lenient}).Poll(ctx, since)
		require.Error(t, err)
		assert.ErrorContains(t, err, "division by zero")
		assert.Empty(t, batch.Changes)
		assert.Equal(t, since, batch.Cursor)
	}

	closed := sqlAdvDB(t)
	require.NoError(t, closed.Close())
	batch, err := (&dataset.SQLSource{DB: closed, Query: q}).Poll(ctx, since)
	require.Error(t, err)
	assert.Empty(t, batch.Changes)
	assert.Equal(t, since, batch.Cursor)
}

// TestAdvSQLCancelMidStream cancels ctx while the poll waits for a row in
// the middle of the result: Poll returns ctx's error, no changes, the
// cursor given.
func TestAdvSQLCancelMidStream(t *testing.T) {
	db := sqlAdvDB(t)
	marker := fmt.Sprintf("adv_cancel_%d_%d", os.Getpid(), rand.Uint32())
	q := fmt.Sprintf(`SELECT /* %s */ i::text AS order_id, 'ann' AS customer_id, now() AS created_at, now() AS updated_at,
  CASE WHEN i = 9000 THEN 'p' || pg_sleep(30)::text ELSE 'mug' END AS product_id
FROM generate_series(1, 10000) i WHERE $1::timestamptz IS NOT NULL`, marker)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var watchErr atomic.Value
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // cancel once the server sleeps in the query
		defer wg.Done()
		defer cancel()
		for ctx.Err() == nil {
			var n int
			err := db.QueryRowContext(context.Background(),
				`SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND query LIKE '%'||$1||'%' AND query NOT LIKE '%pg_stat_activity%'`, marker).Scan(&n)
			if err != nil {
				watchErr.Store(err)
				return
			}
			if n > 0 {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	since := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	batch, err := (&dataset.SQLSource{DB: db, Query: q}).Poll(ctx, since)
	wg.Wait()
	require.Nil(t, watchErr.Load())
	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, batch.Changes)
	assert.Equal(t, since, batch.Cursor)
}

// TestAdvSQLConcurrentPolls: "A SQLSource is safe for concurrent use if DB
// is" (run with -race).
func TestAdvSQLConcurrentPolls(t *testing.T) {
	db := sqlAdvDB(t)
	src := &dataset.SQLSource{DB: db, Lenient: true, Cancelled: []string{"x"}, Query: sqlAdvValues(
		sqlAdvRow("'1'", "'ann'", sqlAdvT0, sqlAdvT0, "'paid'", "'mug'", "1", "1"),
		sqlAdvRow("'1'", "'ann'", sqlAdvT0, sqlAdvT0, "'paid'", "NULL", "1", "1"),
		sqlAdvRow("'2'", "'bob'", sqlAdvT0, sqlAdvT1, "'x'", "'mug'", "1", "1"),
		sqlAdvRow("'3'", "'cat'", sqlAdvT0, sqlAdvT1, "'paid'", "'tea'", "2", "3"),
	)}
	want, err := src.Poll(context.Background(), time.Time{})
	require.NoError(t, err)
	var wg sync.WaitGroup
	got := make([]dataset.SQLBatch, 8)
	errs := make([]error, len(got))
	for i := range got {
		wg.Go(func() { got[i], errs[i] = src.Poll(context.Background(), time.Time{}) })
	}
	wg.Wait()
	for i := range got {
		require.NoError(t, errs[i])
		assert.Equal(t, want, got[i])
	}
}

// TestAdvSQLTimestampWithoutZone: timestamp (without time zone) columns,
// with a session in another time zone, poll and resume from the cursor
// like timestamptz ones: the second poll reads the orders at the cursor
// and after, nothing before.
func TestAdvSQLTimestampWithoutZone(t *testing.T) {
	url := os.Getenv(postgresEnv)
	if url == "" {
		t.Skipf("no PostgreSQL: set %s to run", postgresEnv)
	}
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	db, err := sql.Open("pgx", url+sep+"timezone=America/New_York")
	require.NoError(t, err)
	defer db.Close()
	ctx := context.Background()
	schema := fmt.Sprintf("affinity_adv_%d_%d", os.Getpid(), rand.Uint32())
	exec(t, db, fmt.Sprintf(`CREATE SCHEMA %[1]s; CREATE TABLE %[1]s.lines (order_id int, created_at timestamp, updated_at timestamp, product_id text)`, schema))
	defer db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	exec(t, db, "INSERT INTO "+schema+".lines VALUES (1, '2024-03-01 10:00', '2024-03-01 10:00', 'mug'), (2, '2024-03-01 11:00', '2024-03-01 11:00', 'tea')")
	src := &dataset.SQLSource{DB: db, Query: "SELECT * FROM " + schema + ".lines WHERE updated_at >= $1"}
	batch, err := src.Poll(ctx, time.Time{})
	require.NoError(t, err)
	require.Len(t, batch.Changes, 2)
	exec(t, db, "INSERT INTO "+schema+".lines VALUES (3, '2024-03-01 12:00', '2024-03-01 12:00', 'pen')")
	next, err := src.Poll(ctx, batch.Cursor)
	require.NoError(t, err)
	var keys []string
	for _, c := range next.Changes {
		keys = append(keys, c.Key)
	}
	assert.Equal(t, []string{"2", "3"}, keys, "cursor %v", batch.Cursor)
	h, err := sqlAdvApply(nil, batch)
	require.NoError(t, err)
	assert.Equal(t, time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC).Unix(), h.OrderTime(0).Unix(), "a timestamp without zone is UTC")
}

// TestAdvSQLIncrementalEqualsScratch is a property test: random edits
// (ties in updated_at, new lines, removed lines, cancellations and
// re-opened orders, customers moved, lines deleted) between polls; the
// History kept by incremental polls equals one built from a full poll,
// with a time cursor (with and without overlap) and with an integer
// change-sequence cursor.
func TestAdvSQLIncrementalEqualsScratch(t *testing.T) {
	db, schema := openPostgres(t)
	ctx := context.Background()
	exec(t, db, "ALTER TABLE "+schema+".orders ADD COLUMN seq bigint NOT NULL DEFAULT 0")
	seeds := testdata.Scale(6, 2)
	rounds := testdata.Scale(12, 5)
	for seed := range uint64(seeds) {
		exec(t, db, "TRUNCATE "+schema+".order_lines, "+schema+".orders")
		r := rand.New(rand.NewPCG(seed, 99))
		clock := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
		seq := int64(0)
		q := func(cursor string) string {
			return fmt.Sprintf(`SELECT o.id AS order_id, o.customer_id, o.created_at, o.updated_at, o.seq, o.status,
  l.sku AS product_id, l.quantity, l.price
FROM %[1]s.orders o JOIN %[1]s.order_lines l ON l.order_id = o.id WHERE o.%[2]s >= $1`, schema, cursor)
		}
		srcs := []*dataset.SQLSource{
			{DB: db, Query: q("updated_at"), Cancelled: []string{"cancelled"}},
			{DB: db, Query: q("updated_at"), Cancelled: []string{"CANCELLED"}, Overlap: time.Hour},
			{DB: db, Query: q("seq"), Cancelled: []string{"cancelled"}, Columns: dataset.SQLColumns{Version: "seq"}},
		}
		cursors := []any{time.Time{}, time.Time{}, int64(0)}
		hs := make([]*affinity.History, len(srcs))
		nextID := int64(1)
		touch := func(id int64) {
			seq++
			exec(t, db, "UPDATE "+schema+".orders SET updated_at = $2, seq = $3 WHERE id = $1", id, clock, seq)
		}
		for round := range rounds {
			for range 1 + r.IntN(12) {
				if r.IntN(3) > 0 {
					clock = clock.Add(time.Duration(r.IntN(2)) * time.Second) // many ties
				}
				id := 1 + r.Int64N(max(nextID-1, 1))
				switch k := r.IntN(7); {
				case k <= 1 || nextID == 1:
					seq++
					cust := any(fmt.Sprintf("c%d", r.IntN(4)))
					if r.IntN(5) == 0 {
						cust = nil
					}
					exec(t, db, "INSERT INTO "+schema+".orders VALUES ($1, $2, $3, $3, 'paid', $4)", nextID, cust, clock, seq)
					for range 1 + r.IntN(3) {
						exec(t, db, "INSERT INTO "+schema+".order_lines VALUES ($1, $2, $3, $4)", nextID, fmt.Sprintf("p%d", r.IntN(5)), r.IntN(4)-1, fmt.Sprintf("%d.%04d", r.IntN(100), r.IntN(10000)))
					}
					nextID++
				case k == 2: // a quantity changed (0 removes the line, negative is a return)
					exec(t, db, "UPDATE "+schema+".order_lines SET quantity = $2 WHERE order_id = $1 AND sku = (SELECT min(sku) FROM "+schema+".order_lines WHERE order_id = $1)", id, r.IntN(4)-1)
					touch(id)
				case k == 3: // cancelled, or re-opened
					exec(t, db, "UPDATE "+schema+".orders SET status = CASE WHEN status = 'paid' THEN 'Cancelled' ELSE 'paid' END WHERE id = $1", id)
					touch(id)
				case k == 4: // a line added
					exec(t, db, "INSERT INTO "+schema+".order_lines VALUES ($1, $2, 1, 1.5)", id, fmt.Sprintf("p%d", r.IntN(5)))
					touch(id)
				case k == 5: // a line deleted, keeping at least one
					exec(t, db, "DELETE FROM "+schema+".order_lines WHERE ctid IN (SELECT ctid FROM "+schema+".order_lines WHERE order_id = $1 LIMIT 1) AND (SELECT count(*) FROM "+schema+".order_lines WHERE order_id = $1) > 1", id)
					touch(id)
				default: // the order moved to another customer
					exec(t, db, "UPDATE "+schema+".orders SET customer_id = $2 WHERE id = $1", id, fmt.Sprintf("c%d", r.IntN(4)))
					touch(id)
				}
			}
			var want []string
			for i, src := range srcs {
				batch, err := src.Poll(ctx, cursors[i])
				require.NoError(t, err)
				sqlAdvAccounting(t, batch.Report)
				cursors[i] = batch.Cursor
				hs[i], err = sqlAdvApply(hs[i], batch)
				require.NoError(t, err)
				scratchBatch, err := src.Poll(ctx, map[bool]any{true: time.Time{}, false: int64(0)}[i < 2])
				require.NoError(t, err)
				scratch, err := sqlAdvApply(nil, scratchBatch)
				require.NoError(t, err)
				require.Equal(t, ordersOnly(scratch), ordersOnly(hs[i]), "seed %d round %d source %d", seed, round, i)
				if i == 0 {
					want = ordersOnly(scratch)
				} else {
					require.Equal(t, want, ordersOnly(hs[i]), "seed %d round %d source %d", seed, round, i)
				}
				// a repeated poll from the new cursor changes nothing
				again, err := src.Poll(ctx, cursors[i])
				require.NoError(t, err)
				h2, err := sqlAdvApply(hs[i], again)
				require.NoError(t, err)
				require.Equal(t, ordersOnly(hs[i]), ordersOnly(h2))
			}
		}
	}
}

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
	assert.Equal(t, []dataset.Skip{{Reason: "cancelled order", Count: 2, FirstLine: 10}}, batch.Report.Skipped, "a cancelled order's rows add no line")
	assert.Equal(t, map[string]int{"1": 7, "2": 1, "3": 2, "4": 0}, lines(batch), "duplicates are loaded")
	assert.Contains(t, batch.Report.String(), "3 (first at row 5)")

	src.DropDuplicates = true
	batch, err = src.Poll(context.Background(), time.Time{})
	require.NoError(t, err)
	assert.Equal(t, 3, batch.Report.Duplicates)
	assert.Equal(t, 5, batch.Report.FirstDuplicate)
	assert.Equal(t, []dataset.Skip{{Reason: "duplicate row", Count: 3, FirstLine: 5}, {Reason: "cancelled order", Count: 2, FirstLine: 10}}, batch.Report.Skipped)
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
