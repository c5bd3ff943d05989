package access

import (
	"maps"
	"slices"
)

// cow is the one record of what a snapshot under construction has copied
// of the snapshot it derives from. An update starts as a shallow copy of
// the published snapshot, so every array and map in it is shared with
// readers that may still be deciding against the old one; before the
// update writes into one it copies it, once, and notes it here, so that
// later steps of the same update (memberships, headers, policy bits,
// interned types) write into the copy instead of copying again. A full
// build owns everything from the start.
//
// The record lives in snapshot.cow only while the snapshot is built:
// build and update clear it before the snapshot is published, so a
// published snapshot records nothing and shares nothing writable. A nil
// record owns nothing, so every own… helper copies: correct, if slow, for
// code (tests) that edits a snapshot outside build and update.
//
// The arrays sized by the associates and groups (snapshot.assocs,
// snapshot.assocRole, snapshot.members) are chunked: each chunk records
// the cow that made it, so that an update copies the chunks it writes, not
// the arrays (see chunked, and memberTable for the members). The roles'
// holder lists (snapshot.holders) are few: an update copies their slice
// (cowHolders) and, of each list it changes, the runs it touches.
//
// The personal-group array (snapshot.personalGroups) is the exception: successive
// snapshots append to one array in place, coordinated by its persArena,
// rather than copying it (see hotWriter).
type cow struct {
	// all is set for a full build: every array is the snapshot's own.
	all bool
	// copied has a bit per shared array (cowMembers, …) copied already.
	copied cowPart
	// chunks has bit i set for header chunk i (associate index >>
	// hotShift) copied already, or added by this update, and mids bit m
	// for mid m (an index into snapshot.hot); see also cowChunks.
	chunks, mids []uint64
}

// cowPart names an array or map of a snapshot that an update copies
// before writing to it.
type cowPart uint8

const (
	cowGroups   cowPart = 1 << iota // snapshot.groups
	cowTypes                        // snapshot.types and snapshot.typeNames
	cowHot                          // snapshot.hot, the slice of mid pointers
	cowChunks                       // every header chunk and mid (buildHot made them all afresh)
	cowGroupIdx                     // snapshot.groupIdx
	cowHolders                      // snapshot.holders, the slice of the roles' holder lists
)

// owns reports whether part p is the snapshot's own, to write in place.
func (c *cow) owns(p cowPart) bool { return c != nil && (c.all || c.copied&p != 0) }

// claim records that part p is the snapshot's own from now on, and
// reports whether the caller must copy it first (it was shared).
func (c *cow) claim(p cowPart) bool {
	if c.owns(p) {
		return false
	}
	if c != nil {
		c.copied |= p
	}
	return true
}

// claimChunk is claim for header chunk i (see ownChunk).
func (c *cow) claimChunk(i int32) bool {
	if c == nil {
		return true
	}
	return c.claimBit(&c.chunks, i)
}

// claimMid is claim for header mid m (see ownChunk).
func (c *cow) claimMid(m int32) bool {
	if c == nil {
		return true
	}
	return c.claimBit(&c.mids, m)
}

// claimBit is claim for bit i of set, one of c's bitmaps of header chunks
// or mids.
func (c *cow) claimBit(set *[]uint64, i int32) bool {
	if c.all || c.copied&cowChunks != 0 {
		return false
	}
	w, bit := int(i>>6), uint64(1)<<(i&63)
	if w >= len(*set) {
		*set = append(*set, make([]uint64, w+1-len(*set))...)
	}
	if (*set)[w]&bit != 0 {
		return false
	}
	(*set)[w] |= bit
	return true
}

// ownGroups makes s.groups the snapshot's own.
func (s *snapshot) ownGroups() {
	if s.cow.claim(cowGroups) {
		s.groups = slices.Clone(s.groups)
	}
}

// ownGroupIdx makes s.groupIdx the snapshot's own. Only a new group id
// writes to it, so an update that rewrites existing groups shares it.
func (s *snapshot) ownGroupIdx() {
	if s.cow.claim(cowGroupIdx) {
		s.groupIdx = maps.Clone(s.groupIdx)
	}
}

// ownTypes makes s.types and s.typeNames the snapshot's own, ready to grow.
func (s *snapshot) ownTypes() {
	if s.cow.claim(cowTypes) {
		s.types = maps.Clone(s.types)
		s.typeNames = slices.Clip(s.typeNames)
	}
	if s.types == nil { // a build's first type
		s.types = map[string]int32{}
	}
}

// ownHot makes the mid-pointer slice s.hot the snapshot's own; the mids
// and chunks stay shared (see ownChunk).
func (s *snapshot) ownHot() {
	if s.cow.claim(cowHot) {
		s.hot = slices.Clone(s.hot)
	}
}

// ownChunk makes header chunk c (associate index >> hotShift), and the mid
// holding it, the snapshot's own; s.hot must be (ownHot).
func (s *snapshot) ownChunk(c int32) {
	m := c >> hotMidShift
	if s.cow.claimMid(m) {
		cp := *s.hot[m]
		s.hot[m] = &cp
	}
	if s.cow.claimChunk(c) {
		cp := *s.hot[m][c&(hotMidLen-1)]
		s.hot[m][c&(hotMidLen-1)] = &cp
	}
}

// growHeaders adds header chunks, owned by the snapshot, until one covers
// associate index i; s.hot must be the snapshot's own (ownHot).
func (s *snapshot) growHeaders(i int32) {
	for c := int32(s.headerCap() >> hotShift); c <= i>>hotShift; c++ {
		m := c >> hotMidShift
		if int(m) == len(s.hot) {
			s.hot = append(s.hot, new(hotMid))
			s.cow.claimMid(m) // new: nobody else has it
		} else if s.cow.claimMid(m) {
			cp := *s.hot[m]
			s.hot[m] = &cp
		}
		s.hot[m][c&(hotMidLen-1)] = new(hotChunk)
		s.cow.claimChunk(c) // new: nobody else has it
	}
}
