package shop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/recommend"
	"github.com/shopaffinity/affinity/segment"
)

// Problem is an error as an HTTP API answers it: a status and a JSON
// body {"error": "…"}, with, for a segment query's problem, where it is:
// "line" and "column" (from 1) and "offset" (bytes, from 0, so present
// at 0 too). [ProblemOf] classifies the errors of this package and the
// ones below it; a handler returns a Problem of its own for a status
// they do not give.
type Problem struct {
	Status  int    `json:"-"`
	Message string `json:"error"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Offset  *int   `json:"offset,omitempty"`
}

// Error returns the message.
func (p *Problem) Error() string { return p.Message }

// ProblemOf returns err as an HTTP API answers it (nil for nil), by the
// first that matches:
//   - a *Problem err wraps: itself;
//   - a *segment.SyntaxError or *segment.QueryError: 400, with the
//     position in the query;
//   - an *http.MaxBytesError (a body past http.MaxBytesReader's limit):
//     413;
//   - affinity.ErrNilArgument (a caller's nil context, snapshot, …): 500,
//     the program's fault rather than the request's;
//   - ErrUnknownCustomer (a dense id that names nobody) and
//     recommend.ErrUnknownProduct: 404;
//   - ErrInvalidRequest, ErrUnknownCategory, segment.ErrInvalid,
//     segment.ErrUnknown and affinity.ErrInvalid (orders a refresh
//     refused): 400, the request's fault;
//   - ErrClosed, context.Canceled and context.DeadlineExceeded (the shop
//     closing, the client gone, a wait cut short): 503;
//   - anything else (an index build that failed, a source's error): 500.
//
// The message is err's, but for the 413, which says the limit ("request
// body over 1 MiB").
func ProblemOf(err error) *Problem {
	var p *Problem
	var se *segment.SyntaxError
	var qe *segment.QueryError
	var mb *http.MaxBytesError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &p):
		return p
	case errors.As(err, &se):
		return &Problem{Status: http.StatusBadRequest, Message: err.Error(), Line: se.Line, Column: se.Column, Offset: &se.Offset}
	case errors.As(err, &qe): // an unknown name or a bad value in a query that parsed
		return &Problem{Status: http.StatusBadRequest, Message: err.Error(), Line: qe.Line, Column: qe.Column, Offset: &qe.Offset}
	case errors.As(err, &mb):
		return &Problem{Status: http.StatusRequestEntityTooLarge, Message: "request body over " + byteSize(mb.Limit)}
	}
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, affinity.ErrNilArgument):
	case errors.Is(err, ErrUnknownCustomer), errors.Is(err, recommend.ErrUnknownProduct):
		status = http.StatusNotFound
	case errors.Is(err, ErrInvalidRequest), errors.Is(err, ErrUnknownCategory), errors.Is(err, segment.ErrInvalid),
		errors.Is(err, segment.ErrUnknown), errors.Is(err, affinity.ErrInvalid):
		status = http.StatusBadRequest
	case errors.Is(err, ErrClosed), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		status = http.StatusServiceUnavailable
	}
	return &Problem{Status: status, Message: err.Error()}
}

// byteSize words n bytes as "1 MiB", "64 KiB" or "1000 bytes": in the
// largest binary unit that divides it.
func byteSize(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if n > 0 && n%u.size == 0 {
			return fmt.Sprintf("%d %s", n/u.size, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// WriteJSON answers an HTTP request with v as JSON and status 200 when
// err is nil, else with [ProblemOf](err): its status and its JSON body.
// A v that does not encode (a NaN, a channel) is answered as a 500
// Problem, not half written. The Content-Type is application/json.
func WriteJSON(w http.ResponseWriter, v any, err error) {
	status := http.StatusOK
	var body []byte
	if err == nil {
		body, err = json.Marshal(v)
		if err != nil {
			err = fmt.Errorf("shop: encoding the answer: %w", err)
		}
	}
	if err != nil {
		p := ProblemOf(err)
		status = p.Status
		body, _ = json.Marshal(p) // strings and ints: always encodes
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
