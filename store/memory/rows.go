package memory

import (
	"maps"
	"slices"
	"sync/atomic"
)

// rows holds a table's values in chunks of rowChunk values, each at a
// position. A map with the values in it, as the store had, keeps each
// value over 128 bytes (an associate is 240) in an allocation of its own:
// at a million associates that was a million allocations for the
// collector to scan, and a copy of every value from the batch the store
// had just cloned. Here the first write into an empty rows takes the
// batch's slice as its chunks, with no copy; later values fill freed
// positions or the last chunk, so no write ever copies the whole table,
// as growing one slice would.
//
// Ids find their positions in one of two ways. While the first values
// have consecutive ids, as database serials loaded in order do, the
// position is the id's distance from the first (the dense range, which
// grows as the next id is added); a value deleted there leaves a hole
// that only its id can fill again, until the empty positions outnumber
// the values (see remove). Every other id is in a map from id to
// position, which at a million associates costs 36 MB.
//
// Values are replaced in place, but for those lent (see lend), which
// are never written again: a new value of a lent id goes to a fresh
// position, and a deleted one is only forgotten. The caller holds mu to
// change a rows, or to read it.
type rows[ID ~int64, V any] struct {
	chunks [][]V // position p is chunks[p/rowChunk][p%rowChunk]
	n      int32 // positions in use, free or holes: every chunk but the last is full

	// Positions 0..dense-1 hold the ids base..base+dense-1, but for the
	// holes; at holds an id of that range only where its position is a
	// hole (a lent value replaced, see put).
	base  ID
	dense int32
	holes []uint64 // bit d set: position d of the dense range is empty
	nhole int

	at   map[ID]int32 // position of each id outside the dense range
	free []int32      // positions of deleted values outside the dense range, zeroed

	// ordered is true while positions 0..n-1 hold values (none free, no
	// holes) in increasing order of id, as a first load in id order
	// leaves them: the full delta is then the chunks in order, with no
	// sorting.
	ordered bool
	last    ID // the id at position n-1 while ordered

	// whole is the slice adopt took, in id order, while no write has
	// happened since: what lend can hand out as it is.
	whole []V
	// lent is the number of positions lend has handed out: their values
	// are shared with a caller and never written again. Atomic, because
	// lend runs under the store's read lock.
	lent atomic.Int32
}

// rowChunk is the number of values in a chunk: 240 KB of associates.
const rowChunk = 1024

func (r *rows[ID, V]) len() int { return int(r.dense) - r.nhole + len(r.at) }

func (r *rows[ID, V]) slot(p int32) *V { return &r.chunks[p/rowChunk][p%rowChunk] }

// inDense returns id's position in the dense range, if it is in it.
func (r *rows[ID, V]) inDense(id ID) (int32, bool) {
	d := int64(id) - int64(r.base)
	return int32(d), d >= 0 && d < int64(r.dense)
}

// holed reports whether position d of the dense range is a hole; the
// range may have grown past the holes' words since the first hole.
func (r *rows[ID, V]) holed(d int32) bool {
	w := int(d / 64)
	return w < len(r.holes) && r.holes[w]&(1<<(d%64)) != 0
}

// get returns a pointer to id's value, or nil. The pointer is valid until
// the next change.
func (r *rows[ID, V]) get(id ID) *V {
	if d, ok := r.inDense(id); ok && !r.holed(d) {
		return r.slot(d)
	}
	p, ok := r.at[id]
	if !ok {
		return nil
	}
	return r.slot(p)
}

// adopt makes vs, which must have distinct ids, the values of an empty
// rows, keeping the slice itself: the caller hands it over and never
// touches it again.
func (r *rows[ID, V]) adopt(vs []V, id func(*V) ID) {
	*r = rows[ID, V]{}
	if len(vs) == 0 {
		return
	}
	for i := 0; i < len(vs); i += rowChunk {
		j := min(i+rowChunk, len(vs))
		// Clipped, so that filling the last chunk reallocates it rather
		// than writing past it into memory the caller still has.
		r.chunks = append(r.chunks, vs[i:j:j])
	}
	r.n = int32(len(vs))
	r.base, r.last = id(&vs[0]), id(&vs[len(vs)-1])
	consecutive := true
	for i := range vs {
		if id(&vs[i]) != r.base+ID(i) {
			consecutive = false
			break
		}
	}
	r.ordered = true
	if consecutive {
		r.dense = r.n
		r.whole = vs
		return
	}
	r.at = make(map[ID]int32, len(vs))
	for i := range vs {
		k := id(&vs[i])
		r.at[k] = int32(i)
		r.ordered = r.ordered && (i == 0 || k > id(&vs[i-1]))
	}
	if r.ordered {
		r.whole = vs
	}
}

// lend returns every value, in id order, as the rows' own storage, when
// they are kept that way (adopted in id order, with no write since), and
// marks them lent; ok is false otherwise, and the caller must copy. The
// caller must never change what it gets. It needs only a read lock.
func (r *rows[ID, V]) lend() (vs []V, ok bool) {
	if r.whole == nil {
		return nil, false
	}
	r.lent.Store(int32(len(r.whole)))
	return r.whole[:len(r.whole):len(r.whole)], true
}

