package images

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/trace"
)

// inventory collects the classified files of one image.
type inventory struct {
	b       *builder
	entries map[string]*Entry
	kinds   map[string]trace.ResourceKind
	gaps    []string
	data    []string // data directories of its components
}

func newInventory(b *builder) *inventory {
	return &inventory{b: b, entries: map[string]*Entry{}, kinds: map[string]trace.ResourceKind{}}
}

// add records a path; the first classification of a path wins.
func (inv *inventory) add(p string, c Class, why string, observed bool) {
	if e := inv.entries[p]; e != nil {
		return
	}
	inv.entries[p] = &Entry{Path: p, Class: c, Why: why, Observed: observed}
}

func (inv *inventory) gap(format string, args ...any) {
	inv.gaps = append(inv.gaps, fmt.Sprintf(format, args...))
}

// shells are the interpreters whose scripts are closed by the programs
// they were seen running; others import modules lazily.
var shells = regexp.MustCompile(`^(sh|dash|bash|ash|ksh|mksh|busybox)$`)

// component adds what the recording saw one component use.
func (inv *inventory) component(c *graph.Component, pod graph.Pod) {
	refs, lost := inv.b.ix.members(c)
	if lost > 0 {
		inv.gap("%d of %d processes of %s are in none of the traces given: pass the traces the plan was made from", lost, len(c.Members), c.Name)
	}
	progs := programs(c.Name, refs)
	for _, p := range sortedKeys(progs) {
		inv.add(p, Executable, progs[p], true)
	}
	if len(progs) == 0 {
		inv.gap("%s: no executable path was recorded", c.Name)
	}
	if c.Script != "" {
		inv.script(c)
	}
	f := facts{dataDirs: c.DataDirs, config: configOf(c, pod)}
	for _, o := range observations(c.Name, refs) {
		cls, why := classify(o, f, inv.b.fs)
		inv.add(o.Path, cls, o.evidence()+": "+why, true)
		inv.kinds[o.Path] = o.Kind
	}
	for _, p := range sortedKeys(f.config) {
		inv.add(p, Config, "configuration of "+c.Name+" the plan names (read before the recording began, or named on its command line): a ConfigMap, not baked in", false)
	}
	inv.data = append(inv.data, c.DataDirs...)
	inv.dlopenGaps(c, refs)
}

// configOf lists the config files the plan gives a component.
func configOf(c *graph.Component, pod graph.Pod) map[string]bool {
	out := map[string]bool{}
	for _, f := range c.ConfigFiles {
		out[f] = true
	}
	for _, cm := range pod.ConfigMaps {
		for _, n := range cm.Components {
			if n == c.Name {
				for _, f := range cm.Files {
					out[f] = true
				}
			}
		}
	}
	return out
}

// script adds a component's script and the interpreter its #! line names.
func (inv *inventory) script(c *graph.Component) {
	inv.add(c.Script, Script, "the script "+c.Name+" runs", true)
	if base := path.Base(c.Exe); !shells.MatchString(base) {
		inv.gap("%s is a %s script: modules it imports lazily may not have been seen; record a full run or use a Debian base with the interpreter's packages", c.Name, base)
	}
	head, err := inv.b.fs.head(c.Script, 256)
	if err != nil || !bytes.HasPrefix(head, []byte("#!")) {
		return
	}
	line, _, _ := bytes.Cut(head[2:], []byte("\n"))
	if fields := strings.Fields(string(line)); len(fields) > 0 && path.IsAbs(fields[0]) {
		inv.add(fields[0], Executable, "the interpreter the #! line of "+c.Script+" names", false)
	}
}

// dlopenGaps flags dynamic programs that were already running when the
// recording began and can load libraries with dlopen: what they loaded
// before was not seen.
func (inv *inventory) dlopenGaps(c *graph.Component, refs []procRef) {
	done := map[string]bool{}
	for _, r := range refs {
		exe := r.p.Exe
		// In command mode the recorder holds its command at a gate until
		// it is traced: that snapshot process was seen from its start.
		gated := r.td.t.Meta.Mode == "command" && r.p.ParentID == 0
		if !r.p.Snapshot || gated || done[exe] || !path.IsAbs(exe) {
			continue
		}
		done[exe] = true
		if f, err := inv.b.libs.elf(exe); err == nil && f != nil && f.dynamic() && f.Dlopen {
			inv.gap("%s (%s) was running before the recording began and can load libraries with dlopen: those it loaded earlier are not in the trace; record it from its start (decompose record -o FILE -- COMMAND) to close the set", c.Name, exe)
		}
	}
}

// wrapperCommands are the programs the manifests' wrapper scripts run
// (report/k8s: mkfifo for FIFOs, sleep for jobs); kill, trap and wait are
// shell builtins.
var wrapperCommands = map[string]*regexp.Regexp{
	"mkfifo": regexp.MustCompile(`(^|\|\| )mkfifo -m `),
	"sleep":  regexp.MustCompile(`(?m)^\s*sleep [0-9]+ & wait`),
}

