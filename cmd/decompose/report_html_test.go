package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportFromSavedPlan: analyze --json, then report -f html and -f dot
// and manifests from the saved plan; --plan with traces is a usage error.
func TestReportFromSavedPlan(t *testing.T) {
	dir := t.TempDir()
	tr := bundledTrace(t)
	code, planJSON, errOut := decompose(t, "analyze", "--json", tr)
	if code != 0 {
		t.Fatalf("analyze: %s", errOut)
	}
	plan := filepath.Join(dir, "plan.json")
	os.WriteFile(plan, []byte(planJSON), 0o644)
	html := filepath.Join(dir, "plan.html")
	if code, _, errOut := decompose(t, "report", "-f", "html", "-o", html, "--plan", plan); code != 0 {
		t.Fatalf("report -f html --plan: %s", errOut)
	}
	if b, err := os.ReadFile(html); err != nil || !strings.Contains(string(b), `<script type="application/json" id="plan-data">`) {
		t.Fatalf("no HTML report: %v", err)
	}
	if code, out, errOut := decompose(t, "report", "-f", "dot", tr); code != 0 || !strings.HasPrefix(out, "digraph decompose {") {
		t.Fatalf("report -f dot: %d %s", code, errOut)
	}
	for _, f := range []string{"k8s", "compose"} {
		out := filepath.Join(dir, f)
		if code, stdout, errOut := decompose(t, "manifests", "-f", f, "-o", out, "--plan", plan); code != 0 || !strings.Contains(stdout, "wrote ") {
			t.Fatalf("manifests -f %s --plan: %d %s", f, code, errOut)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "k8s", "kustomization.yaml")); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "compose", "compose.yaml")); err != nil {
		t.Error(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "-f", "html", "--plan", plan, tr}, "not both"},
		{[]string{"manifests", "-f", "helm", "-o", dir, tr}, "unknown manifest format"},
		{[]string{"manifests", "-f", "k8s", tr}, "needs -o DIR"},
	} {
		code, _, errOut := decompose(t, c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %q", c.args, code, errOut)
		}
	}
	if code, _, errOut := decompose(t, "report", "--plan", filepath.Join(dir, "missing.json")); code != 1 || !strings.Contains(errOut, "read plan") {
		t.Errorf("missing plan: exit %d, %q", code, errOut)
	}
}
