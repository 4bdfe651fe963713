// Command tinyshop is a storefront's personalisation service in one screen: a
// customer's recommendations, a segment query, and new orders that refresh it.
package main

import (
	"context"
	"encoding/json"
	"log"
	"net/http"
	"slices"
	"strconv"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/shop"
)

func main() {
	s, err := shop.Open(context.Background(), shop.Demo(), shop.Options{})
	if err != nil {
		log.Fatal(err)
	}
	log.Print("serving the demo shop: curl 'http://127.0.0.1:8080/segments?q=frequency>=5'")
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", handler(s)))
}

func handler(s *shop.Shop) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /customers/{id}/recommendations", func(w http.ResponseWriter, r *http.Request) {
		k, _ := strconv.Atoi(r.URL.Query().Get("k"))
		res, err := s.Snapshot().Recommend(r.Context(), shop.Request{Customer: r.PathValue("id"), K: k})
		reply(w, res, err)
	})
	mux.HandleFunc("GET /segments", func(w http.ResponseWriter, r *http.Request) {
		var v any
		aud, err := s.Snapshot().Segment(r.URL.Query().Get("q"))
		if err == nil {
			top, _ := aud.Page(shop.BySpend, 0, 20)
			v = map[string]any{"customers": aud.Len(), "revenue": aud.Revenue().Format(2), "top": top}
		}
		reply(w, v, err)
	})
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		var lines []affinity.Purchase
		err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&lines)
		if err == nil {
			err = s.Refresh(r.Context(), shop.Purchases(slices.Values(lines)))
		}
		reply(w, map[string]any{"as_of": s.Snapshot().AsOf()}, err)
	})
	return mux
}

func reply(w http.ResponseWriter, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		v = map[string]string{"error": err.Error()}
	}
	_ = json.NewEncoder(w).Encode(v)
}
