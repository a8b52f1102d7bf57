package ebpf

import (
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
)

// ourPrograms lists the loaded BPF programs that belong to decompose, by
// name: the host is shared with other tools (runc loads its own programs),
// so a global count would be wrong.
func ourPrograms(t *testing.T) []string {
	t.Helper()
	spec, err := loadDecompose()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for name := range spec.Programs {
		if len(name) > 15 {
			name = name[:15]
		}
		names[name] = true
	}
	var out []string
	var id ebpf.ProgramID
	for {
		next, err := ebpf.ProgramGetNextID(id)
		if err != nil {
			return out
		}
		id = next
		p, err := ebpf.NewProgramFromID(next)
		if err != nil {
			continue
		}
		info, err := p.Info()
		p.Close()
		if err == nil && names[strings.TrimSpace(info.Name)] {
			out = append(out, info.Name)
		}
	}
}

// waitNoPrograms waits for the kernel to free decompose's programs: links of
// tp_btf programs are released after an RCU grace period, not at close.
func waitNoPrograms(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := ourPrograms(t)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("programs left behind: %v", left)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
