package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImagesCLI drafts images for the synthetic legacyshop trace, whose
// programs are not on this host: every file is written, the sets say
// they are not closed, the plan route gives the same bytes, and usage
// errors exit 2.
func TestImagesCLI(t *testing.T) {
	tracePath := bundledTrace(t)
	out := t.TempDir()
	code, stdout, errOut := decompose(t, "images", "-o", out, tracePath)
	if code != 0 {
		t.Fatalf("images: exit %d: %s", code, errOut)
	}
	if !strings.Contains(stdout, "bash "+filepath.Join(out, "build.sh")) {
		t.Errorf("images does not say how to build: %q", stdout)
	}
	res := readImages(t, out)
	if len(res.Images) == 0 {
		t.Fatal("no image drafted")
	}
	for _, img := range res.Images {
		if img.Closed {
			t.Errorf("%s: closed, though its programs are not on this host", img.Name)
		}
		for _, f := range []string{"Containerfile", "rootfs.list"} {
			if _, err := os.Stat(filepath.Join(out, img.Name, f)); err != nil {
				t.Errorf("%s: %v", img.Name, err)
			}
		}
	}
	if fi, err := os.Stat(filepath.Join(out, "build.sh")); err != nil || fi.Mode().Perm()&0o100 == 0 {
		t.Errorf("build.sh is missing or not executable: %v", err)
	}
	plan := filepath.Join(t.TempDir(), "plan.json")
	code, js, _ := decompose(t, "analyze", "--json", tracePath)
	if code != 0 || os.WriteFile(plan, []byte(js), 0o644) != nil {
		t.Fatal("analyze --json failed")
	}
	again := t.TempDir()
	if code, _, errOut := decompose(t, "images", "-o", again, "--plan", plan, tracePath); code != 0 {
		t.Fatalf("images --plan: exit %d: %s", code, errOut)
	}
	for _, f := range []string{"images.json", "images.md", "build.sh"} {
		a, _ := os.ReadFile(filepath.Join(out, f))
		b, _ := os.ReadFile(filepath.Join(again, f))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between the traces and the saved plan", f)
		}
	}
	if code, out, _ := decompose(t, "images", "--help"); code != 0 || !strings.Contains(out, "Examples:") {
		t.Errorf("images --help: exit %d, no example", code)
	}
	for _, args := range [][]string{{"images", tracePath}, {"images", "-o", out}, {"images", "-o", out, "--plan", plan}} {
		if code, _, _ := decompose(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
