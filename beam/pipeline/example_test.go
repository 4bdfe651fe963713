package pipeline_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/beam/pipeline"
	"github.com/shopaffinity/affinity/similarity"
)

// The co-purchase pipeline on two small files, run on the local prism
// runner, gives the neighbours the single machine gives.
func ExampleNewCoPurchase() {
	dir, _ := os.MkdirTemp("", "copurchase")
	defer os.RemoveAll(dir)
	files := map[string]string{
		"a.csv": "customer,product,order,time\n" +
			"ann,tent,o1,2024-05-01\nann,stove,o1,2024-05-01\nbob,tent,o2,2024-05-02\n",
		"b.csv": "customer,product,order,time\n" +
			"bob,stove,o2,2024-05-02\ncat,tent,o3,2024-05-03\ncat,stove,o3,2024-05-03\ncat,mug,o3,2024-05-03\n",
	}
	var in pipeline.Input
	for _, name := range []string{"a.csv", "b.csv"} {
		path := filepath.Join(dir, name)
		_ = os.WriteFile(path, []byte(files[name]), 0o644)
		in.Files = append(in.Files, path)
	}
	ctx := context.Background()
	h, _ := pipeline.LoadHistory(ctx, in)
	o := pipeline.CoPurchase{AsOf: h.Latest(), Shards: 2, Output: filepath.Join(dir, "neighbours.idx"),
		Index: similarity.IndexOptions{MinSupport: 1}}
	p, err := pipeline.NewCoPurchase(in, o)
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := prism.Execute(ctx, p); err != nil {
		fmt.Println(err)
		return
	}
	f, _ := os.Open(o.Output)
	defer f.Close()
	x, _ := similarity.ReadIndex(f)
	cat := h.Catalog()
	for p := range affinity.ProductID(x.NumProducts()) {
		for _, n := range x.Neighbors(p) {
			fmt.Printf("%s → %s (%d baskets, jaccard %.2f)\n", cat.ProductKey(p), cat.ProductKey(n.Product), n.Count, n.Score)
		}
	}
	// Output:
	// tent → stove (3 baskets, jaccard 1.00)
	// tent → mug (1 baskets, jaccard 0.33)
	// stove → tent (3 baskets, jaccard 1.00)
	// stove → mug (1 baskets, jaccard 0.33)
	// mug → tent (1 baskets, jaccard 0.33)
	// mug → stove (1 baskets, jaccard 0.33)
}
