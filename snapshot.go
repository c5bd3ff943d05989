package access

import (
	"cmp"
	"maps"
	"math/bits"
	"slices"
)

// A snapshot is the compiled, immutable form of one store revision. Readers
// share it freely; an update builds a new snapshot that shares every part
// the change did not touch (copy on write) and is published atomically.
//
// Groups and associates have dense int32 indexes so that membership sets
// are small sorted slices. Indexes are stable across incremental updates: a
// deleted entity leaves a nil slot, and the same id put again gets its old
// slot back. A full rebuild renumbers everything.
type snapshot struct {
	rev Revision

	roles map[RoleID]*roleNode

	groupIdx map[GroupID]int32 // includes deleted groups, whose node is nil
	// groupDense is groupIdx as a slice indexed by id (index+1, 0 when
	// deleted or
	// absent) when ids are small enough; lookups use it first.
	groupDense []int32
	groups     []*groupNode
	smart      []int32   // indexes of live smart groups
	members    [][]int32 // per group index: effective members, sorted associate indexes

	assocIdx idIndex
	assocs   []*assocNode
	// identN is set when every id below it has the index equal to the id
	// (its slot is reserved, nil while the id is absent); 0 otherwise.
	identN int64
	// hot holds, per associate index, what a decision reads about the
	// associate (see hotAssoc), in chunks shared copy-on-write between
	// snapshots; pers holds the headers' personal groups.
	hot  []*hotChunk
	pers []int32
	// persDead counts the entries of pers that no header refers to any
	// more; pers is compacted when they outnumber the live ones.
	persDead  int
	persArena *persArena
	// assocRole is each associate's role slot by index (-1 when it has none
	// or is deleted), kept apart from the headers so that a decision learns
	// the record owner's role from a small array.
	assocRole []int32

	// roleSlot gives every role id seen a stable slot; roleAt is the
	// current node per slot (nil once deleted).
	roleSlot map[RoleID]int32
	roleAt   []*roleNode
	roleIDs  []RoleID
	// roleByPre is the slot of the role at each position of the role
	// tree's depth-first order, so that the roles below one are a run of it.
	roleByPre []int32

	// types interns the entity types that roles and the policy name, with
	// indexes stable for the resolver's life (see typeOf).
	types     map[string]int32
	typeNames []string // typeNames[i] has index i+1

	policy

	// pbit gives, per group index, the group's bit in assocNode.pm, or -1;
	// npbits counts the groups that have one.
	pbit   []int32
	npbits int

	// names is the history of names of the resolver that published the
	// snapshot (see names.go), which its decisions keep instead of it.
	names *history

	// fcache holds per-snapshot data that only filters need, computed on
	// first use.
	fcache *filterCache

	// byName finds associates and groups by name (see nameIndex).
	byName *nameIndex
}

// roleNode is a role with its place in the role tree.
type roleNode struct {
	role Role
	// pre is the role's position in a depth-first order of the role tree;
	// the roles below it are those at positions lo to end-1 (see
	// roletree.go).
	pre, lo, end int32
	// base lists the groups that the role alone makes its holders members
	// of, sorted by group index.
	base []baseEdge
	// grids are the compiled rights per entity type; wild is the "*" row.
	grids map[string]*grid
	wild  *grid
	// gridAt is grids by interned type (see snapshot.typeOf).
	gridAt []*grid
	// closure lists, sorted, the effective groups the role alone gives its
	// holders: the upward closure of base. Holders share it, so a header
	// keeps only the groups an associate has beyond it (hotAssoc).
	closure []int32
	// leaf is set when no role is below this one, so that no record owner
	// can be its holders' subordinate.
	leaf bool
	// bits is closure as a bitmap over group indexes, for roles whose
	// closure is large enough to be worth one (see roleBitsMin); else nil.
	bits []uint64
}

// roleBitsMin is the smallest closure given a bitmap, and roleBitsBudget
// the bytes all bitmaps of a snapshot may take. Tests lower roleBitsMin so
// that both representations are checked on small models.
var (
	roleBitsMin    = 16
	roleBitsBudget = 16 << 20
)

