package segment_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/segment"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIndexTextByTheIndexsIDs: Index.Text answers with the ids of the
// index the attributes are attached to — by key for attributes loaded
// for another History, whose own ids (Attributes.Text) name other
// customers there — and false for a customer without the field, a field
// not attached, an index without attributes and a nil index.
func TestIndexTextByTheIndexsIDs(t *testing.T) {
	asOf := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	keys, x1, others, x2 := renumbered(t, asOf, 12, "c004")

	var src strings.Builder
	src.WriteString("customer,email\n")
	mail := map[string]string{}
	for i, k := range keys {
		if i%5 == 3 {
			continue // no e-mail
		}
		mail[k] = k + "@example.com"
		if i%4 == 0 {
			mail[k] = "shared@example.com" // a value more customers have
		}
		fmt.Fprintf(&src, "%s,%s\n", k, mail[k])
	}
	a, _, err := segment.LoadAttributes(strings.NewReader(src.String()), x1, segment.AttributeOptions{Texts: []string{"email"}})
	require.NoError(t, err)
	y2, err := x2.WithAttributes(a)
	require.NoError(t, err)

	wrong := 0
	for _, k := range others {
		c, ok := x2.LookupCustomer(k)
		require.True(t, ok)
		v, has := y2.Text("email", c)
		want, wantHas := mail[k]
		assert.Equal(t, wantHas, has, k)
		assert.Equal(t, want, v, k)
		if old, _ := a.Text("email", c); old != want {
			wrong++ // the Attributes' own ids name another customer here
		}
	}
	require.Positive(t, wrong, "the two indexes number the customers differently")

	for _, tc := range []struct {
		name string
		x    *segment.Index
		f    string
		c    affinity.CustomerID
	}{
		{"no such field", y2, "phone", 0},
		{"id beyond the customers", y2, "email", affinity.CustomerID(len(others))},
		{"largest id", y2, "email", ^affinity.CustomerID(0)},
		{"no attributes", x2, "email", 0},
		{"nil index", nil, "email", 0},
	} {
		v, ok := tc.x.Text(tc.f, tc.c)
		assert.False(t, ok, tc.name)
		assert.Empty(t, v, tc.name)
	}

	// attributes set by hand take the ids of the index they are attached
	// to; concurrent first calls build the lookup once
	var hand segment.Attributes
	for c := range affinity.CustomerID(len(keys)) {
		if c%3 != 1 {
			require.NoError(t, hand.SetText("email", c, fmt.Sprintf("m%d@example.com", c)))
		}
	}
	y1, err := x1.WithAttributes(&hand)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for c := range affinity.CustomerID(len(keys)) {
				v, ok := y1.Text("email", c)
				want, wantOK := hand.Text("email", c)
				if v != want || ok != wantOK {
					t.Errorf("customer %d: %q %v, want %q %v", c, v, ok, want, wantOK)
				}
			}
		})
	}
	wg.Wait()
}
