package access

import (
	"cmp"
	"maps"
	"slices"
)

// The role tree is compiled into a depth-first numbering: every role has a
// position (pre), and the roles below it are exactly those whose position
// lies in one range [lo, end). "Is b below a", which a decision asks for
// the Subordinate relation, is then two comparisons, and the roles below a
// are a contiguous run of the order. A list of the roles above each role
// would answer the same question, but a chain 10,000 deep would hold 50
// million entries, and building it took time in the cube of the depth.
//
// On a parent cycle (only in data written around the validator) every role
// of the cycle is above every other and above itself, the least fixpoint,
// as for group nesting cycles: the cycle is numbered as one block, and each
// of its roles' ranges starts at the block's first position, so it covers
// the whole cycle and everything hanging below it.

// isAbove reports whether role b is strictly below role a (for a role on a
// parent cycle: b is on the cycle, a itself included, or below it).
func (a *roleNode) isAbove(b *roleNode) bool { return a.lo <= b.pre && b.pre < a.end }

// below reports whether role b is strictly below role a.
func (s *snapshot) below(b, a RoleID) bool {
	nb, na := s.roles[b], s.roles[a]
	return nb != nil && na != nil && na.isAbove(nb)
}

// numberRoles numbers a forest given as parent indexes (par[k] is the
// index of role k's parent, or -1) depth first, in one pass without
// recursion, so that no depth can overflow the stack. It returns each
// role's position and range (see isAbove) and the roles by position.
func numberRoles(par []int32) (pre, lo, end, order []int32) {
	n := len(par)
	rep := roleCycles(par)
	// unit is the node of the forest a role belongs to: itself, or its
	// cycle's representative. Children of units, as one array (kids) cut
	// by offsets (off); a cycle's members likewise.
	unit := func(k int32) int32 {
		if rep[k] >= 0 {
			return rep[k]
		}
		return k
	}
	off := make([]int32, n+1)
	moff := make([]int32, n+1)
	for k := range n {
		switch {
		case rep[k] >= 0:
			moff[rep[k]+1]++
		case par[k] >= 0:
			off[unit(par[k])+1]++
		}
	}
	for k := range n {
		off[k+1] += off[k]
		moff[k+1] += moff[k]
	}
	kids := make([]int32, off[n])
	members := make([]int32, moff[n])
	fill, mfill := slices.Clone(off[:n]), slices.Clone(moff[:n])
	for k := range int32(n) {
		switch {
		case rep[k] >= 0:
			members[mfill[rep[k]]] = k
			mfill[rep[k]]++
		case par[k] >= 0:
			u := unit(par[k])
			kids[fill[u]] = k
			fill[u]++
		}
	}
	rolesOf := func(u int32) []int32 {
		if rep[u] >= 0 {
			return members[moff[u]:moff[u+1]]
		}
		return []int32{u}
	}

	pre, lo, end = make([]int32, n), make([]int32, n), make([]int32, n)
	order = make([]int32, 0, n)
	type frame struct{ u, next int32 }
	var stack []frame
	enter := func(u int32) {
		first := int32(len(order))
		for _, k := range rolesOf(u) {
			pre[k], lo[k] = int32(len(order)), first
			if rep[k] < 0 {
				lo[k]++ // not above itself
			}
			order = append(order, k)
		}
		stack = append(stack, frame{u: u, next: off[u]})
	}
	for k := range int32(n) {
		if (par[k] >= 0 || rep[k] >= 0) && rep[k] != k {
			continue // not the root of a tree
		}
		enter(k)
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			if f.next < off[f.u+1] {
				c := kids[f.next]
				f.next++
				enter(c)
				continue
			}
			for _, r := range rolesOf(f.u) {
				end[r] = int32(len(order))
			}
			stack = stack[:len(stack)-1]
		}
	}
	return pre, lo, end, order
}

// roleCycles returns, per role of the forest par (as numberRoles takes
// it), the representative of the parent cycle it is on, or -1. It walks up
// from each role until a role already walked; meeting one on the current
// walk closes a cycle. Every role is walked once.
func roleCycles(par []int32) (rep []int32) {
	const (
		unseen = iota
		onPath
		done
	)
	state := make([]uint8, len(par))
	rep = make([]int32, len(par))
	for k := range rep {
		rep[k] = -1
	}
	var path []int32
	for k := range par {
		path = path[:0]
		x := int32(k)
		for x >= 0 && state[x] == unseen {
			state[x] = onPath
			path = append(path, x)
			x = par[x]
		}
		if x >= 0 && state[x] == onPath {
			for i := len(path) - 1; ; i-- {
				rep[path[i]] = x
				if path[i] == x {
					break
				}
			}
		}
		for _, y := range path {
			state[y] = done
		}
	}
	return rep
}

