package bsi_test

import (
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/shopaffinity/affinity/internal/bsi"
)

func ExampleBSI_AtLeast() {
	var bb bsi.Builder
	x := bb.Build([]uint32{1, 4, 7, 9}, []int64{2500, 3000, 2999, 9000})
	cand := roaring.BitmapOf(1, 4, 7, 9)
	fmt.Println(x.AtLeast(cand.Clone(), 3000).ToArray(), x.Sum(cand))
	// Output: [4 9] 17499
}
