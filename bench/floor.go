package main

import (
	"slices"

	"github.com/crmaccess/access"
)

// floorEngine is the floor: the shared policy answered by the barest code
// that is still correct on this workload, with everything that does not
// depend on the query computed in advance. It is no authorization engine:
// it knows nothing of gates, sharing, grants, limits, restrictions or
// updates, and it could not explain an answer. It is there so that every
// run of the comparison shows how far the library's decisions are from
// what the memory reads of the question cost.
//
//   - Membership: per associate, its effective groups as one sorted run of
//     a flat []int32 (the closure of its direct groups, its role's groups
//     and the groups that include them, computed from the organisation
//     here, not asked of the library), searched by bisection.
//   - Per associate a 16-byte header: where its groups start, how many,
//     its role and its primary group.
//   - Per record the owner's role, so a decision need not look the owner
//     up.
//   - Per role its grid for the one entity type (levels in a table), and
//     the roles strictly below it as a bit set.
//
// A decision reads the record (from the same slice the library's adapter
// reads), the subject's header, at most two runs of its groups and the
// tables.
type floorEngine struct {
	assoc   []floorAssoc // by associate id
	groups  []int32      // every associate's effective groups, sorted per associate
	records []access.Record
	// ownerRole is, per record index, the role of the record's owner (0:
	// none).
	ownerRole []int32
	// grid is, per role id, the role's cells for the relations, in the
	// order of the relations list.
	grid [][numFloorRelations]access.CRUD
	// below has, per role id, a bit set of the roles strictly below it,
	// words words to a role.
	below []uint64
	words int
}

// floorAssoc is what the floor reads about an associate.
type floorAssoc struct {
	start, n      uint32 // its effective groups: groups[start : start+n]
	role, primary int32  // role id and primary group id, 0 for none
}

// The relations' positions in floorEngine.grid.
const (
	fOwner = iota
	fTeam
	fPrimary
	fOther
	fSubordinate
	fFallback
	numFloorRelations
)

func buildFloor(w *workload) (engine, error) {
	org := &w.Org
	nRoles, nGroups := len(org.Roles), len(org.Groups)

	// Roles: parent links, then for each role the roles at or above it.
	parent := make([]access.RoleID, nRoles+1)
	for _, r := range org.Roles {
		parent[r.ID] = r.Parent
	}
	f := &floorEngine{records: w.Records, words: (nRoles + 64) / 64}
	f.below = make([]uint64, (nRoles+1)*f.words)
	f.grid = make([][numFloorRelations]access.CRUD, nRoles+1)
	for _, r := range org.Roles {
		for up := r.Parent; up != 0; up = parent[up] {
			f.below[int(up)*f.words+int(r.ID)/64] |= 1 << (r.ID % 64)
		}
		g := gridFor(&r)
		f.grid[r.ID] = [numFloorRelations]access.CRUD{
			g[access.Owner], g[access.Team], g[access.PrimaryGroup], g[access.OtherGroup], g[access.Subordinate], g[access.Other],
		}
	}

	// Groups: each group with every group that includes it, transitively.
	parents := w.parents()
	up := make([][]int32, nGroups+1)
	var closeUp func(g access.GroupID) []int32
	closeUp = func(g access.GroupID) []int32 {
		if up[g] != nil {
			return up[g]
		}
		out := []int32{int32(g)}
		for _, p := range parents[g] {
			out = append(out, closeUp(p)...)
		}
		slices.Sort(out)
		up[g] = slices.Compact(out)
		return up[g]
	}
	// Per role, the groups its holders are in through the role: groups
	// that list it, and groups that list it or a role above it with
	// subordinates.
	listing := make([][]int32, nRoles+1)
	withSubs := make([][]int32, nRoles+1)
	for _, g := range org.Groups {
		for _, r := range g.Roles {
			listing[r] = append(listing[r], closeUp(g.ID)...)
		}
		for _, r := range g.RolesAndSubordinates {
			withSubs[r] = append(withSubs[r], closeUp(g.ID)...)
		}
	}
	byRole := make([][]int32, nRoles+1)
	for _, r := range org.Roles {
		gs := slices.Clone(listing[r.ID])
		for a := r.ID; a != 0; a = parent[a] {
			gs = append(gs, withSubs[a]...)
		}
		slices.Sort(gs)
		byRole[r.ID] = slices.Compact(gs)
	}

	// Associates: only internal ones are members of groups.
	f.assoc = make([]floorAssoc, len(org.Associates)+1)
	var set []int32
	for _, a := range org.Associates {
		h := &f.assoc[a.ID]
		h.role, h.primary = int32(a.Role), int32(a.PrimaryGroup)
		if a.Type != access.Internal {
			continue
		}
		set = set[:0]
		if a.PrimaryGroup != 0 {
			set = append(set, closeUp(a.PrimaryGroup)...)
		}
		for _, g := range a.Groups {
			set = append(set, closeUp(g)...)
		}
		if a.Role != 0 {
			set = append(set, byRole[a.Role]...)
		}
		slices.Sort(set)
		set = slices.Compact(set)
		h.start, h.n = uint32(len(f.groups)), uint32(len(set))
		f.groups = append(f.groups, set...)
	}
	f.groups = slices.Clip(f.groups)

	f.ownerRole = make([]int32, len(w.Records))
	for i, rec := range w.Records {
		if rec.Owner != 0 {
			f.ownerRole[i] = f.assoc[rec.Owner].role
		}
	}
	return f, nil
}

// member reports whether the associate with header a is an effective
// member of group g.
func (f *floorEngine) member(a *floorAssoc, g int32) bool {
	_, ok := slices.BinarySearch(f.groups[a.start:a.start+a.n], g)
	return ok
}

func (f *floorEngine) Member(q memberQuery) (bool, error) {
	return f.member(&f.assoc[q.Who], int32(q.Group)), nil
}

// Decide applies the shared policy: the union of the role's cells for the
// relations that hold, the fallback Other when none does.
func (f *floorEngine) Decide(q decisionQuery) (bool, error) {
	rec := &f.records[q.Record]
	a := &f.assoc[q.Who]
	g := &f.grid[a.role]
	var rights access.CRUD
	held := false
	if rec.Owner != 0 && rec.Owner == q.Who {
		rights, held = rights|g[fOwner], true
	}
	if rec.Team != 0 && f.member(a, int32(rec.Team)) {
		rights, held = rights|g[fTeam], true
	}
	if rec.Group != 0 {
		if int32(rec.Group) == a.primary {
			rights, held = rights|g[fPrimary], true
		} else if f.member(a, int32(rec.Group)) {
			rights, held = rights|g[fOther], true
		}
	}
	if or := f.ownerRole[q.Record]; rec.Owner != q.Who && or != 0 &&
		f.below[int(a.role)*f.words+int(or)/64]&(1<<(or%64)) != 0 {
		rights, held = rights|g[fSubordinate], true
	}
	if !held && (rec.Owner != 0 || rec.Team != 0) {
		rights |= g[fFallback]
	}
	return rights.Allows(q.Action), nil
}

func (f *floorEngine) Close() {}
