package images

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestLDCacheOfThisHost parses the host's real cache and finds libc.
func TestLDCacheOfThisHost(t *testing.T) {
	data, err := os.ReadFile("/etc/ld.so.cache")
	if err != nil {
		t.Skip("this host has no /etc/ld.so.cache")
	}
	entries, err := parseLDCache(data)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range entries {
		found = found || e.Name == "libc.so.6" && strings.HasSuffix(e.Path, "/libc.so.6")
	}
	if !found || len(entries) < 10 {
		t.Errorf("libc.so.6 not among %d entries", len(entries))
	}
}

// cacheBytes builds a new-format cache holding entries.
func cacheBytes(entries []cacheEntry) []byte {
	strOff := cacheHeader + len(entries)*cacheEntryLen
	var strs []byte
	data := make([]byte, strOff)
	copy(data, cacheMagicNew)
	binary.LittleEndian.PutUint32(data[20:], uint32(len(entries)))
	for i, e := range entries {
		at := cacheHeader + i*cacheEntryLen
		binary.LittleEndian.PutUint32(data[at:], 0x0303)
		binary.LittleEndian.PutUint32(data[at+4:], uint32(strOff+len(strs)))
		strs = append(append(strs, e.Name...), 0)
		binary.LittleEndian.PutUint32(data[at+8:], uint32(strOff+len(strs)))
		strs = append(append(strs, e.Path...), 0)
	}
	return append(data, strs...)
}

func TestLDCacheRoundTripAndBadInput(t *testing.T) {
	want := []cacheEntry{{"libfoo.so.1", "/opt/lib/libfoo.so.1"}, {"libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6"}}
	got, err := parseLDCache(cacheBytes(want))
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("got %v, %v; want %v", got, err, want)
	}
	old := append([]byte(cacheMagicOld+"\x00\x00\x00\x00\x00"), cacheBytes(want)...)
	if got, err := parseLDCache(old); err != nil || len(got) != 2 {
		t.Errorf("old+new format: %v, %v", got, err)
	}
	bad := cacheBytes(want)
	binary.LittleEndian.PutUint32(bad[cacheHeader+4:], 1<<30)
	for name, data := range map[string][]byte{"offset outside": bad, "empty": nil, "magic only": []byte(cacheMagicNew),
		"too many": append([]byte(cacheMagicNew), make([]byte, 40)...)} {
		if name == "too many" {
			binary.LittleEndian.PutUint32(data[20:], 1000)
		}
		if _, err := parseLDCache(data); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzParseLDCache(f *testing.F) {
	f.Add(cacheBytes([]cacheEntry{{"liba.so.1", "/lib/liba.so.1"}}))
	f.Add([]byte(cacheMagicOld))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := parseLDCache(data)
		if err == nil && len(entries)*cacheEntryLen > len(data) {
			t.Errorf("%d entries from %d bytes", len(entries), len(data))
		}
	})
}

// TestClosureOfARealProgram follows /usr/bin/mv (coreutils, always there
// on Debian) to libc, its dynamic loader and its other DT_NEEDED.
func TestClosureOfARealProgram(t *testing.T) {
	h := hostFS{root: "/"}
	f, err := h.readELF("/usr/bin/mv")
	if err != nil || f == nil || !f.dynamic() {
		t.Skipf("/usr/bin/mv is not a dynamic ELF here (%v)", err)
	}
	r := newLibResolver(h)
	deps, missing := r.closure([]string{"/usr/bin/mv"})
	if len(missing) > 0 {
		t.Errorf("unresolved: %v", missing)
	}
	var libs []string
	for _, d := range deps {
		libs = append(libs, filepath.Base(d.Path))
	}
	for _, want := range append(f.Needed, filepath.Base(f.Interp)) {
		if !slices.Contains(libs, want) {
			t.Errorf("closure %v lacks %s", libs, want)
		}
	}
	if !slices.Contains(libs, "libc.so.6") {
		t.Errorf("closure %v lacks libc.so.6", libs)
	}
}

// TestExpandKeepsLinks checks that a path through symbolic links becomes
// the links themselves plus the real directories and file.
func TestExpandKeepsLinks(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "usr/bin"), 0o755)
	os.WriteFile(filepath.Join(root, "usr/bin/dash"), []byte("x"), 0o755)
	os.Symlink("usr/bin", filepath.Join(root, "bin"))
	os.Symlink("dash", filepath.Join(root, "usr/bin/sh"))
	os.Symlink("/loop2", filepath.Join(root, "loop1"))
	os.Symlink("/loop1", filepath.Join(root, "loop2"))
	h := hostFS{root: root}
	entries, final, err := h.expand("/bin/sh")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/bin", "/usr", "/usr/bin", "/usr/bin/sh", "/usr", "/usr/bin", "/usr/bin/dash"}
	if final != "/usr/bin/dash" || !slices.Equal(entries, want) {
		t.Errorf("expand /bin/sh = %v -> %s, want %v -> /usr/bin/dash", entries, final, want)
	}
	if _, _, err := h.expand("/loop1/x"); err == nil || !strings.Contains(err.Error(), "symbolic links") {
		t.Errorf("a link loop: %v", err)
	}
	if _, _, err := h.expand("/usr/bin/missing"); err == nil {
		t.Error("a missing file: no error")
	}
}
