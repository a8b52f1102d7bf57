package tui

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/decompose-dev/decompose/fixtures/recordings"
	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/trace"
)

// TestEndToEndInTmux runs the real decompose binary in a real terminal
// (tmux, 100x30) on the bundled trace: it filters to a component, moves it
// to another pod through the picker, saves with w to a chosen path and
// quits, then reads the saved plan back with graph.ReadPlan. scripts/test.sh
// installs tmux; as root (CI) a missing tmux fails instead of skipping.
func TestEndToEndInTmux(t *testing.T) {
	tmuxPath, err := exec.LookPath("tmux")
	if err != nil {
		if os.Geteuid() == 0 {
			t.Fatal("tmux is not installed: scripts/test.sh installs it (apt-get install tmux)")
		}
		t.Skip("tmux is not installed; scripts/test.sh installs it and CI runs this test")
	}
	dir := t.TempDir()
	bin, tracePath := buildDecompose(t, dir), filepath.Join(dir, "legacyshop.trace")
	if err := os.WriteFile(tracePath, recordings.LegacyshopSynthetic, 0o644); err != nil {
		t.Fatal(err)
	}
	saved, done := filepath.Join(dir, "edited.json"), filepath.Join(dir, "exit-code")
	term := newTmux(t, tmuxPath)
	script := fmt.Sprintf("%s tui -o %s %s 2>%s; echo $? >%s", quote(bin), quote(filepath.Join(dir, "default.json")),
		quote(tracePath), quote(filepath.Join(dir, "stderr")), quote(done))
	term.run("new-session", "-d", "-x", "100", "-y", "30", "-s", "e2e", "sh", "-c", script)

	term.waitFor("QUALITY")
	term.keys("/")
	term.waitFor("/ ")
	term.typeText("shop-audit")
	term.keys("Enter", "j", "m")
	term.waitFor("Move shop-audit to which pod?")
	term.keys("j", "j", "Enter")
	term.waitFor("move shop-audit from shop-web to shop-db")
	term.keys("w")
	term.waitFor("save plan to: " + filepath.Join(dir, "default.json"))
	term.keys("C-u")
	term.typeText(saved)
	term.keys("Enter")
	term.waitFor("saved to " + saved)
	term.keys("q")
	waitFile(t, done)

	if code, _ := os.ReadFile(done); strings.TrimSpace(string(code)) != "0" {
		stderr, _ := os.ReadFile(filepath.Join(dir, "stderr"))
		t.Fatalf("decompose tui exited %s: %s", code, stderr)
	}
	checkSavedMove(t, saved, tracePath)
	checkOtherCommandsReadIt(t, bin, saved, dir)

	// The saved plan opens again with --plan, showing the move.
	done2 := filepath.Join(dir, "exit-code-2")
	term.run("new-session", "-d", "-x", "100", "-y", "30", "-s", "e2e", "sh", "-c",
		fmt.Sprintf("%s tui --plan %s; echo $? >%s", quote(bin), quote(saved), quote(done2)))
	term.waitFor("decompose · edited.json")
	term.waitFor("shop-db (2 components)")
	term.keys("q")
	waitFile(t, done2)
}

// checkOtherCommandsReadIt runs report and manifests on the saved plan, as
// a person would next.
func checkOtherCommandsReadIt(t *testing.T, bin, saved, dir string) {
	t.Helper()
	for _, args := range [][]string{
		{"report", "-f", "json", "-o", filepath.Join(dir, "report.json"), "--plan", saved},
		{"manifests", "-f", "k8s", "-o", filepath.Join(dir, "k8s"), "--plan", saved},
	} {
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Errorf("decompose %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// checkSavedMove reads the saved plan as decompose manifests --plan does
// and finds the move, and only the move, against the engine's proposal.
func checkSavedMove(t *testing.T, saved, tracePath string) {
	t.Helper()
	f, err := os.Open(saved)
	if err != nil {
		t.Fatalf("the plan was not saved: %v", err)
	}
	defer f.Close()
	edited, err := graph.ReadPlan(f, saved)
	if err != nil {
		t.Fatalf("graph.ReadPlan refuses the saved plan: %v", err)
	}
	tr, err := trace.Open(tracePath)
	if err != nil {
		t.Fatal(err)
	}
	proposal, err := graph.Analyze([]*trace.Trace{tr}, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := graph.Diff(proposal, edited); len(d) != 1 || !strings.HasPrefix(d[0], "shop-audit: ") || !strings.HasSuffix(d[0], " -> shop-db") {
		t.Fatalf("saved plan differs from the proposal by %v, want shop-audit moved to shop-db", d)
	}
}

// buildDecompose builds the CLI into dir.
func buildDecompose(t *testing.T, dir string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is needed to build decompose: %v", err)
	}
	bin := filepath.Join(dir, "decompose")
	cmd := exec.Command(goTool, "build", "-o", bin, "github.com/decompose-dev/decompose/cmd/decompose")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build decompose: %v\n%s", err, out)
	}
	return bin
}

// tmux drives a private tmux server (its own -L socket, no config file)
// that t.Cleanup kills, with everything it runs.
type tmux struct {
	t      *testing.T
	path   string
	socket string
}

func newTmux(t *testing.T, path string) *tmux {
	tm := &tmux{t: t, path: path, socket: fmt.Sprintf("decompose-tui-e2e-%d", os.Getpid())}
	t.Cleanup(func() { _ = exec.Command(path, "-L", tm.socket, "kill-server").Run() })
	return tm
}

func (tm *tmux) run(args ...string) string {
	tm.t.Helper()
	cmd := exec.Command(tm.path, append([]string{"-L", tm.socket, "-f", "/dev/null"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// keys sends tmux key names one at a time, as a person types them.
func (tm *tmux) keys(keys ...string) {
	for _, k := range keys {
		tm.run("send-keys", "-t", "e2e", k)
		time.Sleep(20 * time.Millisecond)
	}
}

func (tm *tmux) typeText(s string) { tm.run("send-keys", "-t", "e2e", "-l", s) }

func (tm *tmux) screen() string { return tm.run("capture-pane", "-p", "-t", "e2e") }

// waitFor polls the screen until it shows s.
func (tm *tmux) waitFor(s string) {
	tm.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		screen := tm.screen()
		if strings.Contains(screen, s) {
			return
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("the screen never showed %q:\n%s", s, screen)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitFile(t *testing.T, path string) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			return
		}
	}
	t.Fatalf("decompose tui did not exit (no %s)", path)
}

// quote quotes s for sh.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
