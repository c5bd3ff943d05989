package access

import (
	"cmp"
	"maps"
	"slices"
	"sync"
)

// This file is the incremental half of the snapshot pipeline (build.go is
// the full one): update derives the next snapshot from the published one
// and a Delta, sharing every part the delta does not touch and copying the
// rest once, as recorded in the snapshot's cow. Its steps, in order:
//
//  0. applyLicenceWrites: the licences, and the associates whose licence
//     gate they can change;
//  1. applyRoleAndGroupWrites: role and group puts and deletes, the role
//     tree and group closures recompiled, and the associates whose
//     memberships this can change. A delta that only rewrites existing
//     groups (a nesting change) recloses just the groups below the edges
//     it moves (recloseGroups) and plans how their members' memberships
//     follow from the old ones (nestPlan);
//  2. applyAssociateWrites: associate puts and deletes;
//  3. recomputeMemberships: the affected associates' personal groups
//     afresh (by the plan when there is one), and the difference to their
//     old groups;
//  4. rewriteHeaders and applyMemberChanges: the decision headers (of
//     those and of the relicensed) and the groups' member lists follow;
//  5. updateNames and updatePolicy: the name index and the compiled policy.

// update returns the snapshot that results from applying the delta d to s.
// It recompiles roles and groups when any changed (they are few), and
// recomputes the memberships only of the associates the delta can have
// touched: those it writes, and the members of any group whose upward
// closure, role links or smart rule changed.
func (old *snapshot) update(d *Delta) *snapshot {
	failClosed(&d.Batch)
	s := old.updateMembership(d)
	s.past = withPastOwners(old.past, &d.Batch)
	s.updateNames(old, d)
	// The policy holds group indexes and role slots, and its per-type
	// arrays cover the interned types: a role write that keeps the tree's
	// shape and names no new entity type leaves it as it is.
	s.updatePolicy(d, !old.policyKeeps(d) || old.reshapes(d) || len(s.types) != len(old.types))
	s.cow = nil
	return s
}

// policyKeeps reports whether the compiled policy stands for the delta's
// group writes: it names groups by index and reads their Defaults and
// Functions, so a delta that deletes no group and rewrites existing ones
// keeping those (a nesting change, a rename) leaves it as it is.
func (old *snapshot) policyKeeps(d *Delta) bool {
	if len(d.DeleteGroups) > 0 {
		return false
	}
	for i := range d.Groups {
		g := &d.Groups[i]
		_, n := old.group(g.ID)
		if n == nil || !maps.Equal(n.group.Defaults, g.Defaults) || !slices.Equal(n.group.Functions, g.Functions) {
			return false
		}
	}
	return true
}

// updateMembership returns a shallow copy of old with the delta's role,
// group and associate writes applied and every membership they can change
// recomputed: decision headers (the nodes of associates the delta does
// not write stay as they are) and the groups' member lists. Only the associates the writes can reach are recomputed (see
// applyRoleAndGroupWrites), so a write to one associate costs that
// associate, not the model. It leaves names and policy to update.
func (old *snapshot) updateMembership(d *Delta) *snapshot {
	s := *old
	s.rev = d.To
	s.filterMemo = &filterCache{}
	s.size = &sizeMemo{}
	s.cow = &cow{}
	relicensed := s.applyLicenceWrites(old, d)
	affected, plan := s.applyRoleAndGroupWrites(old, d)
	affected = append(affected, s.applyAssociateWrites(d)...)
	slices.Sort(affected)
	affected = slices.Compact(affected)
	s.recomputed = affected
	var changes memberChanges
	var personal [][]int32
	if len(affected) > 0 {
		changes, personal = s.recomputeMemberships(old, affected, plan)
	}
	headers := affected
	if len(relicensed) > 0 {
		headers = append(slices.Clone(affected), relicensed...)
		slices.Sort(headers)
		headers = slices.Compact(headers)
	}
	if len(headers) > 0 {
		s.rewriteHeaders(headers, affected, personal)
	}
	if len(affected) > 0 {
		s.applyMemberChanges(&changes)
	}
	return &s
}

