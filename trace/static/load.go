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

// listMode lists the packages under the patterns and everything they
// import, without reading any source: enough to tell the main module's
// packages from their dependencies.
const listMode = packages.NeedName | packages.NeedImports | packages.NeedDeps | packages.NeedModule

// loadMode loads the main module's packages from source with types, and
// their dependencies from the compiler's export data (types only, no
// syntax): calls into a dependency are modelled by name (the sinks and
// value followers), so its code is never needed, and type-checking and
// building SSA for all of it was most of the cost of a scan.
const loadMode = packages.NeedName | packages.NeedFiles | packages.NeedImports |
	packages.NeedTypes | packages.NeedSyntax | packages.NeedTypesInfo | packages.NeedModule

// load lists the patterns' packages, loads those of the main module(s)
// from source and their dependencies from export data, and builds SSA for
// the source packages.
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
	listed, err := packages.Load(&packages.Config{Context: ctx, Mode: listMode, Dir: dir}, patterns...)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", strings.Join(patterns, " "), err)
	}
	own := ownPaths(listed)
	if len(listed) == 0 || len(own) == 0 {
		return nil, fmt.Errorf("load: no packages of the main module match %s in %s", strings.Join(patterns, " "), dir)
	}
	pkgs, err := packages.Load(&packages.Config{Context: ctx, Mode: loadMode, Dir: dir}, own...)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", strings.Join(patterns, " "), err)
	}
	p := &program{dir: dir, patterns: patterns, own: map[*types.Package]bool{}}
	p.notes = p.survey(pkgs)
	ssaPkgs, err := buildSSA(pkgs)
	if err != nil {
		return nil, err
	}
	p.src = newSources(pkgs[0].Fset, dir, pkgs)
	for i, pkg := range pkgs {
		if ssaPkgs[i] != nil && pkg.Name == "main" && ssaPkgs[i].Func("main") != nil {
			p.mains = append(p.mains, mainPkg{pkg: ssaPkgs[i]})
		}
	}
	sort.Slice(p.mains, func(i, j int) bool { return p.mains[i].pkg.Pkg.Path() < p.mains[j].pkg.Pkg.Path() })
	nameBinaries(p.mains)
	return p, nil
}

// ownPaths returns what to load from source: the import paths of the
// listed packages of the main module(s), whether the patterns named them
// or a named package imports them, and the named packages outside any
// module. A named package without an import path (a list of .go files)
// is passed on as the pattern that named it.
func ownPaths(listed []*packages.Package) []string {
	root := map[*packages.Package]bool{}
	for _, pkg := range listed {
		root[pkg] = true
	}
	var paths []string
	packages.Visit(listed, nil, func(pkg *packages.Package) {
		if (pkg.Module != nil && pkg.Module.Main) || (pkg.Module == nil && root[pkg]) {
			if pkg.PkgPath == "command-line-arguments" {
				paths = append(paths, pkg.GoFiles...)
			} else {
				paths = append(paths, pkg.PkgPath)
			}
		}
	})
	sort.Strings(paths)
	return paths
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
			broken = append(broken, fmt.Sprintf("%s: %s", pkg.PkgPath, firstLine(telling(pkg.Errors).Error())))
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

// telling returns the error that says most: the first type error (the
// go command's own report of a failed compilation only names the
// package), else the first.
func telling(errs []packages.Error) packages.Error {
	for _, e := range errs {
		if e.Kind == packages.TypeError {
			return e
		}
	}
	return errs[0]
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// buildSSA creates SSA for every package, those loaded from export data
// with members but no function bodies, and builds the source packages'
// functions with instantiated generics, as rapid type analysis needs; a
// panic of the builder (on code it cannot handle) is an error. It returns
// the SSA package of each of pkgs (nil for an ill-typed one).
func buildSSA(pkgs []*packages.Package) (ssaPkgs []*ssa.Package, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New(fmt.Sprint("build SSA: ", r))
		}
	}()
	prog := ssa.NewProgram(pkgs[0].Fset, ssa.InstantiateGenerics)
	created := map[*types.Package]bool{}
	for _, pkg := range pkgs {
		var made *ssa.Package
		switch {
		case pkg.Types == nil:
		case pkg.IllTyped: // its importers still need its members
			prog.CreatePackage(pkg.Types, nil, nil, true)
			created[pkg.Types] = true
		default:
			made = prog.CreatePackage(pkg.Types, pkg.Syntax, pkg.TypesInfo, true)
			created[pkg.Types] = true
		}
		ssaPkgs = append(ssaPkgs, made)
	}
	var createDeps func([]*types.Package)
	createDeps = func(imports []*types.Package) {
		for _, t := range imports {
			if !created[t] {
				created[t] = true
				prog.CreatePackage(t, nil, nil, true)
				createDeps(t.Imports())
			}
		}
	}
	for _, pkg := range pkgs {
		if pkg.Types != nil {
			createDeps(pkg.Types.Imports())
		}
	}
	prog.Build()
	return ssaPkgs, nil
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
