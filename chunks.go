package access

import (
	"iter"
	"slices"
	"unsafe"
)

// chunked is an array split into chunks of chunkLen elements, which
// snapshots share copy-on-write: an update that writes one element copies
// the slice of chunk pointers (one pointer per chunkLen elements) and the
// one chunk it touches, not the whole array. A million associates' node
// pointers take 8 MB; a write to one of them copies 8 KB of chunk pointers
// and one 8 KB chunk.
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
	chunkShift = 10
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

// differing yields, in order, the indexes below the longer of a's and
// b's lengths that lie in chunks a and b do not share: comparing two
// versions of an array costs a pass over the chunk pointers and the
// chunks that differ, not a pass over the elements.
func differing[T any](a, b *chunked[T]) iter.Seq[int32] {
	return func(yield func(int32) bool) {
		n := max(a.n, b.n)
		for k := 0; k<<chunkShift < n; k++ {
			if k < len(a.chunks) && k < len(b.chunks) && a.chunks[k] == b.chunks[k] {
				continue
			}
			for i := k << chunkShift; i < min(n, (k+1)<<chunkShift); i++ {
				if !yield(int32(i)) {
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