type baseEdge struct {
	g      int32
	reason Reason // ViaRole or ViaRoleTree
}

// groupNode is a group with its upward closure.
type groupNode struct {
	group Group
	rule  *SmartRule // parsed Smart; nil for other groups or an unparsable rule
	// up lists every group whose members include this group's members
	// (this group itself at distance 0), sorted by group index, with the
	// shortest distance and the predecessor on one shortest path.
	up []upEdge
}

type upEdge struct {
	g, pred int32 // pred is -1 for the group itself
	dist    int32
}

// assocNode is an associate with its effective memberships and their
// explanations. Decisions read the associate's header instead (see
// hotAssoc), which is computed from the node.
type assocNode struct {
	// groups are the indexes of the effective groups, sorted; via[i]
	// explains groups[i].
	groups []int32
	// pm has bit b set when the associate is a member of the policy group
	// with bit b (see snapshot.pbit): the few groups that grants, defaults,
	// sharing rules and categories name, tested on every decision.
	pm      [policyBits / 64]uint64
	role    RoleID
	primary GroupID
	typ     AssociateType
	active  bool
	window  bool // has a validity window

	via []via
	a   Associate
	idx int32 // the associate's index
}

// newAssocNode makes the node of an associate, without memberships.
func newAssocNode(a Associate) *assocNode {
	return &assocNode{a: a, role: a.Role, primary: a.PrimaryGroup, typ: a.Type, active: a.Active,
		window: !a.ValidFrom.IsZero() || !a.ValidTo.IsZero()}
}

// via is one step of a membership's explanation: either a base reason
// (primary, secondary, role, role tree, smart) with from() == -1, or
// ViaGroup with from() the index of the included group one step closer to
// the associate. It packs both into four bytes — there is one per
// membership, ten million at the benchmark's size — with the reason in the
// low three bits.
type via uint32

func mkVia(from int32, r Reason) via { return via(uint32(from+1)<<3 | uint32(r&7)) }

func (v via) from() int32    { return int32(v>>3) - 1 }
func (v via) reason() Reason { return Reason(v & 7) }

// idIndex maps associate ids to dense indexes. Ids are usually small and
// dense, so the index is mostly a slice indexed by id (one memory access,
// where a map costs several cache misses at 100,000 entries), with a map
// for ids too large for it. Ids added since the index was built live in a
// small overlay, so that adding an associate copies the overlay, not
// 100,000 entries; the overlay is folded in once it grows past a fraction
// of the whole.
type idIndex struct {
	dense      []int32 // dense[id] is index+1, or 0 when absent
	base, over map[AssociateID]int32
	n          int // entries in dense and base
}

// newIDIndex builds an index of the given id → index pairs.
func newIDIndex(ids []AssociateID, idx []int32) idIndex {
	var x idIndex
	maxID := AssociateID(0)
	for _, id := range ids {
		maxID = max(maxID, id)
	}
	limit := AssociateID(4*len(ids) + 1024)
	if maxID < limit {
		x.dense = make([]int32, maxID+1)
	}
	for k, id := range ids {
		if id >= 0 && int(id) < len(x.dense) {
			x.dense[id] = idx[k] + 1
			continue
		}
		if x.base == nil {
			x.base = map[AssociateID]int32{}
		}
		x.base[id] = idx[k]
	}
	x.n = len(ids)
	return x
}

func (x *idIndex) get(id AssociateID) (int32, bool) {
	if len(x.over) > 0 {
		if i, ok := x.over[id]; ok {
			return i, true
		}
	}
	if uint64(id) < uint64(len(x.dense)) {
		i := x.dense[id]
		return i - 1, i != 0
	}
	i, ok := x.base[id]
	return i, ok
}

// with returns an index that also maps id to i.
func (x idIndex) with(id AssociateID, i int32) idIndex {
	if len(x.over) >= 1024 && len(x.over) >= x.n/8 {
		ids := make([]AssociateID, 0, x.n+len(x.over)+1)
		idx := make([]int32, 0, cap(ids))
		for id, v := range x.dense {
			if v != 0 {
				ids, idx = append(ids, AssociateID(id)), append(idx, v-1)
			}
		}
		for _, m := range [2]map[AssociateID]int32{x.base, x.over} {
			for id, v := range m {
				ids, idx = append(ids, id), append(idx, v)
			}
		}
		return newIDIndex(append(ids, id), append(idx, i))
	}
	over := make(map[AssociateID]int32, len(x.over)+1)
	maps.Copy(over, x.over)
	over[id] = i
	x.over = over
	return x
}

