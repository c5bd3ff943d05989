package access

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// headerView is what a decision header says about an associate, in ids
// rather than indexes, slots and bits, so that the headers of an updated
// snapshot can be compared with those of a fresh build of its model.
type headerView struct {
	Flags    uint8
	Typ      uint8
	Role     RoleID // the role the slot names, -1 for none
	Primary  GroupID
	Policy   []GroupID // the groups whose policy bit is set
	Personal []GroupID
	Bloom    bool // the bloom filter holds every personal group
	Groups   []GroupID
}

func viewHeader(s *snapshot, i int32) headerView {
	h := s.hotAt(i)
	v := headerView{Flags: h.flags, Typ: h.typ, Role: -1, Primary: -1, Bloom: true}
	switch {
	case h.role >= 0 && s.roleAt[h.role] == nil:
		// The slot of a deleted role (slots are stable) says what
		// hotOddRole says: the role the associate names does not exist.
		v.Flags |= hotOddRole
	case h.role >= 0:
		v.Role = s.roleIDs[h.role]
	}
	if h.primary >= 0 && s.groups[h.primary] != nil {
		v.Primary = s.groups[h.primary].group.ID
	}
	for g, b := range s.policyBit {
		if b >= 0 && h.policyMask[b>>6]&(1<<(b&63)) != 0 {
			v.Policy = append(v.Policy, s.groups[g].group.ID)
		}
	}
	slices.Sort(v.Policy)
	if n := s.assocs.at(i); n != nil {
		for _, g := range s.personalOf(n) {
			v.Personal = append(v.Personal, s.groups[g].group.ID)
			if h.bloom&hotBit(g) == 0 {
				v.Bloom = false
			}
		}
		slices.Sort(v.Personal)
		for _, g := range s.groupsOf(n) {
			v.Groups = append(v.Groups, s.groups[g].group.ID)
		}
		slices.Sort(v.Groups)
	}
	return v
}

// headerViews returns the view of every present associate's header, by
// id.
func headerViews(s *snapshot) map[AssociateID]headerView {
	out := map[AssociateID]headerView{}
	for i, n := range s.assocs.all() {
		if n != nil {
			out[n.a.ID] = viewHeader(s, i)
		}
	}
	return out
}

// headerPrint is an exact copy of a snapshot's headers (every one up to
// headerCap) and of the personal-group runs they point at: a later update
// that writes into memory the snapshot shares changes it.
type headerPrint struct {
	hot  []hotAssoc
	runs [][]int32
	pers []int32
}

func printHeaders(s *snapshot) headerPrint {
	p := headerPrint{pers: slices.Clone(s.personalGroups)}
	for i := range int32(s.headerCap()) {
		h := *s.hotAt(i)
		p.hot = append(p.hot, h)
		var run []int32
		if h.flags&hotPresent != 0 {
			run = slices.Clone(s.personalRun(&h))
		}
		p.runs = append(p.runs, run)
	}
	return p
}

func (p headerPrint) diff(s *snapshot) error {
	if s.headerCap() != len(p.hot) {
		return fmt.Errorf("header capacity %d, was %d", s.headerCap(), len(p.hot))
	}
	if !slices.Equal(p.pers, s.personalGroups) {
		return fmt.Errorf("personal-group array changed")
	}
	for i := range int32(len(p.hot)) {
		h := *s.hotAt(i)
		if h != p.hot[i] {
			return fmt.Errorf("header %d: %+v, was %+v", i, h, p.hot[i])
		}
		if h.flags&hotPresent != 0 && !slices.Equal(s.personalRun(&h), p.runs[i]) {
			return fmt.Errorf("header %d's personal groups: %v, were %v", i, s.personalRun(&h), p.runs[i])
		}
	}
	return nil
}

