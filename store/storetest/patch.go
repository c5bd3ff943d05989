package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/crmaccess/access"
)

// testCreateOnly checks that a create-only put of a held id fails with
// ErrExists naming it, and writes nothing of its batch.
func testCreateOnly(t *testing.T, newStore func(*testing.T) Store) {
	s := newStore(t)
	rev := mustApply(t, s, fixture())
	m := make(model).apply(fixture())
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		b       access.Batch
		mention string
	}{
		{"role", access.Batch{Roles: []access.Role{{ID: 9, Name: "new"}, {ID: 3, Name: "again"}}}, "role 3"},
		{"group", access.Batch{Groups: []access.Group{{ID: 20, Name: "again"}}}, "group 20"},
		{"associate", access.Batch{Associates: []access.Associate{fixtureAssociate(101)}}, "associate 101"},
		{"grant", access.Batch{Grants: []access.Grant{{ID: 701, Group: 30, EntityType: "sale", Rights: access.R}}}, "grant 701"},
		{"impersonation", access.Batch{Impersonations: []access.Impersonation{
			{ID: 800, Actor: access.Principal{Associate: 101}, Target: access.Principal{Associate: 105}}}}, "impersonation 800"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.b.CreateOnly = true
			_, err := s.Apply(ctx, tc.b)
			checkErr(t, err, access.ErrExists, tc.mention)
			checkModel(t, s, rev, m)
		})
	}
	t.Run("new ids", func(t *testing.T) {
		b := access.Batch{CreateOnly: true, Roles: []access.Role{{ID: 9, Name: "new"}},
			Associates: []access.Associate{internal(120, "carl", 20, 9)}}
		rev = mustApply(t, s, b)
		m = m.apply(b)
		checkModel(t, s, rev, m)
	})
}

// testExpectRevision checks that a batch expecting another revision than
// the store's fails with ErrConflict naming both, and writes nothing.
func testExpectRevision(t *testing.T, newStore func(*testing.T) Store) {
	s := newStore(t)
	ctx := context.Background()
	rev := mustApply(t, s, fixture())
	m := make(model).apply(fixture())

	// Two admins read the model at rev and each decides on a write.
	first := access.Batch{ExpectRevision: rev, Roles: []access.Role{{ID: 9, Name: "first"}}}
	second := access.Batch{ExpectRevision: rev, Roles: []access.Role{{ID: 9, Name: "second"}}}
	next := mustApply(t, s, first)
	m = m.apply(first)
	_, err := s.Apply(ctx, second)
	checkErr(t, err, access.ErrConflict, fmt.Sprint(rev), fmt.Sprint(next))
	checkModel(t, s, next, m)

	t.Run("empty batch", func(t *testing.T) {
		_, err := s.Apply(ctx, access.Batch{ExpectRevision: rev})
		checkErr(t, err, access.ErrConflict)
		got, err := s.Apply(ctx, access.Batch{ExpectRevision: next})
		if err != nil || got != next {
			t.Errorf("Apply(empty, expecting %d) = %d, %v; want %d, nil", next, got, err, next)
		}
	})
	t.Run("patch", func(t *testing.T) {
		_, err := s.Apply(ctx, access.Batch{ExpectRevision: rev, Patches: []access.Patch{access.JoinGroup(101, 20)}})
		checkErr(t, err, access.ErrConflict)
		checkModel(t, s, next, m)
	})
}