func (s *snapshot) assoc(id AssociateID) (int32, *assocNode) {
	i, ok := s.assocIdx.get(id)
	if !ok {
		return -1, nil
	}
	return i, s.assocs[i]
}

// roleOfAssoc returns the role node of the associate with the given id, or
// nil when it is unknown, deleted or holds no role, without touching its
// node or header.
func (s *snapshot) roleOfAssoc(id AssociateID) *roleNode {
	if uint64(id) < uint64(s.identN) {
		if slot := s.assocRole[id]; slot >= 0 {
			return s.roleAt[slot]
		}
		return nil
	}
	if i, ok := s.assocIdx.get(id); ok {
		if slot := s.assocRole[i]; slot >= 0 {
			return s.roleAt[slot]
		}
	}
	return nil
}

// groupIndex returns the index of a live group, or -1. For small ids it
// reads only the dense index, not the group's node.
func (s *snapshot) groupIndex(id GroupID) int32 {
	if uint64(id) < uint64(len(s.groupDense)) {
		return s.groupDense[id] - 1
	}
	if i, ok := s.groupIdx[id]; ok && s.groups[i] != nil {
		return i
	}
	return -1
}

func (s *snapshot) group(id GroupID) (int32, *groupNode) {
	if uint64(id) < uint64(len(s.groupDense)) {
		i := s.groupDense[id] - 1
		if i < 0 {
			return -1, nil
		}
		return i, s.groups[i]
	}
	i, ok := s.groupIdx[id]
	if !ok {
		return -1, nil
	}
	return i, s.groups[i]
}

// policyBits is how many policy groups get a bit in every associate's pm.
// Groups beyond it are tested by search, as other groups are.
const policyBits = 64

// maskOf computes an associate's policy-group bits from its groups.
func (s *snapshot) maskOf(groups []int32) (pm [policyBits / 64]uint64) {
	if s.npbits == 0 {
		return pm
	}
	for _, g := range groups {
		if int(g) < len(s.pbit) {
			if b := s.pbit[g]; b >= 0 {
				pm[b>>6] |= 1 << (b & 63)
			}
		}
	}
	return pm
}

// contains reports whether the sorted slice a holds x. It halves the range
// without branching on the comparison (the compiler emits a conditional
// move), which avoids the mispredictions that make a textbook binary search
// slow on the ten or so membership tests a decision makes.
func contains(a []int32, x int32) bool {
	n := len(a)
	if n == 0 {
		return false
	}
	base := 0
	for n > 1 {
		half := n >> 1
		if a[base+half] <= x {
			base += half
		}
		n -= half
	}
	return a[base] == x
}