// compileRoles recompiles every role node from the roles in s.roles and
// the compiled groups: the tree's numbering, each role's base groups and
// closure, and (for nodes not compiled before) its grids. It replaces
// s.roles with a fresh map and rebuilds the role slots. Its cost is linear
// in the roles plus the size of the base groups and closures it builds;
// roles that inherit the same base groups share one closure.
func (s *snapshot) compileRoles() {
	ids := slices.Sorted(maps.Keys(s.roles))
	index := func(id RoleID) int32 {
		if i, ok := slices.BinarySearch(ids, id); ok {
			return int32(i)
		}
		return -1
	}
	par := make([]int32, len(ids))
	for k, id := range ids {
		par[k] = -1
		if p := s.roles[id].role.Parent; p != 0 {
			par[k] = index(p)
		}
	}
	pre, lo, end, order := numberRoles(par)
	listedBy := s.rolesListedBy()
	tree := func(id RoleID) []baseEdge {
		var out []baseEdge
		for _, e := range listedBy[id] {
			if e.reason == ViaRoleTree {
				out = append(out, e)
			}
		}
		return out
	}

	// In order, so that a role's parent comes before it: inherited[k]
	// are the groups that list a role above k with its subordinates.
	// A role inherits its parent's list unchanged unless the parent is
	// itself listed so; long chains thus share one list.
	inherited := make([][]baseEdge, len(ids))
	closures := map[*baseEdge][]int32{} // by a base list's first edge
	fresh := make(map[RoleID]*roleNode, len(ids))
	for _, k := range order {
		id := ids[k]
		old := s.roles[id]
		switch p := par[k]; {
		case lo[k] <= pre[k]:
			// On a cycle: every role of the cycle is above it.
			if pre[k] == lo[k] {
				var all []baseEdge
				for q := lo[k]; q < int32(len(order)) && lo[order[q]] == lo[k] && lo[order[q]] <= pre[order[q]]; q++ {
					all = mergeBase(all, tree(ids[order[q]]))
				}
				inherited[k] = all
			} else {
				inherited[k] = inherited[order[lo[k]]]
			}
		case p >= 0:
			inherited[k] = mergeBase(inherited[p], tree(ids[p]))
		}
		n := &roleNode{role: old.role, pre: pre[k], lo: lo[k], end: end[k], leaf: lo[k] >= end[k]}
		n.base = mergeBase(inherited[k], listedBy[id])
		n.closure = s.baseClosure(n.base, closures)
		if old.grids != nil {
			n.grids, n.wild, n.gridAt = old.grids, old.wild, old.gridAt
		} else {
			s.compileGrids(n)
		}
		fresh[id] = n
	}
	s.roleBitmaps(ids, fresh)
	s.roles = fresh
	s.assignRoleSlots(ids, order)
	s.indexClosureRoles()
}

// rolesListedBy returns, per role, the groups that list it (ViaRole) or
// list it with its subordinates (ViaRoleTree), by group index.
func (s *snapshot) rolesListedBy() map[RoleID][]baseEdge {
	listedBy := map[RoleID][]baseEdge{}
	for g, n := range s.groups {
		if n == nil || n.group.IsSmart() {
			continue
		}
		for _, r := range n.group.Roles {
			listedBy[r] = append(listedBy[r], baseEdge{g: int32(g), reason: ViaRole})
		}
		for _, r := range n.group.RolesAndSubordinates {
			listedBy[r] = append(listedBy[r], baseEdge{g: int32(g), reason: ViaRoleTree})
		}
	}
	return listedBy
}

// mergeBase returns the union of two edge lists sorted by group, keeping
// the lowest reason per group; a list merged with nothing is shared.
func mergeBase(a, b []baseEdge) []baseEdge {
	switch {
	case len(b) == 0:
		return a
	case len(a) == 0 && increasing(b):
		return slices.Clip(b)
	}
	out := slices.Concat(a, b)
	slices.SortFunc(out, func(x, y baseEdge) int {
		return cmp.Or(cmp.Compare(x.g, y.g), cmp.Compare(x.reason, y.reason))
	})
	return slices.Clip(slices.CompactFunc(out, func(x, y baseEdge) bool { return x.g == y.g }))
}

