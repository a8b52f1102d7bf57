package static

import (
	"go/ast"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/tools/go/ssa"
)

// scanBinary finds the sites of one binary: the calls that touch shared
// resources in the main module's functions reachable from its main and
// init functions (rapid type analysis, see reach). It indexes the stores of every
// reachable function first, so values are followed through the stores
// this binary can make, and only those. Binaries are scanned in parallel:
// each has its own call graph, index and memo.
func (p *program) scanBinary(m mainPkg) (Binary, []Site) {
	roots := []*ssa.Function{m.pkg.Func("main")}
	if init := m.pkg.Func("init"); init != nil {
		roots = append(roots, init)
	}
	res, escaped := p.reach(roots)
	idx := newIndex()
	var fns []*ssa.Function
	for fn := range res.Reachable {
		own := p.isOwn(fn)
		idx.add(fn, own)
		if own {
			fns = append(fns, fn)
		}
	}
	sort.Slice(fns, func(i, j int) bool {
		if fns[i].Pos() != fns[j].Pos() {
			return fns[i].Pos() < fns[j].Pos()
		}
		return fns[i].String() < fns[j].String()
	})
	r := &resolver{idx: idx, src: p.src, own: p.isOwn, cg: res.CallGraph, escaped: escaped,
		memo: map[ssa.Value][]Value{}, busy: map[ssa.Value]int{}, low: noCut}
	var sites []Site
	for _, fn := range fns {
		sites = append(sites, r.scan(fn, m.name)...)
	}
	sites = mergeSites(sites)
	return Binary{Name: m.name, Package: m.pkg.Pkg.Path(), Reachable: len(res.Reachable)}, sites
}

// count fills in a binary's figures from its sites: how many, how many
// dynamic, the signals it expects and the environment it reads.
func (b *Binary) count(sites []Site) {
	b.Sites, b.Dynamic, b.Expects, b.Env = len(sites), 0, nil, nil
	for _, s := range sites {
		if s.dynamic() {
			b.Dynamic++
		}
		for _, r := range s.Resources {
			switch {
			case r.Dynamic:
			case s.Op == "notify":
				b.Expects = append(b.Expects, r.Value)
			case s.Kind == kindEnv:
				b.Env = append(b.Env, r.Value)
			}
		}
	}
	b.Expects, b.Env = nonNil(uniqSorted(b.Expects)), nonNil(uniqSorted(b.Env))
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// isOwn reports whether fn's code belongs to the main module(s).
func (p *program) isOwn(fn *ssa.Function) bool {
	if pkg := pkgOf(fn); pkg != nil {
		return p.own[pkg.Pkg]
	}
	return false
}

// scan returns the sites in fn.
func (r *resolver) scan(fn *ssa.Function, binary string) []Site {
	var out []Site
	for _, b := range fn.Blocks {
		for _, in := range b.Instrs {
			ci, ok := in.(ssa.CallInstruction)
			if !ok || !mayMatter(ci.Common()) {
				continue
			}
			name := calleeName(ci.Common())
			s, ok := sinks[name]
			if !ok {
				continue
			}
			r.steps = 0
			site, ok := r.site(ci, name, s)
			if !ok {
				continue
			}
			site.Binary, site.Function = binary, fnName(fn)
			if pkg := pkgOf(fn); pkg != nil {
				site.Package = pkg.Pkg.Path()
			}
			site.pos = r.src.position(ci.Pos())
			site.Pos = site.pos.String()
			out = append(out, site)
		}
	}
	return out
}

// fnName names a function within its package: "run", "(*web).ServeHTTP",
// "run$1" for the first closure in run.
func fnName(fn *ssa.Function) string {
	o := originOf(fn)
	if pkg := pkgOf(fn); pkg != nil {
		return o.RelString(pkg.Pkg)
	}
	return o.String()
}

// pkgOf returns the package whose source holds fn (for an instance of a
// generic function, or a closure in one, the generic's package).
func pkgOf(fn *ssa.Function) *ssa.Package {
	for f := fn; f != nil; f = f.Parent() {
		if o := originOf(f); o.Pkg != nil {
			return o.Pkg
		}
	}
	return nil
}

// site describes one sink call; ok is false when the call shares nothing
// (a private memory mapping).
func (r *resolver) site(ci ssa.CallInstruction, name string, s sink) (Site, bool) {
	c := ci.Common()
	st := Site{Kind: s.kind, Op: s.op, Call: shortCall(name)}
	if s.mapFlags >= 0 {
		if f, ok := r.intArg(c, s.mapFlags); ok && f&mapShared == 0 {
			return st, false
		}
	}
	if s.flags >= 0 {
		if f, ok := r.intArg(c, s.flags); ok {
			st.Op = openOp(f)
		}
	}
	values := r.resourceValues(c, s)
	if s.kind == kindNet {
		st.Network = r.network(c, s, values)
		st.Kind = netKind(st.Network)
	}
	st.Expr = r.argText(ci, s)
	for _, v := range values {
		if len(v.Parts) == 1 && v.Parts[0].Hole != nil && v.Parts[0].Hole.Expr == "?" && st.Expr != "" {
			v = hole(st.Expr, "") // say at least what the call was given
		}
		st.Resources = append(st.Resources, resource(v))
	}
	return st, true
}

func resource(v Value) Resource {
	res := Resource{Value: v.String(), Dynamic: v.Dynamic(), Flags: v.Flags, Settings: v.Settings, v: v}
	if res.Dynamic {
		res.Pattern = v.Pattern()
		for _, p := range v.Parts {
			if p.Hole != nil && p.Hole.Key != "" {
				res.Keys = append(res.Keys, p.Hole.Key)
			}
		}
		res.Keys = uniqSorted(res.Keys)
	}
	return res
}

func (s Site) dynamic() bool {
	for _, r := range s.Resources {
		if r.Dynamic {
			return true
		}
	}
	return len(s.Resources) == 0
}

// resourceValues follows the resource arguments of a sink call.
func (r *resolver) resourceValues(c *ssa.CallCommon, s sink) []Value {
	var out []Value
	switch s.how {
	case argKill:
		return []Value{lit("SIGKILL")}
	case argServer:
		return r.serverAddr(receiver(c), nil)
	case argTemp:
		return r.tempValues(c, nil, func() string { return "?" })
	}
	for _, i := range s.res {
		a := arg(c, i)
		switch s.how {
		case argVariadic:
			elems, ok := r.varargs(a, nil)
			if !ok {
				out = append(out, hole(r.exprOf(a), ""))
			} else if len(elems) == 0 {
				out = append(out, lit("all"))
			}
			for _, e := range elems {
				out = append(out, e...)
			}
		case argAddr:
			out = append(out, r.addrValues(a, nil)...)
		case argURL:
			for _, v := range r.values(a, nil) {
				out = append(out, urlHost(v))
			}
		default:
			out = append(out, r.values(a, nil)...)
		}
	}
	return dedupe(out)
}

// intArg returns a constant integer argument.
func (r *resolver) intArg(c *ssa.CallCommon, i int) (int64, bool) {
	vs := r.values(arg(c, i), nil)
	if len(vs) != 1 {
		return 0, false
	}
	s, ok := vs[0].Literal()
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 0, 64)
	return n, err == nil
}

