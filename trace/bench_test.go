package trace_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/decompose-dev/decompose/fixtures/synth"
	"github.com/decompose-dev/decompose/trace"
)

// BenchmarkStore measures trace store throughput in access records per
// second, writing and reading traces of 1e4 to 1e6 records:
//
//	go test -run '^$' -bench Store -benchtime 1x ./trace/
func BenchmarkStore(b *testing.B) {
	for _, n := range []int{1e4, 1e5, 1e6} {
		tr := synth.Scaled(n, max(10, n/100))
		b.Run(fmt.Sprintf("write/records=%d", len(tr.Accesses)), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				path := filepath.Join(b.TempDir(), "w.trace")
				if err := synth.Write(tr, path); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(tr.Accesses))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
		path := filepath.Join(b.TempDir(), "r.trace")
		if err := synth.Write(tr, path); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("read/records=%d", len(tr.Accesses)), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := trace.Open(path); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(tr.Accesses))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
