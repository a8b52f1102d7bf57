package record

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/decompose-dev/decompose/trace"
)

func TestParsePasswd(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     map[uint32]string
	}{
		{"empty", "", map[uint32]string{}},
		{"debian", "root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
			map[uint32]string{0: "root", 33: "www-data", 65534: "nobody"}},
		{"no final newline, CRLF", "root:x:0:0::/:/bin/sh\r\npg:x:105:110::/:/bin/sh", map[uint32]string{0: "root", 105: "pg"}},
		{"only three fields", "app:x:1000", map[uint32]string{1000: "app"}},
		{"malformed lines skipped", strings.Join([]string{
			"# a comment",
			"",
			"garbage",
			"two:fields",
			":x:5:5::/:/bin/sh",             // empty name
			"neg:x:-1:0::/:/bin/sh",         // negative uid
			"big:x:4294967296:0::/:/bin/sh", // beyond 32 bits
			"word:x:abc:0::/:/bin/sh",       // not a number
			"+nis::::::",                    // NIS inclusion
			"-excluded::::::",               //
			"sp ace:x:7:7::/:/bin/sh",       // a space in the name
			"ctl\x01:x:8:8::/:/bin/sh",      // a control character
			"ok:x:9:9::/:/bin/sh",
		}, "\n"), map[uint32]string{9: "ok"}},
		{"first of a duplicate uid wins", "toor:x:0:0::/:/bin/sh\nroot:x:0:0::/:/bin/sh\n", map[uint32]string{0: "toor"}},
		{"binary", "\x00\xff:\x00:\xff\n:::\n", map[uint32]string{}},
	} {
		if got := parsePasswd([]byte(c.in)); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func FuzzParsePasswd(f *testing.F) {
	f.Add([]byte("root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534::/:/bin/false\n"))
	f.Add([]byte("::::\n+::\n#x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for uid, name := range parsePasswd(b) {
			if name == "" || strings.ContainsAny(name, ":\n") {
				t.Errorf("uid %d named %q", uid, name)
			}
		}
	})
}

func TestParseStatusIDs(t *testing.T) {
	uid, gid, ok := parseStatusIDs([]byte("Name:\tcat\nUid:\t33\t0\t0\t0\nGid:\t34\t0\t0\t0\n"))
	if !ok || uid != 33 || gid != 34 {
		t.Errorf("got %d %d %v", uid, gid, ok)
	}
	for _, bad := range []string{"", "Uid:\t1\t1\t1\t1\n", "Uid:\nGid:\t1\n", "Uid:\tx\t1\nGid:\t1\n"} {
		if _, _, ok := parseStatusIDs([]byte(bad)); ok {
			t.Errorf("parseStatusIDs(%q) should fail", bad)
		}
	}
}

// TestUserNamesFollowPasswd writes the names of the uids seen as soon as
// they are seen, and again when the user database renames one.
func TestUserNamesFollowPasswd(t *testing.T) {
	dir := t.TempDir()
	passwd := filepath.Join(dir, "passwd")
	os.WriteFile(passwd, []byte("root:x:0:0::/:/bin/sh\napp:x:1000:1000::/:/bin/sh\n"), 0o644)
	u := newUserNames(passwd)
	w, err := trace.Create(filepath.Join(dir, "t.trace"), trace.Meta{}, trace.Host{})
	if err != nil {
		t.Fatal(err)
	}
	u.note(1000)
	u.note(4242) // in no database: stays a number
	u.flush(w)
	w.Commit()
	// a new file (new inode): renamed in place, as useradd/usermod do
	os.WriteFile(passwd+".new", []byte("root:x:0:0::/:/bin/sh\nshop:x:1000:1000::/:/bin/sh\n"), 0o644)
	os.Rename(passwd+".new", passwd)
	u.note(0)
	u.flush(w)
	if err := w.Close(trace.Host{}, trace.Meta{}); err != nil {
		t.Fatal(err)
	}
	tr, err := trace.Open(filepath.Join(dir, "t.trace"))
	if err != nil {
		t.Fatal(err)
	}
	want := []trace.User{{UID: 0, Name: "root"}, {UID: 1000, Name: "shop"}}
	if !reflect.DeepEqual(tr.Users, want) {
		t.Errorf("users %+v, want %+v", tr.Users, want)
	}
}

// TestUserNamesRecorded runs a child as nobody: the trace names its uid
// from /etc/passwd, as the kernel side recorded it.
func TestUserNamesRecorded(t *testing.T) {
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatalf("setpriv (util-linux) is missing: %v", err)
	}
	b, err := os.ReadFile(passwdPath)
	if err != nil {
		t.Fatal(err)
	}
	nobody, ok := parsePasswd(b)[65534]
	if !ok {
		t.Fatalf("%s names no uid 65534", passwdPath)
	}
	tr := runCommand(t, setpriv+" --reuid=65534 --regid=65534 --clear-groups /bin/cat /etc/hostname >/dev/null")
	var asNobody bool
	for _, p := range tr.Processes {
		if p.UID == 65534 && filepath.Base(p.Exe) == "cat" {
			asNobody = true
		}
	}
	if !asNobody {
		t.Errorf("no cat recorded with uid 65534: %+v", tr.Processes)
	}
	names := map[uint32]string{}
	for _, u := range tr.Users {
		names[u.UID] = u.Name
	}
	if names[65534] != nobody || names[0] != "root" {
		t.Errorf("users table %+v, want 65534 named %q and 0 named root", tr.Users, nobody)
	}
}
