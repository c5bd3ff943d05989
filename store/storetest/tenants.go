package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/crmaccess/access"
)

// Tenants runs the tenant cases: what a store owes a service that keeps
// many tenants in one database, each in a store of its own. Tenants must
// not see each other's entities, revisions, change logs or notifications,
// even when they use the same ids, and a write in one is validated against
// that tenant's model alone.
//
// open must return a Store of the tenant called tenant in one database
// shared by all the tenants of the run, migrated, and empty at revision 0
// the first time a name is opened. Opening a name again must return
// another Store on the same tenant, which sees the first one's writes (a
// store that cannot open a tenant twice may return the same Store). The
// names are lower-case letters, digits and _, at most 24 bytes, distinct
// within one call of Tenants (map them to fresh tenants, say with a
// per-run prefix, if the database outlives the test); open may use t for
// cleanup. Stores that implement [access.Watcher] have their watchers
// tested too.
func Tenants(t *testing.T, open func(t *testing.T, tenant string) Store) {
	t.Run("SameIDs", func(t *testing.T) { testTenantSameIDs(t, open) })
	t.Run("WriteInvisible", func(t *testing.T) { testTenantWriteInvisible(t, open) })
	t.Run("CrossReference", func(t *testing.T) { testTenantCrossReference(t, open) })
	t.Run("Delete", func(t *testing.T) { testTenantDelete(t, open) })
	t.Run("Watch", func(t *testing.T) { testTenantWatch(t, open) })
}

// otherFixture is fixture with the same ids and other content: other
// names, another role tree and other memberships.
func otherFixture() access.Batch {
	b := fixture()
	for i := range b.Roles {
		b.Roles[i].Name = "B " + b.Roles[i].Name
		b.Roles[i].Functions = nil
	}
	b.Roles[3].Parent = 2 // Support under Sales
	for i := range b.Groups {
		b.Groups[i].Name = "B " + b.Groups[i].Name
	}
	for i := range b.Associates {
		b.Associates[i].Name = "b-" + b.Associates[i].Name
	}
	b.Associates[0].Groups = []access.GroupID{30} // anna leaves the smart group
	b.Associates[0].Attributes = map[string]string{"dept": "support"}
	return b
}

func testTenantSameIDs(t *testing.T, open func(*testing.T, string) Store) {
	ctx := context.Background()
	a, b := open(t, "same_ids_a"), open(t, "same_ids_b")
	fa, fb := fixture(), otherFixture()
	mustApply(t, a, fa)
	// B moves on by three revisions, A by one: revisions are the
	// tenant's own.
	mustApply(t, b, access.Batch{Roles: fb.Roles[:1]})
	mustApply(t, b, access.Batch{Roles: fb.Roles[1:2]})
	revB := mustApply(t, b, fb)
	if revB != 3 {
		t.Errorf("tenant B's third write got revision %d, want 3", revB)
	}
	checkModel(t, a, 1, model{}.apply(fa))
	checkModel(t, b, 3, model{}.apply(fb))
	for _, c := range []struct {
		s    Store
		name string
		want string
		rev  access.Revision
	}{{a, "A", "Chief", 1}, {b, "B", "B Chief", 3}} {
		if r, err := c.s.Role(ctx, 1); err != nil || r.Name != c.want {
			t.Errorf("tenant %s: Role(1) = %q, %v; want %q", c.name, r.Name, err, c.want)
		}
		if rev := mustChanges(t, c.s, 0).To; rev != c.rev {
			t.Errorf("tenant %s: at revision %d, want %d", c.name, rev, c.rev)
		}
	}
	checkNames(t, a, model{}.apply(fa), fa, fb)
	checkNames(t, b, model{}.apply(fb), fa, fb)

	// Another Store on tenant A sees A's model, not B's.
	a2 := open(t, "same_ids_a")
	checkModel(t, a2, 1, model{}.apply(fa))
}

