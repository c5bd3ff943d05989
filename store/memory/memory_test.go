package memory_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/internal/intern"
	"github.com/crmaccess/access/internal/orggen"
	"github.com/crmaccess/access/store/memory"
	"github.com/crmaccess/access/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return memory.New() })
}

// TestConformanceNoLog runs the suite against a store that remembers no
// changes, so that every Changes from an earlier revision is a full delta.
func TestConformanceNoLog(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return memory.NewWithLog(0) })
}

var ctx = context.Background()

func role(id access.RoleID) access.Batch {
	return access.Batch{Roles: []access.Role{{ID: id, Name: fmt.Sprint("role ", id)}}}
}

func mustApply(t *testing.T, s *memory.Store, b access.Batch) access.Revision {
	t.Helper()
	rev, err := s.Apply(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

func TestChangeLogTrim(t *testing.T) {
	tests := []struct {
		name   string
		log    int
		writes []access.Batch
		// full lists the revisions Changes answers with a full delta;
		// from every other revision up to the latest it is incremental.
		full []access.Revision
	}{
		{
			name:   "by revisions",
			log:    3,
			writes: []access.Batch{role(1), role(2), role(3), role(4), role(5)},
			full:   []access.Revision{0, 1},
		},
		{
			name:   "log of one",
			log:    1,
			writes: []access.Batch{role(1), role(2), role(3)},
			full:   []access.Revision{0, 1},
		},
		{
			name:   "no log",
			log:    0,
			writes: []access.Batch{role(1), role(2)},
			full:   []access.Revision{0, 1},
		},
		{
			// Deleting everything leaves an empty model, so the log
			// forgets the delete too: the full delta is empty anyway.
			name: "by size",
			log:  4,
			writes: []access.Batch{
				{Roles: []access.Role{{ID: 1, Name: "a"}, {ID: 2, Name: "b"}, {ID: 3, Name: "c"}, {ID: 4, Name: "d"}, {ID: 5, Name: "e"}}},
				{DeleteRoles: []access.RoleID{1, 2, 3, 4, 5}},
			},
			full: []access.Revision{0, 1},
		},
		{
			name: "a large write within the model's size is kept",
			log:  2,
			writes: []access.Batch{
				{Roles: []access.Role{{ID: 1, Name: "a"}, {ID: 2, Name: "b"}, {ID: 3, Name: "c"}}},
				role(4),
			},
			full: []access.Revision{0},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := memory.NewWithLog(tc.log)
			for _, b := range tc.writes {
				mustApply(t, s, b)
			}
			latest := s.Revision()
			if latest != access.Revision(len(tc.writes)) {
				t.Fatalf("revision %d after %d writes", latest, len(tc.writes))
			}
			for since := access.Revision(0); since <= latest+1; since++ {
				d, err := s.Changes(ctx, since)
				if err != nil {
					t.Fatal(err)
				}
				wantFull := slices.Contains(tc.full, since) || since > latest
				if d.Full != wantFull {
					t.Errorf("Changes(%d).Full = %v, want %v", since, d.Full, wantFull)
				}
				if d.Full && d.From != 0 {
					t.Errorf("Changes(%d): full delta from %d, want 0", since, d.From)
				}
				if !d.Full && d.From != since {
					t.Errorf("Changes(%d).From = %d", since, d.From)
				}
				if d.To != latest {
					t.Errorf("Changes(%d).To = %d, want %d", since, d.To, latest)
				}
			}
		})
	}
}

// TestExactValues checks that the store keeps nil and empty apart, which
// the conformance suite does not demand of every store.
func TestExactValues(t *testing.T) {
	s := memory.New()
	b := access.Batch{
		Roles: []access.Role{
			{ID: 1, Name: "nil"},
			{ID: 2, Name: "empty", Rights: map[string]access.Grid{"contact": nil, "sale": {}}, Functions: []string{}},
		},
		Groups: []access.Group{
			{ID: 1, Name: "nil"},
			{ID: 2, Name: "empty", Groups: []access.GroupID{}, Roles: []access.RoleID{}, RolesAndSubordinates: []access.RoleID{},
				Functions: []string{}, Defaults: map[string]access.CRUD{}, Admins: []access.AssociateID{}, Fields: map[string]string{}},
		},
		Associates: []access.Associate{
			{ID: 1, Name: "nil", Type: access.Resource},
			{ID: 2, Name: "empty", Type: access.Resource, Projects: []int64{}, Attributes: map[string]string{}, Categories: []access.CategoryID{}},
		},
	}
	mustApply(t, s, b)
	d, err := s.Changes(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(b.Roles, d.Roles); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(b.Groups, d.Groups); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(b.Associates, d.Associates); diff != "" {
		t.Errorf("associates (-want +got):\n%s", diff)
	}
	// cmp.Diff equates nil and empty only with an option; check it does
	// tell them apart here, or the test above proves nothing.
	if cmp.Equal([]int64(nil), []int64{}) {
		t.Fatal("cmp.Equal treats nil and empty slices as equal")
	}
	g, err := s.Group(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if g.Groups == nil || g.Defaults == nil || g.Fields == nil {
		t.Errorf("Group(2) lost its empty slices or maps: %+v", g)
	}
}

func TestConvenience(t *testing.T) {
	s := memory.New()
	steps := []struct {
		name string
		do   func() error
		want error // nil for success
	}{
		{"PutRole", func() error { return s.PutRole(ctx, access.Role{ID: 1, Name: "r"}) }, nil},
		{"PutGroup", func() error { return s.PutGroup(ctx, access.Group{ID: 10, Name: "g"}) }, nil},
		{"PutAssociate", func() error {
			return s.PutAssociate(ctx, access.Associate{ID: 100, Name: "anna", PrimaryGroup: 10, Role: 1})
		}, nil},
		{"PutAssociate invalid", func() error { return s.PutAssociate(ctx, access.Associate{ID: 101, Name: "bob", Role: 1}) }, access.ErrInvalid},
		{"DeleteRole in use", func() error { return s.DeleteRole(ctx, 1) }, access.ErrInUse},
		{"DeleteGroup in use", func() error { return s.DeleteGroup(ctx, 10) }, access.ErrInUse},
		{"DeleteAssociate missing", func() error { return s.DeleteAssociate(ctx, 999) }, access.ErrNotFound},
		{"DeleteGroup missing", func() error { return s.DeleteGroup(ctx, 999) }, access.ErrNotFound},
		{"DeleteRole missing", func() error { return s.DeleteRole(ctx, 999) }, access.ErrNotFound},
		{"DeleteAssociate id zero", func() error { return s.DeleteAssociate(ctx, 0) }, access.ErrInvalid},
		{"DeleteAssociate", func() error { return s.DeleteAssociate(ctx, 100) }, nil},
		{"DeleteGroup", func() error { return s.DeleteGroup(ctx, 10) }, nil},
		{"DeleteRole", func() error { return s.DeleteRole(ctx, 1) }, nil},
	}
	rev := s.Revision()
	for _, st := range steps {
		err := st.do()
		if st.want == nil {
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			rev++
		} else if !errors.Is(err, st.want) {
			t.Fatalf("%s: error %v, want one wrapping %q", st.name, err, st.want)
		}
		if s.Revision() != rev {
			t.Fatalf("after %s: revision %d, want %d", st.name, s.Revision(), rev)
		}
	}
	// The deleted associate stays as a past owner until it is forgotten.
	d, err := s.Changes(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.PastOwners) != 1 || d.PastOwners[0].ID != 100 {
		t.Errorf("past owners after deleting associate 100: %+v, want it", d.PastOwners)
	}
	if _, err := s.Apply(ctx, access.Batch{ForgetPastOwners: []access.AssociateID{100}}); err != nil {
		t.Fatal(err)
	}
	d, err = s.Changes(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Empty() {
		t.Errorf("store not empty after deleting everything: %+v", d.Batch)
	}
}

// TestDeleteMissing pins down what Apply does with a delete of an id the
// store does not hold: it commits, and the delta does not mention the id.
func TestDeleteMissing(t *testing.T) {
	s := memory.New()
	mustApply(t, s, role(1))
	rev := mustApply(t, s, access.Batch{DeleteGroups: []access.GroupID{42}, Roles: []access.Role{{ID: 2, Name: "two"}}})
	if rev != 2 {
		t.Errorf("revision %d, want 2", rev)
	}
	d, err := s.Changes(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := access.Batch{Roles: []access.Role{{ID: 2, Name: "two"}}}
	if diff := cmp.Diff(want, d.Batch); diff != "" {
		t.Errorf("Changes(1) (-want +got):\n%s", diff)
	}
}

// TestWatchStopInside checks that fn may stop its own watch.
func TestWatchStopInside(t *testing.T) {
	s := memory.New()
	var calls atomic.Int32
	var stop func()
	stop = s.Watch(func(access.Revision) {
		calls.Add(1)
		stop()
	})
	mustApply(t, s, role(1))
	mustApply(t, s, role(2))
	if got := calls.Load(); got != 1 {
		t.Errorf("fn called %d times, want 1", got)
	}
}

func TestWatchNil(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Watch(nil) did not panic")
		}
	}()
	memory.New().Watch(nil)
}

func TestCanceled(t *testing.T) {
	s := memory.New()
	c, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Apply(c, role(1)); !errors.Is(err, context.Canceled) {
		t.Errorf("Apply: %v, want context.Canceled", err)
	}
	if s.Revision() != 0 {
		t.Errorf("a canceled Apply committed revision %d", s.Revision())
	}
	if _, err := s.Changes(c, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Changes: %v, want context.Canceled", err)
	}
}

// loadOrg returns a store holding orggen's default organisation: 100,000
// associates in 10,000 groups.
func loadOrg(b *testing.B) (*memory.Store, access.Batch) {
	b.Helper()
	org := orggen.Generate(orggen.Default())
	s := memory.New()
	if _, err := s.Apply(ctx, org); err != nil {
		b.Fatal(err)
	}
	return s, org
}

// BenchmarkApplyAssociate measures putting one associate into a store of
// 100,000: validation, the indexes, the log and the copies.
func BenchmarkApplyAssociate(b *testing.B) {
	s, org := loadOrg(b)
	as := org.Associates
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		a := as[i%len(as)]
		a.Attributes = maps.Clone(a.Attributes)
		if a.Attributes == nil {
			a.Attributes = map[string]string{}
		}
		a.Attributes["bench"] = fmt.Sprint(i)
		if err := s.PutAssociate(ctx, a); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDeleteGroup measures deleting a group that associates and
// other groups name, moving them off it in the same batch, and putting it
// all back: two writes that each check a group's dependants.
func BenchmarkDeleteGroup(b *testing.B) {
	s, org := loadOrg(b)
	groups := map[access.GroupID]access.Group{}
	for _, g := range org.Groups {
		groups[g.ID] = g
	}
	associates := map[access.AssociateID]access.Associate{}
	for _, a := range org.Associates {
		associates[a.ID] = a
	}
	// The victim: the plain group with the most dependants, all of them
	// groups and associates.
	var victim access.Group
	var deps []access.Ref
	for _, g := range org.Groups {
		d, err := s.Dependants(ctx, access.Ref{Kind: access.KindGroup, ID: int64(g.ID)})
		if err != nil {
			b.Fatal(err)
		}
		if g.IsSmart() || len(d) <= len(deps) || slices.ContainsFunc(d, func(r access.Ref) bool {
			return r.Kind != access.KindGroup && r.Kind != access.KindAssociate
		}) {
			continue
		}
		victim, deps = g, d
	}
	var home access.GroupID
	for _, g := range org.Groups {
		if !g.IsSmart() && g.ID != victim.ID {
			home = g.ID
			break
		}
	}
	del := access.Batch{DeleteGroups: []access.GroupID{victim.ID}}
	restore := access.Batch{Groups: []access.Group{victim}}
	drop := func(ids []access.GroupID) []access.GroupID {
		return slices.DeleteFunc(slices.Clone(ids), func(id access.GroupID) bool { return id == victim.ID })
	}
	for _, d := range deps {
		switch d.Kind {
		case access.KindGroup:
			g := groups[access.GroupID(d.ID)]
			restore.Groups = append(restore.Groups, g)
			g.Groups = drop(g.Groups)
			del.Groups = append(del.Groups, g)
		case access.KindAssociate:
			a := associates[access.AssociateID(d.ID)]
			restore.Associates = append(restore.Associates, a)
			if a.PrimaryGroup == victim.ID {
				a.PrimaryGroup = home
			}
			a.Groups = drop(a.Groups)
			del.Associates = append(del.Associates, a)
		}
	}
	b.ResetTimer()
	for range b.N {
		if _, err := s.Apply(ctx, del); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Apply(ctx, restore); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(del.Groups)), "groups")
	b.ReportMetric(float64(len(del.Associates)), "associates")
}

// BenchmarkChangesOne measures an incremental read of one change, what a
// watching resolver does after every write.
func BenchmarkChangesOne(b *testing.B) {
	s, org := loadOrg(b)
	a := org.Associates[0]
	if err := s.PutAssociate(ctx, a); err != nil {
		b.Fatal(err)
	}
	since := s.Revision() - 1
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := s.Changes(ctx, since); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTenants runs the tenant cases with a memory.Store per tenant: the
// memory store holds one tenant by design, so the tenants are kept apart
// by the test's map of them.
func TestTenants(t *testing.T) {
	var mu sync.Mutex
	tenants := map[string]*memory.Store{}
	storetest.Tenants(t, func(t *testing.T, tenant string) storetest.Store {
		mu.Lock()
		defer mu.Unlock()
		s := tenants[tenant]
		if s == nil {
			s = memory.New()
			tenants[tenant] = s
		}
		return s
	})
}

// wrapper embeds a Store, as an application's decorator would.
type wrapper struct{ *memory.Store }

// TestChangesReadOnlySharesAssociates checks both sides of
// intern.ReadOnly: under it Changes hands out the store's own associates
// (the same attribute map, no copy), without it a copy the caller may
// change without touching the store; and a later write replaces what it
// handed out rather than changing it.
func TestChangesReadOnlySharesAssociates(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	anna := access.Associate{ID: 11, Name: "anna", Type: access.Internal, Role: 1, PrimaryGroup: 10, Active: true,
		Attributes: map[string]string{"dept": "sales"}}
	if _, err := s.Apply(ctx, access.Batch{
		Roles:      []access.Role{{ID: 1, Name: "Sales"}},
		Groups:     []access.Group{{ID: 10, Name: "Team A"}},
		Associates: []access.Associate{anna},
	}); err != nil {
		t.Fatal(err)
	}
	same := func(a, b map[string]string) bool {
		return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
	}
	for _, since := range []access.Revision{0, 1} {
		if since == 1 {
			anna.Attributes = map[string]string{"dept": "support"}
			if err := s.PutAssociate(ctx, anna); err != nil {
				t.Fatal(err)
			}
		}
		shared, err := s.Changes(intern.ReadOnly(ctx, s), since)
		if err != nil || len(shared.Associates) != 1 {
			t.Fatalf("Changes(ReadOnly, %d) = %d associates, %v", since, len(shared.Associates), err)
		}
		again, _ := s.Changes(intern.ReadOnly(ctx, s), since)
		if !same(shared.Associates[0].Attributes, again.Associates[0].Attributes) {
			t.Errorf("Changes(ReadOnly, %d) copied the attributes", since)
		}
		copied, _ := s.Changes(ctx, since)
		if same(shared.Associates[0].Attributes, copied.Associates[0].Attributes) {
			t.Errorf("Changes(%d) without ReadOnly shares the store's attributes", since)
		}
		// A promise made to another store (a wrapper that embeds this one
		// and calls it under the resolver's context) is not made to s.
		wrapped, _ := s.Changes(intern.ReadOnly(ctx, wrapper{s}), since)
		if same(shared.Associates[0].Attributes, wrapped.Associates[0].Attributes) {
			t.Errorf("Changes(%d) under a promise made to a wrapper shares the store's attributes", since)
		}
		copied.Associates[0].Attributes["dept"] = "changed by the caller"
		if got := shared.Associates[0].Attributes["dept"]; got != anna.Attributes["dept"] {
			t.Errorf("Changes(%d): dept %q after the caller changed its copy, want %q", since, got, anna.Attributes["dept"])
		}
		if since == 0 {
			// What a later write does to what was handed out: nothing.
			defer func(a map[string]string) {
				if a["dept"] != "sales" {
					t.Errorf("a write changed the attributes handed out before it: %v", a)
				}
			}(shared.Associates[0].Attributes)
		}
	}
}

// TestChangesReadOnlyLendsFirstLoad checks that after a first load the
// whole delta a resolver gets under its promise is the store's own
// storage (two calls hand out the same associates, not copies), and that
// later writes leave what was handed out as it was while the store and
// its next deltas see them.
func TestChangesReadOnlyLendsFirstLoad(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	b := access.Batch{Roles: []access.Role{{ID: 1, Name: "Sales"}}, Groups: []access.Group{{ID: 10, Name: "Team A"}}}
	for id := access.AssociateID(1); id <= 5; id++ {
		b.Associates = append(b.Associates, access.Associate{ID: id, Name: fmt.Sprint("a", id), Type: access.Internal, Role: 1, PrimaryGroup: 10, Active: true})
	}
	if _, err := s.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	ro := intern.ReadOnly(ctx, s)
	first, err := s.Changes(ro, 0)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := s.Changes(ro, 0)
	if len(first.Associates) != 5 || &first.Associates[0] != &again.Associates[0] {
		t.Fatalf("Changes(ReadOnly, 0) after a first load handed out copies (%d associates)", len(first.Associates))
	}
	copied, _ := s.Changes(ctx, 0)
	if &copied.Associates[0] == &first.Associates[0] {
		t.Fatal("Changes(0) without the promise handed out the store's own associates")
	}
	lent := slices.Clone(first.Associates)

	renamed := first.Associates[1]
	renamed.Name = "renamed"
	if err := s.PutAssociate(ctx, renamed); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAssociate(ctx, 4); err != nil {
		t.Fatal(err)
	}
	if err := s.PutAssociate(ctx, access.Associate{ID: 6, Name: "a6", Type: access.Internal, Role: 1, PrimaryGroup: 10, Active: true}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(lent, first.Associates); diff != "" {
		t.Fatalf("writes changed the associates handed out before them (-then +now):\n%s", diff)
	}
	now, _ := s.Changes(ro, 0)
	var names []string
	for _, a := range now.Associates {
		names = append(names, a.Name)
	}
	if want := []string{"a1", "renamed", "a3", "a5", "a6"}; !slices.Equal(names, want) {
		t.Fatalf("Changes(ReadOnly, 0) after the writes: %v, want %v", names, want)
	}
	if got, err := s.Associate(ctx, 2); err != nil || got.Name != "renamed" {
		t.Fatalf("Associate(2) = %q, %v; want renamed", got.Name, err)
	}
	if _, err := s.Associate(ctx, 4); !errors.Is(err, access.ErrNotFound) {
		t.Fatalf("Associate(4) after its delete: %v, want ErrNotFound", err)
	}
}
