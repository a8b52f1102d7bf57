package static

import (
	"fmt"
	"go/types"
	"path"
	"strconv"
	"strings"

	"golang.org/x/tools/go/ssa"
)

// shortNames holds the last element of every callee name the analysis
// models, so most calls are passed over without building a full name.
var shortNames = func() map[string]bool {
	m := map[string]bool{"WithValue": true, "Value": true}
	add := func(full string) { m[full[strings.LastIndexAny(full, ".)")+1:]] = true }
	for k := range sinks {
		add(k)
	}
	for k := range flagFuncs {
		add(k)
	}
	return m
}()

// mayMatter reports whether a call may be to a sink, a flag function or
// context.WithValue, by the callee's short name alone.
func mayMatter(c *ssa.CallCommon) bool {
	if c.IsInvoke() {
		return shortNames[c.Method.Name()]
	}
	fn := c.StaticCallee()
	return fn != nil && shortNames[originOf(fn).Name()]
}

// calleeName is the full name of what a call invokes: "os.Open",
// "(*net.Dialer).DialContext", "(net.PacketConn).WriteTo"; "" for a call
// of a function value.
func calleeName(c *ssa.CallCommon) string {
	if c.IsInvoke() {
		return c.Method.FullName()
	}
	fn := c.StaticCallee()
	if fn == nil {
		return ""
	}
	if obj, ok := originOf(fn).Object().(*types.Func); ok {
		return obj.FullName()
	}
	return fn.String()
}

// originOf returns the generic function fn instantiates, or fn.
func originOf(fn *ssa.Function) *ssa.Function {
	if o := fn.Origin(); o != nil {
		return o
	}
	return fn
}

// arg returns the i-th source-level argument of a call (the receiver of a
// static method call excluded).
func arg(c *ssa.CallCommon, i int) ssa.Value {
	if !c.IsInvoke() {
		if fn := c.StaticCallee(); fn != nil && fn.Signature.Recv() != nil {
			i++
		}
	}
	if i < 0 || i >= len(c.Args) {
		return nil
	}
	return c.Args[i]
}

// receiver returns the receiver of a method call.
func receiver(c *ssa.CallCommon) ssa.Value {
	if c.IsInvoke() {
		return c.Value
	}
	if len(c.Args) > 0 {
		return c.Args[0]
	}
	return nil
}

// callValues returns what result idx of a call may be: known library
// functions are modelled, the binary's own functions are followed into,
// and a getter with a constant key gives a keyed hole.
func (r *resolver) callValues(call *ssa.Call, idx int, fr *frame) []Value {
	c := &call.Call
	name := calleeName(c)
	expr := func() string { return r.exprOf(call) }
	if vs, ok := r.library(name, c, idx, fr, expr); ok {
		return vs
	}
	if fn := c.StaticCallee(); fn != nil && r.own(fn) && len(fn.Blocks) > 0 {
		return r.returns(fn, c.Args, idx, fr, expr)
	}
	if h, ok := r.getter(c, name, fr, expr); ok {
		return h
	}
	if c.StaticCallee() == nil {
		var out []Value
		callees := r.callees(call)
		for _, fn := range callees {
			out = append(out, r.returns(fn, calleeArgs(c), idx, fr, expr)...)
		}
		if len(callees) > 0 {
			return out
		}
	}
	return []Value{hole(expr(), "")}
}

// callees returns the binary's own functions a dynamic call may reach,
// when they are few.
func (r *resolver) callees(call *ssa.Call) []*ssa.Function {
	node := r.cg.Nodes[call.Parent()]
	if node == nil {
		return nil
	}
	var out []*ssa.Function
	for _, e := range node.Out {
		if e.Site == call && e.Callee != nil {
			if !r.own(e.Callee.Func) || len(e.Callee.Func.Blocks) == 0 {
				return nil
			}
			out = append(out, e.Callee.Func)
		}
	}
	if len(out) > 4 {
		return nil
	}
	return out
}

// returns follows result idx of fn, called with args.
func (r *resolver) returns(fn *ssa.Function, args []ssa.Value, idx int, fr *frame, expr func() string) []Value {
	if fr.level() >= maxInline || len(args) != len(fn.Params) {
		return []Value{hole(expr(), "")}
	}
	nf := &frame{fn: fn, args: args, parent: fr, depth: fr.level() + 1}
	var out []Value
	for _, b := range fn.Blocks {
		if len(b.Instrs) == 0 {
			continue
		}
		if ret, ok := b.Instrs[len(b.Instrs)-1].(*ssa.Return); ok && idx < len(ret.Results) {
			out = append(out, r.values(ret.Results[idx], nf)...)
		}
	}
	return out
}

