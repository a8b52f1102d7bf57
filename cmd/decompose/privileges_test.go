package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestAnalysisNeedsNoPrivileges runs the built binary as nobody: analyze,
// report and demo must work without root or capabilities.
func TestAnalysisNeedsNoPrivileges(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to drop to nobody; CI runs as root")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatalf("setpriv (util-linux) is missing: %v", err)
	}
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} { // t.TempDir's parent is 0700
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "decompose")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	tracePath := bundledTrace(t)
	for _, d := range []string{filepath.Dir(tracePath), filepath.Dir(filepath.Dir(tracePath))} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{
		{"analyze", tracePath},
		{"report", "-f", "md", "-o", filepath.Join(dir, "r.md"), tracePath},
		{"demo", "--out", filepath.Join(dir, "demo")}, // as nobody: the bundled recording
	} {
		cmd := exec.Command(setpriv, append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", bin}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("as nobody, decompose %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
