package access_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/crmaccess/access"
	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// TestPropField checks Field's fallback order against the reference
// model: the associate's own value unless blank; else its primary group's; else, among
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
				g.Fields[key] = rapid.SampledFrom([]string{fmt.Sprintf("from group %d", g.ID), "", " \t"}).Draw(t, "group value")
			}
		}
		for i := range b.Associates {
			if rapid.IntRange(0, 3).Draw(t, "own value") == 0 {
				a := &b.Associates[i]
				a.Attributes = maps.Clone(a.Attributes)
				if a.Attributes == nil {
					a.Attributes = map[string]string{}
				}
				a.Attributes[key] = rapid.SampledFrom([]string{fmt.Sprintf("own %d", a.ID), "", "  "}).Draw(t, "own value")
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
			// A blank value is no value (the slow obvious way: trim it).
			if v, ok := a.Attributes[key]; ok && strings.TrimSpace(v) != "" {
				want = access.FieldValue{Value: v, Found: true}
			} else if dist, _ := ref.effective(a.ID); len(dist) > 0 {
				best, bestHops := access.GroupID(0), 0
				for g, hops := range dist {
					if v, ok := groups[g].Fields[key]; !ok || strings.TrimSpace(v) == "" {
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

// TestFieldBlankFallsBack pins the behaviour changed in this release: an
// empty or white-space own value no longer hides the groups' value, and a
// group with a blank value is passed over for the next one.
func TestFieldBlankFallsBack(t *testing.T) {
	b := access.Batch{
		Roles: []access.Role{{ID: 1, Name: "User"}},
		Groups: []access.Group{
			{ID: 10, Name: "Team", Fields: map[string]string{"city": " ", "fax": "", "zip": "0150"}},
			{ID: 20, Name: "Region", Groups: []access.GroupID{10}, Fields: map[string]string{"city": "Oslo", "fax": "22 00"}},
		},
		Associates: []access.Associate{
			{ID: 1, Name: "blank", PrimaryGroup: 10, Role: 1, Active: true,
				Attributes: map[string]string{"city": "", "zip": "\t", "fax": " 1 "}},
			{ID: 2, Name: "none", PrimaryGroup: 10, Role: 1, Active: true},
		},
	}
	_, e := xResolver(t, b)
	for _, c := range []struct {
		name string
		who  access.AssociateID
		key  string
		want access.FieldValue
	}{
		{"empty own value falls back past a blank primary group", 1, "city",
			access.FieldValue{Value: "Oslo", Found: true, Group: access.GroupRef{ID: 20, Name: "Region"}}},
		{"white-space own value falls back", 1, "zip",
			access.FieldValue{Value: "0150", Found: true, Group: access.GroupRef{ID: 10, Name: "Team"}}},
		{"own value kept untrimmed", 1, "fax", access.FieldValue{Value: " 1 ", Found: true}},
		{"no own value, empty primary group value skipped", 2, "fax",
			access.FieldValue{Value: "22 00", Found: true, Group: access.GroupRef{ID: 20, Name: "Region"}}},
		{"nobody has it", 2, "phone", access.FieldValue{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := e.Field(context.Background(), c.who, c.key)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("Field(%d, %q) (-want +got):\n%s", c.who, c.key, diff)
			}
		})
	}
}