// network returns the network a net call uses: its literal argument, the
// network the function implies, or "dynamic". When the argument may be
// one of several networks (a helper that picks "tcp" or "unix" by the
// address), the shape of the literal addresses decides.
func (r *resolver) network(c *ssa.CallCommon, s sink, addrs []Value) string {
	if s.network < 0 {
		return orDynamic(s.fixed)
	}
	var nets []string
	for _, v := range r.values(arg(c, s.network), nil) {
		n, ok := v.Literal()
		if !ok {
			return orDynamic(s.fixed)
		}
		nets = append(nets, n)
	}
	if len(nets) == 1 {
		return nets[0]
	}
	want := ""
	for _, a := range addrs {
		l, ok := a.Literal()
		shape := "unix"
		if !strings.HasPrefix(l, "/") && !strings.HasPrefix(l, "@") {
			shape = "ip"
		}
		if !ok || (want != "" && shape != want) {
			return orDynamic(s.fixed)
		}
		want = shape
	}
	for _, n := range nets {
		if k := netKind(n); (want == "unix") == (k == "unix") && k != kindNet {
			return n
		}
	}
	return orDynamic(s.fixed)
}

func orDynamic(network string) string {
	if network == "" {
		return "dynamic"
	}
	return network
}

// netKind maps a network name to the coupling kind it gives.
func netKind(network string) string {
	switch strings.TrimRight(network, "46") {
	case "tcp":
		return "tcp"
	case "udp":
		return "udp"
	case "unix", "unixgram", "unixpacket":
		return "unix"
	}
	return kindNet
}

// argText returns the source text of the resource arguments.
func (r *resolver) argText(ci ssa.CallInstruction, s sink) string {
	call := r.src.callExpr(ci.Pos())
	if call == nil {
		return ""
	}
	if sel, ok := call.Fun.(*ast.SelectorExpr); ok && s.how == argServer {
		return exprText(sel.X) + ".Addr"
	}
	var parts []string
	for _, i := range s.res {
		switch {
		case i < 0 || i >= len(call.Args):
		case s.how == argVariadic:
			for _, a := range call.Args[i:] {
				parts = append(parts, exprText(a))
			}
		default:
			parts = append(parts, exprText(call.Args[i]))
		}
	}
	return strings.Join(parts, ", ")
}

// shortCall drops the directories of a callee's package path:
// "(*net/http.Server).ListenAndServe" becomes "(*http.Server).ListenAndServe".
func shortCall(name string) string {
	prefix := ""
	for strings.HasPrefix(name, "(") || strings.HasPrefix(name, "*") {
		prefix += name[:1]
		name = name[1:]
	}
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	return prefix + name
}

// mergeSites merges the sites of one call found in several instances of
// a generic function.
func mergeSites(sites []Site) []Site {
	type key struct{ pos, call string }
	at := map[key]int{}
	var out []Site
	for _, s := range sites {
		k := key{s.Pos + ":" + strconv.Itoa(s.pos.col), s.Call}
		if i, ok := at[k]; ok {
			out[i].Resources = mergeResources(out[i].Resources, s.Resources)
			continue
		}
		at[k] = len(out)
		out = append(out, s)
	}
	return out
}

func mergeResources(a, b []Resource) []Resource {
	seen := map[string]bool{}
	var out []Resource
	for _, r := range append(a, b...) {
		k := r.Value + "\x00" + strings.Join(r.Flags, ",")
		if !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Value < out[j].Value })
	return out
}