// checkScope fails t when the what-if scope of b, which led from s to
// next, leaves out an associate whose header says something else in next
// than in s (its memberships, role, type, primary group or gate flags),
// or that one of them lacks.
func checkScope(t *rapid.T, when string, s, next *snapshot, b *Batch) {
	sc := s.whatIfScope(next, b)
	if sc.all {
		return
	}
	in := map[AssociateID]bool{}
	for _, id := range sc.ids {
		in[id] = true
	}
	was, is := headerViews(s), headerViews(next)
	strip := func(v headerView) headerView {
		v.Policy, v.Personal = nil, nil // the policy's encoding, and the closure's split
		return v
	}
	ids := slices.Collect(maps.Keys(was))
	for id := range is {
		if _, ok := was[id]; !ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		x, okx := was[id]
		y, oky := is[id]
		if okx == oky && cmp.Equal(strip(x), strip(y)) {
			continue
		}
		if !in[id] {
			t.Fatalf("%s: the what-if scope leaves out associate %d, whose header moved (-before +after):\n%s", when, id, cmp.Diff(x, y))
		}
	}
}

// TestHeadersMatchBuildAcrossMids keeps every snapshot of a random update
// history (with forks from older snapshots, as WhatIf makes) over models
// sized at chunk and mid boundaries, with dense ids (the identity range)
// or sparse ones, and new associates appended past the identity range.
// The writes move policy bits (group defaults, grants: every header
// rebuilt during the update), personal groups, roles, licences, and
// delete associates. After each update, every header must say what the
// header of a fresh build of the same model says (headerView: flags,
// role, primary group, policy bits, personal groups and bloom filter,
// effective groups), and every snapshot made before must still hold
// exactly the headers and personal groups it was made with. The what-if
// scope of each write must hold every associate whose header it moved
// (checkScope).
func TestHeadersMatchBuildAcrossMids(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		const nGroups = 6
		gids := []GroupID{1, 2, 3, 4, 5, 6}
		rids := []RoleID{1, 2, 3, 4}
		sparse := rapid.IntRange(0, 3).Draw(t, "sparse?") == 0
		assocID := func(k int) AssociateID {
			if sparse {
				return AssociateID(k*7919 + 3)
			}
			return AssociateID(k)
		}
		sizes := []int{0, 1, hotLen - 1, hotLen, hotLen + 1, hotLen * hotMidLen, hotLen*hotMidLen + 1, chunkLen, 2*hotLen*hotMidLen - 1}
		nAssocs := rapid.SampledFrom(sizes).Draw(t, "associates")
		drawGroup := func(t *rapid.T, id GroupID) Group {
			g := Group{ID: id, Name: fmt.Sprint("g", id)}
			for _, k := range gids {
				if k < id && rapid.IntRange(0, 3).Draw(t, "kid?") == 0 {
					g.Groups = append(g.Groups, k)
				}
			}
			if rapid.IntRange(0, 3).Draw(t, "role link?") == 0 {
				g.Roles = []RoleID{rapid.SampledFrom(rids).Draw(t, "linked role")}
			}
			if rapid.IntRange(0, 2).Draw(t, "defaults?") == 0 {
				g.Defaults = map[string]CRUD{"contact": R}
			}
			return g
		}
		drawAssoc := func(t *rapid.T, id AssociateID) Associate {
			a := Associate{ID: id, Name: fmt.Sprint("a", id), Active: rapid.IntRange(0, 5).Draw(t, "inactive?") != 0,
				Role:         RoleID(rapid.IntRange(0, 5).Draw(t, "its role")), // 5: a role the model may lack
				PrimaryGroup: rapid.SampledFrom(gids).Draw(t, "primary")}
			for range rapid.IntRange(0, 7).Draw(t, "secondaries") {
				a.Groups = append(a.Groups, rapid.SampledFrom(gids).Draw(t, "secondary"))
			}
			slices.Sort(a.Groups)
			a.Groups = slices.Compact(a.Groups)
			if rapid.IntRange(0, 5).Draw(t, "external?") == 0 {
				a.Type, a.PrimaryGroup, a.Groups = External, 0, nil
			}
			return a
		}
		m0 := memberModel{roles: map[RoleID]Role{}, groups: map[GroupID]Group{}, assocs: map[AssociateID]Associate{},
			grants: map[GrantID]Grant{}, licences: map[LicenceID]Licence{}}
		for _, id := range rids {
			r := Role{ID: id, Name: fmt.Sprint("r", id)}
			if id > 1 {
				r.Parent = id - 1
			}
			m0.roles[id] = r
		}
		for _, id := range gids {
			m0.groups[id] = drawGroup(t, id)
		}
		// Most associates share one shape, so that a large model costs
		// little to draw.
		common := drawAssoc(t, 0)
		for k := range nAssocs {
			a := common
			a.ID, a.Name = assocID(k+1), fmt.Sprint("a", k+1)
			a.Groups = slices.Clone(common.Groups)
			m0.assocs[a.ID] = a
		}
		drawDelta := func(t *rapid.T, m memberModel, from Revision) (Delta, memberModel) {
			m = m.clone()
			d := Delta{From: from, To: from + 1}
			switch rapid.IntRange(0, 7).Draw(t, "change") {
			case 0, 1: // some associates rewritten, maybe new ones appended
				for range rapid.IntRange(1, 4).Draw(t, "rewritten") {
					id := assocID(rapid.IntRange(1, nAssocs+1).Draw(t, "associate"))
					if _, ok := m.assocs[id]; !ok && slices.ContainsFunc(d.Associates, func(a Associate) bool { return a.ID == id }) {
						continue
					}
					a := drawAssoc(t, id)
					m.assocs[id] = a
					d.Associates = slices.DeleteFunc(d.Associates, func(x Associate) bool { return x.ID == id })
					d.Associates = append(d.Associates, a)
				}
			case 2: // a run of new associates past the end, across chunk and mid boundaries
				k0 := nAssocs + 1 + rapid.IntRange(0, 3*chunkLen).Draw(t, "gap")
				if !sparse && rapid.Bool().Draw(t, "far past the identity range?") {
					k0 += 4 * chunkLen
				}
				run := rapid.SampledFrom([]int{1, hotLen, hotLen*hotMidLen + 1}).Draw(t, "run")
				for k := k0; k < k0+run; k++ {
					a := common
					a.ID, a.Name = assocID(k), fmt.Sprint("a", k)
					a.Groups = slices.Clone(common.Groups)
					if _, ok := m.assocs[a.ID]; ok {
						continue
					}
					m.assocs[a.ID] = a
					d.Associates = append(d.Associates, a)
				}
			case 3:
				if len(m.assocs) == 0 {
					return d, m
				}
				ids := slices.Sorted(maps.Keys(m.assocs))
				id := rapid.SampledFrom(ids).Draw(t, "deleted")
				delete(m.assocs, id)
				d.DeleteAssociates = []AssociateID{id}
			case 4:
				g := drawGroup(t, rapid.SampledFrom(gids).Draw(t, "group"))
				if rapid.Bool().Draw(t, "only nesting and role links?") {
					// The policy stands: the what-if scope must find the
					// members that move from the update's recomputed list.
					g.Defaults = m.groups[g.ID].Defaults
				}
				m.groups[g.ID] = g
				d.Groups = []Group{g.clone()}
			case 5:
				id := GrantID(rapid.IntRange(1, 3).Draw(t, "grant"))
				if rapid.Bool().Draw(t, "put?") {
					g := Grant{ID: id, Group: rapid.SampledFrom(gids).Draw(t, "grant group"), EntityType: "contact", Rights: R}
					m.grants[id] = g
					d.Grants = []Grant{g}
				} else {
					delete(m.grants, id)
					d.DeleteGrants = []GrantID{id}
				}
			case 6:
				if rapid.Bool().Draw(t, "licence put?") {
					l := Licence{ID: 1, Name: "l", For: []AssociateType{Internal}}
					m.licences[1] = l
					d.Licences = []Licence{l}
				} else {
					delete(m.licences, 1)
					d.DeleteLicences = []LicenceID{1}
				}
			case 7:
				id := RoleID(rapid.IntRange(1, 5).Draw(t, "written role"))
				if _, ok := m.roles[id]; ok && id > 1 && rapid.Bool().Draw(t, "delete it?") {
					if slices.ContainsFunc(slices.Collect(maps.Values(m.roles)), func(r Role) bool { return r.Parent == id }) {
						return d, m
					}
					delete(m.roles, id)
					d.DeleteRoles = []RoleID{id}
					return d, m
				}
				r := Role{ID: id, Name: fmt.Sprint("r", id), Functions: []string{"export"}}
				m.roles[id] = r
				d.Roles = []Role{r}
			}
			return d, m
		}
		type made struct {
			s     *snapshot
			m     memberModel
			print headerPrint
		}
		check := func(t *rapid.T, when string, s *snapshot, m memberModel) {
			if err := checkHeaders(s); err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			want := headerViews(build(s.rev, m.batch()))
			if diff := cmp.Diff(want, headerViews(s)); diff != "" {
				t.Fatalf("%s: headers (-build +update):\n%s", when, diff)
			}
		}
		first := build(1, m0.batch())
		check(t, "the build", first, m0)
		hist := []made{{s: first, m: m0, print: printHeaders(first)}}
		for w := range rapid.IntRange(1, 6).Draw(t, "writes") {
			k := drawBase(t, len(hist))
			base := hist[k]
			d, m := drawDelta(t, base.m, base.s.rev)
			s := base.s.update(&d)
			when := fmt.Sprintf("write %d (from snapshot %d)", w, k)
			check(t, when, s, m)
			checkScope(t, when, base.s, s, &d.Batch)
			hist = append(hist, made{s: s, m: m, print: printHeaders(s)})
			for j, h := range hist {
				if err := h.print.diff(h.s); err != nil {
					t.Fatalf("after %s, snapshot %d changed: %v", when, j, err)
				}
			}
		}
	})
}

