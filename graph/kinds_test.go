package graph

import (
	"testing"

	"github.com/decompose-dev/decompose/trace"
)

// tb builds small traces by hand: processes by name, resources by key.
type tb struct {
	t     trace.Trace
	procs map[string]trace.ProcessID
	res   map[string]trace.ResourceID
}

func newTB(host string) *tb {
	return &tb{t: trace.Trace{Host: trace.Host{Hostname: host}, Meta: trace.Meta{Finalized: true}},
		procs: map[string]trace.ProcessID{}, res: map[string]trace.ResourceID{}}
}

// proc adds a long-running process running exe (argv[0] = exe).
func (b *tb) proc(name, exe string, argv ...string) trace.ProcessID {
	id := trace.ProcessID(len(b.t.Processes) + 1)
	b.t.Processes = append(b.t.Processes, trace.Process{ID: id, PID: int32(100 + id), Exe: exe, Argv: append([]string{exe}, argv...), StartNS: 1})
	b.procs[name] = id
	return id
}

// child adds a process forked by parent, exiting after lifeNS (0: running).
func (b *tb) child(name, parent, exe string, lifeNS int64, argv ...string) {
	id := b.proc(name, exe, argv...)
	p := &b.t.Processes[id-1]
	p.ParentID = b.procs[parent]
	p.PPID = b.t.Processes[p.ParentID-1].PID
	p.StartNS = 1e9
	if lifeNS > 0 {
		p.ExitNS = p.StartNS + lifeNS
	}
}

func (b *tb) resource(key string, r trace.Resource) trace.ResourceID {
	if id, ok := b.res[key]; ok {
		return id
	}
	r.ID = trace.ResourceID(len(b.t.Resources) + 1)
	b.t.Resources = append(b.t.Resources, r)
	b.res[key] = r.ID
	return r.ID
}

func (b *tb) access(proc string, res trace.ResourceID, a trace.Access) {
	a.Process, a.Resource = b.procs[proc], res
	b.t.Accesses = append(b.t.Accesses, a)
}

func (b *tb) file(path string) trace.ResourceID {
	return b.resource(path, trace.Resource{Kind: trace.KindFile, Path: path})
}

