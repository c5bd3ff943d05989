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
