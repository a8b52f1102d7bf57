package record

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseCgroup1Mounts(t *testing.T) {
	hybrid := "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n" +
		"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n" +
		"40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n" +
		"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n" +
		"garbage\n1 2 3 - cgroup\n"
	want := []string{"/sys/fs/cgroup/memory", "/sys/fs/cgroup/systemd"}
	if got := parseCgroup1Mounts([]byte(hybrid)); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestResolveCgroup lays out a fake hybrid hierarchy: tmpfs at base, a
// cgroup v1 hierarchy at base/systemd and the v2 one at base/unified.
func TestResolveCgroup(t *testing.T) {
	base := t.TempDir()
	v1, v2 := filepath.Join(base, "systemd"), filepath.Join(base, "unified")
	for _, d := range []string{"system.slice/app.service", "system.slice/v1only.service"} {
		os.MkdirAll(filepath.Join(v1, d), 0o755)
	}
	os.MkdirAll(filepath.Join(v2, "system.slice/app.service"), 0o755)
	mounts := []string{v1}

	for _, c := range []struct {
		arg, want string
	}{
		{"system.slice/app.service", v2 + "/system.slice/app.service"},
		{"/system.slice/app.service", v2 + "/system.slice/app.service"}, // as /proc/PID/cgroup says it
		{v2 + "/system.slice/app.service/", v2 + "/system.slice/app.service"},
		{v2, v2},
	} {
		got, err := resolveCgroup(c.arg, v2, mounts)
		if err != nil || got != c.want {
			t.Errorf("resolveCgroup(%q) = %q, %v; want %q", c.arg, got, err, c.want)
		}
	}

	for _, c := range []struct {
		arg  string
		want []string // in the one-line error
	}{
		{v1 + "/system.slice/app.service", []string{"is a cgroup v1 directory", "pass " + v2 + "/system.slice/app.service instead", "--pid PID"}},
		{v1 + "/system.slice/v1only.service", []string{"is a cgroup v1 directory", "the directory under " + v2 + " named by the '0::' line of /proc/PID/cgroup", "--pid PID"}},
		{v1, []string{"is a cgroup v1 directory", "pass " + v2 + " instead"}},
		{base, []string{"is a cgroup v1 directory", "pass " + v2 + " instead"}},
		{"no/such.service", []string{"no such cgroup v2 directory " + v2 + "/no/such.service", "mounted at " + v2}},
	} {
		_, err := resolveCgroup(c.arg, v2, mounts)
		if !errors.Is(err, ErrUsage) {
			t.Errorf("resolveCgroup(%q): %v, want a usage error", c.arg, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) || strings.Contains(err.Error(), "\n") {
				t.Errorf("resolveCgroup(%q): error %q lacks %q", c.arg, err, w)
			}
		}
	}

	// A machine with cgroup v1 only: not a usage error, but one line
	// saying what to mount or to use instead.
	_, err := resolveCgroup(v1+"/system.slice/app.service", "", mounts)
	if !errors.Is(err, ErrNoCgroup2) || errors.Is(err, ErrUsage) {
		t.Fatalf("no cgroup v2: %v, want ErrNoCgroup2", err)
	}
	for _, w := range []string{"mount -t cgroup2 none /sys/fs/cgroup/unified", "--pid PID"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
}
