// Command tinyshop is a storefront's personalisation service in one screen:
// recommendations, a segment query, and new orders that refresh both (-h: flags).
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"mime"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/cli" // the examples' flag checks; a copy outside this repository calls fs.Parse and log.Fatal
	"github.com/shopaffinity/affinity/shop"
)

func main() {
	fs := flag.NewFlagSet("tinyshop", flag.ExitOnError) // a bad flag exits with status 2
	addr := fs.String("addr", "127.0.0.1:8080", "address to serve on")
	data := fs.String("data", "", "orders file (default: the embedded demo shop)")
	format := fs.String("format", "csv", "format of -data: "+strings.Join(dataset.Formats(), ", "))
	cli.Exit("tinyshop", cli.Parse(fs, os.Args[1:], dataset.Formats(), "data")) // a stray argument, -format without -data: status 2
	s, err := shop.Open(context.Background(), shop.FileOrDemo(*data, *format), shop.Options{})
	cli.Exit("tinyshop", err) // a file that does not load: status 1
	log.Printf("%s\n%sserving: curl 'http://%s/segments?q=frequency>=5'", s.Snapshot().Report(), s.Snapshot().History().Summary(), *addr)
	routes(http.DefaultServeMux, s)
	log.Fatal(http.ListenAndServe(*addr, nil))
}

// muxError writes the mux's own answers (no such path; another method, with its Allow header) as JSON errors too.
type muxError struct{ http.ResponseWriter }

func (w muxError) WriteHeader(code int) {
	shop.WriteJSON(w.ResponseWriter, nil, &shop.Problem{Status: code, Message: strings.ToLower(http.StatusText(code))})
}
func (w muxError) Write(b []byte) (int, error) { return len(b), nil } // the mux's text, replaced

func routes(mux *http.ServeMux, s *shop.Shop) {
	api := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if h, pattern := api.Handler(r); pattern == "" {
			h.ServeHTTP(muxError{w}, r)
			return
		}
		api.ServeHTTP(w, r)
	})
	handle := func(pattern string, f func(r *http.Request) (any, error)) {
		api.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20) // reading past 1 MiB is an error
			v, err := f(r)
			shop.WriteJSON(w, v, err) // an error as JSON with its status (shop.ProblemOf): 400 a bad request, 413, 503, …
		})
	}
	handle("GET /customers/{id}/recommendations", func(r *http.Request) (any, error) {
		k, err := strconv.Atoi(cmp.Or(r.URL.Query().Get("k"), "0")) // 0: the default
		if err != nil {
			return nil, fmt.Errorf("%w: k: %w", shop.ErrInvalidRequest, err)
		}
		return s.Snapshot().Recommend(r.Context(), shop.Request{Customer: r.PathValue("id"), K: k})
	})
	handle("GET /segments", func(r *http.Request) (any, error) {
		return s.Snapshot().SegmentContext(r.Context(), r.URL.Query().Get("q")) // size, revenue, AOV
	})
	handle("POST /orders", func(r *http.Request) (any, error) {
		if t, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); t != "application/json" {
			return nil, &shop.Problem{Status: http.StatusUnsupportedMediaType, Message: "send application/json"}
		}
		body, err := io.ReadAll(r.Body) // past 1 MiB, whatever the body holds: a 413
		if err != nil {
			return nil, err
		}
		var orders []affinity.OrderChange // whole orders (sent again, an order replaces itself); a misspelt field, data after them: errors
		if err := json.Unmarshal(body, &orders); err != nil {
			return nil, &shop.Problem{Status: http.StatusBadRequest, Message: err.Error()}
		}
		err = s.Refresh(r.Context(), shop.Changes(slices.Values(orders)))
		return map[string]any{"as_of": s.Snapshot().AsOf()}, err
	})
}