func testTenantWriteInvisible(t *testing.T, open func(*testing.T, string) Store) {
	ctx := context.Background()
	a, b := open(t, "invisible_a"), open(t, "invisible_b")
	f := fixture()
	revA := mustApply(t, a, f)
	revB := mustApply(t, b, f)
	mb := model{}.apply(f)

	anna := fixtureAssociate(100)
	anna.Name = "anna-renamed"
	anna.Groups = []access.GroupID{30}
	w := access.Batch{Associates: []access.Associate{anna}, DeleteGrants: []access.GrantID{700},
		Roles: []access.Role{{ID: 5, Name: "New in A", Parent: 1}}}
	revA2 := mustApply(t, a, w)
	if revA2 != revA+1 {
		t.Errorf("tenant A's write got revision %d, want %d", revA2, revA+1)
	}

	// A's change log lists the write; B's lists nothing after revB.
	if d := mustChanges(t, a, revA); d.Full || d.To != revA2 || len(d.Associates) != 1 || len(d.Roles) != 1 || len(d.DeleteGrants) != 1 {
		t.Errorf("tenant A: Changes(%d) = %+v, want the write of revision %d", revA, d, revA2)
	}
	d := mustChanges(t, b, revB)
	if d.To != revB || d.Full || !d.Empty() {
		t.Errorf("tenant B: Changes(%d) = %+v, want nothing after revision %d", revB, d, revB)
	}
	checkModel(t, b, revB, mb)
	checkModel(t, a, revA2, mb.apply(w))
	if got, err := b.Associate(ctx, 100); err != nil || got.Name != "anna" {
		t.Errorf("tenant B: Associate(100) = %q, %v; want anna", got.Name, err)
	}
	if _, err := b.Role(ctx, 5); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("tenant B: Role(5), put in A only: %v, want ErrNotFound", err)
	}
	if _, err := b.AssociateByName(ctx, "anna-renamed"); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("tenant B: AssociateByName(anna-renamed): %v, want ErrNotFound", err)
	}
	if deps, err := b.Dependants(ctx, access.Ref{Kind: access.KindAssociate, ID: 101}); err != nil || len(deps) == 0 {
		t.Errorf("tenant B: Dependants(associate 101) = %v, %v; want grant 700 among them", deps, err)
	}
}

func testTenantCrossReference(t *testing.T, open func(*testing.T, string) Store) {
	ctx := context.Background()
	a, b := open(t, "crossref_a"), open(t, "crossref_b")
	mustApply(t, a, fixture())
	base := access.Batch{Roles: []access.Role{{ID: 1, Name: "Only role"}}}
	revB := mustApply(t, b, base)
	mb := model{}.apply(base)

	cases := []struct {
		name  string
		batch access.Batch
		want  error
	}{
		{"primary group held by A only", access.Batch{Associates: []access.Associate{internal(200, "carl", 20, 1)}}, access.ErrInvalid},
		{"member group held by A only", access.Batch{Groups: []access.Group{{ID: 50, Name: "Outer", Groups: []access.GroupID{30}}}}, access.ErrInvalid},
		{"parent role held by A only", access.Batch{Roles: []access.Role{{ID: 9, Name: "Child", Parent: 2}}}, access.ErrInvalid},
		{"grant to an associate of A", access.Batch{Grants: []access.Grant{{ID: 702, Associate: 100, EntityType: "sale", RecordID: 1, Rights: access.R}}}, access.ErrInvalid},
		{"patch of an associate of A", access.Batch{Patches: []access.Patch{access.JoinGroup(100, 30)}}, access.ErrNotFound},
		{"patch of a role of A", access.Batch{Patches: []access.Patch{access.SetCell(2, "sale", access.Owner, access.R)}}, access.ErrNotFound},
	}
	for _, c := range cases {
		if _, err := b.Apply(ctx, c.batch); !errors.Is(err, c.want) {
			t.Errorf("%s: Apply in tenant B: %v, want an error wrapping %v", c.name, err, c.want)
		}
	}
	checkModel(t, b, revB, mb)
	checkModel(t, a, 1, model{}.apply(fixture()))
}

