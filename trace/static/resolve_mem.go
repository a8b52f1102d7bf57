package static

import (
	"go/token"
	"go/types"

	"golang.org/x/tools/go/ssa"
)

// index records, for the functions one binary can reach, what is stored
// where: values stored into package variables and struct fields, flags
// bound to variables by the ...Var flag functions, and values put into
// contexts. Each entry keeps its function.
type index struct {
	stores   map[any][]ref // *ssa.Global or field *types.Var -> stored values
	flagVars map[any][]ref // *ssa.Global, field *types.Var or *ssa.Alloc -> flag ...Var calls
	ctxVals  map[string][]ref
}

// ref is a value (or call) in the function that holds it.
type ref struct {
	v  ssa.Value
	c  *ssa.CallCommon
	fn *ssa.Function
}

func newIndex() *index {
	return &index{stores: map[any][]ref{}, flagVars: map[any][]ref{}, ctxVals: map[string][]ref{}}
}

// add indexes the instructions of fn. Of a function outside the main
// module (own is false: dependencies are loaded without their code, so
// only synthetic wrappers have any) only the stores into package variables
// matter: its stores into struct fields and its flags are its own business.
func (x *index) add(fn *ssa.Function, own bool) {
	for _, b := range fn.Blocks {
		for _, in := range b.Instrs {
			switch in := in.(type) {
			case *ssa.Store:
				switch k := in.Addr.(type) {
				case *ssa.Global:
					x.stores[k] = append(x.stores[k], ref{v: in.Val, fn: fn})
				case *ssa.FieldAddr:
					if f := fieldOf(k.X.Type(), k.Field); f != nil && own {
						x.stores[f] = append(x.stores[f], ref{v: in.Val, fn: fn})
					}
				}
			case ssa.CallInstruction:
				if own {
					x.addCall(in.Common(), fn)
				}
			}
		}
	}
}

func (x *index) addCall(c *ssa.CallCommon, fn *ssa.Function) {
	if !mayMatter(c) {
		return
	}
	name := calleeName(c)
	if ff, ok := flagFuncs[name]; ok && ff.dest >= 0 {
		if k := locationKey(arg(c, ff.dest)); k != nil {
			x.flagVars[k] = append(x.flagVars[k], ref{c: c, fn: fn})
		}
	}
	if name == "context.WithValue" && len(c.Args) == 3 {
		if mi, ok := c.Args[1].(*ssa.MakeInterface); ok {
			k := types.TypeString(mi.X.Type(), nil)
			x.ctxVals[k] = append(x.ctxVals[k], ref{v: c.Args[2], fn: fn})
		}
	}
}

// locationKey names the memory a pointer designates, when it is a
// package variable, a struct field (any instance) or a local variable.
func locationKey(p ssa.Value) any {
	switch p := p.(type) {
	case *ssa.Global:
		return p
	case *ssa.Alloc:
		return p
	case *ssa.FieldAddr:
		if f := fieldOf(p.X.Type(), p.Field); f != nil {
			return f
		}
	}
	return nil
}

// fieldOf returns field i of the struct t (or *t) designates.
func fieldOf(t types.Type, i int) *types.Var {
	if p, ok := t.Underlying().(*types.Pointer); ok {
		t = p.Elem()
	}
	s, ok := t.Underlying().(*types.Struct)
	if !ok || i >= s.NumFields() {
		return nil
	}
	return s.Field(i).Origin()
}

// load returns the values that may be read through pointer p.
func (r *resolver) load(p ssa.Value, fr *frame, expr string) []Value {
	var out []Value
	for _, o := range r.origins(p, fr, 0) {
		out = append(out, r.loadFrom(o, expr)...)
	}
	if out == nil {
		return []Value{hole(expr, "")}
	}
	return out
}

// origin is a place a pointer may come from, in the frame it was made.
type origin struct {
	v  ssa.Value
	fr *frame
}

