package segment_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/segment"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// keyedIndex builds an index of one order per customer key, the
// customers added in the order given.
func keyedIndex(t *testing.T, asOf time.Time, keys ...string) *segment.Index {
	t.Helper()
	var b affinity.Builder
	for i, k := range keys {
		require.NoError(t, b.Add(affinity.Purchase{Customer: k, Product: "p", Order: "o-" + k,
			Time: asOf.AddDate(0, 0, -1-i), Quantity: 1, Price: affinity.MoneyFromFloat(1)}))
	}
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	x, err := segment.Build(context.Background(), h, asOf, segment.Options{})
	require.NoError(t, err)
	return x
}

// renumbered returns n customer keys "c000"… and an index of them, and
// the keys and index of another History: without the key drop, with
// "a-new" and "b-new", its customers added in reverse order.
func renumbered(t *testing.T, asOf time.Time, n int, drop string) (keys []string, x1 *segment.Index, others []string, x2 *segment.Index) {
	t.Helper()
	for i := range n {
		keys = append(keys, fmt.Sprintf("c%03d", i))
	}
	x1 = keyedIndex(t, asOf, keys...)
	others = append([]string{"a-new", "b-new"}, keys...)
	others = slices.DeleteFunc(others, func(k string) bool { return k == drop })
	slices.Reverse(others)
	return keys, x1, others, keyedIndex(t, asOf, others...)
}

// TestAttrWithAttributesOtherHistory: attributes loaded for the index of
// one History and attached to the index of another, whose customers are
// numbered otherwise, answer for the same customer keys (those the
// second knows); they were attached by dense id, so every answer named
// other customers.
func TestAttrWithAttributesOtherHistory(t *testing.T) {
	asOf := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	keys, x1, _, x2 := renumbered(t, asOf, 10, "c003")
	moved := 0
	for _, k := range keys {
		c1, _ := x1.LookupCustomer(k)
		if c2, ok := x2.LookupCustomer(k); ok && c2 != c1 {
			moved++
		}
	}
	require.Positive(t, moved, "the two indexes number the customers differently")

	var src strings.Builder
	src.WriteString("customer,optin,birthday,country\n")
	for i, k := range keys {
		fmt.Fprintf(&src, "%s,%v,2000-06-%02d,%s\n", k, i%3 == 0, 1+i, []string{"DE", "FR"}[i%2])
	}
	a, _, err := segment.LoadAttributes(strings.NewReader(src.String()), x1,
		segment.AttributeOptions{Flags: []string{"optin"}, Dates: []string{"birthday"}, Texts: []string{"country"}})
	require.NoError(t, err)
	y1, err := x1.WithAttributes(a)
	require.NoError(t, err)
	y2, err := x2.WithAttributes(a)
	require.NoError(t, err)
	for _, q := range []string{
		`flag("optin") = 1`, `flag("optin") = 0`, `flag("country=DE") = 1`, `flag("country=FR") = 0`,
		`days_to("birthday") between 0 and 4`, `days_since("birthday") > 0`,
	} {
		want := slices.DeleteFunc(advKeys(t, y1, q), func(k string) bool { return k == "c003" })
		got := slices.DeleteFunc(advKeys(t, y2, q), func(k string) bool { return strings.HasSuffix(k, "-new") })
		assert.Equal(t, want, got, q)
	}
	// the Set methods of loaded attributes take ids of the index they were
	// loaded for
	require.NoError(t, a.SetFlag("vip", affinity.CustomerID(len(keys)-1), true))
	require.ErrorIs(t, a.SetFlag("vip", affinity.CustomerID(len(keys)), true), segment.ErrInvalid)
	y2, err = x2.WithAttributes(a)
	require.NoError(t, err)
	assert.Equal(t, []string{keys[len(keys)-1]}, advKeys(t, y2, `flag("vip") = 1`))
}
