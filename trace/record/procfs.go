package record

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// procRoot is /proc; a variable so that tests of the parsers can point
// elsewhere.
var procRoot = "/proc"

// userHZ is the unit of /proc/PID/stat times (USER_HZ is 100 on Linux).
const userHZ = 100

// procStat is what the recorder needs from /proc/PID/stat.
type procStat struct {
	PPID      uint32
	StartTick uint64 // since boot, in 1/userHZ s
	Comm      string
}

// parseStat parses the content of /proc/PID/stat. The comm field may hold
// spaces and parentheses, so fields are counted from the last ')'.
func parseStat(b []byte) (procStat, error) {
	var st procStat
	open := bytes.IndexByte(b, '(')
	end := bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return st, fmt.Errorf("parse stat: no comm field")
	}
	st.Comm = string(b[open+1 : end])
	f := strings.Fields(string(b[end+1:]))
	// f[0] is state (field 3); ppid is field 4, starttime field 22.
	if len(f) < 20 {
		return st, fmt.Errorf("parse stat: %d fields", len(f))
	}
	ppid, err := strconv.ParseUint(f[1], 10, 32)
	if err != nil {
		return st, fmt.Errorf("parse stat ppid: %w", err)
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return st, fmt.Errorf("parse stat starttime: %w", err)
	}
	st.PPID, st.StartTick = uint32(ppid), start
	return st, nil
}

// parseStatusIDs returns the real uid and gid from /proc/PID/status
// ("Uid:\treal\teffective\tsaved\tfs"), as the kernel side records them;
// ok is false when either line is missing or malformed.
func parseStatusIDs(b []byte) (uid, gid uint32, ok bool) {
	var haveUID, haveGID bool
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() && !(haveUID && haveGID) {
		key, rest, found := strings.Cut(sc.Text(), ":")
		f := strings.Fields(rest)
		if !found || len(f) == 0 || (key != "Uid" && key != "Gid") {
			continue
		}
		n, err := strconv.ParseUint(f[0], 10, 32)
		if err != nil {
			return 0, 0, false
		}
		if key == "Uid" {
			uid, haveUID = uint32(n), true
		} else {
			gid, haveGID = uint32(n), true
		}
	}
	if !haveUID || !haveGID {
		return 0, 0, false
	}
	return uid, gid, true
}

func readStat(pid uint32) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("%s/%d/stat", procRoot, pid))
	if err != nil {
		return procStat{}, err
	}
	return parseStat(b)
}

// sameStart reports whether a kernel start_boottime (ns) and a /proc
// starttime (ticks) name the same process start.
func sameStart(startNS, ticks uint64) bool {
	t := startNS / (1e9 / userHZ)
	return t == ticks || t+1 == ticks || t == ticks+1
}

// splitCmdline splits /proc/PID/cmdline (NUL-separated, NUL-terminated).
func splitCmdline(b []byte) []string {
	s := strings.TrimRight(string(b), "\x00")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\x00")
}

// procDetails reads argv and exe of a live process; empty when gone.
func procDetails(pid uint32) (argv []string, exe string) {
	if b, err := os.ReadFile(fmt.Sprintf("%s/%d/cmdline", procRoot, pid)); err == nil {
		argv = splitCmdline(b)
	}
	exe, _ = os.Readlink(fmt.Sprintf("%s/%d/exe", procRoot, pid))
	return argv, strings.TrimSuffix(exe, " (deleted)")
}

// parseCgroup returns the cgroup v2 path from /proc/PID/cgroup ("0::/path").
func parseCgroup(b []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "0::"); ok {
			return rest
		}
	}
	return ""
}

// descendants returns root and every process below it, from /proc.
func descendants(root uint32) map[uint32]bool {
	children := map[uint32][]uint32{}
	ents, _ := os.ReadDir(procRoot)
	for _, e := range ents {
		pid, err := strconv.ParseUint(e.Name(), 10, 32)
		if err != nil {
			continue
		}
		if st, err := readStat(uint32(pid)); err == nil {
			children[st.PPID] = append(children[st.PPID], uint32(pid))
		}
	}
	out := map[uint32]bool{root: true}
	queue := []uint32{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			if !out[c] {
				out[c] = true
				queue = append(queue, c)
			}
		}
	}
	return out
}