// origins follows a pointer back to where it was made: a variable, a
// field, a flag, or an unknown producer.
func (r *resolver) origins(p ssa.Value, fr *frame, depth int) []origin {
	if depth > 8 || p == nil {
		return nil
	}
	r.steps++
	if r.steps > maxSteps {
		return nil
	}
	var from []ssa.Value // the pointer is one of these, in the same frame
	switch v := p.(type) {
	case *ssa.UnOp:
		if v.Op == token.MUL {
			return r.loadedOrigins(v, fr, depth)
		}
	case *ssa.Parameter:
		return r.paramOrigins(v, fr, depth)
	case *ssa.FreeVar:
		return r.each(r.bindings(v), nil, depth)
	case *ssa.Field:
		var vs []ssa.Value
		for _, s := range r.fieldStores(fieldOf(v.X.Type(), v.Field)) {
			vs = append(vs, s.v)
		}
		return r.each(vs, nil, depth)
	case *ssa.Extract:
		if call, ok := v.Tuple.(*ssa.Call); ok {
			return r.callOrigins(call, v.Index, fr, depth)
		}
	case *ssa.Call:
		return r.callOrigins(v, 0, fr, depth)
	case *ssa.Phi:
		from = v.Edges
	case *ssa.ChangeType:
		from = []ssa.Value{v.X}
	case *ssa.MakeInterface:
		from = []ssa.Value{v.X}
	case *ssa.ChangeInterface:
		from = []ssa.Value{v.X}
	case *ssa.TypeAssert:
		from = []ssa.Value{v.X}
	}
	if from != nil {
		return r.each(from, fr, depth)
	}
	return []origin{{p, fr}}
}

// each returns the origins of every value of vs.
func (r *resolver) each(vs []ssa.Value, fr *frame, depth int) []origin {
	var out []origin
	for _, v := range vs {
		out = append(out, r.origins(v, fr, depth+1)...)
	}
	return out
}

// loadedOrigins follows a pointer loaded from memory to the pointers
// stored there.
func (r *resolver) loadedOrigins(v *ssa.UnOp, fr *frame, depth int) []origin {
	var out []origin
	for _, o := range r.origins(v.X, fr, depth+1) {
		for _, s := range r.stored(o) {
			out = append(out, r.origins(s.v, s.fr, depth+1)...)
		}
	}
	return out
}

// paramOrigins follows a pointer parameter to the bound argument, or to
// the arguments of every caller.
func (r *resolver) paramOrigins(v *ssa.Parameter, fr *frame, depth int) []origin {
	fn := v.Parent()
	i := paramIndex(fn, v)
	if fr != nil && fr.fn == fn && i < len(fr.args) {
		return r.origins(fr.args[i], fr.parent, depth+1)
	}
	return r.each(r.callerArgs(fn, i), nil, depth)
}

// callOrigins follows a pointer returned by one of the binary's own
// functions; any other call is itself the origin.
func (r *resolver) callOrigins(call *ssa.Call, idx int, fr *frame, depth int) []origin {
	fn := call.Call.StaticCallee()
	if fn == nil || !r.own(fn) || len(fn.Blocks) == 0 || fr.level() >= maxInline || len(call.Call.Args) != len(fn.Params) {
		return []origin{{call, fr}}
	}
	nf := &frame{fn: fn, args: call.Call.Args, parent: fr, depth: fr.level() + 1}
	var out []origin
	for _, b := range fn.Blocks {
		if n := len(b.Instrs); n > 0 {
			if ret, ok := b.Instrs[n-1].(*ssa.Return); ok && idx < len(ret.Results) {
				out = append(out, r.origins(ret.Results[idx], nf, depth+1)...)
			}
		}
	}
	return out
}

// stored returns the values stored at a location.
func (r *resolver) stored(o origin) []origin {
	switch v := o.v.(type) {
	case *ssa.Alloc:
		var out []origin
		if refs := v.Referrers(); refs != nil {
			for _, in := range *refs {
				if st, ok := in.(*ssa.Store); ok && st.Addr == v {
					out = append(out, origin{st.Val, o.fr})
				}
			}
		}
		return out
	case *ssa.IndexAddr:
		return r.elements(v, o.fr)
	case *ssa.Global:
		var out []origin
		for _, s := range r.idx.stores[v] {
			out = append(out, origin{s.v, nil})
		}
		return out
	case *ssa.FieldAddr:
		var out []origin
		for _, s := range r.fieldStores(fieldOf(v.X.Type(), v.Field)) {
			out = append(out, origin{s.v, nil})
		}
		return out
	}
	return nil
}

// elements returns the values stored into any element of the array or
// slice literal an index expression reads (a loop over a list of paths).
func (r *resolver) elements(ia *ssa.IndexAddr, fr *frame) []origin {
	base := ia.X
	if s, ok := base.(*ssa.Slice); ok {
		base = s.X
	}
	alloc, ok := base.(*ssa.Alloc)
	if !ok || alloc.Referrers() == nil {
		return nil
	}
	var out []origin
	for _, in := range *alloc.Referrers() {
		e, ok := in.(*ssa.IndexAddr)
		if !ok || e.Referrers() == nil {
			continue
		}
		for _, u := range *e.Referrers() {
			if st, ok := u.(*ssa.Store); ok && st.Addr == e {
				out = append(out, origin{st.Val, fr})
			}
		}
	}
	return out
}

