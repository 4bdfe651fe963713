package main

import (
	"slices"
	"testing"
)

// TestKeyList: "-exclude 'POST, DOT'" kept " DOT", a key no product has.
func TestKeyList(t *testing.T) {
	for in, want := range map[string][]string{
		"POST, DOT":   {"POST", "DOT"},
		" POST ,,DOT": {"POST", "DOT"},
		"POST":        {"POST"},
		",":           nil,
	} {
		if got := keyList(in); !slices.Equal(got, want) {
			t.Errorf("keyList(%q) = %q, want %q", in, got, want)
		}
	}
}
