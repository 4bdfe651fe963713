package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuickstart(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out))
	s := out.String()
	for _, section := range []string{"# The demo storefront", "# RFM segments as of 2025-12-31", "# Coupon campaign", "# Thank-you mail for "} {
		assert.Contains(t, s, section)
	}
	for _, seg := range []string{"Champions", "Loyal", "At risk", "Can't lose them", "Hibernating", "Lost"} {
		assert.Regexp(t, "(?m)^"+regexp.QuoteMeta(seg)+` +\d+`, s)
	}
	m := regexp.MustCompile(`coupon: (\d+) customers`).FindStringSubmatch(s)
	require.Len(t, m, 2, s)
	n, _ := strconv.Atoi(m[1])
	assert.Positive(t, n, "the coupon segment is not empty")
	recs := regexp.MustCompile(`(?m)^\d\. p\d{5} .*(bought together with .* in \d+ orders|popular in the shop)`).FindAllString(s, -1)
	assert.Len(t, recs, 5, "five cross-sell products, each with its reason or labelled popular")
	withReason := regexp.MustCompile(`(?m)^\d\. p\d{5} .*bought together with .* in \d+ orders — \d+\.\d× more often than chance`).FindAllString(s, -1)
	assert.GreaterOrEqual(t, len(withReason), 3, "most of them with evidence above chance")

	var again bytes.Buffer
	require.NoError(t, run(context.Background(), &again))
	assert.Equal(t, s, again.String(), "same data, same output")
}
