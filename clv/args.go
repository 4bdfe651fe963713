package clv

import (
	"context"

	"github.com/shopaffinity/affinity"
)

// checkArgs returns an error wrapping [ErrInvalid] when ctx is nil or one
// of the required arguments is missing (nilArgs names them), so that a
// caller's mistake is an error rather than a panic, possibly inside a
// worker goroutine where no caller can recover it.
// The error also matches [affinity.ErrNilArgument].
func checkArgs(ctx context.Context, nilArgs ...string) error {
	if err := affinity.CheckContext("clv", ctx, ErrInvalid); err != nil {
		return err
	}
	if len(nilArgs) > 0 {
		return affinity.NilArgument("clv", nilArgs[0], ErrInvalid)
	}
	return nil
}

// missing returns name when isNil, for [checkArgs].
func missing(isNil bool, name string) []string {
	if isNil {
		return []string{name}
	}
	return nil
}
