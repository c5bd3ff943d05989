package access

import (
	"iter"
	"math/bits"
	"slices"
	"unsafe"
)

// chunked is an array split into chunks of chunkLen elements, which
// snapshots share copy-on-write: an update that writes one element copies
// the slice of chunk pointers (one pointer per chunkLen elements) and the
// one chunk it touches, not the whole array. A million associates' node
// pointers take 8 MB; a write to one of them copies 16 KB of chunk
// pointers and one 4 KB chunk.
//
// Every chunk, and the slice of chunk pointers, records the cow (the
// record of the snapshot being built) that made it; a write by the same
// cow changes it in place, any other copies it first. A published
// snapshot's cow is nil and a new update has a new one, so what a
// published snapshot reads is never written. A nil owner owns nothing:
// every write copies, which is correct, if slow, for tests that edit a
// snapshot outside build and update.
//
// The zero value is an empty array. Reads (at, len, all) never allocate.
type chunked[T any] struct {
	chunks []*chunk[T]
	n      int
	// owner made chunks, the slice: the only cow that may append to it or
	// replace its pointers in place.
	owner *cow
}

const (
	chunkShift = 9
	chunkLen   = 1 << chunkShift
	chunkMask  = chunkLen - 1
)

// chunk is one block of a chunked array and the cow that may write it.
type chunk[T any] struct {
	v     [chunkLen]T
	owner *cow
}

// newChunked returns an array of n zero elements owned by o, its chunks
// cut from one allocation.
func newChunked[T any](o *cow, n int) chunked[T] {
	k := (n + chunkMask) >> chunkShift
	c := chunked[T]{chunks: make([]*chunk[T], k), n: n, owner: o}
	all := make([]chunk[T], k)
	for i := range all {
		all[i].owner = o
		c.chunks[i] = &all[i]
	}
	return c
}

// chunkedOf returns an array holding a copy of vs, owned by o.
func chunkedOf[T any](o *cow, vs []T) chunked[T] {
	c := newChunked[T](o, len(vs))
	for k, ch := range c.chunks {
		copy(ch.v[:], vs[k<<chunkShift:])
	}
	return c
}

// len returns the number of elements.
func (c *chunked[T]) len() int { return c.n }

// at returns element i, which must be below len.
func (c *chunked[T]) at(i int32) T {
	return c.chunks[i>>chunkShift].v[i&chunkMask]
}

// get returns element i, or the zero value when i is out of range.
func (c *chunked[T]) get(i int32) T {
	if i < 0 || int(i) >= c.n {
		var zero T
		return zero
	}
	return c.at(i)
}

// changed yields, in order, the indexes below the longer of a's and b's
// lengths whose elements differ (past an array's end its elements read as
// the zero value, as get does). It skips the chunks a and b share, so that
// comparing two versions of an array costs a pass over the chunk pointers
// and the chunks that differ, and it compares those in place, not through
// get.
func changed[T comparable](a, b *chunked[T]) iter.Seq[int32] {
	return func(yield func(int32) bool) {
		n, both := max(a.n, b.n), min(a.n, b.n)
		for k := 0; k<<chunkShift < n; k++ {
			lo, hi := k<<chunkShift, min(n, (k+1)<<chunkShift)
			if hi <= both {
				ca, cb := a.chunks[k], b.chunks[k]
				if ca == cb {
					continue
				}
				for j := range hi - lo {
					if ca.v[j] != cb.v[j] && !yield(int32(lo+j)) {
						return
					}
				}
				continue
			}
			for i := int32(lo); i < int32(hi); i++ {
				if a.get(i) != b.get(i) && !yield(i) {
					return
				}
			}
		}
	}
}

// bytes returns the size of the chunks and of the slice of their pointers.
func (c *chunked[T]) bytes() int64 {
	var ch chunk[T]
	return int64(len(c.chunks))*(int64(unsafe.Sizeof(ch))+8) + 24
}

// all yields every element with its index, in order.
func (c *chunked[T]) all() iter.Seq2[int32, T] {
	return func(yield func(int32, T) bool) {
		for k, ch := range c.chunks {
			base := k << chunkShift
			for j := range min(chunkLen, c.n-base) {
				if !yield(int32(base+j), ch.v[j]) {
					return
				}
			}
		}
	}
}

// slice returns a new slice of the elements, for tests and rare callers
// that want one.
func (c *chunked[T]) slice() []T {
	out := make([]T, 0, c.n)
	for _, v := range c.all() {
		out = append(out, v)
	}
	return out
}

// ownSpine makes the slice of chunk pointers o's, copying it when another
// cow made it (or o is nil).
func (c *chunked[T]) ownSpine(o *cow) {
	if o == nil || c.owner != o {
		c.chunks = slices.Clone(c.chunks)
		c.owner = o
	}
}

