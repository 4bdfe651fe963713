package benchmarks

import (
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopaffinity/affinity"
)

// The naive baseline is what a Go programmer writes without the library:
// encoding/csv into a slice of structs, one map entry per customer with the
// features the questions need, every question a scan over all customers,
// and co-occurrence as a map of product pairs. It answers the same
// questions, so its answers are checked too. It borrows the library's money
// and calendar (affinity.ParseMoney, affinity.Money, affinity.Months(24).Start),
// so it checks affinity's model of the questions but not those; DuckDB is
// the independent check.

// NaiveLine is one parsed CSV row.
type NaiveLine struct {
	Customer, Order, Product, Category string
	Unix                               int64
	Qty                                int32
	Price                              affinity.Money
}

// NaiveLoad reads the shop's CSV file with encoding/csv.
func NaiveLoad(path string) ([]NaiveLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.ReuseRecord = true
	if _, err := r.Read(); err != nil {
		return nil, err
	}
	var out []NaiveLine
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		t, err := time.Parse(TimeLayout, rec[4])
		if err != nil {
			return nil, err
		}
		q, err := strconv.ParseInt(rec[5], 10, 32)
		if err != nil {
			return nil, err
		}
		p, err := affinity.ParseMoney(rec[6], '.')
		if err != nil {
			return nil, err
		}
		out = append(out, NaiveLine{Customer: rec[0], Order: rec[1], Product: rec[2], Category: rec[3],
			Unix: t.Unix(), Qty: int32(q), Price: p})
	}
}

// NaiveCustomer holds one customer's features as of AsOf.
type NaiveCustomer struct {
	Key        string
	LastBought int64 // Unix seconds; 0 when never bought
	Orders     map[string]bool
	Monetary   affinity.Money // net, in the look-back
	Spend      affinity.Money // bought, in the look-back
	CatSpend   map[string]affinity.Money
	CatLast    map[string]int64
}

// orderKey is l's order: its id, or without one its time (with the
// customer: the order of the customer and second, as affinity.Purchase).
func orderKey(l NaiveLine) string {
	if l.Order != "" {
		return l.Order
	}
	return "@" + strconv.FormatInt(l.Unix, 10)
}

// atLeast reports whether a·ka ≥ b·kb for a, b ≥ 0 (else false) and small
// factors, exactly: the products are 128-bit, so a spend near Money's
// limit does not wrap.
func atLeast(a affinity.Money, ka uint64, b affinity.Money, kb uint64) bool {
	if a < 0 || b < 0 {
		return false
	}
	ahi, alo := bits.Mul64(uint64(a), ka)
	bhi, blo := bits.Mul64(uint64(b), kb)
	return ahi > bhi || ahi == bhi && alo >= blo
}

