package access

import (
	"fmt"
	"slices"
	"testing"
	"unsafe"

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
				if snap.reachAll(n.a, sc) {
					want = sc.sorted()
				}
				if got := snap.groupsOf(n); !slices.Equal(got, want) {
					t.Fatalf("rev %d associate %d: groups %v, reachAll reaches %v", snap.rev, n.a.ID, got, want)
				}
				closure := snap.roleClosure(n.a.Role, n.a.Type)
				personal := snap.personalGroupsOf(n.a, closure, sc)
				if got := unionInto(nil, closure, personal); !slices.Equal(got, want) || len(got) != len(closure)+len(personal) {
					t.Fatalf("rev %d associate %d: closure %v and personal groups %v, reachAll reaches %v", snap.rev, n.a.ID, closure, personal, want)
				}
			}
		}
	})
}

// TestHeadersFollowEveryKindOfWrite applies random writes of every kind
// that rewrites headers to a built snapshot: licences (which rewrite
// headers keeping their personal groups), grants and group defaults
// (which can move the policy bits and rebuild every header from the old
// ones), associate moves and role changes (new personal groups, the old
// runs dead, compacted as tests set persCompactMin), and nesting changes
// (the nesting plan). After each it checks every header against a fresh
// walk from its associate (checkHeaders). Associates get up to eight
// secondary groups, so that some have more personal groups than persMax
// (lowered by TestMain) and their runs start with their count.
func TestHeadersFollowEveryKindOfWrite(t *testing.T) {
	many := 0
	rapid.Check(t, func(t *rapid.T) {
		nGroups := rapid.IntRange(2, 16).Draw(t, "groups")
		drawGroup := func(t *rapid.T, i int) Group {
			g := Group{ID: GroupID(i), Name: fmt.Sprint("g", i)}
			for j := 1; j < i; j++ {
				if rapid.IntRange(0, 4).Draw(t, "nest") == 0 {
					g.Groups = append(g.Groups, GroupID(j))
				}
			}
			if rapid.IntRange(0, 3).Draw(t, "byrole") == 0 {
				g.Roles = []RoleID{RoleID(rapid.IntRange(1, 3).Draw(t, "role"))}
			}
			if rapid.IntRange(0, 5).Draw(t, "defaults") == 0 {
				g.Defaults = map[string]CRUD{"contact": R}
			}
			return g
		}
		drawAssoc := func(t *rapid.T, id int) Associate {
			a := Associate{ID: AssociateID(id), Name: fmt.Sprint("a", id), Active: true,
				Role:         RoleID(rapid.IntRange(0, 3).Draw(t, "its role")),
				PrimaryGroup: GroupID(rapid.IntRange(1, nGroups).Draw(t, "primary"))}
			for range rapid.IntRange(0, 8).Draw(t, "secondaries") {
				a.Groups = append(a.Groups, GroupID(rapid.IntRange(1, nGroups).Draw(t, "secondary")))
			}
			if rapid.IntRange(0, 6).Draw(t, "external") == 0 {
				a.Type = External
			}
			return a
		}
		b := Batch{Roles: []Role{{ID: 1, Name: "r1"}, {ID: 2, Name: "r2", Parent: 1}, {ID: 3, Name: "r3", Parent: 2}}}
		for i := 1; i <= nGroups; i++ {
			b.Groups = append(b.Groups, drawGroup(t, i))
		}
		nAssocs := rapid.IntRange(1, 12).Draw(t, "associates")
		for id := 1; id <= nAssocs; id++ {
			b.Associates = append(b.Associates, drawAssoc(t, id))
		}
		s := build(1, &b)
		if err := checkHeaders(s); err != nil {
			t.Fatalf("built: %v", err)
		}
		for w := range rapid.IntRange(1, 8).Draw(t, "writes") {
			d := Delta{From: s.rev, To: s.rev + 1}
			switch kind := rapid.IntRange(0, 4).Draw(t, "kind"); kind {
			case 0:
				if rapid.Bool().Draw(t, "licence put") {
					d.Licences = []Licence{{ID: 1, Name: "l", For: []AssociateType{Internal, External}}}
				} else {
					d.DeleteLicences = []LicenceID{1}
				}
			case 1:
				if rapid.Bool().Draw(t, "grant put") {
					d.Grants = []Grant{{ID: GrantID(rapid.IntRange(1, 3).Draw(t, "grant")),
						Group: GroupID(rapid.IntRange(1, nGroups).Draw(t, "grant group")), EntityType: "contact", Rights: R}}
				} else {
					d.DeleteGrants = []GrantID{GrantID(rapid.IntRange(1, 3).Draw(t, "grant"))}
				}
			case 2:
				d.Associates = []Associate{drawAssoc(t, rapid.IntRange(1, nAssocs+1).Draw(t, "moved"))}
			case 3:
				d.Groups = []Group{drawGroup(t, rapid.IntRange(1, nGroups).Draw(t, "rewritten"))}
			case 4:
				d.DeleteAssociates = []AssociateID{AssociateID(rapid.IntRange(1, nAssocs).Draw(t, "deleted"))}
			}
			s = s.update(&d)
			if err := checkHeaders(s); err != nil {
				t.Fatalf("write %d: %v", w, err)
			}
		}
		for i := range s.assocs.all() {
			if s.hotAt(i).flags&hotManyPersonal != 0 {
				many++
			}
		}
	})
	if many == 0 {
		t.Error("no associate had more personal groups than a header counts: the test checks too little")
	}
}

// TestHeadersCompactWhileAssociatesArrive: updates that rewrite every
// associate (leaving their old personal-group runs dead) and add more
// past the last header chunk make the writer move the personal-group
// array midway, compacting it while the new associates have no header
// yet; every header must still be right afterwards (checkHeaders).
func TestHeadersCompactWhileAssociatesArrive(t *testing.T) {
	const groups = 12
	assoc := func(id, round int) Associate {
		a := Associate{ID: AssociateID(id), Name: fmt.Sprint("a", id), Active: true,
			PrimaryGroup: GroupID(1 + id%groups)}
		for k := range 3 + (id+round)%4 {
			a.Groups = append(a.Groups, GroupID(1+(id*7+round*5+k*3)%groups))
		}
		return a
	}
	var b Batch
	for g := 1; g <= groups; g++ {
		b.Groups = append(b.Groups, Group{ID: GroupID(g), Name: fmt.Sprint("g", g)})
	}
	n := 2*hotLen - 20
	for id := 1; id <= n; id++ {
		b.Associates = append(b.Associates, assoc(id, 0))
	}
	s := build(1, &b)
	moved := 0
	for round := 1; round <= 6; round++ {
		d := Delta{From: s.rev, To: s.rev + 1}
		for id := 1; id <= n; id++ {
			d.Associates = append(d.Associates, assoc(id, round))
		}
		// Each round adds half a mid of headers and more, so that the
		// rounds cross chunk and mid boundaries.
		grow := hotLen*hotMidLen/2 + 30
		for id := n + 1; id <= n+grow; id++ {
			d.Associates = append(d.Associates, assoc(id, round))
		}
		n += grow
		before := unsafe.SliceData(s.personalGroups)
		s = s.update(&d)
		if unsafe.SliceData(s.personalGroups) != before {
			moved++
		}
		if err := checkHeaders(s); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	if moved == 0 {
		t.Fatal("the personal-group array never moved: the test checks nothing")
	}
}
