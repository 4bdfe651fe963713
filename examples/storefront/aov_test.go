package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/shop"
)

// TestSegmentsShowAOVRoundedOnce: one customer's 199 orders of 10.00 and
// one of 10.99 are 2000.99 over 200 orders, an AOV of exactly 10.00495,
// 10.00 in cents; the segment table and a query's statistics show that,
// where rounding the AOV to Money units (10.0050) and then to cents
// showed 10.01.
func TestSegmentsShowAOVRoundedOnce(t *testing.T) {
	var csv strings.Builder
	csv.WriteString("order,customer,product,time,quantity,price\n")
	t0 := time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)
	for i := range 200 {
		price := "10.00"
		if i == 199 {
			price = "10.99"
		}
		fmt.Fprintf(&csv, "o%d,ann,mug,%s,1,%s\n", i, t0.Add(time.Duration(i)*time.Hour).Format(time.DateTime), price)
	}
	path := testdata.WriteFile(t, "orders.csv", []byte(csv.String()))
	s, err := shop.Open(context.Background(), shop.File(path, "csv"), shop.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	srv := httptest.NewServer(newServer(s, slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(srv.Close)

	var segs struct {
		Segments []segmentRow `json:"segments"`
	}
	require.Equal(t, 200, call(t, "GET", srv.URL+"/api/segments", "", &segs))
	shown := 0
	for _, r := range segs.Segments {
		if r.Customers == 1 {
			assert.Equal(t, "2000.99", r.Revenue, r.Name)
			assert.Equal(t, "10.00", r.AOV, r.Name)
			shown++
		}
	}
	assert.Equal(t, 2, shown, "ann's RFM segment and lifecycle stage")

	var q map[string]any
	require.Equal(t, 200, call(t, "GET", srv.URL+"/api/segments/query?q=frequency%20%3E%3D%201", "", &q))
	assert.Equal(t, "10.00", q["aov"])
}
