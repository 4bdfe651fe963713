package main

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// brokenPipe is a client that went away after the response headers and
// the first bytes: every later Write fails.
type brokenPipe struct {
	*httptest.ResponseRecorder
	budget int
}

func (b *brokenPipe) Write(p []byte) (int, error) {
	n := min(len(p), b.budget)
	b.budget -= n
	b.ResponseRecorder.Write(p[:n])
	if n < len(p) {
		return n, errors.New("write: broken pipe")
	}
	return n, nil
}

// statusCount returns how many requests of route metrics counted with
// status.
func statusCount(srv *server, route string, status int) int64 {
	srv.metrics.mu.Lock()
	defer srv.metrics.mu.Unlock()
	if rs := srv.metrics.routes[route]; rs != nil {
		return rs.byStatus[status]
	}
	return 0
}

// TestCSVClientGone: a client that stops reading a CSV export is no
// server error. The export's error became a 500: a second status after
// the CSV's 200 (http: superfluous WriteHeader), a JSON error appended to
// the CSV, a log line at ERROR and a 500 in /metrics.
func TestCSVClientGone(t *testing.T) {
	testServer(t)
	var logs bytes.Buffer
	srv := newServer(demoShop, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	w := &brokenPipe{ResponseRecorder: httptest.NewRecorder(), budget: 100}
	srv.ServeHTTP(w, httptest.NewRequest("GET", "/api/segments/query.csv?q=frequency%3E%3D5", nil))
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Len(t, w.Body.String(), 100, "the CSV up to the break, nothing after it")
	assert.NotContains(t, w.Body.String(), `"error"`, "JSON appended to the CSV")
	assert.NotContains(t, logs.String(), "level=ERROR", "a client that went away is logged as a server error")
	assert.Contains(t, logs.String(), "level=DEBUG")
	const route = "GET /api/segments/query.csv"
	assert.Zero(t, statusCount(srv, route, http.StatusInternalServerError), "counted as a 500")
	assert.Equal(t, int64(1), statusCount(srv, route, http.StatusOK), "the status sent")
}

// TestWrapAfterHeaders: a handler that fails after sending its headers,
// with the client still there, is a server error in the log, and its
// response is aborted (http.ErrAbortHandler) with no JSON error appended,
// counted with the status it sent; one that fails before gets its JSON
// error; one that panics after sending its headers is aborted too, its
// stack logged and the panic counted.
func TestWrapAfterHeaders(t *testing.T) {
	var logs bytes.Buffer
	srv := &server{log: slog.New(slog.NewTextHandler(&logs, nil)), metrics: newMetrics(nil)}
	failLate := srv.wrap("late", func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/csv")
		_, _ = w.Write([]byte("a,b\n"))
		return errors.New("the export broke")
	})
	w := httptest.NewRecorder()
	assert.PanicsWithValue(t, http.ErrAbortHandler, func() { failLate.ServeHTTP(w, httptest.NewRequest("GET", "/", nil)) })
	assert.Equal(t, "a,b\n", w.Body.String())
	assert.Contains(t, logs.String(), "level=ERROR")
	assert.Contains(t, logs.String(), "the export broke")
	assert.Equal(t, int64(1), statusCount(srv, "late", http.StatusOK))

	failEarly := srv.wrap("early", func(w http.ResponseWriter, r *http.Request) error {
		return errorf(http.StatusNotFound, "no such thing")
	})
	w = httptest.NewRecorder()
	failEarly.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	assert.Equal(t, http.StatusNotFound, w.Code)
	assert.JSONEq(t, `{"error":"no such thing"}`, w.Body.String())
	assert.Equal(t, int64(1), statusCount(srv, "early", http.StatusNotFound))

	logs.Reset()
	panicLate := srv.wrap("panic", func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte("partial"))
		panic("bug")
	})
	w = httptest.NewRecorder()
	assert.PanicsWithValue(t, http.ErrAbortHandler, func() { panicLate.ServeHTTP(w, httptest.NewRequest("GET", "/", nil)) })
	assert.Equal(t, "partial", w.Body.String())
	assert.Equal(t, int64(1), statusCount(srv, "panic", http.StatusAccepted))
	assert.Contains(t, logs.String(), "panic=bug")
	assert.Contains(t, logs.String(), "wrap_test.go", "the stack of the panic")
	assert.Equal(t, 1, srv.metrics.panics)

	panicEarly := srv.wrap("panic early", func(w http.ResponseWriter, r *http.Request) error { panic("bug") })
	w = httptest.NewRecorder()
	require.NotPanics(t, func() { panicEarly.ServeHTTP(w, httptest.NewRequest("GET", "/", nil)) })
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	assert.JSONEq(t, `{"error":"internal error"}`, w.Body.String())
	assert.Equal(t, 2, srv.metrics.panics)
}

// TestTruncatedResponseBreaks: a handler that panics or fails after its
// headers and part of its body (a CSV export half written) was recovered
// and its response ended as if complete: the client read a truncated
// body with a 200 and no error. Now the client's read fails.
func TestTruncatedResponseBreaks(t *testing.T) {
	srv := &server{log: slog.New(slog.NewTextHandler(io.Discard, nil)), metrics: newMetrics(nil)}
	for name, fail := range map[string]func() error{
		"panic": func() error { panic("bug halfway through the export") },
		"error": func() error { return errors.New("the export broke") },
	} {
		t.Run(name, func(t *testing.T) {
			ts := httptest.NewServer(srv.wrap("csv", func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Content-Type", "text/csv")
				_, _ = w.Write([]byte("customer,spend\nc1,10.00\n"))
				_ = http.NewResponseController(w).Flush()
				return fail()
			}))
			defer ts.Close()
			resp, err := http.Get(ts.URL)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			assert.Error(t, err, "a truncated export must not look complete")
			assert.Equal(t, "customer,spend\nc1,10.00\n", string(body))
		})
	}
}
