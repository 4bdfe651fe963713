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

// checkEvery is the work (customers plus orders walked) between two looks
// at the context in the loops over a History.
const checkEvery = 4096

// progress checks a context every checkEvery units of work, so that a
// loop over customers with many orders each notices a done context as
// soon as one over customers with few. The zero value checks at the
// first call.
type progress struct {
	ctx  context.Context
	left int
}

// add records n units of work about to be done, and returns ctx.Err()
// when checkEvery units have been recorded since the last look.
func (p *progress) add(n int) error {
	p.left -= n
	if p.left > 0 {
		return nil
	}
	p.left = checkEvery
	return p.ctx.Err()
}

// customerWork is the work of one customer in the loops over a History:
// 1 plus the customer's orders.
func customerWork(h *affinity.History, c int) int {
	lo, hi := h.CustomerOrders(affinity.CustomerID(c))
	return 1 + int(hi-lo)
}
