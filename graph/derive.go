package graph

import (
	"fmt"
	"strings"

	"github.com/decompose-dev/decompose/trace"
)

// deriveCouplings turns every shared resource and signal into couplings,
// and notes on the components what they listen on, whether clients come
// from outside, and which data they keep.
func (e *engine) deriveCouplings() []Coupling {
	b := newBuilder()
	for _, r := range e.resources {
		switch r.kind {
		case trace.KindFile:
			e.fileCouplings(b, r)
		case trace.KindDir:
			e.dirCoupling(b, r)
		case trace.KindPipe, trace.KindFIFO:
			streamCoupling(b, r)
		case trace.KindUnix:
			unixCoupling(b, r)
		case trace.KindTCP, trace.KindUDP:
			e.netCoupling(b, r)
		case trace.KindSysVShm:
			if maps := filter(r.sides(), func(s *side) bool { return s.SharedMaps > 0 }); len(maps) >= 2 {
				b.add(KindShm, r.res.Name(), "", maps, comps(filter(maps, (*side).wrote)), sumBytes(maps), sumMaps(maps))
			}
		}
	}
	e.signalCouplings(b)
	out := b.couplings()
	for i := range out {
		if out[i].Kind == KindSignal {
			for j, ep := range out[i].Evidence.Processes {
				out[i].Evidence.Processes[j].Role = "receives"
				for _, f := range out[i].From {
					if f == ep.Component {
						out[i].Evidence.Processes[j].Role = "sends"
					}
				}
			}
		}
	}
	return out
}

func (s *side) wrote() bool { return s.Access.Wrote() }

// didIO reports whether the component read or wrote through the resource.
func (s *side) didIO() bool {
	return s.Reads > 0 || s.Writes > 0 || s.ReadBytes > 0 || s.WriteBytes > 0
}

func filter(sides []*side, keep func(*side) bool) []*side {
	var out []*side
	for _, s := range sides {
		if keep(s) {
			out = append(out, s)
		}
	}
	return out
}

func comps(sides []*side) []*component {
	out := make([]*component, len(sides))
	for i, s := range sides {
		out[i] = s.comp
	}
	return out
}

func sumBytes(sides []*side) (n int64) {
	for _, s := range sides {
		n += s.bytes()
	}
	return n
}

func sumMaps(sides []*side) (n int64) {
	for _, s := range sides {
		n += s.SharedMaps
	}
	return n
}

func sumIO(sides []*side) (n int64) {
	for _, s := range sides {
		n += s.Reads + s.Writes + s.Opens + s.OpensWrite
	}
	return n
}

// fileCouplings classifies a file shared by several components: shared
// memory when at least two map it shared, a spool entry (folded into its
// directory) when it was created, renamed or removed, a written file when
// one side writes, else shared read-only configuration. It also records
// persistent data written by a single component.
func (e *engine) fileCouplings(b *builder, r *sharedResource) {
	p := r.res.Path
	if isPlatformFile(p) {
		e.excluded.PlatformFiles += len(r.uses)
		return
	}
	sides := r.sides()
	writers := filter(sides, (*side).wrote)
	transient := len(filter(sides, func(s *side) bool { return s.Creates+s.Removes+s.Renames > 0 })) > 0
	if !transient && !isLog(p) && !isEphemeral(p) {
		for _, w := range writers {
			if w.WriteBytes > 0 || w.Writes > 0 {
				w.comp.dataDirs[parentDir(p)] = true
			}
		}
	}
	// Memory is shared when two components map the file shared and one of
	// them can write it; a file that all only read through a mapping is
	// just read.
	if maps := filter(sides, func(s *side) bool { return s.SharedMaps > 0 }); len(maps) >= 2 {
		if writers := filter(maps, (*side).wrote); len(writers) > 0 {
			b.add(KindShm, p, "", maps, comps(writers), sumBytes(maps), sumMaps(maps))
			return
		}
	}
	if len(sides) < 2 {
		if len(sides) == 1 && len(writers) == 0 && !transient && isConfigFile(p) {
			sides[0].comp.configs[p] = true
		}
		return
	}
	switch {
	case transient && len(writers) > 0:
		creators := filter(sides, func(s *side) bool { return s.Creates > 0 || s.WriteBytes > 0 })
		b.add(KindDir, parentDir(p), p, sides, comps(creators), sumBytes(sides), 1)
	case len(writers) > 0:
		b.add(KindFile, p, "", sides, comps(writers), sumBytes(sides), sumIO(sides))
	default:
		b.add(KindConfig, p, "", sides, nil, sumBytes(sides), sumIO(sides))
	}
}