// TestRoleCreatedLaterReachesOtherTypes: an external associate naming a
// role the model lacks has no role slot (hotOddRole); once an update
// creates the role, its header must name the role's slot, as a fresh
// build's does, for the role's rights apply to every type (roleRights
// reads roleOf for any subject).
func TestRoleCreatedLaterReachesOtherTypes(t *testing.T) {
	b := Batch{
		Roles:      []Role{{ID: 1, Name: "r1"}},
		Associates: []Associate{{ID: 1, Name: "ext", Active: true, Type: External, Role: 2}},
	}
	s := build(1, &b)
	if x := s.subject(1); s.roleOf(x) != nil {
		t.Fatal("the role exists before it is written")
	}
	r2 := Role{ID: 2, Name: "r2", Parent: 1, Rights: map[string]Grid{}}
	s = s.update(&Delta{From: 1, To: 2, Batch: Batch{Roles: []Role{r2}}})
	x := s.subject(1)
	if r := s.roleOf(x); r == nil || r.role.ID != 2 {
		t.Fatalf("after the role is created, the external associate's header has role slot %d, flags %#x", x.h.role, x.h.flags)
	}
	if x.h.flags&hotOddRole != 0 {
		t.Fatalf("header still says the role does not exist: flags %#x", x.h.flags)
	}
}

