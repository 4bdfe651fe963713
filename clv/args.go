package clv

import (
	"context"
	"fmt"
)

// checkArgs returns an error wrapping [ErrInvalid] when ctx is nil or one
// of the required arguments is missing (nilArgs names them), so that a
// caller's mistake is an error rather than a panic, possibly inside a
// worker goroutine where no caller can recover it.
func checkArgs(ctx context.Context, nilArgs ...string) error {
	if ctx == nil {
		return fmt.Errorf("%w: nil context", ErrInvalid)
	}
	if len(nilArgs) > 0 {
		return fmt.Errorf("%w: nil %s", ErrInvalid, nilArgs[0])
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
