// Command quickstart loads the embedded demo storefront and prints a summary
// of its purchase history.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/shopaffinity/affinity/dataset"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer) error {
	demo := dataset.Demo()
	h, err := demo.History(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "affinity demo storefront")
	fmt.Fprint(w, h.Summary())
	return nil
}
