// Package ebpftest lets tests prove that a recorder leaves no BPF program,
// map or link behind. The host is shared (runc and other tests load their
// own objects at the same time), so counting all objects, or all objects
// with decompose's names, before and after would be wrong: instead the
// objects a process holds are read from /proc/PID/fdinfo while it runs, and
// exactly those are checked after it has gone.
package ebpftest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	bpf "github.com/decompose-dev/decompose/trace/ebpf"
)

// Objects are kernel BPF object IDs.
type Objects struct {
	Progs []uint32
	Maps  []uint32
	Links []uint32
}

// Len is the number of objects.
func (o Objects) Len() int { return len(o.Progs) + len(o.Maps) + len(o.Links) }

func (o Objects) String() string {
	return fmt.Sprintf("programs %v, maps %v, links %v", o.Progs, o.Maps, o.Links)
}

// Held returns the BPF objects that process pid holds through its file
// descriptors (a link also holds its program).
func Held(pid int) (Objects, error) {
	dir := fmt.Sprintf("/proc/%d/fdinfo", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return Objects{}, fmt.Errorf("list bpf objects of %d: %w", pid, err)
	}
	seen := map[string]map[uint32]bool{"prog_id": {}, "map_id": {}, "link_id": {}}
	for _, e := range ents {
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if ids, known := seen[k]; ok && known {
				if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32); err == nil {
					ids[uint32(n)] = true
				}
			}
		}
		f.Close()
	}
	return Objects{Progs: sorted(seen["prog_id"]), Maps: sorted(seen["map_id"]), Links: sorted(seen["link_id"])}, nil
}

func sorted(m map[uint32]bool) []uint32 {
	out := make([]uint32, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Alive returns the objects of o that still exist in the kernel. Object
// IDs are allocated cyclically, so an ID is not soon given to a new object.
func Alive(o Objects) Objects {
	var out Objects
	for _, id := range o.Progs {
		if p, err := ebpf.NewProgramFromID(ebpf.ProgramID(id)); err == nil {
			p.Close()
			out.Progs = append(out.Progs, id)
		} else if !errors.Is(err, os.ErrNotExist) {
			out.Progs = append(out.Progs, id)
		}
	}
	for _, id := range o.Maps {
		if m, err := ebpf.NewMapFromID(ebpf.MapID(id)); err == nil {
			m.Close()
			out.Maps = append(out.Maps, id)
		} else if !errors.Is(err, os.ErrNotExist) {
			out.Maps = append(out.Maps, id)
		}
	}
	for _, id := range o.Links {
		if l, err := link.NewFromID(link.ID(id)); err == nil {
			l.Close()
			out.Links = append(out.Links, id)
		} else if !errors.Is(err, os.ErrNotExist) {
			out.Links = append(out.Links, id)
		}
	}
	return out
}

// WaitGone waits up to d for every object of o to disappear and returns
// those still there. The kernel frees tracing programs after an RCU grace
// period, not at the close of the last descriptor.
func WaitGone(o Objects, d time.Duration) Objects {
	deadline := time.Now().Add(d)
	for {
		left := Alive(o)
		if left.Len() == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Orphans lists the loaded programs named like decompose's that no process
// holds, directly or through a link: leaked ones (pinned, or held by a
// kernel object that outlived the recorder). Programs of recorders that
// still run elsewhere on the host are held, so they are not listed.
func Orphans() ([]string, error) {
	names, err := bpf.ProgramNames()
	if err != nil {
		return nil, err
	}
	ours := map[string]bool{}
	for _, n := range names {
		if len(n) > 15 { // the kernel keeps 15 characters
			n = n[:15]
		}
		ours[n] = true
	}
	// Programs first, holders second: a program loaded in between is not
	// listed, and one released in between is gone by the next call.
	candidates := map[uint32]string{}
	var id ebpf.ProgramID
	for {
		next, err := ebpf.ProgramGetNextID(id)
		if err != nil {
			break
		}
		id = next
		p, err := ebpf.NewProgramFromID(next)
		if err != nil {
			continue
		}
		info, err := p.Info()
		p.Close()
		if err == nil && ours[info.Name] {
			candidates[uint32(next)] = info.Name
		}
	}
	held := map[uint32]bool{}
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		o, err := Held(pid)
		if err != nil {
			continue
		}
		for _, id := range o.Progs {
			held[id] = true
		}
	}
	var out []string
	for id, name := range candidates {
		if !held[id] {
			out = append(out, fmt.Sprintf("%s(%d)", name, id))
		}
	}
	sort.Strings(out)
	return out, nil
}

// WaitNoOrphans waits up to d for Orphans to be empty and returns what is
// left.
func WaitNoOrphans(d time.Duration) ([]string, error) {
	deadline := time.Now().Add(d)
	for {
		left, err := Orphans()
		if err != nil || len(left) == 0 || time.Now().After(deadline) {
			return left, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
