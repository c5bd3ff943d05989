package access_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/crmaccess/access"
)

// BenchmarkKeptDecisions keeps one decision per revision, as an audit
// queue would, while every operation renames an associate (a new revision
// each time), and reports the heap that stays alive per kept decision once
// the garbage collector has run.
func BenchmarkKeptDecisions(b *testing.B) {
	o := loadBenchOrg(b)
	ctx := context.Background()
	a, err := o.store.Associate(ctx, o.internal[0])
	if err != nil {
		b.Fatal(err)
	}
	name := a.Name
	rec := access.Record{Type: "contact", ID: 1, Owner: a.ID}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	kept := make([]access.Decision, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		a.Name = fmt.Sprintf("%s-%d", name, i)
		if err := o.store.PutAssociate(ctx, a); err != nil {
			b.Fatal(err)
		}
		d, err := o.engine.Can(ctx, a.ID, access.Read, rec)
		if err != nil {
			b.Fatal(err)
		}
		kept = append(kept, d)
	}
	b.StopTimer()
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(b.N), "retained-B/decision")
	if got := kept[0].String(); len(got) == 0 {
		b.Fatal("empty explanation")
	}
	runtime.KeepAlive(kept)
	a.Name = name
	if err := o.store.PutAssociate(ctx, a); err != nil {
		b.Fatal(err)
	}
}
