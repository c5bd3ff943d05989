package access

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

func TestChunkedEmpty(t *testing.T) {
	var c chunked[int32]
	if c.len() != 0 || len(c.slice()) != 0 {
		t.Fatalf("zero chunked: len %d, slice %v", c.len(), c.slice())
	}
	for i, v := range c.all() {
		t.Fatalf("zero chunked yielded %d: %d", i, v)
	}
}

// TestChunkedSharesWhatItDoesNotWrite checks the copy-on-write contract:
// a write by a new owner leaves the array it was copied from unchanged,
// copies only the chunk it touches, and writes in place once it owns it.
func TestChunkedSharesWhatItDoesNotWrite(t *testing.T) {
	o1 := &cow{}
	old := chunkedOf(o1, make([]int32, 3*chunkLen+5))
	o2 := &cow{}
	c := old
	c.set(o2, chunkLen+7, 42)
	if old.at(chunkLen+7) != 0 {
		t.Fatal("the write reached the array it was copied from")
	}
	if c.at(chunkLen+7) != 42 {
		t.Fatalf("at = %d after set, want 42", c.at(chunkLen+7))
	}
	for k := range c.chunks {
		if shared := c.chunks[k] == old.chunks[k]; shared != (k != 1) {
			t.Errorf("chunk %d shared = %v after a write to chunk 1", k, shared)
		}
	}
	if &c.chunks[0] == &old.chunks[0] {
		t.Error("the slice of chunk pointers is shared after a write")
	}
	copied := c.chunks[1]
	c.set(o2, chunkLen+8, 43)
	if c.chunks[1] != copied {
		t.Error("a second write by the same owner copied the chunk again")
	}
	c.append(o2, 7)
	if c.len() != 3*chunkLen+6 || c.at(int32(3*chunkLen+5)) != 7 || old.len() != 3*chunkLen+5 {
		t.Errorf("after append: len %d, last %d, old len %d", c.len(), c.at(int32(c.len()-1)), old.len())
	}
}

// TestChunkedProperty checks chunked against a plain slice under random
// sets and appends by a sequence of owners, with every older version kept
// and checked unchanged, as published snapshots must be.
func TestChunkedProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 3*chunkLen).Draw(t, "n")
		ref := make([]int64, n)
		for i := range ref {
			ref[i] = int64(i)
		}
		var owner *cow
		if rapid.Bool().Draw(t, "owned build") {
			owner = &cow{}
		}
		c := chunkedOf(owner, ref)
		type version struct {
			c   chunked[int64]
			ref []int64
		}
		var kept []version
		for range rapid.IntRange(1, 8).Draw(t, "versions") {
			kept = append(kept, version{c, slices.Clone(ref)})
			if rapid.Bool().Draw(t, "nil owner") {
				owner = nil
			} else {
				owner = &cow{}
			}
			for range rapid.IntRange(0, 20).Draw(t, "writes") {
				v := rapid.Int64().Draw(t, "v")
				if len(ref) == 0 || rapid.IntRange(0, 4).Draw(t, "op") == 0 {
					c.append(owner, v)
					ref = append(ref, v)
					continue
				}
				i := rapid.IntRange(0, len(ref)-1).Draw(t, "i")
				c.set(owner, int32(i), v)
				ref[i] = v
			}
			if diff := cmp.Diff(ref, c.slice()); diff != "" {
				t.Fatalf("chunked differs from the slice (-want +got):\n%s", diff)
			}
			if c.len() != len(ref) {
				t.Fatalf("len %d, want %d", c.len(), len(ref))
			}
			for i := range ref {
				if got := c.at(int32(i)); got != ref[i] {
					t.Fatalf("at(%d) = %d, want %d", i, got, ref[i])
				}
			}
			for _, k := range kept {
				if diff := cmp.Diff(k.ref, k.c.slice()); diff != "" {
					t.Fatalf("an older version changed (-want +got):\n%s", diff)
				}
			}
		}
	})
}

func TestChunkedAllStops(t *testing.T) {
	c := chunkedOf(nil, []int32{1, 2, 3, 4})
	var seen []int32
	for i, v := range c.all() {
		if i == 2 {
			break
		}
		seen = append(seen, v)
	}
	if !slices.Equal(seen, []int32{1, 2}) {
		t.Fatalf("all yielded %v before the break, want [1 2]", seen)
	}
}

