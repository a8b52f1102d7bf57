package static

import (
	"net"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/decompose-dev/decompose/graph"
)

// Coupling is a coupling between binaries predicted from their source:
// their sites name the same path, socket, address or signal.
type Coupling struct {
	Kind     graph.Kind `json:"kind"`
	Resource string     `json:"resource"`
	Binaries []string   `json:"binaries"`
	// From lists the writing, connecting or sending side.
	From []string `json:"from,omitempty"`
	// Basis says why the sites are taken to name the same resource.
	Basis string `json:"basis"`
	// Sites lists "binary file:line" of every site involved.
	Sites []string `json:"sites"`
}

// Termination signals are left out of predictions: the platform sends
// them (kubelet at pod stop), so they couple nothing that survives a split.
var terminationSignals = map[string]bool{"SIGTERM": true, "SIGINT": true, "SIGKILL": true}

// claim is one site's use of one resource identity.
type claim struct {
	id    string
	role  string
	site  *Site
	value Value
}

// predict finds the resources named by sites of several binaries.
func predict(sites []Site) []Coupling {
	groups := map[string][]claim{}
	for i := range sites {
		for _, c := range claims(&sites[i]) {
			groups[c.id] = append(groups[c.id], c)
		}
	}
	var out []Coupling
	for id, cs := range groups {
		if c, ok := couple(id, cs); ok {
			out = append(out, c)
		}
	}
	out = mergeAliases(out)
	out = append(out, signalCouplings(sites)...)
	sortCouplings(out)
	return out
}

// sortCouplings orders couplings by kind, resource and binaries.
func sortCouplings(out []Coupling) {
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Resource != b.Resource {
			return a.Resource < b.Resource
		}
		return strings.Join(a.Binaries, ",") < strings.Join(b.Binaries, ",")
	})
}

// mergeAliases merges the couplings of one kind made by the same sites:
// one resource seen under two names (a flag's default path and the value
// a start script gives the flag). The literal name is kept, else the
// first; the bases are joined.
func mergeAliases(cs []Coupling) []Coupling {
	sort.Slice(cs, func(i, j int) bool {
		li, lj := !strings.Contains(cs[i].Resource, "{"), !strings.Contains(cs[j].Resource, "{")
		if li != lj {
			return li
		}
		return cs[i].Resource < cs[j].Resource
	})
	at := map[string]int{}
	var out []Coupling
	for _, c := range cs {
		k := string(c.Kind) + "\x00" + strings.Join(c.Sites, "\x00")
		i, ok := at[k]
		if !ok {
			at[k] = len(out)
			out = append(out, c)
			continue
		}
		if !strings.Contains(out[i].Basis, c.Basis) {
			out[i].Basis += "; also " + c.Resource + ": " + c.Basis
		}
	}
	return out
}

// claims lists the resource identities a site names.
func claims(s *Site) []claim {
	var out []claim
	for _, r := range s.Resources {
		v := r.v
		switch s.Kind {
		case kindFile, kindFIFO, kindShm:
			if id, ok := pathID(v); ok {
				out = append(out, claim{"path:" + id, s.Op, s, v})
			}
			if role := entryRole(s.Op); role != "" {
				if dir, ok := pathID(parentValue(v)); ok && !systemDirs[dir] {
					out = append(out, claim{"dir:" + dir, role, s, v})
				}
			}
		case kindDir:
			if id, ok := pathID(v); ok && !systemDirs[id] {
				out = append(out, claim{"dir:" + id, s.Op, s, v})
			}
		case "unix":
			if id, ok := pathID(v); ok {
				out = append(out, claim{"unix:" + id, s.Op, s, v})
			}
		case "tcp", "udp":
			if id, ok := endpointID(v); ok {
				out = append(out, claim{s.Kind + ":" + id, s.Op, s, v})
			}
		}
	}
	return out
}

// pathID identifies a path: its cleaned text, or its symbol when a
// setting names it.
func pathID(v Value) (string, bool) {
	for _, p := range v.Parts {
		if p.Hole != nil && p.Hole.Expr == randomHole {
			return "", false // a fresh temporary name: nobody else knows it
		}
	}
	if s, ok := v.Literal(); ok {
		if s == "" {
			return "", false // an unset flag or variable, not a path
		}
		s = path.Clean(s)
		return s, s != "." && !platformPath(s)
	}
	sym := v.symbol()
	return sym, strings.Contains(sym, "{") && !platformPath(sym)
}

// platformPath reports whether p is provided by the base image, by the
// graph engine's rule: two programs reading /etc/hosts are not coupled.
func platformPath(p string) bool { return graph.IsPlatformFile(p) }

