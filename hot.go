package access

import (
	"math"
	"slices"
	"sync/atomic"
	"time"
	"unsafe"
)

// A decision about a random associate is bound by memory latency: at the
// benchmark's size (100,000 associates in about a hundred groups each) the
// nodes take some thirty megabytes and a list of every associate's groups
// would take forty more, far more than the caches hold, and reaching a node
// and then its list costs two trips to main memory. So the snapshot keeps, beside the nodes, a dense
// array of 32-byte headers with what a decision reads about an associate:
// three and a half megabytes for 100,000 associates, on huge pages, which
// stand a fair chance of staying in the last-level cache.
//
// The header cannot hold a hundred groups, but it need not: most of an
// associate's groups come from its role (groups that list the role, or a
// role above it with its subordinates, and every group that includes
// those), and every holder of the role shares them. A role node keeps that
// closure once (as a bitmap when it is large); the header points at the
// associate's personal groups, the rest (about twenty on average), kept in
// a shared array, and carries a Bloom filter of them. An associate is a
// member of g exactly when g is in its role's closure or in its personal
// groups; most groups it is not a member of are ruled out by the role
// bitmap and the filter without reading its personal groups at all.

// hotAssoc is an associate's decision header, 32 bytes.
// Every field is one a decision reads on its common path, so that one
// cache line answers the gate, the role and most membership tests.
type hotAssoc struct {
	// policyMask has bit b set when the associate is a member of the
	// policy group with bit b (see snapshot.policyBit): grants, defaults,
	// sharing rules and categories test it with one AND. Only the header
	// keeps it (makeHotBase computes it from the role's closure and the
	// personal groups).
	policyMask [policyBits / 64]uint64
	// bloom has bit hotBit(g) set for every personal group g, so that most
	// groups the associate is not in are ruled out without reading pers.
	bloom uint64
	// role is the associate's role slot in snapshot.roleAt, or -1: the
	// role's rights and closure are one index away.
	role int32
	// primary is the primary group's index, or -1: the PrimaryGroup
	// relation compares it with a record's group.
	primary int32
	// typ is the AssociateType (0xff for one no decision knows), for the
	// gate and the internal-only rules.
	typ uint8
	// flags holds hotPresent, hotActive, …: the gate's inputs and the
	// rare cases that send a decision to the node.
	flags uint8
	// personalCount counts the associate's personal groups.
	personalCount uint16
	// personalStart is where they start in snapshot.personalGroups; with
	// hotManyPersonal, where their count is, which they follow.
	personalStart int32
}

// hotBit is a group's bit in hotAssoc.bloom.
func hotBit(g int32) uint64 { return 1 << (uint32(g) * 0x9E3779B1 >> 26) }

// The header must stay 32 bytes, two to a cache line.
var _ [0]struct{} = [unsafe.Sizeof(hotAssoc{}) - 32]struct{}{}

const (
	hotPresent      = 1 << iota // the slot holds an associate
	hotActive                   // Associate.Active
	hotWindow                   // the associate has a validity window
	hotCategories               // the associate has a service login
	hotOddRole                  // the associate names a role no slot has
	hotOddPrimary               // the associate names a primary group that does not exist
	hotManyPersonal             // too many personal groups for personalCount: the run starts with its length
	hotLicence                  // the licence gate must read the node (see licenceTable.timeless)
)

// The headers are kept in two levels, so that an update copies the few it
// changes, not the whole array: a hotChunk is a block of 16 headers (512
// bytes), a hotMid holds the pointers to 64 chunks (another 512 bytes),
// and snapshot.hot points at the mids. A nesting change rewrites the
// headers of a thousand associates scattered over the array, each in a
// chunk of its own: with one level of 128-header chunks it copied 4 KB per
// associate, 6 MB per change at a million associates, where two levels copy
// about 1 KB per associate and the top level (8 KB at a million). A
// decision pays one more load, of a mid (the mids of a million associates
// take 500 KB, mostly in the processor's caches).
const (
	hotShift    = 4
	hotLen      = 1 << hotShift
	hotMidShift = 6
	hotMidLen   = 1 << hotMidShift
	// hotTopShift turns an associate index into its mid's.
	hotTopShift = hotShift + hotMidShift
)

type (
	hotChunk [hotLen]hotAssoc
	hotMid   [hotMidLen]*hotChunk
)

// hotAt returns the header of associate index i, which must be below
// headerCap.
func (s *snapshot) hotAt(i int32) *hotAssoc {
	return &s.hot[i>>hotTopShift][(i>>hotShift)&(hotMidLen-1)][i&(hotLen-1)]
}

