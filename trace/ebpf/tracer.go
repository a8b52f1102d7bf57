package ebpf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/features"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"
)

// Filter says which processes the kernel side records.
type Filter int

const (
	// FilterNone records every process but the recorder itself.
	FilterNone Filter = iota
	// FilterPIDs records the processes added with Track and their
	// descendants (the kernel adds children at fork).
	FilterPIDs
	// FilterCgroup records the processes in Config.Cgroup and below it.
	FilterCgroup
)

// Config is what New needs. The zero value traces the whole host.
type Config struct {
	Filter Filter
	// Cgroup is the cgroup v2 directory for FilterCgroup.
	Cgroup string
	// SelfPID is the process to ignore; 0 means os.Getpid().
	SelfPID int
	// IOEntries bounds the per-(process, inode) counter map; 0 means 65536.
	IOEntries uint32
	// RingBytes is the ring buffer size (a power of two); 0 means 4 MiB.
	RingBytes uint32
	// Unrolled loads the programs built for older kernels: without the
	// bpf_loop helper (before 5.17) or the bpf_rdonly_cast kfunc (before
	// 6.2), which New otherwise picks only on such kernels.
	Unrolled bool
	// NoVoidCast loads the fast programs as on kernels before 6.15, whose
	// bpf_rdonly_cast cannot cast to void: probe reads instead of direct
	// loads of fd table slots. New otherwise falls back to it by itself.
	NoVoidCast bool
	// Listeners are the TCP listeners that predate the recording. New
	// writes them before it attaches the programs, which lets the hot path
	// tell a server end from a client end without a hash lookup; later ones
	// go through NoteListener.
	Listeners []Listener
	// HooksOnly attaches every hook but makes the read/write, copy and
	// open/connect/accept/listen/mmap programs return at once, counting
	// nothing: for benchmarks that measure what the hooks alone cost.
	HooksOnly bool
}

// Listener is a TCP port listened on in the network namespace with inode
// number NetNS.
type Listener struct {
	NetNS uint32
	Port  uint16
}

// Hook is one attached (or refused) kernel hook.
type Hook struct {
	Name string // e.g. "tracepoint/syscalls/sys_exit_read"
	Err  error  // nil when attached
}

// Tracer owns the loaded programs, their links and maps. It is safe for one
// goroutine to read events while another drains counters.
type Tracer struct {
	cfg      Config
	spec     *ebpf.CollectionSpec
	objs     []*ebpf.Collection
	maps     *ebpf.Collection
	progs    map[string]*ebpf.Program
	links    []link.Link
	hooks    []Hook
	rd       *ringbuf.Reader
	cgroupFD *os.File
	// MountedTracefs is true when New mounted tracefs itself.
	MountedTracefs bool
	// Unrolled is true when the kernel lacks bpf_loop or bpf_rdonly_cast
	// and the programs for older kernels were loaded.
	Unrolled bool

	mu     sync.Mutex
	closed bool

	// keyBuf and valBuf are Counters' buffers, sigKeys and sigVals
	// SignalCounters'; rec and dec ReadEvent's.
	keyBuf  []IOKey
	valBuf  []IOVal
	sigKeys []SigKey
	sigVals []SigVal
	rec     ringbuf.Record
	dec     decoder
}

// hookOf maps a program name to where it attaches. Programs not listed here
// are iterators, run on demand by Snapshot.
func hookOf(spec *ebpf.ProgramSpec) (kind, group, name string) {
	sec := spec.SectionName
	switch {
	case strings.HasPrefix(sec, "tracepoint/"):
		parts := strings.SplitN(strings.TrimPrefix(sec, "tracepoint/"), "/", 2)
		return "tracepoint", parts[0], parts[1]
	case strings.HasPrefix(sec, "tp_btf/"):
		return "tp_btf", "", strings.TrimPrefix(sec, "tp_btf/")
	}
	return "iter", "", strings.TrimPrefix(sec, "iter/")
}