// dirCoupling finds a directory whose entries one component creates and
// another consumes (lists, renames or removes without creating any).
func (e *engine) dirCoupling(b *builder, r *sharedResource) {
	if isPlatformFile(r.res.Path) {
		e.excluded.PlatformFiles += len(r.uses)
		return
	}
	sides := r.sides()
	producers := filter(sides, func(s *side) bool { return s.Creates > 0 })
	consumers := filter(sides, func(s *side) bool {
		return s.Creates == 0 && (s.Removes > 0 || s.Renames > 0 || s.Reads > 0)
	})
	if len(producers) == 0 || len(consumers) == 0 {
		return
	}
	var ops int64
	for _, s := range sides {
		ops += s.Creates + s.Removes + s.Renames
	}
	b.add(KindDir, r.res.Path, "", append(producers, consumers...), comps(producers), 0, ops)
}

// streamCoupling links the writers and readers of a pipe or FIFO. All
// anonymous pipes between the same components fold into one coupling.
func streamCoupling(b *builder, r *sharedResource) {
	// Holding an inherited end without using it (a daemon that kept its
	// parent's stdin) couples nothing: only readers and writers count.
	sides := filter(r.sides(), (*side).didIO)
	kind, label := KindFIFO, r.res.Path
	if r.kind == trace.KindPipe {
		kind, label = KindPipe, "pipe"
	}
	writers := filter(sides, func(s *side) bool { return s.Writes > 0 || s.WriteBytes > 0 })
	b.add(kind, label, r.res.Name(), sides, comps(writers), sumWritten(sides), sumIO(sides))
}

func sumWritten(sides []*side) (n int64) {
	for _, s := range sides {
		n += s.WriteBytes
	}
	return n
}

// unixCoupling links the clients of a unix socket to its server.
func unixCoupling(b *builder, r *sharedResource) {
	sides := filter(r.sides(), func(s *side) bool { return s.didIO() || s.Connects > 0 || s.Accepts > 0 })
	clients := filter(sides, func(s *side) bool { return s.Connects > 0 })
	for _, s := range r.sides() {
		if s.Listens > 0 && r.res.Path != "" {
			s.comp.listens["unix:"+r.res.Path] = true
		}
	}
	label := r.res.Path
	if label == "" {
		label = "socketpair"
	}
	b.add(KindUnix, label, r.res.Name(), sides, comps(clients), sumWritten(sides), sumIO(sides))
}

// netCoupling handles TCP and UDP: listeners become a component's listens;
// a connection between two traced components is a coupling labelled by the
// server endpoint; a connection from an untraced client marks the server's
// listener as exposed.
func (e *engine) netCoupling(b *builder, r *sharedResource) {
	sides := r.sides()
	kind := Kind(r.kind)
	if r.res.Listen {
		for _, s := range sides {
			s.comp.listens[string(r.kind)+":"+r.res.Dst] = true
		}
		return
	}
	isClient := func(s *side) bool { return s.Connects > 0 }
	if kind == KindUDP {
		isClient = func(s *side) bool { return s.Connects > 0 || (s.WriteBytes > 0 && s.ReadBytes == 0) }
	}
	clients := filter(sides, isClient)
	servers := filter(sides, func(s *side) bool { return !isClient(s) })
	for _, s := range servers {
		e.served[s.comp] = append(e.served[s.comp], string(r.kind)+":"+r.res.Dst)
		if len(clients) == 0 {
			s.comp.exposed = true
		}
	}
	if len(servers) == 0 {
		for _, s := range clients {
			e.external[s.comp] = append(e.external[s.comp], string(r.kind)+":"+r.res.Dst)
		}
		return
	}
	bytes := max(sumBytes(clients), sumBytes(servers))
	b.add(kind, r.res.Dst, r.res.Client()+"->"+r.res.Dst, sides, comps(clients), bytes, 1)
	if !isLoopback(r.res.Dst) && !e.sameHostOnly(sides) {
		e.remote[r.res.Dst] = true
	}
}