// ref returns a pointer to element i (below len) through which o may
// write it: the chunk holding it is o's, copied first when another cow
// made it.
func (c *chunked[T]) ref(o *cow, i int32) *T {
	k := i >> chunkShift
	ch := c.chunks[k]
	if o == nil || ch.owner != o {
		c.ownSpine(o)
		cp := &chunk[T]{v: ch.v, owner: o}
		c.chunks[k] = cp
		ch = cp
	}
	return &ch.v[i&chunkMask]
}

// set stores v at index i (below len), on behalf of o.
func (c *chunked[T]) set(o *cow, i int32, v T) {
	*c.ref(o, i) = v
}

// append adds v at the end, on behalf of o.
func (c *chunked[T]) append(o *cow, v T) {
	if c.n == len(c.chunks)<<chunkShift {
		c.ownSpine(o)
		c.chunks = append(c.chunks, &chunk[T]{owner: o})
	}
	c.n++
	c.set(o, int32(c.n-1), v)
}

// memberTable holds the groups' personal member sets by group index, shared
// copy-on-write in blocks as chunked shares its chunks, but in blocks of
// memberBlockLen pointers rather than chunkLen: a write changes the members
// of every group above the one an associate joins, most of them in
// different blocks, so a write copies half a kilobyte per group it
// touches, and the slice of block pointers (a hundred and sixty at ten
// thousand groups), where chunks of chunkLen cost four kilobytes each.
//
// The zero value is an empty table. Reads (at, len, all) never allocate.
type memberTable struct {
	blocks []*memberBlock
	n      int
	// owner made blocks, the slice (see chunked.owner).
	owner *cow
}

const (
	memberBlockShift = 6
	memberBlockLen   = 1 << memberBlockShift
	memberBlockMask  = memberBlockLen - 1
)

// memberBlock is one block of a memberTable and the cow that may write it.
type memberBlock struct {
	v     [memberBlockLen]*memberSet
	owner *cow
}

// memberTableOf returns a table holding a copy of sets, owned by o, its
// blocks cut from one allocation.
func memberTableOf(o *cow, sets []*memberSet) memberTable {
	k := (len(sets) + memberBlockMask) >> memberBlockShift
	t := memberTable{blocks: make([]*memberBlock, k), n: len(sets), owner: o}
	all := make([]memberBlock, k)
	for i := range all {
		all[i].owner = o
		copy(all[i].v[:], sets[i<<memberBlockShift:])
		t.blocks[i] = &all[i]
	}
	return t
}

// len returns the number of groups the table covers.
func (t *memberTable) len() int { return t.n }

// at returns the member set of group index g, which must be below len; nil
// for a group without members.
func (t *memberTable) at(g int32) *memberSet {
	return t.blocks[g>>memberBlockShift].v[g&memberBlockMask]
}

// set stores m for group index g (below len), on behalf of o, copying the
// block, and the slice of block pointers, unless o made them.
func (t *memberTable) set(o *cow, g int32, m *memberSet) {
	k := g >> memberBlockShift
	b := t.blocks[k]
	if o == nil || b.owner != o {
		if o == nil || t.owner != o {
			t.blocks = slices.Clone(t.blocks)
			t.owner = o
		}
		b = &memberBlock{v: b.v, owner: o}
		t.blocks[k] = b
	}
	b.v[g&memberBlockMask] = m
}

// append adds m for the next group index, on behalf of o.
func (t *memberTable) append(o *cow, m *memberSet) {
	if t.n == len(t.blocks)<<memberBlockShift {
		if o == nil || t.owner != o {
			t.blocks = slices.Clone(t.blocks)
			t.owner = o
		}
		t.blocks = append(t.blocks, &memberBlock{owner: o})
	}
	t.n++
	t.set(o, int32(t.n-1), m)
}

// all yields every group index with its member set, in order.
func (t *memberTable) all() iter.Seq2[int32, *memberSet] {
	return func(yield func(int32, *memberSet) bool) {
		for k, b := range t.blocks {
			base := k << memberBlockShift
			for j := range min(memberBlockLen, t.n-base) {
				if !yield(int32(base+j), b.v[j]) {
					return
				}
			}
		}
	}
}

// bytes returns the size of the blocks and of the slice of their pointers.
func (t *memberTable) bytes() int64 {
	return int64(len(t.blocks))*(int64(unsafe.Sizeof(memberBlock{}))+8) + 24
}

// memberSet is a sorted list of associate indexes — a group's personal
// members (snapshot.members) or a role's holders (snapshot.holders) — in
// runs of at most 2*memberRun, so that a change to a list of a hundred
// thousand members copies the run it touches and the run headers, not
// the whole list. Runs are never empty and are shared between snapshots;
// nothing writes into one after it is made.
type memberSet struct{ runs [][]int32 }

