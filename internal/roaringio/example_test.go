package roaringio_test

import (
	"bytes"
	"fmt"

	"github.com/shopaffinity/affinity/internal/roaringio"
)

func ExampleFromSorted() {
	var w roaringio.Writer // reused across bitmaps
	bm := roaringio.FromSorted(&w, []uint32{1, 2, 70_000})
	var buf bytes.Buffer
	bm.WriteTo(&buf)
	fmt.Println(bm.ToArray(), roaringio.Validate(buf.Bytes()))
	// Output: [1 2 70000] <nil>
}
