package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Adversarial tests of the storefront's command-line contract (README.md:
// like every example it reads -data FILE -format NAME and logs the load
// report and the History's summary first): a file that cannot be loaded
// is an error before the service listens, never a panic. The listen
// address is one no socket can take, so that a run that gets as far as
// listening fails at once instead of serving.

const (
	advCLIHeader = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
	advCLIRows   = "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n" +
		"536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850,United Kingdom\n" +
		"536366,22633,HAND WARMER UNION JACK,6,2010-12-01 08:28:00,1.85,17850,United Kingdom\n"
	advCLIBadAddr = "127.0.0.1:-1"
)

func advCLIWrite(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, data, 0o644))
	return p
}

// advCLIRun runs the service on data and format, returning its log.
func advCLIRun(data, format string) (log string, err error) {
	var w bytes.Buffer
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("PANIC: %v", r)
		}
		log = w.String()
	}()
	return "", run(config{addr: advCLIBadAddr, data: data, format: format}, slog.New(slog.NewJSONHandler(&w, nil)))
}

// TestAdvCLIBadFiles: a file that cannot be loaded is an error, logged
// before anything is loaded or served.
func TestAdvCLIBadFiles(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(advCLIHeader + advCLIRows))
	require.NoError(t, zw.Close())
	for _, c := range []struct {
		name, format string
		data         []byte // nil: no file
		dir          bool
	}{
		{name: "missing", format: "onlineretail"},
		{name: "directory", format: "onlineretail", dir: true},
		{name: "empty", format: "onlineretail", data: []byte{}},
		{name: "unknown format", format: "excel", data: []byte(advCLIHeader + advCLIRows)},
		{name: "corrupt gzip", format: "onlineretail", data: []byte("\x1f\x8bnot gzip")},
		{name: "truncated gzip", format: "onlineretail", data: gz.Bytes()[:gz.Len()/2]},
		{name: "onlineretail as default csv", format: "csv", data: []byte(advCLIHeader + advCLIRows)},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "orders.csv")
			switch {
			case c.dir:
				path = t.TempDir()
			case c.data != nil:
				path = advCLIWrite(t, "orders.csv", c.data)
			}
			log, err := advCLIRun(path, c.format)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "PANIC")
			assert.NotContains(t, log, `"msg":"loaded"`)
			assert.NotContains(t, log, `"msg":"listening"`)
		})
	}
}

// TestAdvCLIGoodFile: a good file is loaded and logged ("loaded" with the
// report and the summary) before the service tries to listen; the bad
// address is then the error.
func TestAdvCLIGoodFile(t *testing.T) {
	log, err := advCLIRun(advCLIWrite(t, "orders.csv", []byte(advCLIHeader+advCLIRows)), "onlineretail")
	require.Error(t, err, "the address cannot be listened on")
	assert.NotContains(t, err.Error(), "PANIC")
	require.Contains(t, log, `"msg":"loaded"`)
	assert.Contains(t, log, `"loaded":3`)
	assert.Less(t, bytes.Index([]byte(log), []byte(`"msg":"loaded"`)), bytes.Index([]byte(log), []byte(`"msg":"listening"`)))
}

func TestAdvCLINothingLoaded(t *testing.T) {
	for _, c := range []struct{ name, format, data string }{
		{"header only", "onlineretail", advCLIHeader},
		{"onlineretail as cdnow", "cdnow", advCLIHeader + advCLIRows},
	} {
		t.Run(c.name, func(t *testing.T) {
			log, err := advCLIRun(advCLIWrite(t, "orders.csv", []byte(c.data)), c.format)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "PANIC")
			assert.NotContains(t, log, `"msg":"listening"`, "an empty shop from a file is not served")
		})
	}
}

func TestAdvCLILoadErrorNamesFile(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"empty", []byte{}},
		{"corrupt gzip", []byte("\x1f\x8bnot gzip")},
		{"missing columns", []byte("milk,bread\nbeer\n")},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := advCLIRun(advCLIWrite(t, "my-orders-file.csv", c.data), "onlineretail")
			require.Error(t, err)
			assert.Contains(t, err.Error(), "my-orders-file.csv", "the error names the file the user gave")
		})
	}
}
