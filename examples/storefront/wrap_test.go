package main

import (
	"bytes"
	"errors"
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
// with the client still there, is a server error in the log, but its
// response gets no JSON error (the status is out) and counts with the
// status it sent; one that fails before gets its JSON error; one that
// panics after sending its headers gets nothing appended either.
func TestWrapAfterHeaders(t *testing.T) {
	var logs bytes.Buffer
	srv := &server{log: slog.New(slog.NewTextHandler(&logs, nil)), metrics: newMetrics(nil)}
	failLate := srv.wrap("late", func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/csv")
		_, _ = w.Write([]byte("a,b\n"))
		return errors.New("the export broke")
	})
	w := httptest.NewRecorder()
	failLate.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
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

	panicLate := srv.wrap("panic", func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte("partial"))
		panic("bug")
	})
	w = httptest.NewRecorder()
	require.NotPanics(t, func() { panicLate.ServeHTTP(w, httptest.NewRequest("GET", "/", nil)) })
	assert.Equal(t, "partial", w.Body.String())
	assert.Equal(t, int64(1), statusCount(srv, "panic", http.StatusAccepted))
}