// systemDirs are directories too general to couple their users: two
// programs creating files in /tmp share nothing but a naming scheme.
var systemDirs = map[string]bool{"/": true, ".": true, "/tmp": true, "/var/tmp": true, "/etc": true, "/var": true,
	"/run": true, "/var/run": true, "/dev": true, "/dev/shm": true, "/usr": true, "/opt": true, "/srv": true,
	"/home": true, "/root": true, "/var/lib": true, "/var/log": true}

// entryRole says what an operation on a file does to its directory's
// entries: producers create (or rename into place), consumers remove.
// Other operations leave the directory's entries alone.
func entryRole(op string) string {
	switch op {
	case "create", "rename", "link", "mkfifo", "mkdir":
		return "create"
	case "remove":
		return "remove"
	}
	return ""
}

// endpointID identifies a network endpoint: "host:port" for a literal
// address, "local:port" for local and wildcard hosts (which all meet on
// loopback), or the value's symbol when a setting names it.
func endpointID(v Value) (string, bool) {
	if s, ok := v.Literal(); ok {
		host, port := splitHostPort(s)
		if port == "" || port == "0" {
			return "", false
		}
		if isLocalHost(host) {
			return "local:" + port, true
		}
		return host + ":" + port, true
	}
	sym := v.symbol()
	if !strings.Contains(sym, "{") {
		return "", false
	}
	if i := portColon(sym); i >= 0 && !strings.Contains(sym[:i], "{") && isLocalHost(strings.Trim(sym[:i], "[]")) {
		return "local:" + sym[i+1:], true
	}
	return sym, true
}

// portColon returns the index of the last colon outside {holes} and
// [brackets]: the one before the port. -1 if none.
func portColon(s string) int {
	at, depth := -1, 0
	for i, r := range s {
		switch r {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		case ':':
			if depth == 0 {
				at = i
			}
		}
	}
	return at
}

// splitHostPort splits "host:port" ("[v6]:port", ":port"); it returns
// empty strings for text that is not an address.
func splitHostPort(s string) (host, port string) {
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		return "", ""
	}
	return h, p
}