// isLent reports whether the value at position p is shared with a caller.
func (r *rows[ID, V]) isLent(p int32) bool { return p < r.lent.Load() }

// hole marks position d of the dense range empty.
func (r *rows[ID, V]) hole(d int32) {
	if r.holes == nil {
		r.holes = make([]uint64, (r.dense+63)/64)
	}
	for int(d/64) >= len(r.holes) {
		r.holes = append(r.holes, 0) // the range grew since
	}
	r.holes[d/64] |= 1 << (d % 64)
	r.nhole++
}

// put inserts or replaces the value of id.
func (r *rows[ID, V]) put(id ID, v *V) {
	r.whole = nil
	if d, ok := r.inDense(id); ok {
		_, moved := r.at[id]
		switch {
		case !r.holed(d) && !r.isLent(d):
			*r.slot(d) = *v
			return
		case !r.holed(d):
			// Lent: the id leaves its position, a hole from now on, for
			// one of its own (below).
			r.hole(d)
			r.ordered = false
		case !moved && !r.isLent(d):
			r.holes[d/64] &^= 1 << (d % 64)
			r.nhole--
			*r.slot(d) = *v
			return
		}
	}
	if p, ok := r.at[id]; ok {
		if !r.isLent(p) {
			*r.slot(p) = *v
			return
		}
		// Lent: the old position stays as it is, for whoever holds it.
		delete(r.at, id)
		r.ordered = false
	}
	if k := len(r.free); k > 0 {
		p := r.free[k-1]
		r.free = r.free[:k-1]
		*r.slot(p) = *v
		r.at[id] = p
		r.ordered = false
		return
	}
	p := r.n
	c := int(p / rowChunk)
	if c == len(r.chunks) {
		r.chunks = append(r.chunks, make([]V, 0, rowChunk))
	}
	if ch := r.chunks[c]; len(ch) == cap(ch) {
		r.chunks[c] = slices.Grow(ch[:len(ch):len(ch)], rowChunk-len(ch))
	}
	r.chunks[c] = append(r.chunks[c], *v)
	r.n++
	switch {
	case p == 0:
		// The first value starts the dense range.
		r.base, r.dense = id, 1
	case p == r.dense && id == r.base+ID(r.dense):
		// The next id after a dense range that fills every position.
		r.dense++
	default:
		if r.at == nil {
			r.at = map[ID]int32{}
		}
		r.at[id] = p
	}
	r.ordered = (r.ordered || p == 0) && (p == 0 || id > r.last)
	r.last = id
}

// remove deletes the value of id, if any. When the positions left empty
// (holes and free ones) reach rowChunk and outnumber the values, it
// moves the values into new chunks, in id order: a table that lost most of
// its rows does not keep their space (240 bytes an associate), and its
// full delta is again a copy of the chunks.
func (r *rows[ID, V]) remove(id ID, idOf func(*V) ID) {
	var zero V
	if d, ok := r.inDense(id); ok && !r.holed(d) {
		r.hole(d)
		if !r.isLent(d) {
			*r.slot(d) = zero
		}
	} else {
		p, ok := r.at[id]
		if !ok {
			return
		}
		delete(r.at, id)
		// A lent value is only forgotten: neither zeroed nor reused.
		if !r.isLent(p) {
			*r.slot(p) = zero
			r.free = append(r.free, p)
		}
	}
	r.whole = nil
	r.ordered = false
	switch empty := r.nhole + len(r.free); {
	case r.len() == 0:
		*r = rows[ID, V]{}
	case empty >= rowChunk && empty > r.len():
		r.adopt(r.sorted(), idOf)
	}
}

// ids returns every id held, in increasing order.
func (r *rows[ID, V]) ids() []ID {
	out := make([]ID, 0, r.len())
	for d := range r.dense {
		if !r.holed(d) {
			out = append(out, r.base+ID(d))
		}
	}
	if len(r.at) == 0 {
		return out
	}
	return slices.Sorted(func(yield func(ID) bool) {
		for _, id := range out {
			if !yield(id) {
				return
			}
		}
		for id := range maps.Keys(r.at) {
			if !yield(id) {
				return
			}
		}
	})
}

// sorted returns a copy of every value, in id order.
func (r *rows[ID, V]) sorted() []V {
	out := make([]V, 0, r.len())
	if r.ordered {
		for _, ch := range r.chunks {
			out = append(out, ch...)
		}
		return out
	}
	// Sorting the ids and reading each value once is far cheaper than
	// sorting the values: an associate is some 250 bytes to swap.
	for _, k := range r.ids() {
		out = append(out, *r.get(k))
	}
	return out
}

// each calls fn with every value, in no particular order.
func (r *rows[ID, V]) each(fn func(*V)) {
	for d := range r.dense {
		if !r.holed(d) {
			fn(r.slot(d))
		}
	}
	for _, p := range r.at {
		fn(r.slot(p))
	}
}
