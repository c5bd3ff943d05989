package access

import (
	"slices"
	"testing"

	"pgregory.net/rapid"
)

func TestContainsMatchesBinarySearch(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := slices.Compact(slices.Sorted(slices.Values(rapid.SliceOf(rapid.Int32Range(-50, 50)).Draw(t, "a"))))
		x := rapid.Int32Range(-60, 60).Draw(t, "x")
		_, want := slices.BinarySearch(a, x)
		if got := contains(a, x); got != want {
			t.Fatalf("contains(%v, %d) = %v, want %v", a, x, got, want)
		}
	})
}

func TestIDBloomHasNoFalseNegatives(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ids := rapid.SliceOf(rapid.Int64()).Draw(t, "ids")
		b := newIDBloom(ids)
		for _, id := range ids {
			if !b.mayHave(id) {
				t.Fatalf("id %d was added but mayHave says no", id)
			}
		}
		if len(ids) == 0 && b.mayHave(rapid.Int64().Draw(t, "probe")) {
			t.Fatal("an empty filter must hold nothing")
		}
	})
}

func TestHotBitSpreadsGroups(t *testing.T) {
	// Consecutive group indexes must not share a bloom bit in runs: the
	// groups of one branch of the hierarchy have nearby indexes.
	seen := map[uint64]int{}
	for g := int32(0); g < 64; g++ {
		seen[hotBit(g)]++
	}
	if len(seen) < 32 {
		t.Fatalf("64 consecutive groups use only %d of 64 bloom bits", len(seen))
	}
}

// TestSiblingSnapshotsKeepTheirHeaders derives two snapshots from one
// parent, one after the other, each adding personal groups: the second
// must not write over what the first appended to the shared array, and
// the parent must stay as it was.
func TestSiblingSnapshotsKeepTheirHeaders(t *testing.T) {
	b := &Batch{Roles: []Role{{ID: 1, Name: "r"}}}
	for g := GroupID(1); g <= 40; g++ {
		grp := Group{ID: g, Name: "g"}
		if g > 1 {
			grp.Groups = []GroupID{g - 1} // a chain: 40 includes 39 … includes 1
		}
		b.Groups = append(b.Groups, grp)
	}
	for a := AssociateID(1); a <= 30; a++ {
		b.Associates = append(b.Associates, Associate{ID: a, Name: "a", Active: true, Role: 1, PrimaryGroup: 40 - GroupID(a%3)})
	}
	parent := build(1, b)
	if cap(parent.personalGroups) == len(parent.personalGroups) {
		parent.personalGroups = slices.Grow(parent.personalGroups, 64) // room to append in place
	}
	move := func(rev Revision, a AssociateID, to GroupID) *snapshot {
		d := Delta{From: 1, To: rev}
		d.Associates = []Associate{{ID: a, Name: "a", Active: true, Role: 1, PrimaryGroup: to}}
		return parent.update(&d)
	}
	first := move(2, 1, 37)  // personal groups 37 … 40
	second := move(3, 2, 39) // personal groups 39, 40
	for name, s := range map[string]*snapshot{"parent": parent, "first": first, "second": second} {
		if err := checkHeaders(s); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestTypeOfFewAndMany(t *testing.T) {
	for _, n := range []int{0, 3, 8, 9, 20} {
		s := &snapshot{}
		var names []string
		for i := range n {
			names = append(names, "type"+string(rune('a'+i)))
		}
		s.intern(names...)
		s.intern(names[:n/2]...) // again: no new indexes
		if len(s.types) != n || len(s.typeNames) != n {
			t.Fatalf("%d names: %d interned, %d listed", n, len(s.types), len(s.typeNames))
		}
		seen := map[int32]bool{}
		for _, name := range names {
			i := s.typeOf(name)
			if i <= 0 || i != s.types[name] || seen[i] {
				t.Fatalf("%d names: typeOf(%q) = %d, map has %d", n, name, i, s.types[name])
			}
			seen[i] = true
		}
		if s.typeOf("unknown") != 0 || s.typeOf(Wildcard) != 0 {
			t.Fatalf("%d names: an unnamed type or \"*\" got an index", n)
		}
	}
}

// TestEffectiveIsWhatReachAllReaches checks that an associate's role
// closure and personal groups (personalGroupsOf, which leaves the closure
// out of the associate's own reach) are apart and together give the
// groups the full walk reaches, for built snapshots and for updated ones,
// and that groupsOf gives those too.
func TestEffectiveIsWhatReachAllReaches(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := genOrg(t)
		s := build(1, &b)
		// Move one associate, so that an update's effective is checked
		// too.
		a := b.Associates[rapid.IntRange(0, len(b.Associates)-1).Draw(t, "moved")]
		a.Groups = []GroupID{GroupID(rapid.IntRange(1, len(b.Groups)).Draw(t, "to"))}
		next := s.update(&Delta{From: 1, To: 2, Batch: Batch{Associates: []Associate{a}}})
		for _, snap := range []*snapshot{s, next} {
			sc := newScratch(len(snap.groups))
			for _, n := range snap.assocs.all() {
				if n == nil {
					continue
				}
				var want []int32
				if snap.reachAll(&n.a, sc) {
					want = sc.sorted()
				}
				if got := snap.groupsOf(n); !slices.Equal(got, want) {
					t.Fatalf("rev %d associate %d: groups %v, reachAll reaches %v", snap.rev, n.a.ID, got, want)
				}
				closure := snap.roleClosure(n.a.Role, n.a.Type)
				personal := snap.personalGroupsOf(&n.a, closure, sc)
				if got := unionInto(nil, closure, personal); !slices.Equal(got, want) || len(got) != len(closure)+len(personal) {
					t.Fatalf("rev %d associate %d: closure %v and personal groups %v, reachAll reaches %v", snap.rev, n.a.ID, closure, personal, want)
				}
			}
		}
	})
}