// build compiles a whole model. It takes ownership of b's values, as
// Store.Changes hands them over; it does not copy them.
func build(rev Revision, b *Batch) *snapshot {
	failClosed(b)
	s := &snapshot{rev: rev, roles: make(map[RoleID]*roleNode, len(b.Roles)), fcache: &filterCache{}}
	for _, r := range b.Roles {
		s.roles[r.ID] = &roleNode{role: r}
	}
	gs := slices.Clone(b.Groups)
	slices.SortFunc(gs, func(x, y Group) int { return cmp.Compare(x.ID, y.ID) })
	s.groupIdx = make(map[GroupID]int32, len(gs))
	s.groups = make([]*groupNode, 0, len(gs))
	for _, g := range gs {
		if _, dup := s.groupIdx[g.ID]; dup {
			continue // a store never sends one id twice; keep the first
		}
		s.groupIdx[g.ID] = int32(len(s.groups))
		s.groups = append(s.groups, newGroupNode(g))
	}
	s.compileGroups()

	// Stores list associates in id order; only others pay for a sorted
	// copy, which for a million associates is 200 MB.
	as := b.Associates
	byID := func(x, y Associate) int { return cmp.Compare(x.ID, y.ID) }
	if !slices.IsSortedFunc(as, byID) {
		as = slices.Clone(as)
		slices.SortFunc(as, byID)
	}
	s.assocs = make([]*assocNode, 0, len(as))
	// The nodes come from one slab rather than one allocation each.
	slab := make([]assocNode, len(as))
	ids := make([]AssociateID, 0, len(as))
	idx := make([]int32, 0, len(as))
	// When ids are small and dense, as database serials are, an
	// associate's index is its id, and ids a little past the largest get
	// their slots reserved: a decision then finds the subject's header
	// without reading the id index first.
	if len(as) > 0 && as[0].ID >= 0 && as[len(as)-1].ID < AssociateID(len(as)+len(as)/4+1024) {
		s.identN = int64(as[len(as)-1].ID) + 1 + int64(len(as)/8+1024)
		s.assocs = make([]*assocNode, s.identN)
	}
	for k, a := range as {
		if k > 0 && as[k-1].ID == a.ID {
			continue // a store never sends one id twice; keep the first
		}
		n := &slab[len(ids)]
		*n = *newAssocNode(a)
		if s.identN > 0 {
			n.idx = int32(a.ID)
			s.assocs[a.ID] = n
		} else {
			n.idx = int32(len(s.assocs))
			s.assocs = append(s.assocs, n)
		}
		ids, idx = append(ids, a.ID), append(idx, n.idx)
	}
	s.assocIdx = newIDIndex(ids, idx)
	// Members lists are cut from one array sized by a first count, which
	// spares the garbage of growing ten thousand lists by append. Each is
	// capped at its length, so a later append cannot spill into the next.
	sc := newScratch(len(s.groups))
	sc.slab = true
	count := make([]int, len(s.groups))
	total := 0
	for _, n := range s.assocs {
		if n == nil {
			continue
		}
		n.groups, n.via = s.effective(&n.a, sc)
		for _, g := range n.groups {
			count[g]++
		}
		total += len(n.groups)
	}
	all := make([]int32, total)
	s.members = make([][]int32, len(s.groups))
	for g, c := range count {
		s.members[g], all = all[:0:c], all[c:]
	}
	for i, n := range s.assocs {
		if n == nil {
			continue
		}
		for _, g := range n.groups {
			s.members[g] = append(s.members[g], int32(i))
		}
	}
	s.loadPolicy(b)
	s.buildHot()
	s.buildNames()
	return s
}

func newGroupNode(g Group) *groupNode {
	n := &groupNode{group: g}
	if g.Smart != "" {
		// A rule that does not parse (written around the validator) matches
		// nobody: fail closed.
		n.rule, _ = ParseSmartRule(g.Smart)
	}
	return n
}

// compileGroups recomputes everything derived from roles and groups: each
// group's upward closure, the list of smart groups, and (compileRoles) the
// role tree's numbering and each role's base groups. It replaces s.roles'
// nodes and s.groups' nodes with fresh ones, so the caller must own both
// containers.
func (s *snapshot) compileGroups() {
	s.groupDense = nil
	maxID := GroupID(0)
	for id := range s.groupIdx {
		maxID = max(maxID, id)
	}
	if maxID < GroupID(4*len(s.groupIdx)+1024) {
		s.groupDense = make([]int32, maxID+1)
		for id, i := range s.groupIdx {
			if id >= 0 && s.groups[i] != nil {
				s.groupDense[id] = i + 1
			}
		}
	}
	// Who includes whom: incl[c] lists the groups that list c. Smart groups
	// take members from their rule alone, so their Groups do not count.
	incl := make([][]int32, len(s.groups))
	s.smart = s.smart[:0:0]
	for p, n := range s.groups {
		if n == nil {
			continue
		}
		if n.group.IsSmart() {
			s.smart = append(s.smart, int32(p))
			continue
		}
		for _, c := range n.group.Groups {
			if ci, ok := s.groupIdx[c]; ok && s.groups[ci] != nil && !slices.Contains(incl[ci], int32(p)) {
				incl[ci] = append(incl[ci], int32(p))
			}
		}
	}
	// Upward closure by breadth-first search from each group. A cycle (only
	// possible in data written around the validator) simply ends the search,
	// which yields the least fixpoint: every group on it has the same
	// members.
	dist := make([]int32, len(s.groups))
	pred := make([]int32, len(s.groups))
	for i := range dist {
		dist[i] = -1
	}
	var queue []int32
	for g, n := range s.groups {
		if n == nil {
			continue
		}
		queue = append(queue[:0], int32(g))
		dist[g], pred[g] = 0, -1
		for h := 0; h < len(queue); h++ {
			x := queue[h]
			for _, p := range incl[x] {
				if dist[p] < 0 {
					dist[p], pred[p] = dist[x]+1, x
					queue = append(queue, p)
				}
			}
		}
		up := make([]upEdge, len(queue))
		for i, x := range queue {
			up[i] = upEdge{g: x, pred: pred[x], dist: dist[x]}
			dist[x] = -1
		}
		slices.SortFunc(up, func(a, b upEdge) int { return cmp.Compare(a.g, b.g) })
		nn := *n
		nn.up = up
		s.groups[g] = &nn
	}

	s.compileRoles()
}

