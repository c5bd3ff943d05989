package access

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestNumberRolesMatchesWalk: for random parent arrays, cycles and all,
// the numbering says a is above b exactly when b's walk up the parents
// (stopping at a role it has met) meets a: a strict ancestor, or, on a
// cycle, any role of it, b itself included.
func TestNumberRolesMatchesWalk(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 12).Draw(t, "n")
		par := make([]int32, n)
		for k := range par {
			par[k] = int32(rapid.IntRange(-1, n-1).Draw(t, fmt.Sprint("parent of ", k)))
		}
		pre, lo, end, order := numberRoles(par)
		if len(order) != n {
			t.Fatalf("order %v numbers %d roles of %d", order, len(order), n)
		}
		for p, k := range order {
			if pre[k] != int32(p) {
				t.Fatalf("role %d at position %d has pre %d", k, p, pre[k])
			}
		}
		for b := range n {
			var above []int32
			seen := map[int32]bool{int32(b): true}
			for x := par[b]; x >= 0; x = par[x] {
				above = append(above, x)
				if seen[x] {
					break
				}
				seen[x] = true
			}
			for a := range n {
				want := slices.Contains(above, int32(a))
				na := &roleNode{pre: pre[a], lo: lo[a], end: end[a]}
				nb := &roleNode{pre: pre[b], lo: lo[b], end: end[b]}
				if got := na.isAbove(nb); got != want {
					t.Fatalf("parents %v: role %d above role %d: %v, want %v (pre %v lo %v end %v)", par, a, b, got, want, pre, lo, end)
				}
			}
		}
	})
}

// TestNumberRolesDeepChain: a chain a million deep numbers without
// recursion.
func TestNumberRolesDeepChain(t *testing.T) {
	const n = 1_000_000
	par := make([]int32, n)
	for k := range par {
		par[k] = int32(k) - 1
	}
	pre, lo, end, _ := numberRoles(par)
	if pre[n-1] != n-1 || lo[0] != 1 || end[0] != n || lo[n-1] != end[n-1] {
		t.Fatalf("bottom at %d, top's range [%d, %d), bottom's [%d, %d)", pre[n-1], lo[0], end[0], lo[n-1], end[n-1])
	}
}

// TestRoleWriteIsADelta: a role write that keeps the tree's shape gives
// the written role a new node and leaves every other node, and the
// compiled policy, as they were; one that moves a role renumbers the tree.
func TestRoleWriteIsADelta(t *testing.T) {
	const depth = 100
	b := &Batch{Groups: []Group{{ID: 1, Name: "all", RolesAndSubordinates: []RoleID{1}}},
		SharingRules: []SharingRule{{ID: 1, Name: "r", EntityType: "contact", Rights: LevelRead,
			From: Principals{RolesAndSubordinates: []RoleID{1}}, To: Principals{Roles: []RoleID{2}}}}}
	for i := 1; i <= depth; i++ {
		b.Roles = append(b.Roles, Role{ID: RoleID(i), Name: "r", Parent: RoleID(i - 1),
			Rights: map[string]Grid{Wildcard: {Owner: LevelFull}}})
		b.Associates = append(b.Associates, Associate{ID: AssociateID(i), Name: fmt.Sprint(i), Type: Internal, Active: true,
			Role: RoleID(i), PrimaryGroup: 1})
	}
	s := build(1, b)

	mid := s.roles[depth/2].role.clone()
	mid.Rights = map[string]Grid{Wildcard: {Owner: LevelRead}}
	s2 := s.update(&Delta{From: 1, To: 2, Batch: Batch{Roles: []Role{mid}}})
	for id, n := range s2.roles {
		if old := s.roles[id]; (n == old) != (id != depth/2) {
			t.Errorf("role %d: node kept %v after a write to role %d", id, n == old, depth/2)
		}
	}
	if g := s2.roles[depth/2].wild; g == nil || g[Owner] != LevelRead {
		t.Errorf("role %d: rights %v after the write", depth/2, g)
	}
	if reflect.ValueOf(s2.policy.rules).Pointer() != reflect.ValueOf(s.policy.rules).Pointer() {
		t.Errorf("the policy was recompiled for a write that keeps the tree's shape")
	}

	// Move the bottom role under the top one: it is no longer below the
	// middle one.
	bottom := s.roles[depth].role.clone()
	bottom.Parent = 1
	s3 := s2.update(&Delta{From: 2, To: 3, Batch: Batch{Roles: []Role{bottom}}})
	if !s3.below(depth, 1) || s3.below(depth, depth/2) || !s3.below(depth-1, depth/2) {
		t.Errorf("after the move: below top %v, below middle %v; role %d below middle %v",
			s3.below(depth, 1), s3.below(depth, depth/2), depth-1, s3.below(depth-1, depth/2))
	}
	if s2.below(depth, depth/2) != true {
		t.Errorf("the older snapshot changed with the move")
	}
}