func testTenantDelete(t *testing.T, open func(*testing.T, string) Store) {
	ctx := context.Background()
	a, b := open(t, "delete_a"), open(t, "delete_b")
	f := fixture()
	mustApply(t, a, f)
	revB := mustApply(t, b, f)
	del := access.Batch{
		DeleteImpersonations: []access.ImpersonationID{800, 801},
		DeleteGrants:         []access.GrantID{700},
		DeleteAssociates:     []access.AssociateID{102, 106},
	}
	revA := mustApply(t, a, del)
	revA = mustApply(t, a, access.Batch{DeleteAssociates: []access.AssociateID{104}})
	if _, err := a.Associate(ctx, 106); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("tenant A: Associate(106) after its delete: %v, want ErrNotFound", err)
	}
	for _, id := range []access.AssociateID{102, 104, 106} {
		if _, err := b.Associate(ctx, id); err != nil {
			t.Errorf("tenant B: Associate(%d), deleted in A only: %v", id, err)
		}
	}
	if d := mustChanges(t, a, revA-2); len(d.DeleteAssociates) != 3 {
		t.Errorf("tenant A: Changes(%d) deletes associates %v, want 102, 104, 106", revA-2, d.DeleteAssociates)
	}
	if d := mustChanges(t, b, revB); !d.Empty() {
		t.Errorf("tenant B: Changes(%d) = %+v after deletes in A, want nothing", revB, d)
	}
	checkModel(t, b, revB, model{}.apply(f))
}

// tenantWatcher records the revisions a watcher is told.
type tenantWatcher struct {
	mu   sync.Mutex
	max  access.Revision
	seen chan struct{} // closed and replaced on each call
}

func watchTenant(t *testing.T, s Store) (*tenantWatcher, bool) {
	w, ok := s.(access.Watcher)
	if !ok {
		return nil, false
	}
	tw := &tenantWatcher{seen: make(chan struct{})}
	stop := w.Watch(func(rev access.Revision) {
		tw.mu.Lock()
		tw.max = max(tw.max, rev)
		close(tw.seen)
		tw.seen = make(chan struct{})
		tw.mu.Unlock()
	})
	t.Cleanup(stop)
	return tw, true
}

func (tw *tenantWatcher) highest() access.Revision {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	return tw.max
}

// waitFor waits until the watcher has been told of rev, failing the test
// after 30 seconds.
func (tw *tenantWatcher) waitFor(t *testing.T, who string, rev access.Revision) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		tw.mu.Lock()
		got, seen := tw.max, tw.seen
		tw.mu.Unlock()
		if got >= rev {
			return
		}
		select {
		case <-seen:
		case <-deadline:
			t.Fatalf("%s: watcher not told of revision %d within 30s (has %d)", who, rev, got)
		}
	}
}

func testTenantWatch(t *testing.T, open func(*testing.T, string) Store) {
	a, b := open(t, "watch_a"), open(t, "watch_b")
	// The watched Stores are second Stores on the tenants, so that the
	// writes reach them the way other processes' writes do.
	a2, b2 := open(t, "watch_a"), open(t, "watch_b")
	wa, ok := watchTenant(t, a2)
	if !ok {
		t.Skip("the store is not an access.Watcher")
	}
	wb, _ := watchTenant(t, b2)

	// B runs well ahead of A, so that a B revision told to A's watcher
	// would show as too high.
	for i := range 5 {
		mustApply(t, b, access.Batch{Roles: []access.Role{{ID: access.RoleID(i + 1), Name: "b"}}})
	}
	revA := mustApply(t, a, access.Batch{Roles: []access.Role{{ID: 1, Name: "a"}}})
	wb.waitFor(t, "tenant B", 5)
	wa.waitFor(t, "tenant A", revA)

	revB := mustApply(t, b, access.Batch{Roles: []access.Role{{ID: 6, Name: "b"}}})
	wb.waitFor(t, "tenant B", revB)
	revA = mustApply(t, a, access.Batch{Roles: []access.Role{{ID: 2, Name: "a"}}})
	wa.waitFor(t, "tenant A", revA)
	// One more B write after A's: its notification, if misrouted, would
	// reach A's watcher before this write reaches B's.
	revB = mustApply(t, b, access.Batch{Roles: []access.Role{{ID: 7, Name: "b"}}})
	wb.waitFor(t, "tenant B", revB)

	if got := wa.highest(); got != revA {
		t.Errorf("tenant A's watcher was told of revision %d; A is at %d (B at %d)", got, revA, revB)
	}
	if got := mustChanges(t, a, 0).To; got != revA {
		t.Errorf("tenant A is at revision %d, want %d", got, revA)
	}
}
