// Package pkgerr builds the errors of the affinity packages whose message
// names its package once while errors.Is and errors.As see
// every error they stand for: an argument check that is both a package's
// own ErrInvalid and the root package's ErrNoAsOf, or a package's context
// put before the error of a package it called.
package pkgerr

import (
	"errors"
	"strings"
)

// ErrNilArgument is the value of affinity.ErrNilArgument, defined here so
// that internal packages the root package imports (internal/parallel)
// return errors matching it.
var ErrNilArgument = errors.New("affinity: nil argument")

// multi is an error with one message that matches each of its errors.
type multi struct {
	msg  string
	errs []error
}

func (e *multi) Error() string { return e.msg }

func (e *multi) Unwrap() []error { return e.errs }

// New returns an error whose message is msg and that matches each of
// errs, and what each of them wraps, with errors.Is and errors.As. The
// message of none of errs is repeated: msg says it all, once.
func New(msg string, errs ...error) error {
	return &multi{msg: msg, errs: errs}
}

// Wrap returns err with the context what before it: the message
// pkg + ": " + what + ": " + err's message (without what when it is ""),
// with the pkg + ": " that err's message begins with, when err is an
// error of the same package, left out, so that however many layers of a
// package add their context the package is named once — "segment: load
// f.bin: corrupt index file: …". The error of another package keeps its
// prefix ("clv: window of 200000 months: affinity: invalid look-back …").
// Nor is what said twice: an error whose message (after pkg's prefix)
// already begins with what + ": " — the "query: syntax error …" of package
// query wrapped as a query's — keeps its own ("shop: query: syntax error
// …", not "shop: query: query: …").
// The result matches err and each of also with errors.Is and errors.As.
func Wrap(pkg, what string, err error, also ...error) error {
	msg := strings.TrimPrefix(err.Error(), pkg+": ")
	if what != "" && !strings.HasPrefix(msg, what+": ") {
		msg = what + ": " + msg
	}
	return &multi{msg: pkg + ": " + msg, errs: append([]error{err}, also...)}
}
