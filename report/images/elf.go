package images

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
)

// elfFile is what the dynamic loader needs to know about an ELF object.
type elfFile struct {
	Type    elf.Type
	Class   elf.Class
	Machine elf.Machine
	Interp  string   // PT_INTERP: the dynamic loader ("" when static)
	Soname  string   // DT_SONAME: the name the loader finds a library by
	Needed  []string // DT_NEEDED, in order
	RunPath []string // DT_RUNPATH, with $ORIGIN left in
	RPath   []string // DT_RPATH (ignored by the loader when RUNPATH is set)
	// Dlopen is true when the object imports dlopen: it can load
	// libraries no DT_NEEDED names (plugins, NSS modules).
	Dlopen bool
}

// dynamic reports whether the object needs the dynamic loader.
func (f *elfFile) dynamic() bool { return f.Interp != "" || len(f.Needed) > 0 }

// readELF parses the ELF object at p; it returns nil and no error when p is
// not an ELF file.
func (h hostFS) readELF(p string) (*elfFile, error) {
	r, err := os.Open(h.real(p))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	magic := make([]byte, 4)
	if _, err := r.ReadAt(magic, 0); err != nil || string(magic) != elf.ELFMAG {
		return nil, nil
	}
	f, err := elf.NewFile(r)
	if err != nil {
		return nil, fmt.Errorf("read ELF %s: %w", p, err)
	}
	defer f.Close()
	out := &elfFile{Type: f.Type, Class: f.Class, Machine: f.Machine}
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			b := make([]byte, prog.Filesz)
			if _, err := prog.ReadAt(b, 0); err == nil {
				out.Interp = strings.TrimRight(string(b), "\x00")
			}
		}
	}
	// A static executable has no dynamic section: these report errors
	// we can ignore, with nothing found.
	out.Needed, _ = f.DynString(elf.DT_NEEDED)
	if so, _ := f.DynString(elf.DT_SONAME); len(so) > 0 {
		out.Soname = so[0]
	}
	out.RunPath = splitPaths(f.DynString(elf.DT_RUNPATH))
	out.RPath = splitPaths(f.DynString(elf.DT_RPATH))
	syms, _ := f.DynamicSymbols()
	for _, s := range syms {
		if s.Section == elf.SHN_UNDEF && (s.Name == "dlopen" || s.Name == "dlmopen") {
			out.Dlopen = true
		}
	}
	return out, nil
}