// baseClosure returns the upward closure of a role's base groups, sorted:
// the groups the role alone gives its holders. Roles that share a base
// list (by its first edge, in closures) share one closure.
func (s *snapshot) baseClosure(base []baseEdge, closures map[*baseEdge][]int32) []int32 {
	if len(base) == 0 {
		return nil
	}
	c, ok := closures[&base[0]]
	if !ok {
		for _, e := range base {
			for _, u := range s.groups[e.g].up {
				c = append(c, u.g)
			}
		}
		slices.Sort(c)
		c = slices.Clip(slices.Compact(c))
		closures[&base[0]] = c
	}
	return c
}

// roleBitmaps gives the larger closures bitmaps, within a memory budget: a
// test is then one load instead of a search through a hundred groups.
// Roles that share a closure share its bitmap.
func (s *snapshot) roleBitmaps(ids []RoleID, fresh map[RoleID]*roleNode) {
	budget := roleBitsBudget
	bits := map[*int32][]uint64{}
	for _, id := range ids {
		n, words := fresh[id], (len(s.groups)+63)/64
		if len(n.closure) < roleBitsMin {
			continue
		}
		if b, ok := bits[&n.closure[0]]; ok {
			n.bits = b
			continue
		}
		if words*8 > budget {
			continue
		}
		budget -= words * 8
		n.bits = make([]uint64, words)
		for _, g := range n.closure {
			n.bits[g>>6] |= 1 << (g & 63)
		}
		bits[&n.closure[0]] = n.bits
	}
}

// assignRoleSlots rebuilds the role slots (roleSlot, roleAt, roleIDs) and
// roleByPre from s.roles, given the roles' ids in sorted order and their
// depth-first order (indexes into ids). Role slots are stable: a role
// keeps its slot across updates, and a deleted one leaves its slot empty.
func (s *snapshot) assignRoleSlots(ids []RoleID, order []int32) {
	s.roleSlot = maps.Clone(s.roleSlot)
	if s.roleSlot == nil {
		s.roleSlot = map[RoleID]int32{}
	}
	for _, id := range ids {
		if _, ok := s.roleSlot[id]; !ok {
			s.roleSlot[id] = int32(len(s.roleSlot))
		}
	}
	s.roleAt = make([]*roleNode, len(s.roleSlot))
	s.roleIDs = make([]RoleID, len(s.roleSlot))
	for id, slot := range s.roleSlot {
		s.roleAt[slot], s.roleIDs[slot] = s.roles[id], id
	}
	s.roleByPre = make([]int32, len(order))
	for p, k := range order {
		s.roleByPre[p] = s.roleSlot[ids[k]]
	}
}

// compileGrids compiles the role's rights into n's grids, interning
// their entity types.
func (s *snapshot) compileGrids(n *roleNode) {
	n.grids, n.wild, n.gridAt = map[string]*grid{}, nil, nil
	for t, g := range n.role.Rights {
		if t == Wildcard {
			n.wild = compileGrid(g, n.role.LimitTeams)
		} else {
			n.grids[t] = compileGrid(g, n.role.LimitTeams)
		}
	}
	for t := range n.grids {
		s.intern(t)
	}
	for t, g := range n.grids {
		i := s.typeOf(t)
		if int(i) >= len(n.gridAt) {
			n.gridAt = slices.Grow(n.gridAt, int(i)+1-len(n.gridAt))[:i+1]
		}
		n.gridAt[i] = g
	}
}

// reshapes reports whether the delta's role writes change the tree: a
// role added or deleted, or given another parent. Writes that do not
// change only the written roles' own nodes (see patchRoles).
func (s *snapshot) reshapes(d *Delta) bool {
	if len(d.DeleteRoles) > 0 {
		return true
	}
	for i := range d.Roles {
		if on := s.roles[d.Roles[i].ID]; on == nil || on.role.Parent != d.Roles[i].Parent {
			return true
		}
	}
	return false
}

// patchRoles applies role writes that keep the tree's shape (see
// reshapes): only the written roles get new nodes, which keep their old
// place in the tree, base groups and closure, since none of those depends
// on anything but the tree and the groups. The cost is the written roles
// and a copy of the slot array, whatever the depth of the tree.
func (s *snapshot) patchRoles(roles []Role) {
	s.roles = maps.Clone(s.roles)
	s.roleAt = slices.Clone(s.roleAt)
	for _, r := range roles {
		n := *s.roles[r.ID]
		n.role = r
		s.compileGrids(&n)
		s.roles[r.ID] = &n
		s.roleAt[s.roleSlot[r.ID]] = &n
	}
}

// increasing reports whether the edges' groups strictly increase: the list
// is sorted and names no group twice.
func increasing(es []baseEdge) bool {
	for i := 1; i < len(es); i++ {
		if es[i-1].g >= es[i].g {
			return false
		}
	}
	return true
}
