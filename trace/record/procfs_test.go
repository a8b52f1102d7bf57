package record

import "testing"

func TestParseStat(t *testing.T) {
	st, err := parseStat([]byte("42 (a (weird) name) S 7 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 12345 1 2 3"))
	if err != nil || st.PPID != 7 || st.StartTick != 12345 || st.Comm != "a (weird) name" {
		t.Errorf("got %+v, %v", st, err)
	}
	for _, bad := range []string{"", "42 no comm", "1 (x) S", "1 (x) S notanumber 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1"} {
		if _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("parseStat(%q) should fail", bad)
		}
	}
}

func TestParseHelpers(t *testing.T) {
	if got := splitCmdline([]byte("a\x00b c\x00\x00")); len(got) != 2 || got[1] != "b c" {
		t.Errorf("splitCmdline: %q", got)
	}
	if got := parseCgroup([]byte("0::/system.slice/x.service\n")); got != "/system.slice/x.service" {
		t.Errorf("parseCgroup: %q", got)
	}
	shm := "       key      shmid perms size\n 1234 7 600 4096\n"
	if k, ok := parseSysvShm([]byte(shm), 7); !ok || k != 1234 {
		t.Errorf("parseSysvShm: %d %v", k, ok)
	}
	if !sameStart(1_234_567_890, 123) || sameStart(1_234_567_890, 200) {
		t.Errorf("sameStart")
	}
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte("42 (sh) S 7 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 12345 1"))
	f.Fuzz(func(t *testing.T, b []byte) { parseStat(b) })
}

func TestParseCgroup2Mount(t *testing.T) {
	hybrid := "30 24 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n" +
		"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
	if got := parseCgroup2Mount([]byte(hybrid)); got != "/sys/fs/cgroup/unified" {
		t.Errorf("hybrid: %q", got)
	}
	if got := parseCgroup2Mount([]byte("1 0 0:1 / /my\\040cg rw - cgroup2 none rw\n")); got != "/my cg" {
		t.Errorf("escaped: %q", got)
	}
	for _, bad := range []string{"", "garbage", "1 2 3 - cgroup2", "30 24 0:26 / /sys/fs/cgroup ro - tmpfs tmpfs ro\n"} {
		if got := parseCgroup2Mount([]byte(bad)); got != "" {
			t.Errorf("parseCgroup2Mount(%q) = %q", bad, got)
		}
	}
}

func FuzzParseCgroup2Mount(f *testing.F) {
	f.Add([]byte("41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"))
	f.Fuzz(func(t *testing.T, b []byte) { parseCgroup2Mount(b) })
}