// loadFrom returns the values read from one origin.
func (r *resolver) loadFrom(o origin, expr string) []Value {
	if call, ok := o.v.(*ssa.Call); ok {
		if ff, ok := flagFuncs[calleeName(&call.Call)]; ok && ff.dest < 0 {
			return r.flagDefault(&call.Call, ff, o.fr)
		}
		return []Value{hole(expr, "")}
	}
	var out []Value
	for _, s := range r.stored(o) {
		out = append(out, r.values(s.v, s.fr)...)
	}
	if k := locationKey(o.v); k != nil {
		for _, f := range r.idx.flagVars[k] {
			out = append(out, r.flagDefault(f.c, flagFuncs[calleeName(f.c)], nil)...)
		}
	}
	if g, ok := o.v.(*ssa.Global); ok && out == nil {
		if v, ok := libraryVars[g.Pkg.Pkg.Path()+"."+g.Name()]; ok {
			return []Value{lit(v)}
		}
	}
	if out == nil {
		return []Value{hole(expr, "")}
	}
	return out
}

// libraryVars are the standard library's package variables that name a
// resource. Dependencies are loaded without their code, so the stores of
// their init functions are not there to follow.
var libraryVars = map[string]string{
	"os.Interrupt": "SIGINT",
	"os.Kill":      "SIGKILL",
}

// flagDefault returns a flag's default, marked with the flag's name.
func (r *resolver) flagDefault(c *ssa.CallCommon, ff flagFunc, fr *frame) []Value {
	name := "?"
	if ns := r.values(arg(c, ff.name), fr); len(ns) == 1 {
		if s, ok := ns[0].Literal(); ok {
			name = s
		}
	}
	var out []Value
	for _, v := range r.values(arg(c, ff.def), fr) {
		v.Flags = uniqSorted(append(append([]string(nil), v.Flags...), name))
		if s, ok := v.Literal(); ok && s != "" {
			v.defaults = append(append([]flagLit(nil), v.defaults...), flagLit{name, s})
		}
		out = append(out, v)
	}
	return out
}

// fieldValues returns what the binary stores into a struct field, in any
// instance of the struct.
func (r *resolver) fieldValues(f *types.Var, expr string) []Value {
	var out []Value
	for _, s := range r.fieldStores(f) {
		out = append(out, r.values(s.v, nil)...)
	}
	if f != nil {
		for _, fl := range r.idx.flagVars[f] {
			out = append(out, r.flagDefault(fl.c, flagFuncs[calleeName(fl.c)], nil)...)
		}
	}
	if out == nil {
		return []Value{hole(expr, "")}
	}
	return out
}

// fieldStores returns the stores into a field made by the binary's own
// code (the only ones indexed): a library's stores into its own structs
// say nothing about the application's resources.
func (r *resolver) fieldStores(f *types.Var) []ref {
	if f == nil {
		return nil
	}
	return r.idx.stores[f]
}

// contextValues follows ctx.Value(key) to the values stored with
// context.WithValue under a key of the same type.
func (r *resolver) contextValues(key ssa.Value, expr func() string) []Value {
	mi, ok := key.(*ssa.MakeInterface)
	if !ok {
		return []Value{hole(expr(), "")}
	}
	var out []Value
	for _, s := range r.idx.ctxVals[types.TypeString(mi.X.Type(), nil)] {
		out = append(out, r.values(s.v, nil)...)
	}
	if out == nil {
		return []Value{hole(expr(), "")}
	}
	return out
}

// fileOf returns the path of the file an *os.File came from.
func (r *resolver) fileOf(f ssa.Value, fr *frame) []Value {
	var out []Value
	for _, o := range r.origins(f, fr, 0) {
		if call, ok := o.v.(*ssa.Call); ok {
			switch calleeName(&call.Call) {
			case "os.Open", "os.OpenFile", "os.Create":
				out = append(out, r.values(arg(&call.Call, 0), o.fr)...)
				continue
			case "os.NewFile":
				out = append(out, r.values(arg(&call.Call, 1), o.fr)...)
				continue
			}
		}
		if c, ok := o.v.(*ssa.Const); ok && c.IsNil() {
			continue // a nil file: no path
		}
		out = append(out, hole(r.exprOf(o.v), ""))
	}
	if out == nil {
		return []Value{hole(r.exprOf(f), "")}
	}
	return out
}
