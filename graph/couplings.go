package graph

import (
	"maps"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/decompose-dev/decompose/trace"
)

// use is one process's access to one resource.
type use struct {
	proc *proc
	a    *trace.Access
}

// sharedResource is a resource as the engine sees it: the same object seen
// from several processes and, for TCP/UDP connections, from several hosts.
type sharedResource struct {
	kind trace.ResourceKind
	res  *trace.Resource // the first record of it; Src/Dst/Path are shared
	host string
	uses []use
}

// side aggregates one component's uses of a resource.
type side struct {
	comp *component
	trace.Access
	procs []use
}

func (s *side) add(u use) {
	a := u.a
	s.Opens += a.Opens
	s.OpensWrite += a.OpensWrite
	s.Reads += a.Reads
	s.ReadBytes += a.ReadBytes
	s.Writes += a.Writes
	s.WriteBytes += a.WriteBytes
	s.Creates += a.Creates
	s.Removes += a.Removes
	s.Renames += a.Renames
	s.SharedMaps += a.SharedMaps
	s.Execs += a.Execs
	s.Connects += a.Connects
	s.Accepts += a.Accepts
	s.Listens += a.Listens
	if s.FirstNS == 0 || (a.FirstNS != 0 && a.FirstNS < s.FirstNS) {
		s.FirstNS = a.FirstNS
	}
	if a.LastNS > s.LastNS {
		s.LastNS = a.LastNS
	}
	s.procs = append(s.procs, u)
}

func (s *side) bytes() int64 { return s.ReadBytes + s.WriteBytes }

// onlyExec reports whether the component merely executed the file.
func (s *side) onlyExec() bool {
	return s.Execs > 0 && s.Reads == 0 && s.Writes == 0 && s.OpensWrite == 0 && s.SharedMaps == 0 &&
		s.Creates == 0 && s.Removes == 0 && s.Renames == 0
}

// sides groups the uses of r by component, in component-name order,
// skipping components that only executed it.
func (r *sharedResource) sides() []*side {
	if len(r.uses) == 1 { // the common case: a resource of one process
		s := &side{comp: r.uses[0].proc.comp}
		s.add(r.uses[0])
		if s.onlyExec() {
			return nil
		}
		return []*side{s}
	}
	by := map[*component]*side{}
	for _, u := range r.uses {
		s := by[u.proc.comp]
		if s == nil {
			s = &side{comp: u.proc.comp}
			by[u.proc.comp] = s
		}
		s.add(u)
	}
	out := make([]*side, 0, len(by))
	for _, s := range by {
		if !s.onlyExec() {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].comp.name < out[j].comp.name })
	return out
}

// builder accumulates couplings keyed by kind, resource label and the
// components involved, so that many connections or files fold into one.
type builder struct {
	byKey map[string]*Coupling
	sides map[string][]*side
}

func newBuilder() *builder {
	return &builder{byKey: map[string]*Coupling{}, sides: map[string][]*side{}}
}

// add records evidence for a coupling of kind on resource between the
// components of sides; from names the writing/connecting side.
func (b *builder) add(kind Kind, resource, underlying string, sides []*side, from []*component, bytes, count int64) {
	names := make([]string, 0, len(sides))
	for _, s := range sides {
		names = append(names, s.comp.name)
	}
	sort.Strings(names)
	names = dedupe(names)
	if len(names) < 2 {
		return
	}
	key := string(kind) + "\x00" + resource + "\x00" + strings.Join(names, "\x00")
	c := b.byKey[key]
	if c == nil {
		c = &Coupling{Kind: kind, Resource: resource, Components: names}
		b.byKey[key] = c
	}
	for _, f := range from {
		c.From = append(c.From, f.name)
	}
	sort.Strings(c.From)
	c.From = dedupe(c.From)
	c.Bytes += bytes
	c.Count += count
	if underlying != "" {
		c.Evidence.ResourcesTotal++
		if len(c.Evidence.Resources) < maxEvidenceResources {
			c.Evidence.Resources = append(c.Evidence.Resources, underlying)
		}
	}
	b.sides[key] = append(b.sides[key], sides...)
}

// maxEvidenceResources caps the underlying resources listed per coupling.
const maxEvidenceResources = 8

// foldSpoolFiles folds a file coupling into the directory coupling of its
// parent between the same components: the recorder names a spool entry by
// the path it was first opened with (x.json.tmp, later renamed) and sees the
// create, rename and remove on the directory, so the entries arrive as file
// couplings beside the directory's. One coupling, with the entries as its
// evidence, is what a person means.
func (b *builder) foldSpoolFiles() {
	dirs := map[string][]*Coupling{}
	for _, c := range b.byKey {
		if c.Kind == KindDir {
			dirs[c.Resource] = append(dirs[c.Resource], c)
		}
	}
	// In key order: a directory lists the first entries folded into it,
	// and the same trace must list the same ones.
	for _, key := range slices.Sorted(maps.Keys(b.byKey)) {
		c := b.byKey[key]
		if c.Kind != KindFile {
			continue
		}
		dir := spoolFor(dirs[parentDir(c.Resource)], c.Components)
		if dir == nil {
			continue
		}
		dir.Bytes += c.Bytes
		dir.Count += c.Count
		dir.Evidence.ResourcesTotal++
		if len(dir.Evidence.Resources) < maxEvidenceResources {
			dir.Evidence.Resources = append(dir.Evidence.Resources, c.Resource)
		}
		dirKey := string(KindDir) + "\x00" + dir.Resource + "\x00" + strings.Join(dir.Components, "\x00")
		b.sides[dirKey] = append(b.sides[dirKey], b.sides[key]...)
		delete(b.byKey, key)
		delete(b.sides, key)
	}
}

