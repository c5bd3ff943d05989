package sqlstore

import (
	"maps"
	"slices"
	"testing"
)

// TestSet: a set answers alike whether its ids came in order (no map,
// sorted search) or not (the first id out of order builds the index),
// for ids present, absent, replaced, and looked up in any order.
func TestSet(t *testing.T) {
	for _, order := range [][]int64{
		{1, 2, 3, 5, 8, 13, 21, 34, 55, 89},
		{1, 2, 3, 5, 8, 13, 21, 34, 89, 55},
		{89, 55, 34, 21, 13, 8, 5, 3, 2, 1},
		{5, 5, 8, 13, 1, 2, 3, 21, 34, 55, 89, 1},
	} {
		var s set[int64, string]
		s.reserve(4)
		want := map[int64]string{}
		for i, id := range order {
			v := string(rune('a' + i))
			s.put(id, v)
			want[id] = v
		}
		sorted := slices.IsSorted(order) && len(slices.Compact(slices.Clone(order))) == len(order)
		if (s.index == nil) != sorted {
			t.Errorf("%v: index %v, want one only for ids out of order", order, s.index != nil)
		}
		if len(s.ids) != len(want) || len(s.list) != len(want) {
			t.Errorf("%v: %d ids, %d values, want %d", order, len(s.ids), len(s.list), len(want))
		}
		for _, id := range []int64{89, 1, 55, 0, 4, 13, 90, 2, 3, -1, 34, 21, 8, 5} {
			v, ok := want[id]
			p := s.get(id)
			if ok != s.has(id) || ok != (p != nil) || ok && *p != v {
				t.Errorf("%v: get(%d) = %v, has %v; want %q, %v", order, id, p, s.has(id), v, ok)
			}
		}
		var inOrder []string
		for _, id := range slices.Sorted(maps.Keys(want)) {
			inOrder = append(inOrder, want[id])
		}
		if got := s.sorted(); !slices.Equal(got, inOrder) {
			t.Errorf("%v: sorted %q, want %q", order, got, inOrder)
		}
	}
}
