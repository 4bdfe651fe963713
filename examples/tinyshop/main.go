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
	"github.com/shopaffinity/affinity/segment"
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

// status is an HTTP status as an error.
type status int

func (c status) Error() string { return strings.ToLower(http.StatusText(int(c))) }

// apiError is every error's body, the storefront's shape: the message and, for a bad query, where the problem is (line and column
// from 1, byte offset from 0).
type apiError struct {
	Message string `json:"error"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Offset  *int   `json:"offset,omitempty"`
}

// failure returns err's status and body: 413 for a body over 1 MiB, as the storefront; the status err wraps; 400 for a request the
// shop refuses (a bad k or query, orders it cannot take); 503 when it cannot answer now (closed, the client gone); else 500.
func failure(err error) (status, apiError) {
	var se *segment.SyntaxError
	var qe *segment.QueryError // an unknown name or a bad value in a query that parsed
	code, e := status(http.StatusInternalServerError), apiError{Message: err.Error()}
	switch {
	case errors.As(err, &se):
		return http.StatusBadRequest, apiError{e.Message, se.Line, se.Column, &se.Offset}
	case errors.As(err, &qe):
		return http.StatusBadRequest, apiError{e.Message, qe.Line, qe.Column, &qe.Offset}
	case errors.As(err, new(*http.MaxBytesError)):
		return http.StatusRequestEntityTooLarge, apiError{Message: "request body over 1 MiB"}
	case errors.As(err, &code):
	case errors.Is(err, shop.ErrInvalidRequest), errors.Is(err, segment.ErrInvalid), errors.Is(err, affinity.ErrInvalid):
		code = http.StatusBadRequest
	case errors.Is(err, shop.ErrClosed), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		code = http.StatusServiceUnavailable
	}
	return code, e
}

// reply writes v as JSON, or err as its failure.
func reply(w http.ResponseWriter, v any, err error) {
	code := status(http.StatusOK)
	if err != nil {
		code, v = failure(err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(int(code))
	_ = json.NewEncoder(w).Encode(v)
}

// muxError writes the mux's own answers (no such path; another method, with its Allow header) as JSON errors too.
type muxError struct{ http.ResponseWriter }

func (w muxError) WriteHeader(code int)        { reply(w.ResponseWriter, nil, status(code)) }
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
			reply(w, v, err)
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
			return nil, fmt.Errorf("%w: send application/json", status(http.StatusUnsupportedMediaType))
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", status(http.StatusBadRequest), err) // past 1 MiB, whatever the body holds: a 413 (failure)
		}
		var orders []affinity.OrderChange // whole orders (sent again, an order replaces itself); a misspelt field, data after them: errors
		if err := json.Unmarshal(body, &orders); err != nil {
			return nil, fmt.Errorf("%w: %w", status(http.StatusBadRequest), err)
		}
		err = s.Refresh(r.Context(), shop.Changes(slices.Values(orders)))
		return map[string]any{"as_of": s.Snapshot().AsOf()}, err
	})
}