// TestMemberSetProperty checks memberSet against a sorted slice under
// random joins and leaves, with every older set kept and checked
// unchanged, as published snapshots must be.
func TestMemberSetProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		universe := rapid.IntRange(1, 6*memberRun).Draw(t, "universe")
		ref := map[int32]bool{}
		var init []int32
		sparse := rapid.IntRange(0, 3).Draw(t, "sparseness")
		for i := range int32(universe) {
			if rapid.IntRange(0, sparse).Draw(t, "initial") == 0 {
				ref[i] = true
				init = append(init, i)
			}
		}
		m := newMemberSet(init)
		type version struct {
			m    memberSet
			want []int32
		}
		var kept []version
		sorted := func() []int32 {
			out := []int32{}
			for i := range int32(universe) {
				if ref[i] {
					out = append(out, i)
				}
			}
			return out
		}
		for range rapid.IntRange(1, 6).Draw(t, "versions") {
			kept = append(kept, version{m, sorted()})
			var add, rm []int32
			for i := range int32(universe) {
				if rapid.IntRange(0, 15).Draw(t, "change") != 0 {
					continue
				}
				if ref[i] {
					rm = append(rm, i)
				} else {
					add = append(add, i)
				}
				ref[i] = !ref[i]
			}
			m = m.with(add, rm)
			want := sorted()
			if diff := cmp.Diff(want, m.list()); diff != "" {
				t.Fatalf("after +%v -%v (-want +got):\n%s", add, rm, diff)
			}
			if m.len() != len(want) || len(m.appendTo(nil)) != len(want) || len(slices.Collect(m.all())) != len(want) {
				t.Fatalf("len %d, appendTo %d, all %d, want %d", m.len(), len(m.appendTo(nil)), len(slices.Collect(m.all())), len(want))
			}
			for _, r := range m.runs {
				if len(r) == 0 || len(r) > 2*memberRun {
					t.Fatalf("a run of %d members", len(r))
				}
			}
			for _, k := range kept {
				if diff := cmp.Diff(k.want, k.m.list()); diff != "" {
					t.Fatalf("an older set changed (-want +got):\n%s", diff)
				}
			}
		}
	})
}

// TestGroupMembersProperty checks that a group's members read from
// disjoint parts (personal members, and the holders of the roles whose
// closure holds it) are their sorted union through every reader, over
// indexes spanning several merge windows and with more parts than the
// merge keeps on the stack.
func TestGroupMembersProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		universe := rapid.IntRange(0, 3*mergeWindow).Draw(t, "universe")
		slots := rapid.IntRange(0, mergeParts+4).Draw(t, "role slots")
		sparse := rapid.IntRange(1, 40).Draw(t, "sparseness")
		// part[i] is -1 for a non-member, slots for a personal member,
		// else the slot it holds.
		parts := make([][]int32, slots+1)
		for i := range int32(universe) {
			if rapid.IntRange(0, sparse).Draw(t, "member?") != 0 {
				continue
			}
			p := rapid.IntRange(0, slots).Draw(t, "part")
			parts[p] = append(parts[p], i)
		}
		m := groupMembers{personal: newMemberSet(parts[slots]), holders: make([]*memberSet, slots)}
		for r := range slots {
			if len(parts[r]) > 0 || rapid.Bool().Draw(t, "empty set?") {
				set := newMemberSet(parts[r])
				m.holders[r] = &set
			}
		}
		// The group is in the closures of some roles; members of the
		// others are not its members. A slot past holders has none.
		var want []int32
		for r := range slots + 2 {
			if rapid.IntRange(0, 3).Draw(t, "role's closure holds the group?") != 0 {
				m.roles = append(m.roles, int32(r))
				if r < slots {
					want = append(want, parts[r]...)
				}
			}
		}
		want = append(want, parts[slots]...)
		slices.Sort(want)
		if want == nil {
			want = []int32{}
		}
		if diff := cmp.Diff(want, m.list()); diff != "" {
			t.Fatalf("list (-want +got):\n%s", diff)
		}
		if got := m.appendTo(nil); !slices.Equal(got, want) {
			t.Fatalf("appendTo gives %v, want %v", got, want)
		}
		if got := slices.Collect(m.all()); !slices.Equal(got, want) {
			t.Fatalf("all yields %v, want %v", got, want)
		}
		if m.len() != len(want) {
			t.Fatalf("len %d, want %d", m.len(), len(want))
		}
		stop := rapid.IntRange(0, len(want)).Draw(t, "stop after")
		var got []int32
		for a := range m.all() {
			if len(got) == stop {
				break
			}
			got = append(got, a)
		}
		if !slices.Equal(got, want[:stop]) {
			t.Fatalf("stopping after %d: all yields %v, want %v", stop, got, want[:stop])
		}
	})
}