// scratch is reusable working memory for computing one associate's
// memberships: per group, the best (distance, reason) seen, stamped with a
// generation counter so it never needs clearing.
type scratch struct {
	gen     uint32
	stamp   []uint32
	dist    []int32
	reason  []Reason // base reason of the best path
	from    []int32
	touched []int32
	// bits has a bit set for each touched group, so that they can be
	// listed in order without sorting; it is all zero between calls.
	bits []uint64
	// slab, set for a full build, cuts the lists effective returns from
	// large shared arrays (groups, vias) rather than allocating two per
	// associate: a million associates otherwise cost two million
	// allocations. An update leaves it unset, so that the lists it makes
	// do not keep a large array alive.
	slab   bool
	groups []int32
	vias   []via
}

// slabLen is the size of the arrays a slab cuts lists from.
const slabLen = 1 << 14

// take returns a list of n group indexes, capped at n so that an append
// cannot spill into a neighbour's.
func (sc *scratch) take(n int) []int32 {
	if !sc.slab || n > slabLen/4 {
		return make([]int32, n)
	}
	if len(sc.groups) < n {
		sc.groups = make([]int32, slabLen)
	}
	out := sc.groups[:n:n]
	sc.groups = sc.groups[n:]
	return out
}

// takeVias is take for explanations.
func (sc *scratch) takeVias(n int) []via {
	if !sc.slab || n > slabLen/4 {
		return make([]via, n)
	}
	if len(sc.vias) < n {
		sc.vias = make([]via, slabLen)
	}
	out := sc.vias[:n:n]
	sc.vias = sc.vias[n:]
	return out
}

func newScratch(n int) *scratch {
	return &scratch{
		stamp: make([]uint32, n), dist: make([]int32, n),
		reason: make([]Reason, n), from: make([]int32, n),
		bits: make([]uint64, (n+63)/64),
	}
}

// sorted returns the touched groups in index order and clears bits. A
// sparse set is sorted; a dense one is read off the bitmap, which for an
// associate in a hundred groups out of ten thousand is several times
// cheaper.
func (sc *scratch) sorted() []int32 {
	out := sc.take(len(sc.touched))[:0]
	lo, hi := sc.touched[0], sc.touched[0]
	for _, g := range sc.touched {
		lo, hi = min(lo, g), max(hi, g)
	}
	if words := int(hi>>6 - lo>>6 + 1); words > 8*len(sc.touched) {
		for _, g := range sc.touched {
			sc.bits[g>>6] = 0
		}
		out = append(out, sc.touched...)
		slices.Sort(out)
		return out
	}
	for w := lo >> 6; w <= hi>>6; w++ {
		for b := sc.bits[w]; b != 0; b &= b - 1 {
			out = append(out, w<<6|int32(bits.TrailingZeros64(b)))
		}
		sc.bits[w] = 0
	}
	return out
}

