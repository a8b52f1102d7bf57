package images

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/trace"
)

// procKey identifies a process across traces as the plan names its
// members: by host, pid and start time.
type procKey struct {
	host  string
	pid   int32
	start int64
}

// traceData is one trace, indexed for inventories.
type traceData struct {
	t       *trace.Trace
	res     map[trace.ResourceID]*trace.Resource
	byProc  map[trace.ProcessID][]*trace.Access
	writers map[trace.ResourceID][]trace.ProcessID
	// churn holds the directories whose entries some process created,
	// renamed or removed.
	churn map[string]bool
}

// traceIndex finds the processes of plan components in the traces.
type traceIndex struct {
	procs map[procKey]procRef
}

type procRef struct {
	td *traceData
	p  *trace.Process
}

// newTraceIndex indexes traces, naming hosts as the engine does: the
// trace's hostname ("host" when empty), with "#2", "#3" for repeats.
func newTraceIndex(traces []*trace.Trace) *traceIndex {
	ix := &traceIndex{procs: map[procKey]procRef{}}
	seen := map[string]int{}
	for _, t := range traces {
		host := t.Host.Hostname
		if host == "" {
			host = "host"
		}
		seen[host]++
		if n := seen[host]; n > 1 {
			host += "#" + strconv.Itoa(n)
		}
		td := &traceData{t: t, res: map[trace.ResourceID]*trace.Resource{}, byProc: map[trace.ProcessID][]*trace.Access{},
			writers: map[trace.ResourceID][]trace.ProcessID{}, churn: map[string]bool{}}
		for i := range t.Resources {
			td.res[t.Resources[i].ID] = &t.Resources[i]
		}
		for i := range t.Accesses {
			a := &t.Accesses[i]
			td.byProc[a.Process] = append(td.byProc[a.Process], a)
			if a.Wrote() {
				td.writers[a.Resource] = append(td.writers[a.Resource], a.Process)
			}
			if r := td.res[a.Resource]; r != nil && r.Kind == trace.KindDir && a.Creates+a.Renames+a.Removes > 0 {
				td.churn[path.Clean(r.Path)] = true
			}
		}
		for i := range t.Processes {
			p := &t.Processes[i]
			ix.procs[procKey{host, p.PID, p.StartNS}] = procRef{td: td, p: p}
		}
	}
	return ix
}

// members returns the trace processes of a plan component, and how many
// of its members no trace holds.
func (ix *traceIndex) members(c *graph.Component) (refs []procRef, lost int) {
	for _, m := range c.Members {
		r, ok := ix.procs[procKey{m.Host, m.PID, m.StartNS}]
		if !ok {
			lost++
			continue
		}
		refs = append(refs, r)
	}
	return refs, lost
}

// fileKinds are the resources with a path in the file system.
var fileKinds = map[trace.ResourceKind]bool{trace.KindFile: true, trace.KindDir: true, trace.KindFIFO: true, trace.KindUnix: true}

// observations aggregates, per path, what the processes of one component
// did, in path order.
func observations(comp string, refs []procRef) []observed {
	mine := map[*traceData]map[trace.ProcessID]bool{}
	for _, r := range refs {
		if mine[r.td] == nil {
			mine[r.td] = map[trace.ProcessID]bool{}
		}
		mine[r.td][r.p.ID] = true
	}
	byPath := map[string]*observed{}
	for _, r := range refs {
		for _, a := range r.td.byProc[r.p.ID] {
			res := r.td.res[a.Resource]
			if res == nil || !fileKinds[res.Kind] || !path.IsAbs(res.Path) {
				continue
			}
			o := byPath[res.Path]
			if o == nil {
				o = &observed{Path: path.Clean(res.Path), Kind: res.Kind, Churn: r.td.churn[path.Dir(path.Clean(res.Path))]}
				byPath[res.Path] = o
			}
			o.Opens += a.Opens + a.OpensWrite
			o.Reads += a.Reads
			o.Wrote = o.Wrote || a.Wrote()
			for _, w := range r.td.writers[a.Resource] {
				o.OthersWrote = o.OthersWrote || !mine[r.td][w]
			}
			o.Who = append(o.Who, fmt.Sprintf("%s (pid %d)", comp, r.p.PID))
		}
	}
	out := make([]observed, 0, len(byPath))
	for _, o := range byPath {
		o.Who = uniqueSorted(o.Who)
		out = append(out, *o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// evidence says what the recording saw, in a few words.
func (o observed) evidence() string {
	var did []string
	if o.Opens > 0 {
		did = append(did, fmt.Sprintf("opened %d×", o.Opens))
	}
	if o.Reads > 0 {
		did = append(did, fmt.Sprintf("read %d×", o.Reads))
	}
	if o.Wrote {
		did = append(did, "written")
	}
	if len(did) == 0 {
		did = append(did, "used")
	}
	who := o.Who
	more := ""
	if len(who) > 3 {
		who, more = who[:3], fmt.Sprintf(" and %d more", len(o.Who)-3)
	}
	return strings.Join(did, ", ") + " by " + strings.Join(who, ", ") + more
}

// programs lists the executables the processes of a component ran, and
// the absolute argv[0] they were started as when it differs (/bin/mv for
// /usr/bin/mv: a script names that path).
func programs(comp string, refs []procRef) map[string]string {
	out := map[string]string{}
	for _, r := range refs {
		p := r.p
		if path.IsAbs(p.Exe) && out[p.Exe] == "" {
			out[p.Exe] = fmt.Sprintf("executable of %s (pid %d)", comp, p.PID)
		}
		if len(p.Argv) > 0 && path.IsAbs(p.Argv[0]) && p.Argv[0] != p.Exe && out[p.Argv[0]] == "" {
			out[p.Argv[0]] = fmt.Sprintf("argv[0] of %s (pid %d), the path it was started by", comp, p.PID)
		}
	}
	return out
}

func uniqueSorted(ss []string) []string {
	sort.Strings(ss)
	out := ss[:0]
	for i, s := range ss {
		if i == 0 || s != ss[i-1] {
			out = append(out, s)
		}
	}
	return out
}