// applyLicenceWrites applies the delta's licence puts and deletes and
// returns the indexes of the associates whose header's hotLicence may
// have changed: every associate of a type that needed a licence before or
// needs one now. Licences change rarely, so it does not look closer.
func (s *snapshot) applyLicenceWrites(old *snapshot, d *Delta) (relicensed []int32) {
	if len(d.Licences)+len(d.DeleteLicences) == 0 {
		return nil
	}
	s.licences = old.licences.withLicences(&d.Batch)
	var need uint64
	if old.licences != nil {
		need = old.licences.need
	}
	need |= s.licences.need
	if need == 0 {
		return nil
	}
	for i, n := range s.assocs.all() {
		if n != nil && uint(n.a.Type) < 64 && need&(1<<uint(n.a.Type)) != 0 {
			relicensed = append(relicensed, int32(i))
		}
	}
	return relicensed
}

// applyRoleAndGroupWrites applies the delta's role and group writes,
// recompiles what derives from them, and returns the indexes (possibly
// repeated) of the associates whose memberships may have changed: the
// members of every group whose upward closure or smart rule changed, and
// the holders of every role whose base groups changed, or who may match a
// changed rule. When only nesting moved (see recloseGroups), it also
// returns a plan for recomputing those members' memberships from their
// old ones.
func (s *snapshot) applyRoleAndGroupWrites(old *snapshot, d *Delta) (affected []int32, plan *nestPlan) {
	groupsChanged := len(d.Groups)+len(d.DeleteGroups) > 0
	switch {
	case !groupsChanged && len(d.Roles) > 0 && !old.reshapes(d):
		// New rights, names or functional rights: no membership moves.
		s.patchRoles(d.Roles)
		return nil, nil
	case !groupsChanged && len(d.Roles)+len(d.DeleteRoles) == 0:
		return nil, nil
	}
	s.applyRoleWrites(d)
	var smartChanged map[int32]smartChange
	if !groupsChanged {
		// Only the role tree changed shape: the groups' closures stand.
		s.compileRoles()
	} else {
		smartChanged = s.applyGroupWrites(d)
		if moved, rolesMoved, ok := s.recloseGroups(old, d, smartChanged); ok {
			affected = s.membersOf(old, moved)
			if !rolesMoved {
				plan = s.planNesting(old, moved)
			}
		} else {
			s.compileGroups()
			for s.members.len() < len(s.groups) {
				s.members.append(s.cow, nil)
			}
			affected = s.membersOfMovedGroups(old)
		}
	}
	for g := range smartChanged {
		if int(g) < old.members.len() {
			affected = old.memberSet(g).appendTo(affected)
		}
	}
	changedRoles := s.changedRoles(old)
	if len(changedRoles)+len(smartChanged) > 0 {
		for i, n := range s.assocs.all() {
			// An associate of another type has no memberships to move,
			// but its header names its role's slot and its primary
			// group's index (hotOddRole, hotOddPrimary when they do not
			// exist), which a role or group created or deleted changes:
			// role rights apply to every type, and checks compare the
			// primary group of any. Recomputing it costs little and
			// gives what a build gives.
			if n != nil && s.touchedBy(n.a, changedRoles, smartChanged) {
				affected = append(affected, int32(i))
			}
		}
	}
	return affected, plan
}

// applyRoleWrites replaces s.roles with a copy carrying the delta's role
// puts and deletes, as uncompiled nodes (compileRoles compiles them).
func (s *snapshot) applyRoleWrites(d *Delta) {
	s.roles = maps.Clone(s.roles)
	for _, r := range d.Roles {
		s.roles[r.ID] = &roleNode{role: r}
	}
	for _, id := range d.DeleteRoles {
		delete(s.roles, id)
	}
}

