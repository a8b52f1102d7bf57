package static

import (
	"go/constant"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/callgraph"
	"golang.org/x/tools/go/ssa"
)

// Limits that keep value following cheap on large programs.
const (
	maxInline  = 4    // nested calls whose return values are followed
	maxCallers = 24   // call sites of a function whose arguments are followed
	maxSteps   = 4000 // values visited for one site
)

// resolver follows SSA values of one binary back to what they may hold at
// run time. Parameters are followed to the arguments of their callers in
// the binary's call graph, so a helper shared by two binaries resolves
// differently in each; return values are followed into the callee with its
// parameters bound to the call's arguments.
type resolver struct {
	idx *index
	src *sources
	own func(*ssa.Function) bool
	cg  *callgraph.Graph
	// escaped holds the functions handed to dependencies: they may also
	// be called with arguments this binary's code does not show.
	escaped map[*ssa.Function]bool
	memo    map[ssa.Value][]Value
	steps   int
	// busy holds the values being computed, by depth on the query stack;
	// low is the lowest depth a cycle was cut back to (noCut if none).
	busy  map[ssa.Value]int
	stack int
	low   int
}

const noCut = int(^uint(0) >> 1)

// frame binds the parameters of a function whose return values are being
// followed from one call site.
type frame struct {
	fn     *ssa.Function
	args   []ssa.Value
	parent *frame
	depth  int
}

func (f *frame) level() int {
	if f == nil {
		return 0
	}
	return f.depth
}

// values returns what v may evaluate to (at most maxValues, else one hole).
// Values outside any frame are memoized, except those computed while a
// cycle back to an enclosing query was cut: they are partial, so they are
// recomputed and the order of queries never changes an answer.
func (r *resolver) values(v ssa.Value, fr *frame) []Value {
	if v == nil {
		return []Value{hole("?", "")}
	}
	depth := 0
	if fr == nil {
		if vs, ok := r.memo[v]; ok {
			return vs
		}
		if d, ok := r.busy[v]; ok {
			r.low = min(r.low, d)
			return nil // a cycle: the other paths give the values
		}
		r.stack++
		depth = r.stack
		r.busy[v] = depth
		defer func() { delete(r.busy, v); r.stack-- }()
	}
	outer := r.low
	r.low = noCut
	r.steps++
	var vs []Value
	if r.steps > maxSteps {
		vs = []Value{hole(r.exprOf(v), "")}
	} else {
		vs = capValues(r.compute(v, fr), func() string { return r.exprOf(v) })
	}
	if fr == nil && r.low >= depth {
		r.memo[v] = vs
		r.low = noCut
	}
	r.low = min(r.low, outer)
	return vs
}

func (r *resolver) compute(v ssa.Value, fr *frame) []Value {
	switch v := v.(type) {
	case *ssa.Const:
		return []Value{constValue(v)}
	case *ssa.BinOp:
		if v.Op == token.ADD && isString(v.Type()) {
			return product([][]Value{r.values(v.X, fr), r.values(v.Y, fr)}, func() string { return r.exprOf(v) }, func(c []Value) Value { return concat(c...) })
		}
	case *ssa.Convert:
		return r.values(v.X, fr)
	case *ssa.ChangeType:
		return r.values(v.X, fr)
	case *ssa.MakeInterface:
		return r.values(v.X, fr)
	case *ssa.ChangeInterface:
		return r.values(v.X, fr)
	case *ssa.TypeAssert:
		return r.values(v.X, fr)
	case *ssa.Phi:
		var out []Value
		for _, e := range v.Edges {
			out = append(out, r.values(e, fr)...)
		}
		return out
	case *ssa.Extract:
		return r.extract(v, fr)
	case *ssa.Call:
		return r.callValues(v, 0, fr)
	case *ssa.UnOp:
		if v.Op == token.MUL {
			return r.load(v.X, fr, r.exprOf(v))
		}
	case *ssa.Parameter:
		return r.param(v, fr)
	case *ssa.FreeVar:
		return r.freeVar(v, fr)
	case *ssa.Lookup:
		return r.lookup(v, fr)
	case *ssa.Field:
		return r.fieldValues(fieldOf(v.X.Type(), v.Field), r.exprOf(v))
	}
	return []Value{hole(r.exprOf(v), "")}
}

func (r *resolver) extract(v *ssa.Extract, fr *frame) []Value {
	switch t := v.Tuple.(type) {
	case *ssa.Call:
		return r.callValues(t, v.Index, fr)
	case *ssa.Lookup:
		if v.Index == 0 {
			return r.lookup(t, fr)
		}
	case *ssa.TypeAssert:
		if v.Index == 0 {
			return r.values(t.X, fr)
		}
	}
	return []Value{hole(r.exprOf(v), "")}
}