func (sc *scratch) grow(n int) {
	if len(sc.stamp) < n {
		slab := sc.slab
		*sc = *newScratch(n + n/4)
		sc.slab = slab
	}
}

// effective computes the associate's effective groups and their
// explanations from the compiled groups and roles.
func (s *snapshot) effective(a *Associate, sc *scratch) ([]int32, []via) {
	if a.Type != Internal {
		return nil, nil
	}
	sc.grow(len(s.groups))
	sc.gen++
	if sc.gen == 0 { // wrapped: clear the stamps once
		clear(sc.stamp)
		sc.gen = 1
	}
	sc.touched = sc.touched[:0]
	reach := func(b int32, why Reason) {
		n := s.groups[b]
		if n == nil {
			return
		}
		for _, e := range n.up {
			g := e.g
			if sc.stamp[g] == sc.gen {
				if e.dist > sc.dist[g] || (e.dist == sc.dist[g] && why >= sc.reason[g]) {
					continue
				}
			} else {
				sc.stamp[g] = sc.gen
				sc.touched = append(sc.touched, g)
				sc.bits[g>>6] |= 1 << (g & 63)
			}
			sc.dist[g], sc.reason[g], sc.from[g] = e.dist, why, e.pred
		}
	}
	direct := func(id GroupID, why Reason) {
		if g, n := s.group(id); n != nil && !n.group.IsSmart() {
			reach(g, why)
		}
	}
	direct(a.PrimaryGroup, ViaPrimary)
	for _, id := range a.Groups {
		direct(id, ViaSecondary)
	}
	if r := s.roles[a.Role]; r != nil {
		for _, e := range r.base {
			reach(e.g, e.reason)
		}
	}
	for _, g := range s.smart {
		if s.groups[g].rule.Match(a) {
			reach(g, ViaSmart)
		}
	}
	if len(sc.touched) == 0 {
		return nil, nil
	}
	groups := sc.sorted()
	vias := sc.takeVias(len(groups))
	for i, g := range groups {
		if sc.dist[g] == 0 {
			vias[i] = mkVia(-1, sc.reason[g])
		} else {
			vias[i] = mkVia(sc.from[g], ViaGroup)
		}
	}
	return groups, vias
}

// update returns the snapshot that results from applying the delta d to s.
// It recompiles roles and groups when any changed (they are few), and
// recomputes the memberships only of the associates the delta can have
// touched: those it writes, and the members of any group whose upward
// closure, role links or smart rule changed.
func (old *snapshot) update(d *Delta) *snapshot {
	failClosed(&d.Batch)
	s := old.updateMembership(d)
	s.updateNames(old, d)
	// The policy holds group indexes and role slots, and its per-type
	// arrays cover the interned types: a role write that keeps the tree's
	// shape and names no new entity type leaves it as it is.
	s.updatePolicy(d, len(d.Groups)+len(d.DeleteGroups) > 0 || old.reshapes(d) || len(s.types) != len(old.types))
	return s
}

