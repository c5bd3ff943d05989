package memory

import (
	"maps"
	"slices"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// row is a value for rows tests: its id and a payload that tells a
// replaced value from the one it replaced.
type row struct {
	id   int64
	tick int
}

func rowID(r *row) int64 { return r.id }

// TestRowsAsMap checks rows against a plain map through random adopts
// (into an empty rows, in id order or not), puts, removes and reads,
// with enough values to cross chunk boundaries: the same values by id,
// the same count, and the same sorted list, ordered or not. It lends the
// values when rows can (see rows.lend): what it lends is every value in
// id order, and no later write changes it.
func TestRowsAsMap(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var r rows[int64, row]
		want := map[int64]row{}
		maxID := rapid.SampledFrom([]int64{8, 3 * rowChunk}).Draw(t, "ids")
		tick := 0
		// lent holds what lend handed out, each with a copy to compare.
		var lent [][2][]row
		for range rapid.IntRange(1, 30).Draw(t, "ops") {
			tick++
			switch op := rapid.IntRange(0, 5).Draw(t, "op"); {
			case op == 5:
				vs, ok := r.lend()
				if !ok {
					break
				}
				var wantVs []row
				for _, id := range slices.Sorted(maps.Keys(want)) {
					wantVs = append(wantVs, want[id])
				}
				if diff := gocmp.Diff(wantVs, vs, gocmp.AllowUnexported(row{})); diff != "" {
					t.Fatalf("lend (-want +got):\n%s", diff)
				}
				lent = append(lent, [2][]row{vs, slices.Clone(vs)})
			case op == 4:
				// A run of ids gone at once: enough, often, for the
				// empty positions to outnumber the values.
				from := rapid.Int64Range(1, maxID).Draw(t, "remove from")
				run := rapid.Int64Range(1, 3*rowChunk).Draw(t, "remove run")
				for id := from; id < from+run; id++ {
					r.remove(id, rowID)
					delete(want, id)
				}
			case op == 0 && r.len() == 0:
				// A first write: distinct ids, in increasing order or not.
				n := rapid.IntRange(1, int(min(maxID, 2*rowChunk+3))).Draw(t, "adopt n")
				ids := rapid.Permutation(func() []int64 {
					out := make([]int64, maxID)
					for i := range out {
						out[i] = int64(i + 1)
					}
					return out
				}()).Draw(t, "adopt ids")[:n]
				switch rapid.IntRange(0, 2).Draw(t, "order") {
				case 0:
					slices.Sort(ids)
				case 1:
					// Consecutive, as serials loaded in order.
					start := rapid.Int64Range(1, maxID).Draw(t, "first")
					for i := range ids {
						ids[i] = start + int64(i)
					}
				}
				vs := make([]row, n)
				for i, id := range ids {
					vs[i] = row{id, tick}
					want[id] = vs[i]
				}
				r.adopt(vs, rowID)
			case op <= 1:
				next := rapid.Bool().Draw(t, "next ids")
				for range rapid.IntRange(1, rowChunk+2).Draw(t, "puts") {
					id := rapid.Int64Range(1, maxID).Draw(t, "put")
					if next {
						// The id after the highest: a serial's next value.
						id = 1
						for k := range want {
							id = max(id, k+1)
						}
					}
					v := row{id, tick}
					r.put(id, &v)
					want[id] = v
				}
			default:
				for range rapid.IntRange(1, rowChunk+2).Draw(t, "removes") {
					id := rapid.Int64Range(1, maxID).Draw(t, "remove")
					r.remove(id, rowID)
					delete(want, id)
				}
			}
			if r.len() != len(want) {
				t.Fatalf("len = %d, want %d", r.len(), len(want))
			}
			for id := int64(0); id <= 2*maxID+2*rowChunk+4; id++ {
				got := r.get(id)
				w, ok := want[id]
				switch {
				case ok != (got != nil):
					t.Fatalf("get(%d) = %v, want present %v", id, got, ok)
				case ok && *got != w:
					t.Fatalf("get(%d) = %v, want %v", id, *got, w)
				}
			}
			var wantSorted []row
			for _, id := range slices.Sorted(maps.Keys(want)) {
				wantSorted = append(wantSorted, want[id])
			}
			got := r.sorted()
			if diff := gocmp.Diff(wantSorted, got, gocmp.AllowUnexported(row{})); len(want) > 0 && diff != "" {
				t.Fatalf("sorted (ordered %v) (-want +got):\n%s", r.ordered, diff)
			}
			if len(want) == 0 && len(got) != 0 {
				t.Fatalf("sorted = %v, want none", got)
			}
			for _, l := range lent {
				if diff := gocmp.Diff(l[1], l[0], gocmp.AllowUnexported(row{})); diff != "" {
					t.Fatalf("a write changed values lent before it (-lent +now):\n%s", diff)
				}
			}
			seen := map[int64]row{}
			r.each(func(v *row) { seen[v.id] = *v })
			if !maps.Equal(seen, want) {
				t.Fatalf("each saw %d values, want %d", len(seen), len(want))
			}
		}
	})
}