// param follows a parameter to the arguments its callers pass.
func (r *resolver) param(p *ssa.Parameter, fr *frame) []Value {
	fn := p.Parent()
	i := paramIndex(fn, p)
	if fr != nil && fr.fn == fn && i < len(fr.args) {
		return r.values(fr.args[i], fr.parent)
	}
	args := r.callerArgs(fn, i)
	if args == nil {
		return []Value{hole(p.Name(), "")}
	}
	var out []Value
	for _, a := range args {
		out = append(out, r.values(a, nil)...)
	}
	if r.escaped[fn] {
		out = append(out, hole(p.Name(), ""))
	}
	return out
}

// callerArgs returns the i-th argument of every call site of fn in this
// binary (nil when there are none or too many).
func (r *resolver) callerArgs(fn *ssa.Function, i int) []ssa.Value {
	node := r.cg.Nodes[fn]
	if node == nil || len(node.In) == 0 || len(node.In) > maxCallers {
		return nil
	}
	var out []ssa.Value
	for _, e := range node.In {
		if e.Site == nil {
			continue
		}
		args := calleeArgs(e.Site.Common())
		if len(args) == len(fn.Params) && i < len(args) {
			out = append(out, args[i])
		}
	}
	return out
}

// calleeArgs lists the values a call passes to the callee's parameters,
// the receiver first for an interface method call.
func calleeArgs(c *ssa.CallCommon) []ssa.Value {
	if c.IsInvoke() {
		return append([]ssa.Value{c.Value}, c.Args...)
	}
	return c.Args
}

func paramIndex(fn *ssa.Function, p *ssa.Parameter) int {
	for i, q := range fn.Params {
		if q == p {
			return i
		}
	}
	return len(fn.Params)
}

// freeVar follows a variable captured by a closure to what the enclosing
// function bound it to.
func (r *resolver) freeVar(v *ssa.FreeVar, fr *frame) []Value {
	var out []Value
	for _, b := range r.bindings(v) {
		out = append(out, r.values(b, nil)...)
	}
	if out == nil {
		return []Value{hole(v.Name(), "")}
	}
	return out
}

func (r *resolver) bindings(v *ssa.FreeVar) []ssa.Value {
	fn := v.Parent()
	i := -1
	for j, f := range fn.FreeVars {
		if f == v {
			i = j
		}
	}
	refs := fn.Referrers()
	if i < 0 || refs == nil {
		return nil
	}
	var out []ssa.Value
	for _, in := range *refs {
		if mc, ok := in.(*ssa.MakeClosure); ok && mc.Fn == fn && i < len(mc.Bindings) {
			out = append(out, mc.Bindings[i])
		}
	}
	return out
}

// lookup turns m[k] with a constant key into a keyed hole: the same key of
// the same map type names the same setting in every binary.
func (r *resolver) lookup(v *ssa.Lookup, fr *frame) []Value {
	expr := r.exprOf(v)
	if _, ok := v.X.Type().Underlying().(*types.Map); !ok {
		return []Value{hole(expr, "")}
	}
	keys := r.values(v.Index, fr)
	var out []Value
	for _, k := range keys {
		s, ok := k.Literal()
		if !ok {
			out = append(out, hole(expr, ""))
			continue
		}
		key := typeName(v.X.Type()) + "[" + s + "]"
		e := expr
		if !strings.Contains(e, s) {
			e = key
		}
		out = append(out, hole(e, key))
	}
	return out
}

// constValue renders a constant; signal numbers become their names.
func constValue(c *ssa.Const) Value {
	if c.Value == nil {
		if isString(c.Type()) {
			return lit("")
		}
		return hole("nil", "")
	}
	switch c.Value.Kind() {
	case constant.String:
		return lit(constant.StringVal(c.Value))
	case constant.Int:
		if isSignalType(c.Type()) {
			if n, ok := constant.Int64Val(c.Value); ok {
				return lit(signalName(n))
			}
		}
	}
	return lit(c.Value.ExactString())
}

func isString(t types.Type) bool {
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Info()&types.IsString != 0
}

func isSignalType(t types.Type) bool {
	n, ok := t.(*types.Named)
	if !ok || n.Obj().Pkg() == nil || n.Obj().Name() != "Signal" {
		return false
	}
	p := n.Obj().Pkg().Path()
	return p == "syscall" || p == "golang.org/x/sys/unix"
}

// typeName names a type with package names only: "shopconf.Config".
func typeName(t types.Type) string {
	return types.TypeString(t, func(p *types.Package) string { return p.Name() })
}

var signalNames = []string{1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS",
	8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM",
	16: "SIGSTKFLT", 17: "SIGCHLD", 18: "SIGCONT", 19: "SIGSTOP", 20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGURG",
	24: "SIGXCPU", 25: "SIGXFSZ", 26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGIO", 30: "SIGPWR", 31: "SIGSYS"}

// signalName returns the Linux name of a signal number.
func signalName(n int64) string {
	if n > 0 && int(n) < len(signalNames) {
		return signalNames[n]
	}
	return "SIG" + constant.MakeInt64(n).String()
}
