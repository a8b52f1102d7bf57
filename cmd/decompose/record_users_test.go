package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/trace"
)

// TestRecordUserNamesReachPlanAndManifests records a command that runs as
// nobody: the trace names uid 65534 from /etc/passwd, analyze shows the
// name for the component and its members, and the manifest draft runs the
// container as that uid, not as root.
func TestRecordUserNamesReachPlanAndManifests(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("recording needs root; CI runs as root")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatalf("setpriv (util-linux) is missing: %v", err)
	}
	bin := buildCLI(t)
	// a directory nobody may write (t.TempDir's parent is private)
	spool, err := os.MkdirTemp("", "decompose-users-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(spool) })
	if err := os.Chmod(spool, 0o777); err != nil {
		t.Fatal(err)
	}
	// a script appending to a log that tail follows: two components
	// coupled by the log, both running as nobody, started before the
	// recording (so their uids come from the snapshot)
	log := filepath.Join(spool, "app.log")
	work := startWorkload(t, fmt.Sprintf("exec %s --reuid=65534 --regid=65534 --clear-groups /bin/sh -c 'touch %[2]s; tail -f %[2]s >/dev/null & while :; do echo line >> %[2]s; sleep 0.1; done'", setpriv, log))
	deadline := time.Now().Add(10 * time.Second)
	for st, _ := os.Stat(log); st == nil && time.Now().Before(deadline); st, _ = os.Stat(log) {
		time.Sleep(10 * time.Millisecond)
	}
	out := filepath.Join(t.TempDir(), "u.trace")
	r := startRecorder(t, bin, out, "--pid", strconv.Itoa(work), "--duration", "2s")
	r.waitStarted(t)
	if code := r.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("record exited %d:\n%s", code, r.stderr.String())
	}
	checkDetached(t, r)
	tr, err := trace.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	if !hasUser(tr.Users, 65534, "nobody") {
		t.Fatalf("the trace's users table should name uid 65534 nobody: %+v", tr.Users)
	}

	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "analyze", "--json", out)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("analyze: %v\n%s", err, stderr.String())
	}
	var plan graph.Plan
	if err := json.Unmarshal(stdout.Bytes(), &plan); err != nil {
		t.Fatalf("analyze --json: %v", err)
	}
	var lead string
	for _, c := range plan.Components {
		for _, m := range c.Members {
			if m.UID == 65534 && m.User != "nobody" {
				t.Errorf("component %s: member %d runs as uid 65534 but is shown as %q", c.Name, m.PID, m.User)
			}
		}
		if len(c.Members) > 0 && c.Members[0].UID == 65534 {
			lead = c.Name
			if strings.Join(c.Users, ",") != "nobody" {
				t.Errorf("component %s should list its user as nobody: %q", c.Name, c.Users)
			}
		}
	}
	if lead == "" {
		t.Fatalf("no component led by the process running as nobody: %s", stdout.String())
	}

	dir := filepath.Join(t.TempDir(), "k8s")
	cmd = exec.Command(bin, "manifests", "-f", "k8s", "-o", dir, out)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("manifests: %v\n%s", err, stderr.String())
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	var found bool
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if strings.Contains(string(b), "name: "+lead+"\n") && strings.Contains(string(b), "runAsUser: 65534") && strings.Contains(string(b), "runAsNonRoot: true") {
			found = true
		}
	}
	if !found {
		t.Errorf("no manifest runs container %s as uid 65534 (non-root) in %v", lead, files)
	}
}

func hasUser(us []trace.User, uid uint32, name string) bool {
	for _, u := range us {
		if u.UID == uid && u.Name == name {
			return true
		}
	}
	return false
}

// TestRecordCgroupV1Refused passes a cgroup v1 directory to --cgroup: one
// error line saying it is cgroup v1 and what to pass instead, exit 2,
// before anything is loaded, and no trace file.
func TestRecordCgroupV1Refused(t *testing.T) {
	v1 := cgroupV1Dir(t)
	bin := buildCLI(t)
	out := filepath.Join(t.TempDir(), "x.trace")
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "record", "-o", out, "--duration", "1s", "--cgroup", v1)
	cmd.Stderr = &stderr
	start := time.Now()
	cmd.Run()
	if code := cmd.ProcessState.ExitCode(); code != 2 {
		t.Fatalf("exit %d, want 2 (usage):\n%s", code, stderr.String())
	}
	oneLineError(t, stderr.String(), "--cgroup "+v1+" is a cgroup v1 directory", "cgroup v2", "--pid PID")
	if took := time.Since(start); took > time.Second || strings.Contains(stderr.String(), "loading") {
		t.Errorf("refused after %v, not before loading:\n%s", took, stderr.String())
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s was created", out)
	}
}

// cgroupV1Dir returns a cgroup v1 directory: a hierarchy this machine
// mounts, or else a named hierarchy without controllers mounted for the
// test (unmounted at cleanup).
func cgroupV1Dir(t *testing.T) string {
	t.Helper()
	b, _ := os.ReadFile("/proc/self/mountinfo")
	for _, l := range strings.Split(string(b), "\n") {
		pre, post, ok := strings.Cut(l, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if ok && len(f) >= 5 && len(g) > 0 && g[0] == "cgroup" {
			return f[4]
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("no cgroup v1 hierarchy mounted, and mounting one needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("cgroup", dir, "cgroup", 0, "none,name=decompose-test"); err != nil {
		t.Skipf("this kernel mounts no cgroup v1 hierarchy (%v): nothing to refuse", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, 0) })
	return dir
}