// headerCap is how many associate indexes the header chunks cover: every
// chunk up to the last one exists (a mid's chunk pointers past the last
// are nil).
func (s *snapshot) headerCap() int {
	if len(s.hot) == 0 {
		return 0
	}
	last := s.hot[len(s.hot)-1]
	n := 0
	for n < hotMidLen && last[n] != nil {
		n++
	}
	return ((len(s.hot)-1)*hotMidLen + n) * hotLen
}

// memberHot reports whether the associate with header h is an effective
// member of group index g.
func (s *snapshot) memberHot(h *hotAssoc, g int32) bool {
	if int(g) < len(s.policyBit) {
		if b := s.policyBit[g]; b >= 0 {
			return h.policyMask[b>>6]&(1<<(b&63)) != 0
		}
	}
	if h.role >= 0 && h.typ == uint8(Internal) {
		if r := s.roleAt[h.role]; r != nil {
			if r.bits != nil {
				if w := int(g >> 6); w < len(r.bits) && r.bits[w]&(1<<(g&63)) != 0 {
					return true
				}
			} else if contains(r.closure, g) {
				return true
			}
		}
	}
	if h.bloom&hotBit(g) == 0 {
		return false
	}
	if h.flags&hotManyPersonal != 0 {
		_, ok := slices.BinarySearch(s.personalRun(h), g)
		return ok
	}
	return contains(s.personalGroups[h.personalStart:h.personalStart+int32(h.personalCount)], g)
}

// gateHot is gate for a header; a is read only for a validity window or
// a licence that is missing or has a window of its own.
func (s *snapshot) gateHot(i int32, h *hotAssoc, now func() time.Time) Gate {
	if h == nil || h.flags&hotPresent == 0 {
		return GateUnknown
	}
	var a *Associate
	if h.flags&(hotWindow|hotLicence) != 0 {
		a = s.assocs.at(i).a
	}
	return checkGate(AssociateType(h.typ), h.flags&hotActive != 0, a, s.licences, now)
}

// subj is an associate as a decision sees it: its index and header. h is
// nil when the id is unknown or deleted.
type subj struct {
	i int32
	h *hotAssoc
}

func (s *snapshot) subject(id AssociateID) subj {
	if uint64(id) < uint64(s.identityLimit) {
		if h := s.hotAt(int32(id)); h.flags&hotPresent != 0 {
			return subj{int32(id), h}
		}
		return subj{i: -1}
	}
	if i, ok := s.assocIndex.get(id); ok {
		if h := s.hotAt(i); h.flags&hotPresent != 0 {
			return subj{i, h}
		}
	}
	return subj{i: -1}
}

// subjectOfNode is subject for a node (nil for none).
func (s *snapshot) subjectOfNode(n *assocNode) subj {
	if n == nil {
		return subj{i: -1}
	}
	return subj{n.idx, s.hotAt(n.idx)}
}

// roleOf returns the node of the subject's role, or nil when it has none.
func (s *snapshot) roleOf(x subj) *roleNode {
	if h := x.h; h.role >= 0 {
		return s.roleAt[h.role]
	}
	return nil
}

// roleID returns the id of the role the associate names, or 0.
func (s *snapshot) roleID(x subj) RoleID {
	switch {
	case x.h == nil:
		return 0
	case x.h.role >= 0:
		return s.roleIDs[x.h.role]
	case x.h.flags&hotOddRole != 0:
		return s.assocs.at(x.i).a.Role
	}
	return 0
}

// memberOf reports whether the associate is an effective member of group
// index g; an unknown associate is a member of nothing.
func (s *snapshot) memberOf(x subj, g int32) bool {
	return x.h != nil && s.memberHot(x.h, g)
}

// makeHot computes the header of node n (nil for a deleted associate),
// whose personal groups (its effective groups beyond its role's closure,
// sorted) are personal. It appends them to s.personalGroups, which the
// caller must own; when there are more than persMax, the header cannot
// count them, and their count goes first (hotManyPersonal).
func (s *snapshot) makeHot(n *assocNode, personal []int32) hotAssoc {
	h := s.makeHotBase(n, personal)
	if n != nil {
		s.setPersonal(&h, personal)
	}
	return h
}

// personalRun returns the personal groups of header h.
func (s *snapshot) personalRun(h *hotAssoc) []int32 {
	start, n := h.personalStart, int32(h.personalCount)
	if h.flags&hotManyPersonal != 0 {
		start, n = start+1, s.personalGroups[start]
	}
	return s.personalGroups[start : start+n]
}

// personalSpan is how many entries of s.personalGroups header h's run
// takes.
func (s *snapshot) personalSpan(h *hotAssoc) int {
	if h.flags&hotManyPersonal != 0 {
		return int(s.personalGroups[h.personalStart]) + 1
	}
	return int(h.personalCount)
}