// TestGrowHeadersAtBoundaries grows the headers of snapshots whose
// associates end at and around chunk and mid boundaries, under an
// update's cow and under none (as tests that edit a snapshot do), to
// indexes at and around the boundaries: the grown snapshot must cover the
// index with zero headers, keep the old headers' values, and leave the
// snapshot it came from (its mids, chunks and headers) as it was.
func TestGrowHeadersAtBoundaries(t *testing.T) {
	const mid = hotLen * hotMidLen
	sizes := []int{0, 1, hotLen - 1, hotLen, hotLen + 1, mid - 1, mid, mid + 1, 2 * mid}
	for _, n := range sizes {
		var b Batch
		for id := 1; id <= n; id++ {
			// Sparse ids: no identity range, so the headers end at n.
			b.Associates = append(b.Associates, Associate{ID: AssociateID(id * 1000), Name: fmt.Sprint("a", id), Active: true})
		}
		old := build(1, &b)
		for _, to := range []int{n, n + 1, n + hotLen - 1, n + hotLen, mid - 1, mid, mid + 1, 2*mid - 1, 2 * mid, 3*mid + hotLen} {
			if to < n {
				continue
			}
			for _, nilCow := range []bool{false, true} {
				print := printHeaders(old)
				mids := slices.Clone(old.hot)
				var chunks []hotMid
				for _, m := range old.hot {
					chunks = append(chunks, *m)
				}
				s := *old
				if !nilCow {
					s.cow = &cow{}
				}
				s.ownHot()
				s.growHeaders(int32(to))
				name := fmt.Sprintf("%d associates grown to %d (nil cow %v)", n, to, nilCow)
				if s.headerCap() <= to || s.headerCap() > (to/hotLen+1)*hotLen && s.headerCap() > old.headerCap() {
					t.Fatalf("%s: header capacity %d", name, s.headerCap())
				}
				for i := range int32(s.headerCap()) {
					want := hotAssoc{}
					if int(i) < len(print.hot) {
						want = print.hot[i]
					}
					if *s.hotAt(i) != want {
						t.Fatalf("%s: header %d is %+v, want %+v", name, i, *s.hotAt(i), want)
					}
				}
				// Write every header of the grown snapshot, as an update
				// would after ownChunk.
				for i := range int32(s.headerCap()) {
					s.ownChunk(i >> hotShift)
					s.hotAt(i).personalCount = 7
				}
				if !slices.Equal(mids, old.hot) {
					t.Fatalf("%s: the old snapshot's mids moved", name)
				}
				for k, m := range old.hot {
					if *m != chunks[k] {
						t.Fatalf("%s: the old snapshot's mid %d changed", name, k)
					}
				}
				if err := print.diff(old); err != nil {
					t.Fatalf("%s: the old snapshot changed: %v", name, err)
				}
			}
		}
	}
}

