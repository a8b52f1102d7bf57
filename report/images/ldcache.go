package images

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// cacheEntry is one library of /etc/ld.so.cache: a soname and the path the
// dynamic loader opens for it.
type cacheEntry struct {
	Name, Path string
}

// The new (glibc 2.32+ default) ld.so.cache layout: a 48-byte header, then
// nlibs entries of 24 bytes (flags, key, value, osversion, hwcap). Keys and
// values are offsets of NUL-terminated strings from the start of the file.
// An old-format cache ("ld.so-1.7.0") may precede it.
const (
	cacheMagicNew = "glibc-ld.so.cache1.1"
	cacheMagicOld = "ld.so-1.7.0"
	cacheHeader   = 48
	cacheEntryLen = 24
)

// parseLDCache reads the entries of an ld.so.cache file, in file order (the
// order the loader prefers them). It never panics on hostile input: every
// offset is checked.
func parseLDCache(data []byte) ([]cacheEntry, error) {
	start := 0
	if bytes.HasPrefix(data, []byte(cacheMagicOld)) {
		i := bytes.Index(data, []byte(cacheMagicNew))
		if i < 0 {
			return nil, errors.New("ld.so.cache: old format only, not supported")
		}
		start = i
	}
	if !bytes.HasPrefix(data[start:], []byte(cacheMagicNew)) || len(data)-start < cacheHeader {
		return nil, errors.New("ld.so.cache: not a glibc cache file")
	}
	le := binary.LittleEndian
	n := int(le.Uint32(data[start+20:]))
	if n < 0 || n > (len(data)-start-cacheHeader)/cacheEntryLen {
		return nil, fmt.Errorf("ld.so.cache: %d entries do not fit in %d bytes", n, len(data))
	}
	out := make([]cacheEntry, 0, n)
	for i := 0; i < n; i++ {
		e := data[start+cacheHeader+i*cacheEntryLen:]
		name, ok1 := cString(data, le.Uint32(e[4:]))
		path, ok2 := cString(data, le.Uint32(e[8:]))
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("ld.so.cache: entry %d points outside the file", i)
		}
		out = append(out, cacheEntry{Name: name, Path: path})
	}
	return out, nil
}

// cString returns the NUL-terminated string at off.
func cString(data []byte, off uint32) (string, bool) {
	if int64(off) >= int64(len(data)) {
		return "", false
	}
	s := data[off:]
	end := bytes.IndexByte(s, 0)
	if end < 0 {
		return "", false
	}
	return string(s[:end]), true
}