// cgroupMount is where the cgroup v2 hierarchy is mounted: /sys/fs/cgroup
// on a pure v2 host, /sys/fs/cgroup/unified on a hybrid one; "" when there
// is none.
var cgroupMount = sync.OnceValue(func() string {
	b, _ := os.ReadFile(procRoot + "/self/mountinfo")
	if m := parseCgroup2Mount(b); m != "" {
		return m
	}
	return ""
})

// parseCgroup2Mount returns the mount point of the first cgroup2 file
// system in /proc/self/mountinfo, or "".
func parseCgroup2Mount(b []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		// 41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if ok && len(f) >= 5 && len(g) >= 1 && g[0] == "cgroup2" {
			return unescapeMount(f[4])
		}
	}
	return ""
}

// unescapeMount undoes the octal escapes (\040 for a space) of mountinfo.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// cgroupPaths maps cgroup v2 IDs (the inode numbers of cgroup directories)
// to paths relative to the hierarchy root, e.g. "/system.slice/x.service".
type cgroupPaths struct {
	byID map[uint64]string
}

func (c *cgroupPaths) lookup(id uint64) string {
	if id == 0 {
		return ""
	}
	if p, ok := c.byID[id]; ok {
		return p
	}
	c.rescan()
	if p, ok := c.byID[id]; ok {
		return p
	}
	c.byID[id] = "" // do not rescan for an ID that is gone
	return ""
}

func (c *cgroupPaths) rescan() {
	if c.byID == nil {
		c.byID = map[uint64]string{}
	}
	if len(c.byID) > 100000 {
		c.byID = map[uint64]string{}
	}
	root := cgroupMount()
	if root == "" {
		return
	}
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			rel := strings.TrimPrefix(path, root)
			if rel == "" {
				rel = "/"
			}
			c.byID[st.Ino] = rel
		}
		return nil
	})
}

// bootOffset is realtime minus boottime, to turn kernel timestamps into
// Unix nanoseconds.
func bootOffset() int64 {
	var rt, bt unix.Timespec
	unix.ClockGettime(unix.CLOCK_REALTIME, &rt)
	unix.ClockGettime(unix.CLOCK_BOOTTIME, &bt)
	return rt.Nano() - bt.Nano()
}

// sysvShmKey looks up the key of a SysV shared memory id in
// /proc/sysvipc/shm; ok is false when the segment is gone.
func sysvShmKey(shmid int32) (key int64, ok bool) {
	b, err := os.ReadFile(procRoot + "/sysvipc/shm")
	if err != nil {
		return 0, false
	}
	return parseSysvShm(b, shmid)
}

// sysvKeyFromPath reads the key of a SysV segment from the name of its
// internal file, "/SYSV%08x"; -1 when the name is not of that form.
func sysvKeyFromPath(p string) int64 {
	hex, ok := strings.CutPrefix(p, "/SYSV")
	if !ok || len(hex) != 8 {
		return -1
	}
	k, err := strconv.ParseUint(hex, 16, 32)
	if err != nil {
		return -1
	}
	return int64(int32(uint32(k)))
}

func parseSysvShm(b []byte, shmid int32) (int64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		key, err1 := strconv.ParseInt(f[0], 10, 64)
		id, err2 := strconv.ParseInt(f[1], 10, 32)
		if err1 == nil && err2 == nil && int32(id) == shmid {
			return key, true
		}
	}
	return 0, false
}

// hostIPs lists the host's addresses, sorted.
func hostIPs() []string {
	var out []string
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			out = append(out, n.IP.String())
		}
	}
	sort.Strings(out)
	return out
}

func kernelRelease() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

func bootID() string {
	b, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return strings.TrimSpace(string(b))
}
