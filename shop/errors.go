package shop

import "github.com/shopaffinity/affinity/internal/pkgerr"

// wrap returns err with the context what before it, as
// fmt.Errorf("shop: "+what+": %w", err) would (without what when it is
// ""), but with the "shop: " that err's message begins with, when it is
// an error of this package or of a source that passes one on, left out:
// each error names the package once, however many of its layers (a
// refresh's load, Sources, a source, every4096) add their context —
// "shop: load: source 2: purchase 3: affinity: …". errors.Is and
// errors.As see err and each of also.
func wrap(err error, what string, also ...error) error {
	return pkgerr.Wrap("shop", what, err, also...)
}