func TestMemberSetEmptyListIsNotNil(t *testing.T) {
	if (memberSet{}).list() == nil {
		t.Fatal("the empty set's list is nil, which byID reads as every associate")
	}
}

// TestChangedYieldsTheIndexesThatDiffer checks changed against a plain
// comparison of two versions of an array, one derived from the other by
// random sets and appends.
func TestChangedYieldsTheIndexesThatDiffer(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 3*chunkLen).Draw(t, "n")
		old := chunkedOf(&cow{}, make([]int32, n))
		c := old
		o := &cow{}
		for range rapid.IntRange(0, 20).Draw(t, "writes") {
			if c.len() == 0 || rapid.IntRange(0, 4).Draw(t, "append") == 0 {
				c.append(o, int32(rapid.IntRange(0, 2).Draw(t, "v")))
				continue
			}
			c.set(o, int32(rapid.IntRange(0, c.len()-1).Draw(t, "i")), int32(rapid.IntRange(0, 2).Draw(t, "v")))
		}
		var want []int32
		for i := range int32(max(old.len(), c.len())) {
			if old.get(i) != c.get(i) {
				want = append(want, i)
			}
		}
		for _, pair := range [][2]*chunked[int32]{{&old, &c}, {&c, &old}} {
			got := slices.Collect(changed(pair[0], pair[1]))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("changed (-want +got):\n%s", diff)
			}
		}
	})
}

// TestMemberTableProperty checks memberTable against a plain slice under
// random sets and appends by a sequence of owners, with every older
// version kept and checked unchanged, as published snapshots must be.
func TestMemberTableProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 3*memberBlockLen).Draw(t, "n")
		sets := make([]*memberSet, 0, n+64)
		for i := range n {
			if i%3 != 0 {
				sets = append(sets, &memberSet{})
			} else {
				sets = append(sets, nil)
			}
		}
		var owner *cow
		if rapid.Bool().Draw(t, "owned build") {
			owner = &cow{}
		}
		m := memberTableOf(owner, sets)
		ref := slices.Clone(sets)
		type version struct {
			m   memberTable
			ref []*memberSet
		}
		var kept []version
		slice := func(m *memberTable) []*memberSet {
			var out []*memberSet
			for g, v := range m.all() {
				if int(g) != len(out) {
					t.Fatalf("all yielded index %d after %d entries", g, len(out))
				}
				out = append(out, v)
			}
			return out
		}
		same := func(a, b []*memberSet) bool { return slices.Equal(a, b) }
		for range rapid.IntRange(1, 8).Draw(t, "versions") {
			kept = append(kept, version{m, slices.Clone(ref)})
			if rapid.Bool().Draw(t, "nil owner") {
				owner = nil
			} else {
				owner = &cow{}
			}
			for range rapid.IntRange(0, 20).Draw(t, "writes") {
				var v *memberSet
				if rapid.Bool().Draw(t, "set") {
					v = &memberSet{}
				}
				if len(ref) == 0 || rapid.IntRange(0, 4).Draw(t, "op") == 0 {
					m.append(owner, v)
					ref = append(ref, v)
					continue
				}
				i := rapid.IntRange(0, len(ref)-1).Draw(t, "i")
				m.set(owner, int32(i), v)
				ref[i] = v
			}
			if got := slice(&m); !same(ref, got) || m.len() != len(ref) {
				t.Fatalf("table differs from the slice: len %d, want %d", m.len(), len(ref))
			}
			for i := range ref {
				if m.at(int32(i)) != ref[i] {
					t.Fatalf("at(%d) differs", i)
				}
			}
			for _, k := range kept {
				if got := slice(&k.m); !same(k.ref, got) {
					t.Fatal("an older version changed")
				}
			}
		}
	})
}
