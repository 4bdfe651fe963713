package shop_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/shopaffinity/affinity/shop"
)

// A handler answers with WriteJSON: the answer as JSON, or the error with
// the status ProblemOf gives it — here a segment query that does not
// parse, a 400 that says where.
func ExampleWriteJSON() {
	ctx := context.Background()
	s, err := shop.Open(ctx, shop.Demo(), shop.Options{Model: "neighbours"})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /segments", func(w http.ResponseWriter, r *http.Request) {
		aud, err := s.Snapshot().SegmentContext(r.Context(), r.URL.Query().Get("q"))
		shop.WriteJSON(w, aud, err)
	})

	for _, q := range []string{"frequency+%3E%3D+40", "frequency+%3E%3D"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", "/segments?q="+q, nil))
		fmt.Print(rec.Code, " ", rec.Body.String())
	}
	// Output:
	// 200 {"query":"frequency \u003e= 40","customers":1,"share":0.0002,"orders":40,"revenue":"1408.91","revenue_share":0.001590045951877712,"aov":"35.2228"}
	// 400 {"error":"shop: query: syntax error at line 1, column 13: expected a number, found end of expression","line":1,"column":13,"offset":12}
}
