package memory

import (
	"maps"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/crmaccess/access"
)

// TestNamesAsMap checks names against a map from folded name to id, as
// the store kept before, through random renames and deletes done as the
// store does them (the old name out before the new one in), with a hash
// so weak that most names clash, and with the real one.
func TestNamesAsMap(t *testing.T) {
	pool := []string{"anna", "ANNA", "Anna", "bo", "BO", "carl", "dora", "eve", "ſam", "SAM", "k", "K", "\u212a", "x\xff", "x\ufffd"}
	rapid.Check(t, func(t *rapid.T) {
		n := newNames()
		if rapid.Bool().Draw(t, "weak") {
			n.hash = func(s string) uint64 { return uint64(len(s) % 3) }
		}
		held := map[access.AssociateID]string{}
		want := map[string]access.AssociateID{}
		heldName := func(id access.AssociateID) (string, bool) {
			name, ok := held[id]
			return name, ok
		}
		drop := func(id access.AssociateID) {
			if name, ok := held[id]; ok {
				n.remove(access.FoldName(name), id)
				delete(held, id)
				delete(want, access.FoldName(name))
			}
		}
		for range rapid.IntRange(1, 60).Draw(t, "ops") {
			id := access.AssociateID(rapid.IntRange(1, 8).Draw(t, "id"))
			if rapid.IntRange(0, 3).Draw(t, "op") == 0 {
				drop(id)
			} else {
				name := rapid.SampledFrom(pool).Draw(t, "name")
				f := access.FoldName(name)
				// A batch that gives the name away renames or deletes its
				// holder; here, deletes it.
				if other, ok := want[f]; ok && other != id {
					drop(other)
				}
				if old, ok := held[id]; ok {
					n.remove(access.FoldName(old), id)
					delete(want, access.FoldName(old))
				}
				held[id] = name
				n.add(f, id, heldName)
				want[f] = id
			}
			for _, name := range pool {
				f := access.FoldName(name)
				got, ok := n.find(f, heldName)
				w, wok := want[f]
				if ok != wok || got != w {
					t.Fatalf("find(%q) = %d, %v, want %d, %v (held %v)", name, got, ok, w, wok, held)
				}
			}
			if n.len() != len(want) {
				t.Fatalf("len = %d, want %d (%v, %v)", n.len(), len(want), n.ids, slices.Sorted(maps.Keys(n.clash)))
			}
		}
	})
}
