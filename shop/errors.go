package shop

import "strings"

// wrapped is an error of this package that wraps another: its message
// names the package once (see wrap).
type wrapped struct {
	msg string
	err error
}

func (e *wrapped) Error() string { return e.msg }

func (e *wrapped) Unwrap() error { return e.err }

// wrap returns err with the context what before it, as
// fmt.Errorf("shop: "+what+": %w", err) would (without what when it is
// ""), but with the "shop: " that err's message begins with, when it is
// an error of this package or of a source that passes one on, left out:
// each error names the package once, however many of its layers (a
// refresh's load, Sources, a source, every4096) add their context —
// "shop: load: source 2: purchase 3: affinity: …". errors.Is and
// errors.As see err.
func wrap(err error, what string) error {
	msg := strings.TrimPrefix(err.Error(), "shop: ")
	if what != "" {
		msg = what + ": " + msg
	}
	return &wrapped{msg: "shop: " + msg, err: err}
}
