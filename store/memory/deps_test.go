package memory

import (
	"cmp"
	"maps"
	"slices"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/crmaccess/access"
)

// TestDepSetAsMap checks depSet against a plain map of Refs: after every
// add and remove, the same answers, the same length and the same
// members. Ids are drawn so that containers cross both conversion sizes
// (array to bitmap at arrayMax, back below arrayMin) and ids of the same
// low bits meet in different containers, negative ones included.
func TestDepSetAsMap(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var d depSet
		want := map[access.Ref]struct{}{}
		// A few high parts, so that containers fill up.
		highs := rapid.SliceOfN(rapid.Int64Range(-3, 1<<20), 1, 3).Draw(t, "highs")
		kinds := []access.Kind{access.KindAssociate, access.KindGroup, access.KindSharingRule}
		ref := func(t *rapid.T) access.Ref {
			hi := rapid.SampledFrom(highs).Draw(t, "hi")
			lo := rapid.IntRange(0, 1<<16-1).Draw(t, "lo")
			return access.Ref{Kind: rapid.SampledFrom(kinds).Draw(t, "kind"), ID: hi<<16 | int64(lo)}
		}
		for range rapid.IntRange(1, 40).Draw(t, "steps") {
			switch rapid.IntRange(0, 3).Draw(t, "op") {
			case 0: // one add or remove
				r := ref(t)
				_, had := want[r]
				if rapid.Bool().Draw(t, "add") {
					if got := d.add(r); got == had {
						t.Fatalf("add(%v) = %v, set had it: %v", r, got, had)
					}
					want[r] = struct{}{}
				} else {
					if got := d.remove(r); got != had {
						t.Fatalf("remove(%v) = %v, set had it: %v", r, got, had)
					}
					delete(want, r)
				}
			case 1: // a dense run of adds: crosses arrayMax
				hi := rapid.SampledFrom(highs).Draw(t, "hi")
				k := rapid.SampledFrom(kinds).Draw(t, "kind")
				from, n := rapid.IntRange(0, 1<<16-1).Draw(t, "from"), rapid.IntRange(1, 6000).Draw(t, "n")
				for lo := from; lo < min(from+n, 1<<16); lo++ {
					r := access.Ref{Kind: k, ID: hi<<16 | int64(lo)}
					d.add(r)
					want[r] = struct{}{}
				}
			case 2: // remove a share of the members: crosses arrayMin
				keep := rapid.IntRange(0, 9).Draw(t, "keep in 10")
				i := 0
				for _, r := range slices.SortedFunc(maps.Keys(want), cmpRef) {
					if i++; i%10 >= keep {
						if !d.remove(r) {
							t.Fatalf("remove(%v) = false for a member", r)
						}
						delete(want, r)
					}
				}
			case 3: // remove what is not there
				r := ref(t)
				if _, had := want[r]; !had && d.remove(r) {
					t.Fatalf("remove(%v) = true for a non-member", r)
				}
			}
			if d.len() != len(want) {
				t.Fatalf("len = %d, want %d", d.len(), len(want))
			}
		}
		got := d.appendTo(nil)
		slices.SortFunc(got, cmpRef)
		if diff := gocmp.Diff(slices.SortedFunc(maps.Keys(want), cmpRef), got); diff != "" {
			t.Fatalf("members (-want +got):\n%s", diff)
		}
		if len(want) == 0 && len(d) != 0 {
			t.Fatalf("empty set keeps %d kinds", len(d))
		}
	})
}

func cmpRef(a, b access.Ref) int {
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ID, b.ID))
}