// testPatches checks each patch operation, the errors of a patch, and that
// Changes reports the patched values.
func testPatches(t *testing.T, newStore func(*testing.T) Store) {
	ctx := context.Background()
	anna, bob := fixtureAssociate(100), fixtureAssociate(101)
	everyone, sales := fixtureGroup(10), fixtureGroup(20)
	chief := fixture().Roles[0]
	for _, tc := range []struct {
		name    string
		patches []access.Patch
		want    []any // the values the store holds afterwards
	}{
		{"join", []access.Patch{access.JoinGroup(101, 20)},
			[]any{with(bob, func(a *access.Associate) { a.Groups = []access.GroupID{20} })}},
		{"join twice in one batch", []access.Patch{access.JoinGroup(101, 20), access.JoinGroup(101, 20), access.JoinGroup(101, 10)},
			[]any{with(bob, func(a *access.Associate) { a.Groups = []access.GroupID{20, 10} })}},
		{"join a group held", []access.Patch{access.JoinGroup(100, 30)}, []any{anna}},
		{"leave", []access.Patch{access.LeaveGroup(100, 30)},
			[]any{with(anna, func(a *access.Associate) { a.Groups = []access.GroupID{40} })}},
		{"leave a group not held", []access.Patch{access.LeaveGroup(101, 20)}, []any{bob}},
		{"nest", []access.Patch{access.NestGroup(20, 30)},
			[]any{with(sales, func(g *access.Group) { g.Groups = []access.GroupID{30} })}},
		{"unnest", []access.Patch{access.UnnestGroup(10, 20)},
			[]any{with(everyone, func(g *access.Group) { g.Groups = []access.GroupID{30} })}},
		{"set a cell", []access.Patch{access.SetCell(1, "sale", access.Team, access.LevelUpdate)},
			[]any{with(chief, func(r *access.Role) {
				r.Rights = map[string]access.Grid{
					access.Wildcard: {access.Owner: access.LevelFull, access.Other: access.LevelRead},
					"sale":          {access.Owner: access.LevelFull, access.Subordinate: access.R | access.U, access.Team: access.LevelUpdate},
				}
			})}},
		{"set a cell of a new type", []access.Patch{access.SetCell(1, "contact", access.Owner, access.R)},
			[]any{with(chief, func(r *access.Role) {
				r.Rights = map[string]access.Grid{
					access.Wildcard: {access.Owner: access.LevelFull, access.Other: access.LevelRead},
					"sale":          {access.Owner: access.LevelFull, access.Subordinate: access.R | access.U},
					"contact":       {access.Owner: access.R},
				}
			})}},
		{"a cell through C to R in one batch", []access.Patch{access.SetCell(1, "contact", access.Owner, access.C), access.SetCell(1, "contact", access.Owner, access.R)},
			[]any{with(chief, func(r *access.Role) {
				r.Rights = map[string]access.Grid{
					access.Wildcard: {access.Owner: access.LevelFull, access.Other: access.LevelRead},
					"sale":          {access.Owner: access.LevelFull, access.Subordinate: access.R | access.U},
					"contact":       {access.Owner: access.R},
				}
			})}},
		{"several entities", []access.Patch{access.JoinGroup(101, 20), access.NestGroup(20, 30)},
			[]any{with(bob, func(a *access.Associate) { a.Groups = []access.GroupID{20} }),
				with(sales, func(g *access.Group) { g.Groups = []access.GroupID{30} })}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			rev := mustApply(t, s, fixture())
			next := mustApply(t, s, access.Batch{Patches: tc.patches})
			if next != rev+1 {
				t.Errorf("revision after the patch = %d, want %d", next, rev+1)
			}
			want := make(model).apply(fixture())
			var changed access.Batch
			for _, v := range tc.want {
				appendValue(&changed, v)
			}
			want = want.apply(changed)
			checkModel(t, s, next, want)
			// What a resolver following the store reads: the patched
			// entities, whole (or the whole model).
			if d := mustChanges(t, s, rev); d.Full {
				checkFull(t, fmt.Sprintf("Changes(%d)", rev), d, want)
			} else if diff := diffBatch(changed, d.Batch); diff != "" {
				t.Errorf("Changes(%d) (-want +got):\n%s", rev, diff)
			}
		})
	}

	for _, tc := range []struct {
		name    string
		b       access.Batch
		want    error
		mention []string
	}{
		{"missing associate", access.Batch{Patches: []access.Patch{access.JoinGroup(999, 20)}}, access.ErrNotFound, []string{"associate 999"}},
		{"missing group", access.Batch{Patches: []access.Patch{access.NestGroup(99, 20)}}, access.ErrNotFound, []string{"group 99"}},
		{"missing role", access.Batch{Patches: []access.Patch{access.SetCell(9, "sale", access.Owner, access.R)}}, access.ErrNotFound, []string{"role 9"}},
		{"join a missing group", access.Batch{Patches: []access.Patch{access.JoinGroup(101, 99)}}, access.ErrInvalid, []string{"group 99"}},
		{"external joins", access.Batch{Patches: []access.Patch{access.JoinGroup(103, 20)}}, access.ErrInvalid, []string{"associate 103"}},
		{"nesting cycle", access.Batch{Patches: []access.Patch{access.NestGroup(20, 10)}}, access.ErrCycle, []string{"10", "20"}},
		{"nest in itself", access.Batch{Patches: []access.Patch{access.NestGroup(20, 20)}}, access.ErrCycle, nil},
		{"patched and put", access.Batch{Associates: []access.Associate{bob}, Patches: []access.Patch{access.JoinGroup(101, 20)}},
			access.ErrInvalid, []string{"associate 101"}},
		{"patched and deleted", access.Batch{DeleteGroups: []access.GroupID{40}, Patches: []access.Patch{access.NestGroup(40, 20)}},
			access.ErrInvalid, []string{"group 40"}},
		{"malformed", access.Batch{Patches: []access.Patch{{Op: access.PatchJoin, Associate: 101}}}, access.ErrInvalid, nil},
		{"unknown op", access.Batch{Patches: []access.Patch{{Op: 77}}}, access.ErrInvalid, nil},
		{"bad rights", access.Batch{Patches: []access.Patch{access.SetCell(1, "sale", access.Owner, 99)}}, access.ErrInvalid, nil},
		{"create without read", access.Batch{Patches: []access.Patch{access.SetCell(1, "sale", access.Team, access.R), access.SetCell(1, "sale", access.Team, access.C)}},
			access.ErrInvalid, []string{"role 1", "without read"}},
		{"bad relation", access.Batch{Patches: []access.Patch{access.SetCell(1, "sale", 0, access.R)}}, access.ErrInvalid, nil},
		{"one bad patch of two", access.Batch{Patches: []access.Patch{access.JoinGroup(101, 20), access.JoinGroup(999, 20)}},
			access.ErrNotFound, nil},
	} {
		t.Run("rejected/"+tc.name, func(t *testing.T) {
			s := newStore(t)
			rev := mustApply(t, s, fixture())
			_, err := s.Apply(ctx, tc.b)
			checkErr(t, err, tc.want, tc.mention...)
			checkModel(t, s, rev, make(model).apply(fixture()))
		})
	}
}