// memberRun is the length of the runs a list is cut into.
const memberRun = 512

// newMemberSet returns the set of the sorted list, cut into runs without
// copying; the list must not be written afterwards.
func newMemberSet(list []int32) memberSet {
	if len(list) == 0 {
		return memberSet{}
	}
	runs := make([][]int32, 0, (len(list)+memberRun-1)/memberRun)
	return memberSet{appendRuns(runs, list)}
}

// appendRuns appends list, cut into runs of memberRun (the last one up to
// 2*memberRun), each capped so that an append cannot spill into the next.
func appendRuns(runs [][]int32, list []int32) [][]int32 {
	for len(list) > 2*memberRun {
		runs = append(runs, list[:memberRun:memberRun])
		list = list[memberRun:]
	}
	if len(list) > 0 {
		runs = append(runs, list[:len(list):len(list)])
	}
	return runs
}

// len returns the number of members.
func (m memberSet) len() int {
	n := 0
	for _, r := range m.runs {
		n += len(r)
	}
	return n
}

// all yields the members in order.
func (m memberSet) all() iter.Seq[int32] {
	return func(yield func(int32) bool) {
		for _, r := range m.runs {
			for _, a := range r {
				if !yield(a) {
					return
				}
			}
		}
	}
}

// appendTo appends the members, in order, to dst.
func (m memberSet) appendTo(dst []int32) []int32 {
	for _, r := range m.runs {
		dst = append(dst, r...)
	}
	return dst
}

// list returns the members as one sorted slice, which the caller must not
// write: the run itself when there is one. It is never nil, even for no
// members (byID reads nil as every associate).
func (m memberSet) list() []int32 {
	switch len(m.runs) {
	case 0:
		return []int32{}
	case 1:
		return m.runs[0]
	}
	return m.appendTo(make([]int32, 0, m.len()))
}

// with returns the set without rm and with add (both sorted; rm holds
// only members, add only non-members). Runs that neither touches are
// shared with m; each run that changes is copied once.
func (m memberSet) with(add, rm []int32) memberSet {
	if len(add)+len(rm) == 0 {
		return m
	}
	if len(m.runs) == 0 {
		return newMemberSet(mergeMembers(nil, add, rm))
	}
	out := make([][]int32, 0, len(m.runs)+len(add)/memberRun+1)
	for k, run := range m.runs {
		// Run k takes the changes below the next run's first member.
		if len(add)+len(rm) == 0 {
			// Every change is made: the rest is shared as it is.
			out = append(out, m.runs[k:]...)
			break
		}
		na, nr := len(add), len(rm)
		if k+1 < len(m.runs) {
			next := m.runs[k+1][0]
			if (na == 0 || add[0] >= next) && (nr == 0 || rm[0] >= next) {
				out = append(out, run) // no change below next
				continue
			}
			na, _ = slices.BinarySearch(add, next)
			nr, _ = slices.BinarySearch(rm, next)
		}
		out = appendRuns(out, mergeMembers(run, add[:na], rm[:nr]))
		add, rm = add[na:], rm[nr:]
	}
	return memberSet{out}
}

// groupMembers is a group's effective members as readers see them
// (snapshot.memberSet): the holders of every role whose closure holds the
// group, each role's holders kept once for every group of its closure
// (snapshot.holders), and the group's personal members, those for whom
// it lies beyond their role's closure (snapshot.members). At a million
// associates most memberships come from roles, and a group's list no
// longer repeats them: the role's list is shared.
//
// The parts are disjoint (an associate holds one role, and its personal
// groups lie outside that role's closure), and each is sorted; readers
// get them merged, in order. A value is three slice headers, and reading
// it (len, all, appendTo) does not allocate unless more than mergeParts
// parts must be merged; list allocates when there is more than one run.
type groupMembers struct {
	personal memberSet
	// roles are the role slots whose closure holds the group; holders is
	// snapshot.holders, indexed by them.
	roles   []int32
	holders []*memberSet
}

// part returns the holders of role slot r, empty when the slot has none.
func (m *groupMembers) part(r int32) memberSet {
	if int(r) < len(m.holders) && m.holders[r] != nil {
		return *m.holders[r]
	}
	return memberSet{}
}

// single returns the one part that holds every member, when at most one
// part is non-empty.
func (m *groupMembers) single() (memberSet, bool) {
	only, n := m.personal, 0
	if len(only.runs) > 0 {
		n++
	}
	for _, r := range m.roles {
		if p := m.part(r); len(p.runs) > 0 {
			if n++; n > 1 {
				return memberSet{}, false
			}
			only = p
		}
	}
	return only, true
}

