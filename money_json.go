package affinity

import "fmt"

// MarshalText returns the text of [Money.String], the exact decimal amount
// such as "12.90": in JSON, money is a string, as the front door's results
// (package shop) encode prices and spend.
func (m Money) MarshalText() ([]byte, error) { return m.Append(nil), nil }

// UnmarshalText parses a decimal amount with [ParseMoney] ('.' as the
// decimal separator).
func (m *Money) UnmarshalText(b []byte) error {
	v, err := ParseMoney(string(b), '.')
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// UnmarshalJSON accepts a decimal amount in currency units as a JSON
// string ("12.90") or a JSON number (12.90), read exactly, never through
// float64, by [ParseMoney]: 12.9 is Money(129000). An exponent, a fifth
// decimal other than zero or escapes in the string are errors; null leaves m as it
// is.
func (m *Money) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		return nil
	case len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"':
		b = b[1 : len(b)-1]
	case len(b) > 0 && b[0] == '"':
		return fmt.Errorf("%w: %s", ErrMoney, b)
	}
	return m.UnmarshalText(b)
}

// MarshalText returns the name [EventKind.String] gives ("view", "cart",
// "rating", "wishlist"); an unknown kind is an error.
func (k EventKind) MarshalText() ([]byte, error) {
	if !k.Valid() {
		return nil, fmt.Errorf("affinity: unknown event kind %d", uint8(k))
	}
	return []byte(k.String()), nil
}

// UnmarshalText parses a name that [EventKind.MarshalText] returns.
func (k *EventKind) UnmarshalText(b []byte) error {
	for c := View; c <= Wishlist; c++ {
		if c.String() == string(b) {
			*k = c
			return nil
		}
	}
	return fmt.Errorf("affinity: unknown event kind %q (known: view, cart, rating, wishlist)", b)
}
