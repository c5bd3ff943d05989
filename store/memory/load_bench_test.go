package memory_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/cputime"
	"github.com/crmaccess/access/internal/intern"
	"github.com/crmaccess/access/internal/orggen"
	"github.com/crmaccess/access/store/memory"
)

// BenchmarkLoad measures what the store alone costs a start-up: the first
// Apply of a whole orggen organisation into an empty store (load-cpu-ms,
// process CPU, the collector included), the live heap the store keeps
// (store-MB) and the full delta a resolver reads when it starts
// (changes-cpu-ms: Changes(0) under the resolver's read-only promise).
// The shape is BenchmarkScale's at the root. Run with -benchtime 1x:
//
//	go test -run '^$' -bench 'Load/1M' -benchtime 1x ./store/memory
func BenchmarkLoad(b *testing.B) {
	for _, sz := range []struct {
		name string
		n    int
	}{{"100k", 100_000}, {"1M", 1_000_000}} {
		b.Run(sz.name, func(b *testing.B) {
			ctx := context.Background()
			var load, changes time.Duration
			var heap uint64
			for range b.N {
				b.StopTimer()
				base := heapNow()
				org := orggen.Generate(orggen.Config{Associates: sz.n, Groups: min(max(sz.n/10, 10), 10_000)})
				b.StartTimer()
				cpu := cputime.Process()
				s := memory.New()
				if _, err := s.Apply(ctx, org); err != nil {
					b.Fatal(err)
				}
				load += cputime.Process() - cpu
				b.StopTimer()
				org = access.Batch{}
				heap = heapNow() - base
				b.StartTimer()
				cpu = cputime.Process()
				d, err := s.Changes(intern.ReadOnly(ctx, s), 0)
				if err != nil || len(d.Associates) != sz.n {
					b.Fatalf("Changes(0) = %d associates, %v", len(d.Associates), err)
				}
				changes += cputime.Process() - cpu
				runtime.KeepAlive(s)
			}
			b.ReportMetric(float64(load.Milliseconds())/float64(b.N), "load-cpu-ms")
			b.ReportMetric(float64(changes.Milliseconds())/float64(b.N), "changes-cpu-ms")
			b.ReportMetric(float64(heap)/1e6, "store-MB")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// heapNow returns the live heap after two collections.
func heapNow() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
