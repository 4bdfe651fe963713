package affinity_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
)

func TestSummaryLogValue(t *testing.T) {
	logged := func(s affinity.Summary) map[string]any {
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "s", s)
		var rec map[string]any
		require.NoError(t, json.Unmarshal(buf.Bytes(), &rec))
		m := rec["s"].(map[string]any)
		// the JSON form has the same names and values
		js, err := json.Marshal(s)
		require.NoError(t, err)
		var back map[string]any
		require.NoError(t, json.Unmarshal(js, &back))
		require.Equal(t, m, back)
		var round affinity.Summary
		require.NoError(t, json.Unmarshal(js, &round))
		require.Equal(t, s, round)
		return m
	}
	// a History without orders: no first or last order time
	var b affinity.Builder
	require.NoError(t, b.AddEvent(affinity.Event{Customer: "ann", Product: "p", Kind: affinity.View, Time: time.Unix(1e9, 0)}))
	h, err := b.Build(context.Background())
	require.NoError(t, err)
	got := logged(h.Summary())
	require.Equal(t, 1.0, got["events"])
	require.Equal(t, "0.00", got["revenue"])
	require.NotContains(t, got, "first_order")
	require.NotContains(t, got, "last_order")

	// revenue to the last unit, negative (returns) included, and as large
	// as Money holds, where a float would round
	s := affinity.Summary{Orders: 1, Revenue: affinity.MaxMoney, CustomerRevenue: -affinity.Money(affinity.MoneyScale) / 4,
		First: time.Unix(0, 0).UTC(), Last: time.Unix(86400, 0).UTC()}
	got = logged(s)
	require.Equal(t, affinity.MaxMoney.String(), got["revenue"])
	require.Equal(t, "-0.25", got["customer_revenue"])
	require.Equal(t, "1970-01-02T00:00:00Z", got["last_order"])
	require.Len(t, got, 14)
}
