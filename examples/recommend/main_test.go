package main

import (
	"bytes"
	"context"
	"regexp"
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

func TestRunErrors(t *testing.T) {
	var out bytes.Buffer
	assert.Error(t, run(context.Background(), &out, &out, []string{"-product", "nope"}))
	assert.Error(t, run(context.Background(), &out, &out, []string{"-scope", "galaxy"}))
	assert.Error(t, run(context.Background(), &out, &out, []string{"-k", "0"}))
}
