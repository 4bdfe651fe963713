package benchmarks

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/shopaffinity/affinity"

	// DuckDB's database/sql driver, "duckdb".
	_ "github.com/duckdb/duckdb-go/v2"
)

// Duck is an in-memory DuckDB database holding one shop.
type Duck struct {
	DB   *sql.DB
	shop *Shop
}

// OpenDuck opens an in-memory DuckDB database with the given number of
// threads (0: DuckDB's default, one per core). Close it with Duck.Close.
func OpenDuck(shop *Shop, threads int) (*Duck, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1) // one connection: temp state and settings stay put
	if threads > 0 {
		if _, err := db.Exec(fmt.Sprintf("SET threads = %d", threads)); err != nil {
			db.Close()
			return nil, err
		}
	}
	return &Duck{DB: db, shop: shop}, nil
}

// Close closes the database.
func (d *Duck) Close() error { return d.DB.Close() }

// Load reads the shop's CSV file into the table lines(customer, order_id,
// product, category, ts, qty, price) with explicit column types: price is
// DECIMAL(18,4), exact as affinity.Money is, for amounts below 10¹⁴ (Money
// reaches 9.2·10¹⁴; the benchmark's shops stay far below) of at most 4
// decimals (DuckDB silently rounds a price of more, such as 1.00005,
// where affinity's loader rejects it; see the package doc). Lines without
// a customer (guest orders) belong to no customer, as in a History, and
// are left out; a line without an order id is in the order of its
// customer and second, as affinity.Purchase has it.
func (d *Duck) Load(ctx context.Context) error {
	q := fmt.Sprintf(`CREATE TABLE lines AS
SELECT customer, coalesce("order", customer || '@' || CAST("time" AS VARCHAR)) AS order_id,
  product, category, "time" AS ts, quantity AS qty, price
FROM read_csv(%s, header = true, delim = ',', quote = '"',
  columns = {'customer': 'VARCHAR', 'order': 'VARCHAR', 'product': 'VARCHAR', 'category': 'VARCHAR',
             'time': 'TIMESTAMP', 'quantity': 'INTEGER', 'price': 'DECIMAL(18,4)'},
  timestampformat = '%%Y-%%m-%%d %%H:%%M:%%S')
WHERE customer IS NOT NULL`, quote(d.shop.Path))
	_, err := d.DB.ExecContext(ctx, q)
	return err
}

// sqlAsOf and sqlStart are the as-of time and the start of the 24-month
// look-back as SQL expressions; the window is (start, asOf]. The start is
// DuckDB's own interval arithmetic, which takes a day the target month
// lacks as its last day (2028-02-29 − 24 months is 2026-02-28), as
// affinity.Lookback does.
func sqlAsOf() string { return "TIMESTAMP '" + AsOf.Format(TimeLayout) + "'" }
func sqlStart() string {
	return fmt.Sprintf("(%s - INTERVAL %d MONTH)", sqlAsOf(), LookbackMonths)
}