// with returns a copy of v changed by fn.
func with[T any](v T, fn func(*T)) T {
	fn(&v)
	return v
}

// appendValue adds v to b's puts of its kind.
func appendValue(b *access.Batch, v any) {
	switch v := v.(type) {
	case access.Role:
		b.Roles = append(b.Roles, v)
	case access.Group:
		b.Groups = append(b.Groups, v)
	case access.Associate:
		b.Associates = append(b.Associates, v)
	default:
		panic(fmt.Sprintf("storetest: appendValue(%T)", v))
	}
}

// testConcurrentPatches has many writers patch one associate at once. With
// a read of the associate, a change and a put of the whole value, each
// writer would overwrite the groups the others had added since its read,
// and most additions would be lost; patches are applied to the value at
// commit, so every addition lands.
func testConcurrentPatches(t *testing.T, newStore func(*testing.T) Store) {
	const n = 20
	s := newStore(t)
	ctx := context.Background()
	b := fixture()
	for i := range n {
		b.Groups = append(b.Groups, access.Group{ID: access.GroupID(1000 + i), Name: fmt.Sprint("extra ", i)})
	}
	mustApply(t, s, b)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := s.Apply(ctx, access.Batch{Patches: []access.Patch{access.JoinGroup(101, access.GroupID(1000+i))}})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Apply(join): %v", err)
		}
	}
	got, err := s.Associate(ctx, 101)
	if err != nil {
		t.Fatal(err)
	}
	var want []access.GroupID
	for i := range n {
		want = append(want, access.GroupID(1000+i))
	}
	if diff := gocmp.Diff(want, slices.Sorted(slices.Values(got.Groups))); diff != "" {
		t.Errorf("associate 101's groups after %d concurrent joins (-want +got):\n%s", n, diff)
	}
}