// isLocalHost reports whether a host names this machine: loopback, the
// wildcard addresses a listener binds, or nothing.
func isLocalHost(h string) bool {
	if h == "" || h == "localhost" || h == "0.0.0.0" || h == "::" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// couple turns the claims on one resource identity into a coupling when
// two binaries or more make them, typed by what they do: a FIFO when one
// makes it, shared memory when several map it, a written file when one
// writes, shared config when all only read; a spool directory when one
// creates entries and another consumes them; a socket when one listens and
// another dials or sends.
func couple(id string, cs []claim) (Coupling, bool) {
	prefix, resource, _ := strings.Cut(id, ":")
	byRole := map[string]map[string]bool{}
	var binaries, sites []string
	flags := map[string]bool{}
	var config []string
	for _, c := range cs {
		for _, cv := range c.value.Settings {
			config = append(config, cv.String())
		}
		if byRole[c.role] == nil {
			byRole[c.role] = map[string]bool{}
		}
		byRole[c.role][c.site.Binary] = true
		binaries = append(binaries, c.site.Binary)
		sites = append(sites, c.site.Binary+" "+c.site.Pos)
		for _, f := range c.value.Flags {
			flags[f] = true
		}
	}
	binaries = uniqSorted(binaries)
	if len(binaries) < 2 {
		return Coupling{}, false
	}
	kind, from, ok := coupleKind(prefix, cs, byRole)
	if !ok {
		return Coupling{}, false
	}
	why := basis(prefix, resource, flags)
	if config = uniqSorted(config); len(config) > 0 {
		why += "; values given by " + strings.Join(config, ", ")
	}
	return Coupling{Kind: kind, Resource: label(prefix, resource, cs), Binaries: binaries, From: from,
		Basis: why, Sites: uniqSorted(sites)}, true
}

// label names a network coupling's resource as its clients wrote it
// ("localhost:7070") when one of them did so literally, else as a
// configuration text gave it (127.0.0.1:{port}), else by its identity,
// with local hosts written as localhost.
func label(prefix, resource string, cs []claim) string {
	if prefix != "tcp" && prefix != "udp" {
		return resource
	}
	var literal, config []string
	for _, c := range cs {
		if c.role != "dial" && c.role != "send" {
			continue
		}
		if s, ok := c.value.Literal(); ok {
			literal = append(literal, s)
		} else if len(c.value.Settings) > 0 {
			config = append(config, c.value.String())
		}
	}
	for _, l := range [][]string{literal, config} {
		if len(l) > 0 {
			sort.Strings(l)
			return l[0]
		}
	}
	if rest, ok := strings.CutPrefix(resource, "local:"); ok {
		return "localhost:" + rest
	}
	return resource
}

// coupleKind decides the kind of a coupling and its writing side.
func coupleKind(prefix string, cs []claim, byRole map[string]map[string]bool) (graph.Kind, []string, bool) {
	roles := func(names ...string) []string {
		var out []string
		for _, n := range names {
			for b := range byRole[n] {
				out = append(out, b)
			}
		}
		return uniqSorted(out)
	}
	switch prefix {
	case "dir":
		producers, consumers := roles("create"), roles("remove", "list", "read")
		if len(producers) == 0 || len(without(consumers, producers)) == 0 {
			return "", nil, false
		}
		return graph.KindDir, producers, true
	case "unix", "tcp", "udp":
		servers, clients := roles("listen"), roles("dial", "send")
		if len(servers) == 0 || len(without(clients, servers)) == 0 {
			return "", nil, false
		}
		return graph.Kind(prefix), clients, true
	}
	writers := roles("write", "create", "append", "readwrite", "mkfifo", "rename", "remove", "link")
	fifo, maps := false, map[string]bool{}
	for _, c := range cs {
		fifo = fifo || c.site.Kind == kindFIFO
		if c.site.Op == "mmap" || c.site.Kind == kindShm {
			maps[c.site.Binary] = true
		}
	}
	switch {
	case fifo:
		return graph.KindFIFO, writers, true
	case len(maps) >= 2:
		return graph.KindShm, writers, true
	case len(writers) > 0:
		return graph.KindFile, writers, true
	}
	return graph.KindConfig, nil, true
}

// basis says why the sites are taken to name the same resource.
func basis(prefix, resource string, flags map[string]bool) string {
	if strings.Contains(resource, "{") {
		return "same setting " + strings.Join(holeKeys(resource), ", ")
	}
	what := "same path"
	if prefix == "tcp" || prefix == "udp" {
		what = "same address"
	}
	if len(flags) == 0 {
		return what
	}
	var names []string
	for f := range flags {
		names = append(names, "-"+f)
	}
	sort.Strings(names)
	return what + " (defaults of " + strings.Join(names, ", ") + ")"
}

// holeKeys returns the {keys} of a resource identity, in order.
func holeKeys(id string) []string {
	var out []string
	for {
		i := strings.IndexByte(id, '{')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(id[i:], '}')
		if j < 0 {
			return append(out, id[i+1:])
		}
		out = append(out, id[i+1:i+j])
		id = id[i+j+1:]
	}
}

// signalCouplings pairs binaries that send a signal with binaries that
// wait for it (signal.Notify), leaving out termination signals.
func signalCouplings(sites []Site) []Coupling {
	senders, waiters := map[string]map[string][]string{}, map[string]map[string][]string{}
	for i := range sites {
		s := &sites[i]
		if s.Kind != kindSignal {
			continue
		}
		into := map[string]map[string]map[string][]string{"kill": senders, "notify": waiters}[s.Op]
		if into == nil {
			continue
		}
		for _, r := range s.Resources {
			if r.Dynamic || terminationSignals[r.Value] {
				continue
			}
			if into[r.Value] == nil {
				into[r.Value] = map[string][]string{}
			}
			into[r.Value][s.Binary] = append(into[r.Value][s.Binary], s.Binary+" "+s.Pos)
		}
	}
	var out []Coupling
	for sig, from := range senders {
		to := waiters[sig]
		var bins, fromBins, sitesOf []string
		for b, ss := range from {
			bins, fromBins, sitesOf = append(bins, b), append(fromBins, b), append(sitesOf, ss...)
		}
		others := 0
		for b, ss := range to {
			if from[b] == nil {
				others++
			}
			bins, sitesOf = append(bins, b), append(sitesOf, ss...)
		}
		if others == 0 {
			continue
		}
		out = append(out, Coupling{Kind: graph.KindSignal, Resource: sig, Binaries: uniqSorted(bins), From: uniqSorted(fromBins),
			Basis: "sends " + sig + " / waits for it with signal.Notify", Sites: uniqSorted(sitesOf)})
	}
	return out
}

// without returns the elements of all not in drop.
func without(all, drop []string) []string {
	var out []string
	for _, a := range all {
		if !slices.Contains(drop, a) {
			out = append(out, a)
		}
	}
	return out
}
