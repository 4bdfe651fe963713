package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
	"github.com/shopaffinity/affinity/internal/testdata"
)

// stubFeed is a feed whose Load fails while down is set, and waits for
// its context to end while hung is; otherwise it loads nothing.
type stubFeed struct{ down, hung atomic.Bool }

func (f *stubFeed) Load(ctx context.Context, b *affinity.Builder) (dataset.Report, error) {
	switch {
	case f.hung.Load():
		<-ctx.Done()
		return dataset.Report{}, ctx.Err()
	case f.down.Load():
		return dataset.Report{}, errors.New("database down")
	}
	return dataset.Report{Format: "sql"}, nil
}

func (*stubFeed) Commit() {}

// healthz returns the status and the body of GET /healthz.
func healthz(t *testing.T, h http.Handler) (int, map[string]any) {
	t.Helper()
	rec := serve(h, "GET", "/healthz", "")
	var body map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
	return rec.Code, body
}

// TestHealthzReportsFailingPolls: /healthz answered ok whatever the polls
// of the database did, a hung query stalled the refreshes for good and
// nothing said so. A poll now times out, and once the polls have failed
// for longer than three intervals /healthz answers 503 with the reason;
// the first poll that succeeds makes it ok again.
func TestHealthzReportsFailingPolls(t *testing.T) {
	s, _ := freshHandler(t)
	srv := newServer(s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, tc := range []struct {
		name, reason string
		set          func(*stubFeed)
	}{
		{"down", "database down", func(f *stubFeed) { f.down.Store(true) }},
		{"hung", "poll timed out after 10ms", func(f *stubFeed) { f.hung.Store(true) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var feed stubFeed
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			defer func() { cancel(); <-done }()
			go func() { defer close(done); srv.poll(ctx, &feed, 2*time.Millisecond, 10*time.Millisecond) }()
			code, _ := healthz(t, srv)
			assert.Equal(t, http.StatusOK, code, "before any poll failed")
			tc.set(&feed)
			var body map[string]any
			require.Eventually(t, func() bool {
				code, body = healthz(t, srv)
				return code == http.StatusServiceUnavailable
			}, 2*time.Second, 2*time.Millisecond, "polls failing for longer than three intervals")
			assert.Equal(t, "unhealthy", body["status"])
			assert.Contains(t, body["error"], tc.reason)
			feed.down.Store(false)
			feed.hung.Store(false)
			require.Eventually(t, func() bool {
				code, body = healthz(t, srv)
				return code == http.StatusOK
			}, 2*time.Second, 2*time.Millisecond, "a poll succeeded")
			assert.Equal(t, "ok", body["status"])
		})
	}
}

// smallBuffers sets a socket's send and receive buffers to the least
// the kernel takes, so that a response larger than a few kilobytes is
// written only as fast as the client reads it.
func smallBuffers(_, _ string, c syscall.RawConn) error {
	var err error
	if e := c.Control(func(fd uintptr) {
		err = errors.Join(syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, 1),
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1))
	}); e != nil {
		return e
	}
	return err
}

// TestCSVExportOutlastsWriteTimeout: the server's WriteTimeout bounds a
// whole response, and cut off an audience export to a client slower than
// that (a large audience, a slow link) in the middle of its body. Each
// write of an export now has the time of its own; the other responses
// keep the server's bound.
func TestCSVExportOutlastsWriteTimeout(t *testing.T) {
	h := advHandler(t)
	const path = "/api/segments/query.csv?q=all&order=key"
	want := serve(h, "GET", path, "")
	require.Equal(t, http.StatusOK, want.Code)
	require.Greater(t, want.Body.Len(), 64<<10, "an export larger than the sockets' buffers")

	ln, err := (&net.ListenConfig{Control: smallBuffers}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	hs := &http.Server{Handler: h, WriteTimeout: 30 * time.Millisecond}
	go hs.Serve(ln)
	defer hs.Close()
	client := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{Control: smallBuffers}).DialContext}}
	defer client.CloseIdleConnections()
	resp, err := client.Get("http://" + ln.Addr().String() + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	time.Sleep(60 * time.Millisecond) // a slow client: the server's WriteTimeout passes
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err, "the export broke off after %d bytes", len(body))
	assert.Equal(t, want.Body.String(), string(body))
}

// TestShutdownWithRequestUnderWay: a stop while a request was under way
// (a body that never comes, a long wait for a segment index being built)
// waited 10 s for it, then returned the shutdown's "context deadline
// exceeded": the service exited with status 1. The stop asked for is no
// failure: after shutdownTimeout the connections are closed, a warning
// logged, and the error is nil.
func TestShutdownWithRequestUnderWay(t *testing.T) {
	defer func(d time.Duration) { shutdownTimeout = d }(shutdownTimeout)
	shutdownTimeout = 50 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var log lockedBuffer
	served := make(chan error, 1)
	data := testdata.WriteFile(t, "orders.csv", []byte(testdata.RetailHeader+testdata.RetailRows))
	go func() {
		served <- openAndServe(ctx, func() {}, config{addr: "127.0.0.1:0", data: data, format: "onlineretail"}, slog.New(slog.NewJSONHandler(&log, nil)))
	}()
	addr := regexp.MustCompile(`"msg":"listening","addr":"http://([^"]+)"`)
	require.Eventually(t, func() bool { return addr.MatchString(log.String()) }, 10*time.Second, 5*time.Millisecond)
	conn, err := net.Dial("tcp", addr.FindStringSubmatch(log.String())[1])
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "POST /api/cart/recommendations HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
	require.NoError(t, err)
	time.Sleep(20 * time.Millisecond) // the request reaches its handler, which waits for the body
	cancel()
	select {
	case err := <-served:
		require.NoError(t, err, "a stop is no failure")
		assert.Contains(t, log.String(), `"msg":"requests cut off at shutdown"`)
	case <-time.After(5 * time.Second):
		t.Fatal("the shutdown still waits for the request")
	}
}
