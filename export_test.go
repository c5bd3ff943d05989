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
	if len(s.hot)*hotLen < s.assocs.len() || s.assocRole.len() < s.assocs.len() {
		return fmt.Errorf("%d headers and %d role slots for %d associates", len(s.hot)*hotLen, s.assocRole.len(), s.assocs.len())
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
		if h.policyMask != n.policyMask || AssociateType(h.typ) != n.a.Type || (h.flags&hotActive != 0) != n.a.Active {
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
	return nil
}

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