// wrapper adds the shell and programs the manifests' wrapper script needs.
func (inv *inventory) wrapper(ctr *corev1.Container) {
	if len(ctr.Command) != 3 || ctr.Command[1] != "-c" || !path.IsAbs(ctr.Command[0]) {
		return
	}
	why := "the manifests run " + ctr.Name + " through a shell wrapper"
	inv.add(ctr.Command[0], Executable, why, false)
	for _, name := range sortedKeys(wrapperCommands) {
		for _, line := range strings.Split(ctr.Command[2], "\n") {
			if !wrapperCommands[name].MatchString(line) {
				continue
			}
			if p := inv.b.lookPath(name); p != "" {
				inv.add(p, Executable, why+" that runs "+name, false)
			} else {
				inv.gap("the manifests' wrapper of %s runs %s, which is not on this host", ctr.Name, name)
			}
			break
		}
	}
}

// close adds the dynamic loaders and shared libraries the baked programs
// and libraries need, and the names the loader finds libraries by.
func (inv *inventory) close() {
	var roots []string
	for _, p := range sortedKeys(inv.entries) {
		if c := inv.entries[p].Class; c == Executable || c == Library {
			roots = append(roots, p)
		}
	}
	deps, missing := inv.b.libs.closure(roots)
	for _, d := range deps {
		inv.add(d.Path, Library, d.Why, false)
	}
	for _, m := range missing {
		inv.gap("%s", m)
	}
	for _, p := range sortedKeys(inv.entries) {
		if inv.entries[p].Class != Library {
			continue
		}
		for _, a := range inv.b.libs.aliases(p) {
			inv.add(a, Library, "the name ld.so.cache gives "+path.Base(p)+" (the loader and dlopen ask for it)", false)
		}
	}
}

// result returns the sorted entries (but those folded into run-time
// directories), the run-time directories and the root filesystem tree,
// noting baked files that are not on this host.
func (inv *inventory) result(pod graph.Pod, ctr *corev1.Container) ([]Entry, []Dir, []string) {
	tree := map[string]bool{}
	dirs, folded := inv.dirs(pod, ctr)
	var entries []Entry
	for _, p := range sortedKeys(inv.entries) {
		e := inv.entries[p]
		if e.Class.Baked() {
			inv.bake(e, tree)
		}
		if !folded[p] {
			entries = append(entries, *e)
		}
	}
	return entries, dirs, sortedKeys(tree)
}

// bake adds what the root filesystem needs for e, and e's final file.
func (inv *inventory) bake(e *Entry, tree map[string]bool) {
	paths, final, err := inv.b.fs.expand(e.Path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			inv.gap("%s (%s) is not on this host: %v", e.Path, e.Class, err)
		} else {
			inv.gap("%s (%s): %v", e.Path, e.Class, err)
		}
		return
	}
	for _, p := range paths {
		tree[p] = true
	}
	e.Final = final
	if fi, err := inv.b.fs.lstat(final); err == nil && fi.Mode().IsRegular() {
		e.Size = fi.Size()
	}
}

// dirs folds data, scratch and log paths into the directories the
// platform mounts: the container's volume holding them, the component's
// data directory, else their own directory.
func (inv *inventory) dirs(pod graph.Pod, ctr *corev1.Container) ([]Dir, map[string]bool) {
	byPath := map[string]*Dir{}
	folded := map[string]bool{}
	put := func(dir string, c Class, why, file string) {
		d := byPath[dir]
		if d == nil {
			d = &Dir{Path: dir, Class: c, Why: why}
			byPath[dir] = d
		}
		if file != "" {
			if d.Count++; len(d.Files) < 5 {
				d.Files = append(d.Files, path.Base(file))
			}
		}
	}
	for _, dd := range inv.data {
		put(dd, Data, "data directory: a PersistentVolumeClaim, never baked in", "")
	}
	put("/tmp", Scratch, "temporary files: every image gets an empty /tmp", "")
	for _, p := range sortedKeys(inv.entries) {
		e := inv.entries[p]
		if (e.Class != Data && e.Class != Scratch && e.Class != Log) || under(p, "/dev") || under(p, "/proc") || under(p, "/sys") {
			continue
		}
		dir, file := path.Dir(p), p
		if inv.kinds[p] == trace.KindDir {
			dir, file = p, ""
		}
		dir, why := inv.mountOf(dir, e.Class, pod, ctr)
		put(dir, e.Class, why, file)
		folded[p] = true
	}
	out := make([]Dir, 0, len(byPath))
	for _, k := range sortedKeys(byPath) {
		out = append(out, *byPath[k])
	}
	return out, folded
}

// mountOf returns the directory that holds dir at run time, and why: the
// deepest volume the manifests mount in this container, the component's
// data directory, else dir itself.
func (inv *inventory) mountOf(dir string, c Class, pod graph.Pod, ctr *corev1.Container) (string, string) {
	best, why := "", ""
	for _, m := range ctr.VolumeMounts {
		if m.ReadOnly || !under(dir, m.MountPath) || len(m.MountPath) <= len(best) {
			continue
		}
		best, why = m.MountPath, "the manifests mount the volume "+m.Name+" here"
		for _, v := range pod.Volumes {
			if v.Path == m.MountPath {
				why = "the manifests mount the " + v.Kind + " " + m.Name + " here (" + v.Why + ")"
			}
		}
	}
	for _, d := range inv.data {
		if under(dir, d) && len(d) >= len(best) {
			best, why = d, "data directory: a PersistentVolumeClaim, never baked in"
		}
	}
	if best != "" {
		return best, why
	}
	switch c {
	case Data:
		return dir, "written and kept: give it a volume; created empty in the image"
	case Log:
		return dir, "logs: an emptyDir (or a volume to keep them); created empty in the image"
	}
	return dir, "runtime state: an emptyDir; created empty in the image"
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
