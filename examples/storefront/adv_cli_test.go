package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/testdata"
)

// Adversarial tests of the storefront's command-line contract (README.md:
// like every example it reads -data FILE -format NAME and logs the load
// report and the History's summary first; the shared part in
// [testdata.CLI]): a file that cannot be loaded is an error before the
// service listens, never a panic. The listen address is one no socket
// can take, so that a run that gets as far as listening fails at once
// instead of serving (but in the tests of listening and of signals).

const advCLIBadAddr = "127.0.0.1:-1"

// advCLIRun runs the service on data and format, returning its log.
func advCLIRun(data, format string) (log string, err error) {
	return testdata.Capture(func(w io.Writer) error {
		return run(config{addr: advCLIBadAddr, data: data, format: format}, slog.New(slog.NewJSONHandler(w, nil)))
	})
}

func TestAdvCLIContract(t *testing.T) {
	testdata.CLI{
		Run: func(args ...string) (string, error) {
			return advCLIRun(testdata.DataFormat(args))
		},
		NoFlags: true,
		Log:     true,
		Report:  `"msg":"loaded"`,
		// an empty shop from a file is not served
		Never: []string{`"msg":"listening"`},
	}.Check(t)
}

// TestAdvCLIGoodFile: a good file is loaded and logged ("loaded" with the
// report and the summary) before the service tries to listen; the bad
// address is then the error, and the service never says it listens.
func TestAdvCLIGoodFile(t *testing.T) {
	log, err := advCLIRun(testdata.WriteFile(t, "orders.csv", []byte(testdata.RetailHeader+testdata.RetailRows)), "onlineretail")
	require.Error(t, err, "the address cannot be listened on")
	assert.NotContains(t, err.Error(), "PANIC")
	require.Contains(t, log, `"msg":"loaded"`)
	assert.Contains(t, log, `"loaded":8`)
	assert.NotContains(t, log, `"msg":"listening"`)
}

// TestAdvCLIPortTaken: "listening" was logged before the address was
// bound, so a service whose port was taken logged that it listened, then
// failed. It binds first and logs the address bound.
func TestAdvCLIPortTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	log, err := testdata.Capture(func(w io.Writer) error {
		return run(config{addr: l.Addr().String(), data: testdata.WriteFile(t, "orders.csv", []byte(testdata.RetailHeader+testdata.RetailRows)), format: "onlineretail"},
			slog.New(slog.NewJSONHandler(w, nil)))
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "address already in use")
	assert.NotContains(t, log, `"msg":"listening"`, "the address was never listened on")
}

// TestAdvCLIFlags: a -refresh of 0 started the service and then killed it
// (time.NewTicker panics), a stray argument ended the flags silently
// (-data after it was ignored and the demo served), and -data beside
// -orders-db was ignored. Each is refused before anything loads.
func TestAdvCLIFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-orders-db", "postgres://x", "-refresh", "0"},
		{"-refresh", "-1s"},
		{"stray", "-data", "orders.csv"},
		{"-orders-db", "postgres://x", "-data", "orders.csv"},
		{"-orders-db", "postgres://x", "-format", "shopify"},
		{"-catalog", "catalog.csv"},
		{"-orders-query", "SELECT 1"},
		{"-poll-timeout", "5s"},
		{"-orders-db", "postgres://x", "-poll-timeout", "0"},
		{"-refresh", "soon"},
	} {
		_, err := parseFlags(args)
		assert.Error(t, err, "%q", args)
	}
	c, err := parseFlags([]string{"-orders-db", "postgres://x", "-catalog", "c.csv", "-refresh", "2s"})
	require.NoError(t, err)
	assert.Equal(t, config{addr: "127.0.0.1:8080", format: "csv", catalog: "c.csv", ordersDB: "postgres://x",
		ordersQuery: defaultQuery, refresh: 2 * time.Second, pollTimeout: time.Minute, gogc: defaultGOGC}, c)
}