// library models the standard functions that build paths, addresses and
// settings. ok is false when name is not one of them.
func (r *resolver) library(name string, c *ssa.CallCommon, idx int, fr *frame, expr func() string) ([]Value, bool) {
	a := func(i int) []Value { return r.values(arg(c, i), fr) }
	switch name {
	case "path/filepath.Join", "path.Join":
		return r.joinCall(c, fr, expr), true
	case "fmt.Sprintf":
		return r.sprintfCall(c, fr, expr), true
	case "net.JoinHostPort":
		return product([][]Value{a(0), a(1)}, expr, func(v []Value) Value { return concat(v[0], lit(":"), v[1]) }), true
	case "strconv.Itoa", "strconv.FormatInt", "strconv.FormatUint", "strings.TrimSpace",
		"path/filepath.Clean", "path.Clean", "path/filepath.Abs", "path/filepath.FromSlash", "path/filepath.ToSlash":
		if idx == 0 {
			return a(0), true
		}
	case "path/filepath.Dir", "path.Dir", "path/filepath.Base", "path.Base":
		return mapLiteral(a(0), expr, strings.HasSuffix(name, "Dir")), true
	case "os.Getenv", "os.LookupEnv", "syscall.Getenv":
		if idx == 0 {
			return keyed(a(0), "env:", func(k string) string { return "$" + k }), true
		}
	case "os.MkdirTemp", "os.CreateTemp", "io/ioutil.TempDir", "io/ioutil.TempFile":
		if idx == 0 {
			return r.tempValues(c, fr, expr), true
		}
	case "strings.TrimRight", "strings.TrimLeft", "strings.TrimSuffix", "strings.TrimPrefix", "strings.Trim":
		if idx == 0 {
			return r.trimCall(name, c, fr), true
		}
	case "os.TempDir", "os.UserHomeDir", "os.UserConfigDir", "os.UserCacheDir", "os.Getwd", "os.Executable", "os.Hostname":
		if idx == 0 {
			short := name[strings.LastIndex(name, "/")+1:] + "()"
			return []Value{hole(short, short)}, true
		}
	case "net.ResolveTCPAddr", "net.ResolveUDPAddr", "net.ResolveUnixAddr", "net.ResolveIPAddr":
		if idx == 0 {
			return a(1), true
		}
	case "(*os.File).Fd", "(*os.File).Name":
		return r.fileOf(receiver(c), fr), true
	case "syscall.Open", "golang.org/x/sys/unix.Open":
		if idx == 0 { // a descriptor stands for its file (for Mmap)
			return a(0), true
		}
	case "(context.Context).Value":
		return r.contextValues(arg(c, 0), expr), true
	}
	return nil, false
}

// randomHole stands for the random part of a temporary file's name.
const randomHole = "random"

// tempValues returns what MkdirTemp or CreateTemp(dir, pattern) creates:
// dir/pattern with a random part.
func (r *resolver) tempValues(c *ssa.CallCommon, fr *frame, expr func() string) []Value {
	lists := [][]Value{tempDir(r.values(arg(c, 0), fr)), r.values(arg(c, 1), fr)}
	return product(lists, expr, func(v []Value) Value {
		return joinPath([]Value{v[0], concat(v[1], hole(randomHole, ""))})
	})
}

// trimCall applies a strings.Trim function to literal values; a dynamic
// value is kept as it is.
func (r *resolver) trimCall(name string, c *ssa.CallCommon, fr *frame) []Value {
	cut := r.values(arg(c, 1), fr)
	var out []Value
	for _, v := range r.values(arg(c, 0), fr) {
		s, ok := v.Literal()
		k, ok2 := "", len(cut) == 1
		if ok2 {
			k, ok2 = cut[0].Literal()
		}
		if !ok || !ok2 {
			out = append(out, v)
			continue
		}
		f := map[string]func(string, string) string{"strings.TrimRight": strings.TrimRight, "strings.TrimLeft": strings.TrimLeft,
			"strings.TrimSuffix": strings.TrimSuffix, "strings.TrimPrefix": strings.TrimPrefix, "strings.Trim": strings.Trim}[name]
		out = append(out, Value{Parts: []Part{{Lit: f(s, k)}}, Flags: v.Flags})
	}
	return out
}

// tempDir replaces an empty directory (MkdirTemp's default) with the
// system's temporary directory.
func tempDir(dirs []Value) []Value {
	out := make([]Value, len(dirs))
	for i, d := range dirs {
		out[i] = d
		if s, ok := d.Literal(); ok && s == "" {
			out[i] = hole("os.TempDir()", "os.TempDir()")
		}
	}
	return out
}

// keyed turns constant keys into keyed holes (prefix+key), shown as show(key).
func keyed(keys []Value, prefix string, show func(string) string) []Value {
	var out []Value
	for _, k := range keys {
		if s, ok := k.Literal(); ok {
			out = append(out, hole(show(s), prefix+s))
		} else {
			out = append(out, hole(show(k.String()), ""))
		}
	}
	return out
}

// mapLiteral applies path.Dir (dir) or path.Base to literal values.
func mapLiteral(vs []Value, expr func() string, dir bool) []Value {
	var out []Value
	for _, v := range vs {
		s, ok := v.Literal()
		switch {
		case !ok:
			out = append(out, hole(expr(), ""))
		case dir:
			out = append(out, Value{Parts: []Part{{Lit: path.Dir(s)}}, Flags: v.Flags})
		default:
			out = append(out, Value{Parts: []Part{{Lit: path.Base(s)}}, Flags: v.Flags})
		}
	}
	return out
}