// len returns the number of members.
func (m groupMembers) len() int {
	n := m.personal.len()
	for _, r := range m.roles {
		n += m.part(r).len()
	}
	return n
}

// all yields the members in order.
func (m groupMembers) all() iter.Seq[int32] {
	return func(yield func(int32) bool) {
		if one, ok := m.single(); ok {
			for _, r := range one.runs {
				for _, a := range r {
					if !yield(a) {
						return
					}
				}
			}
			return
		}
		var mg merger
		mg.start(&m)
		for mg.fill() {
			for w, b := range mg.marks {
				if b == 0 {
					continue
				}
				mg.marks[w] = 0
				for base := mg.lo + int32(w<<6); b != 0; b &= b - 1 {
					if !yield(base + int32(bits.TrailingZeros64(b))) {
						return
					}
				}
			}
		}
	}
}

// appendTo appends the members, in order, to dst.
func (m groupMembers) appendTo(dst []int32) []int32 {
	if one, ok := m.single(); ok {
		return one.appendTo(dst)
	}
	for a := range m.all() {
		dst = append(dst, a)
	}
	return dst
}

// list returns the members as one sorted slice, which the caller must not
// write: a run of the snapshot's when one holds them all. It is never
// nil, even for no members (byID reads nil as every associate).
func (m groupMembers) list() []int32 {
	if one, ok := m.single(); ok {
		return one.list()
	}
	return m.appendTo(make([]int32, 0, m.len()))
}

// mergeParts is how many parts a merger keeps in itself; a group in the
// closures of more roles than that has its cursors allocated.
const mergeParts = 64

// mergeWindow is the span of associate indexes a merger gathers at once.
const mergeWindow = 1 << 12

// merger merges a groupMembers' disjoint sorted parts in windows of
// mergeWindow indexes: each fill takes from every part the members of the
// next window that holds any and marks them in a bitmap, which the caller
// reads in order and clears. Marking costs the same whatever the number
// of parts, where a merge comparing the parts' heads would cost a
// comparison per part per member: a group high in the hierarchy is in the
// closure of most roles. A merger lives on its reader's stack; it holds
// no pointer into itself, so that it stays there.
type merger struct {
	marks [mergeWindow / 64]uint64
	lo    int32 // the window's first index
	n     int   // live cursors in cur
	cur   [mergeParts]mergeCursor
	more  []mergeCursor // the cursors instead of cur, when there are too many
}

// mergeCursor is what remains of one part: the rest of its current run
// and the runs after it.
type mergeCursor struct {
	run  []int32
	rest [][]int32
}

// start sets the merger to the parts of m.
func (mg *merger) start(m *groupMembers) {
	if len(m.roles)+1 > mergeParts {
		mg.more = make([]mergeCursor, 0, len(m.roles)+1)
	}
	mg.add(m.personal)
	for _, r := range m.roles {
		mg.add(m.part(r))
	}
}

// add adds a part to merge.
func (mg *merger) add(p memberSet) {
	if len(p.runs) == 0 {
		return
	}
	c := mergeCursor{run: p.runs[0], rest: p.runs[1:]}
	if mg.more != nil {
		mg.more = append(mg.more, c)
		return
	}
	mg.cur[mg.n] = c
	mg.n++
}

// fill marks the members of the next window that holds any, and reports
// whether there was one; the marks must be clear.
func (mg *merger) fill() bool {
	if mg.more != nil {
		mg.more = mg.fillFrom(mg.more)
		return mg.lo >= 0
	}
	mg.n = len(mg.fillFrom(mg.cur[:mg.n]))
	return mg.lo >= 0
}

// fillFrom is fill for the cursors cur, which it returns without those it
// exhausts; it sets lo to -1 when there was no window to fill.
func (mg *merger) fillFrom(cur []mergeCursor) []mergeCursor {
	if len(cur) == 0 {
		mg.lo = -1
		return cur
	}
	lo := cur[0].run[0]
	for k := 1; k < len(cur); k++ {
		lo = min(lo, cur[k].run[0])
	}
	hi := lo + mergeWindow
	mg.lo = lo
	for k := 0; k < len(cur); {
		c := &cur[k]
		for {
			j := 0
			for j < len(c.run) && c.run[j] < hi {
				a := c.run[j] - lo
				mg.marks[a>>6] |= 1 << (a & 63)
				j++
			}
			c.run = c.run[j:]
			if len(c.run) > 0 || len(c.rest) == 0 {
				break
			}
			c.run, c.rest = c.rest[0], c.rest[1:]
		}
		if len(c.run) == 0 {
			// This part is done: the last cursor takes its place.
			cur[k] = cur[len(cur)-1]
			cur = cur[:len(cur)-1]
			continue
		}
		k++
	}
	return cur
}
