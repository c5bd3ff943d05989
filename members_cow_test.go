package access

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// memberModel is the plain model TestMemberListsCopyOnWrite and
// TestHeadersMatchBuildAcrossMids write to: roles, groups, associates,
// grants and licences by id.
type memberModel struct {
	roles    map[RoleID]Role
	groups   map[GroupID]Group
	assocs   map[AssociateID]Associate
	grants   map[GrantID]Grant
	licences map[LicenceID]Licence
}

func (m memberModel) clone() memberModel {
	c := memberModel{roles: maps.Clone(m.roles), groups: map[GroupID]Group{}, assocs: map[AssociateID]Associate{},
		grants: maps.Clone(m.grants), licences: maps.Clone(m.licences)}
	for id, g := range m.groups {
		c.groups[id] = g.clone()
	}
	for id, a := range m.assocs {
		a.Groups = slices.Clone(a.Groups)
		c.assocs[id] = a
	}
	return c
}

func (m memberModel) batch() *Batch {
	b := &Batch{}
	for _, id := range slices.Sorted(maps.Keys(m.roles)) {
		b.Roles = append(b.Roles, m.roles[id])
	}
	for _, id := range slices.Sorted(maps.Keys(m.groups)) {
		b.Groups = append(b.Groups, m.groups[id].clone())
	}
	for _, id := range slices.Sorted(maps.Keys(m.assocs)) {
		a := m.assocs[id]
		a.Groups = slices.Clone(a.Groups)
		b.Associates = append(b.Associates, a)
	}
	for _, id := range slices.Sorted(maps.Keys(m.grants)) {
		b.Grants = append(b.Grants, m.grants[id])
	}
	for _, id := range slices.Sorted(maps.Keys(m.licences)) {
		b.Licences = append(b.Licences, m.licences[id])
	}
	return b
}

// groupMemberIDs returns, per group id of the snapshot, its effective
// members' ids, sorted.
func groupMemberIDs(s *snapshot) map[GroupID][]AssociateID {
	out := map[GroupID][]AssociateID{}
	for id, gi := range s.groupIdx {
		if s.groups[gi] == nil {
			continue
		}
		ids := []AssociateID{}
		for i := range s.memberSet(gi).all() {
			ids = append(ids, s.assocs.at(i).a.ID)
		}
		slices.Sort(ids)
		out[id] = ids
	}
	return out
}

