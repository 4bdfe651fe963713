package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/internal/testdata"
	"github.com/shopaffinity/affinity/shop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTinyShop(t *testing.T) {
	opts := shop.Options{}
	if !testdata.Long() {
		opts.Model = "neighbours" // the demo's choice, without the choosing (see advShop)
	}
	s, err := shop.Open(context.Background(), shop.Demo(), opts)
	require.NoError(t, err)
	mux := http.NewServeMux()
	routes(mux, s)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func(path string, v any) int {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
		return resp.StatusCode
	}

	var res shop.Result
	require.Equal(t, http.StatusOK, get("/customers/c000042/recommendations?k=3", &res))
	assert.True(t, res.Known)
	assert.Len(t, res.Recs, 3)

	var seg map[string]any
	require.Equal(t, http.StatusOK, get("/segments?q=frequency%20%3E%3D%205", &seg))
	assert.Positive(t, seg["customers"])
	assert.Equal(t, "frequency >= 5", seg["query"])
	assert.IsType(t, "", seg["revenue"], "money as an exact decimal string")
	var bad shop.Problem
	assert.Equal(t, http.StatusBadRequest, get("/segments?q=frequency%20%3E%3D", &bad))
	assert.Contains(t, bad.Message, "column")

	// A new customer's first order is served after the refresh.
	require.Equal(t, http.StatusOK, get("/customers/newbie/recommendations", &res))
	assert.True(t, res.ColdStart)
	post := func(body string) int {
		resp, err := http.Post(srv.URL+"/orders", "application/json", strings.NewReader(body))
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	order := `{"key":"web-1","lines":[{"customer":"newbie","product":"p00007","time":"2026-01-05T10:00:00Z","quantity":2,"price":12.90}]}`
	require.Equal(t, http.StatusOK, post("["+order+"]"))
	require.Equal(t, http.StatusOK, get("/customers/newbie/recommendations", &res))
	assert.True(t, res.Known)
	assert.False(t, res.ColdStart)
	value := func() affinity.Money {
		h := s.Snapshot().History()
		o, ok := h.LookupOrder("web-1")
		require.True(t, ok)
		return h.OrderValue(o)
	}
	assert.Equal(t, affinity.Money(258000), value(), "2 × 12.90, read exactly")
	// The same order sent again (a retried webhook) replaces itself.
	lines := s.Snapshot().History().NumLines()
	require.Equal(t, http.StatusOK, post("["+order+"]"))
	assert.Equal(t, lines, s.Snapshot().History().NumLines())
	assert.Equal(t, affinity.Money(258000), value())
	// An edit: one of the two returned.
	require.Equal(t, http.StatusOK, post("["+strings.Replace(order, `"quantity":2`, `"quantity":1`, 1)+"]"))
	assert.Equal(t, affinity.Money(129000), value())

	assert.Equal(t, http.StatusBadRequest, post(`{"not":"a list"}`))
	assert.Equal(t, http.StatusBadRequest, post(`[{"lines":[]}]`), "an order without a key")

	// A body over 1 MiB is refused (413, as the storefront), and nothing
	// of it is taken in.
	lines = s.Snapshot().History().NumLines()
	item := strings.Replace(order, "web-1", "web-2", 1)
	big := "[" + strings.Repeat(item+",", 1<<20/(len(item)+1)) + item + "]" // just over 1 MiB
	require.Greater(t, len(big), 1<<20)
	assert.Equal(t, http.StatusRequestEntityTooLarge, post(big))
	assert.Equal(t, lines, s.Snapshot().History().NumLines())
	_, ok := s.Snapshot().History().LookupOrder("web-2")
	assert.False(t, ok)
}

// TestReadmeLineCounts: the README gives tinyshop's size, the whole file
// and its non-blank lines after the imports; they follow the code.
func TestReadmeLineCounts(t *testing.T) {
	src, err := os.ReadFile("main.go")
	require.NoError(t, err)
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(src), "\n"), "\n")
	code, after := 0, false
	for _, l := range lines {
		if after && strings.TrimSpace(l) != "" {
			code++
		}
		after = after || l == ")"
	}
	m := regexp.MustCompile(`front door in (\d+) lines, its doc comment and imports included \((\d+) lines\s+of code after the imports\)`).FindSubmatch(readme)
	require.NotNil(t, m, "the README's sentence on tinyshop's size")
	assert.Equal(t, strconv.Itoa(len(lines)), string(m[1]), "lines of main.go")
	assert.Equal(t, strconv.Itoa(code), string(m[2]), "non-blank lines after the imports")
	assert.Contains(t, string(readme), "a server in "+strconv.Itoa(code)+" lines")
}

// TestExitStatus: a usage error exits with status 2, as flag.ExitOnError
// does, and other errors with 1, in every example.
func TestExitStatus(t *testing.T) { testdata.CheckExitStatus(t, "tinyshop", main) }

// TestFormatFlagParsed: -format without -data was found by scanning the
// raw arguments for anything starting with "format", which refused a
// value such as -addr format:1 (here an address that cannot be served
// on: status 1 after the demo opens, not the usage error's 2). Opening
// the demo in a process of its own takes a third of a second: the long
// suite's.
func TestFormatFlagParsed(t *testing.T) {
	testdata.SkipUnlessLong(t)
	stderr, status := testdata.RunMain(t, main, "-addr", "format:1")
	assert.Equal(t, 1, status, stderr)
	assert.NotContains(t, stderr, "-format without -data")
}
