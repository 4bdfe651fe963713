package affinity_test

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/stretchr/testify/require"
)

// parseMoneyRef is a naive ParseMoney: split at the separator, check the
// characters, compute with big integers, then check the int64 range.
func parseMoneyRef(s string, sep byte) (affinity.Money, error) {
	bad := errors.New("bad")
	if sep == 0 {
		sep = '.'
	}
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	whole, frac := s, ""
	if sep < '0' || sep > '9' {
		if i := strings.IndexByte(s, sep); i >= 0 {
			whole, frac = s[:i], s[i+1:]
		}
	}
	if len(frac) > 4 && strings.Trim(frac[4:], "0") == "" {
		frac = frac[:4] // zeros after the fourth decimal change nothing
	}
	digits := func(x string) bool { return strings.Trim(x, "0123456789") == "" }
	if !digits(whole) || !digits(frac) || len(frac) > 4 || whole+frac == "" {
		return 0, bad
	}
	v, _ := new(big.Int).SetString("0"+whole+frac+strings.Repeat("0", 4-len(frac)), 10)
	if neg {
		v.Neg(v)
	}
	if !v.IsInt64() || v.Int64() < int64(affinity.MinMoney) { // math.MinInt64 is below MinMoney
		return 0, bad
	}
	return affinity.Money(v.Int64()), nil
}

func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{
		"2.55", "-11.20", "+7", "0.0001", "0.001", ".5", "5.", "", "-", ".", "abc", "1.00001", "1e3", " 1",
		"922337203685477.5807", "-922337203685477.5808", "922337203685477.5808", "99999999999999999999",
	} {
		f.Add(s, byte(0))
	}
	f.Add("1,5", byte(','))
	f.Add("1-5", byte('-'))
	f.Add("152", byte('5'))
	f.Fuzz(func(t *testing.T, s string, sep byte) {
		m, err := affinity.ParseMoney(s, sep)
		want, wantErr := parseMoneyRef(s, sep)
		if wantErr != nil {
			require.ErrorIs(t, err, affinity.ErrMoney, "ParseMoney(%q, %q) = %d", s, sep, int64(m))
			return
		}
		require.NoError(t, err, "ParseMoney(%q, %q)", s, sep)
		require.Equal(t, want, m, "ParseMoney(%q, %q)", s, sep)
		back, err := affinity.ParseMoney(m.String(), 0)
		require.NoError(t, err, "re-parse of %q", m.String())
		require.Equal(t, m, back, "re-parse of %q", m.String())
	})
}

// decodeRecords turns fuzz bytes into Builder calls. Every field draws from
// small pools so that records collide on customer, order, product and
// second; some draws give invalid values on purpose.
func decodeRecords(data []byte) []record {
	next := func() byte {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return b
	}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	when := func() time.Time {
		b := next()
		if b == 0 {
			return time.Time{}
		}
		return base.Add(time.Duration(b%64)*time.Second + time.Duration(b/64)*400*time.Millisecond).In(zones[int(b)%len(zones)])
	}
	key := func(prefix string, n byte) string {
		if n == 0 {
			return ""
		}
		return fmt.Sprintf("%s%d", prefix, n-1)
	}
	var recs []record
	for len(data) > 0 {
		switch op := next(); {
		case op%8 < 5:
			p := affinity.Purchase{
				Customer: key("c", next()%6),
				Product:  key("p", next()%7),
				Order:    key("o", next()%4),
				Time:     when(),
				Quantity: int32(int8(next())) / 16,
				Price:    affinity.Money(int8(next())) * 25,
			}
			recs = append(recs, record{purchase: &p})
		case op%8 < 7:
			e := affinity.Event{
				Customer: key("c", next()%6),
				Product:  key("p", next()%7),
				Time:     when(),
				Kind:     affinity.EventKind(next() % 6),
				Weight:   float32(next()) / 8,
			}
			if op&0x80 != 0 {
				e.Weight = float32(math.NaN())
			}
			recs = append(recs, record{event: &e})
		default:
			p := affinity.Product{Key: key("p", next()%7), Name: "n", Price: affinity.Money(int8(next())), InStock: op&0x10 != 0}
			for mask := next(); mask != 0; mask >>= 1 {
				if mask&1 != 0 {
					p.Categories = append(p.Categories, categoryPool[int(mask)%len(categoryPool)])
				}
			}
			recs = append(recs, record{product: &p})
		}
	}
	return recs
}

func FuzzBuilder(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0})
	f.Add([]byte{1, 0, 1, 1, 1, 5, 16, 40, 0, 2, 1, 5, 16, 40})
	r := rand.New(rand.NewPCG(1, 1))
	for range 8 {
		seed := make([]byte, 20+r.IntN(300))
		for i := range seed {
			seed[i] = byte(r.Uint32())
		}
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		// The first byte splits the calls between a base History and a
		// Builder started from it.
		recs := decodeRecords(data[1:])
		k := min(int(data[0]), len(recs))
		h1 := build(t, nil, recs[:k])
		before := viewRaw(h1)
		h := build(t, h1, recs[k:])
		checkInvariants(t, h)
		checkModel(t, recs, h)
		require.Equal(t, before, viewRaw(h1), "NewBuilder modified its base")
	})
}
