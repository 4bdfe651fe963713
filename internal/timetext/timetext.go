// Package timetext holds what the loaders of the affinity packages check
// in a time read from text beyond what time.Parse checks, and the strict
// JSON decoding of the records that carry such a time.
package timetext

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
)

// OffsetInRange reports whether the UTC offset of t, parsed from s in
// layout, is one RFC 3339 allows: hours 00–23 and minutes 00–59.
// time.Parse also reads "+24:00", "+23:60" and "+2400", a day or more
// ahead of UTC, which no zone has: such a time is a typo (or another
// format), not an instant. The offset must be less than a day whatever
// the layout; its hours and minutes are checked where the layout writes
// it last ("Z07:00", "-07:00", "Z0700", "-0700"), as RFC 3339 and most
// layouts do.
func OffsetInRange(layout, s string, t time.Time) bool {
	if _, off := t.Zone(); off <= -24*3600 || off >= 24*3600 {
		return false
	}
	if s == "" || s[len(s)-1] == 'Z' {
		return true
	}
	var hh, mm string
	switch {
	case strings.HasSuffix(layout, "07:00") && len(s) >= 6 && s[len(s)-3] == ':':
		hh, mm = s[len(s)-5:len(s)-3], s[len(s)-2:]
	case strings.HasSuffix(layout, "0700") && len(s) >= 5:
		hh, mm = s[len(s)-4:len(s)-2], s[len(s)-2:]
	default:
		return true
	}
	return hh <= "23" && mm <= "59"
}

// JSON reads a JSON time into *T as time.Time's UnmarshalJSON does (RFC
// 3339, null leaves *T as it is), and refuses an offset that
// OffsetInRange refuses: encoding/json reads "2026-01-05T10:00:00+24:00"
// as a day earlier. Embed it, with the field's JSON name, in the struct a
// type's UnmarshalJSON decodes into, so that it shadows the time.Time
// field. A value that is no such time is a *json.UnmarshalTypeError, to
// which encoding/json adds the field's path and [Unmarshal] the record's
// name, as for a value of the wrong type in any other field ("cannot
// unmarshal string "yesterday" (…) into Go struct field Purchase.time of
// type time.Time"); time.Time's own error named no field.
type JSON struct{ T *time.Time }

// UnmarshalJSON implements json.Unmarshaler.
func (j JSON) UnmarshalJSON(b []byte) error {
	err := j.T.UnmarshalJSON(b)
	if err == nil && string(b) != "null" && !OffsetInRange(time.RFC3339, strings.Trim(string(b), `"`), *j.T) {
		err = errors.New("UTC offset out of range: hours 00–23, minutes 00–59")
	}
	if err == nil {
		return nil
	}
	var what string
	switch b[0] {
	case '"':
		var pe *time.ParseError
		why := err.Error()
		if errors.As(err, &pe) {
			why = "not an RFC 3339 time: " + cmp.Or(strings.TrimPrefix(pe.Message, ": "), fmt.Sprintf("cannot parse %q as %q", pe.ValueElem, pe.LayoutElem))
		}
		what = fmt.Sprintf("string %s (%s)", b, why)
	case '{':
		what = "object"
	case '[':
		what = "array"
	case 't', 'f':
		what = "bool"
	default:
		what = "number " + string(b)
	}
	return &json.UnmarshalTypeError{Value: what, Type: reflect.TypeFor[time.Time]()}
}

// Unmarshal decodes the JSON value b into v as json.Unmarshal does, but
// refuses a field v does not have, at any depth but inside a value that
// decodes itself (json: unknown field "customer_id"): a record read from
// a feed or a file with a misspelt field would otherwise take the zero
// value for the field meant (an anonymous line, a free item, an order
// without its version). Data after the value is an error, as in
// json.Unmarshal.
//
// v holds record (a pointer to the value being decoded, such as a
// *Purchase) as a type of the caller's named plain, without the
// UnmarshalJSON method that calls Unmarshal, or as a struct that embeds
// a *plain: a value of the wrong type is named as encoding/json names it
// in the record itself ("Go struct field Purchase.customer", "Go value
// of type affinity.Purchase"), not through those helper types
// (".plain.customer"); so is a time [JSON] refuses ("Purchase.time").
//
// It decodes with a json.Decoder, which alone refuses unknown fields,
// taken from a pool: a new one per record, with its buffer, made the
// decoding of a feed's small records about 40 % slower. Unmarshal is
// safe for concurrent use.
func Unmarshal(b []byte, v, record any) error {
	if len(b) > maxPooled || unpooled {
		return unmarshal(b, v, record)
	}
	d := decoders.Get().(*decoder)
	d.r.Reset(b)
	if d.dec.Decode(v) == nil {
		if _, err := d.dec.Token(); err == io.EOF {
			d.r.Reset(nil)
			decoders.Put(d)
			return nil
		}
	}
	// The pooled decoder counts offsets from its first record, and a
	// failed one may be left mid-value: a new one decodes b again, for
	// the error with the offsets in b. Decoding b twice into v leaves v
	// as decoding it once does, as each pass writes the same values in
	// the same order and stops where the other did.
	return unmarshal(b, v, record)
}

// unpooled makes Unmarshal decode each record with a new decoder, as it
// did before it pooled them: tests compare the two.
var unpooled bool

// maxPooled is the size of the largest record whose decoder goes back to
// the pool: the decoder keeps a buffer the record's size.
const maxPooled = 64 << 10

// A decoder decodes the records r holds in turn. A json.Decoder that has
// read a value and then reached the end of its input with no error is as
// a new one but for its offsets: it takes the next value r holds.
type decoder struct {
	r   *bytes.Reader
	dec *json.Decoder
}

var decoders = sync.Pool{New: func() any {
	r := bytes.NewReader(nil)
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	return &decoder{r: r, dec: dec}
}}

// unmarshal is Unmarshal with a new decoder.
func unmarshal(b []byte, v, record any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			rt := reflect.TypeOf(record).Elem()
			te.Field = strings.Join(slices.DeleteFunc(strings.Split(te.Field, "."), func(f string) bool { return f == "plain" }), ".")
			switch {
			case te.Field == "": // the record itself is of the wrong type
				te.Struct, te.Type = "", rt
			case te.Struct == "" || te.Struct == "plain":
				te.Struct = rt.Name()
			}
		}
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("invalid data after the JSON value at byte %d", dec.InputOffset())
	}
	return nil
}
