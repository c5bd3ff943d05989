package access

import (
	"reflect"
	"testing"
)

// TestWhatIfScopeBounded: a write that puts one associate, or a limit on
// one group, is compared on the associates it can reach, not on everyone;
// and every field of a Batch is either bounded by whatIfScope or falls
// back to comparing everyone, on purpose. A new Batch field (a new kind)
// fails here until it is sorted into one or the other.
func TestWhatIfScopeBounded(t *testing.T) {
	b := Batch{
		Roles:  []Role{{ID: 1, Name: "Sales"}},
		Groups: []Group{{ID: 10, Name: "Oslo"}, {ID: 20, Name: "Bergen"}},
	}
	for i := range 50 {
		g := GroupID(10)
		if i%2 == 1 {
			g = 20
		}
		b.Associates = append(b.Associates, Associate{ID: AssociateID(i + 1), Name: "a" + string(rune('A'+i%26)) + string(rune('a'+i/26)), PrimaryGroup: g, Role: 1, Active: true})
	}
	s := build(1, &b)
	for _, tc := range []struct {
		name   string
		change Batch
		max    int
	}{
		{"one associate joins a group", Batch{Associates: []Associate{{ID: 1, Name: b.Associates[0].Name, PrimaryGroup: 10, Groups: []GroupID{20}, Role: 1, Active: true}}}, 1},
		{"a limit on Bergen", Batch{Limits: []Limit{{ID: 1, Group: 20, EntityType: "contact", Max: LevelRead}}}, 25},
		{"past owners forgotten", Batch{ForgetPastOwners: []AssociateID{99}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next := s.wouldBe(&tc.change)
			sc := s.whatIfScope(next, &tc.change)
			// Associates outside full are compared on memberships alone,
			// which costs a comparison of two lists.
			if sc.all || len(sc.full) > tc.max {
				t.Errorf("scope: all %v, %d associates compared in full; want at most %d", sc.all, len(sc.full), tc.max)
			}
		})
	}
	// Every field is known or deliberately compared in full.
	everyone := map[string]bool{"Licences": true, "DeleteLicences": true}
	v := reflect.TypeFor[Batch]()
	for i := range v.NumField() {
		if f := v.Field(i).Name; !knownChangeFields[f] && !everyone[f] {
			t.Errorf("Batch.%s: neither bounded by whatIfScope nor listed as compared in full", f)
		}
	}
}
