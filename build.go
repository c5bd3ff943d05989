package access

import (
	"cmp"
	"math/bits"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/crmaccess/access/internal/intern"
)

// This file is the full half of the snapshot pipeline (update.go is the
// incremental one): build compiles a whole model, in this order, each step
// reading what the ones before it made:
//
//  1. buildGroups and compileGroups: groups indexed, their upward
//     closures, and (compileRoles, roletree.go) the role tree;
//  2. buildAssocs: associate nodes and the id index;
//  3. computeEffective and buildMembers: each associate's effective
//     groups (on every core) and each group's member list;
//  4. loadPolicy (policy.go): sharing rules, grants, defaults, categories,
//     impersonation and limits, and the policy bits; then the licences;
//  5. buildHot (hot.go): the decision headers; and buildNames
//     (lookup.go), the name index, which a large build computes beside
//     steps 3 to 5 (startNames).

// build compiles a whole model. It takes ownership of b's values, as
// Store.Changes hands them over; it does not copy them.
func build(rev Revision, b *Batch) *snapshot {
	failClosed(b)
	s := &snapshot{rev: rev, filterMemo: &filterCache{}, size: &sizeMemo{}, cow: &cow{all: true}}
	s.buildGroups(b)
	s.compileGroups()
	s.buildAssocs(b)
	s.computeEffective()
	names := s.startNames()
	s.buildMembers()
	s.loadPolicy(b)
	s.licences = (*licenceTable)(nil).withLicences(b)
	s.past = withPastOwners(nil, b)
	s.buildHot()
	s.byName = names()
	s.cow = nil
	return s
}

// startNames starts buildNames and returns the wait for its index. For a
// model large enough that computeEffective splits it (parallelMin), the
// index is built on a goroutine of its own beside the steps that run on
// one core (member lists, policy, headers): it reads only the associate
// and group nodes, which no later step of build writes.
func (s *snapshot) startNames() func() *nameIndex {
	if s.assocs.len() < 2*int(parallelMin.Load()) || runtime.GOMAXPROCS(0) < 2 {
		x := s.buildNames()
		return func() *nameIndex { return x }
	}
	ch := make(chan *nameIndex, 1)
	go func() { ch <- s.buildNames() }()
	return func() *nameIndex { return <-ch }
}

// buildGroups makes the uncompiled role nodes and indexes the groups in id
// order.
func (s *snapshot) buildGroups(b *Batch) {
	s.roles = make(map[RoleID]*roleNode, len(b.Roles))
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
}

// buildAssocs makes the associate nodes, without memberships, and the id
// index.
func (s *snapshot) buildAssocs(b *Batch) {
	// Stores list associates in id order; only others pay for a sorted
	// copy, which for a million associates is 200 MB.
	as := b.Associates
	byID := func(x, y Associate) int { return cmp.Compare(x.ID, y.ID) }
	if !slices.IsSortedFunc(as, byID) {
		as = slices.Clone(as)
		slices.SortFunc(as, byID)
	}
	assocs := make([]*assocNode, 0, len(as))
	// The nodes come from one slab rather than one allocation each.
	slab := make([]assocNode, len(as))
	ids := make([]AssociateID, 0, len(as))
	idx := make([]int32, 0, len(as))
	// When ids are small and dense, as database serials are, an
	// associate's index is its id, and ids a little past the largest get
	// their slots reserved: a decision then finds the subject's header
	// without reading the id index first. The reserve is an eighth more,
	// rounded up to whole chunks, so a small organisation keeps one chunk
	// of each array (a tenant of a hundred associates held three).
	if len(as) > 0 && as[0].ID >= 0 && as[len(as)-1].ID < AssociateID(len(as)+len(as)/4+1024) {
		s.identityLimit = (int64(as[len(as)-1].ID) + 1 + int64(len(as)/8) + chunkMask) &^ chunkMask
		assocs = make([]*assocNode, s.identityLimit)
	}
	// Associates with equal attributes share one map: the snapshot never
	// changes a map, and hands out copies (Associate.clone).
	var attrs intern.Maps
	for k := range as {
		a := &as[k]
		if k > 0 && as[k-1].ID == a.ID {
			continue // a store never sends one id twice; keep the first
		}
		// The delta's associates are only read, never written: a store
		// may hand over its own (intern.ReadOnly). The stores in this
		// module share equal attribute maps already; an associate from
		// another store whose map is equal to an earlier one's gets a
		// copy of its own with the earlier map.
		if m := attrs.Intern(a.Attributes); !sameMap(m, a.Attributes) {
			c := *a
			c.Attributes = m
			a = &c
		}
		n := &slab[len(ids)]
		*n = *newAssocNode(a)
		if s.identityLimit > 0 {
			n.idx = int32(a.ID)
			assocs[a.ID] = n
		} else {
			n.idx = int32(len(assocs))
			assocs = append(assocs, n)
		}
		ids, idx = append(ids, a.ID), append(idx, n.idx)
	}
	s.assocs = chunkedOf(s.cow, assocs)
	s.assocIndex = newIDIndex(ids, idx)
}

