package graph

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"

	"github.com/decompose-dev/decompose/trace"
)

// Options tune the engine. The zero value is usable.
type Options struct {
	// Ignore leaves out components whose name matches (nil: none).
	Ignore *regexp.Regexp
	// Resolution, when above 0, lets Louvain community detection group
	// components that are free to live apart (network clients and servers)
	// by their traffic: higher values give more, smaller pods; 1 is classic
	// modularity. 0 (the default) groups none: each gets its own pod behind
	// a Service, as product.md's table proposes. Modularity merges strongly
	// linked pairs in large graphs at any fixed resolution, so grouping is
	// something the user asks for, not the default.
	Resolution float64
	// Seed seeds community detection; the same seed gives the same plan.
	Seed uint64
}

// engine holds the working state of one analysis.
type engine struct {
	opts      Options
	hosts     []string
	procs     []*proc
	comps     []*component
	resources []*sharedResource
	signals   []signalUse
	excluded  Excluded
	blind     []BlindSpot
	users     map[string]map[uint32]string // host -> uid -> name
	// served and external list, per component, the endpoints it served to
	// others or reached outside the traced set; remote notes non-loopback
	// endpoints between traced components.
	served   map[*component][]string
	external map[*component][]string
	remote   map[string]bool
	// groupWhy holds, per first component of each must-co-locate group,
	// the couplings that merged it.
	groupWhy map[*component][]string
}

// signalUse is a signal between two traced processes.
type signalUse struct {
	sender, target *proc
	sig            trace.Signal
}

// Analyze produces the decomposition plan for traces of one application,
// one trace per host. Connections seen from both ends on two hosts are
// joined by their endpoints.
func Analyze(traces []*trace.Trace, opts Options) (*Plan, error) {
	if len(traces) == 0 {
		return nil, errors.New("analyze: no trace given")
	}
	if opts.Resolution < 0 {
		return nil, fmt.Errorf("analyze: resolution %v is negative: pass 0 (no grouping) or a value above 0", opts.Resolution)
	}
	e := &engine{opts: opts, users: map[string]map[uint32]string{}, served: map[*component][]string{},
		external: map[*component][]string{}, remote: map[string]bool{}}
	e.load(traces)
	e.comps = groupComponents(e.procs)
	couplings := e.deriveCouplings()
	couplings = e.dropIgnored(couplings)
	included := e.markCoupled(couplings)
	for _, c := range included {
		e.classifyComponent(c)
	}
	byName := e.byName()
	for i := range couplings {
		e.classify(&couplings[i])
		if couplings[i].Kind == KindConfig { // shared: not any one component's own
			for _, n := range couplings[i].Components {
				delete(byName[n].configs, couplings[i].Resource)
			}
		}
	}
	pods := e.cluster(included, couplings)
	return e.plan(included, pods, couplings), nil
}

// load indexes the processes, resources and signals of every trace.
func (e *engine) load(traces []*trace.Trace) {
	connections := map[connKey]*sharedResource{}
	seenHost := map[string]int{}
	for _, t := range traces {
		host := t.Host.Hostname
		if host == "" {
			host = "host"
		}
		seenHost[host]++
		if n := seenHost[host]; n > 1 {
			host += "#" + strconv.Itoa(n)
		}
		e.hosts = append(e.hosts, host)
		names := map[uint32]string{}
		for _, u := range t.Users {
			names[u.UID] = u.Name
		}
		e.users[host] = names
		for _, b := range t.BlindSpots {
			e.blind = append(e.blind, BlindSpot{What: b.What, Count: b.Count, Host: host, Detail: b.Detail})
		}
		if !t.Meta.Finalized {
			e.blind = append(e.blind, BlindSpot{What: "trace not finalized: the recorder stopped without closing it; data ends at its last commit", Count: 1, Host: host})
		}
		procs := make(map[trace.ProcessID]*proc, len(t.Processes))
		for i := range t.Processes {
			p := &t.Processes[i]
			if isRecorder(p) {
				e.excluded.Recorder++
				continue
			}
			x := &proc{host: host, p: p}
			procs[p.ID] = x
			e.procs = append(e.procs, x)
		}
		for _, x := range procs {
			x.parent = procs[x.p.ParentID]
		}
		resourceOf := e.loadResources(t, host, connections)
		for i := range t.Accesses {
			a := &t.Accesses[i]
			x, sr := procs[a.Process], resourceOf(a.Resource)
			if x == nil || sr == nil {
				continue
			}
			sr.uses = append(sr.uses, use{proc: x, a: a})
			x.serves = x.serves || a.Listens > 0 || a.Accepts > 0
		}
		unknownTargets := int64(0)
		for _, s := range t.Signals {
			from, to := procs[s.Sender], procs[s.Target]
			if from == nil || to == nil {
				unknownTargets += s.Count
				continue
			}
			e.signals = append(e.signals, signalUse{sender: from, target: to, sig: s})
		}
		if unknownTargets > 0 {
			e.blind = append(e.blind, BlindSpot{What: "signals whose sender or target was not traced", Count: unknownTargets, Host: host})
		}
	}
	sort.SliceStable(e.procs, func(i, j int) bool {
		a, b := e.procs[i], e.procs[j]
		if a.host != b.host {
			return a.host < b.host
		}
		return a.p.ID < b.p.ID
	})
}

