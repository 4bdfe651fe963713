package main

import (
	"bytes"
	"context"
	"flag"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunDemo(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, &out, []string{"-k", "5"}))
	s := out.String()
	assert.Contains(t, s, "demo storefront")
	assert.Contains(t, s, "Frequently bought together with")
	assert.Contains(t, s, "For customer")
	assert.Contains(t, s, "bought together with")
	assert.Len(t, regexp.MustCompile(`(?m)^\s+\d+\. `).FindAllString(s, -1), 2*5, s)
}

// TestRunUnknownCustomer: an unknown -customer got the popular products
// under "For customer X:" as if they were hers; the output says so.
func TestRunUnknownCustomer(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, &out, []string{"-k", "2", "-customer", "nobody"}))
	assert.Contains(t, out.String(), "For customer nobody (not a customer of this shop: the popular products):")
	out.Reset()
	require.NoError(t, run(context.Background(), &out, &out, []string{"-k", "2", "-customer", "c000740"}))
	assert.Contains(t, out.String(), "For customer c000740:")
}

// TestRunPopularAmongNeighbours: a popular result ranked among the
// co-purchase ones shows its popularity, another scale; the output says
// so below the list, and only then.
func TestRunPopularAmongNeighbours(t *testing.T) {
	for _, k := range []string{"10", "2"} {
		var out bytes.Buffer
		require.NoError(t, run(context.Background(), &out, &out, []string{"-k", k, "-customer", "c002226"}))
		list := out.String()[strings.Index(out.String(), "For customer c002226"):]
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
	assert.Error(t, run(context.Background(), &out, &out, []string{"-product", "nope"}))
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
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, &out, []string{"-k", "2", "-measure", "lift"}))
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
	// the neighbours' own defaults still apply
	require.NoError(t, run(context.Background(), &out, &usage, []string{"-k", "1", "-scope", "customer"}))
	assert.Contains(t, out.String(), "model cosine/customer")
}