// buildMembers computes, from every associate's personal groups
// (computeEffective), every group's personal members and every role's
// holders (see snapshot.members and snapshot.holders).
func (s *snapshot) buildMembers() {
	// The lists are cut from one array sized by a first count, which
	// spares the garbage of growing ten thousand lists by append. Each is
	// capped at its length, so a later append cannot spill into the next.
	count := make([]int, len(s.groups))
	held := make([]int, len(s.roleAt))
	total := 0
	for _, n := range s.assocs.all() {
		if n == nil {
			continue
		}
		if r := s.holderSlot(n); r >= 0 {
			held[r]++
			total++
		}
		for _, g := range s.personalOf(n) {
			count[g]++
		}
		total += len(s.personalOf(n))
	}
	all := make([]int32, total)
	members := make([][]int32, len(s.groups))
	for g, c := range count {
		members[g], all = all[:0:c], all[c:]
	}
	holders := make([][]int32, len(held))
	for r, c := range held {
		holders[r], all = all[:0:c], all[c:]
	}
	for i, n := range s.assocs.all() {
		if n == nil {
			continue
		}
		if r := s.holderSlot(n); r >= 0 {
			holders[r] = append(holders[r], i)
		}
		for _, g := range s.personalOf(n) {
			members[g] = append(members[g], i)
		}
	}
	sets := make([]*memberSet, len(members))
	slab := make([]memberSet, len(members)+len(holders))
	for g, m := range members {
		if len(m) > 0 {
			slab[g] = newMemberSet(m)
			sets[g] = &slab[g]
		}
	}
	s.members = memberTableOf(s.cow, sets)
	s.holders = make([]*memberSet, len(holders))
	for r, m := range holders {
		if len(m) > 0 {
			k := len(members) + r
			slab[k] = newMemberSet(m)
			s.holders[r] = &slab[k]
		}
	}
}

// parallelMin is the fewest associates per goroutine computeEffective
// starts: below it one goroutine does all. Tests lower it, while other
// resolvers may be building, hence the atomic.
var parallelMin atomic.Int64

func init() { parallelMin.Store(16 << 10) }

