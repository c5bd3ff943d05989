package access

import (
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// TestCheck_vettedMapsAsEach checks that Batch.Check, which checks an
// attribute map shared by several associates once, reports what checking
// every associate on its own in order reports: a pool of maps, some bad,
// shared at random, past the number of maps it remembers.
func TestCheck_vettedMapsAsEach(t *testing.T) {
	good := []map[string]string{nil, {}, {"dept": "sales"}, {"dept": "support", "city": "Oslo"}}
	bad := []map[string]string{{"": "x"}, {"dept": "bad\x00value"}, {strings.Repeat("k", MaxKeyLen+1): "v"}, {"dept": "\xff"}}
	rapid.Check(t, func(t *rapid.T) {
		pool := append([]map[string]string(nil), good...)
		for range rapid.IntRange(0, 2).Draw(t, "bad maps") {
			pool = append(pool, rapid.SampledFrom(bad).Draw(t, "bad"))
		}
		if rapid.Bool().Draw(t, "many maps") {
			for i := range vettedMax + 10 {
				pool = append(pool, map[string]string{"n": strings.Repeat("x", i%50+1)})
			}
		}
		var b Batch
		for i := range rapid.IntRange(1, 200).Draw(t, "associates") {
			b.Associates = append(b.Associates, Associate{ID: AssociateID(i + 1), Name: "a", Type: Internal,
				PrimaryGroup: 1, Role: 1, Attributes: rapid.SampledFrom(pool).Draw(t, "attributes")})
		}
		var want error
		for i := range b.Associates {
			if err := b.Associates[i].check(); err != nil {
				want = prefix(err)
				break
			}
		}
		got := b.Check()
		if (got == nil) != (want == nil) || got != nil && got.Error() != want.Error() {
			t.Fatalf("Check() = %v, want %v", got, want)
		}
	})
}