// applyGroupWrites stores the delta's group puts and deletes as
// uncompiled nodes (compileGroups compiles them); a new id gets the next
// index, a deleted group leaves a nil slot. It returns the groups whose
// smartness or rule changed: their links and rule matches must be looked
// at afresh.
func (s *snapshot) applyGroupWrites(d *Delta) map[int32]smartChange {
	s.ownGroups()
	smartChanged := map[int32]smartChange{}
	for _, g := range d.Groups {
		i, ok := s.groupIdx[g.ID]
		if !ok {
			i = int32(len(s.groups))
			s.ownGroupIdx()
			s.groupIdx[g.ID] = i
			s.groups = append(s.groups, nil)
		}
		prev, n := s.groups[i], newGroupNode(g)
		if prev == nil || prev.group.Smart != g.Smart {
			smartChanged[i] = smartChange{id: g.ID, node: n}
		}
		s.groups[i] = n
	}
	for _, id := range d.DeleteGroups {
		if i, n := s.group(id); n != nil {
			smartChanged[i] = smartChange{id: id}
			s.groups[i] = nil
		}
	}
	return smartChanged
}

// membersOfMovedGroups returns the old members of every group whose
// upward closure differs between old and s: each may have gained or lost
// the groups above it.
func (s *snapshot) membersOfMovedGroups(old *snapshot) (affected []int32) {
	for g, n := range s.groups {
		var oldUp, newUp []upEdge
		if g < len(old.groups) && old.groups[g] != nil {
			oldUp = old.groups[g].up
		}
		if n != nil {
			newUp = n.up
		}
		if !slices.Equal(oldUp, newUp) && g < old.members.len() {
			affected = old.memberSet(int32(g)).appendTo(affected)
		}
	}
	return affected
}

