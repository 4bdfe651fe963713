package main

import (
	"bytes"
	"context"
	"flag"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopaffinity/affinity/internal/testdata"
)

// demoRuns holds the output of each command line run on the demo
// storefront (see [demoRun]).
var demoRuns sync.Map // strings.Join(args, " ") → func() (string, error)

// demoRun returns the output of the program run with args on the demo
// storefront. Opening the demo shop, with its choice of model, is most of
// a run; the program's output is a function of its arguments, so the
// tests that run the same command line share one run.
//
// The demo chooses the co-purchase neighbours by cosine and basket (see
// TestRunDemo, which runs that choice): the tests of what is printed
// give -measure cosine, the same model and the same output without the
// choosing (its EASE fit is most of the time of a run).
func demoRun(t *testing.T, args ...string) string {
	t.Helper()
	f, _ := demoRuns.LoadOrStore(strings.Join(args, " "), sync.OnceValues(func() (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), &out, &out, args)
		return out.String(), err
	}))
	out, err := f.(func() (string, error))()
	require.NoError(t, err, out)
	return out
}

// smallFile writes the eight Online Retail rows of [testdata.RetailRows]
// to a file and returns its path: for the checks of flags and messages
// that do not need the demo storefront.
func smallFile(t *testing.T) string {
	return testdata.WriteFile(t, "orders.csv", []byte(testdata.RetailHeader+testdata.RetailRows))
}

func TestRunDemo(t *testing.T) {
	s := demoRun(t, "-k", "5")
	assert.Contains(t, s, "demo storefront")
	// the demo's choice of model, which the tests of demoRun give as
	// -measure cosine
	assert.Contains(t, s, "; model cosine/basket\n")
	assert.Contains(t, s, "Frequently bought together with")
	assert.Contains(t, s, "For customer")
	assert.Contains(t, s, "bought together with")
	assert.Len(t, regexp.MustCompile(`(?m)^\s+\d+\. `).FindAllString(s, -1), 2*5, s)
}

// TestRunUnknownCustomer: an unknown -customer got the popular products
// under "For customer X:" as if they were hers; the output says so. A
// known customer's list has no such note (the run of
// TestRunPopularAmongNeighbours at k 2).
func TestRunUnknownCustomer(t *testing.T) {
	assert.Contains(t, demoRun(t, "-k", "2", "-customer", "nobody", "-measure", "cosine"), "For customer nobody (not a customer of this shop: the popular products):")
	assert.Contains(t, demoRun(t, "-k", "2", "-customer", "c002226", "-measure", "cosine"), "For customer c002226:\n")
}

// TestRunPopularAmongNeighbours: a popular result ranked among the
// co-purchase ones shows its popularity, another scale; the output says
// so below the list, and only then.
func TestRunPopularAmongNeighbours(t *testing.T) {
	for _, k := range []string{"10", "2"} {
		out := demoRun(t, "-k", k, "-customer", "c002226", "-measure", "cosine")
		list := out[strings.Index(out, "For customer c002226"):]
		lines := regexp.MustCompile(`(?m)^\s+\d+\. \S+\s+.{28} (\S+)`).FindAllStringSubmatch(list, -1)
		among := false
		for i, l := range lines {
			if l[1] != "popular" && slices.ContainsFunc(lines[:i], func(x []string) bool { return x[1] == "popular" }) {
				among = true
			}
		}
		assert.Equal(t, among, strings.Contains(list, "(popular: ranked among the co-purchase results"), "k %s:\n%s", k, list)
		if k == "10" {
			assert.True(t, among, "the demo's customer c002226 has a popular result among neighbours at k 10:\n%s", list)
		}
	}
}

func TestRunErrors(t *testing.T) {
	var out bytes.Buffer
	// an unknown product is found so once the shop is open: a small file's
	assert.Error(t, run(context.Background(), &out, &out, []string{"-data", smallFile(t), "-product", "nope"}))
	assert.Error(t, run(context.Background(), &out, &out, []string{"-scope", "galaxy"}))
	assert.Error(t, run(context.Background(), &out, &out, []string{"-k", "0"}))
}

// TestOpenOptions: -measure and -scope chose the neighbours only for the
// shops whose model choice kept them; where it picked EASE (Online
// Retail) the flags changed nothing but the reasons' units.
func TestOpenOptions(t *testing.T) {
	for args, model := range map[string]string{"": "", "-measure lift": "neighbours", "-scope customer": "neighbours", "-k 3": ""} {
		fs := flag.NewFlagSet("recommend", flag.ContinueOnError)
		scope := fs.String("scope", "basket", "")
		measure := fs.String("measure", "cosine", "")
		fs.Int("k", 10, "")
		var argv []string
		if args != "" {
			argv = strings.Fields(args)
		}
		require.NoError(t, fs.Parse(argv))
		o := openOptions(fs, *scope, *measure)
		assert.Equal(t, model, o.Model, args)
		assert.Equal(t, *measure, o.Measure, args)
		assert.Equal(t, *scope, o.Scope, args)
	}
	// forced neighbours: on a small file as on the demo
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, &out, []string{"-data", smallFile(t), "-k", "2", "-measure", "lift"}))
	assert.Contains(t, out.String(), "model lift/basket")
}

// TestUsageModelChoice: -h gave -measure and -scope defaults of "cosine"
// and "basket" as if they chose the model, where without them the shop
// chooses (EASE on Online Retail); it says so, and that setting either
// forces the neighbours.
func TestUsageModelChoice(t *testing.T) {
	var out, usage bytes.Buffer
	require.ErrorIs(t, run(context.Background(), &out, &usage, []string{"-h"}), flag.ErrHelp)
	u := usage.String()
	assert.NotContains(t, u, `(default "cosine")`)
	assert.NotContains(t, u, `(default "basket")`)
	assert.Contains(t, u, "the shop's automatic choice of model")
	assert.Contains(t, u, "setting -measure or -scope forces the co-purchase neighbours")
	// the neighbours' own defaults still apply (forced neighbours: on a
	// small file as on the demo)
	require.NoError(t, run(context.Background(), &out, &usage, []string{"-data", smallFile(t), "-k", "1", "-scope", "customer"}))
	assert.Contains(t, out.String(), "model cosine/customer")
}
