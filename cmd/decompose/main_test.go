package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/decompose-dev/decompose/fixtures/recordings"
)

// decompose runs the CLI in-process and returns its exit code and output.
func decompose(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// bundledTrace writes the bundled legacyshop trace to a temp file.
func bundledTrace(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "legacyshop.trace")
	if err := os.WriteFile(p, recordings.LegacyshopSynthetic, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDemoWithoutTerminal(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := decompose(t, "demo", "--bundled", "--out", dir)
	if code != 0 {
		t.Fatalf("demo exit %d: %s", code, errOut)
	}
	checkDemo(t, dir, out)
	if !strings.Contains(errOut, "bundled recording") {
		t.Errorf("demo does not say which recording it used: %q", errOut)
	}
}

// TestDemoRecordsLive runs the demo as root: it must record the fixture
// live, not fall back to the bundled recording.
func TestDemoRecordsLive(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the live demo needs root; CI runs as root")
	}
	dir := t.TempDir()
	code, out, errOut := decompose(t, "demo", "--out", dir)
	if code != 0 {
		t.Fatalf("demo exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "recording legacyshop live") || strings.Contains(errOut, "bundled") {
		t.Fatalf("demo did not record live:\n%s", errOut)
	}
	checkDemo(t, dir, out)
}

// checkDemo asserts the demo printed a plan and wrote its files.
func checkDemo(t *testing.T, dir, out string) {
	t.Helper()
	for _, want := range []string{"POD shop-web", "POD shop-db (StatefulSet)", "POD shop-cache", "HIDDEN COUPLINGS", filepath.Join(dir, "report.html")} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil || !bytes.Contains(md, []byte("```mermaid")) {
		t.Fatalf("report.md missing or without diagram: %v", err)
	}
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil || !bytes.Contains(html, []byte("<html")) {
		t.Fatalf("report.html missing: %v", err)
	}
}

func TestAnalyzeJSONContract(t *testing.T) {
	code, out, errOut := decompose(t, "analyze", "--json", bundledTrace(t))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var plan struct {
		Components []struct {
			Name      string   `json:"name"`
			Exe       string   `json:"exe"`
			Processes int      `json:"processes"`
			Users     []string `json:"users"`
			Listens   []string `json:"listens"`
			Stateful  *bool    `json:"stateful"`
		} `json:"components"`
		Pods []struct {
			Name       string   `json:"name"`
			Components []string `json:"components"`
			Workload   string   `json:"workload"`
		} `json:"pods"`
		Couplings []struct {
			Kind        string          `json:"kind"`
			Resource    string          `json:"resource"`
			Components  []string        `json:"components"`
			Hidden      *bool           `json:"hidden"`
			CrossesPods *bool           `json:"crossesPods"`
			Bytes       *int64          `json:"bytes"`
			Evidence    json.RawMessage `json:"evidence"`
		} `json:"couplings"`
		Order      []string `json:"order"`
		BlindSpots []struct {
			What  string `json:"what"`
			Count *int64 `json:"count"`
		} `json:"blindSpots"`
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		t.Fatalf("analyze --json is not valid JSON: %v", err)
	}
	if len(plan.Components) != 9 || len(plan.Pods) != 3 || len(plan.Couplings) < 14 || len(plan.Order) != 3 || plan.BlindSpots == nil {
		t.Fatalf("unexpected plan shape: %d components, %d pods, %d couplings, order %v", len(plan.Components), len(plan.Pods), len(plan.Couplings), plan.Order)
	}
	for _, c := range plan.Couplings {
		if c.Hidden == nil || c.CrossesPods == nil || c.Bytes == nil || len(c.Evidence) == 0 {
			t.Fatalf("coupling %s %s lacks contract fields", c.Kind, c.Resource)
		}
	}
	for _, c := range plan.Components {
		if c.Stateful == nil || c.Users == nil || c.Listens == nil || c.Exe == "" {
			t.Fatalf("component %s lacks contract fields", c.Name)
		}
	}
}

func TestAnalyzeSameBytesTwice(t *testing.T) {
	p := bundledTrace(t)
	_, a, _ := decompose(t, "analyze", "--json", p)
	_, b, _ := decompose(t, "analyze", "--json", p)
	_, c, _ := decompose(t, "analyze", p)
	_, d, _ := decompose(t, "analyze", p)
	if a != b || c != d {
		t.Fatal("analyze output differs between runs")
	}
}

func TestExitCodesAndOneLineErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.trace")
	os.WriteFile(bad, []byte("not a trace"), 0o644)
	truncated := filepath.Join(dir, "truncated.trace")
	os.WriteFile(truncated, recordings.LegacyshopSynthetic[:len(recordings.LegacyshopSynthetic)/3], 0o644)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"analyze"}, 2, "needs at least one trace"},
		{[]string{"analyze", "--bogus", "x"}, 2, "unknown flag"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"analyze", "--resolution", "-1", bad}, 2, "resolution"},
		{[]string{"analyze", "--ignore", "(", bad}, 2, "regular expression"},
		{[]string{"analyze", bad}, 1, "not a decompose trace"},
		{[]string{"analyze", truncated}, 1, "truncated"},
		{[]string{"analyze", filepath.Join(dir, "missing.trace")}, 1, "no such file"},
		{[]string{"report", "-f", "pdf", bad}, 2, "unknown report format"},
		{[]string{"manifests"}, 2, "needs -o DIR"},
	}
	for _, c := range cases {
		code, _, errOut := decompose(t, c.args...)
		if code != c.code {
			t.Errorf("%v: exit %d, want %d (%s)", c.args, code, c.code, errOut)
		}
		first, _, _ := strings.Cut(errOut, "\n")
		if !strings.Contains(first, c.want) || !strings.HasPrefix(first, "decompose: ") {
			t.Errorf("%v: first stderr line %q lacks %q", c.args, first, c.want)
		}
	}
}

