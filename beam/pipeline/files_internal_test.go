package pipeline

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestJoinPath: path.Join made "gs:/shop/out/features.csv" of an output
// directory on GCS, a local path: the features job wrote to the workers'
// disks and succeeded.
func TestJoinPath(t *testing.T) {
	for dir, want := range map[string]string{
		"gs://shop/out/features":  "gs://shop/out/features/customers.csv",
		"gs://shop/out/features/": "gs://shop/out/features/customers.csv",
		"s3://b/x":                "s3://b/x/customers.csv",
		"memfs://review":          "memfs://review/customers.csv",
		"/tmp/out":                "/tmp/out/customers.csv",
		"out":                     "out/customers.csv",
	} {
		require.Equal(t, want, joinPath(dir, "customers.csv"), dir)
	}
}
