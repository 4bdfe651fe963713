// Package atomicfile replaces files atomically, for the Save methods of
// persisted structures: a crash or an error never leaves a half-written
// file in place of a good one.
package atomicfile

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
)

// Write writes a new file at path through write: it writes a temporary
// file in the same directory (so that the rename cannot cross file
// systems), flushes and fsyncs it, renames it over path and fsyncs the
// directory, so that the rename itself is durable where the platform
// allows it. On any error the temporary file is removed and path is left
// as it was. The file gets mode 0644.
func Write(path string, write func(w io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<16)
	if err = write(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// openDir opens a directory to sync it (a test's seam).
var openDir = os.Open

// syncDir fsyncs a directory where it can: after the rename the new file
// is in place, and a directory that cannot be opened (one without read
// permission) or synced (on Windows) is not worth reporting a finished
// save as failed for.
func syncDir(dir string) {
	d, err := openDir(dir)
	if err != nil {
		return
	}
	defer d.Close()
	_ = d.Sync()
}
