package access_test

import (
	"context"
	"fmt"
	"maps"
	"testing"

	"github.com/crmaccess/access"
	"pgregory.net/rapid"
)

// TestPropField checks Field's fallback order against the reference
// model: the associate's own value; else its primary group's; else, among
// its effective groups holding the field, the nearest (fewest hops, by the
// reference's breadth-first distance), ties broken by the lowest id.
func TestPropField(t *testing.T) {
	const key = "region"
	rapid.Check(t, func(t *rapid.T) {
		b := drawOrg(t, validOrg)
		for i := range b.Groups {
			if rapid.Bool().Draw(t, "group has the field") {
				g := &b.Groups[i]
				g.Fields = maps.Clone(g.Fields)
				if g.Fields == nil {
					g.Fields = map[string]string{}
				}
				g.Fields[key] = fmt.Sprintf("from group %d", g.ID)
			}
		}
		for i := range b.Associates {
			if rapid.IntRange(0, 3).Draw(t, "own value") == 0 {
				a := &b.Associates[i]
				a.Attributes = maps.Clone(a.Attributes)
				if a.Attributes == nil {
					a.Attributes = map[string]string{}
				}
				a.Attributes[key] = fmt.Sprintf("own %d", a.ID)
			}
		}
		_, e := xResolver(t, b)
		ref := refFromBatch(&b)
		groups := map[access.GroupID]access.Group{}
		for _, g := range b.Groups {
			groups[g.ID] = g
		}
		for _, a := range b.Associates {
			want := access.FieldValue{}
			if v, ok := a.Attributes[key]; ok {
				want = access.FieldValue{Value: v, Found: true}
			} else if dist, _ := ref.effective(a.ID); len(dist) > 0 {
				best, bestHops := access.GroupID(0), 0
				for g, hops := range dist {
					if _, ok := groups[g].Fields[key]; !ok {
						continue
					}
					if g == a.PrimaryGroup {
						hops = -1
					}
					if best == 0 || hops < bestHops || (hops == bestHops && g < best) {
						best, bestHops = g, hops
					}
				}
				if best != 0 {
					want = access.FieldValue{Value: groups[best].Fields[key], Found: true,
						Group: access.GroupRef{ID: best, Name: groups[best].Name}}
				}
			}
			got, err := e.Field(context.Background(), a.ID, key)
			if err != nil {
				t.Fatalf("Field(%d): %v", a.ID, err)
			}
			if got != want {
				t.Fatalf("Field(%d, %q) = %+v, want %+v", a.ID, key, got, want)
			}
		}
	})
}
