package access

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"
)

// TestNestingUpdateMatchesBuild rewrites the Groups (and sometimes the
// role lists) of existing groups, cycles allowed, and checks after each
// write that the incremental snapshot has what a full build of the same
// model has: every group's upward closure, every associate's memberships
// and header, every group's members and every role's base groups and
// closure. Most writes take recloseGroups and a nesting plan; it checks
// that they did.
func TestNestingUpdateMatchesBuild(t *testing.T) {
	planned := 0
	rapid.Check(t, func(t *rapid.T) {
		nGroups := rapid.IntRange(1, 12).Draw(t, "groups")
		ids := make([]GroupID, nGroups)
		for i := range ids {
			ids[i] = GroupID(i + 1)
		}
		roles := []Role{{ID: 1, Name: "top"}, {ID: 2, Name: "mid", Parent: 1}, {ID: 3, Name: "low", Parent: 2}}
		roleIDs := []RoleID{1, 2, 3}
		smart := map[GroupID]bool{}
		drawGroup := func(t *rapid.T, id GroupID) Group {
			g := Group{ID: id, Name: fmt.Sprint("g", id)}
			if smart[id] {
				g.Smart = `name prefix "a1"`
				return g
			}
			g.Groups = rapid.SliceOfNDistinct(rapid.SampledFrom(ids), 0, 3, rapid.ID).Draw(t, "kids")
			if rapid.IntRange(0, 3).Draw(t, "roles?") == 0 {
				g.RolesAndSubordinates = []RoleID{rapid.SampledFrom(roleIDs).Draw(t, "tree role")}
			}
			if rapid.IntRange(0, 3).Draw(t, "role?") == 0 {
				g.Roles = []RoleID{rapid.SampledFrom(roleIDs).Draw(t, "role")}
			}
			if rapid.IntRange(0, 3).Draw(t, "defaults?") == 0 {
				g.Defaults = map[string]CRUD{"lead": CRUD(rapid.IntRange(0, 15).Draw(t, "rights"))}
			}
			if rapid.IntRange(0, 3).Draw(t, "function?") == 0 {
				g.Functions = []string{rapid.SampledFrom([]string{"export", "login"}).Draw(t, "function")}
			}
			return g
		}
		b := &Batch{Roles: roles}
		for _, id := range ids {
			smart[id] = id > 1 && rapid.IntRange(0, 4).Draw(t, "smart") == 0
			b.Groups = append(b.Groups, drawGroup(t, id))
		}
		for a := range rapid.IntRange(0, 20).Draw(t, "associates") {
			as := Associate{ID: AssociateID(a + 1), Name: fmt.Sprint("a", a+1), Active: true,
				Role: rapid.SampledFrom(roleIDs).Draw(t, "its role"), PrimaryGroup: rapid.SampledFrom(ids).Draw(t, "primary")}
			as.Groups = rapid.SliceOfNDistinct(rapid.SampledFrom(ids), 0, 2, rapid.ID).Draw(t, "secondary")
			if rapid.IntRange(0, 5).Draw(t, "external") == 0 {
				as.Type, as.PrimaryGroup, as.Groups = External, 0, nil
			}
			b.Associates = append(b.Associates, as)
		}
		bc := b.Clone()
		s := build(1, &bc)
		for w := range rapid.IntRange(1, 4).Draw(t, "writes") {
			var d Delta
			d.From, d.To = Revision(w+1), Revision(w+2)
			for _, id := range rapid.SliceOfNDistinct(rapid.SampledFrom(ids), 1, 2, rapid.ID).Draw(t, "written") {
				g := drawGroup(t, id)
				b.Groups[id-1] = g
				d.Groups = append(d.Groups, g.clone())
			}
			var plan *nestPlan
			if c := *s; true { // a dry run, on a copy
				c.cow = &cow{}
				_, plan = c.applyRoleAndGroupWrites(s, &d)
			}
			if plan != nil {
				planned++
			}
			s = s.update(&d)
			bc := b.Clone()
			compareSnapshots(t, s, build(d.To, &bc))
		}
	})
	if planned == 0 {
		t.Error("no write took the nesting plan")
	}
}

// compareSnapshots fails t when got and want differ in what memberships
// derive from the groups.
func compareSnapshots(t *rapid.T, got, want *snapshot) {
	t.Helper()
	if len(got.groups) != len(want.groups) {
		t.Fatalf("%d groups, a build has %d", len(got.groups), len(want.groups))
	}
	for g := range want.groups {
		if diff := cmp.Diff(want.groups[g].up, got.groups[g].up, cmp.AllowUnexported(upEdge{}), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("group %d's closure (-build +update):\n%s", want.groups[g].group.ID, diff)
		}
		if diff := cmp.Diff(want.memberSet(int32(g)).list(), got.memberSet(int32(g)).list(), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("group %d's members (-build +update):\n%s", want.groups[g].group.ID, diff)
		}
	}
	for i := range want.assocs.len() {
		w, g := want.assocs.at(int32(i)), got.assocs.at(int32(i))
		if (w == nil) != (g == nil) {
			t.Fatalf("associate slot %d: build %v, update %v", i, w != nil, g != nil)
		}
		if w == nil {
			continue
		}
		if diff := cmp.Diff(want.groupsOf(w), got.groupsOf(g), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("associate %d's groups (-build +update):\n%s", w.a.ID, diff)
		}
		if wm, gm := want.hotAt(w.idx).policyMask, got.hotAt(g.idx).policyMask; wm != gm {
			t.Fatalf("associate %d's policy mask: build %v, update %v", w.a.ID, wm, gm)
		}
		_, wv := want.explanations(w)
		_, gv := got.explanations(g)
		if !slices.Equal(wv, gv) {
			t.Fatalf("associate %d's explanations differ", w.a.ID)
		}
	}
	if diff := cmp.Diff(want.policy.defaults, got.policy.defaults, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("groups with defaults (-build +update):\n%s", diff)
	}
	if diff := cmp.Diff(want.policy.funcGroups, got.policy.funcGroups, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("functional rights (-build +update):\n%s", diff)
	}
	if diff := cmp.Diff(want.policyBit, got.policyBit, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("policy bits (-build +update):\n%s", diff)
	}
	for id, w := range want.roles {
		g := got.roles[id]
		if !slices.Equal(w.base, g.base) || !slices.Equal(w.closure, g.closure) || !slices.Equal(w.bits, g.bits) {
			t.Fatalf("role %d: build base %v closure %v, update base %v closure %v", id, w.base, w.closure, g.base, g.closure)
		}
	}
	if err := checkHeaders(got); err != nil {
		t.Fatal(err)
	}
}

func TestIntersects(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		sorted := func(label string, lo, hi int) []int32 {
			return slices.Compact(slices.Sorted(slices.Values(rapid.SliceOfN(rapid.Int32Range(0, 200), lo, hi).Draw(t, label))))
		}
		// b is often more than eight times the longer: intersects then
		// searches instead of merging.
		a, b := sorted("a", 0, 10), sorted("b", 0, 150)
		if rapid.Bool().Draw(t, "long b") {
			b = sorted("b", 100, 150)
		}
		want := slices.ContainsFunc(a, func(x int32) bool { return slices.Contains(b, x) })
		if got := intersects(a, b); got != want {
			t.Fatalf("intersects(%v, %v) = %v", a, b, got)
		}
		if got := intersects(b, a); got != want {
			t.Fatalf("intersects(%v, %v) = %v", b, a, got)
		}
	})
}
