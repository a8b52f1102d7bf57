package images

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/report/k8s"
	"github.com/decompose-dev/decompose/trace"
)

// hostTree is a fake recording host: the files a hand-built trace names,
// below a temporary root.
func hostTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"/srv/app/bin/app":               "program",
		"/usr/bin/tool":                  "tool",
		"/etc/app/app.conf":              "listen = 0.0.0.0:8080\n",
		"/etc/app/tls/server.key":        "key",
		"/srv/app/conf/site.yaml":        "-----BEGIN RSA PRIVATE KEY-----\n",
		"/etc/app/api-token.txt":         "t0ken",
		"/srv/app/www/index.html":        "<h1>hi</h1>",
		"/srv/app/www/bundle.crt":        "cert\n-----BEGIN PRIVATE KEY-----\n",
		"/srv/app/bin/helper.sh":         "#!/bin/sh\necho hi\n",
		"/var/lib/app/db/data.bin":       "rows",
		"/run/app/app.pid":               "10",
		"/var/log/app/app.log":           "log",
		"/etc/passwd":                    "root:x:0:0::/root:/bin/sh\n",
		"/usr/share/zoneinfo/UTC":        "TZif",
		"/usr/lib/x86_64-linux-gnu/x.so": "not really ELF",
	}
	for p, content := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(root, "var/spool/app/queue"), 0o755)
	if err := os.Symlink("usr/bin", filepath.Join(root, "bin")); err != nil {
		t.Fatal(err)
	}
	return root
}

// handTrace is one app process that reads, writes and maps what a legacy
// daemon does, beside a feeder process of another component that writes
// the spool directory the app reads.
func handTrace() *trace.Trace {
	tr := &trace.Trace{Host: trace.Host{Hostname: "vm"}, Meta: trace.Meta{Mode: "host", Finalized: true}}
	tr.Processes = []trace.Process{
		{ID: 1, PID: 10, StartNS: 100, Exe: "/srv/app/bin/app", Argv: []string{"app", "-c", "/etc/app/app.conf", "--password=<redacted>"}, UID: 33, GID: 33},
		{ID: 2, PID: 11, PPID: 10, ParentID: 1, StartNS: 200, ExitNS: 300, Exe: "/usr/bin/tool", Argv: []string{"/bin/tool"}, UID: 33, GID: 33},
		{ID: 3, PID: 20, StartNS: 100, Exe: "/srv/feeder/bin/feeder", Argv: []string{"/srv/feeder/bin/feeder"}, UID: 0},
	}
	paths := []struct {
		kind trace.ResourceKind
		path string
	}{
		{trace.KindFile, "/etc/app/app.conf"}, {trace.KindFile, "/etc/app/tls/server.key"}, {trace.KindFile, "/srv/app/conf/site.yaml"},
		{trace.KindFile, "/etc/app/api-token.txt"}, {trace.KindFile, "/srv/app/www/index.html"}, {trace.KindFile, "/srv/app/www/bundle.crt"}, {trace.KindFile, "/srv/app/bin/helper.sh"},
		{trace.KindFile, "/var/lib/app/db/data.bin"}, {trace.KindFile, "/run/app/app.pid"}, {trace.KindFile, "/var/log/app/app.log"},
		{trace.KindDir, "/var/spool/app/queue"}, {trace.KindFile, "/var/spool/app/queue/1.json"}, {trace.KindFile, "/dev/null"}, {trace.KindFile, "/proc/self/stat"},
		{trace.KindFile, "/etc/hosts"}, {trace.KindFile, "/etc/passwd"}, {trace.KindFile, "/usr/share/zoneinfo/UTC"},
		{trace.KindFile, "/usr/lib/x86_64-linux-gnu/x.so"}, {trace.KindFIFO, "/run/app/events.fifo"}, {trace.KindFile, "/dev/shm/app-stats"},
		{trace.KindTCP, ""},
	}
	written := map[string]bool{"/var/lib/app/db/data.bin": true, "/run/app/app.pid": true, "/var/log/app/app.log": true}
	for i, p := range paths {
		id := trace.ResourceID(i + 1)
		tr.Resources = append(tr.Resources, trace.Resource{ID: id, Kind: p.kind, Path: p.path, Dst: "0.0.0.0:8080", Listen: p.kind == trace.KindTCP})
		a := trace.Access{Process: 1, Resource: id, Opens: 1, Reads: 2}
		if written[p.path] {
			a = trace.Access{Process: 1, Resource: id, OpensWrite: 1, Writes: 3, WriteBytes: 30}
		}
		if p.kind == trace.KindTCP {
			a = trace.Access{Process: 1, Resource: id, Listens: 1}
		}
		tr.Accesses = append(tr.Accesses, a)
		if p.path == "/var/spool/app/queue" {
			tr.Accesses = append(tr.Accesses, trace.Access{Process: 3, Resource: id, Creates: 4, Renames: 4})
		}
	}
	return tr
}

