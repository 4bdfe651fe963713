package shop_test

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/segment"
	"github.com/shopaffinity/affinity/shop"
)

// TestRequestErrorsNameThePackageOnce: the errors of a snapshot's
// requests begin with "shop: " and name each package and say "invalid"
// once, while matching what they report: Together's unknown product
// matches recommend.ErrUnknownProduct, and Segment's bad query is a
// *segment.QueryError or *segment.SyntaxError for errors.As, its message
// "shop: query: syntax error …" (the query's context and the syntax
// error's "query: " were both put before it: "shop: query: query: …"),
// also in a shop without orders, which only parses the query.
func TestRequestErrorsNameThePackageOnce(t *testing.T) {
	ctx := context.Background()
	s, err := shop.Open(ctx, shop.Purchases(slices.Values(errLines())), shop.Options{})
	require.NoError(t, err)
	defer s.Close()
	snap := s.Snapshot()
	empty, err := shop.Open(ctx, shop.Purchases(slices.Values([]affinity.Purchase(nil))), shop.Options{})
	require.NoError(t, err)
	defer empty.Close()
	var nilCtx context.Context
	recommendErr := func(ctx context.Context, req shop.Request) func() error {
		return func() error { _, err := snap.Recommend(ctx, req); return err }
	}
	segmentErr := func(query string) func() error {
		return func() error { _, err := snap.Segment(query); return err }
	}
	var qe *segment.QueryError
	var se *segment.SyntaxError
	testdata.CheckErrors(t, "shop: ", []testdata.ErrorCase{
		{Name: "Recommend with negative K", Call: recommendErr(ctx, shop.Request{K: -1}), Is: []error{shop.ErrInvalidRequest}},
		{Name: "Recommend for an unknown customer id", Call: recommendErr(ctx, shop.Request{ByID: true, CustomerID: 1 << 30}), Is: []error{shop.ErrUnknownCustomer}},
		{Name: "Recommend in an unknown category", Call: recommendErr(ctx, shop.Request{Category: "Nope/Nope"}), Is: []error{shop.ErrUnknownCategory}},
		{Name: "Recommend with a negative minimum price", Call: recommendErr(ctx, shop.Request{Rules: shop.Rules{MinPrice: -100}}),
			Is: []error{shop.ErrInvalidRequest, recommend.ErrInvalidRequest}},
		{Name: "Recommend with nil context", Call: recommendErr(nilCtx, shop.Request{}), Is: []error{shop.ErrNilContext, affinity.ErrNilArgument}},
		{Name: "Together of an unknown product", Call: func() error { _, err := snap.Together(ctx, "nope", 5); return err },
			Is: []error{recommend.ErrUnknownProduct}, Text: `"nope"`},
		{Name: "Segment naming an unknown category", Call: segmentErr(`affinity("Nope/Nope") >= 0.3`), Is: []error{segment.ErrUnknown}, As: &qe},
		{Name: "Segment with an empty recency range", Call: segmentErr(`recency between 28d and 14d`), Is: []error{segment.ErrInvalid}, As: &qe},
		{Name: "Segment that does not parse", Call: segmentErr(`recency <`), As: &se, Text: "shop: query: syntax error at line 1, column 10"},
		{Name: "SegmentContext that does not parse", Call: func() error { _, err := snap.SegmentContext(ctx, `frequency >=`); return err },
			As: &se, Text: "shop: query: syntax error at line 1, column 13"},
		{Name: "Segment that does not parse in a shop without orders", Call: func() error { _, err := empty.Snapshot().Segment(`recency <`); return err },
			As: &se, Text: "shop: query: syntax error"},
		{Name: "ParseOrder of an unknown order", Call: func() error { _, err := shop.ParseOrder("bogus"); return err }},
	})
}