// recloseGroups is compileGroups for a delta that only rewrites existing
// groups in place: none is created, deleted or changes smartness, and no
// role is written. It recomputes the upward closures of just the groups
// below an edge the delta adds or removes (in the old graph or the new),
// and keeps the role nodes unless one's base groups or their closures
// move, so that nesting one group under another costs that group's
// subtree and its ancestors, not every group. It returns the groups whose
// closure changed and whether it recompiled the roles, or ok false,
// having changed nothing, when the delta is not of that kind.
func (s *snapshot) recloseGroups(old *snapshot, d *Delta, smartChanged map[int32]smartChange) (moved []int32, rolesMoved, ok bool) {
	if len(smartChanged)+len(d.DeleteGroups)+len(d.Roles)+len(d.DeleteRoles) > 0 || len(s.groups) != len(old.groups) {
		return nil, false, false
	}
	written := make(map[int32]bool, len(d.Groups))
	for _, g := range d.Groups {
		i := s.groupIdx[g.ID]
		if old.groups[i] == nil {
			return nil, false, false
		}
		written[i] = true
	}
	// seeds are the groups gaining or losing an includer: each written
	// group's children in one graph and not the other.
	seeds := map[int32]bool{}
	for p := range written {
		on, nn := old.groups[p], s.groups[p]
		if !slices.Equal(on.group.Roles, nn.group.Roles) || !slices.Equal(on.group.RolesAndSubordinates, nn.group.RolesAndSubordinates) {
			rolesMoved = true
		}
		before, after := s.kidsOf(on), s.kidsOf(nn)
		for _, c := range before {
			if !slices.Contains(after, c) {
				seeds[c] = true
			}
		}
		for _, c := range after {
			if !slices.Contains(before, c) {
				seeds[c] = true
			}
		}
	}
	// below: the seeds and everything under them in either graph, whose
	// closures may change; their order does not matter.
	var below []int32
	inBelow := map[int32]bool{}
	for c := range seeds {
		inBelow[c] = true
		below = append(below, c)
	}
	for h := 0; h < len(below); h++ {
		x := below[h]
		kids := s.kidsOf(s.groups[x])
		if written[x] {
			kids = append(kids, s.kidsOf(old.groups[x])...)
		}
		for _, c := range kids {
			if !inBelow[c] {
				inBelow[c] = true
				below = append(below, c)
			}
		}
	}
	// A written group outside below keeps its closure, which its fresh
	// node from applyGroupWrites lacks.
	for p := range written {
		if !inBelow[p] {
			nn := *s.groups[p]
			nn.up = old.groups[p].up
			s.groups[p] = &nn
		}
	}
	// includers(x) in the new graph: those of the old one (the distance 1
	// entries of x's old closure, in index order) unless x is a seed.
	var buf []int32
	includers := func(x int32) []int32 {
		buf = buf[:0]
		for _, e := range old.groups[x].up {
			if e.dist == 1 && !(seeds[x] && written[e.g]) {
				buf = append(buf, e.g)
			}
		}
		if seeds[x] {
			for p := range written {
				if slices.Contains(s.kidsOf(s.groups[p]), x) {
					buf = append(buf, p)
				}
			}
			slices.Sort(buf)
			buf = slices.Compact(buf)
		}
		return buf
	}
	type mark struct{ dist, pred int32 }
	seen := map[int32]mark{}
	var queue []int32
	for _, g := range below {
		// closeGroupsUpward's search, from g alone.
		clear(seen)
		queue = append(queue[:0], g)
		seen[g] = mark{0, -1}
		for h := 0; h < len(queue); h++ {
			x := queue[h]
			dx := seen[x].dist
			for _, p := range includers(x) {
				if _, ok := seen[p]; !ok {
					seen[p] = mark{dx + 1, x}
					queue = append(queue, p)
				}
			}
		}
		up := make([]upEdge, len(queue))
		for i, x := range queue {
			up[i] = upEdge{g: x, pred: seen[x].pred, dist: seen[x].dist}
		}
		slices.SortFunc(up, func(a, b upEdge) int { return cmp.Compare(a.g, b.g) })
		if !slices.Equal(up, old.groups[g].up) {
			moved = append(moved, g)
		} else {
			up = old.groups[g].up
		}
		nn := *s.groups[g]
		nn.up = up
		s.groups[g] = &nn
	}
	slices.Sort(moved)
	// A role's base groups come from the groups' role lists, and its
	// closure from their closures.
	if !rolesMoved {
	roles:
		for _, r := range s.roles {
			for _, e := range r.base {
				if _, ok := slices.BinarySearch(moved, e.g); ok {
					rolesMoved = true
					break roles
				}
			}
		}
	}
	if rolesMoved {
		s.compileRoles()
	}
	return moved, rolesMoved, true
}

// nestPlan recomputes memberships after a change that moved only group
// closures (recloseGroups without a role recompile): an associate's base
// groups (primary, secondary, role, smart) then stay as they were, so its
// memberships change only in the groups some moved group left or
// entered, and in each of those it is a member exactly when it is a base
// member or a member of one of the group's children. The plan lists
// those groups children first, so one pass decides them from the
// associate's old memberships.
type nestPlan struct {
	groups []int32 // the groups whose members may change, children first
	sorted []int32 // groups, sorted
	at     []int32 // at[x] is the position of sorted[x] in groups
	// inner[k] lists the positions in groups of groups[k]'s children that
	// are themselves in groups; outer[k] its other children, sorted.
	inner, outer [][]int32
}

// nestWorkMax bounds the children a plan looks at per associate; past
// it, computing each associate's memberships afresh is as cheap.
const nestWorkMax = 4096

