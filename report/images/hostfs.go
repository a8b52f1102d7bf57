package images

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// hostFS reads the machine the files are taken from, below root ("/" on the
// recording host). Paths are absolute paths as the traced programs saw
// them; symbolic links resolve inside root, as they will in the image.
type hostFS struct {
	root string
}

func (h hostFS) real(p string) string { return filepath.Join(h.root, filepath.FromSlash(p)) }

func (h hostFS) lstat(p string) (fs.FileInfo, error) { return os.Lstat(h.real(p)) }

// head reads at most n bytes from the start of a regular file.
func (h hostFS) head(p string, n int64) ([]byte, error) {
	f, err := os.Open(h.real(p))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", p)
	}
	return io.ReadAll(io.LimitReader(f, n))
}

// maxHops bounds symbolic link resolution, as the kernel does (ELOOP).
const maxHops = 40

// errLoop reports a symbolic link loop or a chain too long.
var errLoop = errors.New("too many levels of symbolic links")

// expand returns what a root filesystem needs so that p resolves as it does
// on the host: every directory on the way, every symbolic link (kept as a
// link) and the final object, as clean absolute paths, in the order met.
// It also returns the final path p resolves to. A missing component is an
// error wrapping fs.ErrNotExist.
func (h hostFS) expand(p string) (entries []string, final string, err error) {
	hops := 0
	final, err = h.walk(path.Clean("/"+p), &hops, func(e string) { entries = append(entries, e) })
	return entries, final, err
}

func (h hostFS) walk(p string, hops *int, add func(string)) (string, error) {
	cur := "/"
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, part := range parts {
		if part == "" {
			continue
		}
		next := path.Join(cur, part)
		fi, err := h.lstat(next)
		if err != nil {
			return "", fmt.Errorf("%s: %w", next, err)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			if !fi.IsDir() && i < len(parts)-1 {
				return "", fmt.Errorf("%s: not a directory", next)
			}
			add(next)
			cur = next
			continue
		}
		if *hops++; *hops > maxHops {
			return "", fmt.Errorf("%s: %w", p, errLoop)
		}
		target, err := os.Readlink(h.real(next))
		if err != nil {
			return "", fmt.Errorf("%s: %w", next, err)
		}
		add(next)
		if !path.IsAbs(target) {
			target = path.Join(cur, target)
		}
		if cur, err = h.walk(path.Clean(target), hops, add); err != nil {
			return "", err
		}
	}
	return cur, nil
}

// resolve returns the final path p resolves to ("" when it does not).
func (h hostFS) resolve(p string) string {
	hops := 0
	final, err := h.walk(path.Clean("/"+p), &hops, func(string) {})
	if err != nil {
		return ""
	}
	return final
}

// treeSize sums the regular files below dir, visiting at most limit
// entries; it reports whether it saw them all.
func (h hostFS) treeSize(dir string, limit int) (size int64, files int, complete bool) {
	seen := 0
	complete = true
	filepath.WalkDir(h.real(dir), func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if seen++; seen > limit {
			complete = false
			return filepath.SkipAll
		}
		if d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				size += fi.Size()
				files++
			}
		}
		return nil
	})
	return size, files, complete
}
