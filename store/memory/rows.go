package memory

import (
	"maps"
	"slices"
)

// rows holds a table's values in chunks of rowChunk values, found by id
// through a map from id to position. A map with the values in it, as the
// store had, keeps each value over 128 bytes (an associate is 240) in an
// allocation of its own: at a million associates that was a million
// allocations for the collector to scan, and a copy of every value from
// the batch the store had just cloned. Here the first write into an empty
// table takes the batch's slice as its chunks, with no copy; later
// values fill freed positions or the last chunk, so no write ever copies
// the whole table, as growing one slice would. The caller holds mu to
// change a rows, or to read it; values are replaced in place, so a value
// leaves only as a copy.
type rows[ID ~int64, V any] struct {
	at     map[ID]int32 // position of each id
	chunks [][]V        // position p is chunks[p/rowChunk][p%rowChunk]
	n      int32        // positions in use or free: every chunk but the last is full
	free   []int32      // positions of deleted values, zeroed
	// ordered is true while positions 0..n-1 hold values (none free) in
	// increasing order of id, as a first load in id order leaves them:
	// the full delta is then the chunks in order, with no sorting.
	ordered bool
	last    ID // the id at position n-1 while ordered
}

// rowChunk is the number of values in a chunk: 240 KB of associates.
const rowChunk = 1024

func (r *rows[ID, V]) len() int { return len(r.at) }

// get returns a pointer to id's value, or nil. The pointer is valid until
// the next change.
func (r *rows[ID, V]) get(id ID) *V {
	p, ok := r.at[id]
	if !ok {
		return nil
	}
	return &r.chunks[p/rowChunk][p%rowChunk]
}

// adopt makes vs, which must have distinct ids, the values of an empty
// rows, keeping the slice itself: the caller hands it over and never
// touches it again.
func (r *rows[ID, V]) adopt(vs []V, id func(*V) ID) {
	*r = rows[ID, V]{at: make(map[ID]int32, len(vs)), ordered: true}
	for i := 0; i < len(vs); i += rowChunk {
		j := min(i+rowChunk, len(vs))
		// Clipped, so that filling the last chunk reallocates it rather
		// than writing past it into memory the caller still has.
		r.chunks = append(r.chunks, vs[i:j:j])
	}
	for i := range vs {
		k := id(&vs[i])
		r.at[k] = int32(i)
		r.ordered = r.ordered && (i == 0 || k > r.last)
		r.last = k
	}
	r.n = int32(len(vs))
}

// put inserts or replaces the value of id.
func (r *rows[ID, V]) put(id ID, v *V) {
	if p, ok := r.at[id]; ok {
		r.chunks[p/rowChunk][p%rowChunk] = *v
		return
	}
	if r.at == nil {
		r.at = map[ID]int32{}
	}
	if k := len(r.free); k > 0 {
		p := r.free[k-1]
		r.free = r.free[:k-1]
		r.chunks[p/rowChunk][p%rowChunk] = *v
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
	r.at[id] = p
	r.n++
	r.ordered = (r.ordered || p == 0) && (p == 0 || id > r.last)
	r.last = id
}

// remove deletes the value of id, if any.
func (r *rows[ID, V]) remove(id ID) {
	p, ok := r.at[id]
	if !ok {
		return
	}
	var zero V
	r.chunks[p/rowChunk][p%rowChunk] = zero
	delete(r.at, id)
	r.free = append(r.free, p)
	r.ordered = false
	if len(r.at) == 0 {
		*r = rows[ID, V]{}
	}
}

// sorted returns a copy of every value, in id order.
func (r *rows[ID, V]) sorted(id func(*V) ID) []V {
	out := make([]V, 0, len(r.at))
	if r.ordered {
		for _, ch := range r.chunks {
			out = append(out, ch...)
		}
		return out
	}
	// Sorting the ids and reading each value once is far cheaper than
	// sorting the values: an associate is some 250 bytes to swap.
	for _, k := range slices.Sorted(maps.Keys(r.at)) {
		out = append(out, *r.get(k))
	}
	return out
}

// each calls fn with every value, in no particular order.
func (r *rows[ID, V]) each(fn func(*V)) {
	for _, p := range r.at {
		fn(&r.chunks[p/rowChunk][p%rowChunk])
	}
}