// New checks privileges, BTF and tracefs, loads the programs and attaches
// every hook it can. A hook the kernel refuses is reported by Hooks (and
// counted as a blind spot by the caller); New fails only when the process
// lineage hooks cannot be attached, since nothing else makes sense then.
func New(cfg Config) (*Tracer, error) {
	if err := CheckPrivileges(); err != nil {
		return nil, err
	}
	if err := CheckBTF(); err != nil {
		return nil, err
	}
	mounted, err := EnsureTracefs()
	if err != nil {
		return nil, err
	}
	if cfg.SelfPID == 0 {
		cfg.SelfPID = os.Getpid()
	}
	_ = rlimit.RemoveMemlock() // not needed on >= 5.11 and may be refused
	t := &Tracer{cfg: cfg, progs: map[string]*ebpf.Program{}, MountedTracefs: mounted}
	if err := t.load(); err != nil {
		t.Close()
		return nil, err
	}
	for _, l := range cfg.Listeners {
		// best effort: a full map only costs aggregation
		t.noteListener(l.NetNS, l.Port, false)
	}
	if err := t.attach(); err != nil {
		t.Close()
		return nil, err
	}
	rd, err := ringbuf.NewReader(t.maps.Maps["events"])
	if err != nil {
		t.Close()
		return nil, fmt.Errorf("open ring buffer reader: %w", err)
	}
	t.rd = rd
	return t, nil
}

// load creates the maps once, then loads the programs: all at once when
// the kernel takes them, else each on its own so that a program the
// verifier refuses costs only its hook. On kernels with bpf_loop and
// bpf_rdonly_cast (6.2) it loads the fast object, first with direct loads
// through void casts (6.15), then, if the kernel refuses those, with
// probe reads in their place; older kernels get the unrolled object.
func (t *Tracer) load() error {
	load := loadDecompose
	if t.cfg.Unrolled || features.HaveProgramHelper(ebpf.TracePoint, asm.FnLoop) != nil || !haveKfunc("bpf_rdonly_cast") {
		load, t.Unrolled = loadDecomposeUnrolled, true
	}
	spec, err := load()
	if err != nil {
		return fmt.Errorf("load embedded BPF object: %w", err)
	}
	t.spec = spec
	settings := map[string]any{"self_tgid": uint32(t.cfg.SelfPID), "filter_mode": uint32(t.cfg.Filter)}
	settings["ephemeral_lo"], settings["ephemeral_hi"] = ephemeralPorts()
	if t.cfg.HooksOnly {
		settings["hooks_only"] = uint32(1)
	}
	for name, v := range settings {
		if err := spec.Variables[name].Set(v); err != nil {
			return fmt.Errorf("set %s: %w", name, err)
		}
	}
	if t.cfg.IOEntries > 0 {
		spec.Maps["io"].MaxEntries = t.cfg.IOEntries
	}
	if t.cfg.RingBytes > 0 {
		spec.Maps["events"].MaxEntries = t.cfg.RingBytes
	}
	voidCast := []uint32{0}
	if !t.Unrolled && !t.cfg.NoVoidCast {
		voidCast = []uint32{1, 0}
	}
	for i, vc := range voidCast {
		try := spec.Copy()
		if vc != 0 {
			if err := try.Variables["void_cast"].Set(vc); err != nil {
				return fmt.Errorf("set void_cast: %w", err)
			}
		}
		if err := bakeVariables(try); err != nil {
			return err
		}
		// fresh maps for each try: .rodata holds the settings the
		// verifier reads, so it cannot be shared between tries
		if err := t.createMaps(try); err != nil {
			return err
		}
		if err := t.loadAll(try); err == nil {
			return nil
		}
		if i == len(voidCast)-1 {
			t.loadEach(try)
			return nil
		}
		t.closeMaps()
	}
	return nil
}

// createMaps creates the maps of spec, shared by every program loaded.
func (t *Tracer) createMaps(spec *ebpf.CollectionSpec) error {
	mapSpec := spec.Copy()
	mapSpec.Programs = nil
	maps, err := ebpf.NewCollection(mapSpec)
	if err != nil {
		return fmt.Errorf("create BPF maps: %w", err)
	}
	t.maps = maps
	if t.cfg.Filter == FilterCgroup {
		return t.setCgroup()
	}
	return nil
}

// closeMaps closes what createMaps made.
func (t *Tracer) closeMaps() {
	if t.maps != nil {
		t.maps.Close()
		t.maps = nil
	}
	if t.cgroupFD != nil {
		t.cgroupFD.Close()
		t.cgroupFD = nil
	}
}

// loadAll loads every program of spec at once.
func (t *Tracer) loadAll(spec *ebpf.CollectionSpec) error {
	all, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{MapReplacements: t.maps.Maps})
	if err != nil {
		return err
	}
	t.objs = append(t.objs, all)
	for name, p := range all.Programs {
		t.progs[name] = p
	}
	return nil
}

