package access

import (
	"slices"
	"testing"

	"pgregory.net/rapid"
)

func TestContainsMatchesBinarySearch(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := slices.Compact(slices.Sorted(slices.Values(rapid.SliceOf(rapid.Int32Range(-50, 50)).Draw(t, "a"))))
		x := rapid.Int32Range(-60, 60).Draw(t, "x")
		_, want := slices.BinarySearch(a, x)
		if got := contains(a, x); got != want {
			t.Fatalf("contains(%v, %d) = %v, want %v", a, x, got, want)
		}
	})
}

func TestIDBloomHasNoFalseNegatives(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ids := rapid.SliceOf(rapid.Int64()).Draw(t, "ids")
		b := newIDBloom(ids)
		for _, id := range ids {
			if !b.mayHave(id) {
				t.Fatalf("id %d was added but mayHave says no", id)
			}
		}
		if len(ids) == 0 && b.mayHave(rapid.Int64().Draw(t, "probe")) {
			t.Fatal("an empty filter must hold nothing")
		}
	})
}

func TestHotBitSpreadsGroups(t *testing.T) {
	// Consecutive group indexes must not share a bloom bit in runs: the
	// groups of one branch of the hierarchy have nearby indexes.
	seen := map[uint64]int{}
	for g := int32(0); g < 64; g++ {
		seen[hotBit(g)]++
	}
	if len(seen) < 32 {
		t.Fatalf("64 consecutive groups use only %d of 64 bloom bits", len(seen))
	}
}