// makeHotBase is makeHot without writing the personal groups: the
// header's bloom filter, personalStart, personalCount and hotManyPersonal
// are left zero. The policy bits are those of the role's closure and
// personal.
func (s *snapshot) makeHotBase(n *assocNode, personal []int32) hotAssoc {
	h := hotAssoc{role: -1, primary: -1}
	if n == nil {
		return h
	}
	h.flags = hotPresent
	if n.a.Active {
		h.flags |= hotActive
	}
	if n.window() {
		h.flags |= hotWindow
	}
	if n.a.ServiceLogin != 0 {
		h.flags |= hotCategories
	}
	if !s.licences.timeless(n.a) {
		h.flags |= hotLicence
	}
	h.typ = uint8(n.a.Type)
	if AssociateType(h.typ) != n.a.Type {
		h.typ = 0xff // no type a decision knows
	}
	if gi, g := s.group(n.a.PrimaryGroup); g != nil {
		h.primary = gi
	} else if n.a.PrimaryGroup != 0 {
		h.flags |= hotOddPrimary
	}
	var closure []int32
	if slot, ok := s.roleSlot[n.a.Role]; ok {
		h.role = slot
		if r := s.roleAt[slot]; r != nil && n.a.Type == Internal {
			closure = r.closure
		}
	} else if n.a.Role != 0 {
		h.flags |= hotOddRole
	}
	h.policyMask = s.policyMaskOfSplit(closure, personal)
	return h
}

// setPersonal gives header h the personal groups personal, as makeHot
// describes.
func (s *snapshot) setPersonal(h *hotAssoc, personal []int32) {
	for _, g := range personal {
		h.bloom |= hotBit(g)
	}
	if len(personal) > persMax {
		h.flags |= hotManyPersonal
		h.personalStart = int32(len(s.personalGroups))
		s.personalGroups = append(append(s.personalGroups, int32(len(personal))), personal...)
		return
	}
	if len(personal) > 0 {
		h.personalStart, h.personalCount = int32(len(s.personalGroups)), uint16(len(personal))
		s.personalGroups = append(s.personalGroups, personal...)
	}
}

// buildHot computes every header afresh, with a new personal-group
// array. The personal groups come from s.pending after a build's
// memberships, else from the headers being replaced.
func (s *snapshot) buildHot() {
	personal := s.pending
	if personal == nil {
		personal = make([][]int32, s.assocs.len())
		for i, n := range s.assocs.all() {
			if n != nil {
				personal[i] = s.personalOf(n)
			}
		}
	}
	total := 0
	for _, p := range personal {
		total += len(p)
		if len(p) > persMax {
			total++ // the count
		}
	}
	chunks := (s.assocs.len() + hotLen - 1) / hotLen
	mids := make([]hotMid, (chunks+hotMidLen-1)/hotMidLen)
	s.hot = make([]*hotMid, len(mids))
	// One allocation for all chunks, so that the kernel can back it with
	// huge pages; chunks copied by later updates are allocated one by one.
	all := make([]hotAssoc, chunks*hotLen)
	for c := range chunks {
		mids[c>>hotMidShift][c&(hotMidLen-1)] = (*hotChunk)(all[c*hotLen : (c+1)*hotLen])
	}
	for m := range mids {
		s.hot[m] = &mids[m]
	}
	s.cow.claim(cowHot)
	s.cow.claim(cowChunks)
	// An eighth more room than the headers take, so that updates append
	// in place for a while before the array must move.
	s.personalGroups, s.personalDead = make([]int32, 0, total+total/8), 0
	s.personalArena = &persArena{}
	s.assocRole = newChunked[int32](s.cow, s.assocs.len())
	for i, n := range s.assocs.all() {
		*s.hotAt(i) = s.makeHot(n, personal[i])
		s.assocRole.set(s.cow, i, s.hotAt(i).role)
	}
	s.pending = nil
	s.personalArena.top.Store(int64(len(s.personalGroups)))
	if len(all) > 0 {
		adviseHuge(unsafe.Pointer(&all[0]), uintptr(len(all))*unsafe.Sizeof(all[0]))
	}
}

// hotWriter rewrites some headers of a snapshot whose header chunks,
// overflow array and role slots are still shared with an older one.
type hotWriter struct {
	s     *snapshot
	arena *persArena // the arena claimed for appending in place, or nil
	base  *int32     // the array behind s.pers when the writer began
}

func (s *snapshot) hotWriter() *hotWriter {
	s.ownHot()
	w := &hotWriter{s: s}
	if a := s.personalArena; a != nil && a.top.CompareAndSwap(int64(len(s.personalGroups)), -1) {
		// This snapshot derives from the newest user of the array, so it
		// may append in place: older snapshots read only below their own
		// length.
		w.arena = a
	} else {
		// Cut capacity so that appends copy rather than write into an
		// array another snapshot may be appending to.
		s.personalGroups = s.personalGroups[:len(s.personalGroups):len(s.personalGroups)]
	}
	w.base = unsafe.SliceData(s.personalGroups)
	return w
}

