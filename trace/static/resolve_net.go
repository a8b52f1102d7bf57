package static

import (
	"go/types"
	"strings"

	"golang.org/x/tools/go/ssa"
)

// addrValues returns the address a *net.TCPAddr, *UDPAddr, *UnixAddr or
// net.Addr argument holds: "host:port" or a socket path.
func (r *resolver) addrValues(v ssa.Value, fr *frame) []Value {
	var out []Value
	for _, o := range r.origins(v, fr, 0) {
		switch x := o.v.(type) {
		case *ssa.Call:
			switch calleeName(&x.Call) {
			case "net.ResolveTCPAddr", "net.ResolveUDPAddr", "net.ResolveUnixAddr", "net.ResolveIPAddr":
				out = append(out, r.values(arg(&x.Call, 1), o.fr)...)
				continue
			}
		case *ssa.Alloc:
			out = append(out, r.addrLiteral(x, o.fr)...)
			continue
		case *ssa.Const:
			continue // a nil address: the system picks one
		}
		out = append(out, hole(r.exprOf(o.v), ""))
	}
	if out == nil {
		if c, ok := v.(*ssa.Const); ok && c.IsNil() {
			return []Value{lit(":0")} // no address: the system picks a port
		}
		return []Value{hole(r.exprOf(v), "")}
	}
	return out
}

// addrLiteral reads a &net.TCPAddr{IP: ..., Port: ...} (or UDPAddr,
// UnixAddr) built in place. A zero address gives nothing.
func (r *resolver) addrLiteral(a *ssa.Alloc, fr *frame) []Value {
	name := ""
	if n, ok := a.Type().(*types.Pointer).Elem().(*types.Named); ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "net" {
		name = n.Obj().Name()
	}
	switch name {
	case "UnixAddr":
		var out []Value
		for _, v := range allocFieldStores(a, "Name") {
			out = append(out, r.values(v, fr)...)
		}
		return out
	case "TCPAddr", "UDPAddr":
		ips, ports := allocFieldStores(a, "IP"), allocFieldStores(a, "Port")
		if len(ips) == 0 && len(ports) == 0 {
			return nil
		}
		host := []Value{lit("")}
		if len(ips) > 0 {
			host = r.ipValues(ips, fr)
		}
		port := []Value{lit("0")}
		if len(ports) > 0 {
			port = nil
			for _, p := range ports {
				port = append(port, r.values(p, fr)...)
			}
		}
		return product([][]Value{host, port}, func() string { return r.exprOf(a) }, func(v []Value) Value {
			return concat(v[0], lit(":"), v[1])
		})
	}
	return []Value{hole(r.exprOf(a), "")}
}

// ipValues reads the IP of an address literal: net.ParseIP("...") or
// net.IPv4(a, b, c, d) with constants; anything else is a hole.
func (r *resolver) ipValues(vs []ssa.Value, fr *frame) []Value {
	var out []Value
	for _, v := range vs {
		call, ok := v.(*ssa.Call)
		if !ok {
			out = append(out, hole(r.exprOf(v), ""))
			continue
		}
		switch calleeName(&call.Call) {
		case "net.ParseIP":
			out = append(out, r.values(arg(&call.Call, 0), fr)...)
			continue
		case "net.IPv4":
			var octets []string
			for i := 0; i < 4; i++ {
				if vs := r.values(arg(&call.Call, i), fr); len(vs) == 1 {
					if s, ok := vs[0].Literal(); ok {
						octets = append(octets, s)
					}
				}
			}
			if len(octets) == 4 {
				out = append(out, lit(strings.Join(octets, ".")))
				continue
			}
		}
		out = append(out, hole(r.exprOf(v), ""))
	}
	return out
}

// allocFieldStores returns the values stored into the named field of a
// struct allocated at a.
func allocFieldStores(a *ssa.Alloc, field string) []ssa.Value {
	refs := a.Referrers()
	if refs == nil {
		return nil
	}
	var out []ssa.Value
	for _, in := range *refs {
		fa, ok := in.(*ssa.FieldAddr)
		if !ok || fa.X != a || fa.Referrers() == nil {
			continue
		}
		if f := fieldOf(fa.X.Type(), fa.Field); f == nil || f.Name() != field {
			continue
		}
		for _, u := range *fa.Referrers() {
			if st, ok := u.(*ssa.Store); ok && st.Addr == fa {
				out = append(out, st.Val)
			}
		}
	}
	return out
}

// serverAddr returns the Addr field of the *http.Server a
// ListenAndServe method is called on.
func (r *resolver) serverAddr(recv ssa.Value, fr *frame) []Value {
	var out []Value
	for _, o := range r.origins(recv, fr, 0) {
		if a, ok := o.v.(*ssa.Alloc); ok {
			for _, v := range allocFieldStores(a, "Addr") {
				out = append(out, r.values(v, o.fr)...)
			}
		}
	}
	if out == nil {
		return []Value{hole(r.exprOf(recv)+".Addr", "")}
	}
	return out
}

// urlHost reduces a URL to the host:port it connects to, adding the
// scheme's default port to a literal host without one.
func urlHost(v Value) Value {
	parts := append([]Part(nil), v.Parts...)
	scheme := ""
	if len(parts) > 0 && parts[0].Hole == nil {
		if i := strings.Index(parts[0].Lit, "://"); i >= 0 {
			scheme, parts[0].Lit = parts[0].Lit[:i], parts[0].Lit[i+3:]
		}
	}
	var host []Part
	for _, p := range parts {
		if p.Hole == nil {
			if i := strings.IndexAny(p.Lit, "/?#"); i >= 0 {
				host = append(host, Part{Lit: p.Lit[:i]})
				break
			}
		}
		host = append(host, p)
	}
	out := concat(Value{Parts: host, Flags: v.Flags})
	if s, ok := out.Literal(); ok {
		if i := strings.LastIndex(s, "@"); i >= 0 {
			s = s[i+1:]
		}
		if s != "" && !strings.Contains(strings.TrimPrefix(s, "["), ":") || strings.HasSuffix(s, "]") {
			if scheme == "https" {
				s += ":443"
			} else {
				s += ":80"
			}
		}
		out = Value{Parts: []Part{{Lit: s}}, Flags: v.Flags}
	}
	return out
}