// NaiveFeatures groups the lines by customer into features, sorted by key.
func NaiveFeatures(lines []NaiveLine) []*NaiveCustomer {
	asOf, start := AsOf.Unix(), affinity.Months(LookbackMonths).Start(AsOf).Unix()
	m := map[string]*NaiveCustomer{}
	for _, l := range lines {
		if l.Unix > asOf || l.Customer == "" { // a guest's line is no customer's
			continue
		}
		c := m[l.Customer]
		if c == nil {
			c = &NaiveCustomer{Key: l.Customer, Orders: map[string]bool{}, CatSpend: map[string]affinity.Money{}, CatLast: map[string]int64{}}
			m[l.Customer] = c
		}
		v := affinity.Money(l.Qty) * l.Price
		in := l.Unix > start
		if in {
			c.Monetary += v
		}
		if l.Qty <= 0 {
			continue
		}
		c.LastBought = max(c.LastBought, l.Unix)
		if in {
			c.Orders[orderKey(l)] = true
			c.Spend += v
		}
		for i, ch := range l.Category + "/" {
			if ch == '/' {
				cat := l.Category[:i]
				if in {
					c.CatSpend[cat] += v
				}
				c.CatLast[cat] = max(c.CatLast[cat], l.Unix)
			}
		}
	}
	out := make([]*NaiveCustomer, 0, len(m))
	for _, c := range m {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *NaiveCustomer) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// NaiveAnswer answers q by a scan over the customers (and, for QRFM, two
// sorts). Keys come out sorted because the customers are.
func NaiveAnswer(shop *Shop, cs []*NaiveCustomer, q Question, ans *Answers) {
	asOf := AsOf.Unix()
	share := func(c *NaiveCustomer) bool { return c.Spend > 0 && atLeast(c.CatSpend[shop.Category], 10, c.Spend, 3) }
	recent := func(c *NaiveCustomer) bool {
		d := (asOf - c.LastBought) / 86400
		return c.LastBought != 0 && d >= 14 && d <= 28
	}
	coupon := func(c *NaiveCustomer) bool {
		return share(c) && recent(c) && c.CatLast[shop.Sub] <= asOf-90*86400
	}
	if q == QRFM {
		var scored []*NaiveCustomer
		for _, c := range cs {
			if len(c.Orders) > 0 {
				scored = append(scored, c)
			}
		}
		ntile := func(by func(a, b *NaiveCustomer) int) map[*NaiveCustomer]int {
			s := slices.Clone(scored)
			slices.SortFunc(s, func(a, b *NaiveCustomer) int { return cmp.Or(by(a, b), strings.Compare(a.Key, b.Key)) })
			return ntile5(s)
		}
		r := ntile(func(a, b *NaiveCustomer) int { return cmp.Compare(a.LastBought, b.LastBought) })
		f := ntile(func(a, b *NaiveCustomer) int { return cmp.Compare(len(a.Orders), len(b.Orders)) })
		for r := range 5 {
			for f := range 5 {
				ans.RFM[r][f] = Set{Keys: []string{}}
			}
		}
		for _, c := range scored {
			s := &ans.RFM[r[c]-1][f[c]-1]
			s.Keys = append(s.Keys, c.Key)
			s.Customers++
			s.Spend += c.Monetary
		}
		return
	}
	pred := map[Question]func(*NaiveCustomer) bool{QShare: share, QRecent: recent, QCoupon: coupon, QCouponStats: coupon}[q]
	set := Set{Keys: []string{}}
	for _, c := range cs {
		if pred(c) {
			set.Keys = append(set.Keys, c.Key)
			set.Customers++
			set.Spend += c.Monetary
		}
	}
	if q == QCouponStats {
		set.Keys = nil
	}
	if ans.Sets == nil {
		ans.Sets = map[Question]Set{}
	}
	ans.Sets[q] = set
}

// ntile5 gives the rows of s, in order, the tiles of SQL's NTILE(5): the
// first len(s)%5 tiles have one row more.
func ntile5(s []*NaiveCustomer) map[*NaiveCustomer]int {
	out := make(map[*NaiveCustomer]int, len(s))
	n, big := len(s)/5, len(s)%5
	i := 0
	for t := 1; t <= 5; t++ {
		size := n
		if t <= big {
			size++
		}
		for range size {
			out[s[i]] = t
			i++
		}
	}
	return out
}

// NaiveAnswers answers every question by scans.
func NaiveAnswers(shop *Shop, cs []*NaiveCustomer) *Answers {
	ans := &Answers{}
	for _, q := range Questions {
		NaiveAnswer(shop, cs, q, ans)
	}
	return ans
}

// NaiveNeighbors counts the co-occurrences of products in orders (bought
// lines up to AsOf) in a map of product pairs and keeps, per product, the k
// neighbours of highest cosine, ties by product key, among every pair
// bought together (similarity.NewIndex, in [RunAffinity], by default only
// among pairs bought together at least twice). It returns the number of
// distinct pairs.
func NaiveNeighbors(ctx context.Context, lines []NaiveLine, k int) (int, error) {
	asOf := AsOf.Unix()
	orders := map[string][]string{}
	support := map[string]int{}
	for _, l := range lines {
		if l.Qty > 0 && l.Unix <= asOf {
			key := l.Customer + "\x00" + orderKey(l)
			if !slices.Contains(orders[key], l.Product) {
				orders[key] = append(orders[key], l.Product)
				support[l.Product]++
			}
		}
	}
	pairs := map[[2]string]int{}
	for _, ps := range orders {
		for _, a := range ps {
			for _, b := range ps {
				if a != b {
					pairs[[2]string{a, b}]++
				}
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	type nb struct {
		p     string
		score float64
	}
	lists := map[string][]nb{}
	for ab, n := range pairs {
		lists[ab[0]] = append(lists[ab[0]], nb{ab[1], float64(n) / math.Sqrt(float64(support[ab[0]])*float64(support[ab[1]]))})
	}
	for a, l := range lists {
		slices.SortFunc(l, func(x, y nb) int { return cmp.Or(cmp.Compare(y.score, x.score), strings.Compare(x.p, y.p)) })
		lists[a] = l[:min(k, len(l))]
	}
	return len(pairs) / 2, nil
}

// RunNaive times the naive baseline: load, features, the questions and
// co-occurrence with neighbours.
func RunNaive(ctx context.Context, shop *Shop) (*Result, error) {
	res := &Result{Way: "naive", Queries: map[string]Step{}, Digests: map[string]Digest{}}
	var lines []NaiveLine
	s, err := Measure("load", func() (err error) { lines, err = NaiveLoad(shop.Path); return err })
	if err != nil {
		return nil, fmt.Errorf("naive load: %w", err)
	}
	res.Steps = append(res.Steps, s)
	res.Lines = len(lines)
	var cs []*NaiveCustomer
	s, _ = Measure("features", func() error { cs = NaiveFeatures(lines); return nil })
	res.Steps = append(res.Steps, s)
	runtime.GC() // the questions run on a collected heap, as affinity's do
	for _, q := range Questions {
		s, _ := Repeat(string(q), 3, 0, func() error { NaiveAnswer(shop, cs, q, &Answers{}); return nil })
		res.Queries["naive/"+string(q)] = s
	}
	res.Digests["naive"] = NaiveAnswers(shop, cs).Digest()
	cs = nil
	s, err = Measure("co-occurrence + neighbours", func() error { _, err := NaiveNeighbors(ctx, lines, 50); return err })
	if err != nil {
		return nil, err
	}
	res.Steps = append(res.Steps, s)
	return res, nil
}
