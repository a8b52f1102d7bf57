package static

import (
	"go/types"
	"sort"

	"golang.org/x/tools/go/callgraph/rta"
	"golang.org/x/tools/go/ssa"
)

// maxReachRounds bounds the rounds of rapid type analysis that add the
// functions handed to dependencies as roots.
const maxReachRounds = 8

// reach runs rapid type analysis from roots over the code that has bodies:
// the main module's, since dependencies are loaded without theirs. A
// function value the binary hands to a dependency (http.HandleFunc's
// handler, a cobra RunE, a net/http DialContext, a sort.Slice less) is
// called by code that is not there, so it becomes a root too, and
// escaped holds it: its parameters may also have values the dependency
// chooses. Methods a dependency calls through an interface are exported,
// and rapid type analysis already counts the exported methods of every
// type converted to an interface as reachable.
func (p *program) reach(roots []*ssa.Function) (*rta.Result, map[*ssa.Function]bool) {
	escaped := map[*ssa.Function]bool{}
	for round := 0; ; round++ {
		res := rta.Analyze(roots, true)
		var more []*ssa.Function
		for fn := range res.Reachable {
			if !p.isOwn(fn) {
				continue
			}
			for _, g := range p.handedOut(fn) {
				if escaped[g] {
					continue
				}
				escaped[g] = true
				if _, ok := res.Reachable[g]; !ok {
					more = append(more, g)
				}
			}
		}
		if len(more) == 0 || round == maxReachRounds {
			return res, escaped
		}
		sort.Slice(more, func(i, j int) bool {
			if more[i].Pos() != more[j].Pos() {
				return more[i].Pos() < more[j].Pos()
			}
			return more[i].String() < more[j].String()
		})
		roots = append(roots, more...)
	}
}

// handedOut lists the functions whose values fn hands to a dependency:
// passes to a function without a body or to an interface method, or
// stores into a dependency's struct field or package variable, directly
// or after a conversion (http.HandlerFunc(f)).
func (p *program) handedOut(fn *ssa.Function) []*ssa.Function {
	var out []*ssa.Function
	for _, b := range fn.Blocks {
		for _, in := range b.Instrs {
			if mc, ok := in.(*ssa.MakeClosure); ok {
				if p.flowsOut(mc, 0) {
					out = append(out, mc.Fn.(*ssa.Function))
				}
				continue
			}
			var ops [8]*ssa.Value
			for _, op := range in.Operands(ops[:0]) {
				g, ok := (*op).(*ssa.Function)
				if !ok {
					continue
				}
				if ci, ok := in.(ssa.CallInstruction); ok && ci.Common().Value == g {
					continue // called here: a static call
				}
				if p.usedOut(in, g, 0) {
					out = append(out, g)
				}
			}
		}
	}
	return out
}

// flowsOut reports whether v reaches a dependency through one of its
// uses.
func (p *program) flowsOut(v ssa.Value, depth int) bool {
	refs := v.Referrers()
	if refs == nil || depth > 4 {
		return false
	}
	for _, in := range *refs {
		if p.usedOut(in, v, depth) {
			return true
		}
	}
	return false
}

// usedOut reports whether instruction in hands v to a dependency.
func (p *program) usedOut(in ssa.Instruction, v ssa.Value, depth int) bool {
	switch in := in.(type) {
	case ssa.CallInstruction:
		c := in.Common()
		if c.Value == v && !c.IsInvoke() {
			return false // v is called, not passed
		}
		if c.IsInvoke() {
			return true
		}
		callee := c.StaticCallee()
		return callee != nil && (!p.isOwn(callee) || len(callee.Blocks) == 0)
	case *ssa.Store:
		if in.Val != v {
			return false
		}
		switch a := in.Addr.(type) {
		case *ssa.FieldAddr:
			f := fieldOf(a.X.Type(), a.Field)
			return f != nil && !p.ownTypes(f.Pkg())
		case *ssa.Global:
			return !p.ownTypes(a.Pkg.Pkg)
		}
	case *ssa.ChangeType:
		return p.flowsOut(in, depth+1)
	case *ssa.MakeInterface:
		return p.flowsOut(in, depth+1)
	case *ssa.Convert:
		return p.flowsOut(in, depth+1)
	}
	return false
}

// ownTypes reports whether pkg is one of the main module's packages.
func (p *program) ownTypes(pkg *types.Package) bool { return pkg != nil && p.own[pkg] }