// patchModel is the reference for testPatchProperty: the parts of the
// model patches change, as plain sets.
type patchModel struct {
	joined map[access.AssociateID]map[access.GroupID]bool
	nested map[access.GroupID]map[access.GroupID]bool
	cells  map[access.RoleID]map[string]map[access.Relation]access.CRUD
}

func newPatchModel(b access.Batch) *patchModel {
	m := &patchModel{
		joined: map[access.AssociateID]map[access.GroupID]bool{},
		nested: map[access.GroupID]map[access.GroupID]bool{},
		cells:  map[access.RoleID]map[string]map[access.Relation]access.CRUD{},
	}
	for _, a := range b.Associates {
		m.joined[a.ID] = map[access.GroupID]bool{}
		for _, g := range a.Groups {
			m.joined[a.ID][g] = true
		}
	}
	for _, g := range b.Groups {
		m.nested[g.ID] = map[access.GroupID]bool{}
		for _, c := range g.Groups {
			m.nested[g.ID][c] = true
		}
	}
	for _, r := range b.Roles {
		m.cells[r.ID] = map[string]map[access.Relation]access.CRUD{}
		for typ, grid := range r.Rights {
			m.cells[r.ID][typ] = map[access.Relation]access.CRUD{}
			for rel, c := range grid {
				m.cells[r.ID][typ][rel] = c
			}
		}
	}
	return m
}

// clone returns a deep copy, which apply changes so that a rejected batch
// leaves the original alone.
func (m *patchModel) clone() *patchModel {
	c := newPatchModel(access.Batch{})
	for a, gs := range m.joined {
		c.joined[a] = map[access.GroupID]bool{}
		for g := range gs {
			c.joined[a][g] = true
		}
	}
	for g, cs := range m.nested {
		c.nested[g] = map[access.GroupID]bool{}
		for x := range cs {
			c.nested[g][x] = true
		}
	}
	for r, rows := range m.cells {
		c.cells[r] = map[string]map[access.Relation]access.CRUD{}
		for typ, grid := range rows {
			c.cells[r][typ] = map[access.Relation]access.CRUD{}
			for rel, x := range grid {
				c.cells[r][typ][rel] = x
			}
		}
	}
	return c
}

// apply applies ps and reports whether the result is valid: every entity
// patched and every group joined or nested exists, and no group reaches
// itself through nesting (searched breadth-first).
func (m *patchModel) apply(ps []access.Patch, external map[access.AssociateID]bool) bool {
	for _, p := range ps {
		switch p.Op {
		case access.PatchJoin, access.PatchLeave:
			gs, ok := m.joined[p.Associate]
			if !ok {
				return false
			}
			if p.Op == access.PatchJoin {
				gs[p.Group] = true
			} else {
				delete(gs, p.Group)
			}
		case access.PatchNest, access.PatchUnnest:
			cs, ok := m.nested[p.Group]
			if !ok {
				return false
			}
			if p.Op == access.PatchNest {
				cs[p.Member] = true
			} else {
				delete(cs, p.Member)
			}
		case access.PatchSetCell:
			rows, ok := m.cells[p.Role]
			if !ok {
				return false
			}
			if rows[p.Type] == nil {
				rows[p.Type] = map[access.Relation]access.CRUD{}
			}
			rows[p.Type][p.Relation] = p.Rights
		}
	}
	// CRUD is accumulative: create, update or delete without read is no
	// cell. Patches describe the grid the batch leaves, so a cell set to
	// C and back to - in one batch is accepted.
	for _, rows := range m.cells {
		for _, cells := range rows {
			for _, c := range cells {
				if c != 0 && c&access.R == 0 {
					return false
				}
			}
		}
	}
	for a, gs := range m.joined {
		if external[a] && len(gs) > 0 {
			return false
		}
		for g := range gs {
			if m.nested[g] == nil {
				return false
			}
		}
	}
	for g, cs := range m.nested {
		for c := range cs {
			if m.nested[c] == nil {
				return false
			}
		}
		seen := map[access.GroupID]bool{}
		queue := []access.GroupID{g}
		for len(queue) > 0 {
			x := queue[0]
			queue = queue[1:]
			for c := range m.nested[x] {
				if c == g {
					return false
				}
				if !seen[c] {
					seen[c] = true
					queue = append(queue, c)
				}
			}
		}
	}
	return true
}