func splitPaths(ss []string, err error) []string {
	var out []string
	for _, s := range ss {
		for _, p := range strings.Split(s, ":") {
			if p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// libResolver finds shared libraries the way the dynamic loader does:
// RPATH (without RUNPATH), RUNPATH, /etc/ld.so.cache, then the default
// directories, taking the first candidate of the same ELF class and
// machine.
type libResolver struct {
	fs    hostFS
	cache []cacheEntry
	elfs  map[string]*elfFile
	errs  map[string]error
	// byFinal maps a resolved path to the cache paths that lead to it.
	byFinal map[string][]string
}

func newLibResolver(h hostFS) *libResolver {
	r := &libResolver{fs: h, elfs: map[string]*elfFile{}, errs: map[string]error{}}
	if data, err := os.ReadFile(h.real("/etc/ld.so.cache")); err == nil {
		r.cache, _ = parseLDCache(data) // without a cache, the default directories remain
	}
	return r
}

// elf returns the parsed ELF object at p (nil when p is not ELF or not
// readable: see err).
func (r *libResolver) elf(p string) (*elfFile, error) {
	if f, ok := r.elfs[p]; ok {
		return f, r.errs[p]
	}
	f, err := r.fs.readELF(p)
	r.elfs[p], r.errs[p] = f, err
	return f, err
}

// triplets are Debian's multiarch directory names.
var triplets = map[elf.Machine]string{elf.EM_X86_64: "x86_64-linux-gnu", elf.EM_386: "i386-linux-gnu",
	elf.EM_AARCH64: "aarch64-linux-gnu", elf.EM_ARM: "arm-linux-gnueabihf", elf.EM_PPC64: "powerpc64le-linux-gnu",
	elf.EM_S390: "s390x-linux-gnu", elf.EM_RISCV: "riscv64-linux-gnu"}

func defaultDirs(m elf.Machine) []string {
	dirs := []string{"/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib"}
	if t := triplets[m]; t != "" {
		dirs = append([]string{"/lib/" + t, "/usr/lib/" + t}, dirs...)
	}
	return dirs
}

// find resolves one DT_NEEDED name of the object at from.
func (r *libResolver) find(name, from string, f *elfFile) (string, bool) {
	if strings.Contains(name, "/") {
		return name, r.matches(name, f)
	}
	var dirs []string
	if len(f.RunPath) == 0 {
		dirs = append(dirs, f.RPath...)
	}
	dirs = append(dirs, f.RunPath...)
	for _, d := range dirs {
		d = strings.NewReplacer("$ORIGIN", path.Dir(from), "${ORIGIN}", path.Dir(from)).Replace(d)
		if p := path.Join(d, name); r.matches(p, f) {
			return p, true
		}
	}
	for _, e := range r.cache {
		if e.Name == name && r.matches(e.Path, f) {
			return e.Path, true
		}
	}
	for _, d := range defaultDirs(f.Machine) {
		if p := path.Join(d, name); r.matches(p, f) {
			return p, true
		}
	}
	return "", false
}

// matches reports whether p is an ELF object loadable beside f.
func (r *libResolver) matches(p string, f *elfFile) bool {
	c, err := r.elf(p)
	return err == nil && c != nil && c.Class == f.Class && c.Machine == f.Machine
}

// dep is a file an ELF object needs, and why.
type dep struct {
	Path, Why string
}

// closure returns the dynamic loaders and the transitive DT_NEEDED
// libraries of the ELF objects in roots, in a stable order, and the names
// it could not resolve. Objects that are not ELF are skipped.
func (r *libResolver) closure(roots []string) (deps []dep, missing []string) {
	seen := map[string]bool{}
	queue := append([]string(nil), roots...)
	for _, p := range roots {
		seen[p] = true
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		f, err := r.elf(p)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			missing = append(missing, fmt.Sprintf("%s: %v", p, err))
		}
		if f == nil {
			continue
		}
		add := func(lib, why string) {
			if !seen[lib] {
				seen[lib] = true
				deps = append(deps, dep{Path: lib, Why: why})
				queue = append(queue, lib)
			}
		}
		if f.Interp != "" {
			if r.matches(f.Interp, f) {
				add(f.Interp, "dynamic loader (PT_INTERP) of "+p)
			} else {
				missing = append(missing, fmt.Sprintf("%s: its dynamic loader %s is not here", p, f.Interp))
			}
		}
		for _, n := range f.Needed {
			if lib, ok := r.find(n, p, f); ok {
				add(lib, fmt.Sprintf("DT_NEEDED %s of %s", n, p))
			} else {
				missing = append(missing, fmt.Sprintf("%s needs %s, which is not found here", p, n))
			}
		}
	}
	return deps, missing
}

// aliases returns the ld.so.cache paths named by lib's soname that
// resolve to the same file: what the loader or dlopen asks for
// (libcrypt.so.1 for an opened libcrypt.so.1.1.0).
func (r *libResolver) aliases(lib string) []string {
	if r.byFinal == nil {
		r.byFinal = map[string][]string{}
		for _, e := range r.cache {
			if f := r.fs.resolve(e.Path); f != "" {
				r.byFinal[f] = append(r.byFinal[f], e.Path)
			}
		}
	}
	f, err := r.elf(lib)
	if err != nil || f == nil || f.Soname == "" {
		return nil
	}
	var out []string
	for _, p := range r.byFinal[r.fs.resolve(lib)] {
		if p != lib && path.Base(p) == f.Soname {
			out = append(out, p)
		}
	}
	return out
}