// TestAdvCLIFlagsWithoutEffect: -refresh without -orders-db and -format
// without -data were taken and ignored (the demo served, nothing polled),
// and so was a -gogc of 0 or below (the collector ran at Go's 100). Each
// is refused; the same flags where they apply are taken.
func TestAdvCLIFlagsWithoutEffect(t *testing.T) {
	for _, args := range [][]string{
		{"-refresh", "5s"},                        // polls nothing: there is no -orders-db
		{"-data", "orders.csv", "-refresh", "1s"}, // a file is never polled
		{"-format", "onlineretail"},               // the demo is served, -format ignored
		{"-gogc", "0"},
		{"-gogc", "-1"},
	} {
		_, err := parseFlags(args)
		assert.Error(t, err, "%q is accepted and has no effect", args)
	}
	for _, args := range [][]string{
		{"-data", "orders.csv", "-format", "onlineretail", "-gogc", "100"},
		{"-orders-db", "postgres://x", "-refresh", "1s", "-gogc", "1"},
	} {
		_, err := parseFlags(args)
		assert.NoError(t, err, "%q", args)
	}
}

// signalChild names the environment variable that makes
// TestAdvCLISecondSignal, run in a process of its own, the service on the
// file it names.
const signalChild = "STOREFRONT_TEST_SIGNAL_DATA"

// TestAdvCLISecondSignal: the first SIGINT starts a graceful shutdown,
// which waits up to 10 s for requests under way; a second one was caught
// and ignored, so an operator's second Ctrl-C did not cut the wait short.
// It now ends the process at once, as it would any program. The service
// runs in a process of its own (the test binary again), holding a request
// whose body never comes.
func TestAdvCLISecondSignal(t *testing.T) {
	if data := os.Getenv(signalChild); data != "" {
		err := run(config{addr: "127.0.0.1:0", data: data, format: "onlineretail"}, slog.New(slog.NewJSONHandler(os.Stderr, nil)))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if runtime.GOOS == "windows" {
		t.Skip("no SIGINT to send on Windows")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestAdvCLISecondSignal$")
	cmd.Env = append(os.Environ(), signalChild+"="+testdata.WriteFile(t, "orders.csv", []byte(testdata.RetailHeader+testdata.RetailRows)))
	var log lockedBuffer
	cmd.Stderr = &log
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	ended := false
	defer func() {
		if !ended {
			cmd.Process.Kill()
			<-exited
		}
	}()
	logged := func(what string) string {
		t.Helper()
		for range 200 {
			if strings.Contains(log.String(), what) {
				return log.String()
			}
			time.Sleep(25 * time.Millisecond)
		}
		require.FailNow(t, "not logged", "%s in %q", what, log.String())
		return ""
	}
	m := regexp.MustCompile(`"msg":"listening","addr":"http://([^"]+)"`).FindStringSubmatch(logged(`"msg":"listening"`))
	require.NotNil(t, m, "the address listened on")
	conn, err := net.Dial("tcp", m[1])
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "POST /api/cart/recommendations HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond) // the request reaches its handler, which waits for the body

	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	logged(`"msg":"shutting down"`)
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	select {
	case err := <-exited:
		ended = true
		var ee *exec.ExitError
		require.True(t, errors.As(err, &ee), "the process ended by the signal, not by itself: %v", err)
		ws, ok := ee.Sys().(syscall.WaitStatus)
		require.True(t, ok)
		assert.True(t, ws.Signaled() && ws.Signal() == syscall.SIGINT, "ended by SIGINT: %v", ws)
	case <-time.After(3 * time.Second):
		t.Error("3 s after the second SIGINT, the shutdown still waits for the request")
	}
}

// TestAdvCLIExitStatus: a usage error exits with status 2, as
// flag.ExitOnError does, and other errors with 1, in every example.
func TestAdvCLIExitStatus(t *testing.T) { testdata.CheckExitStatus(t, "storefront", main) }

// TestAdvCLIStopWhileLoading: SIGINT or SIGTERM while the shop opens
// (its context cancelled) ended the service with a logged ERROR "context
// canceled" and status 1; an operator's stop is no failure: an info line,
// and no error (status 0).
func TestAdvCLIStopWhileLoading(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the signal came before the load was done
	var log bytes.Buffer
	err := openAndServe(ctx, func() {}, config{addr: advCLIBadAddr}, slog.New(slog.NewJSONHandler(&log, nil)))
	require.NoError(t, err)
	assert.Contains(t, log.String(), `"level":"INFO","msg":"stopped before the shop opened"`)
	assert.NotContains(t, log.String(), `"level":"ERROR"`)
	assert.NotContains(t, log.String(), `"msg":"listening"`)
}
