package dataset_test

import (
	"os"
	"testing"

	"github.com/shopaffinity/affinity/internal/testdata"
)

// TestMain runs the quick suite with the garbage collector collecting less
// often ([testdata.Main]).
func TestMain(m *testing.M) { os.Exit(testdata.Main(m)) }
