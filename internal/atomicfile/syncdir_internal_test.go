package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestWriteDirNotOpenable: the directory sync after the rename failed when
// the directory could not be opened (no read permission), and Write
// reported the save as failed with the new content already in place,
// against its doc ("on any error ... path is left as it was"). The rename
// is the save; the sync is best effort.
func TestWriteDirNotOpenable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.txt")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))
	old := openDir
	t.Cleanup(func() { openDir = old })
	openDir = func(string) (*os.File, error) { return nil, errors.New("permission denied") }
	require.NoError(t, Write(path, func(w io.Writer) error {
		_, err := io.WriteString(w, "new")
		return err
	}))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "new", string(b))
}