// testPatchProperty applies random batches of patches to one store and to
// a patchModel, and checks that they agree after each: on whether the
// batch is accepted, and on the groups, nesting and grids.
func testPatchProperty(t *testing.T, newStore func(*testing.T) Store) {
	s := newStore(t)
	ctx := context.Background()
	rev := mustApply(t, s, fixture())
	m := newPatchModel(fixture())
	external := map[access.AssociateID]bool{}
	for _, a := range fixture().Associates {
		external[a.ID] = a.Type != access.Internal
	}
	associates := []access.AssociateID{100, 101, 103, 105, 999}
	groups := []access.GroupID{10, 20, 30, 99}
	roles := []access.RoleID{1, 2, 3, 9}
	types := []string{access.Wildcard, "sale", "contact"}
	patch := rapid.Custom(func(t *rapid.T) access.Patch {
		switch rapid.IntRange(0, 4).Draw(t, "op") {
		case 0:
			return access.JoinGroup(rapid.SampledFrom(associates).Draw(t, "associate"), rapid.SampledFrom(groups).Draw(t, "group"))
		case 1:
			return access.LeaveGroup(rapid.SampledFrom(associates).Draw(t, "associate"), rapid.SampledFrom(groups).Draw(t, "group"))
		case 2:
			return access.NestGroup(rapid.SampledFrom(groups).Draw(t, "group"), rapid.SampledFrom(groups).Draw(t, "member"))
		case 3:
			return access.UnnestGroup(rapid.SampledFrom(groups).Draw(t, "group"), rapid.SampledFrom(groups).Draw(t, "member"))
		}
		return access.SetCell(rapid.SampledFrom(roles).Draw(t, "role"), rapid.SampledFrom(types).Draw(t, "type"),
			access.Relation(rapid.IntRange(int(access.Owner), int(access.Unowned)).Draw(t, "relation")),
			access.CRUD(rapid.IntRange(0, int(access.LevelFull)).Draw(t, "rights")))
	})
	rapid.Check(t, func(rt *rapid.T) {
		ps := rapid.SliceOfN(patch, 1, 4).Draw(rt, "patches")
		next := m.clone()
		ok := next.apply(ps, external)
		got, err := s.Apply(ctx, access.Batch{Patches: ps})
		switch {
		case ok && err != nil:
			rt.Fatalf("Apply(%v): %v; the model accepts it", ps, err)
		case !ok && err == nil:
			rt.Fatalf("Apply(%v) succeeded; the model rejects it", ps)
		case !ok && !errors.Is(err, access.ErrNotFound) && !errors.Is(err, access.ErrInvalid) && !errors.Is(err, access.ErrCycle):
			rt.Fatalf("Apply(%v): %v; want ErrNotFound, ErrInvalid or ErrCycle", ps, err)
		case ok:
			if got != rev+1 {
				rt.Fatalf("Apply = revision %d, want %d", got, rev+1)
			}
			rev, m = got, next
		}
		d, err := s.Changes(ctx, 0)
		if err != nil {
			rt.Fatal(err)
		}
		if d.To != rev {
			rt.Fatalf("Changes(0).To = %d, want %d", d.To, rev)
		}
		if diff := gocmp.Diff(m, newPatchModel(d.Batch), gocmp.AllowUnexported(patchModel{})); diff != "" {
			rt.Fatalf("store after %v (-model +store):\n%s", ps, diff)
		}
	})
}
