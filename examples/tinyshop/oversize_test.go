package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOrdersOver1MiB: a POST /orders body over 1 MiB was a 400, as if
// the orders were at fault, where the storefront answers 413. It is a 413
// whatever the body holds (orders, bad JSON, white space after the
// orders), with an error saying the limit, and nothing of it is taken in;
// a body of exactly 1 MiB is read.
func TestOrdersOver1MiB(t *testing.T) {
	s, h := advShop(t)
	at := s.Snapshot().History().Latest().UTC().Format(time.RFC3339)
	order := func(key string) string {
		return `{"key":"` + key + `","lines":[{"customer":"big-buyer","product":"p00007","time":"` + at + `","quantity":1,"price":1}]}`
	}
	good := "[" + order("big-good") + "]"
	for name, body := range map[string]string{
		"orders":                  overMiB(order("big-pad"), order("big-good")),
		"bad JSON":                `[{"key":x` + strings.Repeat(" ", 1<<20),
		"white space after":       good + strings.Repeat(" ", 1<<20),
		"garbage past 1 MiB":      good + strings.Repeat(" ", 1<<20) + "and more",
		"one string over 1 MiB":   `"` + strings.Repeat("x", 1<<20) + `"`,
		"just past 1 MiB of JSON": good + strings.Repeat(" ", 1<<20-len(good)+1),
	} {
		t.Run(name, func(t *testing.T) {
			require.Greater(t, len(body), 1<<20)
			before := stateOf(t, s, h)
			var e map[string]any
			assert.Equal(t, http.StatusRequestEntityTooLarge, do(t, h, "POST", "/orders", body, &e))
			assert.Equal(t, "request body over 1 MiB", e["error"])
			assert.Equal(t, before, stateOf(t, s, h), "a refused POST changes nothing")
			for _, key := range []string{"big-good", "big-pad"} {
				_, ok := s.Snapshot().History().LookupOrder(key)
				assert.False(t, ok, "order %s", key)
			}
		})
	}
	// 1 MiB exactly is within the limit
	body := good + strings.Repeat(" ", 1<<20-len(good))
	require.Len(t, body, 1<<20)
	require.Equal(t, http.StatusOK, do(t, h, "POST", "/orders", body, nil))
	_, ok := s.Snapshot().History().LookupOrder("big-good")
	assert.True(t, ok)
}