func (old *snapshot) updateMembership(d *Delta) *snapshot {
	s := *old
	s.rev = d.To
	s.fcache = &filterCache{}
	var affected []int32
	membersOwned := false
	groupsChanged := len(d.Groups)+len(d.DeleteGroups) > 0
	if !groupsChanged && len(d.Roles) > 0 && !old.reshapes(d) {
		// New rights, names or functional rights: no membership moves.
		s.patchRoles(d.Roles)
	} else if groupsChanged || len(d.Roles)+len(d.DeleteRoles) > 0 {
		s.roles = maps.Clone(old.roles)
		for _, r := range d.Roles {
			s.roles[r.ID] = &roleNode{role: r}
		}
		for _, id := range d.DeleteRoles {
			delete(s.roles, id)
		}
		// Groups whose smartness or rule changed: their links and rule
		// matches must be looked at afresh.
		smartChanged := map[int32]smartChange{}
		if groupsChanged {
			s.groupIdx = maps.Clone(old.groupIdx)
			s.groups = slices.Clone(old.groups)
		}
		for _, g := range d.Groups {
			i, ok := s.groupIdx[g.ID]
			if !ok {
				i = int32(len(s.groups))
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
		if !groupsChanged {
			// Only the role tree changed shape: the groups' closures stand.
			s.compileRoles()
		} else {
			s.compileGroups()
			s.members = slices.Clone(old.members)
			membersOwned = true
			for len(s.members) < len(s.groups) {
				s.members = append(s.members, nil)
			}
		}

		for g, n := range s.groups {
			if !groupsChanged {
				break
			}
			var oldUp, newUp []upEdge
			if g < len(old.groups) && old.groups[g] != nil {
				oldUp = old.groups[g].up
			}
			if n != nil {
				newUp = n.up
			}
			if !slices.Equal(oldUp, newUp) && g < len(old.members) {
				affected = append(affected, old.members[g]...)
			}
		}
		changedRoles := map[RoleID]bool{}
		for id, n := range s.roles {
			if on := old.roles[id]; on == nil || !slices.Equal(on.base, n.base) {
				changedRoles[id] = true
			}
		}
		for id := range old.roles {
			if s.roles[id] == nil {
				changedRoles[id] = true
			}
		}
		for g := range smartChanged {
			if int(g) < len(old.members) {
				affected = append(affected, old.members[g]...)
			}
		}
		if len(changedRoles)+len(smartChanged) > 0 {
			for i, n := range s.assocs {
				if n != nil && n.a.Type == Internal && s.touchedBy(&n.a, changedRoles, smartChanged) {
					affected = append(affected, int32(i))
				}
			}
		}
	}

	if len(d.Associates)+len(d.DeleteAssociates)+len(affected) > 0 {
		s.assocs = slices.Clone(old.assocs)
	}
	for _, a := range d.Associates {
		i, ok := s.assocIdx.get(a.ID)
		switch {
		case ok:
		case a.ID >= 0 && int64(a.ID) < s.identN:
			i = int32(a.ID) // its reserved slot
			s.assocIdx = s.assocIdx.with(a.ID, i)
		default:
			i = int32(len(s.assocs))
			s.assocIdx = s.assocIdx.with(a.ID, i)
			s.assocs = append(s.assocs, nil)
		}
		s.assocs[i] = newAssocNode(a)
		s.assocs[i].idx = i
		affected = append(affected, i)
	}
	for _, id := range d.DeleteAssociates {
		if i, n := s.assoc(id); n != nil {
			s.assocs[i] = nil
			affected = append(affected, i)
		}
	}
	if len(affected) == 0 {
		return &s
	}

	slices.Sort(affected)
	affected = slices.Compact(affected)
	adds, removes := map[int32][]int32{}, map[int32][]int32{}
	sc := newScratch(len(s.groups))
	for _, i := range affected {
		var before, after []int32
		if int(i) < len(old.assocs) && old.assocs[i] != nil {
			before = old.assocs[i].groups
		}
		if n := s.assocs[i]; n != nil {
			nn := newAssocNode(n.a)
			nn.idx = i
			nn.groups, nn.via = s.effective(&nn.a, sc)
			nn.pm = s.maskOf(nn.groups)
			s.assocs[i] = nn
			after = nn.groups
		}
		// Both are sorted: walk them together.
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
	w := s.hotWriter()
	for _, i := range affected {
		w.set(i)
	}
	w.done()
	if len(adds)+len(removes) > 0 && !membersOwned {
		s.members = slices.Clone(old.members)
	}
	for g := range s.members {
		add, rm := adds[int32(g)], removes[int32(g)]
		if len(add)+len(rm) == 0 {
			continue
		}
		s.members[g] = mergeMembers(s.members[g], add, rm)
	}
	return &s
}

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
// three are sorted, and the result is a new slice.
func mergeMembers(cur, add, rm []int32) []int32 {
	out := make([]int32, 0, len(cur)+len(add)-len(rm))
	r := 0
	a := 0
	for _, m := range cur {
		for a < len(add) && add[a] < m {
			out = append(out, add[a])
			a++
		}
		for r < len(rm) && rm[r] < m {
			r++
		}
		if r < len(rm) && rm[r] == m {
			continue
		}
		if a < len(add) && add[a] == m {
			a++
		}
		out = append(out, m)
	}
	return append(out, add[a:]...)
}