// planNesting returns the plan for the groups in moved, whose closures
// changed, or nil when there is none worth following: the groups whose
// members may change have too many children, or lie on a cycle.
func (s *snapshot) planNesting(old *snapshot, moved []int32) *nestPlan {
	changed := map[int32]bool{}
	for _, g := range moved {
		a, b := old.groups[g].up, s.groups[g].up
		for _, e := range a {
			if _, ok := slices.BinarySearchFunc(b, e.g, func(u upEdge, g int32) int { return cmp.Compare(u.g, g) }); !ok {
				changed[e.g] = true
			}
		}
		for _, e := range b {
			if _, ok := slices.BinarySearchFunc(a, e.g, func(u upEdge, g int32) int { return cmp.Compare(u.g, g) }); !ok {
				changed[e.g] = true
			}
		}
	}
	p := &nestPlan{}
	// Depth first, children before parents; a group met again while
	// still open is on a cycle.
	const (
		open = 1
		done = 2
	)
	state := map[int32]int{}
	pos := map[int32]int32{}
	work := 0
	var visit func(g int32) bool
	visit = func(g int32) bool {
		state[g] = open
		kids := s.kidsOf(s.groups[g])
		work += len(kids)
		for _, c := range kids {
			if !changed[c] {
				continue
			}
			switch state[c] {
			case open:
				return false
			case 0:
				if !visit(c) {
					return false
				}
			}
		}
		state[g] = done
		pos[g] = int32(len(p.groups))
		p.groups = append(p.groups, g)
		var in, out []int32
		for _, c := range kids {
			if changed[c] {
				in = append(in, pos[c])
			} else {
				out = append(out, c)
			}
		}
		slices.Sort(out)
		p.inner, p.outer = append(p.inner, in), append(p.outer, slices.Compact(out))
		return true
	}
	for _, g := range slices.Sorted(maps.Keys(changed)) {
		if s.groups[g].group.IsSmart() {
			return nil // never: a smart group is nobody's ancestor
		}
		if state[g] == 0 && !visit(g) {
			return nil
		}
	}
	if work > nestWorkMax {
		return nil
	}
	p.sorted = slices.Sorted(slices.Values(p.groups))
	p.at = make([]int32, len(p.sorted))
	for x, g := range p.sorted {
		p.at[x] = pos[g]
	}
	return p
}

// renest returns the associate's personal groups under the plan, given
// its old ones (before) and its role's closure, which the plan does not
// move; in is scratch of len(p.groups).
func (s *snapshot) renest(a *Associate, closure, before []int32, p *nestPlan, in []bool) []int32 {
	var role []baseEdge
	if r := s.roles[a.Role]; r != nil {
		role = r.base
	}
	for k, h := range p.groups {
		m := false
		for _, j := range p.inner[k] {
			if m = in[j]; m {
				break
			}
		}
		in[k] = m || intersects(before, p.outer[k]) || intersects(closure, p.outer[k]) || s.baseMember(a, h, role)
	}
	// before with the plan's groups replaced (those in the closure are
	// no personal groups): the stretches between them are copied whole.
	n := len(before)
	for x, g := range p.sorted {
		if _, ok := slices.BinarySearch(before, g); ok {
			n--
		}
		if in[p.at[x]] && !contains(closure, g) {
			n++
		}
	}
	if n == 0 {
		return nil // as personalGroupsOf has it
	}
	after := make([]int32, 0, n)
	i := 0
	for x, g := range p.sorted {
		j, found := slices.BinarySearch(before[i:], g)
		after = append(after, before[i:i+j]...)
		i += j
		if found {
			i++
		}
		if in[p.at[x]] && !contains(closure, g) {
			after = append(after, g)
		}
	}
	return append(after, before[i:]...)
}

// intersects reports whether the sorted lists a and b share an element:
// by a merge, or by searching b for each of a when b is much the longer
// (a group with hundreds of children, an associate in tens of groups).
func intersects(a, b []int32) bool {
	if len(b) > 8*len(a) {
		for _, x := range a {
			if _, ok := slices.BinarySearch(b, x); ok {
				return true
			}
		}
		return false
	}
	for len(a) > 0 && len(b) > 0 {
		switch {
		case a[0] < b[0]:
			a = a[1:]
		case b[0] < a[0]:
			b = b[1:]
		default:
			return true
		}
	}
	return false
}

