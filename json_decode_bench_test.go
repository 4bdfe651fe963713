package affinity_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/shopaffinity/affinity"
)

// BenchmarkUnmarshalJSON measures the strict decoding of 10,000 purchase
// lines, one record at a time as a JSON-lines feed decodes them
// (Purchase.UnmarshalJSON), and, for scale, encoding/json's lenient
// decoding of the same records into a struct of the same fields, which
// neither refuses unknown fields nor checks the time's offset: the most
// a cheaper strict decoding could save.
func BenchmarkUnmarshalJSON(b *testing.B) {
	const n = 10_000
	recs := make([][]byte, n)
	for i := range recs {
		recs[i] = fmt.Appendf(nil, `{"customer":"c-%d","product":"p-%d","order":"o-%d","time":"2026-01-05T10:%02d:00+01:00","quantity":%d,"price":"%d.90"}`, i%977, i%89, i/3, i%60, 1+i%4, i%50)
	}
	b.Run("strict", func(b *testing.B) {
		b.ReportAllocs()
		var p affinity.Purchase
		for b.Loop() {
			for _, r := range recs {
				if err := json.Unmarshal(r, &p); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("lenient", func(b *testing.B) {
		type plain affinity.Purchase
		b.ReportAllocs()
		var p plain
		for b.Loop() {
			for _, r := range recs {
				if err := json.Unmarshal(r, &p); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