// sameHostOnly reports whether every process on the connection is on one host.
func (e *engine) sameHostOnly(sides []*side) bool {
	host := ""
	for _, s := range sides {
		for _, u := range s.procs {
			if host == "" {
				host = u.proc.host
			} else if u.proc.host != host {
				return false
			}
		}
	}
	return true
}

// signalCouplings links senders and targets of signals.
func (e *engine) signalCouplings(b *builder) {
	for _, s := range e.signals {
		if s.sender.comp == s.target.comp {
			continue
		}
		a := &trace.Access{FirstNS: s.sig.FirstNS, LastNS: s.sig.LastNS}
		from := &side{comp: s.sender.comp, procs: []use{{s.sender, a}}}
		to := &side{comp: s.target.comp, procs: []use{{s.target, a}}}
		b.add(KindSignal, signalName(s.sig.Signo), "", []*side{from, to}, []*component{s.sender.comp}, 0, s.sig.Count)
	}
}

var signalNames = []string{1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS",
	8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM",
	16: "SIGSTKFLT", 17: "SIGCHLD", 18: "SIGCONT", 19: "SIGSTOP", 20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGURG",
	24: "SIGXCPU", 25: "SIGXFSZ", 26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGIO", 30: "SIGPWR", 31: "SIGSYS"}

// signalName returns the conventional name of a Linux signal number.
func signalName(n int32) string {
	if n > 0 && int(n) < len(signalNames) {
		return signalNames[n]
	}
	return fmt.Sprintf("SIG%d", n)
}

// describe writes the one-line "why" of a coupling from its evidence.
func describe(c *Coupling) string {
	from := strings.Join(c.From, ", ")
	others := strings.Join(without(c.Components, c.From), ", ")
	if from == "" {
		from, others = strings.Join(c.Components, ", "), ""
	}
	switch c.Kind {
	case KindConfig:
		return fmt.Sprintf("%s read %s and nobody writes it", strings.Join(c.Components, ", "), c.Resource)
	case KindFile:
		if others == "" {
			return fmt.Sprintf("%s write %s", strings.Join(c.From, " and "), c.Resource)
		}
		return fmt.Sprintf("%s writes %s, which %s reads", from, c.Resource, others)
	case KindDir:
		return fmt.Sprintf("%s creates entries in %s that %s picks up", from, c.Resource, others)
	case KindPipe:
		return fmt.Sprintf("%s writes into an anonymous pipe that %s reads", from, others)
	case KindFIFO:
		return fmt.Sprintf("%s writes into the FIFO %s that %s reads", from, c.Resource, others)
	case KindUnix:
		return fmt.Sprintf("%s connects to %s's unix socket %s", from, others, c.Resource)
	case KindTCP:
		return fmt.Sprintf("%s connects to %s at %s", from, others, c.Resource)
	case KindUDP:
		return fmt.Sprintf("%s sends datagrams to %s at %s", from, others, c.Resource)
	case KindShm:
		return fmt.Sprintf("%s share memory through %s", strings.Join(c.Components, " and "), c.Resource)
	case KindSignal:
		return fmt.Sprintf("%s sends %s to %s", from, c.Resource, others)
	}
	return ""
}

// without returns the elements of all not in drop.
func without(all, drop []string) []string {
	var out []string
	for _, a := range all {
		found := false
		for _, d := range drop {
			found = found || a == d
		}
		if !found {
			out = append(out, a)
		}
	}
	return out
}
