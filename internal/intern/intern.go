// Package intern hands out one value for equal values, so that a big
// load keeps each distinct value once.
package intern

import (
	"context"
	"hash/maphash"
	"maps"
)

// giveUp is how many distinct maps [Maps] keeps before it gives up, if
// they are more than half of the maps it was asked about.
const giveUp = 1 << 14

// Maps interns string maps, such as associates' attributes. Those are
// mostly drawn from small vocabularies (department, city, title), and a
// small map costs some 300 bytes, as much as the rest of an associate: at
// a million associates sharing them saves hundreds of megabytes. Whoever
// interns must never change a map it got back, nor the one it passed in.
// Maps gives up once the maps are mostly distinct, so that unique ones
// cost a hash each and no memory. The zero value is ready to use; a Maps
// is not safe for concurrent use.
type Maps struct {
	seed       maphash.Seed
	seen       map[uint64][]map[string]string
	tries, new int
}

// Intern returns a map equal to m: the first equal map it was given, or
// m.
func (in *Maps) Intern(m map[string]string) map[string]string {
	return in.intern(m, false)
}

// Own returns a map equal to m that m's owner cannot change: a copy of
// m, shared with every equal map Own was given before, or, once Maps has
// given up, a copy of its own. A nil m gives nil. Interning before
// copying saves the copy, which is most of the cost of taking in a large
// batch of associates.
func (in *Maps) Own(m map[string]string) map[string]string {
	return in.intern(m, true)
}

func (in *Maps) intern(m map[string]string, own bool) map[string]string {
	if len(m) == 0 || in.new >= giveUp && 2*in.new > in.tries {
		if own {
			return maps.Clone(m)
		}
		return m
	}
	if in.seen == nil {
		in.seed = maphash.MakeSeed()
		in.seen = map[uint64][]map[string]string{}
	}
	in.tries++
	// An order-independent hash: a sum over the entries.
	var h uint64
	for k, v := range m {
		x := maphash.String(in.seed, k)*0x9e3779b97f4a7c15 ^ maphash.String(in.seed, v)
		h += x ^ x>>29
	}
	for _, c := range in.seen[h] {
		if maps.Equal(c, m) {
			return c
		}
	}
	in.new++
	if own {
		m = maps.Clone(m)
	}
	in.seen[h] = append(in.seen[h], m)
	return m
}

// readOnlyKey is the context key of [ReadOnly].
type readOnlyKey struct{}

// ReadOnly returns a context that carries the caller's promise never to
// change the associates that store's Changes hands it under that context:
// neither their attribute maps nor their slices. A store that keeps its
// values unchanged once written (store/memory) may then hand out its own
// instead of copies. The promise is made to store, the value the caller
// calls: a store that is called under it by a wrapper of itself (which
// might change what it passes on) is not the one promised, and must copy.
// Only the resolver makes the promise; the key is internal, so nobody
// else can.
func ReadOnly(ctx context.Context, store any) context.Context {
	return context.WithValue(ctx, readOnlyKey{}, store)
}

// IsReadOnly reports whether ctx carries the promise of [ReadOnly] made
// to store itself.
func IsReadOnly(ctx context.Context, store any) bool {
	v := ctx.Value(readOnlyKey{})
	return v != nil && v == store
}
