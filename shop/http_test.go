package shop_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/shop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProblemOfTheShopsErrors: the errors the shop's calls return get the
// status a client of an HTTP API should see (the request's fault 400 or
// 404, too large 413, not now 503, the rest 500), a segment query's its
// position, and the message of the error.
func TestProblemOfTheShopsErrors(t *testing.T) {
	ctx := context.Background()
	s, err := shop.Open(ctx, shop.Storefront(small(3)), shop.Options{Model: "neighbours"})
	require.NoError(t, err)
	snap := s.Snapshot()
	fail := func(_ any, err error) error { require.Error(t, err); return err }

	closed, err := shop.Open(ctx, shop.Storefront(small(3)), shop.Options{Model: "neighbours"})
	require.NoError(t, err)
	closed.Close()
	gone, cancel := context.WithCancel(ctx)
	cancel()
	mb := httptest.NewRecorder()
	_, tooLarge := io.ReadAll(http.MaxBytesReader(mb, io.NopCloser(strings.NewReader("0123456789")), 4))
	require.Error(t, tooLarge)
	var nilCtx context.Context // a caller's mistake
	own := &shop.Problem{Status: http.StatusTeapot, Message: "short and stout"}

	for _, tc := range []struct {
		name   string
		err    error
		status int
		line   int // of a query's problem; 0: none
	}{
		{"syntax error", fail(snap.SegmentContext(ctx, "recency >")), 400, 1},
		{"unknown name", fail(snap.SegmentContext(ctx, "frequency >= 1 and\nnope > 2")), 400, 2},
		{"unknown category", fail(snap.Recommend(ctx, shop.Request{Customer: "c1", Category: "No such"})), 400, 0},
		{"bad K", fail(snap.Recommend(ctx, shop.Request{K: -1})), 400, 0},
		{"unknown customer id", fail(snap.Recommend(ctx, shop.Request{CustomerID: affinity.CustomerID(math.MaxUint32), ByID: true})), 404, 0},
		{"refused order", s.Refresh(ctx, shop.Changes(func(yield func(affinity.OrderChange) bool) {
			yield(affinity.OrderChange{Key: "o", Version: -1})
		})), 400, 0},
		{"closed shop", closed.Refresh(ctx, shop.Purchases(func(func(affinity.Purchase) bool) {})), 503, 0},
		{"client gone", s.Refresh(gone, shop.Purchases(func(func(affinity.Purchase) bool) {})), 503, 0},
		{"body too large", fmt.Errorf("orders: %w", tooLarge), 413, 0},
		{"nil argument", fail(snap.SegmentContext(nilCtx, "all")), 500, 0},
		{"a handler's own", fmt.Errorf("wrapped: %w", own), http.StatusTeapot, 0},
		{"anything else", errors.New("disk on fire"), 500, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Error(t, tc.err)
			p := shop.ProblemOf(tc.err)
			require.NotNil(t, p)
			assert.Equal(t, tc.status, p.Status, tc.err.Error())
			assert.Equal(t, tc.line, p.Line)
			assert.Equal(t, tc.line != 0, p.Offset != nil)
			switch tc.status {
			case 413:
				assert.Equal(t, "request body over 4 bytes", p.Message)
			case http.StatusTeapot:
				assert.Same(t, own, p)
			default:
				assert.Equal(t, tc.err.Error(), p.Message)
			}
		})
	}
	assert.Nil(t, shop.ProblemOf(nil))
}

// TestWriteJSON: an answer is 200 with its JSON; an error its problem's
// status and body; an answer that does not encode a 500 problem, nothing
// of it written.
func TestWriteJSON(t *testing.T) {
	for _, tc := range []struct {
		name   string
		v      any
		err    error
		status int
		body   string
	}{
		{"answer", map[string]int{"n": 1}, nil, 200, `{"n":1}`},
		{"query error", nil, &shop.Problem{Status: 400, Message: "bad", Line: 1, Column: 3, Offset: new(int)}, 400,
			`{"error":"bad","line":1,"column":3,"offset":0}`},
		{"error beside an answer", map[string]int{"n": 1}, errors.New("failed"), 500, `{"error":"failed"}`},
		{"does not encode", math.NaN(), nil, 500, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			shop.WriteJSON(rec, tc.v, tc.err)
			assert.Equal(t, tc.status, rec.Code)
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			if tc.body != "" {
				assert.Equal(t, tc.body+"\n", rec.Body.String())
				return
			}
			var p shop.Problem
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
			assert.Contains(t, p.Message, "encoding the answer")
		})
	}
}