// spoolFor returns the directory coupling among dirs whose components
// include all of comps, the narrowest first; nil if none.
func spoolFor(dirs []*Coupling, comps []string) *Coupling {
	var best *Coupling
	for _, d := range dirs {
		if containsAll(d.Components, comps) && (best == nil || len(d.Components) < len(best.Components) ||
			(len(d.Components) == len(best.Components) && strings.Join(d.Components, ",") < strings.Join(best.Components, ","))) {
			best = d
		}
	}
	return best
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			return false
		}
	}
	return true
}

// couplings returns the couplings with their evidence, sorted by kind,
// resource and components.
func (b *builder) couplings() []Coupling {
	b.foldSpoolFiles()
	out := make([]Coupling, 0, len(b.byKey))
	for key, c := range b.byKey {
		c.Evidence = fillEvidence(c.Evidence, b.sides[key])
		sort.Strings(c.Evidence.Resources)
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return lessCoupling(&out[i], &out[j]) })
	return out
}

func lessCoupling(a, b *Coupling) bool {
	if a.Kind != b.Kind {
		return a.Kind < b.Kind
	}
	if a.Resource != b.Resource {
		return a.Resource < b.Resource
	}
	return strings.Join(a.Components, ",") < strings.Join(b.Components, ",")
}

// fillEvidence lists the processes on each side, merged per process.
func fillEvidence(e Evidence, sides []*side) Evidence {
	type pkey struct {
		host string
		id   trace.ProcessID
	}
	by := map[pkey]*Endpoint{}
	hosts := map[string]bool{}
	for _, s := range sides {
		for _, u := range s.procs {
			k := pkey{u.proc.host, u.proc.p.ID}
			ep := by[k]
			if ep == nil {
				ep = &Endpoint{Component: s.comp.name, Host: u.proc.host, PID: u.proc.p.PID, Exe: u.proc.p.Exe}
				by[k] = ep
			}
			ep.Reads += u.a.Reads
			ep.ReadBytes += u.a.ReadBytes
			ep.Writes += u.a.Writes
			ep.WriteBytes += u.a.WriteBytes
			ep.Role = mergeRole(ep.Role, role(u.a))
			hosts[u.proc.host] = true
			if e.FirstNS == 0 || (u.a.FirstNS != 0 && u.a.FirstNS < e.FirstNS) {
				e.FirstNS = u.a.FirstNS
			}
			if u.a.LastNS > e.LastNS {
				e.LastNS = u.a.LastNS
			}
		}
	}
	e.Processes = e.Processes[:0]
	for _, ep := range by {
		e.Processes = append(e.Processes, *ep)
	}
	sort.Slice(e.Processes, func(i, j int) bool {
		a, b := e.Processes[i], e.Processes[j]
		if a.Component != b.Component {
			return a.Component < b.Component
		}
		if a.Host != b.Host {
			return a.Host < b.Host
		}
		return a.PID < b.PID
	})
	e.Hosts = sortedKeys(hosts)
	return e
}

// role names what a process did to a resource, most telling first.
func role(a *trace.Access) string {
	var r []string
	add := func(ok bool, s string) {
		if ok {
			r = append(r, s)
		}
	}
	add(a.Listens > 0, "listens")
	add(a.Accepts > 0, "accepts")
	add(a.Connects > 0, "connects")
	add(a.Creates > 0, "creates")
	add(a.Renames > 0, "renames")
	add(a.Removes > 0, "removes")
	add(a.SharedMaps > 0, "maps shared")
	add(a.Writes > 0 || a.WriteBytes > 0, "writes")
	add(a.Reads > 0 || a.ReadBytes > 0 || (a.Opens > 0 && a.OpensWrite == 0), "reads")
	return strings.Join(r, ", ")
}

func mergeRole(a, b string) string {
	if a == "" || a == b {
		return b
	}
	if b == "" {
		return a
	}
	seen := map[string]bool{}
	var out []string
	for _, p := range append(strings.Split(a, ", "), strings.Split(b, ", ")...) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return strings.Join(out, ", ")
}

// isLoopback reports whether an "ip:port" endpoint is on the loopback.
func isLoopback(endpoint string) bool {
	host, _, err := net.SplitHostPort(endpoint)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// endpointPort returns the port of an "ip:port" endpoint, 0 if none.
func endpointPort(endpoint string) int {
	_, p, err := net.SplitHostPort(endpoint)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(p)
	return n
}

func dedupe(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
