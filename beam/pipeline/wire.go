package pipeline

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"time"
)

// wire carries a value in a DoFn's fields to the workers unchanged. Beam
// serialises a structural DoFn with encoding/json, which replaces every
// byte of invalid UTF-8 in a string with U+FFFD: a product key of a
// Latin-1 export ("CAF\xe9") in ExcludeKeys, an output directory
// "f\xe9vrier" or an RFM segment's name would reach the workers as
// another string, name no product or another directory, and the job
// would succeed with a different answer. wire gob-encodes the value
// (gob keeps a string's bytes), and JSON carries the encoding as base64.
// Every DoFn field that holds a string, directly or inside an options
// struct, is a wire.
type wire[T any] struct {
	V T
}

func (w wire[T]) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(&w.V); err != nil {
		return nil, fmt.Errorf("pipeline: encode %T: %w", w.V, err)
	}
	return json.Marshal(b.Bytes())
}

func (w *wire[T]) UnmarshalJSON(data []byte) error {
	var b []byte
	if err := json.Unmarshal(data, &b); err != nil {
		return fmt.Errorf("pipeline: decode %T: %w", w.V, err)
	}
	var v T
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&v); err != nil {
		return fmt.Errorf("pipeline: decode %T: %w", w.V, err)
	}
	w.V = v
	return nil
}

// wired returns v in a wire.
func wired[T any](v T) wire[T] { return wire[T]{V: v} }

// wiredAsOf returns an as-of time in a wire, in UTC. encoding/json writes
// a time.Time only with a year in 0–9999 and a zone less than 24 hours
// from UTC, and gob (time.Time.MarshalBinary) only with a zone a whole
// number of minutes and less than about 546 hours from UTC; every build
// of the library reads an as-of time as an instant (the calendar of
// look-backs is UTC's, affinity.Lookback), so the instant in UTC gives the
// same results and reaches the workers whatever the year and the zone.
func wiredAsOf(t time.Time) wire[time.Time] { return wired(t.UTC()) }