// baseMember reports whether group h (not a smart one) takes the
// associate in directly: as its primary or a secondary group, or by its
// role (role is the role's base).
func (s *snapshot) baseMember(a *Associate, h int32, role []baseEdge) bool {
	if g, n := s.group(a.PrimaryGroup); g == h && n != nil {
		return true
	}
	for _, id := range a.Groups {
		if g, n := s.group(id); g == h && n != nil {
			return true
		}
	}
	_, ok := slices.BinarySearchFunc(role, h, func(e baseEdge, h int32) int { return cmp.Compare(e.g, h) })
	return ok
}

// kidsOf returns the indexes of the existing groups n lists, none for a
// smart group (whose Groups do not count), in the order listed.
func (s *snapshot) kidsOf(n *groupNode) []int32 {
	if n == nil || n.group.IsSmart() {
		return nil
	}
	out := make([]int32, 0, len(n.group.Groups))
	for _, c := range n.group.Groups {
		if ci, ok := s.groupIdx[c]; ok && s.groups[ci] != nil {
			out = append(out, ci)
		}
	}
	return out
}

// membersOf returns the old members of the groups, possibly repeated.
func (s *snapshot) membersOf(old *snapshot, groups []int32) (affected []int32) {
	for _, g := range groups {
		if int(g) < old.members.len() {
			affected = old.memberSet(g).appendTo(affected)
		}
	}
	return affected
}

// changedRoles returns the roles whose base groups differ between old and
// s, deleted and new roles included: their holders' memberships may move.
func (s *snapshot) changedRoles(old *snapshot) map[RoleID]bool {
	changed := map[RoleID]bool{}
	for id, n := range s.roles {
		if on := old.roles[id]; on == nil || !slices.Equal(on.base, n.base) {
			changed[id] = true
		}
	}
	for id := range old.roles {
		if s.roles[id] == nil {
			changed[id] = true
		}
	}
	return changed
}

// applyAssociateWrites stores the delta's associate puts and deletes as
// nodes without memberships and returns their indexes. A known id keeps
// its index; a new one takes its reserved slot when ids are indexes (see
// snapshot.identityLimit), else the next index.
func (s *snapshot) applyAssociateWrites(d *Delta) (affected []int32) {
	if len(d.Associates)+len(d.DeleteAssociates) == 0 {
		return nil
	}
	for k := range d.Associates {
		a := &d.Associates[k]
		i, ok := s.assocIndex.get(a.ID)
		switch {
		case ok:
		case a.ID >= 0 && int64(a.ID) < s.identityLimit:
			i = int32(a.ID) // its reserved slot
			s.assocIndex = s.assocIndex.with(a.ID, i)
		default:
			i = int32(s.assocs.len())
			s.assocIndex = s.assocIndex.with(a.ID, i)
			s.assocs.append(s.cow, nil)
		}
		n := newAssocNode(a)
		n.idx = i
		s.assocs.set(s.cow, i, n)
		affected = append(affected, i)
	}
	for _, id := range d.DeleteAssociates {
		if i, n := s.assoc(id); n != nil {
			s.assocs.set(s.cow, i, nil)
			affected = append(affected, i)
		}
	}
	return affected
}

// memberChanges is how an update's recomputed memberships change the
// member lists: per group index, the associates that joined (adds) or
// left (removes) its personal members, and per role slot, those that
// came to hold (holdAdds) or ceased to hold (holdRemoves) the role, each
// list sorted.
type memberChanges struct {
	adds, removes         map[int32][]int32
	holdAdds, holdRemoves map[int32][]int32
}

