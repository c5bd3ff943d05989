package memory

import (
	"math/bits"
	"slices"

	"github.com/crmaccess/access"
)

// A big model's references are nearly all from associates: each names its
// role, its primary group and its secondary groups, so a popular group or
// role is referred to by hundreds of thousands of them. A set of Refs in a
// Go map costs some forty bytes an entry; the reverse index keeps, per
// referring kind, the referrers' ids in an idSet instead, which costs two
// bytes an id or less when ids are as dense as database serials.

// depSet is the set of entities that refer to one entity, by kind.
type depSet []kindIDs

type kindIDs struct {
	kind access.Kind
	ids  idSet
}

// add adds r and reports whether it was new.
func (d *depSet) add(r access.Ref) bool {
	for i := range *d {
		if (*d)[i].kind == r.Kind {
			return (*d)[i].ids.add(r.ID)
		}
	}
	*d = append(*d, kindIDs{kind: r.Kind})
	return (*d)[len(*d)-1].ids.add(r.ID)
}

// remove removes r and reports whether it was there.
func (d *depSet) remove(r access.Ref) bool {
	for i := range *d {
		if (*d)[i].kind != r.Kind {
			continue
		}
		ok := (*d)[i].ids.remove(r.ID)
		if (*d)[i].ids.len() == 0 {
			*d = slices.Delete(*d, i, i+1)
		}
		return ok
	}
	return false
}

// len counts the refs in the set.
func (d depSet) len() int {
	n := 0
	for _, k := range d {
		n += k.ids.len()
	}
	return n
}

// appendTo appends the refs in the set to dst, by kind in the order the
// kinds were first added, then by id.
func (d depSet) appendTo(dst []access.Ref) []access.Ref {
	for _, k := range d {
		k.ids.each(func(id int64) { dst = append(dst, access.Ref{Kind: k.kind, ID: id}) })
	}
	return dst
}

// idSet is a set of int64 ids, compressed in the manner of a roaring
// bitmap: ids are grouped by their high bits (id >> 16) into containers,
// each a sorted array of the low 16 bits while it holds at most
// arrayMax ids and a bitmap of 2^16 bits (8 KB) above that. The zero
// value is the empty set.
type idSet struct {
	highs []uint64     // the containers' high bits, sorted
	conts []*container // conts[i] holds the ids whose high bits are highs[i]
	n     int
}

// arrayMax is the most ids an array container holds; a bitmap holding
// fewer than arrayMin goes back to an array. The gap keeps a set that
// hovers around one size from converting on every change.
const (
	arrayMax = 4096
	arrayMin = 2048
)

// container holds ids with the same high bits: in arr, sorted, or, when
// bits is not nil, as bits set in bits (n counting them).
type container struct {
	arr  []uint16
	bits *[1 << 10]uint64
	n    int
}

func split(id int64) (hi uint64, lo uint16) { return uint64(id) >> 16, uint16(id) }

// add adds id and reports whether it was new.
func (s *idSet) add(id int64) bool {
	hi, lo := split(id)
	// A load adds ids in increasing order, nearly always to the last
	// container.
	i, ok := len(s.highs)-1, len(s.highs) > 0 && s.highs[len(s.highs)-1] == hi
	if !ok {
		i, ok = slices.BinarySearch(s.highs, hi)
	}
	if !ok {
		s.highs = slices.Insert(s.highs, i, hi)
		s.conts = slices.Insert(s.conts, i, &container{})
	}
	if !s.conts[i].add(lo) {
		return false
	}
	s.n++
	return true
}

// remove removes id and reports whether it was there.
func (s *idSet) remove(id int64) bool {
	hi, lo := split(id)
	i, ok := slices.BinarySearch(s.highs, hi)
	if !ok || !s.conts[i].remove(lo) {
		return false
	}
	s.n--
	if s.conts[i].len() == 0 {
		s.highs = slices.Delete(s.highs, i, i+1)
		s.conts = slices.Delete(s.conts, i, i+1)
	}
	return true
}

// len counts the ids in the set.
func (s *idSet) len() int { return s.n }

// each calls fn with every id in the set, in increasing order of
// uint64(id).
func (s *idSet) each(fn func(int64)) {
	for i, c := range s.conts {
		base := int64(s.highs[i] << 16)
		if c.bits == nil {
			for _, lo := range c.arr {
				fn(base | int64(lo))
			}
			continue
		}
		for w, word := range c.bits {
			for word != 0 {
				b := uint64(bits.TrailingZeros64(word))
				fn(base | int64(uint64(w)<<6|b))
				word &= word - 1
			}
		}
	}
}

func (c *container) len() int {
	if c.bits != nil {
		return c.n
	}
	return len(c.arr)
}

func (c *container) add(lo uint16) bool {
	if c.bits != nil {
		w, b := lo>>6, uint64(1)<<(lo&63)
		if c.bits[w]&b != 0 {
			return false
		}
		c.bits[w] |= b
		c.n++
		return true
	}
	// Past the last id, as in a load in increasing order, lo goes at the
	// end.
	i, ok := len(c.arr), false
	if i > 0 && lo <= c.arr[i-1] {
		i, ok = slices.BinarySearch(c.arr, lo)
	}
	if ok {
		return false
	}
	if len(c.arr) < arrayMax {
		c.arr = slices.Insert(c.arr, i, lo)
		return true
	}
	c.bits = new([1 << 10]uint64)
	for _, x := range c.arr {
		c.bits[x>>6] |= 1 << (x & 63)
	}
	c.n, c.arr = len(c.arr), nil
	return c.add(lo)
}

func (c *container) remove(lo uint16) bool {
	if c.bits == nil {
		i, ok := slices.BinarySearch(c.arr, lo)
		if ok {
			c.arr = slices.Delete(c.arr, i, i+1)
		}
		return ok
	}
	w, b := lo>>6, uint64(1)<<(lo&63)
	if c.bits[w]&b == 0 {
		return false
	}
	c.bits[w] &^= b
	c.n--
	if c.n < arrayMin {
		arr := make([]uint16, 0, c.n)
		for w, word := range c.bits {
			for word != 0 {
				arr = append(arr, uint16(w<<6|bits.TrailingZeros64(word)))
				word &= word - 1
			}
		}
		c.arr, c.bits, c.n = arr, nil, 0
	}
	return true
}
