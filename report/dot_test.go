package report

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// TestDOTParsesWithHostileNames renders plans whose names carry quotes,
// backslashes, newlines and markup, and has Graphviz parse them: every
// component is one node, inside a cluster per pod.
func TestDOTParsesWithHostileNames(t *testing.T) {
	for _, plan := range []struct {
		name string
		get  func(*testing.T) (int, int, []byte)
	}{{"files", func(t *testing.T) (int, int, []byte) {
		p := hostilePlan(t)
		var b bytes.Buffer
		if err := DOT(&b, p); err != nil {
			t.Fatal(err)
		}
		return len(p.Components), len(p.Pods), b.Bytes()
	}}, {"shop", func(t *testing.T) (int, int, []byte) {
		p := hostileShopPlan(t)
		var b bytes.Buffer
		if err := DOT(&b, p); err != nil {
			t.Fatal(err)
		}
		return len(p.Components), len(p.Pods), b.Bytes()
	}}} {
		comps, pods, dot := plan.get(t)
		if bytes.Contains(dot, []byte("\\\"\"")) {
			t.Errorf("%s: a label ends with an escaped quote", plan.name)
		}
		bin, err := exec.LookPath("dot")
		if err != nil {
			t.Skip("graphviz is not installed (scripts/test.sh installs it)")
		}
		cmd := exec.Command(bin, "-Tcanon")
		cmd.Stdin = bytes.NewReader(dot)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: dot rejects the output: %v\n%s\n%s", plan.name, err, out, dot)
		}
		if n := strings.Count(string(dot), " [label="); n < comps || strings.Count(string(dot), "subgraph ") != pods {
			t.Errorf("%s: %d labelled nodes and edges for %d components, %d clusters for %d pods", plan.name, n, comps, strings.Count(string(dot), "subgraph "), pods)
		}
	}
}
