package access_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/orggen"
	"github.com/crmaccess/access/store/memory"
)

// TestStats_snapshotBytes checks Stats.SnapshotBytes against what loading
// a memory store and building a resolver over it cost the heap: the
// associates, which the store lends the snapshot and the estimate counts;
// the store's indexes, which it does not; and the resolver, nearly all of
// it the snapshot. The estimate must be within a factor of two of that
// growth either way.
func TestStats_snapshotBytes(t *testing.T) {
	ctx := context.Background()
	batch := orggen.Generate(orggen.Config{Associates: 5000, Groups: 500, Roles: 20, SmartGroups: 5})
	before := int64(liveHeap())
	mem := memory.New()
	if _, err := mem.Apply(ctx, batch.Clone()); err != nil {
		t.Fatal(err)
	}

	// Other tests' goroutines may free memory while this one measures;
	// that can only shrink the growth, so a build whose growth lands
	// outside the bounds is measured again, up to three times. An estimate
	// that is wrong stays outside every time.
	var e *access.Engine
	var est int64
	for attempt := 1; ; attempt++ {
		r, err := access.NewResolver(ctx, mem, &access.Options{PollInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		grown := int64(liveHeap()) - before
		est = r.Stats().SnapshotBytes
		t.Logf("5,000 associates: SnapshotBytes %d, heap growth of store and resolver %d (ratio %.2f)", est, grown, float64(est)/float64(grown))
		if est > 0 && est <= 2*grown && 2*est >= grown {
			e = r
			break
		}
		r.Close()
		if attempt == 3 {
			t.Fatalf("SnapshotBytes = %d, heap growth %d: not within a factor of 2", est, grown)
		}
	}
	defer e.Close()
	if again := e.Stats().SnapshotBytes; again != est {
		t.Errorf("SnapshotBytes changed between two calls on one snapshot: %d, then %d", est, again)
	}

	// A write that adds 1,000 associates makes the snapshot bigger.
	var add access.Batch
	for k := range 1000 {
		a := batch.Associates[k%len(batch.Associates)]
		a.ID = access.AssociateID(1_000_000 + k)
		a.Name = fmt.Sprintf("added-%d", k)
		add.Associates = append(add.Associates, a)
	}
	rev, err := mem.Apply(ctx, add)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Sync(ctx, rev); err != nil {
		t.Fatal(err)
	}
	after := e.Stats().SnapshotBytes
	t.Logf("after adding 1,000 associates: SnapshotBytes %d (+%d)", after, after-est)
	if after <= est {
		t.Errorf("SnapshotBytes after adding 1,000 associates = %d, want more than %d", after, est)
	}
}
