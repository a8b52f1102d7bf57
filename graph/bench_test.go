package graph_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/decompose-dev/decompose/fixtures/synth"
	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/trace"
)

// BenchmarkAnalyze measures the engine from 1e3 to 1e6 access records (10
// to 10,000 processes). Run with:
//
//	go test -run '^$' -bench Analyze -benchtime 3x ./graph/
//
// peak-MB is the live heap after the analysis plus what it allocated: an
// upper bound of its peak.
func BenchmarkAnalyze(b *testing.B) {
	for _, n := range []int{1e3, 1e4, 1e5, 1e6} {
		tr := synth.Scaled(n, n/100)
		b.Run(fmt.Sprintf("accesses=%d", len(tr.Accesses)), func(b *testing.B) {
			b.ReportAllocs()
			var plan *graph.Plan
			var before, after runtime.MemStats
			for i := 0; i < b.N; i++ {
				runtime.GC()
				runtime.ReadMemStats(&before)
				var err error
				plan, err = graph.Analyze([]*trace.Trace{tr}, graph.Options{})
				if err != nil {
					b.Fatal(err)
				}
				runtime.ReadMemStats(&after)
			}
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/1e6, "alloc-MB/op")
			b.ReportMetric(float64(len(plan.Couplings)), "couplings")
		})
	}
}

// TestScaledAnalyzeSmoke keeps the benchmark's path working in the test
// command: a 1e4-record synthetic trace analyzes into a sane plan.
func TestScaledAnalyzeSmoke(t *testing.T) {
	tr := synth.Scaled(1e4, 100)
	plan, err := graph.Analyze([]*trace.Trace{tr}, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Components) != 10 || len(plan.Pods) == 0 || len(plan.Couplings) == 0 {
		t.Fatalf("plan: %d components, %d pods, %d couplings", len(plan.Components), len(plan.Pods), len(plan.Couplings))
	}
}
