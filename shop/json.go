package shop

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/recommend"
)

// The appenders below write exactly what encoding/json writes for the
// recJSON, reasonJSON and resultJSON shapes (a test holds them to it),
// without reflection and without the re-validation encoding/json gives
// the output of every nested MarshalJSON: a served result is encoded
// once, in one buffer.

// AppendJSON appends the JSON encoding of r (as [Result.MarshalJSON]) to
// b and returns the extended buffer. A server that writes the bytes itself
// skips encoding/json's validation pass over a Marshaler's output.
func (r Result) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, '{')
	if r.Customer != "" {
		b = append(b, `"customer":`...)
		b = appendJSONString(b, r.Customer)
		b = append(b, ',')
	}
	b = append(b, `"known":`...)
	b = strconv.AppendBool(b, r.Known)
	b = append(b, `,"cold_start":`...)
	b = strconv.AppendBool(b, r.ColdStart)
	b = append(b, `,"as_of":`...)
	var err error
	if b, err = appendJSONTime(b, r.AsOf); err != nil {
		return nil, err
	}
	if len(r.Ignored) > 0 {
		b = append(b, `,"ignored":[`...)
		for i, k := range r.Ignored {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
		}
		b = append(b, ']')
	}
	b = append(b, `,"recommendations":[`...)
	for i := range r.Recs {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = r.Recs[i].AppendJSON(b); err != nil {
			return nil, err
		}
	}
	return append(b, "]}"...), nil
}

// AppendJSON appends the JSON encoding of r (as [Rec.MarshalJSON]) to b
// and returns the extended buffer.
func (r *Rec) AppendJSON(b []byte) ([]byte, error) {
	src := r.Source.String()
	if src == "unknown" { // MarshalText's error, without its allocation on the way
		_, err := r.Source.MarshalText()
		return nil, fmt.Errorf("json: error calling MarshalText for type recommend.Source: %w", err)
	}
	var err error
	b = append(b, `{"product":`...)
	b = appendJSONString(b, r.Product)
	if r.Name != "" {
		b = append(b, `,"name":`...)
		b = appendJSONString(b, r.Name)
	}
	if r.Category != "" {
		b = append(b, `,"category":`...)
		b = appendJSONString(b, r.Category)
	}
	b = append(b, `,"price":"`...)
	b = r.Price.Append(b)
	b = append(b, `","score":`...)
	if b, err = appendJSONFloat(b, r.Score); err != nil {
		return nil, err
	}
	b = append(b, `,"source":`...)
	b = appendJSONString(b, src)
	b = append(b, `,"reasons":[`...)
	for i, x := range r.Reasons() {
		if i > 0 {
			b = append(b, ',')
		}
		kind := x.Kind.String()
		if kind == "unknown" {
			_, err := x.Kind.MarshalText()
			return nil, fmt.Errorf("json: error calling MarshalText for type recommend.ReasonKind: %w", err)
		}
		b = append(b, `{"kind":`...)
		b = appendJSONString(b, kind)
		b = append(b, `,"product":`...)
		b = appendJSONString(b, x.Product)
		if x.Name != "" {
			b = append(b, `,"name":`...)
			b = appendJSONString(b, x.Name)
		}
		if x.Category != "" {
			b = append(b, `,"category":`...)
			b = appendJSONString(b, x.Category)
		}
		if b, err = appendFloatField(b, `,"share":`, x.Share); err != nil {
			return nil, err
		}
		b = append(b, `,"count":`...)
		b = strconv.AppendInt(b, int64(x.Count), 10)
		b = append(b, `,"unit":`...)
		b = appendJSONString(b, x.Unit)
		if b, err = appendFloatField(b, `,"lift":`, x.Lift); err != nil {
			return nil, err
		}
		if b, err = appendFloatField(b, `,"days":`, x.Days); err != nil {
			return nil, err
		}
		if x.Due {
			b = append(b, `,"due":true`...)
		}
		if b, err = appendFloatField(b, `,"trend":`, x.Trend); err != nil {
			return nil, err
		}
		if b, err = appendFloatField(b, `,"trend_days":`, x.TrendDays); err != nil {
			return nil, err
		}
		b = append(b, `,"text":`...)
		var txt [160]byte
		b = appendJSONString(b, bytesString(x.appendText(txt[:0])))
		b = append(b, '}')
	}
	b = append(b, `],"explanation":`...)
	var txt [512]byte
	b = appendJSONString(b, bytesString(r.appendExplanation(txt[:0])))
	return append(b, '}'), nil
}

