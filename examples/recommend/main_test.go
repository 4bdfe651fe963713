package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
)

func TestRunDemo(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, []string{"-k", "5"}); err != nil {
		t.Fatalf("run: %v", err)
	}
	s := out.String()
	for _, want := range []string{"demo storefront", "Frequently bought together with", "For customer", "bought together with"} {
		if !strings.Contains(s, want) {
			t.Errorf("output does not contain %q; output:\n%s", want, s)
		}
	}
	if got, want := len(regexp.MustCompile(`(?m)^\s+\d+\. `).FindAllString(s, -1)), 2*5; got != want {
		t.Errorf("%d numbered lines, want %d; output:\n%s", got, want, s)
	}
}

func TestRunErrors(t *testing.T) {
	var out bytes.Buffer
	for _, args := range [][]string{
		{"-product", "nope"},
		{"-scope", "galaxy"},
		{"-k", "0"},
	} {
		if err := run(context.Background(), &out, args); err == nil {
			t.Errorf("%q: got no error, want one", args)
		}
	}
}
