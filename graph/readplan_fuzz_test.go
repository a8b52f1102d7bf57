package graph

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzReadPlan feeds malformed plan files (as a user might hand-edit one
// saved by the TUI) to ReadPlan: it returns a plan or a one-line error,
// never panics, and a plan it accepts is consistent.
func FuzzReadPlan(f *testing.F) {
	plan, err := Analyze(traceOf(webApp()), Options{})
	if err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(plan); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(`{"components":[{"name":"a"}],"pods":[{"name":"a","components":["a"]}]}`))
	f.Add([]byte(`{"components":[{"name":"a"},{"name":"b"}],"pods":[{"name":"a","components":["a","b"]}],"couplings":[{"kind":"shm","resource":"x","components":["a","b"],"distance":"container"}]}`))
	f.Add([]byte(`{"pods":[{"name":"Bad Name","components":[]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ReadPlan(bytes.NewReader(data), "fuzz.json")
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error: %q", err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted plan fails validation: %v", err)
		}
		for _, c := range p.Components {
			p.Move(c.Name, "")
		}
	})
}