// Precompute derives the per-customer tables a data person would keep next
// to the lines, as of AsOf:
//
//	cust(customer, last_bought, frequency, monetary, spend, recency, r, f)
//	cust_cat(customer, cat, spend, last_bought)
//
// cust has one row per customer with a line at or before AsOf: the last
// bought line ever, orders with a bought line, net and bought spend in the
// look-back, recency in whole days and the NTILE(5) R and F scores of the
// customers with a bought order in the look-back. cust_cat has one row per
// customer and category node (every level) bought at or before AsOf, with
// the bought spend in the look-back and the last purchase; it is sorted by
// category so that DuckDB's zone maps skip the other categories.
func (d *Duck) Precompute(ctx context.Context) error {
	a, s := sqlAsOf(), sqlStart()
	cust := fmt.Sprintf(`CREATE TABLE cust AS
WITH c AS (
  SELECT customer,
    max(ts) FILTER (WHERE qty > 0) AS last_bought,
    count(DISTINCT order_id) FILTER (WHERE qty > 0 AND ts > %[2]s) AS frequency,
    coalesce(sum(qty * price) FILTER (WHERE ts > %[2]s), 0) AS monetary,
    coalesce(sum(qty * price) FILTER (WHERE qty > 0 AND ts > %[2]s), 0) AS spend
  FROM lines WHERE ts <= %[1]s GROUP BY customer),
s AS (
  SELECT customer,
    NTILE(5) OVER (ORDER BY last_bought, customer) AS r,
    NTILE(5) OVER (ORDER BY frequency, customer) AS f
  FROM c WHERE frequency > 0)
SELECT c.*, date_diff('second', c.last_bought, %[1]s) // 86400 AS recency, s.r, s.f
FROM c LEFT JOIN s USING (customer)`, a, s)
	cat := fmt.Sprintf(`CREATE TABLE cust_cat AS
SELECT customer, cat,
  coalesce(sum(qty * price) FILTER (WHERE ts > %[2]s), 0) AS spend,
  max(ts) AS last_bought
FROM (SELECT customer, ts, qty, price,
        unnest(list_distinct([split_part(category, '/', 1),
                              split_part(category, '/', 1) || '/' || split_part(category, '/', 2),
                              category])) AS cat
      FROM lines WHERE qty > 0 AND ts <= %[1]s)
GROUP BY customer, cat
ORDER BY cat, customer`, a, s)
	for _, q := range []string{cust, cat} {
		if _, err := d.DB.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// Way is one way of answering the questions with DuckDB.
type Way int

// The two DuckDB ways.
const (
	Raw         Way = iota // SQL on the lines table
	Precomputed            // SQL on cust and cust_cat
)

// String returns "duckdb raw" or "duckdb precomputed".
func (w Way) String() string {
	if w == Raw {
		return "duckdb raw"
	}
	return "duckdb precomputed"
}

// money converts a DECIMAL(…,4) expression to affinity.Money units.
func money(x string) string { return fmt.Sprintf("CAST(coalesce(%s, 0) * 10000 AS BIGINT)", x) }

// SQL returns the query that answers q the way w. QShare, QRecent and
// QCoupon return (customer, net spend) rows, QRFM (customer, r, f, net
// spend) rows and QCouponStats one (customers, net spend) row; spend in
// affinity.Money units.
func (d *Duck) SQL(w Way, q Question) string {
	a, s := sqlAsOf(), sqlStart()
	inCat := fmt.Sprintf("starts_with(category || '/', %s)", quote(d.shop.Category+"/"))
	inSub := fmt.Sprintf("starts_with(category || '/', %s)", quote(d.shop.Sub+"/"))
	recent := fmt.Sprintf("date_diff('second', last_bought, %s) // 86400 BETWEEN 14 AND 28", a)
	notSub := fmt.Sprintf("(last_sub IS NULL OR last_sub <= %s - INTERVAL 90 DAY)", a)
	var couponSQL string
	if w == Raw {
		per := fmt.Sprintf(`SELECT customer,
    sum(qty * price) FILTER (WHERE ts > %[2]s) AS monetary,
    sum(qty * price) FILTER (WHERE ts > %[2]s AND qty > 0) AS spend,
    sum(qty * price) FILTER (WHERE ts > %[2]s AND qty > 0 AND %[3]s) AS spend_x,
    max(ts) FILTER (WHERE qty > 0) AS last_bought,
    max(ts) FILTER (WHERE qty > 0 AND %[4]s) AS last_sub
  FROM lines WHERE ts <= %[1]s GROUP BY customer`, a, s, inCat, inSub)
		couponSQL = fmt.Sprintf(`WITH per AS (%s)
SELECT customer, %s AS m FROM per
WHERE spend > 0 AND spend_x * 10 >= spend * 3 AND %s AND %s`, per, money("monetary"), recent, notSub)
		switch q {
		case QShare:
			return fmt.Sprintf(`SELECT customer, %s AS m FROM lines WHERE ts > %s AND ts <= %s GROUP BY customer
HAVING sum(qty * price) FILTER (WHERE qty > 0) > 0
   AND coalesce(sum(qty * price) FILTER (WHERE qty > 0 AND %s), 0) * 10 >= sum(qty * price) FILTER (WHERE qty > 0) * 3`,
				money("sum(qty * price)"), s, a, inCat)
		case QRecent:
			return fmt.Sprintf(`SELECT customer, %s AS m FROM lines WHERE ts <= %s GROUP BY customer
HAVING date_diff('second', max(ts) FILTER (WHERE qty > 0), %s) // 86400 BETWEEN 14 AND 28`,
				money(fmt.Sprintf("sum(qty * price) FILTER (WHERE ts > %s)", s)), a, a)
		case QRFM:
			return fmt.Sprintf(`WITH per AS (
  SELECT customer, max(ts) FILTER (WHERE qty > 0) AS last_bought,
    count(DISTINCT order_id) FILTER (WHERE qty > 0) AS frequency, sum(qty * price) AS monetary
  FROM lines WHERE ts > %s AND ts <= %s GROUP BY customer)
SELECT customer, NTILE(5) OVER (ORDER BY last_bought, customer) AS r,
  NTILE(5) OVER (ORDER BY frequency, customer) AS f, %s AS m
FROM per WHERE frequency > 0`, s, a, money("monetary"))
		}
	} else {
		couponSQL = fmt.Sprintf(`SELECT c.customer, %s AS m
FROM cust c JOIN cust_cat k ON k.customer = c.customer AND k.cat = %s
LEFT JOIN (SELECT customer, last_bought AS last_sub FROM cust_cat WHERE cat = %s) s ON s.customer = c.customer
WHERE c.spend > 0 AND k.spend * 10 >= c.spend * 3 AND c.recency BETWEEN 14 AND 28 AND %s`,
			money("c.monetary"), quote(d.shop.Category), quote(d.shop.Sub), notSub)
		switch q {
		case QShare:
			return fmt.Sprintf(`SELECT c.customer, %s AS m
FROM cust c JOIN cust_cat k ON k.customer = c.customer AND k.cat = %s
WHERE c.spend > 0 AND k.spend * 10 >= c.spend * 3`, money("c.monetary"), quote(d.shop.Category))
		case QRecent:
			return fmt.Sprintf(`SELECT customer, %s AS m FROM cust WHERE recency BETWEEN 14 AND 28`, money("monetary"))
		case QRFM:
			return fmt.Sprintf(`SELECT customer, r, f, %s AS m FROM cust WHERE r IS NOT NULL`, money("monetary"))
		}
	}
	switch q {
	case QCoupon:
		return couponSQL
	case QCouponStats:
		return fmt.Sprintf(`SELECT count(*), coalesce(sum(m), 0) FROM (%s)`, couponSQL)
	}
	panic(fmt.Sprintf("benchmarks: unknown question %q", q))
}

// CellsSQL returns the query that counts the R×F cells the way w:
// (r, f, customers, net spend) rows, the timed form of QRFM.
func (d *Duck) CellsSQL(w Way) string {
	return fmt.Sprintf(`SELECT r, f, count(*), CAST(sum(m) AS BIGINT) FROM (%s) GROUP BY r, f`, d.SQL(w, QRFM))
}

// Answer runs the query of q the way w and returns its answer; for QRFM it
// fills ans.RFM with the cells' customers. Keys are sorted.
func (d *Duck) Answer(ctx context.Context, w Way, q Question, ans *Answers) error {
	rows, err := d.DB.QueryContext(ctx, d.SQL(w, q))
	if err != nil {
		return fmt.Errorf("%s %s: %w", w, q, err)
	}
	defer rows.Close()
	var set Set
	switch q {
	case QCouponStats:
		for rows.Next() {
			var m int64
			if err := rows.Scan(&set.Customers, &m); err != nil {
				return err
			}
			set.Spend = affinity.Money(m)
		}
	case QRFM:
		for rows.Next() {
			var key string
			var r, f int
			var m int64
			if err := rows.Scan(&key, &r, &f, &m); err != nil {
				return err
			}
			c := &ans.RFM[r-1][f-1]
			c.Keys = append(c.Keys, key)
			c.Customers++
			c.Spend += affinity.Money(m)
		}
		for r := range 5 {
			for f := range 5 {
				slices.Sort(ans.RFM[r][f].Keys)
				if ans.RFM[r][f].Keys == nil {
					ans.RFM[r][f].Keys = []string{}
				}
			}
		}
	default:
		set.Keys = []string{}
		for rows.Next() {
			var key string
			var m int64
			if err := rows.Scan(&key, &m); err != nil {
				return err
			}
			set.Keys = append(set.Keys, key)
			set.Customers++
			set.Spend += affinity.Money(m)
		}
		slices.Sort(set.Keys)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if q != QRFM {
		if ans.Sets == nil {
			ans.Sets = map[Question]Set{}
		}
		ans.Sets[q] = set
	}
	return nil
}

// Answers answers every question the way w.
func (d *Duck) Answers(ctx context.Context, w Way) (*Answers, error) {
	ans := &Answers{}
	for _, q := range Questions {
		if err := d.Answer(ctx, w, q, ans); err != nil {
			return nil, err
		}
	}
	return ans, nil
}

// quote returns s as an SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
