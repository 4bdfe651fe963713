package pipeline

import (
	"context"
	"path"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
)

// writeFile writes data to path on its file system.
func writeFile(ctx context.Context, path string, data []byte) error {
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return err
	}
	defer fs.Close()
	w, err := fs.OpenWrite(ctx, path)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// joinPath returns the path of file name in directory dir, which may be a
// URL of a Beam file system ("gs://bucket/out"): path.Join alone would
// make "gs:/bucket/out/name" of it, a local path.
func joinPath(dir, name string) string {
	if i := strings.Index(dir, "://"); i >= 0 {
		return dir[:i+3] + path.Join(dir[i+3:], name)
	}
	return path.Join(dir, name)
}
