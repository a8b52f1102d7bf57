package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDemoOpensTUIOnATerminal runs decompose demo in a real terminal
// (tmux): it must open the explorer, and after q print the report paths.
func TestDemoOpensTUIOnATerminal(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Geteuid() == 0 {
			t.Fatal("tmux is missing: scripts/test.sh installs it")
		}
		t.Skip("tmux is not installed")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "decompose")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	socket := "decompose-demo-" + filepath.Base(dir)
	tmux := func(args ...string) string {
		out, _ := exec.Command("tmux", append([]string{"-L", socket}, args...)...).CombinedOutput()
		return string(out)
	}
	t.Cleanup(func() { tmux("kill-server") })
	shell := bin + " demo --bundled --out " + filepath.Join(dir, "out") + "; echo EXIT=$?; sleep 60"
	if out, err := exec.Command("tmux", "-L", socket, "new-session", "-d", "-x", "100", "-y", "30", "-s", "demo", shell).CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v\n%s", err, out)
	}
	waitScreen(t, tmux, "Overview")
	tmux("send-keys", "-t", "demo", "q")
	screen := waitScreen(t, tmux, "EXIT=")
	if !strings.Contains(screen, "EXIT=0") || !strings.Contains(screen, "report.html:") {
		t.Fatalf("after quitting the explorer:\n%s", screen)
	}
}

// waitScreen polls the tmux pane until it shows want (10 s at most).
func waitScreen(t *testing.T, tmux func(...string) string, want string) string {
	t.Helper()
	var screen string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if screen = tmux("capture-pane", "-p", "-t", "demo"); strings.Contains(screen, want) {
			return screen
		}
	}
	t.Fatalf("the terminal never showed %q:\n%s", want, screen)
	return ""
}
