package static

import (
	"go/ast"
	"go/token"
	"go/types"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/tools/go/ast/astutil"
	"golang.org/x/tools/go/packages"
	"golang.org/x/tools/go/ssa"
)

// sources maps positions back to source text and to paths relative to the
// directory the user ran in.
type sources struct {
	fset  *token.FileSet
	dir   string
	files map[*token.File]*ast.File
	info  map[*ast.File]*types.Info // of the file's package
	mu    sync.Mutex                // guards exprs: binaries are scanned in parallel
	exprs map[token.Pos]string
}

func newSources(fset *token.FileSet, dir string, pkgs []*packages.Package) *sources {
	s := &sources{fset: fset, dir: dir, files: map[*token.File]*ast.File{}, info: map[*ast.File]*types.Info{},
		exprs: map[token.Pos]string{}}
	for _, p := range pkgs {
		for _, f := range p.Syntax {
			if tf := fset.File(f.Pos()); tf != nil {
				s.files[tf] = f
				s.info[f] = p.TypesInfo
			}
		}
	}
	return s
}

// exprAt returns the source text of the expression at pos ("" if none).
func (s *sources) exprAt(pos token.Pos) string {
	if !pos.IsValid() {
		return ""
	}
	s.mu.Lock()
	e, ok := s.exprs[pos]
	s.mu.Unlock()
	if ok {
		return e
	}
	if f := s.files[s.fset.File(pos)]; f != nil {
		e = exprText(enclosingExpr(f, pos))
	}
	s.mu.Lock()
	s.exprs[pos] = e
	s.mu.Unlock()
	return e
}

// enclosingExpr returns the innermost expression at pos; a selector's
// name stands for the whole selector.
func enclosingExpr(f *ast.File, pos token.Pos) ast.Expr {
	path, _ := astutil.PathEnclosingInterval(f, pos, pos)
	if len(path) == 0 {
		return nil
	}
	e, ok := path[0].(ast.Expr)
	if !ok {
		return nil
	}
	if id, ok := e.(*ast.Ident); ok && len(path) > 1 {
		if sel, ok := path[1].(*ast.SelectorExpr); ok && sel.Sel == id {
			return sel
		}
	}
	return e
}

// callExpr returns the call expression whose '(' is at lparen.
func (s *sources) callExpr(lparen token.Pos) *ast.CallExpr {
	f := s.files[s.fset.File(lparen)]
	if f == nil || !lparen.IsValid() {
		return nil
	}
	path, _ := astutil.PathEnclosingInterval(f, lparen, lparen)
	for _, n := range path {
		if c, ok := n.(*ast.CallExpr); ok && c.Lparen == lparen {
			return c
		}
	}
	return nil
}

// exprText renders an expression on one line, shortened past 80 bytes.
func exprText(e ast.Expr) string {
	if e == nil {
		return ""
	}
	t := types.ExprString(e)
	if len(t) > 80 {
		t = t[:77] + "..."
	}
	return t
}

// position is a source position relative to the user's directory.
type position struct {
	file      string
	line, col int
}

func (s *sources) position(pos token.Pos) position {
	p := s.fset.Position(pos)
	file := p.Filename
	if rel, err := filepath.Rel(s.dir, file); err == nil && !strings.HasPrefix(rel, "..") {
		file = filepath.ToSlash(rel)
	}
	return position{file: file, line: p.Line, col: p.Column}
}

func (p position) String() string { return p.file + ":" + strconv.Itoa(p.line) }

// exprOf describes a value by its source text, else by its name.
func (r *resolver) exprOf(v ssa.Value) string {
	if v == nil {
		return "?"
	}
	return r.describe(v, 0)
}

// describe falls back on the operands of a value without a position
// (loop variables, implicit loads and conversions).
func (r *resolver) describe(v ssa.Value, depth int) string {
	if e := r.src.exprAt(v.Pos()); e != "" {
		return e
	}
	if depth > 4 {
		return "?"
	}
	switch v := v.(type) {
	case *ssa.Const:
		if v.Value == nil {
			return "nil"
		}
		return v.Value.String()
	case *ssa.Parameter, *ssa.Global, *ssa.FreeVar, *ssa.Function:
		return v.Name()
	case *ssa.UnOp:
		return r.describe(v.X, depth+1)
	case *ssa.IndexAddr:
		return r.describe(v.X, depth+1) + "[i]"
	case *ssa.Index:
		return r.describe(v.X, depth+1) + "[i]"
	case *ssa.Slice:
		return r.describe(v.X, depth+1)
	case *ssa.Extract:
		return r.describe(v.Tuple, depth+1)
	case *ssa.Convert:
		return r.describe(v.X, depth+1)
	case *ssa.ChangeType:
		return r.describe(v.X, depth+1)
	case *ssa.Phi:
		for _, e := range v.Edges {
			if d := r.describe(e, depth+1); d != "?" {
				return d
			}
		}
	}
	return "?"
}