// computeEffective computes every associate's personal groups (see
// personalGroupsOf) into s.pending, for buildMembers and buildHot. The
// associates are independent and the compiled groups and roles are only
// read, so it splits them into runs computed in parallel, one scratch
// each, up to GOMAXPROCS at once.
func (s *snapshot) computeEffective() {
	n := s.assocs.len()
	s.pending = make([][]int32, n)
	runs := min(runtime.GOMAXPROCS(0), n/int(parallelMin.Load()))
	run := func(lo, hi int) {
		sc := newScratch(len(s.groups))
		sc.slab = true
		for i := lo; i < hi; i++ {
			if a := s.assocs.at(int32(i)); a != nil {
				s.pending[i] = s.personalGroupsOf(a.a, s.roleClosure(a.a.Role, a.a.Type), sc)
			}
		}
	}
	if runs <= 1 {
		run(0, n)
		return
	}
	var wg sync.WaitGroup
	per := (n + runs - 1) / runs
	for lo := 0; lo < n; lo += per {
		wg.Go(func() { run(lo, min(lo+per, n)) })
	}
	wg.Wait()
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
// nodes and s.groups' nodes with fresh ones, copying s.groups first when
// an older snapshot shares it (ownGroups); the caller must own s.roles.
func (s *snapshot) compileGroups() {
	s.ownGroups()
	s.indexGroupsDense()
	s.closeGroupsUpward(s.includers())
	s.compileRoles()
}

// indexGroupsDense builds s.groupDense, the dense form of s.groupIdx, when
// the group ids are small enough for one.
func (s *snapshot) indexGroupsDense() {
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
}

// includers returns who includes whom: incl[c] lists the groups that list
// group c. Smart groups take members from their rule alone, so their
// Groups do not count; it lists them in s.smart instead.
func (s *snapshot) includers() (incl [][]int32) {
	incl = make([][]int32, len(s.groups))
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
	return incl
}

// closeGroupsUpward gives every group a fresh node with its upward
// closure, by breadth-first search over incl from each group. A cycle
// (only possible in data written around the validator) simply ends the
// search, which yields the least fixpoint: every group on it has the same
// members.
func (s *snapshot) closeGroupsUpward(incl [][]int32) {
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
	// a large shared array rather than allocating one per associate: a
	// million associates otherwise cost a million allocations. An update
	// leaves it unset, so that the lists it makes do not keep a large
	// array alive.
	slab   bool
	groups []int32
	// own holds effective's list of the groups an associate reaches
	// beside its role's, reused from one associate to the next.
	own []int32
	// groupsLen is the size of the last array cut, which grows from
	// slabFirst to slabLen.
	groupsLen int
}

// slabLen is the largest size of the arrays a slab cuts lists from. The
// first is slabFirst long and each next one twice the last, so that a
// small organisation's snapshot does not keep large, mostly unused arrays
// alive (one of slabLen costs 64 KB, a large part of a 100-associate
// organisation's whole snapshot).
const (
	slabLen   = 1 << 14
	slabFirst = 1 << 8
)

// nextSlab returns the size of the array to cut after one of size last,
// for a list of n.
func nextSlab(last, n int) int {
	return max(n, min(slabLen, max(slabFirst, 2*last)))
}

// take returns a list of n group indexes, capped at n so that an append
// cannot spill into a neighbour's.
func (sc *scratch) take(n int) []int32 {
	if !sc.slab || n > slabLen/4 {
		return make([]int32, n)
	}
	if len(sc.groups) < n {
		sc.groupsLen = nextSlab(sc.groupsLen, n)
		sc.groups = make([]int32, sc.groupsLen)
	}
	out := sc.groups[:n:n]
	sc.groups = sc.groups[n:]
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
	return sc.sortedInto(sc.take(len(sc.touched))[:0])
}

// sortedInto is sorted, appending to out, which must have room for the
// touched groups.
func (sc *scratch) sortedInto(out []int32) []int32 {
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

// personalGroupsOf computes the associate's personal groups: its
// effective groups beyond closure, the closure of its role (see
// roleClosure), sorted. Their explanations are not kept: explanations
// computes them again when asked, which costs what this did, where
// keeping them cost four bytes per membership, 400 MB at a million
// associates. Nor is the full list of effective groups kept (see
// groupsOf).
//
// The groups an associate's role gives it are the role's closure, which
// every holder shares (roleNode.closure, the upward closure of the role's
// base groups), so it walks only the associate's own groups and smart
// groups and leaves out those in the closure: with the closure, the same
// set reachAll reaches, for a pass over a sorted list instead of a walk
// over the base groups' upward edges.
func (s *snapshot) personalGroupsOf(a *Associate, closure []int32, sc *scratch) []int32 {
	if a.Type != Internal {
		return nil
	}
	if len(closure) == 0 {
		if !s.reachAll(a, sc) {
			return nil
		}
		return sc.sorted()
	}
	if !s.reach(a, sc, false) {
		return nil
	}
	// The associate's own groups are working memory: they go to sc.own
	// rather than to a slab, and only those beyond the closure are kept.
	own := sc.sortedInto(slices.Grow(sc.own[:0], len(sc.touched)))
	sc.own = own
	n := len(own) + len(closure) - unionLen(own, closure) // in both
	if n == len(own) {
		return nil
	}
	out := sc.take(len(own) - n)[:0]
	k := 0
	for _, g := range own {
		for k < len(closure) && closure[k] < g {
			k++
		}
		if k == len(closure) || closure[k] != g {
			out = append(out, g)
		}
	}
	return out
}

// unionLen returns the size of the union of the sorted lists a and b.
func unionLen(a, b []int32) int {
	n, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			i++
		case b[j] < a[i]:
			j++
		default:
			i++
			j++
		}
		n++
	}
	return n + len(a) - i + len(b) - j
}