// recomputeMemberships computes the personal groups of each affected
// associate (sorted, no repeats) and returns them (personal[k] those of
// affected[k], for rewriteHeaders, which writes them and the policy bits
// into the headers; the nodes stay as they are) and how the
// member lists change compared with old (see memberChanges). A role
// closure that moves changes no list: the groups of the new closure read
// the role's holders (snapshot.closureRoles), and only the personal
// groups of its holders, which lie beyond it, are compared.
func (s *snapshot) recomputeMemberships(old *snapshot, affected []int32, plan *nestPlan) (ch memberChanges, personal [][]int32) {
	ch = memberChanges{adds: map[int32][]int32{}, removes: map[int32][]int32{}, holdAdds: map[int32][]int32{}, holdRemoves: map[int32][]int32{}}
	personal = make([][]int32, len(affected))
	sc := getScratch(len(s.groups))
	defer putScratch(sc)
	var in []bool
	if plan != nil {
		in = make([]bool, len(plan.groups))
	}
	for k, i := range affected {
		var on *assocNode
		if int(i) < old.assocs.len() {
			on = old.assocs.at(i)
		}
		var wasClosure, was []int32
		if on != nil {
			wasClosure, was = old.closureOf(on), old.personalOf(on)
		}
		wasSlot := old.holderSlot(on)
		n := s.assocs.at(i)
		if n == nil {
			diffGroups(i, was, nil, ch.adds, ch.removes)
			if wasSlot >= 0 {
				ch.holdRemoves[wasSlot] = append(ch.holdRemoves[wasSlot], i)
			}
			continue
		}
		closure := s.roleClosure(n.a.Role, n.a.Type)
		// An associate the delta writes has a fresh node, and its base
		// groups may have moved: it is computed afresh. The plan moves no
		// role's closure.
		renested := plan != nil && n == on && n.a.Type == Internal && sameList(closure, wasClosure)
		var is []int32
		if renested {
			is = s.renest(n.a, closure, was, plan, in)
		} else {
			is = s.personalGroupsOf(n.a, closure, sc)
		}
		personal[k] = is
		diffGroups(i, was, is, ch.adds, ch.removes)
		if slot := s.holderSlot(n); slot != wasSlot {
			if wasSlot >= 0 {
				ch.holdRemoves[wasSlot] = append(ch.holdRemoves[wasSlot], i)
			}
			if slot >= 0 {
				ch.holdAdds[slot] = append(ch.holdAdds[slot], i)
			}
		}
	}
	return ch, personal
}

// sameList reports whether the sorted lists a and b are equal, first by
// whether they are one list (as a role's closure shared by two snapshots
// is).
func sameList(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 || &a[0] == &b[0] {
		return true
	}
	return slices.Equal(a, b)
}

// diffGroups records associate i under each group in after but not
// before (adds) and in before but not after (removes); both are sorted.
func diffGroups(i int32, before, after []int32, adds, removes map[int32][]int32) {
	x, y := 0, 0
	for x < len(before) || y < len(after) {
		switch {
		case y == len(after) || (x < len(before) && before[x] < after[y]):
			removes[before[x]] = append(removes[before[x]], i)
			x++
		case x == len(before) || after[y] < before[x]:
			adds[after[y]] = append(adds[after[y]], i)
			y++
		default:
			x++
			y++
		}
	}
}

// rewriteHeaders recomputes the decision headers of the associates in
// headers (sorted) from their nodes: with their new personal groups for
// those recomputeMemberships recomputed (affected[k] with personal[k],
// affected a sorted subset of headers), keeping their personal groups for
// the rest, whose memberships did not move.
func (s *snapshot) rewriteHeaders(headers, affected []int32, personal [][]int32) {
	w := s.hotWriter()
	k := 0
	for _, i := range headers {
		if k < len(affected) && affected[k] == i {
			w.set(i, personal[k])
			k++
			continue
		}
		w.refresh(i)
	}
	w.done()
}