func TestEveryCommandHelpHasExample(t *testing.T) {
	for _, cmd := range []string{"record", "analyze", "report", "manifests", "tui", "static", "demo", "version"} {
		code, out, _ := decompose(t, cmd, "--help")
		if code != 0 || !strings.Contains(out, "Examples:") || !strings.Contains(out, "decompose "+cmd) {
			t.Errorf("%s --help: exit %d, no example:\n%s", cmd, code, out)
		}
	}
}

func TestReportWritesFileAtomically(t *testing.T) {
	out := filepath.Join(t.TempDir(), "plan.md")
	if code, _, errOut := decompose(t, "report", "-f", "md", "-o", out, bundledTrace(t)); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if b, err := os.ReadFile(out); err != nil || !bytes.HasPrefix(b, []byte("# Decomposition plan")) {
		t.Fatalf("report not written: %v", err)
	}
	code, _, errOut := decompose(t, "report", "-f", "md", "-o", "/nonexistent/dir/plan.md", bundledTrace(t))
	if code != 1 || !strings.Contains(errOut, "writable") {
		t.Fatalf("unwritable output: exit %d, %q", code, errOut)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := decompose(t, "version")
	if code != 0 || !strings.HasPrefix(out, "decompose ") || !strings.Contains(out, "trace schema 1") {
		t.Fatalf("version: %d %q", code, out)
	}
}

// TestAnalyzeWithSource points runtime couplings at the fixture's code.
func TestAnalyzeWithSource(t *testing.T) {
	code, out, errOut := decompose(t, "analyze", "--source", "../../fixtures/legacyshop", bundledTrace(t))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"code: shop-app cmd/shop-app/main.go:", "code: shop-app cmd/shop-app/main.go:57, shop-web cmd/shop-web/main.go:68"} {
		if !strings.Contains(out, want) {
			t.Errorf("analyze --source output lacks %q:\n%s", want, out)
		}
	}
	if code, _, errOut := decompose(t, "analyze", "--source", "/nonexistent", bundledTrace(t)); code != 1 || !strings.Contains(errOut, "--source /nonexistent") {
		t.Errorf("bad --source: exit %d, %q", code, errOut)
	}
}
