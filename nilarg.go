package affinity

import (
	"context"

	"github.com/shopaffinity/affinity/internal/pkgerr"
)

// ErrNilArgument is matched (with errors.Is) by the error every function
// of the affinity packages that takes a context returns when given a nil
// context or a nil required argument (a History, counts, an index, a
// Builder): such a call is a programming error, reported as an error
// rather than a panic, in the caller or in a worker goroutine.
var ErrNilArgument = pkgerr.ErrNilArgument

// NilArgument returns the error for a nil argument what (such as
// "context" or "History") of a function of package pkg: "pkg: nil what",
// matching [ErrNilArgument] and each of also (a package's own sentinel,
// such as segment.ErrInvalid) with errors.Is.
func NilArgument(pkg, what string, also ...error) error {
	return pkgerr.New(pkg+": nil "+what, append([]error{ErrNilArgument}, also...)...)
}

// CheckContext returns NilArgument(pkg, "context", also...) when ctx is
// nil, and nil otherwise. Functions that take a context call it first.
func CheckContext(pkg string, ctx context.Context, also ...error) error {
	if ctx == nil {
		return NilArgument(pkg, "context", also...)
	}
	return nil
}
