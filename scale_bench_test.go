package access_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/cputime"
	"github.com/crmaccess/access/internal/orggen"
	"github.com/crmaccess/access/store/memory"
)

// scaleSizes are the organisation sizes BenchmarkScale runs at: orggen's
// default shape from a thousand to a million associates.
var scaleSizes = []struct {
	name string
	n    int
}{{"1k", 1_000}, {"10k", 10_000}, {"100k", 100_000}, {"1M", 1_000_000}}

// scaleOrg generates the orggen organisation of n associates: one group
// per ten associates up to orggen's default of 10,000 groups (reached at
// 100,000 associates), 50 roles. Past that the groups stay at 10,000, as
// in bench/ with -associates 1000000: with a group per ten associates each
// role-based group would list tens of thousands of members, and the
// memberships per associate would grow tenfold, which is a different
// organisation, not a bigger one.
func scaleOrg(n int) access.Batch {
	return orggen.Generate(orggen.Config{Associates: n, Groups: min(max(n/10, 10), 10_000)})
}

// liveHeap returns the live heap after two collections.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkScale sizes a machine: at each size it loads the organisation
// into a memory store in one batch (apply-ms), builds a resolver over it
// (ready-ms: NewResolver, Changes(0) and a full compile), each also in
// CPU time of the process (apply-cpu-ms, ready-cpu-ms: the collector's
// work included, other processes' excluded), and measures the
// live heap both keep after a collection (heap-MB, store and snapshot
// together), the store's share of it (store-MB) and the snapshot's
// estimate of itself (snapshot-MB, Stats.SnapshotBytes), each also per
// associate. Run it with -benchtime=1x; the 1M size needs about 2 GB:
//
//	go test -run '^$' -bench 'Scale/1M' -benchtime 1x
func BenchmarkScale(b *testing.B) {
	for _, sz := range scaleSizes {
		b.Run(sz.name, func(b *testing.B) {
			ctx := context.Background()
			var apply, ready, applyCPU, readyCPU time.Duration
			var heap, storeHeap uint64
			var snap int64
			for range b.N {
				b.StopTimer()
				base := liveHeap()
				batch := scaleOrg(sz.n)
				b.StartTimer()

				start, cpu := time.Now(), cputime.Process()
				mem := memory.New()
				if _, err := mem.Apply(ctx, batch); err != nil {
					b.Fatal(err)
				}
				apply += time.Since(start)
				applyCPU += cputime.Process() - cpu
				b.StopTimer()
				batch = access.Batch{}
				storeHeap = liveHeap() - base
				b.StartTimer()

				start, cpu = time.Now(), cputime.Process()
				e, err := access.NewResolver(ctx, mem, &access.Options{PollInterval: -1})
				if err != nil {
					b.Fatal(err)
				}
				ready += time.Since(start)
				readyCPU += cputime.Process() - cpu
				b.StopTimer()
				heap = liveHeap() - base
				snap = e.Stats().SnapshotBytes
				runtime.KeepAlive(mem)
				e.Close()
				b.StartTimer()
			}
			per := func(v float64) float64 { return v / float64(sz.n) }
			b.ReportMetric(float64(apply.Milliseconds())/float64(b.N), "apply-ms")
			b.ReportMetric(float64(ready.Milliseconds())/float64(b.N), "ready-ms")
			b.ReportMetric(float64(applyCPU.Milliseconds())/float64(b.N), "apply-cpu-ms")
			b.ReportMetric(float64(readyCPU.Milliseconds())/float64(b.N), "ready-cpu-ms")
			b.ReportMetric(float64(heap)/1e6, "heap-MB")
			b.ReportMetric(float64(storeHeap)/1e6, "store-MB")
			b.ReportMetric(float64(snap)/1e6, "snapshot-MB")
			b.ReportMetric(per(float64(heap)), "heap-B/assoc")
			b.ReportMetric(per(float64(snap)), "snapshot-B/assoc")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// TestBuild_parallelMembershipsAsSerial checks that a full build that
// computes memberships in several goroutines gives every associate the
// memberships, with their explanations, that one goroutine gives.
func TestBuild_parallelMembershipsAsSerial(t *testing.T) {
	ctx := context.Background()
	mem := memory.New()
	if _, err := mem.Apply(ctx, orggen.Generate(orggen.Config{Seed: 7, Associates: 3000, Groups: 300, Roles: 12, SmartGroups: 4})); err != nil {
		t.Fatal(err)
	}
	resolve := func() *access.Engine {
		e, err := access.NewResolver(ctx, mem, &access.Options{PollInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	}
	serial := resolve()
	restore := access.SetParallelMin(1)
	parallel := resolve()
	restore()
	d, err := mem.Changes(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	members := 0
	for _, a := range d.Associates {
		want, err := serial.EffectiveGroups(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parallel.EffectiveGroups(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("associate %d (-serial +parallel):\n%s", a.ID, diff)
		}
		members += len(got)
	}
	if members == 0 {
		t.Fatal("no associate has a membership: the test checks nothing")
	}
	if err := access.CheckHeaders(parallel); err != nil {
		t.Fatal(err)
	}
}
