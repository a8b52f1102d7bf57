package ebpf

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Sentinel errors of the start-up checks. Callers match them with errors.Is
// to explain to the user what is missing and what to do.
var (
	// ErrPrivileges: the process lacks CAP_BPF+CAP_PERFMON (or CAP_SYS_ADMIN).
	ErrPrivileges = errors.New("recording needs root, or the capabilities CAP_BPF and CAP_PERFMON")
	// ErrNoBTF: the kernel exposes no BTF at /sys/kernel/btf/vmlinux.
	ErrNoBTF = errors.New("the kernel has no BTF (/sys/kernel/btf/vmlinux is missing; a kernel built with CONFIG_DEBUG_INFO_BTF=y is needed)")
	// ErrNoTracefs: tracefs is not mounted and could not be mounted.
	ErrNoTracefs = errors.New("tracefs is not mounted at /sys/kernel/tracing and mounting it failed (try: mount -t tracefs tracefs /sys/kernel/tracing)")
	// ErrNotSupported: the kernel refused every hook the recorder needs.
	ErrNotSupported = errors.New("the kernel refused the recorder's eBPF programs")
)

// Capability numbers from linux/capability.h (not all in x/sys/unix).
const (
	capSysAdmin = 21
	capPerfmon  = 38
	capBPF      = 39
)

// BTFPath is where the kernel publishes its own BTF.
const BTFPath = "/sys/kernel/btf/vmlinux"

// tracefsDirs are the places cilium/ebpf looks for tracefs, in its order.
var tracefsDirs = []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}

// CheckPrivileges returns ErrPrivileges, wrapped with the missing
// capabilities, when the process cannot load tracing programs.
func CheckPrivileges() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("read capabilities: %w", err)
	}
	has := func(c uint) bool { return data[c/32].Effective&(1<<(c%32)) != 0 }
	if has(capSysAdmin) || (has(capBPF) && has(capPerfmon)) {
		return nil
	}
	var missing []string
	if !has(capBPF) {
		missing = append(missing, "CAP_BPF")
	}
	if !has(capPerfmon) {
		missing = append(missing, "CAP_PERFMON")
	}
	return fmt.Errorf("%w; this process lacks %s", ErrPrivileges, strings.Join(missing, " and "))
}

// CheckBTF returns ErrNoBTF when the kernel's BTF is unavailable.
func CheckBTF() error {
	if _, err := os.Stat(BTFPath); err != nil {
		return fmt.Errorf("%w: %v", ErrNoBTF, err)
	}
	return nil
}

// EnsureTracefs makes tracefs available, mounting it at /sys/kernel/tracing
// when it is not mounted anywhere. mounted reports whether it did so; the
// mount is left in place (other tracers may rely on it meanwhile).
func EnsureTracefs() (mounted bool, err error) {
	for _, d := range tracefsDirs {
		if _, err := os.Stat(d + "/events"); err == nil {
			return false, nil
		}
	}
	if err := unix.Mount("tracefs", tracefsDirs[0], "tracefs", 0, ""); err != nil {
		return false, fmt.Errorf("%w: %v", ErrNoTracefs, err)
	}
	return true, nil
}