func (r *resolver) joinCall(c *ssa.CallCommon, fr *frame, expr func() string) []Value {
	elems, ok := r.varargs(arg(c, 0), fr)
	if !ok {
		return []Value{hole(expr(), "")}
	}
	return product(elems, expr, joinPath)
}

// varargs returns the values of each element of a ...slice argument built
// at the call (ok is false for a slice passed with "s...").
func (r *resolver) varargs(v ssa.Value, fr *frame) ([][]Value, bool) {
	if c, ok := v.(*ssa.Const); ok && c.IsNil() {
		return nil, true
	}
	s, ok := v.(*ssa.Slice)
	if !ok {
		return nil, false
	}
	alloc, ok := s.X.(*ssa.Alloc)
	if !ok || alloc.Referrers() == nil {
		return nil, false
	}
	n := 0
	if arr, ok := alloc.Type().Underlying().(*types.Pointer).Elem().Underlying().(*types.Array); ok {
		n = int(arr.Len())
	}
	out := make([][]Value, n)
	for _, in := range *alloc.Referrers() {
		ia, ok := in.(*ssa.IndexAddr)
		if !ok || ia.Referrers() == nil {
			continue
		}
		i, ok := ia.Index.(*ssa.Const)
		if !ok || int(i.Int64()) >= n {
			continue
		}
		for _, u := range *ia.Referrers() {
			if st, ok := u.(*ssa.Store); ok && st.Addr == ia {
				out[i.Int64()] = append(out[i.Int64()], r.values(st.Val, fr)...)
			}
		}
	}
	return out, true
}

func (r *resolver) sprintfCall(c *ssa.CallCommon, fr *frame, expr func() string) []Value {
	formats := r.values(arg(c, 0), fr)
	args, ok := r.varargs(arg(c, 1), fr)
	if len(formats) != 1 || !ok {
		return []Value{hole(expr(), "")}
	}
	format, ok := formats[0].Literal()
	if !ok {
		return []Value{hole(expr(), "")}
	}
	return product(args, expr, func(vs []Value) Value { return sprintf(format, vs) })
}

// sprintf formats the simple verbs (%s %d %v %q) of format with args;
// other verbs, and verbs with flags or widths, become holes.
func sprintf(format string, args []Value) Value {
	var parts []Value
	next := 0
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			parts = append(parts, lit(format[i:i+1]))
			continue
		}
		j := i + 1
		for j < len(format) && strings.IndexByte("+-# 0123456789.*[]", format[j]) >= 0 {
			j++
		}
		if j >= len(format) {
			break
		}
		verb, spec := format[j], format[i:j+1]
		i = j
		if verb == '%' {
			parts = append(parts, lit("%"))
			continue
		}
		var a Value
		if next < len(args) {
			a = args[next]
		}
		next++
		parts = append(parts, formatVerb(verb, spec, a))
	}
	return concat(parts...)
}

func formatVerb(verb byte, spec string, a Value) Value {
	s, ok := a.Literal()
	if a.Parts == nil {
		return hole(spec, "")
	}
	if !ok {
		return a // the argument's own holes say what it is
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && strings.IndexByte("dxXob", verb) >= 0 {
		s = fmt.Sprintf(spec, n)
	} else if verb == 'q' {
		s = strconv.Quote(s)
	} else if verb == 's' || verb == 'v' {
		s = fmt.Sprintf(spec, s)
	} else {
		return hole(spec, "")
	}
	return Value{Parts: []Part{{Lit: s}}, Flags: a.Flags}
}

// getter recognises a call that reads a setting by a constant key from a
// library (viper.GetString("db.addr"), section.Key("listen"),
// cfg.Get("socket")): a keyed hole, the same in every binary.
func (r *resolver) getter(c *ssa.CallCommon, name string, fr *frame, expr func() string) ([]Value, bool) {
	short := name[strings.LastIndex(name, ".")+1:]
	if !strings.HasPrefix(short, "Get") && !strings.HasPrefix(short, "Lookup") && !strings.HasPrefix(short, "MustGet") &&
		short != "Value" && short != "Key" && short != "Env" {
		return nil, false
	}
	sig := c.Signature()
	for i := 0; i < sig.Params().Len(); i++ {
		if !isString(sig.Params().At(i).Type()) {
			continue
		}
		keys := r.values(arg(c, i), fr)
		if len(keys) != 1 || keys[0].Dynamic() {
			return nil, false
		}
		k, _ := keys[0].Literal()
		owner := strings.Trim(strings.TrimSuffix(name, "."+short), "()*")
		if j := strings.LastIndex(owner, "/"); j >= 0 {
			owner = owner[j+1:]
		}
		return []Value{hole(expr(), owner+"."+short+"("+k+")")}, true
	}
	return nil, false
}
