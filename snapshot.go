package access

import (
	"cmp"
	"maps"
	"slices"
)

// A snapshot is the compiled form of one store revision. Readers share it
// freely; an update builds a new snapshot that shares every part the
// change did not touch (copy on write, recorded in cow while it is built)
// and is published atomically.
//
// A published snapshot is immutable, with four named exceptions, each
// safe for concurrent use:
//
//   - filterMemo, the filter cache, filled on first use by Filter (filter.go);
//   - size, the estimate of the snapshot's bytes, computed on first use by
//     bytes (size.go) for Stats;
//   - pers, the personal-group array: successive snapshots append to the
//     one array in place, beyond this snapshot's length, coordinated by
//     persArena (hot.go), so a snapshot reads only below its own length;
//   - names, the resolver's name history, which every snapshot of the
//     resolver shares and its writer advances (namehistory.go).
//
// The build pipeline is build.go (full compile), update.go (incremental),
// roletree.go (the role tree), policy.go (rules, grants, defaults,
// categories, impersonation) and hot.go (the decision headers); cow.go
// records what an update has copied.
//
// Groups and associates have dense int32 indexes so that membership sets
// are small sorted slices. Indexes are stable across incremental updates: a
// deleted entity leaves a nil slot, and the same id put again gets its old
// slot back. A full rebuild renumbers everything.
type snapshot struct {
	// rev is the store revision the snapshot compiles; the freshness rule
	// compares it with the store's.
	rev Revision

	// roles holds the compiled role nodes by id, for questions that start
	// from a RoleID (grids, the tree, base groups); decisions reach roles
	// through roleAt instead.
	roles map[RoleID]*roleNode

	// groupIdx gives every group id seen its index, deleted groups
	// included (their node is nil), so that a group put again gets its
	// old index back.
	groupIdx map[GroupID]int32
	// groupDense is groupIdx as a slice indexed by id (index+1, 0 when
	// deleted or absent) when ids are small enough; lookups use it first,
	// as one load beats a map probe.
	groupDense []int32
	// groups holds each group's node by index: the group and its upward
	// closure, which explanations and updates walk.
	groups []*groupNode
	// smart lists the indexes of live smart groups, which every associate
	// is matched against when its memberships are computed.
	smart []int32
	// members holds, per group index, the group's personal members as
	// sorted associate indexes: the associates for whom the group lies
	// beyond their role's closure (see personalOf). A group's effective
	// members, what WhoCan, filters and listings read, are these and the
	// holders of every role whose closure holds the group (see
	// memberSet). It is shared copy-on-write in blocks (see memberTable).
	// A nil entry is a group without personal members.
	members memberTable
	// holders holds, per role slot, the associates whose effective groups
	// include the role's closure when the role exists: the Internal
	// associates naming the role (see holderSlot), sorted, in runs. Each
	// role's holders are kept once for every group of its closure, where
	// member lists repeating them took 400 MB at a million associates. A
	// nil entry is a slot without holders. An update copies the slice
	// (cowHolders) and the lists it changes.
	holders []*memberSet
	// closureRoles lists, per group index, the role slots of the live
	// roles whose closure holds the group, sorted: group g's are
	// closureRoles[closureRoleOff[g]:closureRoleOff[g+1]]. compileRoles
	// makes them afresh with the closures; nothing writes them after.
	closureRoles, closureRoleOff []int32

	// assocIndex maps associate ids to indexes when they are not the same
	// (see identityLimit).
	assocIndex idIndex
	// assocs holds each associate's node by index (nil when deleted or a
	// reserved slot): its memberships with their explanations.
	// It is shared copy-on-write in chunks (see chunked).
	assocs chunked[*assocNode]
	// identityLimit is set when every id below it has the index
	// equal to the id (its slot is reserved, nil while the id is absent),
	// so that a decision finds the subject's header without the id index;
	// 0 otherwise.
	identityLimit int64
	// hot holds, per associate index, what a decision reads about the
	// associate (see hotAssoc), in chunks under mids (see hotAt) shared
	// copy-on-write between snapshots: a decision reads one 32-byte
	// header, not a node.
	hot []*hotMid
	// personalGroups holds the headers' personal groups, the
	// groups an associate has beyond its role's closure, each header
	// pointing at its run. Mutable: see the type's comment.
	personalGroups []int32
	// pending holds, while a build has computed the associates'
	// memberships but not yet their headers, each one's personal groups
	// by index (see personalOf); buildHot consumes it. Nil otherwise.
	pending [][]int32
	// recomputed lists, sorted, the indexes of the associates whose
	// memberships the update that made the snapshot recomputed (nil after
	// a build, and once the resolver publishes the snapshot), for what-if
	// scopes: an update rewrites their headers and leaves their nodes as
	// they are, so comparing nodes cannot find them.
	recomputed []int32
	// personalDead counts the entries of pers that no header refers to any
	// more; pers is compacted when they outnumber the live ones.
	personalDead int
	// personalArena coordinates in-place appends to the array behind pers
	// between the snapshots that share it (see hotWriter).
	personalArena *persArena
	// assocRole is each associate's role slot by index (-1 when it has none
	// or is deleted), kept apart from the headers so that a decision learns
	// the record owner's role from a small array.
	// It is shared copy-on-write in chunks (see chunked).
	assocRole chunked[int32]

	// roleSlot gives every role id seen a stable slot, so that headers and
	// principal sets can name a role by a small integer across updates.
	roleSlot map[RoleID]int32
	// roleAt is the current node per slot (nil once deleted): how a
	// decision reaches the subject's role from its header.
	roleAt []*roleNode
	// roleIDs is the role id per slot, for explanations and for comparing
	// with ids named in the policy.
	roleIDs []RoleID
	// roleByPre is the slot of the role at each position of the role
	// tree's depth-first order, so that the roles below one are a run of it.
	roleByPre []int32

	// types interns the entity types that roles and the policy name, with
	// indexes stable for the resolver's life (see typeOf), so that
	// everything per type is an array lookup after one hash.
	types map[string]int32
	// typeNames lists the interned types, typeNames[i] having index i+1;
	// typeOf compares against it when there are few.
	typeNames []string

	// policy is the compiled sharing rules, grants, defaults, categories
	// and impersonation rules (policy.go).
	policy policy
	// licences is the compiled licences, read by the licence gate
	// (checkGate) and by makeHot for hotLicence; nil when there are none.
	licences *licenceTable

	// policyBit gives, per group index, the group's bit in
	// hotAssoc.policyMask, or -1: the few groups the policy names get a
	// bit, so that testing them is one AND.
	policyBit []int32
	// policyBitCount counts the groups that have a bit; 0 lets
	// maskOf skip its walk.
	policyBitCount int

	// names is the history of names of the resolver that published the
	// snapshot (see names.go), which its decisions keep instead of it.
	// Shared and mutable: see the type's comment.
	names *history

	// filterMemo holds per-snapshot data that only filters need,
	// computed on first use. Mutable: see the type's comment.
	filterMemo *filterCache

	// size holds the snapshot's estimated size, computed on first use.
	// Mutable: see the type's comment. Every new snapshot gets its own.
	size *sizeMemo

	// byName finds associates and groups by name (see nameIndex).
	byName *nameIndex

	// past holds the past owners by id, nil when there are none, so that
	// a record whose owner was deleted keeps its owner's relations
	// (ownerRole, ownedBy, the filters' owner lists). Replaced, never
	// changed in place, by an update that touches it.
	past map[AssociateID]PastOwner

	// cow records, while build or update constructs the snapshot, which
	// of the arrays it shares with its predecessor it has copied (see
	// cow); nil once the snapshot is published.
	cow *cow
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

// assocNode is an associate as the snapshot keeps it. Its memberships are
// not kept here: they are its role's closure and its personal groups, the
// run its header points at (see groupsOf), and their explanations are
// computed when asked (see snapshot.explanations). Decisions read the
// header (see hotAssoc), not the node.
type assocNode struct {
	// a is the associate as the store sent it, which the header is
	// computed from, for explanations, smart rules and validity windows.
	// It points into the delta's slice of associates, which the snapshot
	// owns (see build), rather than holding a copy: at a million
	// associates a copy is a quarter of a gigabyte. Never written.
	a *Associate
	// idx is the associate's index, so that a node found by id leads
	// back to its header.
	idx int32
}

// newAssocNode makes the node of an associate.
func newAssocNode(a *Associate) *assocNode {
	return &assocNode{a: a}
}

// window reports whether the associate has a validity window.
func (n *assocNode) window() bool { return !n.a.ValidFrom.IsZero() || !n.a.ValidTo.IsZero() }

// via is one step of a membership's explanation: either a base reason
// (primary, secondary, role, role tree, smart) with from() == -1, or
// ViaGroup with from() the index of the included group one step closer to
// the associate. It packs both into four bytes, with the reason in the
// low three bits. Vias are computed when an explanation is asked for
// (snapshot.explanations), not kept.
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

// memberSet returns the effective members of group index g: its personal
// members and the holders of the roles whose closure holds it.
func (s *snapshot) memberSet(g int32) groupMembers {
	m := groupMembers{personal: s.personalSet(g), holders: s.holders}
	if int(g)+1 < len(s.closureRoleOff) {
		m.roles = s.closureRoles[s.closureRoleOff[g]:s.closureRoleOff[g+1]]
	}
	return m
}

// personalSet returns the personal members of group index g (see
// snapshot.members).
func (s *snapshot) personalSet(g int32) memberSet {
	if int(g) < s.members.len() {
		if m := s.members.at(g); m != nil {
			return *m
		}
	}
	return memberSet{}
}

// holderSlot returns the role slot whose holders list node n (see
// snapshot.holders), or -1: an Internal associate naming a role that has
// a slot. Only Internal associates' effective groups include their
// role's closure (roleClosure); a slot whose role is deleted keeps its
// holders, and no group lists it until the role is put again.
func (s *snapshot) holderSlot(n *assocNode) int32 {
	if n == nil || n.a.Type != Internal {
		return -1
	}
	if slot, ok := s.roleSlot[n.a.Role]; ok {
		return slot
	}
	return -1
}

// indexClosureRoles makes closureRoles and closureRoleOff from the live
// roles' closures.
func (s *snapshot) indexClosureRoles() {
	off := make([]int32, len(s.groups)+1)
	for _, r := range s.roleAt {
		if r != nil {
			for _, g := range r.closure {
				off[g+1]++
			}
		}
	}
	for g := range len(s.groups) {
		off[g+1] += off[g]
	}
	slots := make([]int32, off[len(s.groups)])
	fill := slices.Clone(off[:len(s.groups)])
	for slot, r := range s.roleAt { // in slot order: each group's are sorted
		if r != nil {
			for _, g := range r.closure {
				slots[fill[g]] = int32(slot)
				fill[g]++
			}
		}
	}
	s.closureRoles, s.closureRoleOff = slots, off
}

func (s *snapshot) assoc(id AssociateID) (int32, *assocNode) {
	i, ok := s.assocIndex.get(id)
	if !ok {
		return -1, nil
	}
	return i, s.assocs.at(i)
}

// ownerRole returns the role node of the associate with the given id, or
// nil when it is unknown, deleted or holds no role, without touching its
// node or header.
func (s *snapshot) ownerRole(id AssociateID) *roleNode {
	if uint64(id) < uint64(s.identityLimit) {
		if slot := s.assocRole.at(int32(id)); slot >= 0 {
			return s.roleAt[slot]
		}
		return s.pastRole(id)
	}
	if i, ok := s.assocIndex.get(id); ok {
		if slot := s.assocRole.at(i); slot >= 0 {
			return s.roleAt[slot]
		}
	}
	return s.pastRole(id)
}

// pastRole returns the role node of the past owner id, or nil when id is
// no past owner or its role is gone. Without past owners it costs one
// comparison.
func (s *snapshot) pastRole(id AssociateID) *roleNode {
	if s.past == nil {
		return nil
	}
	if p, ok := s.past[id]; ok {
		return s.roles[p.Role]
	}
	return nil
}

// pastOwner returns the past owner id, if it is one.
func (s *snapshot) pastOwner(id AssociateID) (PastOwner, bool) {
	if s.past == nil {
		return PastOwner{}, false
	}
	p, ok := s.past[id]
	return p, ok
}

// pastOwnerList returns the past owners sorted by id, nil for none.
func (s *snapshot) pastOwnerList() []PastOwner {
	if len(s.past) == 0 {
		return nil
	}
	out := slices.AppendSeq(make([]PastOwner, 0, len(s.past)), maps.Values(s.past))
	slices.SortFunc(out, func(a, b PastOwner) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// withPastOwners returns the past owners m after the puts and forgets of
// b, a new map when b changes any (m is shared with older snapshots), nil
// when none remain. An associate b puts is no past owner: stores forget
// it, and a loaded model that says otherwise is mended here.
func withPastOwners(m map[AssociateID]PastOwner, b *Batch) map[AssociateID]PastOwner {
	if len(b.PastOwners)+len(b.ForgetPastOwners) == 0 && (m == nil || len(b.Associates) == 0) {
		return m
	}
	out := make(map[AssociateID]PastOwner, len(m)+len(b.PastOwners))
	maps.Copy(out, m)
	for _, id := range b.ForgetPastOwners {
		delete(out, id)
	}
	for _, p := range b.PastOwners {
		out[p.ID] = p
	}
	for i := range b.Associates {
		delete(out, b.Associates[i].ID)
	}
	if len(out) == 0 {
		return nil
	}
	return out
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

// roleClosure returns the role closure that the effective groups of an
// associate with the given role and type include: the role's, for an
// Internal associate whose role exists; nil otherwise. It is the rule
// memberHot and makeHot follow, read from the role slots rather than a
// header.
func (s *snapshot) roleClosure(role RoleID, typ AssociateType) []int32 {
	if typ != Internal {
		return nil
	}
	if slot, ok := s.roleSlot[role]; ok {
		if r := s.roleAt[slot]; r != nil {
			return r.closure
		}
	}
	return nil
}

// closureOf returns the role closure node n's effective groups include
// (see roleClosure), from its header once the headers are built.
func (s *snapshot) closureOf(n *assocNode) []int32 {
	if s.pending != nil {
		return s.roleClosure(n.a.Role, n.a.Type)
	}
	h := s.hotAt(n.idx)
	if h.role >= 0 && h.typ == uint8(Internal) {
		if r := s.roleAt[h.role]; r != nil {
			return r.closure
		}
	}
	return nil
}

// personalOf returns node n's personal groups: its effective groups
// beyond closureOf(n), sorted. They are the header's run in
// s.personalGroups or, while a build has made no headers yet, s.pending's.
// The result is shared: callers must not change it.
func (s *snapshot) personalOf(n *assocNode) []int32 {
	if s.pending != nil {
		return s.pending[n.idx]
	}
	h := s.hotAt(n.idx)
	if h.personalCount == 0 && h.flags&hotManyPersonal == 0 {
		return nil
	}
	return s.personalRun(h)
}

// groupsOf returns the indexes of node n's effective groups, sorted: its
// role's closure merged with its personal groups (the two never share a
// group). It allocates only when both are non-empty; the result may be
// shared with the snapshot, so callers must not change it. Decisions do
// not call it: they test one group at a time against the header
// (memberHot).
func (s *snapshot) groupsOf(n *assocNode) []int32 {
	closure, personal := s.closureOf(n), s.personalOf(n)
	switch {
	case len(personal) == 0:
		return closure
	case len(closure) == 0:
		return personal
	}
	return unionInto(make([]int32, 0, len(closure)+len(personal)), closure, personal)
}

// policyMaskOfSplit is policyMaskOf for the groups of two lists.
func (s *snapshot) policyMaskOfSplit(a, b []int32) (mask [policyBits / 64]uint64) {
	m, n := s.policyMaskOf(a), s.policyMaskOf(b)
	for k := range mask {
		mask[k] = m[k] | n[k]
	}
	return mask
}

// policyBits is how many policy groups get a bit in every associate's policyMask.
// Groups beyond it are tested by search, as other groups are.
const policyBits = 64

// policyMaskOf computes an associate's policy-group bits from its groups.
func (s *snapshot) policyMaskOf(groups []int32) (mask [policyBits / 64]uint64) {
	if s.policyBitCount == 0 {
		return mask
	}
	for _, g := range groups {
		if int(g) < len(s.policyBit) {
			if b := s.policyBit[g]; b >= 0 {
				mask[b>>6] |= 1 << (b & 63)
			}
		}
	}
	return mask
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