// bytesString returns p as a string without copying; p must not change
// while the string is in use (the appenders use it for scratch text
// they escape at once).
func bytesString(p []byte) string { return unsafe.String(unsafe.SliceData(p), len(p)) }

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string the way encoding/json
// does: HTML-safe, invalid UTF-8 as U+FFFD, U+2028 and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendFloatField appends the field whose `,"name":` prefix is key with
// the value f, as encoding/json does for a float64 field with omitempty:
// nothing when f is 0.
func appendFloatField(b []byte, key string, f float64) ([]byte, error) {
	if f == 0 {
		return b, nil
	}
	return appendJSONFloat(append(b, key...), f)
}

// appendJSONFloat appends f the way encoding/json encodes a float64.
func appendJSONFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("json: unsupported value: %s", strconv.FormatFloat(f, 'g', -1, 64))
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

// appendJSONTime appends t in UTC as time.Time's MarshalJSON writes
// t.UTC(): the instant, whatever t's zone (one a day or more from UTC,
// which MarshalJSON refuses, included).
func appendJSONTime(b []byte, t time.Time) ([]byte, error) {
	t = t.UTC()
	if y := t.Year(); y < 0 || y >= 10000 {
		return nil, fmt.Errorf("json: error calling MarshalJSON for type time.Time: year %d outside of range [0,9999]", y)
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

// appendText appends the sentence of x (see [Reason.String]).
func (x Reason) appendText(b []byte) []byte {
	switch x.Kind {
	case recommend.Again:
		return recommend.AppendRebuy(b, x.Count, x.Days, x.Due, x.Trend, x.TrendDays)
	case recommend.Taste:
		name := x.Name
		if name == "" {
			name = affinity.CategoryLeaf(x.Category)
		}
		return recommend.AppendTaste(b, name)
	}
	return x.appendPair(b, false)
}

// appendPair appends a reason that links two products (bought together,
// bought after): in full, "bought together with Running Shoes in 124
// orders — 3.2× more often than chance"; short, as it follows one of its
// kind in an explanation, without the verb and with the lift as a bare
// factor, "with Running Shoes in 124 orders (3.2×)".
func (x Reason) appendPair(b []byte, short bool) []byte {
	name := x.Name
	if name == "" {
		name = x.Product
	}
	if !short {
		b = append(b, "bought "...)
	}
	switch {
	case x.Kind == recommend.After:
		b = append(b, "after "...)
		b = append(b, name...)
		b = append(b, " by "...)
	default:
		if !short {
			b = append(b, "together "...)
		}
		b = append(b, "with "...)
		b = append(b, name...)
		if x.Unit == "orders" {
			b = append(b, " in "...)
		} else {
			b = append(b, " by "...)
		}
	}
	b = strconv.AppendInt(b, int64(x.Count), 10)
	b = append(b, ' ')
	if x.Count == 1 { // "1 order", "1 customer"
		b = append(b, strings.TrimSuffix(x.Unit, "s")...)
	} else {
		b = append(b, x.Unit...)
	}
	if !short {
		return recommend.AppendCredibleLift(b, x.Count, x.Lift)
	}
	if !recommend.StatesLift(x.Count, x.Lift) {
		return b
	}
	b = append(b, " ("...)
	return append(recommend.AppendTimes(b, x.Lift), ')')
}

// appendExplanation appends r's explanation (see [Rec.Explanation]).
func (r *Rec) appendExplanation(b []byte) []byte {
	rs := r.Reasons()
	if len(rs) == 0 {
		switch r.Source {
		case recommend.SegmentPopular:
			return append(b, "popular with customers like you"...)
		case recommend.Repeat:
			return append(b, "bought before and likely again"...)
		default:
			return append(b, "popular in the shop"...)
		}
	}
	for i, x := range rs {
		if i > 0 {
			b = append(b, "; "...)
			if x.Kind.Pair() && x.Kind == rs[i-1].Kind {
				b = x.appendPair(b, true)
				continue
			}
		}
		b = x.appendText(b)
	}
	return b
}
