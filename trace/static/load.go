package static

import (
	"context"
	"errors"
	"fmt"
	"go/types"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/tools/go/packages"
	"golang.org/x/tools/go/ssa"
	"golang.org/x/tools/go/ssa/ssautil"
)

// program is the loaded code: SSA for every package, and the binaries.
type program struct {
	dir      string
	patterns []string
	loaded   int
	notes    []string
	src      *sources
	// own holds the packages whose code is scanned: those of the main
	// module(s); calls inside dependencies are not sites.
	own   map[*types.Package]bool
	mains []mainPkg
}

type mainPkg struct {
	name string
	pkg  *ssa.Package
}

const loadMode = packages.NeedName | packages.NeedFiles | packages.NeedImports | packages.NeedDeps |
	packages.NeedTypes | packages.NeedSyntax | packages.NeedTypesInfo | packages.NeedModule

// load loads the patterns with their dependencies from source and builds
// SSA for all of them.
func load(ctx context.Context, opts Options) (*program, error) {
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("load: %s is not a directory: pass a module directory", dir)
	}
	patterns := opts.Patterns
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	cfg := &packages.Config{Context: ctx, Mode: loadMode, Dir: dir}
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", strings.Join(patterns, " "), err)
	}
	if len(pkgs) == 0 {
		return nil, fmt.Errorf("load: no packages match %s in %s", strings.Join(patterns, " "), dir)
	}
	p := &program{dir: dir, patterns: patterns, own: map[*types.Package]bool{}}
	p.notes = p.survey(pkgs)
	ssaPkgs, err := buildSSA(pkgs)
	if err != nil {
		return nil, err
	}
	p.src = newSources(pkgs[0].Fset, dir, everyPackage(pkgs))
	for i, pkg := range pkgs {
		if ssaPkgs[i] != nil && pkg.Name == "main" && ssaPkgs[i].Func("main") != nil {
			p.mains = append(p.mains, mainPkg{pkg: ssaPkgs[i]})
		}
	}
	nameBinaries(p.mains)
	return p, nil
}

// survey counts the packages, marks the scanned ones and notes those with
// errors (their code, and that of binaries using them, is not scanned).
func (p *program) survey(pkgs []*packages.Package) []string {
	root := map[*packages.Package]bool{}
	for _, pkg := range pkgs {
		root[pkg] = true
	}
	var broken, skipped []string
	for _, pkg := range pkgs {
		if pkg.Name == "main" && pkg.IllTyped {
			skipped = append(skipped, pkg.PkgPath)
		}
	}
	packages.Visit(pkgs, nil, func(pkg *packages.Package) {
		p.loaded++
		if pkg.Types != nil && ((pkg.Module != nil && pkg.Module.Main) || (pkg.Module == nil && root[pkg])) {
			p.own[pkg.Types] = true
		}
		if len(pkg.Errors) > 0 {
			broken = append(broken, fmt.Sprintf("%s: %s", pkg.PkgPath, firstLine(pkg.Errors[0].Error())))
		}
	})
	if len(broken) == 0 {
		return nil
	}
	sort.Strings(broken)
	note := fmt.Sprintf("%d packages have errors and were skipped (first: %s)", len(broken), broken[0])
	if len(skipped) > 0 {
		sort.Strings(skipped)
		note += fmt.Sprintf("; so were the binaries that use them: %s", strings.Join(skipped, ", "))
	}
	return []string{note}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// buildSSA builds SSA with instantiated generics, as rapid type analysis
// needs; a panic of the builder (on code it cannot handle) is an error.
func buildSSA(pkgs []*packages.Package) (ssaPkgs []*ssa.Package, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New(fmt.Sprint("build SSA: ", r))
		}
	}()
	prog, ssaPkgs := ssautil.AllPackages(pkgs, ssa.InstantiateGenerics)
	prog.Build()
	return ssaPkgs, nil
}

func everyPackage(pkgs []*packages.Package) []*packages.Package {
	var out []*packages.Package
	packages.Visit(pkgs, nil, func(p *packages.Package) { out = append(out, p) })
	return out
}

// nameBinaries names each binary by the last element of its package
// path, adding elements until every name is unique.
func nameBinaries(mains []mainPkg) {
	for n := 1; ; n++ {
		count := map[string]int{}
		for i := range mains {
			mains[i].name = lastElems(mains[i].pkg.Pkg.Path(), n)
			count[mains[i].name]++
		}
		dup := false
		for _, c := range count {
			dup = dup || c > 1
		}
		if !dup || n > 8 {
			return
		}
	}
}

func lastElems(path string, n int) string {
	parts := strings.Split(path, "/")
	if n > len(parts) {
		n = len(parts)
	}
	return strings.Join(parts[len(parts)-n:], "/")
}