// TestMemberListsCopyOnWrite checks that an update never changes the
// member lists (personal members, role holders) or the decision headers of
// the snapshot it starts from: it keeps every snapshot of a random history, forks updates from
// older snapshots too (as WhatIf does from the published one), and checks
// after each update that every snapshot made so far still has the members
// it had when made, which are those of a fresh build of its model. A
// reader walks the snapshot being updated meanwhile, so that the race
// detector sees any write into a shared list.
func TestMemberListsCopyOnWrite(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		const nGroups = 8
		gids := make([]GroupID, nGroups)
		for i := range gids {
			gids[i] = GroupID(i + 1)
		}
		rids := []RoleID{1, 2, 3, 4, 5}
		sparse := rapid.Bool().Draw(t, "sparse ids?") // ids far apart: no identity index
		// wild lets the role tree break: cycles, and parents deleted under
		// their children, as a store that does not validate may have it.
		wild := rapid.Bool().Draw(t, "wild roles?")
		assocID := func(k int) AssociateID {
			if sparse {
				return AssociateID(k * 100003)
			}
			return AssociateID(k)
		}
		drawRole := func(t *rapid.T, id RoleID, m memberModel) Role {
			r := Role{ID: id, Name: fmt.Sprint("r", id)}
			switch {
			case wild && rapid.Bool().Draw(t, "parent?"):
				r.Parent = rapid.SampledFrom(rids).Draw(t, "any parent")
			case id > 1 && rapid.Bool().Draw(t, "parent?"):
				p := RoleID(rapid.IntRange(1, int(id)-1).Draw(t, "parent"))
				if _, ok := m.roles[p]; ok || m.roles == nil {
					r.Parent = p
				}
			}
			return r
		}
		drawGroup := func(t *rapid.T, id GroupID) Group {
			g := Group{ID: id, Name: fmt.Sprint("g", id)}
			if id > 1 && rapid.IntRange(0, 6).Draw(t, "smart?") == 0 {
				g.Smart = rapid.SampledFrom([]string{`name prefix "a1"`, `role == 2`, `role in [1, 5]`, `name prefix "a"`}).Draw(t, "rule")
				if _, err := ParseSmartRule(g.Smart); err != nil {
					t.Fatalf("rule %q: %v", g.Smart, err)
				}
				return g
			}
			g.Groups = rapid.SliceOfNDistinct(rapid.SampledFrom(gids), 0, 2, rapid.ID).Draw(t, "kids")
			g.Roles = rapid.SliceOfNDistinct(rapid.SampledFrom(rids), 0, 2, rapid.ID).Draw(t, "roles")
			g.RolesAndSubordinates = rapid.SliceOfNDistinct(rapid.SampledFrom(rids), 0, 1, rapid.ID).Draw(t, "tree roles")
			return g
		}
		drawAssoc := func(t *rapid.T, id AssociateID) Associate {
			a := Associate{ID: id, Name: fmt.Sprint("a", id), Active: true,
				Role: rapid.SampledFrom(append([]RoleID{0}, rids...)).Draw(t, "its role"), PrimaryGroup: rapid.SampledFrom(gids).Draw(t, "primary")}
			a.Groups = rapid.SliceOfNDistinct(rapid.SampledFrom(gids), 0, 2, rapid.ID).Draw(t, "secondary")
			switch rapid.IntRange(0, 7).Draw(t, "kind") {
			case 0:
				a.Type, a.PrimaryGroup, a.Groups = External, 0, nil
			case 1:
				a.Type, a.PrimaryGroup, a.Groups = Resource, 0, nil
			case 2:
				if wild { // a type no decision knows, or System, with groups
					// (A non-Internal header keeps a primary group index
					// that later appears at -1: harmless, as only Internal
					// subjects read it, so the primary group is left out.)
					a.Type = AssociateType(rapid.SampledFrom([]int{3, 9, 13}).Draw(t, "odd type"))
					a.PrimaryGroup = 0
				}
			}
			return a
		}
		if wild {
			rids = append(rids, 0) // a role with id 0, which every associate without a role names
		}
		m0 := memberModel{roles: map[RoleID]Role{}, groups: map[GroupID]Group{}, assocs: map[AssociateID]Associate{}}
		for _, id := range rids[:4] {
			m0.roles[id] = drawRole(t, id, memberModel{})
		}
		for _, id := range gids {
			m0.groups[id] = drawGroup(t, id)
		}
		nAssocs := rapid.IntRange(0, 30).Draw(t, "associates")
		if rapid.IntRange(0, 9).Draw(t, "many?") == 0 {
			nAssocs = rapid.IntRange(2*memberRun, 3*memberRun).Draw(t, "many associates") // lists of several runs
		}
		for k := range nAssocs {
			m0.assocs[assocID(k+1)] = drawAssoc(t, assocID(k+1))
		}
		// drawDelta draws a delta on model m, and returns it with the model
		// it leads to.
		drawDelta := func(t *rapid.T, m memberModel, from Revision) (Delta, memberModel) {
			m = m.clone()
			d := Delta{From: from, To: from + 1}
			named := map[any]bool{}
			once := func(id any) bool {
				if named[id] {
					return false
				}
				named[id] = true
				return true
			}
			for range rapid.IntRange(1, 3).Draw(t, "changes") {
				switch rapid.IntRange(0, 9).Draw(t, "change") {
				case 0, 1, 2, 3:
					id := assocID(rapid.IntRange(1, nAssocs+3).Draw(t, "associate"))
					if !once(id) {
						continue
					}
					a := drawAssoc(t, id)
					if old, ok := m.assocs[id]; ok && rapid.Bool().Draw(t, "only its role or type?") {
						a = old
						a.Groups = slices.Clone(old.Groups)
						if rapid.Bool().Draw(t, "role?") {
							a.Role = rapid.SampledFrom(append([]RoleID{0}, rids...)).Draw(t, "new role")
						} else {
							a.Type = rapid.SampledFrom([]AssociateType{Internal, External, Resource}).Draw(t, "new type")
							if a.Type != Internal {
								a.PrimaryGroup = 0 // see drawAssoc
							}
						}
					}
					m.assocs[id] = a
					d.Associates = append(d.Associates, a)
				case 4:
					id := assocID(rapid.IntRange(1, nAssocs+3).Draw(t, "deleted associate"))
					if !once(id) {
						continue
					}
					delete(m.assocs, id)
					d.DeleteAssociates = append(d.DeleteAssociates, id)
				case 5:
					id := rapid.SampledFrom(rids).Draw(t, "role")
					if !once(id) {
						continue
					}
					r := drawRole(t, id, m)
					if _, ok := m.roles[r.Parent]; !ok && !wild {
						r.Parent = 0
					}
					m.roles[id] = r
					d.Roles = append(d.Roles, r)
				case 6:
					id := rapid.SampledFrom(rids).Draw(t, "deleted role")
					if !once(id) || !wild && slices.ContainsFunc(slices.Collect(maps.Values(m.roles)), func(r Role) bool { return r.Parent == id }) {
						continue // a store keeps the tree whole
					}
					delete(m.roles, id)
					d.DeleteRoles = append(d.DeleteRoles, id)
				case 7, 8:
					id := rapid.SampledFrom(gids).Draw(t, "group")
					if !once(id) {
						continue
					}
					g := drawGroup(t, id)
					m.groups[id] = g
					d.Groups = append(d.Groups, g.clone())
				case 9:
					id := rapid.SampledFrom(gids).Draw(t, "deleted group")
					if !once(id) {
						continue
					}
					delete(m.groups, id)
					d.DeleteGroups = append(d.DeleteGroups, id)
				}
			}
			return d, m
		}
		type made struct {
			s       *snapshot
			m       memberModel
			members map[GroupID][]AssociateID
		}
		check := func(t *rapid.T, when string, s *snapshot, m memberModel) map[GroupID][]AssociateID {
			if err := checkHeaders(s); err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			got, want := groupMemberIDs(s), groupMemberIDs(build(s.rev, m.batch()))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("%s: members (-build +update):\n%s", when, diff)
			}
			return got
		}
		hist := []made{{s: build(1, m0.batch()), m: m0}}
		hist[0].members = check(t, "the build", hist[0].s, m0)
		for w := range rapid.IntRange(1, 8).Draw(t, "writes") {
			k := drawBase(t, len(hist))
			base := hist[k]
			d, m := drawDelta(t, base.m, base.s.rev)
			// A reader walks base's lists while the update runs, and
			// another update from base (as WhatIf makes beside a refresh)
			// runs too; the race detector sees a write into a shared list.
			other, _ := drawDelta(t, base.m, base.s.rev)
			var wg sync.WaitGroup
			stop := make(chan struct{})
			wg.Go(func() {
				b := *base.s
				b.personalArena = nil // as wouldBe has it
				b.update(&other)
			})
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					groupMemberIDs(base.s)
					for i := range int32(base.s.headerCap()) {
						_ = *base.s.hotAt(i)
					}
				}
			})
			s := base.s.update(&d)
			close(stop)
			wg.Wait()
			when := fmt.Sprintf("write %d (from snapshot %d)", w, k)
			hist = append(hist, made{s: s, m: m, members: check(t, when, s, m)})
			for j, h := range hist {
				if diff := cmp.Diff(h.members, groupMemberIDs(h.s)); diff != "" {
					t.Fatalf("after %s, snapshot %d's members changed (-then +now):\n%s", when, j, diff)
				}
				if err := checkMembers(h.s); err != nil {
					t.Fatalf("after %s, snapshot %d: %v", when, j, err)
				}
				if err := checkHeaders(h.s); err != nil {
					t.Fatalf("after %s, snapshot %d's headers: %v", when, j, err)
				}
			}
		}
	})
}

