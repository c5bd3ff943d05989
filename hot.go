package access

import (
	"slices"
	"time"
	"unsafe"
)

// A decision about a random associate is bound by memory latency: at the
// benchmark's size (100,000 associates in about a hundred groups each) the
// nodes and their membership lists take some seventy megabytes, far more
// than the caches hold, and reaching a node and then its list costs two
// trips to main memory. So the snapshot keeps, beside the nodes, a dense
// array of 128-byte headers with exactly what a decision reads about an
// associate. Twelve megabytes for 100,000 associates stay in the last-level
// cache.
//
// The header cannot hold a hundred groups, but it need not: most of an
// associate's groups come from its role (groups that list the role, or a
// role above it with its subordinates, and every group that includes
// those), and every holder of the role shares them. A role node keeps that
// closure once; the header keeps only the associate's personal groups, the
// rest (about twenty on average), inline when they fit and otherwise partly
// in a shared overflow array. An associate is a member of g exactly when g
// is in its role's closure or in its personal groups.

// hotInline is how many personal groups a header holds inline.
const hotInline = 21

// hotAssoc is an associate's decision header. Its size is 128 bytes, two
// cache lines that are fetched together.
type hotAssoc struct {
	// pm has a bit per policy group, as assocNode.pm.
	pm [policyBits / 64]uint64
	// bloom has bit hotBit(g) set for every personal group g, so that
	// most tests of a group the associate is not in end in the first
	// cache line, without searching the personal groups.
	bloom   uint64
	role    int32 // slot in snapshot.roleAt, or -1
	primary int32 // primary group index, or -1
	typ     uint8 // AssociateType
	flags   uint8 // hotPresent, hotActive, hotWindow, hotCategories
	nIn     uint8 // personal groups inline, in in[:nIn]
	_       uint8
	nOver   int32 // personal groups in snapshot.over[over:over+nOver]
	over    int32
	in      [hotInline]int32
}

// hotBit is a group's bit in hotAssoc.bloom.
func hotBit(g int32) uint64 { return 1 << (uint32(g) * 0x9E3779B1 >> 26) }

// The header must stay exactly two cache lines.
var _ [0]struct{} = [unsafe.Sizeof(hotAssoc{}) - 128]struct{}{}

const (
	hotPresent    = 1 << iota // the slot holds an associate
	hotActive                 // Associate.Active
	hotWindow                 // the associate has a validity window
	hotCategories             // the associate has a service login
	hotOddRole                // the associate names a role no slot has
	hotOddPrimary             // the associate names a primary group that does not exist
)

// hotChunk is a block of headers: updates copy the chunks they change, not
// the whole array.
const (
	hotShift = 9
	hotLen   = 1 << hotShift
)

type hotChunk [hotLen]hotAssoc

// hotAt returns the header of associate index i.
func (s *snapshot) hotAt(i int32) *hotAssoc {
	return &s.hot[i>>hotShift][i&(hotLen-1)]
}