func analyze(t *testing.T, traces ...*tb) *Plan {
	t.Helper()
	var ts []*trace.Trace
	for _, b := range traces {
		ts = append(ts, &b.t)
	}
	p, err := Analyze(ts, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// only returns the single coupling of p, failing otherwise.
func only(t *testing.T, p *Plan) Coupling {
	t.Helper()
	if len(p.Couplings) != 1 {
		t.Fatalf("want 1 coupling, got %d: %+v", len(p.Couplings), p.Couplings)
	}
	return p.Couplings[0]
}

func samePod(p *Plan, a, b string) bool {
	m := p.podOf()
	return m[a] != "" && m[a] == m[b]
}

func TestCouplingKinds(t *testing.T) {
	read := trace.Access{Opens: 1, Reads: 2, ReadBytes: 100}
	write := trace.Access{OpensWrite: 1, Writes: 3, WriteBytes: 300}
	cases := []struct {
		name     string
		build    func(b *tb)
		kind     Kind
		resource string
		distance Distance
		hidden   bool
		from     []string
	}{
		{"config read by two", func(b *tb) {
			f := b.file("/etc/app/app.conf")
			b.access("a", f, read)
			b.access("b", f, read)
		}, KindConfig, "/etc/app/app.conf", AnyDistance, true, nil},
		{"file written by one read by other", func(b *tb) {
			f := b.file("/var/lib/app/state.json")
			b.access("a", f, write)
			b.access("b", f, read)
		}, KindFile, "/var/lib/app/state.json", SamePod, true, []string{"a"}},
		{"spool dir", func(b *tb) {
			d := b.resource("d", trace.Resource{Kind: trace.KindDir, Path: "/var/spool/app"})
			b.access("a", d, trace.Access{Creates: 5})
			b.access("b", d, trace.Access{Reads: 5, Removes: 5})
		}, KindDir, "/var/spool/app", SamePod, true, []string{"a"}},
		{"spool entries fold into their directory", func(b *tb) {
			for _, n := range []string{"/var/spool/app/1", "/var/spool/app/2"} {
				f := b.file(n)
				b.access("a", f, trace.Access{Creates: 1, OpensWrite: 1, Writes: 1, WriteBytes: 10})
				b.access("b", f, trace.Access{Opens: 1, Reads: 1, ReadBytes: 10, Removes: 1})
			}
		}, KindDir, "/var/spool/app", SamePod, true, []string{"a"}},
		{"anonymous pipe", func(b *tb) {
			pr := b.resource("p", trace.Resource{Kind: trace.KindPipe, Ino: 7})
			b.access("a", pr, trace.Access{Writes: 1, WriteBytes: 10})
			b.access("b", pr, trace.Access{Reads: 1, ReadBytes: 10})
		}, KindPipe, "pipe", SameContainer, true, []string{"a"}},
		{"fifo", func(b *tb) {
			pr := b.resource("p", trace.Resource{Kind: trace.KindFIFO, Path: "/run/app.fifo"})
			b.access("a", pr, trace.Access{Writes: 1, WriteBytes: 10})
			b.access("b", pr, trace.Access{Reads: 1, ReadBytes: 10})
		}, KindFIFO, "/run/app.fifo", SamePod, true, []string{"a"}},
		{"unix socket", func(b *tb) {
			u := b.resource("u", trace.Resource{Kind: trace.KindUnix, Path: "/run/app.sock"})
			b.access("a", u, trace.Access{Connects: 1, Writes: 1, WriteBytes: 10})
			b.access("b", u, trace.Access{Accepts: 1, Listens: 1, Reads: 1, ReadBytes: 10})
		}, KindUnix, "/run/app.sock", SamePod, true, []string{"a"}},
		{"loopback tcp between plain programs", func(b *tb) {
			c := b.resource("c", trace.Resource{Kind: trace.KindTCP, Src: "127.0.0.1:40000", Dst: "127.0.0.1:9000"})
			b.access("a", c, trace.Access{Connects: 1, WriteBytes: 10})
			b.access("b", c, trace.Access{Accepts: 1, ReadBytes: 10})
		}, KindTCP, "127.0.0.1:9000", SamePod, false, []string{"a"}},
		{"loopback udp", func(b *tb) {
			c := b.resource("c", trace.Resource{Kind: trace.KindUDP, Src: "127.0.0.1:40000", Dst: "127.0.0.1:8125"})
			b.access("a", c, trace.Access{Writes: 1, WriteBytes: 10})
			b.access("b", c, trace.Access{Reads: 1, ReadBytes: 10})
		}, KindUDP, "127.0.0.1:8125", SamePod, false, []string{"a"}},
		{"shared memory", func(b *tb) {
			f := b.file("/dev/shm/seg")
			b.access("a", f, trace.Access{OpensWrite: 1, SharedMaps: 1})
			b.access("b", f, trace.Access{Opens: 1, SharedMaps: 1})
		}, KindShm, "/dev/shm/seg", SameContainer, true, []string{"a"}},
		{"a file both only read through shared mappings is config, not shm", func(b *tb) {
			f := b.file("/srv/app/lookup.db")
			b.access("a", f, trace.Access{Opens: 1, SharedMaps: 1})
			b.access("b", f, trace.Access{Opens: 1, SharedMaps: 1})
		}, KindConfig, "/srv/app/lookup.db", AnyDistance, true, nil},
		{"sysv shared memory", func(b *tb) {
			s := b.resource("s", trace.Resource{Kind: trace.KindSysVShm, Key: 0x1234, Ino: 9})
			b.access("a", s, trace.Access{SharedMaps: 1, Writes: 1})
			b.access("b", s, trace.Access{SharedMaps: 1})
		}, KindShm, "sysvshm:key=0x1234", SameContainer, true, []string{"a"}},
		{"signal", func(b *tb) {
			b.t.Signals = append(b.t.Signals, trace.Signal{Sender: b.procs["a"], Target: b.procs["b"], TargetPID: 102, Signo: 1, Count: 4})
		}, KindSignal, "SIGHUP", SamePod, true, []string{"a"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := newTB("h")
			b.proc("a", "/usr/bin/alpha")
			b.proc("b", "/usr/bin/beta")
			c.build(b)
			p := analyze(t, b)
			got := only(t, p)
			if got.Kind != c.kind || got.Resource != c.resource || got.Distance != c.distance || got.Hidden != c.hidden {
				t.Fatalf("got %s %s %s hidden=%v, want %s %s %s hidden=%v", got.Kind, got.Resource, got.Distance, got.Hidden, c.kind, c.resource, c.distance, c.hidden)
			}
			wantFrom := map[string]string{"a": "alpha", "b": "beta"}
			for i, f := range c.from {
				if i >= len(got.From) || got.From[i] != wantFrom[f] {
					t.Fatalf("from = %v, want %v", got.From, c.from)
				}
			}
			if got.Distance.mustColocate() != samePod(p, "alpha", "beta") {
				t.Fatalf("distance %s but same pod = %v", got.Distance, samePod(p, "alpha", "beta"))
			}
			if len(got.Evidence.Processes) != 2 {
				t.Fatalf("evidence lists %d processes, want 2", len(got.Evidence.Processes))
			}
		})
	}
}

func TestNoCouplings(t *testing.T) {
	cases := []struct {
		name  string
		build func(b *tb)
	}{
		{"platform files", func(b *tb) {
			for _, f := range []string{"/etc/ld.so.cache", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/etc/hosts"} {
				r := b.file(f)
				b.access("a", r, trace.Access{Opens: 1, Reads: 1})
				b.access("b", r, trace.Access{Opens: 1, Reads: 1})
			}
		}},
		{"both only execute the same binary", func(b *tb) {
			r := b.file("/opt/app/bin/tool")
			b.access("a", r, trace.Access{Execs: 1})
			b.access("b", r, trace.Access{Execs: 1})
		}},
		{"temp files of their own in /tmp", func(b *tb) {
			d := b.resource("d", trace.Resource{Kind: trace.KindDir, Path: "/tmp"})
			b.access("a", d, trace.Access{Creates: 1, Removes: 1})
			b.access("b", d, trace.Access{Creates: 1, Removes: 1})
		}},
		{"listing the same directory", func(b *tb) {
			d := b.resource("d", trace.Resource{Kind: trace.KindDir, Path: "/etc/app"})
			b.access("a", d, trace.Access{Reads: 1})
			b.access("b", d, trace.Access{Reads: 1})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := newTB("h")
			b.proc("a", "/usr/bin/alpha")
			b.proc("b", "/usr/bin/beta")
			c.build(b)
			p := analyze(t, b)
			if len(p.Couplings) != 0 {
				t.Fatalf("want no coupling, got %+v", p.Couplings)
			}
			if len(p.Excluded.ShareNothing) != 2 {
				t.Fatalf("share-nothing = %v, want both components", p.Excluded.ShareNothing)
			}
		})
	}
}

func traceOf(bs ...*tb) []*trace.Trace {
	var ts []*trace.Trace
	for _, b := range bs {
		ts = append(ts, &b.t)
	}
	return ts
}
