package images

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// PackageDB tells which packages own files and how large packages are.
type PackageDB interface {
	// Name says where the answers come from, e.g. "dpkg on web1".
	Name() string
	// Owners maps each path some package owns to that package.
	Owners(paths []string) (map[string]string, error)
	// Sizes maps packages to their installed size in bytes.
	Sizes(pkgs []string) (map[string]int64, error)
}

// Dpkg asks the Debian package database of this host.
type Dpkg struct{ Host string }

// Name implements PackageDB.
func (d Dpkg) Name() string { return "dpkg -S on " + d.Host }

// Owners implements PackageDB with one dpkg-query -S call. Paths with
// glob characters are skipped (dpkg would read them as patterns).
func (d Dpkg) Owners(paths []string) (map[string]string, error) {
	var args []string
	for _, p := range paths {
		if !strings.ContainsAny(p, "*?[]\\\n") {
			args = append(args, p)
		}
	}
	out := map[string]string{}
	if len(args) == 0 {
		return out, nil
	}
	stdout, err := dpkgQuery(append([]string{"-S", "--"}, args...))
	if err != nil && len(stdout) == 0 {
		// dpkg-query exits 1 when any path is unowned: only no output at
		// all is a failure, and then every path may simply be unowned.
		if _, ok := err.(*exec.ExitError); !ok {
			return nil, fmt.Errorf("dpkg-query -S: %w", err)
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "diversion by ") {
			continue
		}
		if pkgs, p, ok := strings.Cut(line, ": /"); ok {
			pkg, _, _ := strings.Cut(pkgs, ", ")
			out["/"+p] = pkg
		}
	}
	return out, nil
}

// Sizes implements PackageDB with dpkg-query -W (Installed-Size is KiB).
func (d Dpkg) Sizes(pkgs []string) (map[string]int64, error) {
	out := map[string]int64{}
	if len(pkgs) == 0 {
		return out, nil
	}
	stdout, err := dpkgQuery(append([]string{"-W", "-f", "${binary:Package}\t${Package}\t${Installed-Size}\n", "--"}, pkgs...))
	if err != nil && len(stdout) == 0 {
		return nil, fmt.Errorf("dpkg-query -W: %w", err)
	}
	for _, line := range strings.Split(string(stdout), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			continue
		}
		kib, err := strconv.ParseInt(strings.TrimSpace(f[2]), 10, 64)
		if err != nil {
			continue
		}
		out[f[0]], out[f[1]] = kib*1024, kib*1024
	}
	return out, nil
}

func dpkgQuery(args []string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return exec.CommandContext(ctx, "dpkg-query", args...).Output()
}

// usrMerged returns the other name of p on a merged-/usr system, where
// dpkg knows /bin/mv but the kernel reports /usr/bin/mv.
func usrMerged(p string) string {
	for _, d := range []string{"bin", "sbin", "lib", "lib32", "lib64", "libx32"} {
		switch {
		case strings.HasPrefix(p, "/usr/"+d+"/"):
			return strings.TrimPrefix(p, "/usr")
		case strings.HasPrefix(p, "/"+d+"/"):
			return "/usr" + p
		}
	}
	return ""
}

// packageDB returns the package database to use, or nil.
func (b *builder) packageDB() PackageDB {
	if b.opts.Packages != nil {
		return b.opts.Packages
	}
	if b.opts.Root != "/" {
		return nil
	}
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		return nil
	}
	return Dpkg{Host: b.opts.Hostname}
}

// measure fills every image's size, owning packages and sources, and
// returns where package answers came from ("" when nowhere).
func (b *builder) measure(imgs []*Image) string {
	db := b.packageDB()
	owners := map[string]string{}
	var pkgSizes map[string]int64
	if db != nil {
		owners = b.owners(db, imgs)
		var pkgs []string
		for _, p := range owners {
			pkgs = append(pkgs, p)
		}
		pkgSizes, _ = db.Sizes(uniqueSorted(pkgs))
	}
	dirSizes := map[string]Source{}
	for _, img := range imgs {
		b.measureImage(img, owners, pkgSizes, dirSizes)
	}
	if db == nil {
		return ""
	}
	return db.Name()
}

// owners asks db once for every baked file of every image, under both of
// its names on a merged-/usr system.
func (b *builder) owners(db PackageDB, imgs []*Image) map[string]string {
	var ask []string
	for _, img := range imgs {
		for _, e := range img.Files {
			if e.Final != "" && e.Size > 0 {
				ask = append(ask, e.Final, e.Path)
				if alt := usrMerged(e.Final); alt != "" {
					ask = append(ask, alt)
				}
			}
		}
	}
	got, err := db.Owners(uniqueSorted(ask))
	if err != nil {
		return map[string]string{}
	}
	out := map[string]string{}
	for _, p := range ask {
		if pkg := got[p]; pkg != "" {
			out[p] = pkg
		}
	}
	return out
}

// measureImage sums an image's baked files (each final file once) and
// names the package or directory each came from.
func (b *builder) measureImage(img *Image, owners map[string]string, pkgSizes map[string]int64, dirSizes map[string]Source) {
	counted := map[string]bool{}
	sources := map[string]*Source{}
	for i := range img.Files {
		e := &img.Files[i]
		if e.Final == "" || e.Size == 0 {
			continue
		}
		e.Package = firstNonEmpty(owners[e.Final], owners[usrMerged(e.Final)], owners[e.Path])
		if counted[e.Final] {
			continue
		}
		counted[e.Final] = true
		img.Size += e.Size
		key, src := "d:"+path.Dir(e.Final), Source{Kind: "directory", Name: path.Dir(e.Final)}
		if e.Package != "" {
			key, src = "p:"+e.Package, Source{Kind: "package", Name: e.Package, Size: pkgSizes[e.Package]}
		} else if s, ok := dirSizes[src.Name]; ok {
			src = s
		} else {
			size, _, complete := b.fs.treeSize(src.Name, 20000)
			src.Size, src.Partial = size, !complete
			dirSizes[src.Name] = src
		}
		if sources[key] == nil {
			sources[key] = &src
		}
		sources[key].Files++
	}
	for _, k := range sortedKeys(sources) {
		img.Sources = append(img.Sources, *sources[k])
		if sources[k].Kind == "package" {
			img.Packages = append(img.Packages, sources[k].Name)
		}
	}
	sort.Strings(img.Packages)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
