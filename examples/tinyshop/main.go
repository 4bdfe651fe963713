// Command tinyshop is a storefront's personalisation service in one screen:
// recommendations, a segment query, and new orders that refresh both (-h: flags).
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
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

// status is an HTTP status as an error: an error that wraps none is the request's fault, a 400.
type status int

func (c status) Error() string { return strings.ToLower(http.StatusText(int(c))) }

func routes(mux *http.ServeMux, s *shop.Shop) {
	handle := func(pattern string, f func(r *http.Request) (any, error)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20) // reading past 1 MiB is an error
			v, err := f(r)
			if code := status(http.StatusBadRequest); err != nil {
				errors.As(err, &code)
				w.WriteHeader(int(code))
				v = map[string]string{"error": err.Error()}
			}
			_ = json.NewEncoder(w).Encode(v)
		})
	}
	handle("GET /customers/{id}/recommendations", func(r *http.Request) (any, error) {
		k, err := strconv.Atoi(cmp.Or(r.URL.Query().Get("k"), "0")) // 0: the default
		if err != nil {
			return nil, fmt.Errorf("invalid request: k: %w", err)
		}
		return s.Snapshot().Recommend(r.Context(), shop.Request{Customer: r.PathValue("id"), K: k})
	})
	handle("GET /segments", func(r *http.Request) (any, error) {
		return s.Snapshot().SegmentContext(r.Context(), r.URL.Query().Get("q")) // size, revenue, AOV
	})
	handle("POST /orders", func(r *http.Request) (any, error) {
		if t, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); t != "application/json" {
			return nil, fmt.Errorf("%w: send application/json", status(http.StatusUnsupportedMediaType))
		}
		var orders []affinity.OrderChange // whole orders (sent again, an order replaces itself); a misspelt field is an error
		dec := json.NewDecoder(r.Body)
		if err := dec.Decode(&orders); err != nil {
			return nil, err // also orders over 1 MiB
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, errors.New("data after the orders, or a body over 1 MiB")
		}
		err := s.Refresh(r.Context(), shop.Changes(slices.Values(orders)))
		if err != nil && !errors.Is(err, affinity.ErrInvalid) { // not the orders' fault: the shop closed, the client left, a build failed
			err = fmt.Errorf("%w: %w", status(http.StatusServiceUnavailable), err)
		}
		return map[string]any{"as_of": s.Snapshot().AsOf()}, err
	})
}
