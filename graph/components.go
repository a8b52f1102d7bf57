package graph

import (
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/decompose-dev/decompose/trace"
)

// proc is one traced process, tied to its trace and, once grouped, to its
// component.
type proc struct {
	host   string
	p      *trace.Process
	parent *proc
	comp   *component
	// done/joined memoise joinsParent during grouping.
	done, joined bool
	// serves is set when the process listened or accepted connections:
	// it lives on and serves others, so it is never folded into its parent.
	serves bool
}

// component is the engine's working form of a Component.
type component struct {
	key    string // exe or script path: what makes two roots the same component
	name   string
	exe    string
	script string
	procs  []*proc
	users  map[string]bool
	// filled by the coupling and plan steps
	listens  map[string]bool
	exposed  bool
	stateful bool
	dataDirs map[string]bool
	configs  map[string]bool
	backing  bool
	coupled  bool
}

// interpreters run scripts; a process of one is named by its script.
var interpreters = regexp.MustCompile(`^(sh|bash|dash|ash|ksh|mksh|zsh|python[0-9.]*|perl[0-9.]*|ruby[0-9.]*|node|nodejs|php[0-9.]*|lua[0-9.]*|tclsh[0-9.]*|java)$`)

// multiCall binaries run the program named by argv[0].
var multiCall = map[string]bool{"busybox": true, "toybox": true}

// plainName matches an argv[0] that names a program.
var plainName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)

// shortLived is how long a child may live and still count as work its
// parent does (a check plugin, a CGI script, mv run by a cron job), in ns.
const shortLived = int64(60e9)

// identity returns the key and display name of the program a process runs:
// the script for interpreters (python3 /opt/app/sync.py is sync.py), the
// applet for multi-call binaries (busybox's cat is cat), else the
// executable.
func identity(p *trace.Process) (key, name, script string) {
	exe := p.Exe
	if exe == "" {
		exe = p.Comm
	}
	base := path.Base(exe)
	// Multi-call binaries (busybox's cat) and programs started through a
	// symlink (Debian's redis-server is redis-check-rdb) are named by
	// argv[0], when it is a plain program name ("nginx: worker process" and
	// "postgres: checkpointer" are titles, not names).
	if len(p.Argv) > 0 && p.Argv[0] != "" {
		// A rewritten title keeps the program first ("/usr/bin/redis-server
		// *:6379"); "nginx: worker process" names no program.
		first := strings.Fields(p.Argv[0] + " ")[0]
		if a0 := path.Base(first); a0 != base && !strings.Contains(first, ":") && plainName.MatchString(a0) && (multiCall[base] || !interpreters.MatchString(base)) {
			base = a0
			exe = exe + ":" + base
		}
	}
	if interpreters.MatchString(base) {
		if s := scriptArg(p.Argv); s != "" {
			return s, path.Base(s), s
		}
	}
	if exe == "" {
		return "pid " + strconv.Itoa(int(p.PID)), "pid-" + strconv.Itoa(int(p.PID)), ""
	}
	return exe, base, ""
}

// scriptArg finds the script an interpreter runs: the first operand, or
// the argument of -m (python modules) or -jar (java). "sh -c CMD" runs no
// script file.
func scriptArg(argv []string) string {
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		switch {
		case a == "-c" || a == "-e" || a == "-E" || a == "-r":
			return ""
		case a == "-m" || a == "-jar":
			if i+1 < len(argv) {
				return argv[i+1]
			}
			return ""
		case a == "--":
			continue
		case strings.HasPrefix(a, "-"):
			continue
		case strings.HasPrefix(a, "/dev/fd/") || strings.HasPrefix(a, "/proc/self/fd/"):
			return "" // a script fed through a pipe or process substitution
		default:
			return a
		}
	}
	return ""
}

// joinsParent reports whether x belongs to its parent's component: forked
// workers run the same program; short-lived children do their parent's work
// (mv run by a cron job, psql run by a script) unless they are scripts of
// their own (cron jobs), serve others (a daemon started and stopped during
// the recording), or outlived their parent (a daemon that double-forked).
func joinsParent(x *proc) bool {
	if x.parent == nil {
		return false
	}
	key, _, script := identity(x.p)
	pkey, _, _ := identity(x.parent.p)
	if key == pkey {
		return true
	}
	if script != "" || x.p.Snapshot || x.p.ExitNS == 0 || x.serves {
		return false
	}
	if pe := x.parent.p.ExitNS; pe != 0 && pe < x.p.ExitNS {
		return false
	}
	return x.p.ExitNS-x.p.StartNS < shortLived
}

func sameProgram(a, b *proc) bool {
	ka, _, _ := identity(a.p)
	kb, _, _ := identity(b.p)
	return ka == kb
}

// groupComponents assigns every process to a component and returns the
// components sorted by name. Names are unique: when two different programs
// share a base name, the later ones (by key) get a "-2", "-3" suffix.
func groupComponents(procs []*proc) []*component {
	// A daemon that forks and lets its launcher exit (redis --daemonize)
	// serves through the child: the launcher, running the same program,
	// serves too and must not fold into whoever started it.
	for _, x := range procs {
		for y := x; y.serves && y.parent != nil && !y.parent.serves && sameProgram(y, y.parent); y = y.parent {
			y.parent.serves = true
		}
	}
	byKey := map[string]*component{}
	var rootOf func(x *proc) *proc
	rootOf = func(x *proc) *proc {
		// Iterate rather than recurse: process trees can be deep.
		for {
			if !x.done {
				x.joined, x.done = joinsParent(x), true
			}
			if !x.joined {
				return x
			}
			x = x.parent
		}
	}
	for _, x := range procs {
		root := rootOf(x)
		key, name, script := identity(root.p)
		c := byKey[key]
		if c == nil {
			exe := root.p.Exe
			c = &component{key: key, name: name, exe: exe, script: script, users: map[string]bool{},
				listens: map[string]bool{}, dataDirs: map[string]bool{}, configs: map[string]bool{}}
			byKey[key] = c
		}
		c.procs = append(c.procs, x)
		x.comp = c
	}
	comps := make([]*component, 0, len(byKey))
	for _, c := range byKey {
		comps = append(comps, c)
	}
	sort.Slice(comps, func(i, j int) bool {
		if comps[i].name != comps[j].name {
			return comps[i].name < comps[j].name
		}
		return comps[i].key < comps[j].key
	})
	seen := map[string]int{}
	for _, c := range comps {
		seen[c.name]++
		if n := seen[c.name]; n > 1 {
			c.name += "-" + strconv.Itoa(n)
		}
	}
	return comps
}

// isRecorder recognises decompose's own recording processes.
func isRecorder(p *trace.Process) bool {
	if path.Base(p.Exe) != "decompose" && p.Comm != "decompose" {
		return false
	}
	for _, a := range p.Argv {
		if a == "record" {
			return true
		}
	}
	return false
}