// persArena records how much of the array behind snapshot.personalGroups is in use
// (-1 while a writer appends), so that a snapshot derived from the newest
// one appends to it rather than copying it.
type persArena struct{ top atomic.Int64 }

// set recomputes the header of associate index i from the snapshot's
// node, whose personal groups are personal (see makeHot).
func (w *hotWriter) set(i int32, personal []int32) {
	s := w.s
	s.growHeaders(i)
	for int(i) >= s.assocRole.len() {
		s.assocRole.append(s.cow, -1)
	}
	need := len(personal)
	if need > persMax {
		need++ // the count
	}
	if len(s.personalGroups)+need > cap(s.personalGroups) {
		w.makeRoom(need)
	}
	s.ownChunk(i >> hotShift)
	h := s.hotAt(i)
	s.personalDead += s.personalSpan(h)
	*h = s.makeHot(s.assocs.at(i), personal)
	if s.assocRole.at(i) != h.role {
		s.assocRole.set(s.cow, i, h.role)
	}
}

// refresh recomputes the header of associate index i from the snapshot's
// node, keeping its personal groups: for a node whose memberships did not
// change, and whose role's closure did not either.
func (w *hotWriter) refresh(i int32) {
	s := w.s
	s.ownChunk(i >> hotShift)
	h := s.hotAt(i)
	n := s.assocs.at(i)
	nh := s.makeHotBase(n, s.personalRun(h))
	if n != nil {
		nh.bloom, nh.personalStart, nh.personalCount = h.bloom, h.personalStart, h.personalCount
		nh.flags |= h.flags & hotManyPersonal
	}
	*h = nh
	if s.assocRole.at(i) != h.role {
		s.assocRole.set(s.cow, i, h.role)
	}
}

// done compacts the personal-group array when most of it is dead.
func (w *hotWriter) done() {
	s := w.s
	w.compact()
	if w.arena != nil && unsafe.SliceData(s.personalGroups) == w.base {
		w.arena.top.Store(int64(len(s.personalGroups)))
		return
	}
	if w.arena != nil {
		w.arena.top.Store(-2) // moved to a new array: nobody appends here again
	}
	s.personalArena = &persArena{}
	s.personalArena.top.Store(int64(len(s.personalGroups)))
}

// makeRoom moves the personal-group array, which has no room for need
// more entries, to one with room for half as many again as it keeps (and
// need): copying only the live entries when a quarter or more are dead,
// else all of them. Growing by a quarter each time updates fill the
// array, as append does, and compacting only once half is dead, copied
// the array every few updates that each rewrite a thousand headers, into
// a compacted array with no room left; compacting early into an array
// with room copies about half as much.
func (w *hotWriter) makeRoom(need int) {
	s := w.s
	n := len(s.personalGroups)
	if s.personalDead >= n/4 && s.personalDead >= persCompactMin {
		w.compactInto(need)
		return
	}
	grown := make([]int32, n, n+n/2+need)
	copy(grown, s.personalGroups)
	s.personalGroups = grown
}

// compact copies the live personal groups to a new array when most of the
// current one is dead.
func (w *hotWriter) compact() {
	s := w.s
	if s.personalDead <= len(s.personalGroups)/2 || s.personalDead < persCompactMin {
		return
	}
	w.compactInto(0)
}

// compactInto copies the live personal groups to a new array with room
// for half as many again, and need more. It may run while the writer is
// midway (makeRoom): associates appended by the update may have no
// header chunk yet, and so no personal groups to move.
func (w *hotWriter) compactInto(need int) {
	s := w.s
	n := len(s.personalGroups) - s.personalDead
	live := make([]int32, 0, n+n/2+need)
	for i := range int32(min(s.assocs.len(), s.headerCap())) {
		span := int32(s.personalSpan(s.hotAt(i)))
		if span == 0 {
			continue
		}
		s.ownChunk(i >> hotShift)
		h := s.hotAt(i)
		start := len(live)
		live = append(live, s.personalGroups[h.personalStart:h.personalStart+span]...)
		h.personalStart = int32(start)
	}
	s.personalGroups, s.personalDead = live, 0
}

// persMax is the most personal groups a header counts (nPers is 16 bits);
// tests lower it so that the fallback is checked on small models.
var persMax = math.MaxUint16

// persCompactMin is the least number of dead personal-group entries worth
// a compaction. Tests lower it so that compaction runs on small models.
var persCompactMin = 4096