// loadEach loads the programs of spec one by one, recording each refusal
// as a refused hook.
func (t *Tracer) loadEach(spec *ebpf.CollectionSpec) {
	names := make([]string, 0, len(spec.Programs))
	for name := range spec.Programs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		one := spec.Copy()
		one.Programs = map[string]*ebpf.ProgramSpec{name: spec.Programs[name]}
		coll, err := ebpf.NewCollectionWithOptions(one, ebpf.CollectionOptions{MapReplacements: t.maps.Maps})
		if err != nil {
			kind, group, hook := hookOf(spec.Programs[name])
			t.hooks = append(t.hooks, Hook{Name: hookName(kind, group, hook), Err: fmt.Errorf("load program %s: %w", name, err)})
			continue
		}
		t.objs = append(t.objs, coll)
		t.progs[name] = coll.Programs[name]
	}
}

func (t *Tracer) setCgroup() error {
	f, err := os.Open(t.cfg.Cgroup)
	if err != nil {
		return fmt.Errorf("open cgroup %s: %w", t.cfg.Cgroup, err)
	}
	t.cgroupFD = f
	if err := t.maps.Maps["cgroup_filter"].Put(uint32(0), uint32(f.Fd())); err != nil {
		return fmt.Errorf("set cgroup filter %s: %w", t.cfg.Cgroup, err)
	}
	return nil
}

func hookName(kind, group, name string) string {
	if group != "" {
		return kind + "/" + group + "/" + name
	}
	return kind + "/" + name
}

// required are the hooks without which a recording is meaningless.
var required = []string{"on_fork", "on_exec", "on_exit"}

func (t *Tracer) attach() error {
	names := make([]string, 0, len(t.progs))
	for name := range t.progs {
		names = append(names, name)
	}
	sort.Strings(names)
	attached := map[string]bool{}
	for _, name := range names {
		p := t.progs[name]
		kind, group, hook := hookOf(t.spec.Programs[name])
		var l link.Link
		var err error
		switch kind {
		case "tracepoint":
			l, err = link.Tracepoint(group, hook, p, nil)
		case "tp_btf":
			l, err = link.AttachTracing(link.TracingOptions{Program: p})
		default:
			continue
		}
		t.hooks = append(t.hooks, Hook{Name: hookName(kind, group, hook), Err: err})
		if err != nil {
			continue
		}
		t.links = append(t.links, l)
		attached[name] = true
	}
	for _, name := range required {
		if !attached[name] {
			return fmt.Errorf("%w: process lineage hook %s: %v", ErrNotSupported, name, t.hookErr(name))
		}
	}
	return nil
}

func (t *Tracer) hookErr(name string) error {
	kind, group, hook := hookOf(t.spec.Programs[name])
	for _, h := range t.hooks {
		if h.Name == hookName(kind, group, hook) && h.Err != nil {
			return h.Err
		}
	}
	return errors.New("not loaded")
}

// Hooks lists every hook with the error that refused it, if any, by name.
func (t *Tracer) Hooks() []Hook {
	out := append([]Hook(nil), t.hooks...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Track adds a process to the traced set (FilterPIDs).
func (t *Tracer) Track(pid uint32) error {
	if err := t.maps.Maps["traced"].Put(pid, uint8(1)); err != nil {
		return fmt.Errorf("track pid %d: %w", pid, err)
	}
	return nil
}

// NoteListener tells the programs that port is listened on (TCP) in the
// network namespace with inode netns, for a listener that predates the
// recording but was found after New: it tells the server end of that port's
// connections.
func (t *Tracer) NoteListener(netns uint32, port uint16) error {
	return t.noteListener(netns, port, true)
}

// lpMany is LP_MANY of the BPF side: listen_ports defers to the listeners map.
const lpMany uint64 = 0xffffffffffffffff

// noteListener adds (netns, port) to the listeners map and the listen_ports
// array. While the programs run (attached), the array entry may change
// under us, and user space cannot compare-and-swap: it then writes lpMany,
// which defers to the map and is right whatever the programs wrote.
func (t *Tracer) noteListener(netns uint32, port uint16, attached bool) error {
	k := decomposeListenKey{Netns: netns, Port: port}
	if err := t.maps.Maps["listeners"].Put(&k, uint8(1)); err != nil {
		return fmt.Errorf("note listener on port %d: %w", port, err)
	}
	ports := t.maps.Maps["listen_ports"]
	var cur uint64
	if err := ports.Lookup(uint32(port), &cur); err != nil {
		return fmt.Errorf("note listener on port %d: %w", port, err)
	}
	v := uint64(netns)
	switch {
	case cur == v:
		return nil
	case attached || cur != 0:
		v = lpMany
	}
	if err := ports.Put(uint32(port), v); err != nil {
		return fmt.Errorf("note listener on port %d: %w", port, err)
	}
	return nil
}

// ephemeralPorts reads net.ipv4.ip_local_port_range, or returns Linux's
// default range when it cannot.
func ephemeralPorts() (lo, hi uint16) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		if lo, hi, ok := parsePortRange(string(b)); ok {
			return lo, hi
		}
	}
	return 32768, 60999
}

