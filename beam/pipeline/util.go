package pipeline

import "reflect"

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

// collect reads every value of a Beam iterator, each into a fresh T.
func collect[T any](next func(*T) bool) []T {
	var all []T
	for {
		var v T
		if !next(&v) {
			return all
		}
		all = append(all, v)
	}
}