// unionInto appends the union of the sorted lists a and b to dst.
func unionInto(dst, a, b []int32) []int32 {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			dst = append(dst, a[i])
			i++
		case b[j] < a[i]:
			dst = append(dst, b[j])
			j++
		default:
			dst = append(dst, a[i])
			i++
			j++
		}
	}
	dst = append(dst, a[i:]...)
	return append(dst, b[j:]...)
}

// memberships is effective with each group's explanation: vias[i]
// explains groups[i].
func (s *snapshot) memberships(a *Associate, sc *scratch) (groups []int32, vias []via) {
	if !s.reachAll(a, sc) {
		return nil, nil
	}
	groups = sc.sorted()
	vias = make([]via, len(groups))
	for i, g := range groups {
		if sc.dist[g] == 0 {
			vias[i] = mkVia(-1, sc.reason[g])
		} else {
			vias[i] = mkVia(sc.from[g], ViaGroup)
		}
	}
	return groups, vias
}

// reachAll records in sc every group the associate reaches, with the
// shortest distance, the base reason and the predecessor of each, and
// reports whether it reaches any.
func (s *snapshot) reachAll(a *Associate, sc *scratch) bool {
	return s.reach(a, sc, true)
}

// reach is reachAll, leaving out the groups the associate's role gives
// it unless withRole.
func (s *snapshot) reach(a *Associate, sc *scratch, withRole bool) bool {
	if a.Type != Internal {
		return false
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
	if r := s.roles[a.Role]; r != nil && withRole {
		for _, e := range r.base {
			reach(e.g, e.reason)
		}
	}
	for _, g := range s.smart {
		if s.groups[g].rule.Match(a) {
			reach(g, ViaSmart)
		}
	}
	return len(sc.touched) > 0
}

// explanations returns the associate's effective groups (groupsOf) and
// their explanations, vias[i] explaining groups[i], computed afresh from
// the snapshot: the same computation that gave n its groups, so the same
// answer. A group the computation does not reach (never, in a consistent
// snapshot) gets a base step, so that a path to it ends there.
func (s *snapshot) explanations(n *assocNode) (groups []int32, vias []via) {
	sc := getScratch(len(s.groups))
	reached, rvias := s.memberships(n.a, sc)
	putScratch(sc)
	groups = s.groupsOf(n)
	if slices.Equal(reached, groups) {
		return groups, rvias
	}
	vias = make([]via, len(groups))
	for i, g := range groups {
		vias[i] = mkVia(-1, ViaPrimary)
		if j, ok := slices.BinarySearch(reached, g); ok {
			vias[i] = rvias[j]
		}
	}
	return groups, vias
}