// TestAssociatesAtTheIdentityLimit builds a model whose ids are indexes
// (snapshot.identityLimit), then writes associates with ids just below,
// at and just past the limit, and at the next chunk and mid boundaries
// past it: each must be found by id (subject) with its own header, every
// header must match a fresh build's, and the snapshot written from must
// keep its headers.
func TestAssociatesAtTheIdentityLimit(t *testing.T) {
	const mid = hotLen * hotMidLen
	for _, n := range []int{1, hotLen, mid - 1, mid} {
		m := memberModel{roles: map[RoleID]Role{1: {ID: 1, Name: "r1"}}, groups: map[GroupID]Group{
			1: {ID: 1, Name: "g1", Defaults: map[string]CRUD{"contact": R}},
			2: {ID: 2, Name: "g2", Groups: []GroupID{1}},
		}, assocs: map[AssociateID]Associate{}}
		for id := 1; id <= n; id++ {
			m.assocs[AssociateID(id)] = Associate{ID: AssociateID(id), Name: fmt.Sprint("a", id), Active: true, Role: 1, PrimaryGroup: 2}
		}
		old := build(1, m.batch())
		limit := int(old.identityLimit)
		if limit == 0 {
			t.Fatalf("%d associates: no identity range", n)
		}
		print := printHeaders(old)
		var d Delta
		d.From, d.To = 1, 2
		for _, id := range []int{limit - 1, limit, limit + 1, limit + hotLen - 1, limit + hotLen, limit + mid - 1, limit + mid, 2 * mid} {
			if _, ok := m.assocs[AssociateID(id)]; ok || id <= n {
				continue
			}
			a := Associate{ID: AssociateID(id), Name: fmt.Sprint("a", id), Active: true, Role: 1, PrimaryGroup: 2, Groups: []GroupID{1}}
			m.assocs[a.ID] = a
			d.Associates = append(d.Associates, a)
		}
		s := old.update(&d)
		if err := checkHeaders(s); err != nil {
			t.Fatalf("%d associates: %v", n, err)
		}
		if diff := cmp.Diff(headerViews(build(2, m.batch())), headerViews(s)); diff != "" {
			t.Fatalf("%d associates: headers (-build +update):\n%s", n, diff)
		}
		for _, a := range d.Associates {
			x := s.subject(a.ID)
			if x.h == nil || s.assocs.at(x.i).a.ID != a.ID || x.h != s.hotAt(x.i) {
				t.Fatalf("%d associates: associate %d not found by id (index %d)", n, a.ID, x.i)
			}
			if g1 := s.groupIdx[1]; !s.memberOf(x, g1) {
				t.Fatalf("%d associates: associate %d is not a member of g1", n, a.ID)
			}
		}
		if x := old.subject(AssociateID(limit - 1)); x.h != nil {
			t.Fatalf("%d associates: the old snapshot finds associate %d", n, limit-1)
		}
		if err := print.diff(old); err != nil {
			t.Fatalf("%d associates: the old snapshot changed: %v", n, err)
		}
	}
}