// parsePortRange parses "LO\tHI\n"; ok is false unless 0 < LO <= HI.
func parsePortRange(s string) (lo, hi uint16, ok bool) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return 0, 0, false
	}
	l, err1 := strconv.ParseUint(f[0], 10, 16)
	h, err2 := strconv.ParseUint(f[1], 10, 16)
	if err1 != nil || err2 != nil || l == 0 || l > h {
		return 0, 0, false
	}
	return uint16(l), uint16(h), true
}

// Detach removes every hook so no new event is produced; maps stay readable
// so the caller can drain what is left. Safe to call more than once.
// The links are closed concurrently: each close waits for an RCU grace
// period (about 0.1 s for a tracepoint), and concurrent waits share one.
func (t *Tracer) Detach() {
	t.mu.Lock()
	defer t.mu.Unlock()
	var wg sync.WaitGroup
	for _, l := range t.links {
		wg.Go(func() { l.Close() })
	}
	wg.Wait()
	t.links = nil
}

// Close detaches, closes the reader, programs and maps. After Close no
// object of this tracer remains in the kernel. Safe to call twice.
func (t *Tracer) Close() error {
	t.Detach()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	if t.rd != nil {
		t.rd.Close()
	}
	for _, c := range t.objs {
		c.Close()
	}
	t.objs = nil
	t.closeMaps()
	return nil
}

// runIter runs one iterator program and returns its whole output.
func (t *Tracer) runIter(name string) ([]byte, error) {
	p := t.progs[name]
	if p == nil {
		return nil, fmt.Errorf("iterator %s: %v", name, t.hookErr(name))
	}
	it, err := link.AttachIter(link.IterOptions{Program: p})
	if err != nil {
		return nil, fmt.Errorf("attach iterator %s: %w", name, err)
	}
	defer it.Close()
	rc, err := it.Open()
	if err != nil {
		return nil, fmt.Errorf("open iterator %s: %w", name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("read iterator %s: %w", name, err)
	}
	return b, nil
}

// Flush makes a blocked ReadEvent return the records already in the ring
// and then ErrFlushed (used at shutdown, after Detach).
func (t *Tracer) Flush() error { return t.rd.Flush() }

// ProgramNames lists the names of the recorder's BPF programs, sorted (the
// kernel shows the first 15 characters of each).
func ProgramNames() ([]string, error) {
	spec, err := loadDecompose()
	if err != nil {
		return nil, fmt.Errorf("load embedded BPF object: %w", err)
	}
	out := make([]string, 0, len(spec.Programs))
	for name := range spec.Programs {
		out = append(out, name)
	}
	sort.Strings(out)
	return out, nil
}

// bakeVariables writes the value of every global variable into its data
// section map and removes the variables from spec. cilium/ebpf memory-maps
// the data sections of a collection's variables and unmaps them only when
// the garbage collector finds them unreachable, which would keep .rodata
// and .bss alive in the kernel long after Close; the recorder sets its
// variables once before load and never reads them back, so it needs no
// mapping.
func bakeVariables(spec *ebpf.CollectionSpec) error {
	for name, v := range spec.Variables {
		ms := spec.Maps[v.SectionName]
		if ms == nil {
			return fmt.Errorf("variable %s: no data section %s", name, v.SectionName)
		}
		if v.Value == nil {
			continue // zero, like a fresh map
		}
		var data []byte
		switch len(ms.Contents) {
		case 0:
			data = make([]byte, ms.ValueSize)
		case 1:
			b, ok := ms.Contents[0].Value.([]byte)
			if !ok {
				return fmt.Errorf("variable %s: data section %s holds %T", name, v.SectionName, ms.Contents[0].Value)
			}
			data = bytes.Clone(b)
		default:
			return fmt.Errorf("variable %s: data section %s has %d entries", name, v.SectionName, len(ms.Contents))
		}
		if int(v.Offset)+len(v.Value) > len(data) {
			return fmt.Errorf("variable %s: does not fit its data section %s", name, v.SectionName)
		}
		copy(data[v.Offset:], v.Value)
		ms.Contents = []ebpf.MapKV{{Key: uint32(0), Value: data}}
	}
	spec.Variables = nil
	return nil
}

// haveKfunc reports whether the running kernel's BTF declares the kfunc
// name. The hot-path programs call bpf_rdonly_cast; a kernel without it
// would refuse every one of them.
func haveKfunc(name string) bool {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return false
	}
	var fn *btf.Func
	return spec.TypeByName(name, &fn) == nil
}
