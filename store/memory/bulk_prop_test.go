package memory_test

import (
	"errors"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
)

// sentinelID is an id of each kind that no drawn batch names.
const sentinelID = 100

// sentinels puts a role, a group and an associate that drawn batches
// never name, so that every table of the store holds something and a
// write takes the ordinary path rather than the first load's.
var sentinels = access.Batch{
	Roles:  []access.Role{{ID: sentinelID, Name: "sentinel"}},
	Groups: []access.Group{{ID: sentinelID, Name: "sentinel"}},
	Associates: []access.Associate{{ID: sentinelID, Name: "zz-sentinel", Type: access.Internal,
		Role: sentinelID, PrimaryGroup: sentinelID}},
}

// dropSentinels deletes the sentinels, leaving no past owner behind.
var dropSentinels = access.Batch{
	DeleteRoles:      []access.RoleID{sentinelID},
	DeleteGroups:     []access.GroupID{sentinelID},
	DeleteAssociates: []access.AssociateID{sentinelID},
	ForgetPastOwners: []access.AssociateID{sentinelID},
}

// sameOutcome fails t unless two writes failed alike: both or neither,
// with the same message and the same sentinel errors.
func sameOutcome(t *rapid.T, what string, bulk, ordinary error) {
	if (bulk == nil) != (ordinary == nil) {
		t.Fatalf("%s: into an empty store %v, into a store holding others %v", what, bulk, ordinary)
	}
	if bulk == nil {
		return
	}
	if bulk.Error() != ordinary.Error() {
		t.Fatalf("%s: into an empty store %q, into a store holding others %q", what, bulk, ordinary)
	}
	for _, e := range []error{access.ErrInvalid, access.ErrCycle, access.ErrNameTaken, access.ErrInUse, access.ErrNotFound} {
		if errors.Is(bulk, e) != errors.Is(ordinary, e) {
			t.Fatalf("%s: errors.Is(%v) differs: %v, %v", what, e, bulk, ordinary)
		}
	}
}

// TestFirstLoadAsOrdinaryWrite loads a whole random model, valid or not,
// in one batch into an empty store, where every table takes the batch as
// its rows, and into a store whose tables hold others, where the same
// batch is an ordinary write: the two fail alike, a failed load leaves
// both as they were, and a load that succeeds (the others deleted again)
// gives the same Changes(0), dependants and names, as it does after a
// series of further writes to both. The valid models are those a series
// of writes built, so a load also matches the store it was built in.
func TestFirstLoadAsOrdinaryWrite(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		// A model built by writes, as TestProperties builds one.
		pieces := memory.New()
		hist := []model{model{}.apply(access.Batch{})}
		for range rapid.IntRange(0, 20).Draw(t, "writes") {
			b := drawBatch(t, hist[len(hist)-1])
			if _, err := pieces.Apply(ctx, b); err == nil && !b.Empty() {
				hist = append(hist, hist[len(hist)-1].apply(b))
			}
		}
		m := hist[len(hist)-1]
		spoiled := rapid.Bool().Draw(t, "spoil")
		if spoiled {
			// Written over without validation: often invalid as a whole.
			m = m.apply(drawBatch(t, m))
		}
		load := m.batch()

		bulk, ordinary := memory.New(), memory.New()
		mustApplyRapid(t, ordinary, sentinels)
		before, _ := ordinary.Changes(ctx, 0)
		_, errBulk := bulk.Apply(ctx, load)
		_, errOrdinary := ordinary.Apply(ctx, load)
		sameOutcome(t, "load", errBulk, errOrdinary)
		if errBulk != nil {
			if d, _ := bulk.Changes(ctx, 0); bulk.Revision() != 0 || !d.Empty() {
				t.Fatalf("a failed load (%v) left revision %d and %+v", errBulk, bulk.Revision(), d.Batch)
			}
			if d, _ := ordinary.Changes(ctx, 0); ordinary.Revision() != 1 || gocmp.Diff(before, d) != "" {
				t.Fatalf("a failed write (%v) changed the store:\n%s", errBulk, gocmp.Diff(before, d))
			}
			return
		}
		mustApplyRapid(t, ordinary, dropSentinels)
		same(t, "load", bulk, ordinary)
		if !spoiled {
			d, _ := pieces.Changes(ctx, 0)
			if diff := gocmp.Diff(m.batch(), model{}.follow(d).batch()); diff != "" {
				t.Fatalf("a load of the model the writes built differs from their store (-writes +load):\n%s", diff)
			}
		}
		for range rapid.IntRange(0, 10).Draw(t, "writes after") {
			b := drawBatch(t, m)
			_, errBulk := bulk.Apply(ctx, b)
			_, errOrdinary := ordinary.Apply(ctx, b)
			sameOutcome(t, "a later write", errBulk, errOrdinary)
			if errBulk == nil {
				m = m.apply(b)
			}
			same(t, "a later write", bulk, ordinary)
		}
		d, _ := bulk.Changes(ctx, 0)
		if diff := gocmp.Diff(m.batch(), model{}.follow(d).batch()); diff != "" {
			t.Fatalf("Changes(0) after the writes (-model +store):\n%s", diff)
		}
	})
}

// mustApplyRapid applies b, failing t if the store rejects it.
func mustApplyRapid(t *rapid.T, s *memory.Store, b access.Batch) {
	if _, err := s.Apply(ctx, b); err != nil {
		t.Fatalf("Apply(%+v): %v", b, err)
	}
}

// same fails t unless the stores hold the same model, with the same
// dependants and names.
func same(t *rapid.T, what string, a, b *memory.Store) {
	da, err := a.Changes(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	db, err := b.Changes(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := gocmp.Diff(da.Batch, db.Batch); diff != "" {
		t.Fatalf("%s: Changes(0) (-first load +ordinary write):\n%s", what, diff)
	}
	for _, ref := range allRefs() {
		x, _ := a.Dependants(ctx, ref)
		y, _ := b.Dependants(ctx, ref)
		if diff := gocmp.Diff(x, y); diff != "" {
			t.Fatalf("%s: Dependants(%s) (-first load +ordinary write):\n%s", what, ref, diff)
		}
	}
	for _, name := range names {
		x, errX := a.AssociateByName(ctx, name)
		y, errY := b.AssociateByName(ctx, name)
		if x.ID != y.ID || (errX == nil) != (errY == nil) {
			t.Fatalf("%s: AssociateByName(%q) = %d, %v and %d, %v", what, name, x.ID, errX, y.ID, errY)
		}
	}
}