// TestHeaderWriterWithoutCow: code that edits a snapshot outside build
// and update (tests) has no cow record, which owns nothing; a header
// writer must then copy every mid and chunk it writes, including when it
// grows the headers across chunk and mid boundaries and compacts the
// personal groups, so that the snapshot copied from stays as it was.
func TestHeaderWriterWithoutCow(t *testing.T) {
	const mid = hotLen * hotMidLen
	var b Batch
	for g := 1; g <= 4; g++ {
		b.Groups = append(b.Groups, Group{ID: GroupID(g), Name: fmt.Sprint("g", g)})
	}
	for id := 1; id <= mid+3; id++ {
		b.Associates = append(b.Associates, Associate{ID: AssociateID(id * 1000), Name: fmt.Sprint("a", id), Active: true, PrimaryGroup: 1, Groups: []GroupID{2, 3}})
	}
	old := build(1, &b)
	print := printHeaders(old)
	s := *old
	s.cow = nil
	// New associates at and past the next chunk and mid boundaries.
	for _, i := range []int32{mid + 3, mid + hotLen, 2*mid - 1, 2 * mid, 2*mid + 1} {
		a := &Associate{ID: AssociateID(i) * 1000, Name: "new", Active: true, PrimaryGroup: 1, Groups: []GroupID{4}}
		for int(i) >= s.assocs.len() {
			s.assocs.append(s.cow, nil)
		}
		n := newAssocNode(a)
		n.idx = i
		s.assocs.set(s.cow, i, n)
	}
	w := s.hotWriter()
	for i := range int32(s.assocs.len()) {
		if n := s.assocs.at(i); n != nil {
			w.set(i, s.personalGroupsOf(n.a, nil, newScratch(len(s.groups))))
		}
	}
	w.done()
	for i := range int32(s.assocs.len()) {
		n := s.assocs.at(i)
		if n == nil {
			continue
		}
		want := s.personalGroupsOf(n.a, nil, newScratch(len(s.groups)))
		if got := s.personalOf(n); !slices.Equal(got, want) {
			t.Fatalf("associate index %d: personal groups %v, want %v", i, got, want)
		}
	}
	if err := print.diff(old); err != nil {
		t.Fatalf("the snapshot copied from changed: %v", err)
	}
	if err := checkHeaders(old); err != nil {
		t.Fatalf("the snapshot copied from: %v", err)
	}
}