// connKey identifies a TCP/UDP connection across traces: the same
// connection recorded on both hosts has the same endpoints.
type connKey struct {
	kind     trace.ResourceKind
	src, dst string
}

// loadResources adds the resources of t to e.resources, in ID order, with
// connections joined across traces at their first sight, and returns the
// lookup from resource ID to shared resource. Traces read by trace.Open are
// sorted by ID, so the lookup is a binary search, or an index when the IDs
// run without gaps (the recorder numbers resources one after another);
// hand-built unsorted traces get a map.
func (e *engine) loadResources(t *trace.Trace, host string, connections map[connKey]*sharedResource) func(trace.ResourceID) *sharedResource {
	srs := make([]*sharedResource, len(t.Resources))
	for i := range t.Resources {
		r := &t.Resources[i]
		if (r.Kind == trace.KindTCP || r.Kind == trace.KindUDP) && !r.Listen {
			k := connKey{r.Kind, r.Src, r.Dst}
			if sr := connections[k]; sr != nil {
				srs[i] = sr
				continue
			}
			srs[i] = &sharedResource{kind: r.Kind, res: r, host: host}
			connections[k] = srs[i]
		} else {
			srs[i] = &sharedResource{kind: r.Kind, res: r, host: host}
		}
		e.resources = append(e.resources, srs[i])
	}
	if len(t.Resources) > 0 && dense(t.Resources) {
		first := t.Resources[0].ID
		return func(id trace.ResourceID) *sharedResource {
			if i := id - first; i >= 0 && i < trace.ResourceID(len(srs)) {
				return srs[i]
			}
			return nil
		}
	}
	sorted := slices.IsSortedFunc(t.Resources, func(a, b trace.Resource) int { return cmp.Compare(a.ID, b.ID) })
	if sorted {
		return func(id trace.ResourceID) *sharedResource {
			i, ok := slices.BinarySearchFunc(t.Resources, id, func(r trace.Resource, id trace.ResourceID) int { return cmp.Compare(r.ID, id) })
			if !ok {
				return nil
			}
			return srs[i]
		}
	}
	byID := make(map[trace.ResourceID]*sharedResource, len(srs))
	for i, r := range t.Resources {
		byID[r.ID] = srs[i]
	}
	return func(id trace.ResourceID) *sharedResource { return byID[id] }
}

// dense reports whether the IDs of rs are consecutive and ascending, the
// first at index 0.
func dense(rs []trace.Resource) bool {
	for i := range rs {
		if rs[i].ID != rs[0].ID+trace.ResourceID(i) {
			return false
		}
	}
	return true
}

// dropIgnored removes components matching --ignore from every coupling and
// drops couplings left with fewer than two components.
func (e *engine) dropIgnored(in []Coupling) []Coupling {
	if e.opts.Ignore == nil {
		return in
	}
	ignored := map[string]bool{}
	for _, c := range e.comps {
		if e.opts.Ignore.MatchString(c.name) {
			ignored[c.name] = true
			e.excluded.Ignored = append(e.excluded.Ignored, c.name)
		}
	}
	keep := func(n string) bool { return !ignored[n] }
	byName := e.byName()
	out := in[:0]
	for _, c := range in {
		if (c.Kind == KindTCP || c.Kind == KindUDP) && len(c.From) > 0 && len(keepStrings(c.From, keep)) == 0 {
			// Every client is ignored (a load generator, an admin tool):
			// to the rest of the application they come from outside.
			for _, server := range without(c.Components, c.From) {
				if keep(server) {
					byName[server].exposed = true
				}
			}
		}
		c.Components = keepStrings(c.Components, keep)
		if len(c.Components) < 2 {
			continue
		}
		c.From = keepStrings(c.From, keep)
		var eps []Endpoint
		for _, ep := range c.Evidence.Processes {
			if keep(ep.Component) {
				eps = append(eps, ep)
			}
		}
		c.Evidence.Processes = eps
		out = append(out, c)
	}
	return out
}

func keepStrings(in []string, keep func(string) bool) []string {
	var out []string
	for _, s := range in {
		if keep(s) {
			out = append(out, s)
		}
	}
	return out
}

// markCoupled returns the components that take part in a coupling or
// serve clients from outside; the others share nothing and are left out.
func (e *engine) markCoupled(couplings []Coupling) []*component {
	byName := e.byName()
	for _, c := range couplings {
		for _, n := range c.Components {
			byName[n].coupled = true
		}
	}
	var out []*component
	for _, c := range e.comps {
		switch {
		case e.opts.Ignore != nil && e.opts.Ignore.MatchString(c.name):
		case c.coupled || c.exposed:
			out = append(out, c)
		default:
			e.excluded.ShareNothing = append(e.excluded.ShareNothing, c.name)
		}
	}
	return out
}

func (e *engine) byName() map[string]*component {
	m := make(map[string]*component, len(e.comps))
	for _, c := range e.comps {
		m[c.name] = c
	}
	return m
}
