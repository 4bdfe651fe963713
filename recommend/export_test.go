package recommend

import (
	"context"
	"sync"

	"github.com/shopaffinity/affinity"
	"github.com/shopaffinity/affinity/dataset"
)

// DemoHistory returns the History of the demo storefront (dataset.Demo),
// built once and shared by every test of the package, internal and
// external, instead of once per test: the tests only read it.
var DemoHistory = sync.OnceValues(func() (*affinity.History, error) {
	return dataset.Demo().History(context.Background())
})
