package pkgerr_test

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/shopaffinity/affinity/internal/pkgerr"
)

type typed struct{ msg string }

func (e *typed) Error() string { return e.msg }

// TestNameThePackageOnce: Wrap leaves out the prefix of its own package
// only, and its context when the message begins with it, New says its
// message alone; both match every error they are
// given, with errors.Is and errors.As.
func TestNameThePackageOnce(t *testing.T) {
	own := errors.New("pkg: corrupt file")
	other := errors.New("other: bad value")
	sentinel := errors.New("pkg: invalid argument")
	cases := []struct {
		name string
		err  error
		msg  string
		is   []error
	}{
		{"Wrap of the package's own error", pkgerr.Wrap("pkg", "load f", own), "pkg: load f: corrupt file", []error{own}},
		{"Wrap of another package's error", pkgerr.Wrap("pkg", "Lookback", other, sentinel), "pkg: Lookback: other: bad value", []error{other, sentinel}},
		{"Wrap without context", pkgerr.Wrap("pkg", "", own), "pkg: corrupt file", []error{own}},
		{"Wrap of a wrapped error", pkgerr.Wrap("pkg", "b", pkgerr.Wrap("pkg", "a", own)), "pkg: b: a: corrupt file", []error{own}},
		{"Wrap of an error that begins with the context", pkgerr.Wrap("pkg", "query", errors.New("query: syntax error")), "pkg: query: syntax error", nil},
		{"Wrap of the package's error that begins with the context", pkgerr.Wrap("pkg", "load", pkgerr.Wrap("pkg", "load", own)), "pkg: load: corrupt file", []error{own}},
		{"Wrap of an error with the context further on", pkgerr.Wrap("pkg", "query", other), "pkg: query: other: bad value", []error{other}},
		{"New", pkgerr.New("pkg: as-of time required", sentinel, fs.ErrInvalid), "pkg: as-of time required", []error{sentinel, fs.ErrInvalid}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.EqualError(t, c.err, c.msg)
			for _, target := range c.is {
				assert.ErrorIs(t, c.err, target)
			}
			assert.NotErrorIs(t, c.err, fs.ErrNotExist)
		})
	}
	var te *typed
	err := pkgerr.Wrap("pkg", "query", &typed{"other: syntax error"})
	assert.ErrorAs(t, err, &te)
	assert.EqualError(t, err, "pkg: query: other: syntax error")
}
