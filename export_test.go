package access

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"testing"
)

// CheckHeaders reports the first way in which the engine's decision
// headers disagree with its associate nodes: every header must say what
// its node says, its personal groups must lie outside its role's
// closure, the effective groups they make with the closure (groupsOf)
// must be those a fresh walk from the associate reaches (reachAll), and a
// header's membership test must agree with them for every group.
func CheckHeaders(e *Engine) error { return checkHeaders(e.snap.Load()) }

func checkHeaders(s *snapshot) error {
	if s.headerCap() < s.assocs.len() || s.assocRole.len() < s.assocs.len() {
		return fmt.Errorf("%d headers and %d role slots for %d associates", s.headerCap(), s.assocRole.len(), s.assocs.len())
	}
	sc := newScratch(len(s.groups))
	for i, n := range s.assocs.all() {
		x := s.subjectOfNode(n)
		h := s.hotAt(int32(i))
		if n == nil {
			if h.flags&hotPresent != 0 || s.assocRole.at(i) != -1 {
				return fmt.Errorf("deleted associate index %d: header %+v, role slot %d", i, *h, s.assocRole.at(i))
			}
			continue
		}
		if n.idx != int32(i) {
			return fmt.Errorf("associate %d: node index %d, slot %d", n.a.ID, n.idx, i)
		}
		if got := s.roleID(x); got != n.a.Role {
			return fmt.Errorf("associate %d: header role %d, want %d", n.a.ID, got, n.a.Role)
		}
		if s.assocRole.at(i) != h.role {
			return fmt.Errorf("associate %d: role slot %d, header %d", n.a.ID, s.assocRole.at(i), h.role)
		}
		if h.policyMask != s.policyMaskOfSplit(s.closureOf(n), s.personalOf(n)) || AssociateType(h.typ) != n.a.Type || (h.flags&hotActive != 0) != n.a.Active {
			return fmt.Errorf("associate %d: header %+v disagrees with node", n.a.ID, *h)
		}
		if gi, g := s.group(n.a.PrimaryGroup); g != nil && h.primary != gi {
			return fmt.Errorf("associate %d: header primary %d, want %d", n.a.ID, h.primary, gi)
		}
		closure, personal := s.closureOf(n), s.personalOf(n)
		if many := h.flags&hotManyPersonal != 0; many != (len(personal) > persMax) || !many && len(personal) != int(h.personalCount) {
			return fmt.Errorf("associate %d: header %+v for %d personal groups", n.a.ID, *h, len(personal))
		}
		for _, g := range personal {
			if contains(closure, g) {
				return fmt.Errorf("associate %d: personal group index %d is in its role's closure", n.a.ID, g)
			}
		}
		var reached []int32
		if s.reachAll(n.a, sc) {
			reached = sc.sorted()
		}
		groups := s.groupsOf(n)
		if !slices.Equal(groups, reached) {
			return fmt.Errorf("associate %d: groups %v, reachAll reaches %v", n.a.ID, groups, reached)
		}
		for g := range s.groups {
			_, want := slices.BinarySearch(groups, int32(g))
			if got := s.memberHot(h, int32(g)); got != want {
				return fmt.Errorf("associate %d, group index %d: header says member %v, node says %v", n.a.ID, g, got, want)
			}
		}
	}
	return checkMembers(s)
}

// checkMembers reports the first way in which the snapshot's member lists
// disagree with its associates: every group's members (memberSet, read
// through each of its methods) must be exactly the associates whose
// effective groups (groupsOf) hold it; its personal members those whose
// personal groups do; every role slot's holders those holderSlot names;
// and the roles listed for a group those whose closure holds it.
func checkMembers(s *snapshot) error {
	want := make([][]int32, len(s.groups))
	personal := make([][]int32, len(s.groups))
	held := make([][]int32, len(s.roleAt))
	for i, n := range s.assocs.all() {
		if n == nil {
			continue
		}
		for _, g := range s.groupsOf(n) {
			want[g] = append(want[g], i)
		}
		for _, g := range s.personalOf(n) {
			personal[g] = append(personal[g], i)
		}
		if r := s.holderSlot(n); r >= 0 {
			if int(r) >= len(held) {
				return fmt.Errorf("associate %d holds role slot %d of %d", n.a.ID, r, len(held))
			}
			held[r] = append(held[r], i)
		}
	}
	for r := range max(len(held), len(s.holders)) {
		var got, w []int32
		if r < len(s.holders) && s.holders[r] != nil {
			got = s.holders[r].list()
		}
		if r < len(held) {
			w = held[r]
		}
		if !equalMembers(got, w) {
			return fmt.Errorf("role slot %d: holders %v, want %v", r, got, w)
		}
	}
	for g := range s.groups {
		var roles []int32
		for slot, r := range s.roleAt {
			if r != nil && s.groups[g] != nil && contains(r.closure, int32(g)) {
				roles = append(roles, int32(slot))
			}
		}
		m := s.memberSet(int32(g))
		if !equalMembers(m.roles, roles) {
			return fmt.Errorf("group index %d: in the closures of role slots %v, want %v", g, m.roles, roles)
		}
		if got := s.personalSet(int32(g)).list(); !equalMembers(got, personal[g]) {
			return fmt.Errorf("group index %d: personal members %v, want %v", g, got, personal[g])
		}
		list := m.list()
		if list == nil {
			return fmt.Errorf("group index %d: list is nil", g)
		}
		if !equalMembers(list, want[g]) {
			return fmt.Errorf("group index %d: members %v, want %v", g, list, want[g])
		}
		if m.len() != len(want[g]) {
			return fmt.Errorf("group index %d: len %d, want %d", g, m.len(), len(want[g]))
		}
		if got := slices.Collect(m.all()); !equalMembers(got, want[g]) {
			return fmt.Errorf("group index %d: all yields %v, want %v", g, got, want[g])
		}
		if got := m.appendTo([]int32{-1}); len(got) == 0 || got[0] != -1 || !equalMembers(got[1:], want[g]) {
			return fmt.Errorf("group index %d: appendTo gives %v, want -1 and %v", g, got, want[g])
		}
		// A reader that stops early sees a prefix.
		if k := len(want[g]) / 2; k > 0 {
			var got []int32
			for a := range m.all() {
				got = append(got, a)
				if len(got) == k {
					break
				}
			}
			if !equalMembers(got, want[g][:k]) {
				return fmt.Errorf("group index %d: the first %d of all are %v, want %v", g, k, got, want[g][:k])
			}
		}
	}
	return nil
}

// equalMembers reports whether two lists are equal, nil and empty alike.
func equalMembers(a, b []int32) bool { return slices.Equal(a, b) }

// TestMain lowers the size limits that choose between representations, so
// that the small models of the tests exercise every one of them — unless
// benchmarks run, which must measure what users get.
func TestMain(m *testing.M) {
	flag.Parse()
	if b := flag.Lookup("test.bench"); b == nil || b.Value.String() == "" {
		persCompactMin, roleBitsMin, persMax = 0, 2, 5
	}
	os.Exit(m.Run())
}

// SetParallelMin sets the fewest associates per goroutine of a full
// build's membership computation and returns a function that restores it.
func SetParallelMin(n int) (restore func()) {
	old := parallelMin.Swap(int64(n))
	return func() { parallelMin.Store(old) }
}

// SetLoginHash makes f the hash of login keys until the returned function
// restores the real one.
func SetLoginHash(f func(string) uint64) (restore func()) {
	old := loginHash
	loginHash = f
	return func() { loginHash = old }
}
