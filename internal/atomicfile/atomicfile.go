// Package atomicfile replaces files atomically, for the Save methods of
// persisted structures: a crash or an error never leaves a half-written
// file in place of a good one.
package atomicfile

import (
	"bufio"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// maxPrefix bounds the part of the file's name that the temporary file's
// name repeats, so that the temporary's name ("." + prefix + ".tmp-" and
// ten digits) stays within the 255 bytes most file systems allow when
// the file's own name does.
const maxPrefix = 200

// Write writes a new file at path through write: it writes a temporary
// file in the same directory (so that the rename cannot cross file
// systems), flushes and fsyncs it, renames it over path and fsyncs the
// directory, so that the rename itself is durable where the platform
// allows it. On any error, and when write panics, the temporary file is
// closed and removed and path is left as it was. A file that path names
// keeps its mode (permissions); a new file gets 0666 less the umask, as
// [os.Create] gives. When path is a symbolic link, the file it points to
// is replaced and the link stays.
func Write(path string, write func(w io.Writer) error) (err error) {
	if real, e := filepath.EvalSymlinks(path); e == nil {
		path = real
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	var keep os.FileMode
	old, statErr := os.Stat(path)
	if statErr == nil {
		keep = old.Mode().Perm()
	}
	f, err := createTemp(dir, base)
	if err != nil {
		return err
	}
	tmp := f.Name()
	done := false
	defer func() {
		if !done { // an error, or a panic in write
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
	if statErr == nil {
		if err = f.Chmod(keep); err != nil {
			return err
		}
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
	done = true
	syncDir(dir)
	return nil
}

// createTemp creates a new file in dir named after base, with mode 0666
// less the umask.
func createTemp(dir, base string) (*os.File, error) {
	if len(base) > maxPrefix {
		base = base[:maxPrefix]
	}
	for range 10_000 {
		name := filepath.Join(dir, "."+base+".tmp-"+strconv.FormatUint(uint64(rand.Uint32()), 10))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, &os.PathError{Op: "createtemp", Path: filepath.Join(dir, "."+base+".tmp-*"), Err: os.ErrExist}
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