// memberHot reports whether the associate with header h is an effective
// member of group index g.
func (s *snapshot) memberHot(h *hotAssoc, g int32) bool {
	if int(g) < len(s.pbit) {
		if b := s.pbit[g]; b >= 0 {
			return h.pm[b>>6]&(1<<(b&63)) != 0
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
	if contains(h.in[:h.nIn], g) {
		return true
	}
	return h.nOver > 0 && contains(s.over[h.over:h.over+h.nOver], g)
}

// gateHot is gate for a header; a is read only for a validity window.
func (s *snapshot) gateHot(i int32, h *hotAssoc, now func() time.Time) Gate {
	if h == nil || h.flags&hotPresent == 0 {
		return GateUnknown
	}
	var a *Associate
	if h.flags&hotWindow != 0 {
		a = &s.assocs[i].a
	}
	return checkGate(AssociateType(h.typ), h.flags&hotActive != 0, a, now)
}

// subj is an associate as a decision sees it: its index and header. h is
// nil when the id is unknown or deleted.
type subj struct {
	i int32
	h *hotAssoc
}

func (s *snapshot) subject(id AssociateID) subj {
	if uint64(id) < uint64(s.identN) {
		if h := s.hotAt(int32(id)); h.flags&hotPresent != 0 {
			return subj{int32(id), h}
		}
		return subj{i: -1}
	}
	if i, ok := s.assocIdx.get(id); ok {
		if h := s.hotAt(i); h.flags&hotPresent != 0 {
			return subj{i, h}
		}
	}
	return subj{i: -1}
}

// subjOf is subject for a node (nil for none).
func (s *snapshot) subjOf(n *assocNode) subj {
	if n == nil {
		return subj{i: -1}
	}
	return subj{n.idx, s.hotAt(n.idx)}
}

// roleNodeOf returns the node of the header's role, or nil.
func (s *snapshot) roleNodeOf(h *hotAssoc) *roleNode {
	if h.role >= 0 {
		return s.roleAt[h.role]
	}
	return nil
}

// roleIDOf returns the id of the role the associate names, or 0.
func (s *snapshot) roleIDOf(x subj) RoleID {
	switch {
	case x.h == nil:
		return 0
	case x.h.role >= 0:
		return s.roleIDs[x.h.role]
	case x.h.flags&hotOddRole != 0:
		return s.assocs[x.i].role
	}
	return 0
}

// memberOf reports whether the associate is an effective member of group
// index g; an unknown associate is a member of nothing.
func (s *snapshot) memberOf(x subj, g int32) bool {
	return x.h != nil && s.memberHot(x.h, g)
}

// makeHot computes the header of node n (nil for a deleted associate).
// Personal groups past the inline ones are appended to s.over, which the
// caller must own.
func (s *snapshot) makeHot(n *assocNode) hotAssoc {
	h := hotAssoc{role: -1, primary: -1}
	if n == nil {
		return h
	}
	h.flags = hotPresent
	if n.active {
		h.flags |= hotActive
	}
	if n.window {
		h.flags |= hotWindow
	}
	if n.a.ServiceLogin != 0 {
		h.flags |= hotCategories
	}
	h.typ = uint8(n.typ)
	if AssociateType(h.typ) != n.typ {
		h.typ = 0xff // no type a decision knows
	}
	if gi, g := s.group(n.primary); g != nil {
		h.primary = gi
	} else if n.primary != 0 {
		h.flags |= hotOddPrimary
	}
	h.pm = n.pm
	var closure []int32
	if slot, ok := s.roleSlot[n.role]; ok {
		h.role = slot
		if r := s.roleAt[slot]; r != nil && n.typ == Internal {
			closure = r.closure
		}
	} else if n.role != 0 {
		h.flags |= hotOddRole
	}
	// Personal groups: n.groups without the role's closure; both sorted.
	k, nIn := 0, 0
	start := len(s.over)
	for _, g := range n.groups {
		for k < len(closure) && closure[k] < g {
			k++
		}
		if k < len(closure) && closure[k] == g {
			continue
		}
		h.bloom |= hotBit(g)
		if nIn < hotInline {
			h.in[nIn] = g
			nIn++
		} else {
			s.over = append(s.over, g)
		}
	}
	h.nIn = uint8(nIn)
	h.over, h.nOver = int32(start), int32(len(s.over)-start)
	return h
}

// buildHot computes every header afresh, with a new overflow array.
func (s *snapshot) buildHot() {
	s.hot = make([]*hotChunk, (len(s.assocs)+hotLen-1)/hotLen)
	// One allocation for all chunks, so that the kernel can back it with
	// huge pages; chunks copied by later updates are allocated one by one.
	all := make([]hotAssoc, len(s.hot)*hotLen)
	for c := range s.hot {
		s.hot[c] = (*hotChunk)(all[c*hotLen : (c+1)*hotLen])
	}
	s.over, s.overDead = nil, 0
	s.assocRole = make([]int32, len(s.assocs))
	for i, n := range s.assocs {
		*s.hotAt(int32(i)) = s.makeHot(n)
		s.assocRole[i] = s.hotAt(int32(i)).role
	}
	if len(all) > 0 {
		adviseHuge(unsafe.Pointer(&all[0]), uintptr(len(all))*unsafe.Sizeof(all[0]))
	}
}

// hotWriter rewrites some headers of a snapshot whose header chunks,
// overflow array and role slots are still shared with an older one.
type hotWriter struct {
	s     *snapshot
	owned map[int32]bool // chunks copied already
}

func (s *snapshot) hotWriter() *hotWriter {
	s.hot = slices.Clone(s.hot)
	s.assocRole = slices.Clone(s.assocRole)
	// Cut capacity so that appends copy rather than write into an array an
	// older snapshot may still read.
	s.over = s.over[:len(s.over):len(s.over)]
	return &hotWriter{s: s, owned: map[int32]bool{}}
}

// set recomputes the header of associate index i from the snapshot's node.
func (w *hotWriter) set(i int32) {
	s := w.s
	for int(i) >= len(s.hot)*hotLen {
		s.hot = append(s.hot, new(hotChunk))
		w.owned[int32(len(s.hot)-1)] = true
	}
	for int(i) >= len(s.assocRole) {
		s.assocRole = append(s.assocRole, -1)
	}
	c := i >> hotShift
	if !w.owned[c] {
		cp := *s.hot[c]
		s.hot[c] = &cp
		w.owned[c] = true
	}
	h := s.hotAt(i)
	s.overDead += int(h.nOver)
	*h = s.makeHot(s.assocs[i])
	s.assocRole[i] = h.role
}

// done compacts the overflow array when most of it is dead.
func (w *hotWriter) done() {
	s := w.s
	if s.overDead <= len(s.over)/2 || s.overDead < overCompactMin {
		return
	}
	live := make([]int32, 0, len(s.over)-s.overDead)
	for i := range s.assocs {
		c := int32(i) >> hotShift
		if !w.owned[c] {
			cp := *s.hot[c]
			s.hot[c] = &cp
			w.owned[c] = true
		}
		h := s.hotAt(int32(i))
		if h.nOver == 0 {
			continue
		}
		start := len(live)
		live = append(live, s.over[h.over:h.over+h.nOver]...)
		h.over = int32(start)
	}
	s.over, s.overDead = live, 0
}

// overCompactMin is the least number of dead overflow entries worth a
// compaction. Tests lower it so that compaction runs on small models.
var overCompactMin = 1024
