package record

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrNoCgroup2 is returned for --cgroup on a machine that mounts no cgroup
// v2 hierarchy: the kernel side filters by cgroup v2 id.
var ErrNoCgroup2 = errors.New("no cgroup v2 hierarchy")

// parseCgroup1Mounts returns the mount points of the cgroup v1 hierarchies
// in /proc/self/mountinfo.
func parseCgroup1Mounts(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if ok && len(f) >= 5 && len(g) >= 1 && g[0] == "cgroup" {
			out = append(out, unescapeMount(f[4]))
		}
	}
	return out
}

// cgroup1Mounts lists the cgroup v1 mount points of this machine.
func cgroup1Mounts() []string {
	b, _ := os.ReadFile(procRoot + "/self/mountinfo")
	return parseCgroup1Mounts(b)
}

// within reports whether path is dir or below it.
func within(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, strings.TrimSuffix(dir, "/")+"/")
}

// resolveCgroup turns the argument of --cgroup into a directory of the
// cgroup v2 hierarchy mounted at root ("" when none is); v1 lists the
// mount points of the cgroup v1 hierarchies. An absolute path outside root
// is taken as relative to root (the form of /proc/PID/cgroup's "0::" line)
// unless it lies in a cgroup v1 hierarchy. Every error is one line saying
// what to pass instead.
func resolveCgroup(arg, root string, v1 []string) (string, error) {
	if root == "" {
		return "", fmt.Errorf("--cgroup %s: %w is mounted on this machine, and the recorder selects processes by cgroup v2 id: mount one with 'mount -t cgroup2 none /sys/fs/cgroup/unified' and pass a directory under it, or record by process with --pid PID",
			arg, ErrNoCgroup2)
	}
	path := filepath.Clean(arg)
	if !filepath.IsAbs(path) {
		path = filepath.Join(root, path)
	} else if !within(path, root) {
		if err := inCgroup1(arg, path, root, v1); err != nil {
			return "", err
		}
		path = filepath.Join(root, path)
	}
	if st, err := os.Stat(path); err != nil || !st.IsDir() {
		return "", fmt.Errorf("%w: --cgroup %s: no such cgroup v2 directory %s (the cgroup v2 hierarchy is mounted at %s)", ErrUsage, arg, path, root)
	}
	return path, nil
}

// inCgroup1 explains an absolute path that lies in a cgroup v1 hierarchy
// (or is the directory holding them), naming the cgroup v2 directory to
// pass instead when there is one; nil when path is not in cgroup v1.
func inCgroup1(arg, path, root string, v1 []string) error {
	mount := ""
	for _, m := range v1 {
		if within(path, m) && len(m) > len(mount) {
			mount = m
		}
	}
	holder := false // e.g. /sys/fs/cgroup itself on a hybrid host
	for _, m := range v1 {
		if within(m, path) && m != path {
			holder = true
		}
	}
	if mount == "" && !holder {
		var sfs unix.Statfs_t
		if unix.Statfs(path, &sfs) != nil || sfs.Type != unix.CGROUP_SUPER_MAGIC {
			return nil
		}
	}
	instead := root
	if mount != "" {
		if rel := strings.TrimPrefix(path, mount); rel != "" {
			if st, err := os.Stat(filepath.Join(root, rel)); err == nil && st.IsDir() {
				instead = filepath.Join(root, rel)
			} else {
				instead = "the directory under " + root + " named by the '0::' line of /proc/PID/cgroup"
			}
		}
	}
	return fmt.Errorf("%w: --cgroup %s is a cgroup v1 directory, and the recorder selects processes by cgroup v2 id: pass %s instead, or record by process with --pid PID",
		ErrUsage, arg, instead)
}
