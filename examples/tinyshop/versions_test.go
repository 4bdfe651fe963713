package main

import (
	"testing"
	"time"

	"github.com/shopaffinity/affinity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVersionsAcrossPosts: every POST /orders refreshes the shop with a
// Builder of its own, and a retried webhook that arrives late must not
// undo a newer version of its order: version 2 stays over a late
// version 1, and an order cancelled at version 3 stays cancelled when
// version 2 is delivered again.
func TestVersionsAcrossPosts(t *testing.T) {
	s, h := advShop(t)
	at := s.Snapshot().History().Latest().UTC().Format(time.RFC3339)
	put := func(version, qty string) string {
		return `[{"key":"rv-ord","version":` + version + `,"lines":[{"customer":"rv-cust","product":"p00007","time":"` + at + `","quantity":` + qty + `,"price":10}]}]`
	}
	value := func() (affinity.Money, bool) {
		hist := s.Snapshot().History()
		o, ok := hist.LookupOrder("rv-ord")
		if !ok {
			return 0, false
		}
		return hist.OrderValue(o), true
	}
	require.Equal(t, 200, do(t, h, "POST", "/orders", put("2", "3"), nil))
	require.Equal(t, 200, do(t, h, "POST", "/orders", put("1", "1"), nil))
	v, ok := value()
	require.True(t, ok)
	assert.Equal(t, affinity.Money(300000), v, "version 2 (30.00) must win over the late version 1")
	require.Equal(t, 200, do(t, h, "POST", "/orders", `[{"key":"rv-ord","version":3,"delete":true}]`, nil))
	require.Equal(t, 200, do(t, h, "POST", "/orders", put("2", "3"), nil))
	_, ok = value()
	assert.False(t, ok, "the cancelled order (version 3) must stay cancelled")
}