// TestMemberListsParallelBuild checks that a build whose memberships are
// computed by several goroutines (SetParallelMin) has the member lists,
// personal lists, holders and name index of one computed by one.
func TestMemberListsParallelBuild(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		gids := []GroupID{1, 2, 3, 4, 5, 6}
		rids := []RoleID{1, 2, 3, 4}
		b := &Batch{}
		for _, id := range rids {
			r := Role{ID: id, Name: fmt.Sprint("r", id)}
			if id > 1 && rapid.Bool().Draw(t, "parent?") {
				r.Parent = RoleID(rapid.IntRange(1, int(id)-1).Draw(t, "parent"))
			}
			b.Roles = append(b.Roles, r)
		}
		for _, id := range gids {
			g := Group{ID: id, Name: fmt.Sprint("g", id)}
			g.Groups = rapid.SliceOfNDistinct(rapid.SampledFrom(gids), 0, 2, rapid.ID).Draw(t, "kids")
			g.Roles = rapid.SliceOfNDistinct(rapid.SampledFrom(rids), 0, 2, rapid.ID).Draw(t, "roles")
			b.Groups = append(b.Groups, g)
		}
		for k := range rapid.IntRange(0, 200).Draw(t, "associates") {
			a := Associate{ID: AssociateID(k + 1), Name: fmt.Sprint("a", k+1), Active: true, Type: Internal,
				Role: rapid.SampledFrom(append([]RoleID{0, 9}, rids...)).Draw(t, "role"), PrimaryGroup: rapid.SampledFrom(gids).Draw(t, "primary")}
			a.Groups = rapid.SliceOfNDistinct(rapid.SampledFrom(gids), 0, 2, rapid.ID).Draw(t, "secondary")
			b.Associates = append(b.Associates, a)
		}
		c1 := b.Clone()
		one := build(1, &c1)
		restore := SetParallelMin(1)
		c2 := b.Clone()
		many := build(1, &c2)
		restore()
		if err := checkHeaders(many); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(groupMemberIDs(one), groupMemberIDs(many)); diff != "" {
			t.Fatalf("members (-serial +parallel):\n%s", diff)
		}
		// The parallel build indexes the names on a goroutine of its own.
		for _, a := range b.Associates {
			wantID, wantMany := one.byName.assocs.get(one, loginKey(a.Name))
			gotID, gotMany := many.byName.assocs.get(many, loginKey(a.Name))
			if gotID != wantID || !slices.Equal(gotMany, wantMany) || gotID != a.ID {
				t.Fatalf("associate named %q: parallel build finds %d %v, serial %d %v, want %d", a.Name, gotID, gotMany, wantID, wantMany, a.ID)
			}
		}
		for _, g := range b.Groups {
			if id, _ := many.byName.groups.get(g.Name); id != g.ID {
				t.Fatalf("group named %q: parallel build finds %d, want %d", g.Name, id, g.ID)
			}
		}
	})
}

// drawBase draws which of n snapshots of a history the next update starts
// from: mostly the newest, a third of the time any (a fork, as WhatIf makes
// from the published snapshot while the resolver moves on).
func drawBase(t *rapid.T, n int) int {
	if rapid.IntRange(0, 2).Draw(t, "fork?") == 0 {
		return rapid.IntRange(0, n-1).Draw(t, "from")
	}
	return n - 1
}