// handPlan puts the app alone in a pod, as the engine would for a
// stateful component.
func handPlan() *graph.Plan {
	app := graph.Component{Name: "app", Exe: "/srv/app/bin/app", Processes: 2, UIDs: []uint32{33}, Listens: []string{"tcp:0.0.0.0:8080"},
		Stateful: true, DataDirs: []string{"/var/lib/app/db"}, ConfigFiles: []string{"/etc/app/app.conf"},
		Command: []string{"app", "-c", "/etc/app/app.conf", "--password=<redacted>"}, Secrets: 1,
		Members: []graph.Member{{Host: "vm", PID: 10, StartNS: 100, Exe: "/srv/app/bin/app", UID: 33, GID: 33},
			{Host: "vm", PID: 11, PPID: 10, StartNS: 200, ExitNS: 300, Exe: "/usr/bin/tool", UID: 33, GID: 33}}}
	p := &graph.Plan{Components: []graph.Component{app}, Pods: []graph.Pod{{Name: "app", Components: []string{"app"}}}}
	p.Recompute()
	return p
}

func buildHand(t *testing.T, root string) *Image {
	t.Helper()
	plan := handPlan()
	set, err := k8s.Build(plan, k8s.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Build(plan, []*trace.Trace{handTrace()}, set, Options{Root: root, Hostname: "vm"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Images) != 1 {
		t.Fatalf("want one image, got %d", len(res.Images))
	}
	return res.Images[0]
}

func TestClassification(t *testing.T) {
	img := buildHand(t, hostTree(t))
	want := map[string]Class{
		"/srv/app/bin/app": Executable, "/usr/bin/tool": Executable, "/bin/tool": Executable,
		"/etc/app/app.conf": Config, "/etc/app/tls/server.key": Secret, "/srv/app/conf/site.yaml": Secret,
		"/etc/app/api-token.txt": Secret, "/srv/app/www/index.html": Content, "/srv/app/www/bundle.crt": Secret, "/srv/app/bin/helper.sh": Script,
		"/dev/null": Device, "/proc/self/stat": Runtime, "/etc/hosts": Runtime,
		"/etc/passwd": System, "/usr/share/zoneinfo/UTC": System, "/usr/lib/x86_64-linux-gnu/x.so": Library,
		"/dev/shm/app-stats": Scratch,
	}
	got := map[string]Class{}
	for _, e := range img.Files {
		got[e.Path] = e.Class
	}
	for p, c := range want {
		if got[p] != c {
			t.Errorf("%s: class %q, want %q (%s)", p, got[p], c, whyOf(img, p))
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d entries, want %d: %v", len(got), len(want), got)
	}
	// Data, scratch and logs are folded into the directories mounted at
	// run time, which name what was seen in them.
	seen := map[string]string{}
	for _, d := range img.Dirs {
		seen[d.Path] = string(d.Class) + " " + strings.Join(d.Files, ",")
	}
	for dir, want := range map[string]string{"/var/lib/app/db": "data data.bin", "/run/app": "scratch app.pid,events.fifo",
		"/var/log/app": "log app.log", "/var/spool/app/queue": "scratch 1.json"} {
		if seen[dir] != want {
			t.Errorf("directory %s: %q, want %q", dir, seen[dir], want)
		}
	}
}

func whyOf(img *Image, p string) string {
	for _, e := range img.Files {
		if e.Path == p {
			return e.Why
		}
	}
	return "not in the inventory"
}

// TestOnlyProgramsAndContentAreBaked checks what the root filesystem
// holds: the programs (through the /bin symlink), the script, the
// content and the OS files; never config, data, state or secrets.
func TestOnlyProgramsAndContentAreBaked(t *testing.T) {
	img := buildHand(t, hostTree(t))
	for _, p := range []string{"/bin", "/usr/bin/tool", "/srv/app/bin/app", "/srv/app/www/index.html", "/srv/app/bin/helper.sh", "/etc/passwd", "/usr/share/zoneinfo/UTC"} {
		if !slices.Contains(img.Tree, p) {
			t.Errorf("tree lacks %s: %v", p, img.Tree)
		}
	}
	for _, p := range img.Tree {
		for _, never := range []string{"/etc/app", "/srv/app/conf", "/var/lib", "/run", "/var/log", "/var/spool", "/dev", "/proc", "/etc/hosts"} {
			if under(p, never) {
				t.Errorf("tree holds %s, which must not be baked in", p)
			}
		}
	}
	for _, e := range img.Files {
		if !e.Class.Baked() && slices.Contains(img.Tree, e.Path) {
			t.Errorf("tree holds %s, a %s file", e.Path, e.Class)
		}
	}
	dirs := map[string]Class{}
	for _, d := range img.Dirs {
		dirs[d.Path] = d.Class
	}
	wantDirs := map[string]Class{"/var/lib/app/db": Data, "/run/app": Scratch, "/var/log/app": Log, "/var/spool/app/queue": Scratch, "/tmp": Scratch}
	for p, c := range wantDirs {
		if dirs[p] != c {
			t.Errorf("run-time directory %s: %q, want %q (all: %v)", p, dirs[p], c, dirs)
		}
	}
	if !img.Closed {
		t.Errorf("a set with every file present and no ELF should be closed: %v", img.Gaps)
	}
	if img.User != 33 || !slices.Equal(img.Expose, []string{"8080/tcp"}) {
		t.Errorf("user %d, expose %v; want 33, [8080/tcp]", img.User, img.Expose)
	}
	if want := []string{"/srv/app/bin/app", "-c", "/etc/app/app.conf", "--password=<redacted>"}; !slices.Equal(img.Cmd, want) {
		t.Errorf("cmd %q, want %q (argv[0] made absolute, redaction kept)", img.Cmd, want)
	}
}

func TestMissingFilesOpenTheSet(t *testing.T) {
	root := hostTree(t)
	if err := os.Remove(filepath.Join(root, "srv/app/bin/app")); err != nil {
		t.Fatal(err)
	}
	img := buildHand(t, root)
	if img.Closed || len(img.Gaps) == 0 || !strings.Contains(strings.Join(img.Gaps, "\n"), "/srv/app/bin/app") {
		t.Errorf("a missing executable must open the set: closed %v, gaps %q", img.Closed, img.Gaps)
	}
}

func TestWrittenByAnotherComponentIsNotContent(t *testing.T) {
	h := hostFS{root: t.TempDir()}
	o := observed{Path: "/srv/shop/orders/1.json", Kind: trace.KindFile, Opens: 1, OthersWrote: true}
	if c, why := classify(o, facts{}, h); c != Data {
		t.Errorf("a file another component writes: %s (%s), want data", c, why)
	}
	o.Path = "/srv/shop/var/spool/orders/1.json"
	if c, _ := classify(o, facts{}, h); c != Scratch {
		t.Errorf("a spool file another component writes: %s, want scratch", c)
	}
	// Renamed into place by another process, only read by this one: the
	// file itself was never seen written, its directory's entries were.
	o = observed{Path: "/srv/shop/var/spool/orders/2.json", Kind: trace.KindFile, Opens: 1, Churn: true}
	if c, why := classify(o, facts{}, h); c != Scratch {
		t.Errorf("a file in a directory whose entries change: %s (%s), want scratch", c, why)
	}
}