// applyMemberChanges merges the changes recomputeMemberships found into
// the groups' personal members and the roles' holders, copying each list
// it changes (only the runs a change touches; see memberSet.with).
func (s *snapshot) applyMemberChanges(ch *memberChanges) {
	for g, add := range ch.adds {
		s.setMembers(g, s.personalSet(g).with(add, ch.removes[g]))
	}
	for g, rm := range ch.removes {
		if _, ok := ch.adds[g]; !ok {
			s.setMembers(g, s.personalSet(g).with(nil, rm))
		}
	}
	if len(ch.holdAdds)+len(ch.holdRemoves) == 0 {
		return
	}
	if s.cow.claim(cowHolders) {
		s.holders = slices.Clone(s.holders)
	}
	if n := len(s.roleAt); len(s.holders) < n {
		s.holders = append(s.holders, make([]*memberSet, n-len(s.holders))...)
	}
	set := func(r int32, add, rm []int32) {
		var cur memberSet
		if p := s.holders[r]; p != nil {
			cur = *p
		}
		m := cur.with(add, rm)
		s.holders[r] = &m
	}
	for r, add := range ch.holdAdds {
		set(r, add, ch.holdRemoves[r])
	}
	for r, rm := range ch.holdRemoves {
		if _, ok := ch.holdAdds[r]; !ok {
			set(r, nil, rm)
		}
	}
}

// setMembers makes m the personal members of group index g.
func (s *snapshot) setMembers(g int32, m memberSet) {
	s.members.set(s.cow, g, &m)
}

// scratchPool keeps the working memory of recomputeMemberships between
// updates: it is sized by the groups, and a write that recomputes one
// associate should not allocate and clear arrays for every group.
var scratchPool sync.Pool

// getScratch returns a scratch for n groups, from the pool when it can.
func getScratch(n int) *scratch {
	if sc, ok := scratchPool.Get().(*scratch); ok {
		sc.grow(n)
		return sc
	}
	return newScratch(n)
}

// putScratch returns sc to the pool.
func putScratch(sc *scratch) { scratchPool.Put(sc) }

// smartChange records a group whose smartness or rule changed (node is nil
// when the group was deleted).
type smartChange struct {
	id   GroupID
	node *groupNode
}

// touchedBy reports whether the associate's memberships may change because
// its role's groups changed or a group it could reach by link or rule
// changed its smartness or rule.
func (s *snapshot) touchedBy(a *Associate, roles map[RoleID]bool, smart map[int32]smartChange) bool {
	if roles[a.Role] {
		return true
	}
	for _, c := range smart {
		if c.node != nil && c.node.rule.Match(a) {
			return true
		}
		if a.PrimaryGroup == c.id || slices.Contains(a.Groups, c.id) {
			return true
		}
	}
	return false
}

// mergeMembers returns the sorted list cur without rm and with add; all
// three are sorted, and the result is a new slice. It finds each change
// in cur by binary search and copies the stretches between changes whole,
// so that one join or leave costs a search and a copy, not a pass over
// cur element by element. A value in both add and rm ends up in the list,
// as does a value of add already in cur (once); a value of rm not in cur
// is ignored.
func mergeMembers(cur, add, rm []int32) []int32 {
	out := make([]int32, 0, max(len(cur)+len(add)-len(rm), 0))
	i := 0 // cur[:i] is dealt with
	for len(add) > 0 || len(rm) > 0 {
		// Removals go first on a tie, so that the addition wins.
		if len(rm) > 0 && (len(add) == 0 || rm[0] <= add[0]) {
			j, found := slices.BinarySearch(cur[i:], rm[0])
			rm = rm[1:]
			out = append(out, cur[i:i+j]...)
			i += j
			if found {
				i++
			}
			continue
		}
		j, found := slices.BinarySearch(cur[i:], add[0])
		out = append(out, cur[i:i+j]...)
		i += j
		if !found { // a member already is copied with the rest of cur
			out = append(out, add[0])
		}
		add = add[1:]
	}
	return append(out, cur[i:]...)
}
