package graph_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/decompose-dev/decompose/fixtures/recordings"
	"github.com/decompose-dev/decompose/fixtures/synth"
	"github.com/decompose-dev/decompose/fixtures/truth"
	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/trace"
)

var legacyshopVars = map[string]string{
	"ROOT": "/srv/legacyshop", "WEB_PORT": "8080", "CACHE_PORT": "6380", "DB_PORT": "5433",
	"METRICS_PORT": "8125", "SHM": "/dev/shm/legacyshop-stats",
}

// legacyshopTrace synthesizes the trace of the legacyshop fixture.
func legacyshopTrace(t testing.TB) (*truth.GroundTruth, *trace.Trace) {
	t.Helper()
	g, err := truth.Load("../fixtures/legacyshop/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	g, err = g.Expand(legacyshopVars)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := synth.Build(g, synth.Options{BinDir: "/srv/legacyshop/opt/legacyshop/bin", HostIP: "10.0.0.10", Hostname: "vm", Rounds: 3})
	if err != nil {
		t.Fatal(err)
	}
	return g, tr
}

func TestLegacyshopAgainstGroundTruth(t *testing.T) {
	g, tr := legacyshopTrace(t)
	plan, err := graph.Analyze([]*trace.Trace{tr}, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	score := truth.Compare(g, plan)
	t.Logf("legacyshop (synthetic): %s", score)
	for _, m := range score.Missing {
		t.Errorf("missing coupling %s", m)
	}
	if score.CouplingRecall() < 1 {
		t.Errorf("coupling recall %.2f, want 1", score.CouplingRecall())
	}
	if score.PairF1 < 0.9 {
		for _, p := range plan.Pods {
			t.Logf("pod %s: %v", p.Name, p.Components)
		}
		t.Errorf("same-pod F1 %.2f, want >= 0.9", score.PairF1)
	}
	byName := map[string]graph.Component{}
	for _, c := range plan.Components {
		byName[c.Name] = c
	}
	for _, want := range g.Components {
		got, ok := byName[want.Name]
		if !ok {
			t.Errorf("component %s not found", want.Name)
			continue
		}
		if got.Stateful != want.Stateful || got.Exposed != want.Exposed {
			t.Errorf("component %s: stateful=%v exposed=%v, want %v %v", want.Name, got.Stateful, got.Exposed, want.Stateful, want.Exposed)
		}
	}
	for _, x := range g.Excluded {
		if _, ok := byName[x.Name]; ok {
			t.Errorf("component %s should be excluded (%s)", x.Name, x.Why)
		}
	}
}

// TestDeterministicJSON analyzes each trace several times: the plans must
// be the same bytes. The real recording has a spool directory of more
// entries than a coupling lists as evidence.
func TestDeterministicJSON(t *testing.T) {
	recorded := filepath.Join(t.TempDir(), "legacyshop.trace")
	if err := os.WriteFile(recorded, recordings.Legacyshop, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		trace func() *trace.Trace
	}{
		{"synthetic", func() *trace.Trace { _, tr := legacyshopTrace(t); return tr }},
		{"recorded", func() *trace.Trace {
			tr, err := trace.Open(recorded)
			if err != nil {
				t.Fatal(err)
			}
			return tr
		}},
	} {
		var outs [][]byte
		for i := 0; i < 5; i++ {
			plan, err := graph.Analyze([]*trace.Trace{c.trace()}, graph.Options{})
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(plan)
			if err != nil {
				t.Fatal(err)
			}
			outs = append(outs, b)
		}
		for i := 1; i < len(outs); i++ {
			if !bytes.Equal(outs[0], outs[i]) {
				t.Fatalf("%s: run %d gave different JSON", c.name, i)
			}
		}
	}
}
