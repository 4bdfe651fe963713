package segment_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/segment"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAttrTextAgainstNaive compares equality and inequality queries on a
// text field of few values (country), one of a value per customer
// (email, a few shared) and their negations with a scan of the values:
// values overwritten and cleared, customers without a value, values
// nobody has, a boolean flag named like a value, and customers beyond
// the index's.
func TestAttrTextAgainstNaive(t *testing.T) {
	t.Parallel()
	asOf := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for seed := range uint64(testdata.Scale(8, 2)) {
		n := testdata.Scale(400, 150)
		x := attrIndex(t, n, asOf)
		rng := rand.New(rand.NewPCG(seed, 77))
		var a segment.Attributes
		country := map[affinity.CustomerID]string{}
		email := map[affinity.CustomerID]string{}
		countries := []string{"DE", "FR", "IT", "NL"}
		for range 3 * n {
			c := affinity.CustomerID(rng.IntN(n + 20)) // some beyond x's customers
			switch rng.IntN(5) {
			case 0:
				require.NoError(t, a.SetText("country", c, ""))
				delete(country, c)
			case 1, 2:
				v := countries[rng.IntN(len(countries))]
				require.NoError(t, a.SetText("country", c, v))
				country[c] = v
			default:
				v := fmt.Sprintf("c%d@example.com", rng.IntN(4*n)) // mostly unique
				require.NoError(t, a.SetText("email", c, v))
				email[c] = v
			}
		}
		deFlag := map[affinity.CustomerID]bool{}
		for range 5 {
			c := affinity.CustomerID(rng.IntN(n))
			require.NoError(t, a.SetFlag("country=DE", c, true))
			deFlag[c] = true
		}
		y, err := x.WithAttributes(&a)
		require.NoError(t, err)
		type probe struct{ field, value string }
		probes := []probe{{"country", "XX"}, {"email", "nobody@example.com"}}
		for _, v := range countries {
			probes = append(probes, probe{"country", v})
		}
		for _, v := range email {
			if len(probes) < 30 {
				probes = append(probes, probe{"email", v})
			}
		}
		for _, p := range probes {
			vals := map[string]map[affinity.CustomerID]string{"country": country, "email": email}[p.field]
			has := func(c affinity.CustomerID) bool {
				return vals[c] == p.value || (p.field == "country" && p.value == "DE" && deFlag[c])
			}
			want := map[bool][]uint32{true: {}, false: {}}
			for c := range affinity.CustomerID(n) {
				want[has(c)] = append(want[has(c)], uint32(c))
			}
			flag := fmt.Sprintf("flag(%q)", p.field+"="+p.value)
			for _, q := range []struct {
				op   string
				want []uint32
			}{
				{"= 1", want[true]}, {">= 1", want[true]}, {"!= 0", want[true]},
				{"= 0", want[false]}, {"!= 1", want[false]}, {"< 1", want[false]},
			} {
				src := flag + " " + q.op
				got, err := y.Query(src)
				require.NoError(t, err, src)
				assert.Equal(t, q.want, nonNil(got.ToArray()), "seed %d: %s", seed, src)
			}
			got, err := y.Query(flag + " = 1 and " + flag + " >= 1")
			require.NoError(t, err)
			assert.Equal(t, want[true], nonNil(got.ToArray()), "seed %d: merged ranges of %s", seed, flag)
			// Attributes.Flag answers as the queries, customers beyond x included
			wantFlag := roaring.New()
			for c := range affinity.CustomerID(n + 20) {
				if has(c) {
					wantFlag.Add(uint32(c))
				}
			}
			assert.Equal(t, wantFlag.ToArray(), a.Flag(p.field+"="+p.value).ToArray(), "seed %d: Flag(%s)", seed, p.field+"="+p.value)
		}
	}
}

func nonNil(ids []uint32) []uint32 {
	if ids == nil {
		return []uint32{}
	}
	return ids
}

// TestAttrTextUniqueValuesCost: a text field whose value is a different
// customer's each (an e-mail address) costs a few dozen bytes per
// customer beyond the text itself, to set and to attach. Each value was
// a flag, a bitmap in the Attributes and a column in the index: about
// 680 bytes per customer, 0.7 GB for a million e-mail addresses.
func TestAttrTextUniqueValuesCost(t *testing.T) {
	const n = 20_000
	x := attrIndex(t, n, time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
	emails := make([]string, n)
	for i := range emails {
		emails[i] = fmt.Sprintf("customer%07d@example.com", i) // 28 bytes
	}
	var y *segment.Index
	bytes := testdata.TotalAlloc(func() {
		a := &segment.Attributes{}
		for i, v := range emails {
			require.NoError(t, a.SetText("email", affinity.CustomerID(i), v))
		}
		var err error
		y, err = x.WithAttributes(a)
		require.NoError(t, err)
	})
	perCustomer := float64(bytes) / n
	assert.Less(t, perCustomer, 200.0, "bytes allocated per customer to set and attach a unique text")
	got, err := y.Query(`flag("email=customer0012345@example.com") = 1`)
	require.NoError(t, err)
	assert.Equal(t, []uint32{12345}, got.ToArray())
}

// TestAttrTextValueLimit: a text value is bounded by MaxAttributeValue,
// not by the name limit MaxAttributeName through its flag "field=value":
// an e-mail address longer than MaxAttributeName loads, is queried and
// read back; a value beyond MaxAttributeValue is an error naming that
// limit; a text field's name holds no "=".
func TestAttrTextValueLimit(t *testing.T) {
	x := attrIndex(t, 3, time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
	long := strings.Repeat("a", segment.MaxAttributeName) + "@example.com"
	src := "customer,email\nc000," + long + "\nc001,b@example.com\n"
	a, rep, err := segment.LoadAttributes(strings.NewReader(src), x, segment.AttributeOptions{Texts: []string{"email"}})
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Loaded)
	v, ok := a.Text("email", 0)
	require.True(t, ok)
	assert.Equal(t, long, v)
	y, err := x.WithAttributes(a)
	require.NoError(t, err)
	got, err := y.Query(fmt.Sprintf("flag(%q) = 1", "email="+long))
	require.NoError(t, err)
	assert.Equal(t, []uint32{0}, got.ToArray())

	var b segment.Attributes
	require.NoError(t, b.SetText("email", 0, strings.Repeat("x", segment.MaxAttributeValue)))
	err = b.SetText("email", 0, strings.Repeat("x", segment.MaxAttributeValue+1))
	require.ErrorContains(t, err, "MaxAttributeValue")
	v, _ = b.Text("email", 0)
	assert.Len(t, v, segment.MaxAttributeValue, "a refused value changes nothing")

	require.Error(t, b.SetText("e=mail", 0, "x"))
	_, _, err = segment.LoadAttributes(strings.NewReader("customer,e=mail\nc000,x\n"), x, segment.AttributeOptions{Texts: []string{"e=mail"}})
	require.ErrorContains(t, err, "=")
}
